"""Multi-token queries of ``paged_attention_v1`` on the CPU path: ``mtp`` rows per sequence (aiter's
layout) and variable query lengths through ``cu_query_lens``, against the float64 reference.

Token ``i`` of the ``n`` tokens of a sequence with ``L`` keys sits at ``p = L - n + i`` and attends
``max(0, p - w + 1) <= j <= p`` (docs/design.md, "Multi-token queries"). Every cache slot no token
attends holds NaN, ``out`` starts as NaN, and rows no sequence owns must keep it. The same grid
runs on the GPU in ``test_pa_v1_mtp_gpu.py`` (GPU against this CPU path).
"""

from __future__ import annotations

import zlib

import pytest
import torch

from testlib.pa_v1 import assert_rows_match, make_case, run_op
from testlib.pa_v1_mtp import DTYPES, GRID, GRID_ARGS, mtp_case


def seed_of(request) -> int:
    return zlib.crc32(request.node.name.encode())


@pytest.mark.parametrize(GRID_ARGS, GRID)
def test_cpu_multi_token_grid(request, mtp, heads, head_size, window, layout, features, dtype, kv_layout, block_size):
    case = mtp_case(seed_of(request), mtp=mtp, heads=heads, head_size=head_size, window=window, layout=layout,
                    features=features, dtype=DTYPES[dtype], kv_cache_layout=kv_layout, block_size=block_size)  # fmt: skip
    assert_rows_match(run_op(case), case.reference(), request.node.name)


@pytest.mark.parametrize("features", ["plain", "alibi_cap_sinks"])
@pytest.mark.parametrize("window", [0, 3, 40])
def test_each_token_equals_a_single_token_decode(request, features, window):
    """Spec-decode verification must give what one-token decoding would: token ``i`` at ``p`` equals the
    ``mtp = 1`` op on context ``p + 1`` (ALiBi from the row's own position, soft cap after it, sinks)."""
    mtp, lens = 4, [2, 9, 45, 100]
    case = make_case(num_seqs=4, num_heads=8, num_kv_heads=2, head_size=64, block_size=8, context_lens=lens,
                     dtype=torch.float32, sliding_window=window, mtp=mtp, seed=seed_of(request),
                     alibi="alibi" in features, logits_soft_cap=5.0 if "cap" in features else 0.0,
                     sinks="random" if "sinks" in features else None, poison=False)  # fmt: skip
    out = run_op(case)
    for s, L in enumerate(lens):
        for i in range(mtp):
            p, row = L - mtp + i, s * mtp + i
            one = make_case(num_seqs=1, num_heads=8, num_kv_heads=2, head_size=64, block_size=8, context_lens=[0],
                            dtype=torch.float32, poison=False)  # fmt: skip
            one.query = case.query[row : row + 1].clone()
            one.key_cache, one.value_cache = case.key_cache, case.value_cache
            one.block_tables = case.block_tables[s : s + 1].clone()
            one.context_lens = torch.tensor([max(p + 1, 0)], dtype=torch.int32)
            one.max_context_len = case.max_context_len
            one.sliding_window, one.alibi_slopes = window, case.alibi_slopes
            one.logits_soft_cap, one.sinks = case.logits_soft_cap, case.sinks
            torch.testing.assert_close(out[row], run_op(one)[0], atol=1e-6, rtol=1e-6, msg=f"seq {s} token {i}")


def test_rows_no_sequence_owns_are_not_written():
    """Counts above mtp (skipped, as aiter's pa_v1 skips query_len > 1), counts of 0, and rows after the
    last sequence keep what out held; the other rows are right."""
    case = make_case(num_seqs=4, num_heads=4, num_kv_heads=2, head_size=32, block_size=16, context_lens=[30, 5, 0, 60],
                     dtype=torch.float32, mtp=2, query_lens=[3, 0, 2, 1], extra_rows=3)  # fmt: skip
    out = run_op(case)
    assert out.shape[0] == 3 + 0 + 2 + 1 + 3
    assert bool(out[:3].isnan().all()) and bool(out[6:].isnan().all())
    assert bool(out[3:5].eq(0).all()), "a sequence with no key (L = 0) gives zeros"
    assert_rows_match(out, case.reference())


def test_short_cu_query_lens_ends_at_the_query_rows():
    """``cu_query_lens`` of ``num_seqs`` entries (vLLM's ``query_start_loc[:num_decodes]``): the last
    sequence ends at ``query.shape[0]``; same result as the ``num_seqs + 1`` form."""
    case = make_case(num_seqs=3, num_heads=8, num_kv_heads=2, head_size=64, block_size=16, context_lens=[50, 7, 300],
                     dtype=torch.float32, mtp=4, query_lens=[2, 4, 3], sliding_window=32)  # fmt: skip
    full = run_op(case)
    case.cu_query_lens = case.cu_query_lens[:-1].clone()
    assert torch.equal(run_op(case), full)
    assert_rows_match(full, case.reference())


def test_mtp_one_with_cu_equal_to_arange_is_the_plain_decode():
    """aiter's own test passes ``cu_query_lens = arange(num_seqs + 1)`` with ``mtp = 1``: identical to
    passing none."""
    case = make_case(num_seqs=5, num_heads=8, num_kv_heads=8, head_size=64, block_size=16, context_lens=[1, 0, 70, 256, 513],
                     dtype=torch.bfloat16, sliding_window=100)  # fmt: skip
    plain = run_op(case)
    case.cu_query_lens = torch.arange(6, dtype=torch.int32)
    assert torch.equal(run_op(case), plain)


@pytest.mark.parametrize(
    "cu,desc",
    [
        ([0, 2, 1, 3], "non-monotone"),
        ([-3, -1, 1, 2], "negative starts"),
        ([0, 2, 9, 11], "past the query rows"),
        ([5, 3, 4, 2], "all decreasing"),
        ([0, 2**31 - 1, -(2**31), 0], "int32 extremes"),
    ],
)
def test_hostile_cu_query_lens_touch_only_the_rows_it_names(desc, cu):
    """Any values are a device-side contract, not a crash: rows outside [0, num_rows) are dropped, counts
    above mtp or below 1 write nothing, rows written by no sequence keep their NaN."""
    case = make_case(num_seqs=3, num_heads=4, num_kv_heads=2, head_size=32, block_size=16, context_lens=[20, 3, 40],
                     dtype=torch.float32, mtp=2, query_lens=[1, 1, 1], extra_rows=1)  # fmt: skip
    case.cu_query_lens = torch.tensor(cu, dtype=torch.int32)
    ref = case.reference()
    out = run_op(case)
    if desc != "non-monotone":  # overlapping claims: either sequence's result (unspecified which)
        assert_rows_match(out, ref, desc)
    assert out.shape == case.query.shape


def test_positions_before_the_context_give_zeros():
    """With fewer keys than tokens, the tokens at p < 0 attend nothing: zeros (like a context of 0)."""
    case = make_case(num_seqs=2, num_heads=4, num_kv_heads=1, head_size=64, block_size=16, context_lens=[2, 0],
                     dtype=torch.float32, mtp=5, sinks=1.0)  # fmt: skip
    out = run_op(case)
    assert bool(out[:3].eq(0).all()) and bool(out[5:].eq(0).all())
    assert bool(out[3:5].ne(0).any())
    assert_rows_match(out, case.reference())


def test_convenience_wrapper_takes_mtp_and_cu_query_lens():
    """``aiter_swa.paged_attention(..., mtp=, cu_query_lens=)``: the op's result, rows no sequence owns zero."""
    import aiter_swa

    case = make_case(num_seqs=3, num_heads=8, num_kv_heads=4, head_size=64, block_size=16, context_lens=[40, 3, 0],
                     dtype=torch.float32, mtp=3, query_lens=[3, 4, 1], extra_rows=1, sliding_window=20)  # fmt: skip
    out = aiter_swa.paged_attention(case.query, case.key_cache, case.value_cache, case.block_tables, case.context_lens,
                                    sliding_window=20, mtp=3, cu_query_lens=case.cu_query_lens)  # fmt: skip
    ref = case.reference()
    written = ~ref.isnan().flatten(1).all(1)
    assert bool(out[~written].eq(0).all())
    torch.testing.assert_close(out[written].double(), ref[written], atol=1e-5, rtol=1e-5)
    fixed = make_case(num_seqs=2, num_heads=8, num_kv_heads=4, head_size=64, block_size=16, context_lens=[9, 30],
                      dtype=torch.float32, mtp=2, poison=False)  # fmt: skip
    out = aiter_swa.paged_attention(fixed.query, fixed.key_cache, fixed.value_cache, fixed.block_tables,
                                    fixed.context_lens, mtp=2)  # fmt: skip
    torch.testing.assert_close(out.double(), fixed.reference(), atol=1e-5, rtol=1e-5)
