"""How should the matrix-core kernel split a small batch? (issue 8; a script, not a test)

For a few of issue 8's rows (bf16, block 16, HND, the benchmark's inputs: ``bench_pa_v1_swa.Inputs``,
rotated over enough sets to exceed the L2 cache) it forces the matrix-core kernel's partition count
from outside the product and times each split, next to the vector kernel's fixed 256-key split:

* a ``workspace_buffer`` sized for exactly ``cap`` partitions (``workspace.layout``):
  ``gpu.mma_split`` never makes more partitions than the buffer holds (knob ``ws``);
* for a cap below what the op's validation admits (``get_workspace_size`` with the window: 16
  partitions at window 4096), that least buffer and a smaller SM count given to the plan
  (``gpu.multiprocessor_count`` patched while the plan is built; the SM count only feeds the split):
  the largest count whose split has at most ``cap`` partitions (knob ``cus=N``).

Per case: the kernel, the cap, the split the launch uses (``gpu.launch_values``; on the GPU also
the prepared launcher's own ``derived`` values, flagged when they differ), the workgroups of the
partition and reduce kernels, the time per call replayed from a CUDA graph of ``--calls`` calls
(median of ``--reps``, as bench_pa_v1_swa.py), the per-kernel GPU times (``torch.profiler``, as
kernel_times.py) and the max abs difference from the default split's output (``MISMATCH`` above
2e-2; the default split itself is checked against a float32 reference). A case whose split equals
an earlier one's is not run again. Then, per row, the best split against the default.

    python op_tests/pa_v1/split_study.py                  # GPU: every row (~1 minute, kernels pre-built)
    python op_tests/pa_v1/split_study.py --rows "mistral B1 32K w4096" --caps 16 32 64
    python op_tests/pa_v1/split_study.py --dry-run        # no GPU: the split of every case (sm_90, 132 SMs)
    bash op_tests/run_gpu_suite.sh split                  # GPU machine: install, pre-build, this script
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import functools
import math
import sys
import time
from pathlib import Path
from unittest import mock

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # op_tests, for testlib
sys.path.insert(1, str(HERE))  # op_tests/pa_v1, for the benchmark
import bench_pa_v1_swa as bench  # noqa: E402
import peers  # noqa: E402  (the benchmark's float32 reference and comparison)
from aiter_swa.ops.pa_v1 import gpu  # noqa: E402
from aiter_swa.ops.pa_v1.call import ARG_INDEX, lookup, validate  # noqa: E402
from aiter_swa.ops.pa_v1.spec import LAUNCH  # noqa: E402
from aiter_swa.ops.pa_v1.workspace import get_workspace_size, layout  # noqa: E402

ROWS = {  # label: (model of bench.MODELS, batch, context, window)
    "mistral B1 32K w4096": ("mistral", 1, 32768, 4096),
    "gpt-oss B1 32K w4096": ("gpt-oss", 1, 32768, 4096),
    "mistral B4 32K w4096": ("mistral", 4, 32768, 4096),
    "gpt-oss B64 16K w128": ("gpt-oss", 64, 16384, 128),
    "seed B8 9216 w8192": ("seed", 8, 9216, 8192),
    "mistral B32 16K w4096": ("mistral", 32, 16384, 4096),
    "mistral B32 16K off": ("mistral", 32, 16384, 0),
    "mistral B32 16K w2048": ("mistral", 32, 16384, 2048),
    "mistral B32 16K w8192": ("mistral", 32, 16384, 8192),
    "mistral B32 8K off": ("mistral", 32, 8192, 0),
    "mistral B24 16K w4096": ("mistral", 24, 16384, 4096),
    "mistral B16 16K w4096": ("mistral", 16, 16384, 4096),
    "gemma3 B16 16K w1024": ("gemma3", 16, 16384, 1024),
}
CAPS = (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128)
DTYPE, BLOCK = torch.bfloat16, 16
MISMATCH = 2e-2
WS = ARG_INDEX["workspace_buffer"]


@dataclasses.dataclass
class Case:
    """One launch configuration of a row: ``cap`` None is the default (aiter's buffer, the real SM count)."""

    kernel: str
    cap: int | None
    knob: str  # "ws": the buffer's size alone; "cus=N": and N SMs given to the plan
    workspace: torch.Tensor
    num_cus: int
    spec: str
    parts: int
    size: int
    workgroups: int
    reduce_workgroups: int

    @property
    def label(self) -> str:
        return "default" if self.cap is None else str(self.cap)

    @property
    def split(self) -> tuple:
        return self.kernel, self.parts, self.size


def with_workspace(args: tuple, ws: torch.Tensor) -> tuple:
    return args[:WS] + (ws,) + args[WS + 1 :]


def describe(call, kernel: str, arch: str, num_cus: int) -> dict:
    """The launch of a validated ``call`` on ``kernel``: spec, split and workgroups (host values only)."""
    spec, v = gpu.launch_values(call, arch, num_cus, kernel)
    d, parts = call.dims, v["num_partitions"]
    chunks = -(-d.gqa_ratio * call.mtp // spec.mma_rows) if spec.mma_rows else 1
    return dict(spec=spec.name, parts=parts, size=v["partition_size"],
                workgroups=d.num_seqs * d.num_kv_heads * chunks * max(1, parts),
                reduce_workgroups=d.num_seqs * d.num_heads * call.mtp if parts > 1 else 0)  # fmt: skip


def sm_count_for(call, cap: int, arch: str, num_cus: int) -> int:
    """The SM count, nearest the real ``num_cus`` (up to 8x it), whose matrix-core split of ``call``
    (its buffer) has the most partitions up to ``cap``: below the real count the split makes fewer
    partitions, above it more (``gpu.mma_split`` fills waves of the SM count)."""
    spec, v = gpu.launch_values(call, arch, num_cus, "mma")
    plan = {n: v[n] for n in LAUNCH.plan_names}
    best = best_parts = None
    for cus in sorted(range(1, 8 * num_cus + 1), key=lambda c: (abs(c - num_cus), c)):
        parts = gpu.split_values(spec, {**plan, "num_cus": cus}, call.max_context_len)["num_partitions"]
        if parts <= cap and (best is None or parts > best_parts):
            best, best_parts = cus, parts
        if parts == cap:
            break
    return num_cus if best is None else best


def aiter_workspace_bytes(call) -> int:
    """The workspace aiter sizes for a validated ``call`` (no window: ``ceil(max_context_len / 256)``
    partitions), the buffer the benchmark passes."""
    d = call.dims
    return get_workspace_size(d.num_seqs, d.num_heads, d.head_size, call.max_context_len, call.out.dtype, 0,
                              mtp=call.mtp)  # fmt: skip


def plan_cases(args: tuple, caps, arch: str, num_cus: int, vector: bool = True) -> list[Case]:
    """The row's cases: the matrix-core kernel's default split, the vector kernel's (fixed; not without
    ``vector``), then the
    matrix-core kernel at each cap up to what aiter's buffer holds: a buffer for ``cap`` partitions
    (at least the least the op admits) and the SM count of :func:`sm_count_for`. Every case's buffer
    has its own size (a few pad bytes: the cap is a floor division), so each gets its own plan."""
    call = validate(*args)
    d = call.dims
    rows, item = d.num_seqs * call.mtp, call.out.dtype.itemsize
    least = get_workspace_size(d.num_seqs, d.num_heads, d.head_size, call.max_context_len, call.out.dtype,
                               call.sliding_window, mtp=call.mtp)  # fmt: skip
    aiter = aiter_workspace_bytes(call)
    most = aiter // (layout(rows, d.num_heads, d.head_size, 2, item)[3] // 2)  # partitions aiter's buffer holds
    cases = []

    def add(kernel, cap, nbytes, cus=None):
        ws = torch.empty(nbytes + len(cases), dtype=torch.uint8, device=call.query.device)
        c_call = validate(*with_workspace(args, ws))
        cus = num_cus if cus is None else sm_count_for(c_call, cap, arch, num_cus)
        knob = "ws" if cus == num_cus else f"cus={cus}"
        cases.append(Case(kernel, cap, knob, ws, cus, **describe(c_call, kernel, arch, cus)))

    add("mma", None, aiter)
    if vector:
        add("vector", None, aiter)
    for cap in sorted(c for c in set(caps) if 1 <= c <= most):
        add("mma", cap, max(least, layout(rows, d.num_heads, d.head_size, cap, item)[3]), cus=True)
    return cases


def row_inputs(label: str, dev, nsets: int = 1) -> list:
    model, batch, ctx, window = ROWS[label]
    h, kvh, d, _ = bench.MODELS[model]
    return [bench.Inputs(h, kvh, d, batch, ctx, window, BLOCK, DTYPE, dev) for _ in range(nsets)]


def dry_run(label: str, caps, arch: str, num_cus: int, vector: bool = True) -> list[Case]:
    """The cases of a row on the CPU (no GPU), printed."""
    cases = plan_cases(row_inputs(label, "cpu")[0].args, caps, arch, num_cus, vector)
    print(f"# {label}: {arch}, {num_cus} SMs")
    print(f"{'kernel':6} {'cap':>7} {'knob':>7} {'parts':>5} {'size':>5} {'wgs':>5} {'reduce':>6}  spec")
    seen = {}
    for c in cases:
        same = f"  (= cap {seen[c.split]})" if c.split in seen else ""
        seen.setdefault(c.split, c.label)
        print(f"{c.kernel:6} {c.label:>7} {c.knob:>7} {c.parts:5d} {c.size:5d} {c.workgroups:5d} "
              f"{c.reduce_workgroups:6d}  {c.spec}{same}")  # fmt: skip
    return cases


@contextlib.contextmanager
def forced(kernel: str, num_cus: int | None):
    """Serve calls with ``kernel``, plans built for ``num_cus`` SMs (None: the device's)."""
    with gpu.kernel_override(kernel):
        if num_cus is None:
            yield
        else:
            with mock.patch.object(gpu, "multiprocessor_count", lambda _index: num_cus):
                yield


def kernel_means(fns, calls: int) -> dict:
    """Mean GPU time (us) per kernel, by short name (partition / reduce), over ``calls`` eager calls."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        for i in range(calls):
            fns[i % len(fns)]()
        torch.cuda.synchronize()
    per = collections.defaultdict(list)
    for e in prof.events():
        if e.device_type == torch.autograd.DeviceType.CUDA:
            name = e.name.split("<")[0].split("(")[0]
            short = "reduce" if "reduce" in name else "partition" if "partition" in name else name[-24:]
            per[short].append(e.device_time if hasattr(e, "device_time") else e.cuda_time)
    return {k: sum(v) / len(v) for k, v in per.items()}


def rotating_inputs(label: str, dev, l2: int) -> tuple[list, int]:
    """The row's input sets, as many as hold 4 times the ``l2`` bytes of the L2 cache in must-read bytes (at
    least 2, at most 8), and the bytes one set must read."""
    model, batch, ctx, window = ROWS[label]
    h, kvh, d, _ = bench.MODELS[model]
    set_bytes = bench.must_read_bytes(h, kvh, d, batch, ctx, window, BLOCK, DTYPE.itemsize)
    return row_inputs(label, dev, max(2, min(8, math.ceil(4 * l2 / set_bytes)))), set_bytes


def study_row(label: str, a, dev, arch: str, num_cus: int, l2: int) -> None:
    ctx, window = ROWS[label][2:]
    sets, set_bytes = rotating_inputs(label, dev, l2)
    nsets = len(sets)
    cases = plan_cases(sets[0].args, a.caps, arch, num_cus, vector=not a.no_vector)
    print(f"\n# {label}: {nsets} input sets of {set_bytes / 1e6:.1f} MB must-read bytes", flush=True)
    print(f"{'kernel':6} {'cap':>7} {'knob':>7} {'parts':>5} {'size':>5} {'wgs':>5} {'reduce':>6} {'us/call':>8} "
          f"{'TB/s':>5} {'part us':>8} {'red us':>7} {'maxdiff':>8}")  # fmt: skip
    op = torch.ops.aiter_swa.paged_attention_v1
    ref, seen, times = None, {}, {}
    for c in cases:
        head = (f"{c.kernel:6} {c.label:>7} {c.knob:>7} {c.parts:5d} {c.size:5d} {c.workgroups:5d} "
                f"{c.reduce_workgroups:6d}")  # fmt: skip
        if c.split in seen:
            print(f"{head}  (= cap {seen[c.split]})", flush=True)
            continue
        seen[c.split] = c.label
        fns = [functools.partial(op, *with_workspace(s.args, c.workspace)) for s in sets]
        try:
            with forced(c.kernel, None if c.knob == "ws" else c.num_cus):
                t = bench.graph_ms(fns, a.calls, a.reps) * 1e3
                plan = lookup(with_workspace(sets[0].args, c.workspace)).gpu_plan
                got = plan.launch.derived(ctx) if plan is not None and plan.launch is not None else None
                fns[0]()
                torch.cuda.synchronize()
                out = sets[0].out.clone()
                kt = kernel_means(fns, a.prof_calls)
        except Exception as e:  # noqa: BLE001  (one case's failure: reported, the row goes on)
            print(f"{head}  FAILED {type(e).__name__}: {str(e)[:160]}", flush=True)
            continue
        note = ""
        if got is not None and (got["num_partitions"], got["partition_size"]) != (c.parts, c.size):
            note += f"  LAUNCHED {got['num_partitions']}x{got['partition_size']}"
        if ref is None:  # the first case, the default split: against a float32 reference
            ref = out
            ok, err = peers.compare(out, peers.reference_fp32(sets[0], 1, window, 0.0))
            note += f"  vs fp32 {err:.2g}" + ("" if ok else " MISMATCH")
        diff = float((out.float() - ref.float()).abs().max())
        note += " MISMATCH" if not diff <= MISMATCH else ""
        times[c.label if c.kernel == "mma" else "vector"] = (t, c)
        print(f"{head} {t:8.2f} {set_bytes / t / 1e6:5.2f} {kt.get('partition', math.nan):8.2f} "
              f"{kt.get('reduce', math.nan):7.2f} {diff:8.2g}{note}", flush=True)  # fmt: skip
    del sets
    torch.cuda.empty_cache()
    summary(label, times)


def summary(label: str, times: dict) -> None:
    mma = {k: v for k, v in times.items() if k != "vector"}
    if "default" not in mma:
        print(f"summary {label}: default split not measured")
        return
    (t0, c0), best = mma["default"], min(mma, key=lambda k: mma[k][0])
    tb, cb = mma[best]
    vec = f"; vector {times['vector'][0]:.2f} us ({times['vector'][1].parts}x256)" if "vector" in times else ""
    print(f"summary {label}: best mma cap {best} ({cb.parts}x{cb.size}, {cb.knob}) {tb:.2f} us vs default "
          f"({c0.parts}x{c0.size}) {t0:.2f} us: {tb / t0:.2f}x{vec}", flush=True)  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS), metavar="LABEL")
    ap.add_argument("--caps", nargs="+", type=int, default=list(CAPS), help="partition caps of the sweep")
    ap.add_argument("--calls", type=int, default=20, help="op calls per graph replay")
    ap.add_argument("--reps", type=int, default=15, help="graph replays timed (median)")
    ap.add_argument("--prof-calls", type=int, default=40, help="eager calls under the profiler per case")
    ap.add_argument("--no-vector", action="store_true", help="no vector-kernel case (its kernels need not be built)")
    ap.add_argument("--dry-run", action="store_true", help="no GPU: print each case's split")
    ap.add_argument("--arch", default="sm_90", help="--dry-run: the architecture of the split")
    ap.add_argument("--num-cus", type=int, default=132, help="--dry-run: the SM count of the split")
    a = ap.parse_args(argv)
    if a.dry_run:
        for label in a.rows:
            dry_run(label, a.caps, a.arch, a.num_cus, not a.no_vector)
        return 0
    if not torch.cuda.is_available():
        print("split_study: no GPU visible to torch (--dry-run runs without one)", file=sys.stderr)
        return 2
    from aiter_swa.jit import toolchain

    dev = torch.device("cuda")
    props = torch.cuda.get_device_properties(dev)
    arch, num_cus = toolchain.device_arch(dev.index or 0), gpu.multiprocessor_count(dev.index or 0)
    print(f"# {props.name} ({arch}, {num_cus} SMs), torch {torch.__version__}, {gpu.KERNEL_ENV}={gpu.ENV_KERNEL} "
          f"(each case sets its kernel), calls {a.calls}, reps {a.reps}", flush=True)  # fmt: skip
    rc, t_start = 0, time.monotonic()
    for label in a.rows:
        try:
            study_row(label, a, dev, arch, num_cus, getattr(props, "L2_cache_size", 64 << 20))
        except Exception as e:  # noqa: BLE001  (one row's failure: reported, the next row runs)
            print(f"ROW FAILED {label}: {type(e).__name__}: {str(e)[:200]}", flush=True)
            rc = 1
        print(f"# {label} done at {time.monotonic() - t_start:.0f} s", flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
