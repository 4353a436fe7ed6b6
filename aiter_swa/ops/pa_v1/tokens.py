"""Multi-token queries of ``paged_attention_v1``: which query row holds which token, at which position.

Semantics (docs/design.md, "Multi-token queries"), in torch ops that run on any device (the CPU
path, the opt-in debug checks and the GPU self-check use them; the GPU kernel implements the same
rules on the device without reading anything on the host):

- ``mtp`` (>= 1) is the most query tokens a sequence has. ``num_rows = query.shape[0]``.
- Without ``cu_query_lens``: ``num_rows == num_seqs * mtp``; sequence ``s`` has ``n = mtp`` tokens in
  rows ``s * mtp + i`` (aiter's layout, ``query_loc = seq_idx * MTP`` in its ``pa_v1.cuh``).
- With ``cu_query_lens`` (int32, ``[num_seqs + 1]``): sequence ``s`` owns rows ``cu[s] .. cu[s+1] - 1``,
  ``n = cu[s+1] - cu[s]``. Also accepted: ``[num_seqs]``, whose missing last entry is ``num_rows``
  (vLLM's ROCM_AITER_FA decode passes ``query_start_loc[:num_decodes]`` with
  ``query[:num_decode_tokens]``). The values are device data the host never reads; any values are
  safe (a documented contract, not a crash):

  * ``n > mtp``: the sequence is skipped, its rows are not written (aiter's ``pa_v1`` kernel returns
    for ``query_len > 1``; vLLM's older ROCM_AITER_FA calls it over a mixed batch after the prefill
    rows were written by flash attention, and relies on that).
  * ``n <= 0``: nothing.
  * a row ``cu[s] + i`` outside ``[0, num_rows)`` is neither read nor written; rows claimed by two
    sequences (non-monotone values) get one of the two results.
  * rows no sequence writes keep what ``out`` held.

- Token ``i`` of the ``n`` tokens of a sequence with ``L`` keys sits at position ``p = L - n + i``
  (the last at ``L - 1``; aiter's MTP reference ``op_tests/test_pa_mtp.py`` masks with
  ``tril(diagonal=s_k - s_q)``, the same) and attends keys ``j`` with ``max(0, p - w + 1) <= j <= p``
  (window ``w > 0``; else ``0 <= j <= p``). ``p < 0``: no key, zeros.
- The keys a sequence's tokens attend (with a window): ``[max(0, L - n - w + 1), L)``; their block
  ids are the ones that must be valid (a bad one makes all the sequence's rows NaN).
"""

from __future__ import annotations

import dataclasses

import torch


@dataclasses.dataclass
class Tokens:
    """The tokens of a call as ``[num_seqs, mtp]`` int64/bool tensors (slot ``(s, i)``: token ``i`` of ``s``)."""

    #: Token ``i`` exists: ``i < n_s`` and ``n_s <= mtp``.
    valid: torch.Tensor
    #: Its query/out row (meaningful where ``valid``).
    rows: torch.Tensor
    #: ``valid`` and the row in ``[0, num_rows)``: the rows that are read and written.
    written: torch.Tensor
    #: Its position ``p = L - n + i`` (``L`` the context length as given).
    pos: torch.Tensor
    #: Tokens per sequence, ``n_s`` (as given; may be negative or above ``mtp``), ``[num_seqs]``.
    counts: torch.Tensor


def query_tokens(context_lens: torch.Tensor, num_rows: int, mtp: int, cu_query_lens: torch.Tensor | None) -> Tokens:
    """The token layout of one call, on ``context_lens``'s device (torch ops; no host read).

    Args:
        context_lens: int ``[num_seqs]`` (values used as given: clamp them first where needed).
        num_rows: ``query.shape[0]``.
        mtp: most tokens per sequence (>= 1).
        cu_query_lens: None, or int ``[num_seqs + 1]`` / ``[num_seqs]`` (validated shape).
    """
    num_seqs = context_lens.shape[0]
    device = context_lens.device
    lens = context_lens.long()
    i = torch.arange(mtp, device=device)
    if cu_query_lens is None:
        starts = torch.arange(num_seqs, device=device) * mtp
        counts = torch.full((num_seqs,), mtp, dtype=torch.int64, device=device)
    else:
        cu = cu_query_lens.to(device=device, dtype=torch.int64)
        starts = cu[:num_seqs]
        ends = cu[1:] if cu.shape[0] == num_seqs + 1 else torch.cat([cu[1:], cu.new_full((1,), num_rows)])[:num_seqs]
        counts = ends - starts
    valid = (i < counts[:, None]) & (counts[:, None] <= mtp)
    rows = starts[:, None] + i
    written = valid & (rows >= 0) & (rows < num_rows)
    pos = lens[:, None] - counts[:, None] + i
    return Tokens(valid=valid, rows=rows, written=written, pos=pos, counts=counts)


def attended_key_range(lens: torch.Tensor, counts: torch.Tensor, mtp: int, sliding_window: int):
    """``(first, end)`` int64 ``[num_seqs]``: the keys ``[first, end)`` some token of each sequence
    attends; ``first == end == 0`` for a sequence with no token (``n <= 0`` or ``n > mtp``).
    ``lens``: int64 context lengths in ``[0, max_context_len]``."""
    has = (counts > 0) & (counts <= mtp)
    if sliding_window > 0:
        first = (lens - counts - sliding_window + 1).clamp_min(0)
    else:
        first = torch.zeros_like(lens)
    end = torch.where(has, lens, 0)
    first = torch.where(has, torch.minimum(first, end), 0)
    return first, end
