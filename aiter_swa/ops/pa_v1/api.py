"""Convenience entry point: allocates ``out`` and the workspace, then calls the op."""

from __future__ import annotations

import torch

from .call import PaV1Call
from .workspace import get_workspace_size


def paged_attention(
    query: torch.Tensor,
    key_cache: torch.Tensor,
    value_cache: torch.Tensor,
    block_tables: torch.Tensor,
    context_lens: torch.Tensor,
    *,
    scale: float | None = None,
    sliding_window: int = 0,
    kv_cache_layout: str = "HND",
    logits_soft_cap: float = 0.0,
    alibi_slopes: torch.Tensor | None = None,
    max_context_len: int | None = None,
    sinks: torch.Tensor | None = None,
    mtp: int = 1,
    cu_query_lens: torch.Tensor | None = None,
) -> torch.Tensor:
    """Decode attention over a paged KV cache; returns a new ``out`` like ``query``.

    Arguments, shapes and semantics as in ``torch.ops.aiter_swa.paged_attention_v1``;
    ``scale=None`` means ``head_size ** -0.5``. ``max_context_len=None`` reads
    ``context_lens.max()`` on the host, which synchronises with the GPU: pass it from the host
    in a serving loop or under graph capture. ``mtp`` / ``cu_query_lens``: multi-token queries
    (``query`` ``[num_seqs * mtp, num_heads, head_size]``, or any rows with ``cu_query_lens``); rows
    no sequence writes are zeros here.

    Returns:
        ``out``: like ``query`` (``[num_rows, num_heads, head_size]``), its dtype and device.

    Raises:
        TypeError, ValueError, NotImplementedError: as the op.
    """
    _, num_heads, head_size = query.shape
    num_seqs = context_lens.shape[0]
    if scale is None:
        scale = head_size**-0.5
    if max_context_len is None:
        max_context_len = int(context_lens.max()) if context_lens.numel() else 0
    out = torch.zeros_like(query) if cu_query_lens is not None else torch.empty_like(query)
    workspace = torch.empty(
        get_workspace_size(num_seqs, num_heads, head_size, max_context_len, query.dtype, sliding_window, mtp=mtp),
        dtype=torch.uint8,
        device=query.device,
    )
    unit_scale = torch.ones(1, dtype=torch.float32, device=query.device)
    call = PaV1Call(
        out=out, workspace_buffer=workspace, query=query, key_cache=key_cache, value_cache=value_cache, scale=scale,
        block_tables=block_tables, cu_query_lens=cu_query_lens, context_lens=context_lens, max_context_len=max_context_len,
        alibi_slopes=alibi_slopes, kv_cache_dtype="auto", kv_cache_layout=kv_cache_layout,
        logits_soft_cap=logits_soft_cap, k_scale=unit_scale, v_scale=unit_scale, mtp=mtp, sliding_window=sliding_window,
        sinks=sinks,
    )  # fmt: skip
    torch.ops.aiter_swa.paged_attention_v1(*call.args())
    return out
