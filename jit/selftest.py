"""The JIT's own self-test op ``jit_smoke``: a tiny real kernel (``out = in * scale``) with the
launcher conventions of the library's ops (pybind11 module, raw pointers as ints, stream handle as
int, RuntimeError with the runtime's message, early return when there is no work).

It checks a toolchain end to end without any op's sources, and drives the JIT's own tests and
benchmark. It is registered as an internal op: ``--op jit_smoke`` selects it in the pre-build,
which otherwise leaves it out.
"""

from __future__ import annotations

import dataclasses

from .registry import OpDef, register_op
from .spec import KernelSpec


@dataclasses.dataclass(frozen=True)
class SmokeSpec(KernelSpec):
    """Axes: ``dtype`` (a name the kernel reports back), ``size`` (a compile-time int), ``flag``."""

    op = "jit_smoke"
    template = "smoke.cpp.jinja"

    dtype: str
    size: int
    flag: bool
    arch: str


OP = register_op(OpDef(
    name="jit_smoke", spec_type=SmokeSpec, axes={"dtype": ("fp16", "bf16"), "size": (64, 128), "flag": (False, True)},
    description="the JIT's self-test kernel (out = in * scale)", internal=True,
))  # fmt: skip
