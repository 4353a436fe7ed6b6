"""Reference of ``paged_attention_v1`` for tests: float64, one query token at a time, plain on purpose.

Independent of :mod:`aiter_swa.ops.pa_v1.cpu` (which batches sequences and tokens and gathers only the
window's blocks): here each token gathers its whole context from the block table, slices the window
``[max(0, p - w + 1), p]`` of each query token at position ``p`` out of it and does textbook softmax
attention, one token at a time. Reads ``context_lens``, ``block_tables`` and ``cu_query_lens`` on
the host.
"""

from __future__ import annotations

import math

import torch


def query_rows(num_rows: int, num_seqs: int, mtp: int = 1, cu_query_lens=None) -> list:
    """``[(row, seq, i, n)]``: the query rows a call writes, token ``i`` of the ``n`` tokens of ``seq``.

    Plain Python on host values, as the op's docs state it (docs/design.md, "Multi-token queries"):
    without ``cu_query_lens`` sequence ``s`` has ``mtp`` tokens in rows ``s * mtp + i``; with it
    (``num_seqs + 1`` entries, or ``num_seqs`` whose end is ``num_rows``) rows
    ``cu[s] .. cu[s+1] - 1``; a sequence with more than ``mtp`` tokens is skipped, rows outside
    ``[0, num_rows)`` are dropped.
    """
    if cu_query_lens is None:
        bounds = [(s * mtp, (s + 1) * mtp) for s in range(num_seqs)]
    else:
        cu = [int(x) for x in cu_query_lens.tolist()]
        if len(cu) == num_seqs:
            cu.append(num_rows)
        bounds = [(cu[s], cu[s + 1]) for s in range(num_seqs)]
    rows = []
    for s, (start, end) in enumerate(bounds):
        n = end - start
        if n > mtp:
            continue
        for i in range(n):
            if 0 <= start + i < num_rows:
                rows.append((start + i, s, i, n))
    return rows


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
    mtp: int = 1,
    cu_query_lens: torch.Tensor | None = None,
) -> torch.Tensor:
    """Paged attention of every query token (semantics: docs/design.md), in float64 on the CPU.

    Args: as ``torch.ops.aiter_swa.paged_attention_v1`` (``query`` ``[num_rows, num_heads, head_size]``,
    caches in ``kv_cache_layout``, int32 ``block_tables`` and ``context_lens`` ``[num_seqs]``, float32
    ``alibi_slopes`` ``[num_heads]``; ``sliding_window <= 0`` and ``logits_soft_cap <= 0`` or ``inf`` disable;
    float32 ``sinks`` ``[num_heads]``: one more logit per head, after the cap, in the softmax only,
    as gpt-oss's ``sdpa`` appends it: ``softmax(cat([x, s_h]))[:-1]``). Caches of a torch fp8 dtype
    (float8_e4m3fn / float8_e4m3fnuz; view a uint8 cache as the format it holds) are decoded by
    torch and multiplied by ``k_scale`` / ``v_scale`` (one element each) before anything else; the
    scales are ignored for other caches. ``mtp`` and ``cu_query_lens``: the rows of each sequence
    (:func:`query_rows`); token ``i`` of ``n`` sits at ``p = L - n + i`` and attends keys
    ``max(0, p - w + 1) <= j <= p``, ALiBi ``slope * (j - p)``.

    Returns:
        float64 CPU tensor ``[num_rows, num_heads, head_size]``; zeros for a token with no key
        (``L == 0`` or ``p < 0``); NaN in the rows the op does not write.
    """
    num_rows, num_heads, head_size = query.shape
    num_seqs = context_lens.shape[0]
    fp8 = key_cache.dtype in (torch.float8_e4m3fn, torch.float8_e4m3fnuz)
    k_mul = float(k_scale) if fp8 else 1.0  # a one-element tensor or a float
    v_mul = float(v_scale) if fp8 else 1.0
    block_size = key_cache.shape[2] if kv_cache_layout == "HND" else key_cache.shape[1]
    out = torch.full((num_rows, num_heads, head_size), float("nan"), dtype=torch.float64)
    for row, i, t, n in query_rows(num_rows, num_seqs, mtp, cu_query_lens):
        L = int(context_lens[i])
        p = L - n + t  # this token's position; it attends keys [lo, p]
        out[row] = 0.0
        if p < 0:
            continue
        lo = max(0, p - sliding_window + 1) if sliding_window > 0 else 0
        blocks = block_tables[i, : -(-(p + 1) // block_size)].tolist()
        k = key_cache[blocks].cpu().double() * k_mul  # [nb, *block_shape], dequantized
        v = value_cache[blocks].cpu().double() * v_mul
        if kv_cache_layout == "HND":  # -> [nb, block_size, num_kv_heads, head_size]
            k, v = k.transpose(1, 2), v.transpose(1, 2)
        k = k.reshape(-1, k.shape[2], head_size)[lo : p + 1]  # [p + 1 - lo, num_kv_heads, head_size]: the window
        v = v.reshape(-1, v.shape[2], head_size)[lo : p + 1]
        num_kv_heads = k.shape[1]
        # Query head h = kv * group + g (group = num_heads // num_kv_heads) uses KV head kv = h // group.
        q = query[row].cpu().double().view(num_kv_heads, num_heads // num_kv_heads, head_size)
        x = scale * torch.einsum("kgd,jkd->kgj", q, k).reshape(num_heads, -1)  # [num_heads, p + 1 - lo]
        if alibi_slopes is not None:  # ALiBi from the token's own position, then the soft cap (aiter's order)
            j = torch.arange(lo, p + 1, dtype=torch.float64)
            x = x + alibi_slopes.cpu().double()[:, None] * (j - p)[None, :]
        if 0 < logits_soft_cap < math.inf:  # inf: no cap (the limit as the cap grows)
            x = logits_soft_cap * torch.tanh(x / logits_soft_cap)
        if sinks is not None:
            x = torch.cat([x, sinks.cpu().double()[:, None]], dim=-1)
        probs = torch.softmax(x, dim=-1)[:, : p + 1 - lo].reshape(num_kv_heads, -1, p + 1 - lo)
        out[row] = torch.einsum("kgj,jkd->kgd", probs, v).reshape(num_heads, head_size)
    return out
