"""Differential fuzz of ``paged_attention_v1``: random valid calls, GPU kernel against the CPU path.

Each configuration is drawn from a seeded generator (``random.Random(seed)``, so a failure is
reproduced by its index): dtype, head size, block size, GQA ratio (every ratio of its bucket),
sequences with a mix of context lengths (0, one token, partition boundaries, long), window (none,
negative, 1, partition multiples, longer than every context, beyond int32), soft cap (off, ``inf``,
small, large), ALiBi, KV layout, K/V as views of one tensor, padded query / out strides, a
``max_context_len`` above the longest context, wider and strided block tables whose entries outside
the attended blocks hold garbage (``-1``, ``INT32_MAX``; never read), oversized workspaces. Inputs
are NaN-poisoned as in ``testlib.pa_v1.make_case``, ``out`` starts as NaN and sits inside a
NaN-filled buffer whose padding must stay untouched.

Checks per configuration: the GPU output against the CPU path's (``testlib.pa_v1.mismatch``: the
dtype's tolerances), every ``--reference-every``-th also against the float64 reference; on a machine
without a GPU (``--devices cpu``), the CPU path against the reference. Exit status 1 on any mismatch.

    python op_tests/pa_v1/fuzz_pa_v1.py --count 2000 --seed 0 --num-specs 24 --prebuild
    PYTORCH_NO_CUDA_MEMORY_CACHING=1 compute-sanitizer --tool memcheck python op_tests/pa_v1/fuzz_pa_v1.py --count 20

``--num-specs K`` draws the kernel-selecting axes (dtype, head size, block size, GQA bucket, window /
cap / ALiBi on or off) from K fixed combinations, so a run compiles at most K kernels;
``--prebuild`` compiles those first with one ninja on every CPU. A small seeded slice runs in pytest
(``test_pa_v1_fuzz.py``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import torch

if __name__ == "__main__":  # op_tests (for testlib) is on sys.path under pytest, not here
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiter_swa.ops.pa_v1.call import soft_cap_enabled
from aiter_swa.ops.pa_v1.spec import GQA_BUCKETS, PARTITION_SIZE, SUPPORTED_HEAD_SIZES
from testlib.pa_v1 import DTYPES, make_case, mismatch

INT32_MAX = 2**31 - 1
GPU_DTYPES = ("bf16", "fp16")
#: Block sizes drawn (any integer >= 1 is valid: a spread of powers of two, 1 and vLLM's 272).
BLOCK_SIZES = (1, 8, 16, 32, 64, 272)


@dataclasses.dataclass
class FuzzConfig:
    """One random call (everything needed to rebuild it on any device)."""

    index: int
    dtype: str
    head_size: int
    block_size: int
    num_kv_heads: int
    num_heads: int
    lens: list
    window: int
    cap: float
    alibi: bool
    layout: str
    combined_kv: bool
    scale: float
    max_len_slack: int  # max_context_len - max(lens)
    bt_extra_cols: int  # block-table columns beyond what max_context_len needs
    bt_row_pad: int  # block_tables.stride(0) - width
    bt_garbage: int  # value of the entries outside the attended blocks (0: the null block)
    q_pad: int  # extra elements per head of query's storage (multiple of 8)
    out_pad: int
    workspace_extra: int  # bytes beyond get_workspace_size
    seed: int

    def spec_axes(self) -> tuple:
        ratio = self.num_heads // self.num_kv_heads
        bucket = next(b for b in GQA_BUCKETS if ratio <= b)
        return (self.dtype, self.head_size, self.block_size, bucket, self.window > 0, soft_cap_enabled(self.cap), self.alibi)


def _spec_pool(rng: random.Random, k: int) -> list:
    """``k`` distinct kernel-selecting combinations (dtype, head, block, bucket, swa, cap, alibi)."""
    pool = set()
    while len(pool) < k:
        pool.add((rng.choice(GPU_DTYPES), rng.choice(SUPPORTED_HEAD_SIZES), rng.choice(BLOCK_SIZES),
                  rng.choice(GQA_BUCKETS), rng.random() < 0.6, rng.random() < 0.3, rng.random() < 0.3))  # fmt: skip
    return sorted(pool)


def _context_len(rng: random.Random, longest: int, block_size: int) -> int:
    r = rng.random()
    if r < 0.1:
        return 0
    if r < 0.25:
        return rng.randint(1, block_size + 1)
    if r < 0.4:
        return max(0, PARTITION_SIZE * rng.randint(1, 8) + rng.choice((-1, 0, 1)))
    return rng.randint(1, longest)


def draw_config(rng: random.Random, index: int, pool: list | None) -> FuzzConfig:
    """One random valid configuration; its kernel axes from ``pool`` when given."""
    if pool:
        dtype, head_size, block_size, bucket, swa, cap_on, alibi = rng.choice(pool)
    else:
        dtype, head_size, block_size = rng.choice(GPU_DTYPES), rng.choice(SUPPORTED_HEAD_SIZES), rng.choice(BLOCK_SIZES)
        bucket, swa, cap_on, alibi = rng.choice(GQA_BUCKETS), rng.random() < 0.6, rng.random() < 0.3, rng.random() < 0.3
    lower = GQA_BUCKETS[GQA_BUCKETS.index(bucket) - 1] if bucket > 1 else 0
    ratio = rng.randint(lower + 1, bucket)
    num_kv_heads = rng.randint(1, 4 if ratio <= 8 else 2)
    num_seqs = rng.randint(1, 6)
    longest = rng.choice((64, 600, 3000))
    lens = [_context_len(rng, longest, block_size) for _ in range(num_seqs)]
    top = max(lens)
    if swa:
        window = rng.choice((1, rng.randint(1, top + 64), PARTITION_SIZE, 2 * PARTITION_SIZE + 1, top, top + 1000,
                             2**31 + rng.randint(0, 2**32)))  # fmt: skip
        window = max(window, 1)
    else:
        window = rng.choice((0, 0, -1, -(2**40)))
    if cap_on:
        cap = rng.choice((rng.uniform(1.0, 50.0), 0.5, 1e4))
    else:
        cap = rng.choice((0.0, -3.0, math.inf))
    return FuzzConfig(
        index=index, dtype=dtype, head_size=head_size, block_size=block_size, num_kv_heads=num_kv_heads,
        num_heads=num_kv_heads * ratio, lens=lens, window=window, cap=cap, alibi=alibi,
        layout=rng.choice(("HND", "NHD")), combined_kv=rng.random() < 0.3,
        scale=head_size**-0.5 * rng.uniform(0.25, 4.0), max_len_slack=rng.choice((0, 0, rng.randint(1, 300))),
        bt_extra_cols=rng.choice((0, 0, rng.randint(1, 5))), bt_row_pad=rng.choice((0, rng.randint(1, 7))),
        bt_garbage=rng.choice((0, -1, INT32_MAX)), q_pad=8 * rng.randint(0, 2), out_pad=8 * rng.randint(0, 2),
        workspace_extra=rng.choice((0, 0, rng.randint(1, 4096))), seed=rng.randint(0, 2**31 - 1),
    )  # fmt: skip


def build(cfg: FuzzConfig, device: str):
    """``(case, out, out_buffer, workspace, sane_table)`` of ``cfg`` on ``device`` (identical values on
    every device); ``sane_table``: the block table without garbage, for the reference."""
    case = make_case(
        num_seqs=len(cfg.lens), num_heads=cfg.num_heads, num_kv_heads=cfg.num_kv_heads, head_size=cfg.head_size,
        block_size=cfg.block_size, context_lens=cfg.lens, dtype=DTYPES[cfg.dtype], device=device,
        sliding_window=cfg.window, kv_cache_layout=cfg.layout, logits_soft_cap=cfg.cap, alibi=cfg.alibi,
        combined_kv=cfg.combined_kv, scale=cfg.scale, seed=cfg.seed,
    )  # fmt: skip
    n, h, d = case.query.shape
    bs = cfg.block_size
    # A wider, strided block table; entries outside each sequence's attended blocks hold garbage.
    case.max_context_len = max(cfg.lens) + cfg.max_len_slack
    width = -(-case.max_context_len // bs) + cfg.bt_extra_cols
    table = torch.full((n, width + cfg.bt_row_pad), cfg.bt_garbage, dtype=torch.int32)
    old = case.block_tables.cpu()
    for i, L in enumerate(cfg.lens):
        lo = max(0, L - cfg.window) if cfg.window > 0 else 0
        table[i, lo // bs : -(-L // bs)] = old[i, lo // bs : -(-L // bs)]
    case.block_tables = table.to(device)[:, :width]
    # Query and out with padded head strides; out inside a NaN buffer whose padding must stay NaN.
    q = torch.full((n, h, d + cfg.q_pad), float("nan"), dtype=case.query.dtype, device=device)
    q[..., :d] = case.query
    case.query = q[..., :d]
    out_buffer = torch.full((n, h, d + cfg.out_pad), float("nan"), dtype=case.query.dtype, device=device)
    out = out_buffer[..., :d]
    ws = case.workspace()
    if cfg.workspace_extra:
        ws = torch.empty(ws.numel() + cfg.workspace_extra, dtype=torch.uint8, device=device)
    return case, out, out_buffer, ws, old


_CASE_TENSORS = ("query", "key_cache", "value_cache", "block_tables", "context_lens", "alibi_slopes")


def mirror(tensors: list, device: str) -> list:
    """The same tensors on ``device``: same sizes, strides, offsets and values, and tensors that share
    a storage here (K and V views of one tensor) share one there."""
    storages, out = {}, []
    for t in tensors:
        if t is None:
            out.append(None)
            continue
        st = t.untyped_storage()
        if st.data_ptr() not in storages:
            flat = torch.empty(0, dtype=t.dtype).set_(st, 0, (st.nbytes() // t.element_size(),), (1,))
            storages[st.data_ptr()] = flat.to(device)
        out.append(storages[st.data_ptr()].as_strided(t.shape, t.stride(), t.storage_offset()))
    return out


def run_config(cfg: FuzzConfig, devices: tuple, check_reference: bool) -> str | None:
    """Run ``cfg`` on ``devices`` (``("cuda", "cpu")``: GPU against CPU; ``("cpu",)``: CPU against the
    reference); why it fails, or None. Inputs are built once on the CPU and mirrored to the GPU."""
    outs = []
    host = build(cfg, "cpu")
    for device in devices:
        case, out, out_buffer, ws, sane_table = host
        if device != "cpu":
            values = mirror([getattr(case, f) for f in _CASE_TENSORS] + [out_buffer], device)
            case = dataclasses.replace(case, **dict(zip(_CASE_TENSORS, values)))
            out_buffer = values[-1]
            out = out_buffer[..., : cfg.head_size]
            ws = torch.full((ws.numel(),), 255, dtype=torch.uint8, device=device)  # NaN bytes
        torch.ops.aiter_swa.paged_attention_v1(*case.op_args(out, ws))
        if not bool(out_buffer[..., cfg.head_size :].isnan().all()):
            return f"{device}: wrote outside out (its padding)"
        outs.append(out.cpu())
    case = host[0]
    if len(outs) == 2:
        why = mismatch(outs[0], outs[1].double())
        if why:
            return f"{devices[0]} vs {devices[1]}: {why}"
    if check_reference or len(outs) == 1:
        why = mismatch(outs[0], dataclasses.replace(case, block_tables=sane_table).reference())
        if why:
            return f"{devices[0]} vs float64 reference: {why}"
    return None


def configs(count: int, seed: int, num_specs: int) -> list:
    rng = random.Random(seed)
    pool = _spec_pool(rng, num_specs) if num_specs else None
    return [draw_config(rng, i, pool) for i in range(count)]


def prebuild_specs(cfgs: list, jobs: int | None, out: str | None = None) -> str:
    """Compile the kernels ``cfgs`` need (one ninja) into ``out`` (default: a new temp dir; kernels
    already there are kept); put it first in AITER_SWA_PREBUILT_DIR."""
    from aiter_swa.jit import toolchain
    from aiter_swa.jit.prebuild import prebuild
    from aiter_swa.ops.pa_v1.spec import PaV1Spec

    arch = toolchain.device_arch(0)
    specs = sorted({PaV1Spec(dt, dt, dt, hs, g, swa, cap, alibi, arch=arch)  # the block size is a run-time value
                    for dt, hs, _bs, g, swa, cap, alibi in (c.spec_axes() for c in cfgs)}, key=lambda s: s.name)  # fmt: skip
    out = out or tempfile.mkdtemp(prefix="aiter_swa-fuzz-kernels-")
    _rows, failures = prebuild(specs, out, jobs=jobs)
    if failures:
        raise SystemExit(f"fuzz: {len(failures)} kernels failed to build: {[f.spec.name for f in failures]}")
    os.environ["AITER_SWA_PREBUILT_DIR"] = os.pathsep.join(filter(None, (out, os.environ.get("AITER_SWA_PREBUILT_DIR"))))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", type=int, default=0, help="skip the first START configurations (reproduce one: --start I --count 1)")
    p.add_argument("--num-specs", type=int, default=24, help="kernel combinations to draw from (0: any)")
    p.add_argument("--devices", default=None, help="cuda,cpu (default when a GPU is visible) or cpu")
    p.add_argument("--reference-every", type=int, default=10)
    p.add_argument("--budget-s", type=float, default=0, help="stop after this many seconds (0: no limit)")
    p.add_argument("--prebuild", action="store_true", help="compile the needed kernels first (one ninja)")
    p.add_argument("--jobs", type=int, default=None)
    p.add_argument("--kernels-dir", default=None, help="where --prebuild puts the kernels (default: a temp dir)")
    p.add_argument("--prebuild-only", action="store_true", help="with --prebuild: compile, then exit")
    p.add_argument("--log", default=None, help="JSON lines: one per mismatch, and a summary")
    a = p.parse_args(argv)
    devices = tuple((a.devices or ("cuda,cpu" if torch.cuda.is_available() else "cpu")).split(","))
    cfgs = configs(a.start + a.count, a.seed, a.num_specs)[a.start :]
    if a.prebuild and "cuda" in devices:
        t = time.perf_counter()
        prebuild_specs(cfgs, a.jobs, a.kernels_dir)
        print(f"fuzz: pre-built {len({c.spec_axes() for c in cfgs})} kernels in {time.perf_counter() - t:.1f} s", flush=True)
        if a.prebuild_only:
            return 0
    import aiter_swa  # noqa: F401  (registers the op)

    t0, done, failures = time.perf_counter(), 0, []
    log = open(a.log, "a") if a.log else None
    for cfg in cfgs:
        if a.budget_s and time.perf_counter() - t0 > a.budget_s:
            break
        try:
            why = run_config(cfg, devices, check_reference=a.reference_every > 0 and cfg.index % a.reference_every == 0)
        except Exception as e:  # noqa: BLE001 - a raise on a valid call is a finding too
            why = f"raised {type(e).__name__}: {e}"
        done += 1
        if why:
            failures.append(cfg.index)
            print(f"fuzz: MISMATCH config {cfg.index}: {why}\n  {cfg}", flush=True)
            if log:
                log.write(json.dumps({"index": cfg.index, "why": why, "config": dataclasses.asdict(cfg)}) + "\n")
    summary = {"configs": done, "mismatches": len(failures), "seed": a.seed, "start": a.start, "devices": devices,
               "kernel_combinations": len({c.spec_axes() for c in cfgs[:done]}), "seconds": round(time.perf_counter() - t0, 1),
               "failed_indices": failures[:50]}  # fmt: skip
    print(f"fuzz: {json.dumps(summary)}", flush=True)
    if log:
        log.write(json.dumps({"summary": summary}) + "\n")
        log.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
