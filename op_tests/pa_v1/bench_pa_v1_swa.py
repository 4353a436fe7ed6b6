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
keys and values first). Times are device-event medians after warm-up; the inputs rotate over enough
sets to exceed the L2 cache several times. Keys outside the window live in no physical block: their
block-table entries point at one null block, as serving engines do with freed blocks.

    python op_tests/pa_v1/bench_pa_v1_swa.py                 # the whole table
    python op_tests/pa_v1/bench_pa_v1_swa.py --models mistral --ctx 16384 --windows 4096
    python op_tests/pa_v1/bench_pa_v1_swa.py --block-size 16 32 --kv-dtype auto fp8e4m3fn fp8e4m3fnuz
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

import aiter_swa
from aiter_swa.ops.pa_v1.call import PaV1Call

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # op_tests, for testlib
from testlib.pa_v1 import cuda_median_ms as median_ms  # noqa: E402

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
    """One rotating set of paged inputs; all sequences have context ``ctx``."""

    def __init__(self, h, kvh, d, batch, ctx, window, bs, dtype, dev, kv_dtype="auto"):
        lo = max(0, ctx - window) if window > 0 else 0
        first, end = lo // bs, -(-ctx // bs)
        per_seq = end - first
        self.k = torch.randn(1 + batch * per_seq, kvh, bs, d, dtype=dtype, device=dev)
        self.v = torch.randn_like(self.k)
        self.fp8 = kv_dtype != "auto"
        self.k_scale = torch.tensor([0.37], device=dev)
        self.v_scale = torch.tensor([2.5], device=dev)
        if self.fp8:
            self.k, self.v = (self.k / self.k_scale).to(FP8[kv_dtype]), (self.v / self.v_scale).to(FP8[kv_dtype])
        self.bt = torch.zeros(batch, end, dtype=torch.int32, device=dev)  # 0: the null block
        self.bt[:, first:end] = 1 + torch.randperm(batch * per_seq, device=dev, dtype=torch.int32).view(batch, per_seq)
        self.q = torch.randn(batch, h, d, dtype=dtype, device=dev)
        self.out = torch.empty_like(self.q)
        self.cl = torch.full((batch,), ctx, dtype=torch.int32, device=dev)
        self.ws = torch.empty(aiter_swa.get_workspace_size(batch, h, d, ctx, dtype, window), dtype=torch.uint8, device=dev)
        self.lo, self.ctx, self.window, self.scale = lo, ctx, window, d**-0.5
        self.args = PaV1Call(
            out=self.out, workspace_buffer=self.ws, query=self.q, key_cache=self.k, value_cache=self.v,
            scale=self.scale, block_tables=self.bt, cu_query_lens=None, context_lens=self.cl, max_context_len=ctx,
            alibi_slopes=None, kv_cache_dtype="fp8" if self.fp8 else "auto", kv_cache_layout="HND",
            logits_soft_cap=0.0, k_scale=self.k_scale, v_scale=self.v_scale, partition_size=P, sliding_window=window,
        ).args()  # fmt: skip

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


def must_read_bytes(h, kvh, d, batch, ctx, window, bs, elt, kv_elt=None) -> int:
    span = min(ctx, window) if window > 0 else ctx
    kv = batch * kvh * span * d * (kv_elt or elt) * 2
    qo = 2 * batch * h * d * elt
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
    args = ap.parse_args(argv)
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
          f"block size {' '.join(map(str, args.block_size))}, KV {' '.join(args.kv_dtype)}")
    print(f"# copy bandwidth (read + write): {copy_bw:.2f} TB/s; L2 {l2 >> 20} MiB")
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
            sets = [Inputs(h, kvh, d, batch, ctx, window, bs, dtype, dev, kvd) for _ in range(nsets)]
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
