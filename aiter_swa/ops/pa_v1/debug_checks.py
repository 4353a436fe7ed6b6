"""Opt-in value checks of ``block_tables`` and ``context_lens``: ``AITER_SWA_DEBUG_CHECKS=1``.

Validation (``call.py``) reads metadata only, so that a call never synchronises. The *values* of
``context_lens`` and ``block_tables`` are device data the kernel cannot trust, and it does not:
each context length is clamped to ``[0, max_context_len]`` on the device, and a sequence whose
attended keys lie in a block id outside ``[0, num_blocks)`` gets NaN in its whole ``out`` row
(docs/design.md, "Metadata the kernel cannot trust"). That keeps every access inside the tensors,
but a wrong table then shows only as NaN or a clamped result.

With ``AITER_SWA_DEBUG_CHECKS=1`` (any value but ``''``, ``0``, ``false``, ``no``, ``off``; read
once, when ``aiter_swa`` is imported) every call first checks these values with torch ops on the
tensors' device and raises ``ValueError`` naming the argument, before anything is written. **This
synchronises** with the device (the verdict is read on the host): a debugging aid, not for a
serving loop, and it raises under CUDA/HIP graph capture. Off, it costs one module-attribute test
per call.

The CPU path always checks ``context_lens`` (:func:`check_context_lens`; reading values is free
there), and checks ``block_tables`` only in this mode, as the GPU does: with it off, both paths
write NaN for a sequence with a bad block id.
"""

from __future__ import annotations

import sys
import types

import torch

from aiter_swa import _fast_path
from aiter_swa.jit.toolchain import env_flag

from .tokens import attended_key_range, query_tokens

#: The environment variable that turns the checks on.
ENV = "AITER_SWA_DEBUG_CHECKS"


class _Module(types.ModuleType):
    """Setting ``ENABLED`` (at import, or later: tests do) also suspends the fast path, whose hits
    never reach these checks (``aiter_swa._fast_path.suspend``)."""

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        if name == "ENABLED":
            _fast_path.suspend("pa_v1 debug checks", bool(value))


sys.modules[__name__].__class__ = _Module
#: Read once at import; tests may set it.
ENABLED = env_flag(ENV)
_fast_path.suspend("pa_v1 debug checks", ENABLED)  # (an assignment in the module body bypasses __setattr__)


def _context_lens_error(max_context_len: int, lo: int, hi: int) -> ValueError:
    return ValueError(f"context_lens: expected entries in [0, max_context_len={max_context_len}], got min {lo}, max {hi}")


def check_context_lens(context_lens: torch.Tensor, max_context_len: int) -> None:
    """Raise ValueError unless every entry of ``context_lens`` is in ``[0, max_context_len]`` (synchronises on a GPU)."""
    if context_lens.numel() == 0:
        return
    lo, hi = (int(v) for v in torch.aminmax(context_lens))
    if lo < 0 or hi > max_context_len:
        raise _context_lens_error(max_context_len, lo, hi)


def bad_block_mask(call, lens: torch.Tensor, block_size: int) -> torch.Tensor:
    """bool ``[num_seqs, max_blocks_per_seq]``: entries of ``block_tables`` that hold keys some query
    token attends (``tokens.attended_key_range``: with one token, columns
    ``[max(0, L - w) // block_size, ceil(L / block_size))``; ``lens`` int64 in ``[0, max_context_len]``)
    and are outside ``[0, num_blocks)``. Torch ops on the tensors' device."""
    bs = block_size
    tok = query_tokens(lens, call.query.shape[0], call.mtp, call.cu_query_lens)
    first, end = attended_key_range(lens, tok.counts, call.mtp, call.sliding_window)
    first, end = first // bs, -(-end // bs)
    col = torch.arange(call.block_tables.shape[1], device=lens.device)
    used = (col >= first[:, None]) & (col < end[:, None])
    ids = call.block_tables
    return used & ((ids < 0) | (ids >= call.key_cache.shape[0]))


def check_values(call, dims=None) -> None:
    """Check a validated call's ``context_lens`` and ``block_tables`` values; one host-device sync
    when they are fine. ``call``: a ``PaV1Call``; ``dims``: its sizes (default ``call.dims``).

    Raises:
        ValueError: ``context_lens`` outside ``[0, max_context_len]`` (min and max given), or a
            block id outside ``[0, num_blocks)`` among the entries that hold attended keys (its
            value, position and the count of such entries given).
    """
    lens = call.context_lens
    if lens.numel() == 0:
        return
    lens = lens.long()
    lo, hi = torch.aminmax(lens)
    bad = bad_block_mask(call, lens.clamp(0, call.max_context_len), (dims or call.dims).block_size)
    lo, hi, num_bad = torch.stack((lo, hi, bad.sum())).tolist()  # the one sync
    if lo < 0 or hi > call.max_context_len:
        raise _context_lens_error(call.max_context_len, lo, hi)
    if num_bad:
        i, j = bad.nonzero()[0].tolist()
        raise ValueError(
            f"block_tables: expected block ids in [0, num_blocks={call.key_cache.shape[0]}) (key_cache.shape[0]) "
            f"in the entries that hold attended keys, got {int(call.block_tables[i, j])} at block_tables[{i}, {j}]"
            f" ({num_bad} such entr{'y' if num_bad == 1 else 'ies'})"
        )
