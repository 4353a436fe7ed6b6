"""CPU implementation of ``paged_attention_v1``: vectorized torch, batched over sequences and query tokens.

Each sequence gathers only the KV-cache blocks that hold its attended keys (the window's blocks
when a window is on), so peak extra memory is O(num_seqs x min(window, context) x num_kv_heads x
head_size). Math in float32; the result is cast to ``out``'s dtype. An fp8 KV cache is decoded by
torch (exact) and its per-tensor scales applied as the GPU kernel applies them: ``k_scale`` with
the softmax scale to the logits, ``v_scale`` to the output. Keys and values outside the
window or the context are excluded with ``masked_fill`` (never multiplied by zero), so
whatever the cache holds there (NaN in a freed block) does not reach ``out``.
"""

from __future__ import annotations

import torch

from . import debug_checks
from .call import PaV1Call, kv_element_dtype, soft_cap_enabled
from .tokens import attended_key_range, query_tokens


def _gather_tokens(cache: torch.Tensor, block_ids: torch.Tensor, layout: str) -> torch.Tensor:
    """``cache[block_ids]`` as float32 ``[num_seqs, num_kv_heads, num_gathered_blocks * block_size, head_size]``.

    A new tensor (advanced indexing copies), safe to modify in place.
    """
    blocks = cache[block_ids]  # [num_seqs, nb, *block_shape]
    if layout == "HND":  # block: [num_kv_heads, block_size, head_size]
        blocks = blocks.permute(0, 2, 1, 3, 4)
    else:  # NHD block: [block_size, num_kv_heads, head_size]
        blocks = blocks.permute(0, 3, 1, 2, 4)
    tokens = blocks.to(torch.float32, memory_format=torch.contiguous_format)
    return tokens.flatten(2, 3)


def _checked_block_ids(block_ids: torch.Tensor, used: torch.Tensor, num_blocks: int):
    """Block ids safe to gather, and which sequences have a bad one (or None when none has).

    ``block_ids`` (int64 ``[num_seqs, nb]``) where ``used`` holds; elsewhere, and where an id is
    outside ``[0, num_blocks)``, block 0 is read instead (masked out, or its sequence's output
    replaced by NaN by the caller: the GPU kernel's contract). No torch negative indexing.
    """
    bad = used & ((block_ids < 0) | (block_ids >= num_blocks))
    bad_seqs = bad.any(1)
    safe = torch.where(used & ~bad, block_ids, 0)
    return safe, (bad_seqs if bool(bad_seqs.any()) else None)


def run(call: PaV1Call) -> None:
    """Write the attention of each query token into its row of ``call.out`` (semantics: docs/design.md).

    ``call`` is validated (``call.validate``). Being on the CPU, it also checks the values:
    ``0 <= context_lens <= max_context_len`` (ValueError otherwise). Multi-token queries (``mtp``,
    ``cu_query_lens``) follow :mod:`.tokens`: rows no sequence writes are left as they were. A block
    id outside ``[0, num_blocks)`` among those holding a sequence's attended keys is never
    dereferenced (no negative indexing): that sequence's rows are NaN, as on the GPU; with
    ``AITER_SWA_DEBUG_CHECKS=1`` it is a ValueError naming ``block_tables`` (``debug_checks``).
    """
    dims = call.dims
    out, query, key_cache, value_cache = call.out, call.query, call.key_cache, call.value_cache
    block_tables, context_lens, max_context_len = call.block_tables, call.context_lens, call.max_context_len
    alibi_slopes, logits_soft_cap, sliding_window = call.alibi_slopes, call.logits_soft_cap, call.sliding_window
    layout = call.kv_cache_layout
    n, bs, mtp = dims.num_seqs, dims.block_size, call.mtp
    fp8 = call.kv_cache_dtype != "auto"
    if fp8:  # uint8: the fp8 format of the device (OCP E4M3 on the CPU)
        element = kv_element_dtype(key_cache)
        key_cache, value_cache = key_cache.view(element), value_cache.view(element)
    if n == 0:
        return
    if debug_checks.ENABLED:
        debug_checks.check_values(call)
    debug_checks.check_context_lens(context_lens, max_context_len)
    num_rows = query.shape[0]
    lens = context_lens.to(torch.int64)
    tok = query_tokens(lens, num_rows, mtp, call.cu_query_lens)
    if num_rows == 0 or not bool(tok.written.any()):
        return
    # Keys some token of sequence i attends: [first[i], end[i]). Blocks holding them: [first // bs, ceil(end / bs)).
    first, end = attended_key_range(lens, tok.counts, mtp, sliding_window)
    first_block = first // bs
    end_block = -(-end // bs)
    num_gathered = int((end_block - first_block).max())
    has_keys = end > first
    rows = tok.rows.clamp(0, num_rows - 1)  # [n, mtp]; only the written ones are stored
    if num_gathered == 0:  # no token attends a key: zeros
        out[rows[tok.written]] = 0
        return

    if key_cache.shape[0] == 0:  # no block at all: every sequence with a key has a bad id (NaN)
        result = torch.where(has_keys[:, None, None, None], float("nan"), 0.0).expand(n, mtp, *out.shape[1:])
        out[rows[tok.written]] = result[tok.written].to(out.dtype)
        return
    col = first_block[:, None] + torch.arange(num_gathered)  # [n, nb] block-table columns
    col_used = col < end_block[:, None]
    block_ids = block_tables.long().gather(1, col.clamp_max(dims.max_blocks_per_seq - 1))
    block_ids, bad_seqs = _checked_block_ids(block_ids, col_used, key_cache.shape[0])
    keys = _gather_tokens(key_cache, block_ids, layout)  # [n, kvh, t, d]
    values = _gather_tokens(value_cache, block_ids, layout)

    kpos = first_block[:, None] * bs + torch.arange(num_gathered * bs)  # [n, t] key positions
    qpos = tok.pos  # [n, mtp] query positions
    lo = (qpos - sliding_window + 1).clamp_min(0) if sliding_window > 0 else torch.zeros_like(qpos)
    attended = (
        tok.valid[:, :, None] & (kpos[:, None, :] >= lo[:, :, None]) & (kpos[:, None, :] <= qpos[:, :, None])
        & (kpos[:, None, :] < lens[:, None, None])
    )  # [n, mtp, t]  # fmt: skip
    kvh, gqa, d = dims.num_kv_heads, dims.gqa_ratio, dims.head_size
    # [n, mtp, H, d] -> [n, kvh, mtp * gqa, d]: the rows of one KV head's matrix product
    q = query[rows].to(torch.float32).view(n, mtp, kvh, gqa, d).transpose(1, 2).reshape(n, kvh, mtp * gqa, d)
    logits = torch.matmul(q, keys.transpose(-1, -2)).view(n, kvh, mtp, gqa, -1) * call.scale  # [n, kvh, mtp, gqa, t]
    if fp8:
        logits *= call.k_scale.reshape(())
    if alibi_slopes is not None:  # ALiBi from the row's own position, then the soft cap (aiter's order)
        slopes = alibi_slopes.view(1, kvh, 1, gqa, 1)
        logits = logits + slopes * (kpos[:, None, :] - qpos[:, :, None])[:, None, :, None, :].to(torch.float32)
    if soft_cap_enabled(logits_soft_cap):
        logits = torch.tanh(logits / logits_soft_cap) * logits_soft_cap
    not_attended = ~attended[:, None, :, None, :]  # [n, 1, mtp, 1, t]
    logits.masked_fill_(not_attended, float("-inf"))
    if call.sinks is not None:  # the sink logit joins the softmax's denominator only (gpt-oss)
        sinks = call.sinks.view(1, kvh, 1, gqa, 1).expand(n, -1, mtp, -1, 1)
        probs = torch.softmax(torch.cat([logits, sinks], dim=-1), dim=-1)[..., :-1]
    else:
        probs = torch.softmax(logits, dim=-1)
    probs = probs.masked_fill(not_attended, 0.0)  # a token with no key (L == 0, p < 0): NaN rows -> zeros
    key_unused = ~attended.any(1)  # [n, t]: no token attends it: its value is never read
    values.masked_fill_(key_unused[:, None, :, None], 0.0)  # values is our gathered copy
    result = torch.matmul(probs.view(n, kvh, mtp * gqa, -1), values)  # [n, kvh, mtp * gqa, d]
    result = result.view(n, kvh, mtp, gqa, d).transpose(1, 2).reshape(n, mtp, dims.num_heads, d)
    if fp8:
        result *= call.v_scale.reshape(())
    if bad_seqs is not None:
        result.masked_fill_(bad_seqs[:, None, None, None], float("nan"))
    out[rows[tok.written]] = result[tok.written].to(out.dtype)
