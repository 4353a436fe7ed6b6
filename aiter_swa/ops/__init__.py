"""The op catalogue: one subpackage per op. Importing this package registers every op's kernel
specs and supported matrix with the JIT (:mod:`aiter_swa.jit.registry`); it imports no torch, so
the pre-build runs without it. The torch ops themselves are registered by each op's ``op`` module,
which ``import aiter_swa`` imports.

To add an op, follow docs/design.md ("Adding an op").
"""

from .pa_v1 import spec as _pa_v1_spec  # noqa: F401  (registers op "pa_v1")
from .causal_conv1d import spec as _causal_conv1d_spec  # noqa: F401  (registers op "causal_conv1d")
