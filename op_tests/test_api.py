"""Public helpers: ``aiter_swa.paged_attention``, ``aiter_swa.get_workspace_size`` and the reference itself."""

from __future__ import annotations

import pytest
import torch

import aiter_swa
from aiter_swa.reference import paged_attention_reference
from pa_utils import assert_matches_reference, make_case, run_op

BF16 = torch.bfloat16


# ---------------------------------------------------------------- paged_attention
@pytest.mark.parametrize("layout", ["HND", "NHD"])
def test_paged_attention_matches_op_and_reference(device, layout):
    case = make_case(
        num_seqs=3,
        num_heads=8,
        num_kv_heads=2,
        head_size=128,
        block_size=16,
        context_lens=[0, 300, 900],
        sliding_window=500,
        kv_cache_layout=layout,
        dtype=BF16,
        device=device,
        alibi=True,
        logits_soft_cap=5.0,
    )
    out = aiter_swa.paged_attention(
        case.query, case.key_cache, case.value_cache, case.block_tables, case.context_lens,
        sliding_window=500, kv_cache_layout=layout, logits_soft_cap=5.0, alibi_slopes=case.alibi_slopes,
    )  # fmt: skip
    assert out.shape == case.query.shape and out.dtype == BF16 and out.device == case.query.device
    assert torch.equal(out, run_op(case))  # scale defaults to head_size ** -0.5, max_context_len to the max
    assert_matches_reference(out, case.reference())


def test_paged_attention_explicit_scale_and_max_context_len(device):
    case = make_case(
        num_seqs=2,
        num_heads=4,
        num_kv_heads=4,
        head_size=64,
        block_size=32,
        context_lens=[7, 70],
        dtype=torch.float16,
        device=device,
        scale=0.5,
    )
    out = aiter_swa.paged_attention(
        case.query,
        case.key_cache,
        case.value_cache,
        case.block_tables,
        case.context_lens,
        scale=0.5,
        max_context_len=70,
    )
    assert_matches_reference(out, case.reference())


# ---------------------------------------------------------------- get_workspace_size
def test_workspace_size_formula():
    # 9216 tokens, window 8192: 32 partitions; n = 8 seqs * 32 heads * 32 = 8192
    assert aiter_swa.get_workspace_size(8, 32, 128, 9216, BF16, sliding_window=8192) == 8 * 8192 + 4 * 8192 * 128
    # n = 3 * 5 * ceil(600 / 256) = 45: exp_sums + max_logits = 360 bytes, tmp_out aligned at 512
    assert aiter_swa.get_workspace_size(3, 5, 64, 600, torch.float16) == 512 + 4 * 45 * 64


def test_workspace_size_is_o_window_with_a_window():
    window = 4096
    sizes = [
        aiter_swa.get_workspace_size(16, 32, 128, ctx, BF16, sliding_window=window) for ctx in (4096, 65536, 10**6)
    ]
    assert sizes[0] == sizes[1] == sizes[2] > 0
    assert aiter_swa.get_workspace_size(16, 32, 128, 10**6, BF16) > 200 * sizes[0]  # no window: O(context)


@pytest.mark.parametrize("ctx,window", [(0, 0), (1, 0), (256, 0), (10**6, 256), (10**6, 128), (200, 4096)])
def test_workspace_size_zero_for_one_partition(ctx, window):
    assert aiter_swa.get_workspace_size(16, 64, 256, ctx, BF16, sliding_window=window) == 0


def test_workspace_size_two_partitions():
    assert aiter_swa.get_workspace_size(1, 1, 64, 257, BF16) == 256 + 4 * 2 * 64


@pytest.mark.parametrize(
    "kw,exc,match",
    [
        (dict(partition_size=512), ValueError, r"^partition_size: expected one of \(256,\), got 512"),
        (dict(mtp=0), ValueError, r"^mtp: expected an int >= 1 .*, got 0"),
        (dict(dtype=torch.int8), TypeError, r"^dtype: expected one of .*, got torch.int8"),
        (dict(max_context_len=-5), ValueError, r"^max_context_len: expected an int >= 0, got -5"),
    ],
)
def test_workspace_size_errors(kw, exc, match):
    args = dict(num_seqs=1, num_heads=8, head_size=64, max_context_len=1000, dtype=BF16) | kw
    with pytest.raises(exc, match=match):
        aiter_swa.get_workspace_size(**args)


# ---------------------------------------------------------------- the reference
def test_reference_by_hand():
    """One KV head, block size 16, HND: cases whose answer is known without softmax arithmetic."""
    num_blocks, block_size, head_size = 3, 16, 64
    key = torch.randn(num_blocks, 1, block_size, head_size)
    value = torch.randn(num_blocks, 1, block_size, head_size)
    query = torch.randn(1, 2, head_size)  # two query heads share the KV head
    tables = torch.tensor([[2, 0]], dtype=torch.int32)  # tokens 0..15 in block 2, 16..31 in block 0
    ref = lambda L, **kw: paged_attention_reference(
        query, key, value, tables, torch.tensor([L], dtype=torch.int32), 1.0, **kw
    )[
        0
    ]  # noqa: E731

    assert torch.equal(ref(0), torch.zeros(2, head_size, dtype=torch.float64))
    torch.testing.assert_close(ref(1), value[2, 0, 0].double().expand(2, -1))  # the only key
    torch.testing.assert_close(ref(20, sliding_window=1), value[0, 0, 3].double().expand(2, -1))  # only token 19
    # Window 2 at L = 17: tokens 15 (block 2, slot 15) and 16 (block 0, slot 0), softmax by hand.
    k = torch.stack([key[2, 0, 15], key[0, 0, 0]]).double()
    v = torch.stack([value[2, 0, 15], value[0, 0, 0]]).double()
    w = torch.softmax(query[0].double() @ k.T, dim=-1)
    torch.testing.assert_close(ref(17, sliding_window=2), w @ v)


def test_reference_matches_sdpa():
    """Against torch's scaled_dot_product_attention on the contiguous window (GQA by repeat)."""
    case = make_case(
        num_seqs=2,
        num_heads=8,
        num_kv_heads=2,
        head_size=64,
        block_size=16,
        context_lens=[100, 333],
        sliding_window=150,
        dtype=torch.float32,
        kv_cache_layout="NHD",
        poison=False,
    )
    ref = case.reference()
    for i, L in enumerate([100, 333]):
        lo = max(0, L - 150)
        blocks = case.block_tables[i].long()
        k = case.key_cache[blocks].flatten(0, 1)[lo:L].double()  # NHD: [tokens, kvh, d]
        v = case.value_cache[blocks].flatten(0, 1)[lo:L].double()
        q = case.query[i].double()[:, None, :]  # [h, 1, d]
        expected = torch.nn.functional.scaled_dot_product_attention(
            q, k.transpose(0, 1).repeat_interleave(4, 0), v.transpose(0, 1).repeat_interleave(4, 0), scale=case.scale
        )[:, 0]
        torch.testing.assert_close(ref[i], expected)
