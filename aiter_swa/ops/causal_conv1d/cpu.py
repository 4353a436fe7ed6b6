"""CPU implementations of ``causal_conv1d_fwd`` and ``causal_conv1d_update``: vectorized torch.

Forward: every computed token gathers its ``width`` inputs at once — ``x`` where the input lies in
the sequence, else the sequence's old state (or zero) — with ``torch.where`` (never a multiplication
by a mask, so NaN in an unused state or cache line cannot leak); math in float32, the result cast to
``out``'s dtype. The new states are gathered in the tensors' own dtype (bit-exact copies of inputs)
and written after every output. Being on the CPU, the implementation also checks the values of
``query_start_loc``, ``cache_indices`` and ``seq_lens_cpu`` (ValueError) before writing anything.
"""

from __future__ import annotations

import torch

from .call import FwdCall, UpdateCall


def _act(v: torch.Tensor, activation: str) -> torch.Tensor:
    return torch.nn.functional.silu(v) if activation == "silu" else v


def _lines(indices, n, pad, num_lines, name):
    """Cache line per sequence (int64) and the mask of sequences that are not padding."""
    if indices is None:
        return torch.arange(n), torch.ones(n, dtype=torch.bool)
    idx = indices.to(torch.int64)
    keep = idx != pad
    bad = keep & ((idx < 0) | (idx >= num_lines))
    if bool(bad.any()):
        raise ValueError(
            f"{name}: expected entries in [0, num_cache_lines={num_lines}) or pad_slot_id={pad}, "
            f"got {idx[bad].tolist()[:8]}"
        )
    return idx.clamp(0, max(num_lines - 1, 0)), keep


def run_fwd(call: FwdCall) -> None:
    """Write ``call.out`` at every token of every non-padded sequence and each such sequence's new state.

    Raises:
        ValueError: ``query_start_loc`` not non-decreasing within ``[0, total_tokens]``, a
            ``cache_indices`` entry outside the cache (other than ``pad_slot_id``), ``seq_lens_cpu``
            different from ``query_start_loc``'s differences. Nothing is written then.
    """
    d = call.dims
    x, out, states, w = call.x, call.out, call.conv_states, call.weight
    W, T, n = d.width, d.total_tokens, d.num_seqs
    qsl = call.query_start_loc.to(torch.int64)
    if n and (int(qsl[0]) < 0 or int(qsl[-1]) > T or bool((qsl[1:] < qsl[:-1]).any())):
        raise ValueError(
            f"query_start_loc: expected non-decreasing entries in [0, total_tokens={T}], got {qsl.tolist()[:16]}"
        )
    lens = qsl[1:] - qsl[:-1]
    if call.seq_lens_cpu is not None and list(call.seq_lens_cpu) != lens.tolist():
        raise ValueError(
            f"seq_lens_cpu: expected query_start_loc's differences {lens.tolist()[:16]}, got {list(call.seq_lens_cpu)[:16]}"
        )
    lines, keep = _lines(call.cache_indices, n, call.pad_slot_id, d.num_cache_lines, "cache_indices")
    init = call.has_initial_state if call.has_initial_state is not None else torch.zeros(n, dtype=torch.bool)
    keep &= lens > 0
    if n == 0 or not bool(keep.any()):
        return
    # Tokens of the kept sequences, their sequence and position.
    seq_of = torch.repeat_interleave(torch.arange(n), lens)
    tok = qsl[0] + torch.arange(int(lens.sum()))
    sel = keep[seq_of]
    seq_of, tok = seq_of[sel], tok[sel]
    pos = tok - qsl[seq_of]
    line, has = lines[seq_of], init[seq_of]
    # Output: sum over taps k (input t - k; tap weight W - 1 - k).
    acc = torch.zeros(d.dim, tok.numel(), dtype=torch.float32)
    if call.bias is not None:
        acc += call.bias.float()[:, None]
    for k in range(W):
        from_x = x[:, (tok - k).clamp_min(0)].float()
        sidx = (W - 1 - k + pos).clamp(0, W - 2)  # state slot of input t - k when pos < k
        from_state = states[line, :, sidx].T.float()  # [dim, tokens]
        from_state = torch.where(has[None, :], from_state, torch.zeros((), dtype=torch.float32))
        inp = torch.where((pos >= k)[None, :], from_x, from_state)
        acc += w[:, W - 1 - k].float()[:, None] * inp
    # New states (the last W - 1 inputs of state ++ x), gathered in the original dtype.
    kept = keep.nonzero().flatten()
    k_line, k_len, k_start, k_init = lines[kept], lens[kept], qsl[kept], init[kept]
    new = []
    for j in range(W - 1):
        q = k_len - (W - 1) + j  # input position in the sequence; < 0: from the old state
        from_x = x[:, (k_start + q).clamp(0, max(T - 1, 0))]  # [dim, kept]
        from_state = states[k_line, :, (W - 1 + q).clamp(0, W - 2)].T
        from_state = torch.where(k_init[None, :], from_state, torch.zeros((), dtype=x.dtype))
        new.append(torch.where((q >= 0)[None, :], from_x, from_state))
    out[:, tok] = _act(acc, d.activation).to(out.dtype)
    for j in range(W - 1):
        states[k_line, :, j] = new[j].T


def run_update(call: UpdateCall) -> None:
    """Write ``call.out`` and the new state of every non-padded row of the batch (``out`` may be ``x``).

    Raises:
        ValueError: a ``conv_state_indices`` entry outside the cache other than ``pad_slot_id``.
    """
    d = call.dims
    if d.batch == 0 or d.seqlen == 0:
        return
    x3 = call.x if call.x.dim() == 3 else call.x.unsqueeze(-1)
    o3 = call.out if call.out.dim() == 3 else call.out.unsqueeze(-1)
    lines, keep = _lines(call.conv_state_indices, d.batch, call.pad_slot_id, d.num_cache_lines, "conv_state_indices")
    rows = keep.nonzero().flatten()
    if rows.numel() == 0:
        return
    ext = torch.cat([call.conv_state[lines[rows]], x3[rows]], dim=2)  # [rows, dim, W - 1 + seqlen], a copy
    W, L = d.width, d.seqlen
    acc = torch.zeros(rows.numel(), d.dim, L, dtype=torch.float32)
    if call.bias is not None:
        acc += call.bias.float()[None, :, None]
    for k in range(W):
        acc += call.weight[:, k].float()[None, :, None] * ext[:, :, k : k + L].float()
    o3[rows] = _act(acc, d.activation).to(o3.dtype)
    call.conv_state[lines[rows]] = ext[:, :, L:]
