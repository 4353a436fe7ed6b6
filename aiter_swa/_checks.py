"""Shared helpers of the ops' argument checks and GPU dispatch: the per-metadata cache of check
outcomes, and the raw GPU stream.

An op's checks look at metadata only (dtypes, shapes, strides, devices, host scalars), so their
outcome is a function of that metadata: :class:`MetadataCache` computes it once per metadata key
and reuses it. A call whose tensors match one of the recently validated metadata sets is recognised
by torch's ``TensorGuards`` (the C++ checker behind torch.compile's guards: dispatch keys, dtype,
device index, sizes, strides), about a fifth of the cost of building the Python key; where this
torch has no usable ``TensorGuards``, every call builds the key.
"""

from __future__ import annotations

import torch

try:
    from torch._C._dynamo.guards import TensorGuards as _TensorGuards
except ImportError:  # pragma: no cover - torch without dynamo
    _TensorGuards = None


def _meta(t):
    return None if t is None else (t.shape, t.stride(), t.dtype, t.device)


def _guard(tensors):
    """A TensorGuards over ``tensors`` (static sizes and strides), or None where it cannot be made."""
    if _TensorGuards is None:
        return None
    try:
        return _TensorGuards(*tensors, dynamic_dims_sizes=[list(t.shape) for t in tensors],
                             dynamic_dims_strides=[list(t.stride()) for t in tensors])  # fmt: skip
    except Exception:  # noqa: BLE001 - another torch version's signature: fall back to the Python key
        return None


class MetadataCache:
    """Records of check outcomes, keyed by ``(scalars, metadata of each tensor)``.

    Args:
        limit: records kept (the cache is cleared when full).
        recent: metadata sets checked through TensorGuards before the Python key is built.
    """

    def __init__(self, limit: int = 4096, recent: int = 8):
        self._records: dict = {}
        self._recent: list = []  # [(scalars, guard, record)], most recent first
        self._limit, self._recent_limit = limit, recent

    def lookup(self, scalars: tuple, tensors, make):
        """The record of this metadata: ``make()`` (which runs the checks and may raise) on a miss.

        Args:
            scalars: the host values the checks depend on, including which optional tensors are None.
            tensors: the tensors the checks look at (no None).
        """
        for recent_scalars, guard, record in self._recent:
            if recent_scalars == scalars and guard.check(*tensors):
                return record
        key = (scalars, *map(_meta, tensors))
        record = self._records.get(key)
        if record is None:
            record = make()
            if len(self._records) >= self._limit:
                self._records.clear()
            self._records[key] = record
        guard = _guard(tensors)
        if guard is not None:
            self._recent.insert(0, (scalars, guard, record))
            del self._recent[self._recent_limit:]
        return record

    def clear(self) -> None:
        self._records.clear()
        self._recent.clear()


def has_internal_overlap(shape, stride) -> bool:
    """Whether a tensor of ``shape`` and ``stride`` (elements) may have two elements at one address.

    Dims of size 1 are ignored; the others, sorted by stride, must each step past everything the
    smaller-stride dims span: ``stride[k] > sum_{j<k} stride[j] * (shape[j] - 1)``. That is the
    usual sufficient condition for no overlap (what dense, sliced, permuted and padded tensors
    meet); a zero stride (``expand``) or heads sharing memory (``as_strided``) fails it. Layouts
    that interleave without overlapping also fail it (exact detection is a knapsack problem): they
    are reported as overlapping. An empty tensor never overlaps. Metadata only.
    """
    if 0 in shape:
        return False
    span = 0  # largest offset reachable through the dims seen so far
    for st, size in sorted((abs(st), size) for size, st in zip(shape, stride) if size != 1):
        if st <= span:
            return True
        span += st * (size - 1)
    return False


# The raw cudaStream_t / hipStream_t of the current stream of a device: torch's internal accessor
# where it exists (a few hundred ns; what TorchInductor's generated code calls), else the public API.
if hasattr(torch._C, "_cuda_getCurrentRawStream"):
    raw_stream = torch._C._cuda_getCurrentRawStream
else:  # pragma: no cover - CPU-only builds of torch

    def raw_stream(device_index: int) -> int:
        return torch.cuda.current_stream(device_index).cuda_stream
