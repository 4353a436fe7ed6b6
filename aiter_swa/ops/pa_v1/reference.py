"""Reference of ``paged_attention_v1`` for tests: float64, one sequence at a time, plain on purpose.

Independent of :mod:`aiter_swa.ops.pa_v1.cpu` (which batches sequences and gathers only the window's
blocks): here each sequence gathers its whole context from the block table, slices the window
``[max(0, L - w), L)`` out of it and does textbook softmax attention. Reads ``context_lens`` and
``block_tables`` on the host.
"""

from __future__ import annotations

import math

import torch


def paged_attention_reference(
    query: torch.Tensor,
    key_cache: torch.Tensor,
    value_cache: torch.Tensor,
    block_tables: torch.Tensor,
    context_lens: torch.Tensor,
    scale: float,
    sliding_window: int = 0,
    kv_cache_layout: str = "HND",
    logits_soft_cap: float = 0.0,
    alibi_slopes: torch.Tensor | None = None,
    sinks: torch.Tensor | None = None,
    k_scale: torch.Tensor | float = 1.0,
    v_scale: torch.Tensor | float = 1.0,
) -> torch.Tensor:
    """Decode attention (semantics: docs/design.md), in float64 on the CPU.

    Args: as ``torch.ops.aiter_swa.paged_attention_v1`` (``query`` ``[num_seqs, num_heads, head_size]``,
    caches in ``kv_cache_layout``, int32 ``block_tables`` and ``context_lens``, float32
    ``alibi_slopes`` ``[num_heads]``; ``sliding_window <= 0`` and ``logits_soft_cap <= 0`` or ``inf`` disable;
    float32 ``sinks`` ``[num_heads]``: one more logit per head, after the cap, in the softmax only,
    as gpt-oss's ``sdpa`` appends it: ``softmax(cat([x, s_h]))[:-1]``). Caches of a torch fp8 dtype
    (float8_e4m3fn / float8_e4m3fnuz; view a uint8 cache as the format it holds) are decoded by
    torch and multiplied by ``k_scale`` / ``v_scale`` (one element each) before anything else; the
    scales are ignored for other caches.

    Returns:
        float64 CPU tensor ``[num_seqs, num_heads, head_size]``; zeros for a sequence with ``L == 0``.
    """
    num_seqs, num_heads, head_size = query.shape
    fp8 = key_cache.dtype in (torch.float8_e4m3fn, torch.float8_e4m3fnuz)
    k_mul = float(k_scale) if fp8 else 1.0  # a one-element tensor or a float
    v_mul = float(v_scale) if fp8 else 1.0
    block_size = key_cache.shape[2] if kv_cache_layout == "HND" else key_cache.shape[1]
    out = torch.zeros(num_seqs, num_heads, head_size, dtype=torch.float64)
    for i in range(num_seqs):
        L = int(context_lens[i])
        if L == 0:
            continue
        lo = max(0, L - sliding_window) if sliding_window > 0 else 0
        blocks = block_tables[i, : -(-L // block_size)].tolist()
        k = key_cache[blocks].cpu().double() * k_mul  # [nb, *block_shape], dequantized
        v = value_cache[blocks].cpu().double() * v_mul
        if kv_cache_layout == "HND":  # -> [nb, block_size, num_kv_heads, head_size]
            k, v = k.transpose(1, 2), v.transpose(1, 2)
        k = k.reshape(-1, k.shape[2], head_size)[lo:L]  # [L - lo, num_kv_heads, head_size]: the window
        v = v.reshape(-1, v.shape[2], head_size)[lo:L]
        num_kv_heads = k.shape[1]
        # Query head h = kv * group + g (group = num_heads // num_kv_heads) uses KV head kv = h // group.
        q = query[i].cpu().double().view(num_kv_heads, num_heads // num_kv_heads, head_size)
        x = scale * torch.einsum("kgd,jkd->kgj", q, k).reshape(num_heads, -1)  # [num_heads, L - lo]
        if alibi_slopes is not None:  # ALiBi first, then the soft cap (aiter's reference order)
            j = torch.arange(lo, L, dtype=torch.float64)
            x = x + alibi_slopes.cpu().double()[:, None] * (j - L + 1)[None, :]
        if 0 < logits_soft_cap < math.inf:  # inf: no cap (the limit as the cap grows)
            x = logits_soft_cap * torch.tanh(x / logits_soft_cap)
        if sinks is not None:
            x = torch.cat([x, sinks.cpu().double()[:, None]], dim=-1)
        p = torch.softmax(x, dim=-1)[:, : L - lo].reshape(num_kv_heads, -1, L - lo)
        out[i] = torch.einsum("kgj,jkd->kgd", p, v).reshape(num_heads, head_size)
    return out
