"""Registers ``torch.ops.aiter.paged_attention_v1``: schema, CPU and CUDA kernels, fake impl.

Importing this module defines the op with ``torch.library.Library`` (``define`` + ``impl`` +
``register_fake``), whose Python kernels the dispatcher calls directly: a few microseconds per
call, where ``torch.library.custom_op``'s Python autograd and ADInplaceOrView wrappers measured
about 100 us with this 20-argument schema, which a decode step would pay on every layer.

The name and schema are aiter's, so vLLM/SGLang-style call sites of AMD's aiter work unchanged;
for the same reason both packages cannot be loaded in one process: if ``aiter::paged_attention_v1``
already exists, the import raises ImportError (importing aiter after aiter_swa fails in aiter's
own registration).
"""

from __future__ import annotations

import torch

from ._validate import validate_paged_attention_v1
from .cpu import paged_attention_v1_cpu

QUALNAME = "aiter::paged_attention_v1"
#: aiter's argument names, order and defaults, plus ``sliding_window`` (DESIGN.md §3).
SCHEMA = (
    "(Tensor(a!) out, Tensor(b!) workspace_buffer, Tensor query, Tensor key_cache, Tensor value_cache, "
    "float scale, Tensor block_tables, Tensor? cu_query_lens, Tensor context_lens, int max_context_len, "
    "Tensor? alibi_slopes, str kv_cache_dtype, str kv_cache_layout, float logits_soft_cap, "
    "Tensor k_scale, Tensor v_scale, Tensor? fp8_out_scale=None, int partition_size=256, int mtp=1, "
    "int sliding_window=0) -> ()"
)

if hasattr(torch.ops.aiter, "paged_attention_v1"):
    raise ImportError(
        f"aiter_swa: the operator {QUALNAME} is already registered (most likely by AMD's aiter "
        f"package). aiter_swa provides an operator of the same name and schema; import only one "
        f"of the two packages in a process."
    )

_LIB = torch.library.Library("aiter", "FRAGMENT")
_LIB.define("paged_attention_v1" + SCHEMA)


def paged_attention_v1(
    out: torch.Tensor,
    workspace_buffer: torch.Tensor,
    query: torch.Tensor,
    key_cache: torch.Tensor,
    value_cache: torch.Tensor,
    scale: float,
    block_tables: torch.Tensor,
    cu_query_lens: torch.Tensor | None,
    context_lens: torch.Tensor,
    max_context_len: int,
    alibi_slopes: torch.Tensor | None,
    kv_cache_dtype: str,
    kv_cache_layout: str,
    logits_soft_cap: float,
    k_scale: torch.Tensor,
    v_scale: torch.Tensor,
    fp8_out_scale: torch.Tensor | None = None,
    partition_size: int = 256,
    mtp: int = 1,
    sliding_window: int = 0,
) -> None:
    """Paged-attention decode with an optional sliding window: writes ``out``, returns nothing.

    Call it as ``torch.ops.aiter.paged_attention_v1(...)``. Semantics (DESIGN.md §3): the one query
    token of sequence ``i`` sits at position ``L - 1`` with ``L = context_lens[i]`` and attends keys
    ``j`` with ``max(0, L - sliding_window) <= j < L`` (``sliding_window <= 0``: ``0 <= j < L``).
    Query head ``h`` uses KV head ``h // (num_heads // num_kv_heads)``. Logit
    ``x = scale * q.k``; with ``logits_soft_cap = c > 0``, ``x = c * tanh(x / c)``; with ALiBi,
    ``x += alibi_slopes[h] * (j - L + 1)``; then the window and context masks; softmax; weighted
    sum of values. ``L == 0`` gives zeros. Keys outside the window are never read.

    Args:
        out: ``[num_seqs, num_heads, head_size]``, the query's dtype; written.
        workspace_buffer: uint8, contiguous, at least ``aiter_swa.get_workspace_size(...)`` bytes;
            the GPU kernel's split-K scratch (unused on the CPU).
        query: ``[num_seqs, num_heads, head_size]``, float16 or bfloat16 (float32 on the CPU).
        key_cache, value_cache: the query's dtype; ``kv_cache_layout="HND"``:
            ``[num_blocks, num_kv_heads, block_size, head_size]``; ``"NHD"``:
            ``[num_blocks, block_size, num_kv_heads, head_size]``. Any strides but the last (1):
            ``kv[:, 0]`` and ``kv[:, 1]`` of one combined tensor are fine.
        scale: logit scale, usually ``head_size ** -0.5``.
        block_tables: int32 ``[num_seqs, max_blocks_per_seq]``, block ids; entry ``b`` holds
            tokens ``[b * block_size, (b + 1) * block_size)``. Entries outside the window and past
            the context are not read (they may point at a null block).
        cu_query_lens: accepted for aiter compatibility and ignored (one query token per sequence).
        context_lens: int32 ``[num_seqs]``, KV length including the current token.
        max_context_len: host int >= every ``context_lens`` entry; sizes the GPU grid.
        alibi_slopes: float32 ``[num_heads]`` or None.
        kv_cache_dtype: ``"auto"`` only (the query's dtype).
        kv_cache_layout: ``"HND"`` or ``"NHD"``.
        logits_soft_cap: ``c``; ``<= 0`` disables it.
        k_scale, v_scale: fp8 KV scales of aiter's signature; ignored (no fp8 KV yet).
        fp8_out_scale: None only.
        partition_size: 256 only (tokens per split-K partition).
        mtp: 1 only (query tokens per sequence).
        sliding_window: ``w`` in tokens, the current token included; ``<= 0`` disables it.
            vLLM's ``window_left`` (keys ``j >= L - 1 - window_left``) is ``w = window_left + 1``.

    Raises:
        TypeError, ValueError, NotImplementedError: see
        ``aiter_swa._validate.validate_paged_attention_v1``; raised before ``out`` is written.
    """
    dims = validate_paged_attention_v1(
        out, workspace_buffer, query, key_cache, value_cache, scale, block_tables, cu_query_lens,
        context_lens, max_context_len, alibi_slopes, kv_cache_dtype, kv_cache_layout, logits_soft_cap,
        k_scale, v_scale, fp8_out_scale, partition_size, mtp, sliding_window,
    )  # fmt: skip
    if query.is_cuda:  # the CUDA dispatch key, which ROCm builds of torch use too
        from . import _gpu

        _gpu.paged_attention_v1_cuda(
            dims, out, workspace_buffer, query, key_cache, value_cache, scale, block_tables,
            context_lens, max_context_len, alibi_slopes, kv_cache_layout, logits_soft_cap, sliding_window,
        )  # fmt: skip
    else:
        paged_attention_v1_cpu(
            dims, out, query, key_cache, value_cache, scale, block_tables, context_lens,
            max_context_len, alibi_slopes, logits_soft_cap, sliding_window,
        )  # fmt: skip


def _paged_attention_v1_fake(*args) -> None:
    """Fake (meta) impl for torch.compile and FakeTensor: the metadata checks, no compute."""
    validate_paged_attention_v1(*args)


_LIB.impl("paged_attention_v1", paged_attention_v1, "CPU")
_LIB.impl("paged_attention_v1", paged_attention_v1, "CUDA")  # also the key of ROCm builds of torch
torch.library.register_fake(QUALNAME, _paged_attention_v1_fake, lib=_LIB)
