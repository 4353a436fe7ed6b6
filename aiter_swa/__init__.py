"""aiter_swa: paged-attention decode with sliding-window attention, as ``torch.ops.aiter_swa.paged_attention_v1``.

Importing the package registers the library's torch ops (one folder per op under
:mod:`aiter_swa.ops`); ``torch.ops.aiter.paged_attention_v1`` is registered too where AMD's aiter
is not installed (see :mod:`aiter_swa._library`). Public helpers: :func:`get_workspace_size` and
the convenience wrapper :func:`paged_attention`. The test reference is
:func:`aiter_swa.ops.pa_v1.reference.paged_attention_reference`.

Also registered: ``torch.ops.aiter_swa.causal_conv1d_fwd`` and ``torch.ops.aiter_swa.causal_conv1d_update``
(varlen causal depthwise conv1d with per-sequence state, vLLM's semantics; see
:mod:`aiter_swa.ops.causal_conv1d.op`).
"""

from .ops.causal_conv1d import op as _causal_conv1d_op  # noqa: F401  (registers torch.ops.aiter_swa.causal_conv1d_*)
from .ops.pa_v1 import op as _pa_v1_op  # noqa: F401  (registers torch.ops.aiter_swa.paged_attention_v1)
from .ops.pa_v1.api import paged_attention
from .ops.pa_v1.workspace import get_workspace_size

__all__ = ["get_workspace_size", "paged_attention"]
