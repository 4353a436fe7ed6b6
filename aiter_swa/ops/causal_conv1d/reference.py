"""Float64 references of ``causal_conv1d_fwd`` / ``causal_conv1d_update`` for tests: one sequence at a
time, a plain ``torch.nn.functional.conv1d`` over the state prepended to the sequence's inputs.

Independent of :mod:`aiter_swa.ops.causal_conv1d.cpu` (which gathers each tap of every token at once).
Reads every index tensor on the host.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _conv(ext: torch.Tensor, weight: torch.Tensor, bias, activation) -> torch.Tensor:
    """``ext`` ``[dim, W - 1 + n]`` -> ``[dim, n]``, float64."""
    dim, width = weight.shape
    y = F.conv1d(ext.double()[None], weight.double().cpu()[:, None, :], None if bias is None else bias.double().cpu(),
                 groups=dim)[0]  # fmt: skip
    return y * torch.sigmoid(y) if activation in ("silu", "swish") else y


def causal_conv1d_fwd_reference(x, weight, bias, conv_states, query_start_loc, cache_indices=None,
                                has_initial_state=None, activation="silu", pad_slot_id=-1):  # fmt: skip
    """Forward (semantics: ``aiter_swa.ops.causal_conv1d.op``), in float64 on the CPU.

    Args: as ``torch.ops.aiter_swa.causal_conv1d_fwd`` (``x`` ``[dim, total_tokens]``, ``weight``
    ``[dim, width]``, ``conv_states`` ``[num_cache_lines, dim, width - 1]``; not modified).

    Returns:
        ``(out, states)``: float64 CPU ``[dim, total_tokens]`` with NaN at every token the op does
        not write (padded or empty sequences, tokens past ``query_start_loc[-1]``), and
        ``{cache line: new state [dim, width - 1] in conv_states' dtype}`` (the exact inputs).
    """
    x, states = x.cpu(), conv_states.cpu()
    width = weight.shape[1]
    qsl = query_start_loc.cpu().tolist()
    out = torch.full(x.shape, float("nan"), dtype=torch.float64)
    new_states = {}
    for s in range(len(qsl) - 1):
        line = s if cache_indices is None else int(cache_indices[s])
        start, end = qsl[s], qsl[s + 1]
        if (cache_indices is not None and line == pad_slot_id) or end == start:
            continue
        init = has_initial_state is not None and bool(has_initial_state[s])
        state = states[line] if init else torch.zeros_like(states[line])
        ext = torch.cat([state, x[:, start:end]], dim=1)  # [dim, W - 1 + len], original dtype
        out[:, start:end] = _conv(ext, weight, bias, activation)
        new_states[line] = ext[:, ext.shape[1] - (width - 1):].clone()
    return out, new_states


def causal_conv1d_update_reference(x, conv_state, weight, bias=None, activation=None, conv_state_indices=None,
                                   pad_slot_id=-1):  # fmt: skip
    """Decode update in float64: ``(out, states)`` as :func:`causal_conv1d_fwd_reference`, ``out`` in
    x's shape (NaN for padded rows)."""
    x3 = (x if x.dim() == 3 else x.unsqueeze(-1)).cpu()
    width = weight.shape[1]
    out = torch.full(x3.shape, float("nan"), dtype=torch.float64)
    new_states = {}
    for b in range(x3.shape[0]):
        line = b if conv_state_indices is None else int(conv_state_indices[b])
        if conv_state_indices is not None and line == pad_slot_id:
            continue
        ext = torch.cat([conv_state[line].cpu(), x3[b]], dim=1)
        out[b] = _conv(ext, weight, bias, activation)
        new_states[line] = ext[:, ext.shape[1] - (width - 1):].clone()
    return (out if x.dim() == 3 else out[..., 0]), new_states
