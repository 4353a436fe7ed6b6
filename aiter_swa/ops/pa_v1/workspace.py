"""Split-K workspace of ``paged_attention_v1``: how many partitions a call has, how many bytes it needs,
and where each array sits in the buffer.

The GPU kernel splits each sequence's attended keys into partitions of ``partition_size`` tokens
(aiter's ``_PARTITION_SIZE_ROCM`` = 256). With a sliding window the partitions start at the first
attended key (docs/design.md), so their number is bounded by the window, not by the context: by
``w + mtp - 1`` keys with ``mtp`` query tokens (the union of the tokens' windows, ``tokens.py``).
When one partition covers every sequence, the kernel writes ``out`` directly and no workspace is
needed. Otherwise the workspace holds, for ``n = num_seqs * mtp * num_heads * num_partitions``
(``num_seqs * mtp`` query rows: aiter's sizing; with ``cu_query_lens`` the query may have more rows,
e.g. vLLM's mixed batches, and a GPU kernel then splits less so that the buffer it is given holds
its partials, or not at all):

========== =========== ================================================ ==============
name       dtype       shape                                            byte offset
========== =========== ================================================ ==============
exp_sums   float32     ``[num_seqs * mtp, num_heads, num_partitions]``  ``0``
max_logits float32     ``[num_seqs * mtp, num_heads, num_partitions]``  ``4 * n``
tmp_out    out dtype   ``[num_seqs * mtp, num_heads, num_partitions,    ``8 * n``
                       head_size]``
========== =========== ================================================ ==============

``8 * n + n * head_size * sizeof(out dtype)`` bytes: aiter's own sizing of ``workspace_buffer``
(partial outputs in the output dtype, as aiter's and vLLM's CUDA paged attention v2 keep them),
with this op's partition count, which is never larger than aiter's
``ceil(max_context_len / 256)``. So any buffer sized the way aiter (or vLLM's ROCm aiter backend)
sizes it is enough for every call.
"""

from __future__ import annotations

import torch

from .spec import PARTITION_SIZE, SUPPORTED_PARTITION_SIZES

#: Query/output dtypes the op takes (float32 on the CPU only; see ``call``).
DTYPES = (torch.float16, torch.bfloat16, torch.float32)


def attended_span(max_context_len: int, sliding_window: int = 0, mtp: int = 1) -> int:
    """The most keys the ``mtp`` query rows of a sequence attend: ``min(max_context_len, w + mtp - 1)``
    with a window ``w > 0`` (the union of the rows' windows, ``tokens.attended_key_range``), else
    ``max_context_len``. C++ twin: ``attended_span`` of csrc/include/aiter_swa/pa_v1/split.h."""
    return min(max_context_len, sliding_window + mtp - 1) if sliding_window > 0 else max_context_len


def num_partitions(
    max_context_len: int, sliding_window: int = 0, partition_size: int = PARTITION_SIZE, mtp: int = 1
) -> int:
    """Partitions per sequence the GPU grid needs: ``ceil(min(max_context_len, w + mtp - 1) / partition_size)``.

    ``w = sliding_window`` when it is > 0: the ``mtp`` tokens of a sequence attend at most
    ``w + mtp - 1`` distinct keys (``tokens.attended_key_range``). ``w <= 0`` (no window) uses
    ``max_context_len`` alone. ``0`` when ``max_context_len == 0``. Never more than aiter's
    ``ceil(max_context_len / 256)``.

    Raises:
        ValueError: ``partition_size`` not in ``SUPPORTED_PARTITION_SIZES``, or ``max_context_len < 0``.
    """
    if partition_size not in SUPPORTED_PARTITION_SIZES:
        raise ValueError(f"partition_size: expected one of {SUPPORTED_PARTITION_SIZES}, got {partition_size}")
    if max_context_len < 0:
        raise ValueError(f"max_context_len: expected an int >= 0, got {max_context_len}")
    return -(-attended_span(max_context_len, sliding_window, mtp) // partition_size)


def check_mtp(mtp: int) -> None:
    """Raise ValueError unless ``mtp`` (query tokens per sequence) is >= 1."""
    if mtp < 1:
        raise ValueError(f"mtp: expected an int >= 1 (query tokens per sequence), got {mtp}")


def layout(num_rows: int, num_heads: int, head_size: int, parts: int, out_itemsize: int) -> tuple:
    """Byte offsets ``(exp_sums, max_logits, tmp_out)`` and the total size, for ``num_rows`` query rows.

    ``(0, 0, 0, 0)`` when ``parts <= 1`` (no workspace). Layout: this module's docstring.
    """
    if parts <= 1:
        return 0, 0, 0, 0
    n = num_rows * num_heads * parts
    return 0, 4 * n, 8 * n, 8 * n + n * head_size * out_itemsize


def get_workspace_size(
    num_seqs: int,
    num_heads: int,
    head_size: int,
    max_context_len: int,
    dtype: torch.dtype,
    sliding_window: int = 0,
    partition_size: int = PARTITION_SIZE,
    mtp: int = 1,
) -> int:
    """Bytes of ``workspace_buffer`` (uint8) that ``paged_attention_v1`` needs for these sizes.

    Args:
        num_seqs: sequences in the batch.
        num_heads: query heads.
        head_size: elements per head.
        max_context_len: upper bound of ``context_lens`` (tokens).
        dtype: output dtype (float16, bfloat16 or float32): the partial outputs are kept in it.
        sliding_window: window in tokens; ``<= 0`` disables it. With a window the size is
            O(window), not O(context).
        partition_size: tokens per split-K partition (only 256).
        mtp: most query tokens per sequence (the op's ``mtp``; with ``cu_query_lens`` the bound
            of every sequence's count, whatever the query's row count).

    Returns:
        ``0`` when ``num_partitions(max_context_len, sliding_window, partition_size, mtp) <= 1`` (one partition writes
        ``out`` directly); else ``8 * n + n * head_size * dtype.itemsize`` with
        ``n = num_seqs * mtp * num_heads * num_partitions`` (layout in this module's docstring),
        never more than aiter's sizing for the same call. This is the least the op takes; a larger
        buffer (up to aiter's sizing: the same call with ``sliding_window=0``) lets the matrix-core
        kernel split a small batch into more partitions so that it fills the GPU (``gpu.mma_split``:
        the partition count is bounded by what the buffer holds).

    Raises:
        TypeError: ``dtype`` not one of float16, bfloat16, float32.
        ValueError: unsupported ``partition_size``, ``mtp < 1`` or ``max_context_len < 0``.
    """
    if dtype not in DTYPES:
        raise TypeError(f"dtype: expected one of {DTYPES}, got {dtype}")
    check_mtp(mtp)
    parts = num_partitions(max_context_len, sliding_window, partition_size, mtp)
    return layout(num_seqs * mtp, num_heads, head_size, parts, dtype.itemsize)[3]


def max_context_limit(
    num_seqs: int,
    num_heads: int,
    head_size: int,
    workspace_bytes: int,
    dtype: torch.dtype,
    sliding_window: int = 0,
    partition_size: int = PARTITION_SIZE,
    mtp: int = 1,
) -> int | None:
    """The largest ``max_context_len`` whose :func:`get_workspace_size` (same other arguments) is at
    most ``workspace_bytes``, or None when every ``max_context_len`` fits (a window whose
    ``w + mtp - 1`` keys fit, or no sequence). Exact: ``get_workspace_size`` grows with
    ``max_context_len`` only through the partition count, ``ceil(span / partition_size)``, and needs
    ``num_seqs * mtp * num_heads * (8 + head_size * itemsize)`` bytes per partition beyond one.

    Raises:
        TypeError, ValueError: as :func:`get_workspace_size`.
    """
    get_workspace_size(num_seqs, num_heads, head_size, 0, dtype, sliding_window, partition_size, mtp)  # its checks
    per_partition = num_seqs * mtp * num_heads * (8 + head_size * dtype.itemsize)
    if per_partition <= 0:
        return None
    span_limit = partition_size * max(1, workspace_bytes // per_partition)  # one partition needs no workspace
    if sliding_window > 0 and sliding_window + mtp - 1 <= span_limit:
        return None
    return span_limit
