"""aiter_swa: paged-attention decode with sliding-window attention, as ``torch.ops.aiter.paged_attention_v1``.

Importing the package registers the op (see :mod:`aiter_swa.ops`). Public helpers:
:func:`get_workspace_size` and the convenience wrapper :func:`paged_attention`. The test reference
is :func:`aiter_swa.reference.paged_attention_reference`.
"""

from . import ops  # noqa: F401  (registers torch.ops.aiter.paged_attention_v1)
from .api import paged_attention
from .workspace import get_workspace_size

__all__ = ["get_workspace_size", "paged_attention"]
