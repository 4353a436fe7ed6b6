"""Public helpers: ``aiter_swa.paged_attention``, ``aiter_swa.get_workspace_size`` and the reference itself."""

from __future__ import annotations

import pytest
import torch

import aiter_swa
from aiter_swa.ops.pa_v1.reference import paged_attention_reference
from testlib.pa_v1 import assert_matches_reference, make_case, run_op

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
        sinks="random",
    )
    out = aiter_swa.paged_attention(
        case.query, case.key_cache, case.value_cache, case.block_tables, case.context_lens,
        sliding_window=500, kv_cache_layout=layout, logits_soft_cap=5.0, alibi_slopes=case.alibi_slopes,
        sinks=case.sinks,
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
    # 9216 tokens, window 8192: 32 partitions; n = 8 seqs * 32 heads * 32 = 8192; partials in bf16
    assert aiter_swa.get_workspace_size(8, 32, 128, 9216, BF16, sliding_window=8192) == 8 * 8192 + 2 * 8192 * 128
    # n = 3 * 5 * ceil(600 / 256) = 45: exp_sums + max_logits = 360 bytes, then fp16 partials
    assert aiter_swa.get_workspace_size(3, 5, 64, 600, torch.float16) == 360 + 2 * 45 * 64
    assert aiter_swa.get_workspace_size(3, 5, 64, 600, torch.float32) == 360 + 4 * 45 * 64  # CPU dtype


def aiter_workspace_size(num_seqs, num_heads, head_size, max_context_len, dtype, mtp=1):
    """How aiter (op_tests/test_pa_v1.py) and vLLM's ROCM_AITER_FA backend size ``workspace_buffer``:
    partial outputs in the output dtype plus two float32 arrays, ``ceil(max_context_len / 256)`` partitions."""
    parts = -(-max_context_len // 256)
    n = num_seqs * mtp * num_heads * parts
    return n * head_size * dtype.itemsize + 2 * n * 4


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_aiter_sized_workspace_is_always_enough(dtype):
    """Any buffer of aiter's size is enough for every call (issue: drop-in with aiter call sites)."""
    for num_seqs, num_heads, head_size in ((1, 8, 64), (8, 32, 128), (3, 5, 256)):
        for ctx in (0, 1, 255, 256, 257, 4097, 9216, 131072):
            for window in (-1, 0, 1, 128, 256, 257, 4096, 10**6):
                ours = aiter_swa.get_workspace_size(num_seqs, num_heads, head_size, ctx, dtype, sliding_window=window)
                assert ours <= aiter_workspace_size(num_seqs, num_heads, head_size, ctx, dtype), (ctx, window)


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
    assert aiter_swa.get_workspace_size(1, 1, 64, 257, BF16) == 8 * 2 + 2 * 2 * 64


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


@pytest.mark.parametrize("where", ["reference", "cpu"])
def test_alibi_comes_before_the_soft_cap(where):
    """Logit = cap * tanh((scale * q.k + slope * (j - L + 1)) / cap): ALiBi first, then the cap, as aiter's
    reference and FlashInfer's DefaultAttention order them. Checked against that formula written out
    here; the other order (cap, then ALiBi) differs by far more than the tolerance at these values."""
    num_blocks, block_size, head_size, L, cap = 2, 16, 64, 20, 2.0
    gen = torch.Generator().manual_seed(7)
    key = torch.randn(num_blocks, 1, block_size, head_size, generator=gen)
    value = torch.randn(num_blocks, 1, block_size, head_size, generator=gen)
    query = 2 * torch.randn(1, 2, head_size, generator=gen)
    slopes = torch.tensor([0.5, 0.25])
    tables = torch.tensor([[1, 0]], dtype=torch.int32)
    lens = torch.tensor([L], dtype=torch.int32)
    k = torch.cat([key[1, 0], key[0, 0]])[:L].double()  # tokens 0..L-1
    v = torch.cat([value[1, 0], value[0, 0]])[:L].double()
    bias = slopes.double()[:, None] * (torch.arange(L, dtype=torch.float64) - L + 1)
    x = query[0].double() @ k.T * 0.125 + bias
    expected = torch.softmax(cap * torch.tanh(x / cap), dim=-1) @ v
    wrong = torch.softmax(cap * torch.tanh((query[0].double() @ k.T * 0.125) / cap) + bias, dim=-1) @ v
    assert (expected - wrong).abs().max() > 0.05
    if where == "reference":
        got = paged_attention_reference(query, key, value, tables, lens, 0.125, logits_soft_cap=cap,
                                        alibi_slopes=slopes)[0]
    else:
        got = aiter_swa.paged_attention(query, key, value, tables, lens, scale=0.125, logits_soft_cap=cap,
                                        alibi_slopes=slopes, max_context_len=L)[0].double()
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


# ---------------------------------------------------------------- the kernel override of tests and benchmarks
def test_kernel_override_restores_the_environment_choice():
    """gpu.kernel_override serves its block with the given kernel family and restores the environment's after it,
    also when the block raises; an unknown family is refused before anything changes."""
    from aiter_swa.ops.pa_v1 import gpu

    with pytest.raises(RuntimeError, match="inside"):
        with gpu.kernel_override("vector" if gpu.ENV_KERNEL == "mma" else "mma"):
            assert gpu.KERNEL != gpu.ENV_KERNEL
            raise RuntimeError("inside")
    assert gpu.KERNEL == gpu.ENV_KERNEL
    with pytest.raises(ValueError, match="kernel: expected one of"):
        with gpu.kernel_override("tensor-cores"):
            pass
    assert gpu.KERNEL == gpu.ENV_KERNEL
