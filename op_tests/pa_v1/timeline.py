"""Where a graph-replayed call's time goes (issue 8, batch 1): a timeline from %globaltimer stamps.

A diagnostic, not a test: it needs the matrix-core kernels built with
``op_tests/gpu_calls/gpu_call_2026-12-01g_stamps.patch`` (``--stride 8``) or ``..._j_stamps2.patch`` (``--stride
16``: also the set-up's context length and first block-table entry arriving), whose partition and reduce kernels
write thread 0's %globaltimer at fixed points into the workspace past the partials. Each input set (the
benchmark's ``bench_pa_v1_swa.Inputs``, rotated over enough sets to exceed the L2 cache) gets its own
workspace, so after the replay of a graph of ``2 * nsets`` calls the workspaces hold the stamps of its
last ``nsets`` calls, in order. Printed per call, in ns from the first call's first partition stamp:

* partition kernel: entry (before griddepcontrol.wait), after the wait, after the set-up barrier, after
  the first key tile's barrier (its K and V in shared memory), after the key loop, end (min / median /
  max over its workgroups);
* reduce: entry, after the wait, end;
* the period: the next call's first wait release minus this call's.

    python op_tests/pa_v1/timeline.py --row "mistral B1 32K w4096"
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(1, str(HERE))
import bench_pa_v1_swa as bench  # noqa: E402
import split_study  # noqa: E402
from aiter_swa.ops.pa_v1 import gpu  # noqa: E402
from aiter_swa.ops.pa_v1.call import validate  # noqa: E402
from aiter_swa.ops.pa_v1.workspace import layout  # noqa: E402
from aiter_swa.jit import toolchain  # noqa: E402

P_POINTS = ("entry", "wait", "setup", "tile0", "loop", "end")
R_POINTS = ("entry", "wait", "end")


def stamp_offset(call, arch: str, num_cus: int) -> tuple[int, int, int]:
    """(byte offset of the stamps in the workspace: the partials' end, tmp_out last, 8-byte aligned; partition
    workgroups; reduce workgroups)."""
    d = call.dims
    desc = split_study.describe(call, "mma", arch, num_cus)
    end = layout(d.num_seqs * call.mtp, d.num_heads, d.head_size, desc["parts"], call.out.dtype.itemsize)[3]
    return (end + 7) // 8 * 8, desc["workgroups"], desc["reduce_workgroups"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--row", default="mistral B1 32K w4096", choices=list(split_study.ROWS))
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--stride", type=int, default=8, choices=(8, 16), help="stamps per partition workgroup (the patch's)")
    a = ap.parse_args()
    if not torch.cuda.is_available():
        print("timeline: no GPU visible to torch", file=sys.stderr)
        return 2
    dev = torch.device("cuda")
    arch, num_cus = toolchain.device_arch(0), gpu.multiprocessor_count(0)
    l2 = torch.cuda.get_device_properties(0).L2_cache_size
    sets, _ = split_study.rotating_inputs(a.row, dev, l2)
    nsets = len(sets)
    aiter = split_study.aiter_workspace_bytes(validate(*sets[0].args))
    wss = [torch.zeros(aiter, dtype=torch.uint8, device=dev) for _ in sets]
    args = [split_study.with_workspace(s.args, w) for s, w in zip(sets, wss)]
    off, pwgs, rwgs = stamp_offset(validate(*args[0]), arch, num_cus)
    need = off + 8 * (a.stride * pwgs + 4 * rwgs)
    assert rwgs > 0, "one partition: no reduce, nothing stamped"
    assert need <= aiter, f"stamps need {need} bytes, the workspace has {aiter}"
    op = torch.ops.aiter_swa.paged_attention_v1
    fns = [functools.partial(op, *x) for x in args]
    with gpu.kernel_override("mma"):
        t_us = bench.graph_ms(fns, 2 * nsets, a.reps) * 1e3
    torch.cuda.synchronize()
    print(f"# {a.row}: {nsets} sets, {pwgs} partition and {rwgs} reduce workgroups; {t_us:.2f} us per call "
          f"(graph of {2 * nsets} calls)")  # fmt: skip
    calls = []
    for w in wss:
        s = w[off:need].view(torch.int64).cpu()
        p = s[: a.stride * pwgs].view(pwgs, a.stride)
        r = s[a.stride * pwgs :].view(rwgs, 4)
        calls.append((p, r))
    t0 = min(int(p[:, 0].min()) for p, _ in calls)
    allv = torch.cat([torch.cat([p[:, :6].flatten(), r[:, :3].flatten()]) for p, r in calls]).unique()
    steps = (allv[1:] - allv[:-1])
    print(f"# globaltimer: smallest step between distinct stamps {int(steps[steps > 0].min())} ns")

    def mmm(x):
        x = x.double() - t0
        return f"{x.min():7.0f} {x.median():7.0f} {x.max():7.0f}"

    print(f"{'call':4} {'kernel':9} {'point':6} {'min':>7} {'median':>7} {'max':>7}  (ns)")
    prev_wait = None
    for i, (p, r) in enumerate(calls):
        for j, name in enumerate(P_POINTS):
            print(f"{i:4d} {'partition':9} {name:6} {mmm(p[:, j])}")
        for j, name in enumerate(R_POINTS):
            print(f"{i:4d} {'reduce':9} {name:6} {mmm(r[:, j])}")
        wait = int(p[:, 1].min())
        if prev_wait is not None:
            print(f"{i:4d} period (first wait release - previous call's): {wait - prev_wait} ns")
        prev_wait = wait
        sms = p[:, 6]
        print(f"{i:4d} partition workgroups per SM: max {int(torch.bincount(sms).max())}, SMs used {int((torch.bincount(sms) > 0).sum())}")
    # the call's critical path, medians over the calls: previous reduce end -> first partition entry, entry ->
    # first wait release, -> last set-up, -> last first tile, -> last loop end, -> last end, -> reduce wait
    # release, -> last reduce end
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    path = {k: [] for k in ("gap", "entry>wait", ">setup", ">tile0", ">loop", ">end", ">rwait", ">rend", "period")}
    for i, (p, r) in enumerate(calls):
        pts = [int(p[:, 0].min()), int(p[:, 1].min()), *(int(p[:, j].max()) for j in range(2, 6)),
               int(r[:, 1].max()), int(r[:, 2].max())]  # fmt: skip
        for k, a_, b_ in zip(list(path)[1:8], pts, pts[1:]):
            path[k].append(b_ - a_)
        if i > 0:
            path["gap"].append(pts[0] - int(calls[i - 1][1][:, 2].max()))
            path["period"].append(int(p[:, 1].min()) - int(calls[i - 1][0][:, 1].min()))
    sm_max = max(int(torch.bincount(p[:, 6]).max()) for p, _ in calls)
    print("summary (ns, medians over calls; set-up.. end: the last workgroup): "
          + ", ".join(f"{k} {med(v)}" for k, v in path.items() if v) + f"; partition workgroups per SM max {sm_max}")
    # phase durations per workgroup, medians over all calls
    p_all = torch.cat([p for p, _ in calls]).double()
    for j in range(1, 6):
        dur = p_all[:, j] - p_all[:, j - 1]
        print(f"phase {P_POINTS[j - 1]}->{P_POINTS[j]}: median {dur.median():.0f} ns, max {dur.max():.0f} ns")
    if a.stride == 16:  # within the set-up: the wait, the context length (8) and thread 0's first entry (9) arrived
        for (j0, n0), (j1, n1) in zip([(1, "wait"), (8, "ctx"), (9, "bt")], [(8, "ctx"), (9, "bt"), (2, "setup")]):
            dur = p_all[:, j1] - p_all[:, j0]
            print(f"phase {n0}->{n1}: median {dur.median():.0f} ns, max {dur.max():.0f} ns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
