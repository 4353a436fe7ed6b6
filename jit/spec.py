"""`KernelSpec`: the frozen, hashable description of one compiled specialization.

One spec = one rendered translation unit = one shared library (a pybind11 module).
"""

from __future__ import annotations

import dataclasses
import json

#: Jinja template (under ``csrc/templates``) that renders a paged-attention v1 specialization.
PA_V1_TEMPLATE = "pa_v1.cpp.jinja"

_DTYPES = ("fp16", "bf16")


@dataclasses.dataclass(frozen=True)
class KernelSpec:
    """One paged-attention v1 specialization.

    Fields:
        dtype: ``"fp16"`` or ``"bf16"``; query, KV cache and output share it.
        head_size: elements per head (one of ``aiter_swa._config.SUPPORTED_HEAD_SIZES``).
        block_size: tokens per KV-cache block.
        gqa: query heads per KV head served by one workgroup (a GQA bucket: 1, 2, 4, 8 or 16);
            the actual ratio is passed at run time and may be smaller.
        sliding_window: compile the window code (``SLIDING_WINDOW_ENABLED``).
        soft_cap: compile the logit soft cap ``c * tanh(x / c)``.
        alibi: compile the ALiBi bias.
        arch: offload target, ``gfx942`` / ``gfx90a`` (HIP) or ``sm_90`` style (CUDA).
        template: template file name under ``csrc/templates``.
    """

    dtype: str
    head_size: int
    block_size: int
    gqa: int
    sliding_window: bool
    soft_cap: bool
    alibi: bool
    arch: str
    template: str = PA_V1_TEMPLATE

    def __post_init__(self):
        if self.dtype not in _DTYPES:
            raise ValueError(f"KernelSpec.dtype: expected one of {_DTYPES}, got {self.dtype!r}")
        if not (self.arch.startswith("gfx") or self.arch.startswith("sm_")):
            raise ValueError(f"KernelSpec.arch: expected 'gfx…' or 'sm_…', got {self.arch!r}")

    @property
    def backend(self) -> str:
        """``"hip"`` for gfx targets, ``"cuda"`` for sm targets."""
        return "hip" if self.arch.startswith("gfx") else "cuda"

    @property
    def name(self) -> str:
        """Readable, filesystem- and Python-identifier-safe name, e.g. ``pa_v1_bf16_hs128_bs16_g8_swa_gfx942``."""
        parts = ["pa_v1", self.dtype, f"hs{self.head_size}", f"bs{self.block_size}", f"g{self.gqa}"]
        if self.sliding_window:
            parts.append("swa")
        if self.soft_cap:
            parts.append("cap")
        if self.alibi:
            parts.append("alibi")
        parts.append(self.arch.replace(":", "_").replace("+", "p").replace("-", "m"))
        if self.template != PA_V1_TEMPLATE:
            parts.insert(0, self.template.split(".")[0])
        return "_".join(parts)

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces): the spec's part of the cache key."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "KernelSpec":
        return cls(**json.loads(text))

    def template_vars(self) -> dict:
        """Variables the template is rendered with (StrictUndefined: every one must be used by name)."""
        d = dataclasses.asdict(self)
        d.pop("template")
        d.update(backend=self.backend, module_name=self.name, spec_json=self.to_json())
        return d
