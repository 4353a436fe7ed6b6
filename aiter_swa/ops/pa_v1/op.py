"""Registers ``torch.ops.aiter_swa.paged_attention_v1`` (and ``torch.ops.aiter.paged_attention_v1``
where AMD's aiter is not installed; see ``aiter_swa._library``): schema, CPU and CUDA kernels, fake impl.

The op is defined with ``torch.library.Library`` (``define`` + ``impl`` + ``register_fake``), whose
Python kernels the dispatcher calls directly: a few microseconds per call, where
``torch.library.custom_op``'s Python autograd and ADInplaceOrView wrappers measured about 100 us
with this 20-argument schema, which a decode step would pay on every layer.

The op (``paged_attention_v1(out, workspace_buffer, query, key_cache, value_cache, scale,
block_tables, cu_query_lens, context_lens, max_context_len, alibi_slopes, kv_cache_dtype,
kv_cache_layout, logits_soft_cap, k_scale, v_scale, fp8_out_scale=None, partition_size=256, mtp=1,
sliding_window=0, sinks=None) -> ()``) is paged-attention decode with an optional sliding window: it
writes ``out`` and returns nothing.

Semantics: sequence ``i`` has ``L = context_lens[i]`` keys and ``n`` query tokens (``n = mtp``
without ``cu_query_lens``, rows ``i * mtp + t``; with it ``n = cu[i+1] - cu[i]``, rows ``cu[i] + t``:
``tokens.py`` has the rules for any values). Token ``t`` sits at position ``p = L - n + t`` (one
token: ``L - 1``) and attends keys ``j`` with ``max(0, p - w + 1) <= j <= p`` for a window
``w = sliding_window > 0``, else ``0 <= j <= p`` (aiter's MTP reference, ``op_tests/test_pa_mtp.py``:
``tril(diagonal=s_k - s_q)``); ``p < 0``: no key, zeros. Query head ``h`` uses KV head
``h // (num_heads // num_kv_heads)``. Logit ``x = scale * q.k``; with ALiBi,
``x += alibi_slopes[h] * (j - p)`` (from the token's own position: one token gives aiter's
``j - L + 1``; each token of a multi-token call then equals a one-token decode of ``p + 1`` keys,
as spec-decode verification needs, and FlashAttention's ALiBi, ``-slope * |p - j|``, agrees;
aiter's pa_v1 kernel uses ``j - L + 1`` and vLLM's Triton ``unified_attention`` ``j - (L - n)`` for
every token, which differ from this by a per-row constant: the same softmax unless a soft cap or
a sink is on); with ``logits_soft_cap = c > 0``, ``x = c * tanh(x / c)``
(ALiBi before the cap, as aiter's reference and FlashInfer's ``DefaultAttention`` order them); then
the window and context masks (a masked key gets exactly zero weight and is never read); softmax;
weighted sum of values. ``L == 0`` gives zeros. With ``sinks``, head ``h``'s sink logit ``s_h``
joins the softmax denominator only: ``p_j = exp(x_j - m) / (exp(s_h - m) + sum_k exp(x_k - m))``,
``m`` the max over the attended keys and the sink (gpt-oss, ``gpt_oss/torch/model.py`` ``sdpa``:
``softmax(cat([x, s_h]))`` without the sink's column); the sink is a raw logit, not scaled, biased
or capped (vLLM's ``triton_unified_attention`` likewise starts its running max at the raw sink and
caps only ``q.k``). ``L == 0`` with a sink still gives zeros.

Arguments:
    out: the query's shape and dtype; its rows that hold a token are written, the others left as
        they were.
    workspace_buffer: uint8, contiguous, at least ``aiter_swa.get_workspace_size(...)`` bytes (any
        buffer sized as aiter sizes it is enough); the GPU kernel's split-K scratch (unused on the CPU).
    query: ``[num_seqs * mtp, num_heads, head_size]`` (any number of rows with ``cu_query_lens``),
        float16 or bfloat16 (float32 on the CPU).
    key_cache, value_cache: the query's dtype; ``kv_cache_layout="HND"``:
        ``[num_blocks, num_kv_heads, block_size, head_size]``; ``"NHD"``:
        ``[num_blocks, block_size, num_kv_heads, head_size]``. Any strides but the last (1):
        ``kv[:, 0]`` and ``kv[:, 1]`` of one combined tensor are fine.
    scale: logit scale, usually ``head_size ** -0.5``; finite in float32.
    block_tables: int32 ``[num_seqs, max_blocks_per_seq]``, block ids; entry ``b`` holds tokens
        ``[b * block_size, (b + 1) * block_size)``. Entries outside the window and past the
        context are not read (they may hold anything). An entry that holds attended keys and is
        outside ``[0, num_blocks)`` is never dereferenced: that sequence's ``out`` row is all NaN.
    cu_query_lens: None, or int32 ``[num_seqs + 1]`` on the query's device (also ``[num_seqs]``:
        the last sequence then ends at ``query.shape[0]``, as vLLM passes ``query_start_loc[:num_decodes]``):
        sequence ``i`` owns rows ``cu[i] .. cu[i+1] - 1``. Read on the device only. A sequence with
        more than ``mtp`` tokens is skipped (its rows are not written: aiter's pa_v1 skips
        ``query_len > 1``), rows outside ``[0, query.shape[0])`` are dropped, rows claimed twice
        get one of the results.
    context_lens: int32 ``[num_seqs]``, KV length including the current (last) token; the GPU clamps
        each to ``[0, max_context_len]``, the CPU raises ValueError outside it.
    max_context_len: host int in ``[0, 2^31 - 1]``, >= every ``context_lens`` entry; sizes the GPU grid.
    alibi_slopes: float32 ``[num_heads]`` or None.
    kv_cache_dtype: ``"auto"`` only (the query's dtype).
    kv_cache_layout: ``"HND"`` or ``"NHD"``.
    logits_soft_cap: ``c``; ``<= 0`` and ``inf`` (or a float32-infinite value) disable it; NaN and
        ``(0, 2^-126)`` raise ValueError.
    k_scale, v_scale: fp8 KV scales of aiter's signature; ignored (no fp8 KV yet).
    fp8_out_scale: None only.
    partition_size: 256 only (tokens per split-K partition).
    mtp: int >= 1, the most query tokens per sequence (spec-decode verification, MTP). On the GPU
        the matrix-core kernel serves mtp > 1 (``AITER_SWA_PA_KERNEL=vector``: NotImplementedError,
        ``gpu.check_supported``).
    sliding_window: ``w`` in tokens, the current token included; ``<= 0`` disables it. vLLM's
        ``window_left`` (keys ``j >= L - 1 - window_left``) is ``w = window_left + 1``. Any int64.
    sinks: float32 ``[num_heads]`` attention-sink logits (gpt-oss's learned ``sinks``), or None.
    Values of ``context_lens`` and ``block_tables`` are checked (synchronising) with
    ``AITER_SWA_DEBUG_CHECKS=1``: ``ops/pa_v1/debug_checks.py``.

Raises:
    TypeError, ValueError, NotImplementedError: see ``call.validate``; raised before ``out`` is written.
"""

from __future__ import annotations

from aiter_swa._library import define_op, schema_of

from . import cpu, gpu
from .call import PaV1Call, check, full_args, validate

NAME = "paged_attention_v1"
#: aiter's argument names, order and defaults, plus ``sliding_window``: the fields of PaV1Call.
SCHEMA = schema_of(PaV1Call)


def paged_attention_v1_cpu(*args) -> None:
    """CPU kernel of the op: validate, then the vectorized torch implementation (``cpu.py``)."""
    cpu.run(validate(*args))


def paged_attention_v1_cuda(*args) -> None:
    """CUDA kernel of the op (also the key of ROCm builds of torch): the cached validation, then the
    JIT-built HIP/CUDA kernel (``gpu.py``), without building a call object on the hot path. With the
    fast path (``aiter_swa._fast_path``) it is the kernel of the slow twin ``_paged_attention_v1_slow``,
    which takes the fast path's misses and publishes their launches."""
    gpu.run(full_args(args))


def paged_attention_v1_fake(*args) -> None:
    """Fake (meta) impl for torch.compile and FakeTensor: the metadata checks, no compute."""
    check(PaV1Call(*args))


#: ``max_context_len`` changes every decode step: the fast path reads it per call (``gpu._fast_slots``).
QUALNAMES = define_op(NAME, SCHEMA, cpu=paged_attention_v1_cpu, cuda=paged_attention_v1_cuda,
                      fake=paged_attention_v1_fake, aiter_alias=True, fast_path=True,
                      per_call_ints=("max_context_len",))  # fmt: skip
