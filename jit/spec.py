"""The kernel-spec protocol: what the JIT needs to know about one specialization of any op.

A spec is a frozen, hashable dataclass that derives from :class:`KernelSpec`. Its dataclass fields
are the op's *axes* (the template variables that select a specialization, e.g. ``head_size``) plus
``arch`` (the offload target). An op declares, as class attributes:

- ``op``: the op's name in the JIT's op table (``"pa_v1"``); the first part of every kernel name;
- ``template``: the Jinja template under ``csrc/templates`` that renders one translation unit;

and may override :meth:`KernelSpec.name_parts` (the readable kernel name) and
:meth:`KernelSpec.extra_template_vars` (derived variables, e.g. C++ type names). Everything else
the JIT uses is derived here:

- :attr:`backend`: ``"hip"`` for ``gfx…`` archs, ``"cuda"`` for ``sm_…``;
- :attr:`name`: readable, filesystem- and identifier-safe kernel (and Python module) name;
- :meth:`to_json`: canonical JSON of ``{"op": ..., **fields}``: the spec's part of the cache key and
  the identity recorded in manifests and in the built module (``SPEC_JSON``);
- :meth:`axis_values`: the fields other than ``arch`` (the pre-build CLI's filters);
- :meth:`template_vars`: the fields plus ``backend``, ``module_name``, ``spec_json``,
  ``wavefront_size`` and ``kernels_only`` (True when only the device code is compiled, to check
  resources: a template leaves out its Python binding then), plus the op's extras. Templates render
  with ``StrictUndefined``.

The JIT never imports an op's modules: ops register their spec type with
:func:`aiter_swa.jit.registry.register_op`.
"""

from __future__ import annotations

import dataclasses
import json
from typing import ClassVar

from .toolchain import backend_of, wavefront_size


def _safe(text: str) -> str:
    return text.replace(":", "_").replace("+", "p").replace("-", "m")


@dataclasses.dataclass(frozen=True)
class KernelSpec:
    """Base of every op's spec dataclass (see the module docstring). Fields: the op's axes, then ``arch``."""

    op: ClassVar[str] = ""
    template: ClassVar[str] = ""

    def __post_init__(self):
        arch = getattr(self, "arch", None)
        if not isinstance(arch, str):
            raise TypeError(f"{type(self).__name__}: expected an 'arch' field of type str, got {arch!r}")
        try:
            backend_of(arch)
        except ValueError as e:
            raise ValueError(f"{type(self).__name__}.arch: {e}") from None

    @property
    def backend(self) -> str:
        """``"hip"`` for gfx targets, ``"cuda"`` for sm targets."""
        return backend_of(self.arch)

    def axis_values(self) -> dict:
        """The spec's axes (every field but ``arch``), in field order."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "arch"}

    def name_parts(self) -> list:
        """The parts of :attr:`name` between the op name and the arch (default: every axis value)."""
        return [f"{k}{v}" if not isinstance(v, bool) else (k if v else f"no{k}") for k, v in self.axis_values().items()]

    @property
    def name(self) -> str:
        """Readable, filesystem- and identifier-safe name, e.g. ``pa_v1_bf16_hs128_g8_swa_gfx942``."""
        return "_".join([self.op, *map(str, self.name_parts()), _safe(self.arch)])

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces) of the op name and every field."""
        return json.dumps({"op": self.op, **dataclasses.asdict(self)}, sort_keys=True, separators=(",", ":"))

    def extra_template_vars(self) -> dict:
        """Variables the op's template needs beyond the fields (override)."""
        return {}

    def template_vars(self) -> dict:
        """Every variable the template is rendered with."""
        return {
            **dataclasses.asdict(self),
            "backend": self.backend,
            "module_name": self.name,
            "spec_json": self.to_json(),
            "wavefront_size": wavefront_size(self.arch),
            "kernels_only": False,  # True: only the kernels (the pre-build's --resources-only check)
            **self.extra_template_vars(),
        }
