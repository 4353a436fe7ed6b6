"""aiter_swa: paged-attention decode with sliding-window attention, as ``torch.ops.aiter_swa.paged_attention_v1``.

Importing the package registers the library's torch ops (one folder per op under
:mod:`aiter_swa.ops`); ``torch.ops.aiter.paged_attention_v1`` is registered too where AMD's aiter
is not installed (see :mod:`aiter_swa._library`). Public helpers: :func:`get_workspace_size` and
the convenience wrapper :func:`paged_attention`. The test reference is
:func:`aiter_swa.ops.pa_v1.reference.paged_attention_reference`.
"""

from .ops.pa_v1 import op as _pa_v1_op  # noqa: F401  (registers torch.ops.aiter_swa.paged_attention_v1)
from .ops.pa_v1.api import paged_attention
from .ops.pa_v1.workspace import get_workspace_size

__all__ = ["get_workspace_size", "paged_attention"]
