"""Soak: many processes calling ``paged_attention_v1`` concurrently on one GPU, from a cold kernel cache.

The parent makes a fresh cache dir (``AITER_SWA_CACHE_DIR``; or ``--cache-dir``), reads the device's
used memory (``nvidia-smi``, or ``rocm-smi``), starts ``--procs`` children at once and waits. Each
child calls the op for ``--seconds`` on ``--specs`` configurations, each needing another kernel
(drawn from the fuzz's generator, ``fuzz_pa_v1.py``; child ``i`` starts with configuration ``i``
mod ``specs``, so the first calls race for every kernel at once), allocating a NaN-filled ``out``
and a workspace per call. Checked in every child: each call's output equals, bit for bit, the
first one of its configuration, which matches the CPU path; no exception; the kernel origin of each
configuration (``compiled`` here, or loaded from the ``cache``); torch's allocated and reserved GPU
memory after the first call of every configuration and at the end.

Verdict (exit 0 only if all hold): every child ran without error or mismatch; each kernel was
compiled by exactly one process (the others waited on its lock and loaded it from the cache); no
child's allocated memory grew. The parent prints one JSON line per child, then a summary with the
device's used memory before and after.

    python op_tests/pa_v1/soak_pa_v1.py --procs 8 --seconds 120 --specs 3
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # testlib, fuzz_pa_v1


def soak_configs(count: int, seed: int) -> list:
    """``count`` fuzz configurations with pairwise different kernels."""
    import fuzz_pa_v1 as fuzz

    rng, picked, axes = random.Random(seed), [], set()
    while len(picked) < count:
        cfg = fuzz.draw_config(rng, len(picked), None)
        if cfg.spec_axes() not in axes and sum(cfg.lens) > 0:
            axes.add(cfg.spec_axes())
            picked.append(cfg)
    return picked


def child(rank: int, specs: int, seconds: float, seed: int, device: str = "cuda") -> dict:
    import torch

    import aiter_swa  # noqa: F401
    import fuzz_pa_v1 as fuzz
    from aiter_swa.jit import loader, toolchain
    from aiter_swa.ops.pa_v1.spec import PaV1Spec
    from testlib.pa_v1 import mismatch

    cfgs = soak_configs(specs, seed)
    firsts, origins = [None] * specs, []
    arch = toolchain.device_arch(0) if device == "cuda" else None
    report = {"rank": rank, "pid": os.getpid(), "calls": 0, "errors": [], "mismatches": 0}
    order = [(rank + k) % specs for k in range(specs)]
    t0 = time.perf_counter()
    for k in order:  # first call of each configuration: this is where the kernels compile or load
        case, out, out_buffer, ws, _ = fuzz.build(cfgs[k], "cpu")
        values = fuzz.mirror([getattr(case, f) for f in fuzz._CASE_TENSORS], device)
        gpu_case = dataclasses.replace(case, **dict(zip(fuzz._CASE_TENSORS, values)))
        try:
            out_gpu = torch.full(case.query.shape, float("nan"), dtype=case.query.dtype, device=device)
            torch.ops.aiter_swa.paged_attention_v1(*gpu_case.op_args(out_gpu, gpu_case.workspace()))
            torch.ops.aiter_swa.paged_attention_v1(*case.op_args(out, ws))  # the CPU path
            why = mismatch(out_gpu.cpu(), out.double())
            if why:
                report["errors"].append(f"config {k}: GPU vs CPU: {why}")
            firsts[k] = (gpu_case, out_gpu)
        except Exception as e:  # noqa: BLE001
            report["errors"].append(f"config {k}: {type(e).__name__}: {e}")
            return report
        if device == "cuda":
            dt, hs, _bs, g, swa, cap, alibi = cfgs[k].spec_axes()  # the block size is a run-time value
            origins.append((loader.origin(PaV1Spec(dt, dt, dt, hs, g, swa, cap, alibi, arch=arch)) or ["not loaded"])[0])
    report["origins"] = origins
    report["warmup_s"] = round(time.perf_counter() - t0, 1)
    report["mem_after_warmup"] = _memory(device)
    rng = random.Random(rank)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        k = rng.randrange(specs)
        gpu_case, first = firsts[k]
        try:
            out = torch.full_like(first, float("nan"))
            torch.ops.aiter_swa.paged_attention_v1(*gpu_case.op_args(out, gpu_case.workspace()))
            if not torch.equal(out.nan_to_num(7.0), first.nan_to_num(7.0)):
                report["mismatches"] += 1
        except Exception as e:  # noqa: BLE001
            report["errors"].append(f"config {k}: {type(e).__name__}: {e}")
            break
        report["calls"] += 1
    del out
    report["mem_end"] = _memory(device)
    return report


def _memory(device: str) -> tuple:
    """torch's (allocated, reserved) bytes on the GPU, after the queued work; (0, 0) on the CPU."""
    import torch

    if device != "cuda":
        return (0, 0)
    torch.cuda.synchronize()
    return (torch.cuda.memory_allocated(), torch.cuda.memory_reserved())


def device_memory_used_mib() -> int | None:
    for cmd in (["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits", "-i", "0"],):
        try:
            return int(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()[0])
        except (OSError, subprocess.CalledProcessError, ValueError, IndexError):
            pass
    return None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--procs", type=int, default=8)
    p.add_argument("--seconds", type=float, default=120)
    p.add_argument("--specs", type=int, default=3)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--cache-dir", default=None, help="default: a new empty dir (a cold cache)")
    p.add_argument("--device", default="cuda", help="cuda; cpu: a smoke test of this script (no kernels)")
    p.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child is not None:
        print("SOAK " + json.dumps(child(a.child, a.specs, a.seconds, a.seed, a.device)), flush=True)
        return 0

    cache = a.cache_dir or tempfile.mkdtemp(prefix="aiter_swa-soak-cache-")
    env = {**os.environ, "AITER_SWA_CACHE_DIR": cache}
    env.pop("AITER_SWA_PREBUILT_DIR", None)
    mem_before = device_memory_used_mib()
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, __file__, "--child", str(i), "--specs", str(a.specs),
                               "--seconds", str(a.seconds), "--seed", str(a.seed), "--device", a.device],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for i in range(a.procs)]  # fmt: skip
    reports, ok = [], True
    for i, proc in enumerate(procs):
        text, _ = proc.communicate()
        lines = [ln for ln in text.splitlines() if ln.startswith("SOAK ")]
        if proc.returncode != 0 or not lines:
            ok = False
            print(f"soak: child {i} exited {proc.returncode}:\n{text[-3000:]}")
            continue
        rep = json.loads(lines[-1][5:])
        reports.append(rep)
        print(json.dumps(rep))
    mem_after = device_memory_used_mib()
    per_kernel = {}
    for r in reports:
        order = [(r["rank"] + k) % a.specs for k in range(a.specs)]
        for k, origin in zip(order, r.get("origins", [])):
            per_kernel.setdefault(k, []).append(origin)
    compiled = {k: v.count("compiled") for k, v in sorted(per_kernel.items())}
    errors = sum(len(r["errors"]) for r in reports)
    mismatches = sum(r["mismatches"] for r in reports)
    grown = [r["rank"] for r in reports if r["mem_end"][0] > r["mem_after_warmup"][0]]
    summary = {
        "procs": a.procs, "seconds": a.seconds, "kernels": a.specs, "calls": sum(r["calls"] for r in reports),
        "errors": errors, "mismatches": mismatches, "compiles_per_kernel": compiled,
        "children_whose_allocated_memory_grew": grown, "device_used_mib_before": mem_before,
        "device_used_mib_after": mem_after, "wall_s": round(time.perf_counter() - t0, 1), "cache_dir": cache,
    }  # fmt: skip
    print("soak: " + json.dumps(summary))
    ok = ok and len(reports) == a.procs and errors == 0 and mismatches == 0 and not grown
    if a.device == "cuda":
        ok = ok and sorted(compiled.values()) == [1] * a.specs
    if not a.cache_dir:
        shutil.rmtree(cache, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
