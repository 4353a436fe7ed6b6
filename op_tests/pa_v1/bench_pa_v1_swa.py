"""Benchmark of ``torch.ops.aiter_swa.paged_attention_v1`` with a sliding window (a script, not a test).

For real model shapes, over N_CTX x WINDOW, it prints the time of

* ``torch``: gather the attended keys and values out of the paged cache, then
  ``F.scaled_dot_product_attention`` (the plain-torch way to run a paged window);
* ``flex``: ``torch.nn.attention.flex_attention`` (compiled) over a dense copy of the cache with a
  sliding-window block mask (only at the contexts in ``--flex-ctx``; ``-`` where it did not run);
* ``ours``: the op, replayed from a CUDA/HIP graph of ``--calls`` back-to-back calls,

and, for ours, the achieved bandwidth on the bytes that must be read (the window's K and V — one
byte per element for an fp8 cache —, Q, out and the window's block-table entries) and its share of
a device-to-device copy bandwidth measured in the same run. ``--block-size`` and ``--kv-dtype``
take several values (rows for each): ``auto`` (the query's dtype), ``fp8e4m3fn``,
``fp8e4m3fnuz`` (an fp8 cache with per-tensor scales; the torch column dequantizes the gathered
keys and values first). Times are device-event medians after warm-up, each run behind a hold of the
stream so that the host's submission is not timed (``testlib.pa_v1.cuda_median_ms``; ``--no-hold``: as
before 2026-12-02); the inputs rotate over enough sets to exceed the L2 cache several times. Keys
outside the window live in no physical block: their block-table entries point at one null block, as
serving engines do with freed blocks.

    python op_tests/pa_v1/bench_pa_v1_swa.py                 # the whole table
    python op_tests/pa_v1/bench_pa_v1_swa.py --models mistral --ctx 16384 --windows 4096
    python op_tests/pa_v1/bench_pa_v1_swa.py --block-size 16 32 --kv-dtype auto fp8e4m3fn fp8e4m3fnuz
    python op_tests/pa_v1/bench_pa_v1_swa.py --models mistral --ctx 1024 --windows 0 --capacity 16384  # a short
                                                         # context in a block table and workspace sized for 16K
    python op_tests/pa_v1/bench_pa_v1_swa.py --issue8            # issue 8's table with the peer columns
    python op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --dry-run  # its rows and FlashInfer modules, no GPU
    python op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --kernels --rows "mistral B1 32K w4096"  # and each
                                                         # column's kernels (torch.profiler), per call

``--issue8`` runs issue 8's rows (its table's shapes, plus mtp 2 and 4 at the Mistral and gpt-oss
shapes and mtp 8 at Mistral's: 32 query rows per KV head at head 128) with, next to ours, the peers of ``peers.py`` fed the same inputs and timed the same way:
FlashInfer's batch decode (tensor-core ``fi_tc`` and CUDA-core ``fi_cuda``) and vLLM's Triton
``unified_attention`` (``vllm``, with the 2D / 3D path its heuristic took). Each output is checked
against ours (against a float32 reference where ours does not run, e.g. ``mtp > 1`` before the
matrix-core kernel) before it is timed: a mismatch is printed and its time marked ``!``. A peer
that is not importable (``op_tests/pa_v1/fetch_peers.sh``; ``run_gpu_suite.sh peers`` installs
them) is shown as ``n/a`` with the reason. Then each row's ours / best peer and issue 8's targets.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import os
import re
import sys
import tempfile
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F

import aiter_swa
from aiter_swa.ops.pa_v1.call import PaV1Call

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # op_tests, for testlib
sys.path.insert(1, str(Path(__file__).resolve().parent))  # op_tests/pa_v1, for peers
from testlib.pa_v1 import cuda_median_ms  # noqa: E402

#: Whether each timed run starts behind a hold of the stream (``testlib.pa_v1.cuda_median_ms``); ``--no-hold``
#: times as before 2026-12-02 (the start event recorded on an idle stream: the host's submission counted).
HOLD = True


def median_ms(fn, warmup: int, reps: int) -> float:
    """:func:`testlib.pa_v1.cuda_median_ms` with this run's :data:`HOLD`."""
    return cuda_median_ms(fn, warmup, reps, hold=HOLD)

P = 256
FP8 = {"fp8e4m3fn": torch.float8_e4m3fn, "fp8e4m3fnuz": torch.float8_e4m3fnuz}
MODELS = {  # name: (num_heads, num_kv_heads, head_size, batch)
    "mistral": (32, 8, 128, 32),  # Mistral-7B
    "gpt-oss": (64, 8, 64, 64),  # gpt-oss
    "gemma3": (16, 8, 256, 16),  # Gemma-3
    "seed": (32, 4, 128, 8),  # the aiter sliding-window PR's 9216 / 8192 case
}
CTXS = [1024, 4096, 8192, 16384, 65536, 131072]  # 8K: the baseline of the 128K-vs-8K target
WINDOWS = [0, 128, 1024, 4096, 8192]
TARGETS = """targets (H100 / H200):
  mistral, window 4096, ctx 16K: >= 80% of copy bandwidth          -> {mistral_pct}
  window 4096: time at 128K within 10% of time at 8K (mistral)    -> 8K {t8k} us, 128K {t128k} us ({ratio})
  gpt-oss, window 128, batch 64: <= 20 us per call                 -> {gptoss}
  faster than FlexAttention wherever it ran                        -> {flex}"""


def copy_bandwidth_tbs(dev) -> float:
    """Device-to-device copy of 2 GiB; bytes read plus bytes written per second."""
    x = torch.empty(2**29, dtype=torch.float32, device=dev)
    y = torch.empty_like(x)
    ms = median_ms(lambda: y.copy_(x), 3, 20)
    return 2 * x.numel() * 4 / ms / 1e9


class Inputs:
    """One rotating set of paged inputs; all sequences have context ``ctx``; the block table (and the
    workspace) hold ``capacity`` tokens when that is larger (an engine sizes them for its longest context)."""

    def __init__(self, h, kvh, d, batch, ctx, window, bs, dtype, dev, kv_dtype="auto", mtp=1, soft_cap=0.0,
                 workspace="aiter", capacity=0):
        # the first key any query row attends (row i of mtp sits at ctx - mtp + i)
        lo = max(0, ctx - window - mtp + 1) if window > 0 else 0
        first, end = lo // bs, -(-ctx // bs)
        per_seq = end - first
        self.k = torch.randn(1 + batch * per_seq, kvh, bs, d, dtype=dtype, device=dev)
        self.v = torch.randn_like(self.k)
        self.fp8 = kv_dtype != "auto"
        self.k_scale = torch.tensor([0.37], device=dev)
        self.v_scale = torch.tensor([2.5], device=dev)
        if self.fp8:
            self.k, self.v = (self.k / self.k_scale).to(FP8[kv_dtype]), (self.v / self.v_scale).to(FP8[kv_dtype])
        self.bt = torch.zeros(batch, max(end, -(-capacity // bs)), dtype=torch.int32, device=dev)  # 0: the null block
        self.bt[:, first:end] = 1 + torch.randperm(batch * per_seq, device=dev, dtype=torch.int32).view(batch, per_seq)
        self.q = torch.randn(batch * mtp, h, d, dtype=dtype, device=dev)
        self.out = torch.empty_like(self.q)
        self.cl = torch.full((batch,), ctx, dtype=torch.int32, device=dev)
        # workspace "aiter": ceil(ctx / 256) partitions, as aiter and vLLM's ROCm aiter backend size it (the
        # matrix-core kernel splits a small batch into more partitions with it); "window": the least the op
        # takes (get_workspace_size with the window)
        ws_window = window if workspace == "window" else 0
        self.ws = torch.empty(aiter_swa.get_workspace_size(batch, h, d, max(ctx, capacity), dtype, ws_window, P, mtp),
                              dtype=torch.uint8, device=dev)  # fmt: skip
        self.lo, self.ctx, self.window, self.scale, self.mtp = lo, ctx, window, d**-0.5, mtp
        self.call = PaV1Call(
            out=self.out, workspace_buffer=self.ws, query=self.q, key_cache=self.k, value_cache=self.v,
            scale=self.scale, block_tables=self.bt, cu_query_lens=None, context_lens=self.cl, max_context_len=ctx,
            alibi_slopes=None, kv_cache_dtype="fp8" if self.fp8 else "auto", kv_cache_layout="HND",
            logits_soft_cap=soft_cap, k_scale=self.k_scale, v_scale=self.v_scale, partition_size=P, sliding_window=window,
            mtp=mtp,
        )  # fmt: skip
        self.args = self.call.args()

    def share_metadata(self, other: "Inputs") -> None:
        """Take ``other``'s block table, context lengths and workspace (same shapes), keeping this set's caches,
        query and output: as the layers of one decode step share those and have caches of their own."""
        self.bt, self.cl, self.ws = other.bt, other.cl, other.ws
        self.call = dataclasses.replace(self.call, block_tables=other.bt, context_lens=other.cl,
                                        workspace_buffer=other.ws)
        self.args = self.call.args()

    def ours(self):
        torch.ops.aiter_swa.paged_attention_v1(*self.args)

    def torch_gather_sdpa(self, pos, blk_col, off):
        k = self.k[self.bt[:, blk_col].long(), :, off]  # [batch, n, kvh, d]
        v = self.v[self.bt[:, blk_col].long(), :, off]
        if self.fp8:
            k, v = (k.float() * self.k_scale).to(self.q.dtype), (v.float() * self.v_scale).to(self.q.dtype)
        return F.scaled_dot_product_attention(
            self.q[:, :, None], k.transpose(1, 2), v.transpose(1, 2), scale=self.scale, enable_gqa=True
        )


def must_read_bytes(h, kvh, d, batch, ctx, window, bs, elt, kv_elt=None, mtp=1) -> int:
    span = min(ctx, window + mtp - 1) if window > 0 else ctx
    kv = batch * kvh * span * d * (kv_elt or elt) * 2
    qo = 2 * batch * mtp * h * d * elt
    bt = batch * (-(-span // bs) + 1) * 4
    return kv + qo + bt


def bench_flex(inp: Inputs, h, kvh, d, batch, ctx, window, dev, warmup, reps):
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention

    # Dense [batch, kvh, ctx, d] K/V: the window's tokens copied from the paged cache, the rest random.
    kd = torch.randn(batch, kvh, ctx, d, dtype=inp.k.dtype, device=dev)
    vd = torch.randn_like(kd)
    # The window's first key as a tensor, not a Python int: dynamo then guards on its metadata
    # only, and one compiled kernel per model shape serves every window (no recompile limit hit).
    lo = torch.tensor(inp.lo, device=dev)

    def mask_mod(b, hh, q_idx, kv_idx):  # the query sits at position ctx - 1
        return (kv_idx >= lo) & (kv_idx < ctx)

    mask = create_block_mask(mask_mod, None, None, 1, ctx, device=dev)
    fn = torch.compile(flex_attention, dynamic=False)
    q = inp.q[:, :, None]
    return median_ms(lambda: fn(q, kd, vd, block_mask=mask, scale=inp.scale, enable_gqa=True), warmup, reps)


# issue 8's rows: (label, model, batch, ctx, window, mtp); window 0 = off
ISSUE8_ROWS = [
    ("mistral B32 16K w4096", "mistral", 32, 16384, 4096, 1),
    ("mistral B32 128K w4096", "mistral", 32, 131072, 4096, 1),
    ("mistral B1 32K w4096", "mistral", 1, 32768, 4096, 1),
    ("gpt-oss B64 16K w128", "gpt-oss", 64, 16384, 128, 1),
    ("gpt-oss B64 16K w4096", "gpt-oss", 64, 16384, 4096, 1),
    ("gemma3 B16 16K w1024", "gemma3", 16, 16384, 1024, 1),
    ("seed B8 9216 w8192", "seed", 8, 9216, 8192, 1),
    ("mistral B32 16K off", "mistral", 32, 16384, 0, 1),
    ("mistral B32 16K w4096 mtp2", "mistral", 32, 16384, 4096, 2),
    ("mistral B32 16K w4096 mtp4", "mistral", 32, 16384, 4096, 4),
    ("mistral B32 16K w4096 mtp8", "mistral", 32, 16384, 4096, 8),
    ("gpt-oss B64 16K w4096 mtp2", "gpt-oss", 64, 16384, 4096, 2),
    ("gpt-oss B64 16K w4096 mtp4", "gpt-oss", 64, 16384, 4096, 4),
    ("gpt-oss B64 16K w128 mtp4", "gpt-oss", 64, 16384, 128, 4),
]


def issue8_flashinfer_modules(rows=ISSUE8_ROWS, soft_cap=0.0) -> set:
    """The FlashInfer modules ``rows`` plan: ``{(kind, head_dim, window_on, soft_cap_on)}``."""
    from peers import flashinfer_modules_needed

    shapes = [(*MODELS[m][:3], w, mtp) for _, m, _, _, w, mtp in rows]
    return flashinfer_modules_needed(shapes, soft_cap)


def capture(fns, calls) -> "torch.cuda.CUDAGraph":
    """One graph of ``calls`` calls of ``fns`` in turn (one per rotating set), each run once before the capture."""
    for f in fns:
        f()  # compile (first time) and warm up outside the capture
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for i in range(calls):
            fns[i % len(fns)]()
    return graph


def graph_ms(fns, calls, reps) -> float:
    """Per-call time of ``fns`` (one per rotating set), replayed from one graph of ``calls`` calls, as for ours."""
    graph = capture(fns, calls)
    t = median_ms(graph.replay, 3, reps) / calls
    del graph
    return t


def short_kernel_name(name: str) -> str:
    """A kernel's name without ``void``, namespaces, template arguments or parameters."""
    name = re.sub(r"^void ", "", name)
    return re.split(r"[<(]", name, maxsplit=1)[0].strip().split("::")[-1]


def summarize_kernels(records, calls: int) -> list[tuple[str, float, float, str]]:
    """``records``: (kernel name, duration in µs, launch shape) of every kernel that replays making ``calls`` op
    calls ran. Returns, per kernel name in order of first appearance: (short name, launches per op call, mean µs
    per launch, the launch shape of its first record)."""
    acc: dict[str, list] = {}
    for name, us, shape in records:
        a = acc.setdefault(name, [0, 0.0, shape])
        a[0] += 1
        a[1] += us
    return [(short_kernel_name(n), c / calls, tot / c, shape) for n, (c, tot, shape) in acc.items()]


def launch_shape(args: dict) -> str:
    """A kernel record's launch from its Chrome-trace ``args`` (Kineto's CUPTI fields): grid, block, and the
    blocks per SM the occupancy calculator allows."""
    grid, block = args.get("grid"), args.get("block")
    if grid is None or block is None:
        return ""
    dims = lambda d: "x".join(str(v) for v in d)  # noqa: E731
    per_sm = args.get("blocks per SM")
    return f"grid {dims(grid)} block {dims(block)}" + (f" {per_sm:g}/SM" if isinstance(per_sm, (int, float)) else "")


def graph_kernels(fns, calls, replays=5) -> list[tuple[str, float, float, str]]:
    """The GPU kernels of a graph captured as :func:`graph_ms` captures its own (``summarize_kernels``), from
    ``torch.profiler``'s CUPTI kernel records of ``replays`` replays (its Chrome trace: each record's duration, grid and block). A record
    spans the kernel's execution on the GPU; a programmatic dependent launch (ours on sm_90, FlashInfer's with PDL)
    starts before its predecessor ends and waits, so its record includes that wait, and the records of one call
    can add up to more than the call's time."""
    graph = capture(fns, calls)
    graph.replay()
    torch.cuda.synchronize()
    with warnings.catch_warnings():  # "Profiler clears events at the end of each cycle": one cycle here
        warnings.filterwarnings("ignore", message=".*Profiler clears events")
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
            for _ in range(replays):
                graph.replay()
            torch.cuda.synchronize()
    del graph
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "trace.json")
        prof.export_chrome_trace(path)
        with open(path) as f:
            events = json.load(f)["traceEvents"]
    return summarize_kernels(kernel_records(events), replays * calls)


def kernel_records(trace_events) -> list[tuple[str, float, str]]:
    """(name, duration in µs, launch shape) of the GPU kernels among a Chrome trace's events (category
    ``kernel``; the host's ``cpu_op`` and runtime events are left out)."""
    return [(e["name"], float(e["dur"]), launch_shape(e.get("args", {}))) for e in trace_events
            if e.get("cat") == "kernel"]  # fmt: skip


def kernels_line(col: str, label: str, kernels, call_ms: float) -> str:
    """``--kernels``' line for one column of one row: each kernel's launches per call and µs per launch, their sum
    per call, and the call's time from the timed replays."""
    parts = "; ".join(f"{n} {per:.2f}/call {us:.2f} us" + (f" ({shape})" if shape else "")
                      for n, per, us, shape in kernels)  # fmt: skip
    total = sum(per * us for _, per, us, _ in kernels)
    return f"#   kernels {col} at {label}: {parts}; sum {total:.2f} us per call (timed: {call_ms * 1e3:.2f})"


def issue8(args, dev, dtype, copy_bw, l2) -> int:
    import peers

    rows = [r for r in ISSUE8_ROWS if not args.rows or r[0] in args.rows]
    avail = {}
    if not args.no_peers:
        fi, fi_why = peers.import_flashinfer()
        ua, ua_why = peers.import_vllm_unified()
        avail = {"fi_tc": (fi, fi_why), "fi_cuda": (fi, fi_why), "vllm": (ua, ua_why)}
        for col, (mod, why) in avail.items():
            print(f"# {col}: " + (f"n/a ({why})" if mod is None else f"{getattr(mod, '__module__', mod.__name__)}"))
        if fi is not None:
            print(f"# flashinfer {fi.__version__}, FLASHINFER_DISABLE_JIT={os.environ.get('FLASHINFER_DISABLE_JIT', '')}")
    hdr = (f"{'row':28} {'ours us':>9} {'fi_tc us':>9} {'fi_cuda us':>10} {'vllm us':>12} {'ours %cp':>8} "
           f"{'fi_tc %cp':>9} {'ours/best':>9}")  # fmt: skip
    print(hdr)
    res = {}
    for label, model, batch, ctx, window, mtp in rows:
        h, kvh, d, _ = MODELS[model]
        bs = args.block_size[0]
        set_bytes = must_read_bytes(h, kvh, d, batch, ctx, window, bs, dtype.itemsize, mtp=mtp)
        nsets = max(1, min(8, math.ceil(4 * l2 / set_bytes)))
        try:
            sets = [Inputs(h, kvh, d, batch, ctx, window, bs, dtype, dev, mtp=mtp, soft_cap=args.soft_cap,
                           workspace=args.workspace)
                    for _ in range(nsets)]  # fmt: skip
        except torch.OutOfMemoryError:
            print(f"{label:28}  (inputs do not fit in GPU memory)")
            continue
        if args.shared_metadata:
            for s in sets[1:]:
                s.share_metadata(sets[0])
        t, note = {}, {}
        try:
            t["ours"] = graph_ms([s.ours for s in sets], args.calls, args.reps)
            if args.kernels:
                print(kernels_line("ours", label, graph_kernels([s.ours for s in sets], args.calls), t["ours"]))
            ref, ref_name = sets[0].out.clone(), "ours"
            ok, err = peers.compare(ref, peers.reference_fp32(sets[0], mtp, window, args.soft_cap))
            if not ok:
                print(f"#   MISMATCH ours vs float32 reference at {label}: max abs err {err:.3g}")
                note["ours"] = "!"
        except Exception as e:  # noqa: BLE001  (e.g. mtp > 1 before the matrix-core kernel)
            print(f"#   ours at {label}: n/a ({type(e).__name__}: {str(e)[:100]})")
            ref, ref_name = peers.reference_fp32(sets[0], mtp, window, args.soft_cap), "float32 reference"
        for col, (mod, why) in avail.items():
            if mod is None:
                continue
            try:
                if col == "vllm":
                    runs = [peers.VllmUnified(mod, s, mtp=mtp, window=window, soft_cap=args.soft_cap) for s in sets]
                    note[col] = " " + runs[0].mode
                else:
                    runs = [peers.FlashInferDecode(mod, s, tensor_cores=col == "fi_tc", mtp=mtp, window=window,
                                                   soft_cap=args.soft_cap) for s in sets]  # fmt: skip
                    if getattr(runs[0], "backend", None) not in (None, "fa2"):
                        print(f"#   {col} at {label}: FlashInfer resolved backend {runs[0].backend!r}")
                runs[0]()
                torch.cuda.synchronize()
                ok, err = peers.compare(runs[0].out, ref)
                if not ok:
                    print(f"#   MISMATCH {col} vs {ref_name} at {label}: max abs err {err:.3g} (timed anyway, marked !)")
                    note[col] = "!" + note.get(col, "")
                t[col] = graph_ms(runs, args.calls, args.reps)
                if args.kernels:
                    print(kernels_line(col, label, graph_kernels(runs, args.calls), t[col]))
            except Exception as e:  # noqa: BLE001  (a peer that cannot run this row: n/a with the reason)
                print(f"#   {col} at {label}: n/a ({type(e).__name__}: {str(e)[:100]})")
            finally:
                runs = None
        del sets
        torch.cuda.empty_cache()
        pct = {k: 100 * set_bytes / v / 1e9 / copy_bw for k, v in t.items()}
        peer_t = [v for k, v in t.items() if k != "ours" and not note.get(k, "").startswith("!")]
        best = min(peer_t) if peer_t else float("nan")
        res[label] = (t, pct)

        def cell(k, w):
            return f"{t[k] * 1e3:.1f}{note.get(k, '')}".rjust(w) if k in t else "n/a".rjust(w)

        ratio = t["ours"] / best if "ours" in t and peer_t else float("nan")
        print(f"{label:28} {cell('ours', 9)} {cell('fi_tc', 9)} {cell('fi_cuda', 10)} {cell('vllm', 12)} "
              f"{pct.get('ours', float('nan')):7.0f}% {pct.get('fi_tc', float('nan')):8.0f}% {ratio:9.2f}", flush=True)  # fmt: skip
    print(issue8_targets(res))
    return 0


def issue8_targets(res) -> str:
    """Issue 8's targets, measured next to target (``res``: label -> ({column: ms}, {column: % copy}))."""

    def us(label, col="ours"):
        return res[label][0][col] * 1e3 if label in res and col in res[label][0] else float("nan")

    def pct(label):
        return res[label][1].get("ours", float("nan")) if label in res else float("nan")

    def verdict(ok):
        return "met" if ok else "MISSED"

    out = ["issue 8 targets (this run):"]
    for label, *_rest, mtp in ISSUE8_ROWS:
        if mtp != 1 or label not in res:
            continue
        o, f = us(label), us(label, "fi_tc")
        if o == o and f == f:
            out.append(f"  {label:26} ours {o:7.1f} us <= FlashInfer TC {f:7.1f} us: {verdict(o <= f)} ({o / f:.2f}x)")
        else:
            out.append(f"  {label:26} ours {o:7.1f} us vs FlashInfer TC: not measured")
    for label, want in (("mistral B32 16K w4096", 90), ("gpt-oss B64 16K w4096", 85)):
        p = pct(label)
        out.append(f"  {label:26} {p:5.0f}% of copy bandwidth >= {want}%: " + (verdict(p >= want) if p == p else "not measured"))
    for label in ("mistral B1 32K w4096", "gpt-oss B64 16K w128"):
        o = us(label)
        out.append(f"  {label:26} {o:7.1f} us <= 10 us: " + (verdict(o <= 10) if o == o else "not measured"))
    for base in ("mistral B32 16K w4096", "gpt-oss B64 16K w4096"):
        o1, o4 = us(base), us(base + " mtp4")
        r = o4 / o1
        out.append(f"  {base + ' mtp4':26} {r:5.2f}x mtp1 <= 1.3x: " + (verdict(r <= 1.3) if r == r else "not measured"))
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--ctx", nargs="+", type=int, default=CTXS)
    ap.add_argument("--windows", nargs="+", type=int, default=WINDOWS, help="0 = window off")
    ap.add_argument("--flex-ctx", nargs="*", type=int, default=[16384], help="contexts where FlexAttention runs (it compiles once per shape)")
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16"])
    ap.add_argument("--block-size", type=int, nargs="+", default=[16])
    ap.add_argument("--kv-dtype", nargs="+", default=["auto"], choices=["auto", *FP8],
                    help="KV cache: the query's dtype, or fp8 (scales 0.37 / 2.5)")
    ap.add_argument("--calls", type=int, default=20, help="op calls per graph replay")
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--no-hold", action="store_true",
                    help="time without holding the stream before the start event (the host's submission counted)")
    ap.add_argument("--issue8", action="store_true", help="issue 8's rows with the peer columns (see above)")
    ap.add_argument("--rows", nargs="+", default=None, metavar="LABEL", help="--issue8: only these rows (labels as printed)")
    ap.add_argument("--no-peers", action="store_true", help="--issue8: ours only")
    ap.add_argument("--kernels", action="store_true",
                    help="--issue8: after each column's timing, its graph's kernels under torch.profiler "
                    "(launches per call, µs per launch, grid, block, blocks per SM)")
    ap.add_argument("--shared-metadata", action="store_true",
                    help="--issue8 --no-peers: the rotating sets share one block table, context lengths and workspace "
                         "(as a decode step's layers do; each keeps its own caches, query and output)")
    ap.add_argument("--soft-cap", type=float, default=0.0, help="--issue8: logits soft cap for every column (0: off)")
    ap.add_argument("--dry-run", action="store_true", help="--issue8: print the rows and the FlashInfer modules they need")
    ap.add_argument("--workspace", default="aiter", choices=["aiter", "window"],
                    help="workspace_buffer's size: aiter's (ceil(ctx / 256) partitions, as aiter and vLLM's ROCm aiter "
                         "backend size it) or the least the op takes (get_workspace_size with the window)")
    ap.add_argument("--kernel", default="auto", choices=["auto", "vector", "mma"],
                    help="which decode kernel serves the op (AITER_SWA_PA_KERNEL; auto: the dispatch's rule)")
    ap.add_argument("--capacity", type=int, default=0,
                    help="tokens the block table and the workspace hold, when more than the context (0: the context)")
    args = ap.parse_args(argv)
    if args.shared_metadata and not (args.issue8 and args.no_peers):
        ap.error("--shared-metadata times ours only: use it with --issue8 --no-peers")
    if args.kernels and not args.issue8:
        ap.error("--kernels profiles issue 8's columns: use it with --issue8")
    global HOLD
    HOLD = not args.no_hold
    from aiter_swa.ops.pa_v1 import gpu as pa_gpu

    pa_gpu.set_kernel(args.kernel)
    if args.issue8 and args.dry_run:
        for label, model, batch, ctx, window, mtp in ISSUE8_ROWS:
            if not args.rows or label in args.rows:
                print(f"{label:28} {model:8} batch {batch:3} ctx {ctx:6} window {window:5} mtp {mtp}")
        for kind, d, swa, cap in sorted(issue8_flashinfer_modules(soft_cap=args.soft_cap)):
            print(f"flashinfer module: {kind:4} head_dim {d:3} window {'on' if swa else 'off'} soft_cap {'on' if cap else 'off'}")
        return 0
    if not torch.cuda.is_available():
        print("bench_pa_v1_swa: no GPU visible to torch; nothing to measure", file=sys.stderr)
        return 2
    dev = torch.device("cuda")
    torch._dynamo.config.recompile_limit = 64  # flex: one compile per (model, context) shape
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[args.dtype]
    props = torch.cuda.get_device_properties(dev)
    l2 = getattr(props, "L2_cache_size", 64 << 20)
    copy_bw = copy_bandwidth_tbs(dev)
    print(f"# device: {props.name}, torch {torch.__version__}, dtype {args.dtype}, "
          f"block size {' '.join(map(str, args.block_size))}, KV {' '.join(args.kv_dtype)}, kernel {args.kernel}, "
          f"{args.calls} calls per graph, stream {'held' if HOLD else 'not held'} before each timed run")
    print(f"# copy bandwidth (read + write): {copy_bw:.2f} TB/s; L2 {l2 >> 20} MiB")
    if args.issue8:
        return issue8(args, dev, dtype, copy_bw, l2)
    hdr = (f"{'model':8} {'N_CTX':>7} {'WINDOW':>6} {'block':>5} {'KV':>11} {'torch ms':>9} {'flex ms':>8} {'ours ms':>8} "
           f"{'ours TB/s':>9} {'% copy':>6} {'vs torch':>8}")
    print(hdr)
    results = {}
    for model, ctx, window, bs, kvd in itertools.product(
        args.models, args.ctx, args.windows, args.block_size, args.kv_dtype
    ):
        h, kvh, d, batch = MODELS[model]
        kv_elt = 1 if kvd in FP8 else dtype.itemsize
        set_bytes = must_read_bytes(h, kvh, d, batch, ctx, window, bs, dtype.itemsize, kv_elt)
        nsets = max(1, min(8, math.ceil(4 * l2 / set_bytes)))
        try:
            sets = [Inputs(h, kvh, d, batch, ctx, window, bs, dtype, dev, kvd, workspace=args.workspace,
                           capacity=args.capacity)
                    for _ in range(nsets)]
        except torch.OutOfMemoryError:
            print(f"{model:8} {ctx:7} {window:6} {bs:5} {kvd:>11}  (inputs do not fit in GPU memory)")
            continue
        calls = args.calls
        graph = torch.cuda.CUDAGraph()
        for s in sets:
            s.ours()  # compile (first time) and warm up outside the capture
        torch.cuda.synchronize()
        with torch.cuda.graph(graph):
            for i in range(calls):
                sets[i % nsets].ours()
        ours = median_ms(graph.replay, 3, args.reps) / calls
        inp = sets[0]
        pos = torch.arange(inp.lo, ctx, device=dev)
        blk_col, off = pos // bs, pos % bs
        try:
            t_torch = median_ms(lambda: inp.torch_gather_sdpa(pos, blk_col, off), 2, 5)
        except torch.OutOfMemoryError:
            t_torch = float("nan")
        t_flex = float("nan")
        if ctx in args.flex_ctx:
            try:
                t_flex = bench_flex(inp, h, kvh, d, batch, ctx, window, dev, 3, 10)
            except Exception as e:  # noqa: BLE001  (report, keep benchmarking)
                print(f"#   flex failed at {model} {ctx} {window}: {type(e).__name__}: {str(e)[:120]}")
        del sets, graph
        torch.cuda.empty_cache()
        tbs = set_bytes / ours / 1e9
        if bs == args.block_size[0] and kvd == args.kv_dtype[0]:  # the targets' rows
            results[(model, ctx, window)] = (t_torch, t_flex, ours, tbs)
        fmt = lambda t: "-" if math.isnan(t) else f"{t:.4f}"  # noqa: E731
        print(
            f"{model:8} {ctx:7} {window or 'off':>6} {bs:5} {kvd:>11} {fmt(t_torch):>9} {fmt(t_flex):>8} "
            f"{ours:8.4f} {tbs:9.2f} {100 * tbs / copy_bw:5.0f}% {t_torch / ours:7.1f}x",
            flush=True,
        )

    def get(key, i):
        return results[key][i] if key in results else float("nan")

    t8k = get(("mistral", 8192, 4096), 2) * 1e3
    t128k = get(("mistral", 131072, 4096), 2) * 1e3
    flex_rows = [(k, r) for k, r in results.items() if not math.isnan(r[1])]
    flex_wins = sum(r[2] < r[1] for _, r in flex_rows)
    gptoss = [r[2] * 1e3 for (m, c, w), r in results.items() if m == "gpt-oss" and w == 128]
    print(
        TARGETS.format(
            mistral_pct=f"{100 * get(('mistral', 16384, 4096), 3) / copy_bw:.0f}%",
            t8k=f"{t8k:.1f}",
            t128k=f"{t128k:.1f}",
            ratio=f"{t128k / t8k:.3f}x" if t8k == t8k and t128k == t128k else "not measured",
            gptoss=f"{min(gptoss):.1f} to {max(gptoss):.1f} us" if gptoss else "not measured",
            flex=f"faster at {flex_wins} of {len(flex_rows)} shapes" if flex_rows else "flex did not run",
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
