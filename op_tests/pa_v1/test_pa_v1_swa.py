"""Correctness of ``torch.ops.aiter_swa.paged_attention_v1`` against the float64 reference.

Runs on the GPU when torch sees one, else on the CPU path. The grid is the one of aiter's
sliding-window pull request (ROCm/aiter#3297, ``op_tests/test_pa_v1_swa.py``): 792 cases, opt-in
with ``-m full_grid`` or ``AITER_SWA_FULL_GRID=1``; by default a 44-case cover of it runs (every
(ctx, window) pair in both dtypes, every value of the other parameters). Every input has NaN in
every cache slot that is not an attended key, and ``out`` starts as NaN.

CLI mode (one configuration; prints errors and time per call, exits 1 above tolerance)::

    python op_tests/pa_v1/test_pa_v1_swa.py --ctx 9216 --window 8192 --num_seqs 8 [--dtype fp16] [--device cpu]
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
import time
import zlib
from pathlib import Path

import pytest
import torch

from aiter_swa.jit import toolchain
from aiter_swa.ops.pa_v1.call import kv_element_dtype
from aiter_swa.ops.pa_v1.spec import FNUZ_ARCHS, MAX_GQA_RATIO, SUPPORTED_HEAD_SIZES

if __name__ == "__main__":  # CLI mode: op_tests (for testlib) is on sys.path under pytest, not here
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from testlib.pa_v1 import (
    DTYPES, FP8, NULL_BLOCK, assert_matches_reference, cuda_median_ms, error_metrics, make_case, mismatch, run_op,
)  # fmt: skip

# ---------------------------------------------------------------- the aiter grid
GRID_DTYPES = ("bf16", "fp16")
GRID_NUM_SEQS = (1, 8, 16)
GRID_HEADS = ((8, 1), (16, 4), (32, 4))  # (num_heads, num_kv_heads)
GRID_HEAD_SIZES = (64, 128)
GRID_BLOCK_SIZES = (16, 32)
#: (ctx, window): window > ctx, window == ctx, ctx == window + 1, ctx >> window, no window (-1).
GRID_CTX_WINDOW = (
    (128, 512), (512, 512), (513, 512), (768, 512), (2048, 512), (2048, 1024),
    (4097, 2048), (9216, 8192), (256, 4096), (1024, -1), (4096, -1),
)  # fmt: skip
_OTHERS = list(itertools.product(GRID_NUM_SEQS, GRID_HEADS, GRID_HEAD_SIZES, GRID_BLOCK_SIZES))


def _grid_case(dtype, num_seqs, heads, head_size, block_size, ctx_window):
    case_id = (
        f"{dtype}-n{num_seqs}-h{heads[0]}x{heads[1]}-d{head_size}-b{block_size}-ctx{ctx_window[0]}-w{ctx_window[1]}"
    )
    return pytest.param(dtype, num_seqs, heads, head_size, block_size, *ctx_window, id=case_id)


FULL_GRID = [
    _grid_case(dt, n, h, d, b, cw)
    for dt, n, h, d, b, cw in itertools.product(GRID_DTYPES, GRID_NUM_SEQS, GRID_HEADS, GRID_HEAD_SIZES, GRID_BLOCK_SIZES, GRID_CTX_WINDOW)
]  # fmt: skip
#: Pair k of (ctx, window) x dtype takes combinations 7k and 7k + 18 (mod 36) of the other
#: parameters: 44 cases in which every value of every parameter shows up.
DEFAULT_GRID = [
    _grid_case(dt, *_OTHERS[(7 * k + shift) % len(_OTHERS)], cw)
    for k, (cw, dt) in enumerate(itertools.product(GRID_CTX_WINDOW, GRID_DTYPES))
    for shift in (0, 18)
]
_GRID_ARGS = "dtype,num_seqs,heads,head_size,block_size,ctx,window"


def seed_of(request) -> int:
    """A per-case seed: fresh inputs for every case, reproducible from its id."""
    return zlib.crc32(request.node.name.encode())


def _check_grid_case(device, seed, dtype, num_seqs, heads, head_size, block_size, ctx, window):
    case = make_case(
        num_seqs=num_seqs, num_heads=heads[0], num_kv_heads=heads[1], head_size=head_size,
        block_size=block_size, context_lens=ctx, sliding_window=window, dtype=DTYPES[dtype],
        device=device, kv_cache_layout="NHD", seed=seed,
    )  # fmt: skip
    assert_matches_reference(run_op(case), case.reference())


@pytest.mark.parametrize(_GRID_ARGS, DEFAULT_GRID)
def test_grid(request, device, dtype, num_seqs, heads, head_size, block_size, ctx, window):
    _check_grid_case(device, seed_of(request), dtype, num_seqs, heads, head_size, block_size, ctx, window)


@pytest.mark.full_grid
@pytest.mark.parametrize(_GRID_ARGS, FULL_GRID)
def test_full_grid(request, device, dtype, num_seqs, heads, head_size, block_size, ctx, window):
    _check_grid_case(device, seed_of(request), dtype, num_seqs, heads, head_size, block_size, ctx, window)


# ---------------------------------------------------------------- beyond the grid
def _check(request, device, **kw):
    kw = {
        "num_seqs": 3,
        "num_heads": 8,
        "num_kv_heads": 2,
        "head_size": 64,
        "block_size": 16,
        "dtype": torch.bfloat16,
        **kw,
    }
    case = make_case(device=device, seed=seed_of(request), **kw)
    out = run_op(case)
    assert_matches_reference(out, case.reference())
    return case, out


@pytest.mark.parametrize("layout", ["HND", "NHD"])
@pytest.mark.parametrize("dtype", ["bf16", "fp16"])
@pytest.mark.parametrize("window", [1, 255, 256, 257])
def test_window_around_partition_size(request, device, window, dtype, layout):
    lens = [1, 255, 256, 257, 512, 700]
    _check(
        request,
        device,
        num_seqs=len(lens),
        context_lens=lens,
        sliding_window=window,
        dtype=DTYPES[dtype],
        kv_cache_layout=layout,
    )


@pytest.mark.parametrize("layout", ["HND", "NHD"])
@pytest.mark.parametrize("window", [0, 40, 300])
@pytest.mark.parametrize("block_size", [16, 32])
def test_mixed_context_lens(request, device, block_size, window, layout):
    lens = [0, 1, 15, 16, 17, 33, 300, 301, 1000, 0]
    _check(
        request,
        device,
        num_seqs=len(lens),
        context_lens=lens,
        sliding_window=window,
        block_size=block_size,
        kv_cache_layout=layout,
    )


def test_all_contexts_empty(request, device):
    case, out = _check(request, device, context_lens=0, sliding_window=16)
    assert torch.equal(out, torch.zeros_like(out))


@pytest.mark.parametrize("layout", ["HND", "NHD"])
def test_soft_cap_with_window(request, device, layout):
    """Cap 5 with logits of a few units (scale 1): capping and masking order both show."""
    lens = [5, 200, 777]
    case, out = _check(
        request,
        device,
        num_seqs=3,
        context_lens=lens,
        sliding_window=100,
        logits_soft_cap=5.0,
        scale=1.0,
        kv_cache_layout=layout,
    )
    case.logits_soft_cap = 0.0
    assert mismatch(out, case.reference()) is not None, "the soft cap made no difference: the test is blind"


@pytest.mark.parametrize("layout", ["HND", "NHD"])
@pytest.mark.parametrize("window", [0, 64])
def test_alibi(request, device, window, layout):
    _check(request, device, context_lens=[3, 100, 600], sliding_window=window, alibi=True, kv_cache_layout=layout)


@pytest.mark.parametrize("layout", ["HND", "NHD"])
def test_soft_cap_alibi_window_fp16(request, device, layout):
    _check(
        request,
        device,
        dtype=torch.float16,
        context_lens=[1, 129, 513],
        sliding_window=128,
        alibi=True,
        logits_soft_cap=5.0,
        scale=1.0,
        kv_cache_layout=layout,
    )


@pytest.mark.parametrize("layout", ["HND", "NHD"])
def test_kv_strided_views_of_one_tensor(request, device, layout):
    case, _ = _check(
        request, device, context_lens=[50, 300, 513], sliding_window=200, combined_kv=True, kv_cache_layout=layout
    )
    assert (
        not case.key_cache.is_contiguous()
        and case.key_cache.untyped_storage().data_ptr() == case.value_cache.untyped_storage().data_ptr()
    )


@pytest.mark.parametrize("layout", ["HND", "NHD"])
def test_nan_outside_window_is_not_read(request, device, layout):
    """Freed out-of-window blocks point at a NaN null block; partial blocks hold NaN past the keys."""
    case, out = _check(request, device, context_lens=[1000, 517, 40], sliding_window=300, kv_cache_layout=layout)
    assert case.key_cache[NULL_BLOCK].isnan().all() and case.value_cache[NULL_BLOCK].isnan().all()
    assert (case.block_tables[:2, :13] == NULL_BLOCK).all()  # blocks before the windows of seqs 0 and 1
    slots = case.key_cache.transpose(1, 2) if layout == "HND" else case.key_cache  # [blocks, block_size, kvh, d]
    attended_slots = (~slots.isnan()).all(-1).all(-1).sum().item()
    assert attended_slots == 300 + 300 + 40  # exactly the attended keys are finite
    assert out.isfinite().all()


@pytest.mark.parametrize("head_size", SUPPORTED_HEAD_SIZES)
def test_head_sizes(request, device, head_size):
    _check(request, device, head_size=head_size, context_lens=[1, 300, 600], sliding_window=257, kv_cache_layout="NHD")


@pytest.mark.parametrize("gqa", [1, 8, 16])
@pytest.mark.parametrize("head_size", [32, 512])
def test_smallest_and_largest_head_size(request, device, head_size, gqa):
    """Head size 32 (4 lanes per row) and 512 (64 lanes, or 2 vectors per lane on 32-lane wavefronts)
    at the GQA buckets 1, 8 and 16, one and several partitions, fp16 and ALiBi."""
    _check(request, device, head_size=head_size, num_heads=2 * gqa, num_kv_heads=2, num_seqs=4,
           context_lens=[0, 5, 256, 1100], sliding_window=700, dtype=torch.float16, alibi=True)


#: Block sizes of the serving engines: aiter's 1, 16, 32; 64 (some AMD parts); transformers' paged
#: cache's 256; vLLM's hybrid models' 272 and 544; and 8, 128.
BLOCK_SIZES = (1, 8, 16, 32, 64, 128, 256, 272, 544)


@pytest.mark.parametrize("layout", ["HND", "NHD"])
@pytest.mark.parametrize("window", [0, 300])
@pytest.mark.parametrize("block_size", BLOCK_SIZES)
def test_block_sizes(request, device, block_size, window, layout):
    """Any block size (a run-time value): contexts on both sides of block and partition boundaries."""
    lens = [0, 1, block_size - 1 or 1, block_size + 1, 257, 700, 1500]
    _check(request, device, num_seqs=len(lens), context_lens=lens, sliding_window=window, block_size=block_size,
           kv_cache_layout=layout)


@pytest.mark.parametrize("gqa", [1, 2, 3, 4, 8, MAX_GQA_RATIO])
def test_gqa_ratios(request, device, gqa):
    _check(request, device, num_heads=2 * gqa, num_kv_heads=2, context_lens=[17, 300, 600], sliding_window=100)


@pytest.mark.parametrize("layout", ["HND", "NHD"])
@pytest.mark.parametrize("window", [0, 100])
def test_fp32_cpu(request, window, layout):
    _check(
        request,
        "cpu",
        dtype=torch.float32,
        context_lens=[0, 90, 700],
        sliding_window=window,
        alibi=True,
        logits_soft_cap=30.0,
        kv_cache_layout=layout,
    )


def test_window_at_least_context_equals_no_window(request, device):
    """The aiter PR's equivalence check: a window >= every context changes nothing."""
    kw = dict(
        num_seqs=4,
        num_heads=16,
        num_kv_heads=4,
        head_size=128,
        block_size=16,
        context_lens=1024,
        dtype=torch.bfloat16,
        device=device,
        seed=seed_of(request),
    )
    full = run_op(make_case(**kw))
    windowed = run_op(make_case(sliding_window=1124, **kw))
    torch.testing.assert_close(windowed, full, atol=1e-3, rtol=1e-3)


# ---------------------------------------------------------------- attention sinks
@pytest.mark.parametrize("layout", ["HND", "NHD"])
@pytest.mark.parametrize("window", [0, 300])
@pytest.mark.parametrize("heads", [(8, 8), (8, 2), (32, 2)], ids=["gqa1", "gqa4", "gqa16"])
def test_sinks(request, device, heads, window, layout):
    """A random sink logit per head: one partition and several, contexts 0 and 1."""
    lens = [0, 1, 200, 700, 1500]
    case, out = _check(request, device, num_seqs=len(lens), num_heads=heads[0], num_kv_heads=heads[1],
                       context_lens=lens, sliding_window=window, kv_cache_layout=layout, sinks="random")
    case.sinks = None
    assert mismatch(out, case.reference()) is not None, "the sinks made no difference: the test is blind"


@pytest.mark.parametrize("window", [0, 300])
def test_dominating_sink(request, device, window):
    """A sink 40 above every logit takes almost all the weight: out = sum_j exp(x_j - 40) v_j / ~1,
    about 1e-17, still within the dtype's relative tolerance of the reference (no underflow to 0,
    no overflow of exp)."""
    case, out = _check(request, device, context_lens=[1, 100, 700], sliding_window=window, sinks=40.0)
    assert 0 < out.abs().max() < 1e-12


def test_sink_is_not_capped(request, device):
    """With soft cap 5 a sink of 6 is not capped (gpt-oss's sdpa appends the raw sink to the scaled
    logits; vLLM's triton_unified_attention starts its running max at the raw sink and caps only
    q.k): the reference with the sink capped to 5 tanh(6 / 5) differs."""
    case, out = _check(request, device, context_lens=[1, 40, 600], sliding_window=300, logits_soft_cap=5.0, scale=1.0,
                       sinks=6.0)
    case.sinks = torch.full_like(case.sinks, 5.0 * math.tanh(6.0 / 5.0))
    assert mismatch(out, case.reference()) is not None, "capping the sink made no difference: the test is blind"


@pytest.mark.parametrize("layout", ["HND", "NHD"])
def test_sinks_with_alibi_cap_window_fp16(request, device, layout):
    _check(request, device, dtype=torch.float16, context_lens=[0, 1, 129, 513], num_seqs=4, sliding_window=128,
           alibi=True, logits_soft_cap=5.0, scale=1.0, kv_cache_layout=layout, sinks="random")


def test_sink_with_every_context_empty(request, device):
    """A sink-only softmax weighs no value: zeros (one partition, and several)."""
    for max_context_len in (0, 1000):
        case = make_case(num_seqs=2, num_heads=8, num_kv_heads=2, head_size=64, block_size=16, context_lens=0,
                         dtype=torch.bfloat16, device=device, sinks=1.0, seed=seed_of(request))
        case.max_context_len = max_context_len  # a bound above every length: the grid has its partitions
        case.block_tables = torch.zeros(2, -(-max_context_len // 16), dtype=torch.int32, device=device)
        out = run_op(case)
        assert torch.equal(out, torch.zeros_like(out)), max_context_len


# ---------------------------------------------------------------- fp8 KV cache
#: Scales of the fp8 tests: not 1, not powers of two.
K_SCALE, V_SCALE = 0.37, 2.5
#: E4M3's unit roundoff: 3 mantissa bits, so rounding to it changes a (normal) value by at most
#: 2^-4 of its magnitude.
FP8_UNIT_ROUNDOFF = 2.0**-4


@pytest.mark.parametrize("layout", ["HND", "NHD"])
@pytest.mark.parametrize("window", [0, 300])
@pytest.mark.parametrize("dtype", ["bf16", "fp16"])
@pytest.mark.parametrize("fmt", ["fn", "fnuz"])
def test_fp8_kv_cache(request, device, fmt, dtype, window, layout):
    """Both fp8 formats, k_scale and v_scale != 1, against the float64 reference of the same bytes
    (decoded by torch, times the scales). The decode is exact (test_fp8_decode_is_bit_exact), so the
    only differences are float32 accumulation and the rounding of out: the query dtype's tolerances
    apply (2e-2 / 1e-2 bf16, 5e-3 fp16), far below one fp8 step (2^-3 relative)."""
    lens = [0, 1, 200, 700, 1500]
    case, out = _check(request, device, num_seqs=len(lens), context_lens=lens, sliding_window=window,
                       dtype=DTYPES[dtype], kv_cache_layout=layout, kv_dtype=FP8[fmt], k_scale=K_SCALE, v_scale=V_SCALE)
    case.v_scale = torch.ones_like(case.v_scale)
    assert mismatch(out, case.reference()) is not None, "v_scale made no difference: the test is blind"


@pytest.mark.parametrize("fmt", ["fn", "fnuz"])
def test_fp8_matches_the_unquantized_attention(request, device, fmt):
    """Quantizing bf16 K/V to fp8 (x / scale, rounded) and attending with the scales gives the
    unquantized answer within fp8's precision: every K and V element is off by at most u = 2^-4 of
    itself (E4M3's unit roundoff; the test's values are far above the subnormal range), which moves
    the output by about u / sqrt(3) = 0.036 in relative norm (rounding errors uniform in +-u,
    averaged by the softmax just as the values are; measured on the CPU: 0.027-0.028). Bound: u on
    the relative norm error; and above 1e-2, where bf16 K/V alone stay (3e-4): the fp8 rounding shows."""
    lens = [1, 200, 700, 1500]
    kw = dict(num_seqs=len(lens), num_heads=8, num_kv_heads=2, head_size=128, block_size=16, context_lens=lens,
              sliding_window=1000, dtype=torch.bfloat16, device=device, seed=seed_of(request))
    exact = make_case(**kw)
    quantized = make_case(**kw)  # the same bytes of everything but the caches
    for name, s in (("key_cache", K_SCALE), ("value_cache", V_SCALE)):
        setattr(quantized, name, (getattr(exact, name).float() / s).to(FP8[fmt]))
    quantized.kv_cache_dtype = "fp8"
    quantized.k_scale = torch.tensor([K_SCALE], device=device)
    quantized.v_scale = torch.tensor([V_SCALE], device=device)
    _, rel = error_metrics(run_op(quantized), exact.reference())
    assert 1e-2 < rel < FP8_UNIT_ROUNDOFF, rel


@pytest.mark.parametrize("dtype", ["bf16", "fp16"])
@pytest.mark.parametrize("fmt", ["fn", "fnuz"])
def test_fp8_decode_is_bit_exact(device, fmt, dtype):
    """All 256 E4M3 codes through the V path: one key (its weight is exactly 1) and v_scale = 0.5 (a
    power of two), so out is exactly 0.5 * the code's value (every E4M3 value, halved, is a bf16 and
    an fp16 number) and NaN for the NaN codes (fn: 0x7f, 0xff; fnuz: 0x80)."""
    case = make_case(num_seqs=1, num_heads=1, num_kv_heads=1, head_size=256, block_size=16, context_lens=1,
                     dtype=DTYPES[dtype], device=device, kv_dtype=FP8[fmt], v_scale=0.5)
    codes = torch.arange(256, dtype=torch.uint8)
    case.value_cache.view(torch.uint8)[int(case.block_tables[0, 0]), 0, 0] = codes.to(device)  # HND: key 0's row
    out = run_op(case)
    expected = (codes.view(FP8[fmt]).float() * 0.5).to(DTYPES[dtype])
    assert expected.isnan().sum() == (2 if fmt == "fn" else 1)
    torch.testing.assert_close(out[0, 0].cpu(), expected, rtol=0, atol=0, equal_nan=True)


def test_fp8_uint8_cache_takes_the_arch_format(request, device):
    """aiter's call sites pass the cache as uint8: it holds the fp8 format of the device's arch,
    E4M3 FNUZ on gfx940/941/942 and OCP E4M3 elsewhere (NVIDIA, gfx950, gfx90a, the CPU)."""
    arch = toolchain.device_arch(0) if device == "cuda" else None
    expected = FP8["fnuz"] if arch in FNUZ_ARCHS else FP8["fn"]
    case, out = _check(request, device, context_lens=[1, 300, 700], sliding_window=500, kv_dtype=torch.uint8,
                       k_scale=K_SCALE, v_scale=V_SCALE, sinks="random")
    assert case.key_cache.dtype == torch.uint8 and kv_element_dtype(case.key_cache) == expected
    other = FP8["fn"] if expected == FP8["fnuz"] else FP8["fnuz"]
    case.key_cache, case.value_cache = case.key_cache.view(other), case.value_cache.view(other)
    assert mismatch(out, case.reference()) is not None, "the format made no difference: the test is blind"


@pytest.mark.parametrize("head_size", [32, 80, 512])
@pytest.mark.parametrize("block_size", [1, 272])
def test_fp8_with_every_feature(request, device, head_size, block_size):
    """fp8 (E4M3 FNUZ, the MI300 format) with sinks, ALiBi, soft cap and window, odd block sizes,
    the smallest, an odd and the largest head size, GQA 8, a K/V pair of strided views."""
    _check(request, device, num_seqs=4, num_heads=16, num_kv_heads=2, head_size=head_size, block_size=block_size,
           context_lens=[0, 3, 300, 900], sliding_window=600, alibi=True, logits_soft_cap=5.0, scale=1.0,
           sinks="random", combined_kv=True, kv_dtype=FP8["fnuz"], k_scale=K_SCALE, v_scale=V_SCALE)


# ---------------------------------------------------------------- CLI mode
def _time_per_call_ms(fn, device: str, iters: int) -> float:
    """Median time of ``fn()`` in ms: device events after warm-up on CUDA, perf_counter on the CPU."""
    if device == "cuda":
        return cuda_median_ms(fn, 4, iters)
    fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description="Check one paged_attention_v1 configuration against the float64 reference and time it."
    )
    p.add_argument("--ctx", type=int, default=2048, help="context length of every sequence (tokens)")
    p.add_argument("--window", type=int, default=1024, help="sliding window in tokens; <= 0 disables it")
    p.add_argument("--num_seqs", type=int, default=8)
    p.add_argument("--num_heads", type=int, default=32)
    p.add_argument("--num_kv_heads", type=int, default=4)
    p.add_argument("--head_size", type=int, default=128)
    p.add_argument("--block_size", type=int, default=16)
    p.add_argument("--layout", choices=["HND", "NHD"], default="HND")
    p.add_argument("--dtype", choices=sorted(DTYPES), default="bf16")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--iters", type=int, default=None, help="timed calls (default 100 on cuda, 5 on cpu)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    iters = a.iters or (100 if a.device == "cuda" else 5)
    dtype = DTYPES[a.dtype]

    print(
        f"paged_attention_v1: device={a.device} dtype={a.dtype} num_seqs={a.num_seqs} ctx={a.ctx} "
        f"window={a.window} num_heads={a.num_heads} num_kv_heads={a.num_kv_heads} head_size={a.head_size} "
        f"block_size={a.block_size} layout={a.layout}"
    )
    case = make_case(
        num_seqs=a.num_seqs, num_heads=a.num_heads, num_kv_heads=a.num_kv_heads, head_size=a.head_size,
        block_size=a.block_size, context_lens=a.ctx, sliding_window=a.window, dtype=dtype, device=a.device,
        kv_cache_layout=a.layout, seed=a.seed,
    )  # fmt: skip
    out = run_op(case)
    ref = case.reference()
    max_abs, rel = error_metrics(out, ref)
    print(f"max abs error {max_abs:.3e}, relative norm error {rel:.3e} (vs the float64 reference)")
    args = case.op_args(torch.empty_like(case.query), case.workspace())
    ms = _time_per_call_ms(lambda: torch.ops.aiter_swa.paged_attention_v1(*args), a.device, iters)
    print(f"time per call {ms:.3f} ms (median of {iters})")
    why = mismatch(out, ref)
    if why is not None:
        print(f"FAIL: {why}")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
