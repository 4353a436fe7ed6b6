"""Supported configurations, the kernel spec, its pre-build matrix and the launch contracts of causal_conv1d.

Torch-free: the pre-build imports it (through the op catalogue) without torch. One module holds
both ops' kernels (``causal_conv1d_fwd`` and ``causal_conv1d_update`` share the spec: one
translation unit per spec with two entry points, ``launch`` and ``launch_update``).
"""

from __future__ import annotations

import dataclasses

from aiter_swa.jit.contract import LaunchContract, Param
from aiter_swa.jit.registry import OpDef, register_op
from aiter_swa.jit.spec import KernelSpec

#: Element types (x, weight, bias, conv_states and out alike), by spec name.
DTYPES = ("fp16", "bf16", "fp32")
#: Convolution widths (taps); the state holds ``width - 1`` inputs per channel.
WIDTHS = (2, 3, 4)
#: ``"none"`` or ``"silu"`` (``y = v / (1 + exp(-v))``; vLLM's ``"swish"`` is the same).
ACTIVATIONS = ("none", "silu")
#: Memory layout of ``x`` / ``out`` (shape ``[dim, total_tokens]`` either way): ``channel_first``
#: (stride 1 along tokens) or ``channel_last`` (stride 1 along dim: a ``[total_tokens, dim]``
#: tensor's ``.transpose(0, 1)``, the layout vLLM's Mamba layers pass).
LAYOUTS = ("channel_first", "channel_last")
#: Threads per workgroup of both kernels.
NUM_THREADS = 256
#: Bytes of one vector load along the contiguous dimension (checked by the GPU dispatch).
VEC_BYTES = 16

#: C++ element type of each dtype name (csrc/include/aiter_swa/vec.h).
CPP_ELEMENT_TYPES = {"fp16": "aiter_swa::fp16_t", "bf16": "aiter_swa::bf16_t", "fp32": "float"}
ELEMENT_BYTES = {"fp16": 2, "bf16": 2, "fp32": 4}


#: Channel-first: threads along a row (one 16-byte vector each); rows (channels) per thread are the
#: spec's ``cf_rows`` (each thread loads that many 16-byte vectors, and the tail of the vector before
#: each, before computing).
CF_LANES = 32
#: Channel-last: 16-byte channel vectors across a workgroup (the rest of its threads split the tile's
#: tokens); tokens per thread are the spec's ``cl_run``.
CL_CHANNEL_VECTORS = 32
#: Tuning axes (tokens per thread channel-last, rows per thread channel-first): the first value is the
#: default, the only one pre-built unless asked for (``--cl-run 4,8``); the others exist to be
#: benchmarked side by side (``bench_causal_conv1d.py --variants``).
CL_RUNS = (4, 8)
CF_ROWS = (4, 2, 8)
#: Channel-first setup (``cf_fast``, 1 = on, the default): 1 computes phase 0's token flags by groups
#: of 8 tokens (one binary search each, then a walk) and keeps the block's taps in LDS
#: (``ConvSpec::CF_FAST`` of kernel.h); 0, one search per token and the taps in registers, is kept as a
#: tuning variant. Measured on an H200 (docs/results.md, 2026-11-29 09:31 UTC call 1; bf16, width 4,
#: SiLU, the benchmark's long prefill): 75.0% of the copy bandwidth against 71.2% with 0 (and 75.0 /
#: 70.9 the session before); both write the same bits (test_causal_conv1d_gpu.py).
CF_FAST = (1, 0)
#: Forward kernel shape (``walk``, 0 = off, the default; both layouts): 1 launches ``fwd_kernel_walk``
#: of kernel.h instead of the one-tile-per-workgroup ``fwd_kernel``: each 32-lane group walks one
#: channel-first row over ``WALK_CF_TOKENS`` tokens in chunks of ``32 * vec`` tokens (or, channel-last,
#: ``32 * vec`` channels over ``WALK_CL_GROUP_TOKENS`` tokens), the halo carried in registers, no phase-0
#: table and the next loads in flight during the math (``ConvSpec::WALK``). A tuning variant until the
#: GPU measures it (docs/design.md).
WALK = (0, 1)
#: Tokens of one walk workgroup's segment: channel-first (each of its 8 row groups walks the whole
#: segment of its row), channel-last (8 groups of ``WALK_CL_GROUP_TOKENS`` tokens).
WALK_CF_TOKENS = 4096
WALK_CL_GROUP_TOKENS = 16


def channels_per_block(dtype: str, layout: str, cf_rows: int = CF_ROWS[0], walk: int = WALK[0]) -> int:
    """Channels of one forward workgroup (grid y = ceil(dim / this)); mirrors ``ConvSpec::CHANNELS``."""
    vec = VEC_BYTES // ELEMENT_BYTES[dtype]
    if layout == "channel_last":
        return CL_CHANNEL_VECTORS * vec
    return NUM_THREADS // CF_LANES * (1 if walk else cf_rows)


def tile_tokens(dtype: str, layout: str, cl_run: int = CL_RUNS[0], walk: int = WALK[0]) -> int:
    """Tokens of one forward workgroup; mirrors ``ConvSpec::TILE_TOKENS``. Grid x is
    ``ceil(total_tokens / this)`` channel-last and ``ceil((total_tokens + vec - 1) / this)``
    channel-first (``vec`` = elements per 16 bytes: each row's tile is shifted back to its 16-byte
    boundaries by up to ``vec - 1`` tokens)."""
    vec = VEC_BYTES // ELEMENT_BYTES[dtype]
    if walk:
        return NUM_THREADS // CL_CHANNEL_VECTORS * WALK_CL_GROUP_TOKENS if layout == "channel_last" else WALK_CF_TOKENS
    if layout == "channel_last":
        return NUM_THREADS // CL_CHANNEL_VECTORS * cl_run
    return CF_LANES * vec


def fwd_grid(total_tokens: int, dim: int, dtype: str, layout: str, cl_run: int = CL_RUNS[0],
             cf_rows: int = CF_ROWS[0], walk: int = WALK[0]) -> tuple:  # fmt: skip
    """The forward's grid ``(x, y)`` for ``x`` of ``total_tokens`` tokens and ``dim`` channels (``fwd_grid`` of kernel.h)."""
    extra = 0 if layout == "channel_last" else VEC_BYTES // ELEMENT_BYTES[dtype] - 1
    tile, ch = tile_tokens(dtype, layout, cl_run, walk), channels_per_block(dtype, layout, cf_rows, walk)
    return (-(-(total_tokens + extra) // tile), -(-dim // ch))


#: ``launch`` (causal_conv1d_fwd). Pointers of absent optional tensors are 0. Strides in elements;
#: ``out`` has ``x``'s strides.
FWD_LAUNCH = LaunchContract((
    Param("out", "ptr", "[dim, total_tokens]"),
    Param("x", "ptr", "[dim, total_tokens]"),
    Param("weight", "ptr", "[dim, width]"),
    Param("bias", "ptr", "[dim], or 0"),
    Param("conv_states", "ptr", "[num_cache_lines, dim, width - 1]"),
    Param("query_start_loc", "ptr", "int32 [num_seqs + 1]"),
    Param("cache_indices", "ptr", "int32 [num_seqs], or 0 (sequence s uses line s)"),
    Param("has_initial_state", "ptr", "bool [num_seqs], or 0 (no initial state)"),
    Param("num_seqs", "int"),
    Param("dim", "int"),
    Param("total_tokens", "int", "x.shape[1]: grid x from it (spec.fwd_grid)"),
    Param("num_cache_lines", "int"),
    Param("pad_slot_id", "int"),
    Param("x_stride_dim", "int"),
    Param("x_stride_tok", "int"),
    Param("w_stride_dim", "int"),
    Param("w_stride_width", "int"),
    Param("s_stride_line", "int"),
    Param("s_stride_dim", "int"),
    Param("s_stride_tok", "int"),
    Param("stream", "stream"),
))  # fmt: skip

#: ``launch_update`` (causal_conv1d_update): x and out ``[batch, dim, seqlen]`` (a 2-D
#: ``[batch, dim]`` as seqlen 1), each with its own strides.
UPDATE_LAUNCH = LaunchContract((
    Param("out", "ptr"),
    Param("x", "ptr"),
    Param("weight", "ptr"),
    Param("bias", "ptr", "[dim], or 0"),
    Param("conv_states", "ptr"),
    Param("cache_indices", "ptr", "int32 [batch], or 0"),
    Param("batch", "int", "grid x"),
    Param("dim", "int"),
    Param("seqlen", "int"),
    Param("num_cache_lines", "int"),
    Param("pad_slot_id", "int"),
    Param("x_stride_seq", "int"),
    Param("x_stride_dim", "int"),
    Param("x_stride_tok", "int"),
    Param("o_stride_seq", "int"),
    Param("o_stride_dim", "int"),
    Param("o_stride_tok", "int"),
    Param("w_stride_dim", "int"),
    Param("w_stride_width", "int"),
    Param("s_stride_line", "int"),
    Param("s_stride_dim", "int"),
    Param("s_stride_tok", "int"),
    Param("stream", "stream"),
))  # fmt: skip


@dataclasses.dataclass(frozen=True)
class CausalConv1dSpec(KernelSpec):
    """One causal_conv1d specialization.

    Fields:
        dtype: ``"fp16"``, ``"bf16"`` or ``"fp32"``: x, weight, bias, states and out.
        width: taps, 2, 3 or 4.
        activation: ``"none"`` or ``"silu"``.
        layout: ``"channel_first"`` or ``"channel_last"`` (of the forward's x; the update kernel
            takes any strides and is the same in both).
        arch: offload target, ``gfx942`` / ``gfx90a`` (HIP) or ``sm_90`` style (CUDA).
        cl_run: tokens per thread of the channel-last forward (``CL_RUNS``; 4 unless benchmarking).
        cf_rows: rows (channels) per thread of the channel-first forward (``CF_ROWS``; 4 unless benchmarking).
        cf_fast: 1 for the channel-first forward's grouped phase 0 and LDS taps (``CF_FAST``; 1 unless
            benchmarking).
        walk: 1 for the walking forward kernel (``WALK``; both layouts; 0 unless benchmarking).
            A value other than the first is valid only in its own layout, and names itself in the
            kernel's name (``..._cl_run8_sm_90``).
    """

    op = "causal_conv1d"
    template = "causal_conv1d.cpp.jinja"

    dtype: str
    width: int
    activation: str
    layout: str
    arch: str
    cl_run: int = CL_RUNS[0]
    cf_rows: int = CF_ROWS[0]
    cf_fast: int = CF_FAST[0]
    walk: int = WALK[0]

    def __post_init__(self):
        super().__post_init__()
        for f, allowed in (("dtype", DTYPES), ("width", WIDTHS), ("activation", ACTIVATIONS), ("layout", LAYOUTS),
                           ("cl_run", CL_RUNS), ("cf_rows", CF_ROWS), ("cf_fast", CF_FAST), ("walk", WALK)):  # fmt: skip
            if getattr(self, f) not in allowed:
                raise ValueError(f"CausalConv1dSpec.{f}: expected one of {allowed}, got {getattr(self, f)!r}")
        if not _tuning_supported(dataclasses.asdict(self)):
            raise ValueError(f"CausalConv1dSpec: cl_run applies to channel_last, cf_rows and cf_fast to channel_first, "
                             f"walk=1 to the defaults of the others; got layout {self.layout!r}, cl_run {self.cl_run}, "
                             f"cf_rows {self.cf_rows}, cf_fast {self.cf_fast}, walk {self.walk}")  # fmt: skip

    def name_parts(self) -> list:
        """e.g. ``bf16 w4 silu cl`` (a tuning value other than the default appended: ``cl run8``, ``cf fast0``)."""
        parts = [self.dtype, f"w{self.width}", self.activation, "cl" if self.layout == "channel_last" else "cf"]
        if self.cl_run != CL_RUNS[0]:
            parts.append(f"run{self.cl_run}")
        if self.cf_rows != CF_ROWS[0]:
            parts.append(f"rows{self.cf_rows}")
        if self.cf_fast != CF_FAST[0]:
            parts.append(f"fast{self.cf_fast}")
        if self.walk != WALK[0]:
            parts.append(f"walk{self.walk}")
        return parts

    def extra_template_vars(self) -> dict:
        return {
            "elem_type": CPP_ELEMENT_TYPES[self.dtype],
            "num_threads": NUM_THREADS,
            "tile_tokens": tile_tokens(self.dtype, self.layout, self.cl_run, self.walk),
            "channels_per_block": channels_per_block(self.dtype, self.layout, self.cf_rows, self.walk),
            **FWD_LAUNCH.template_vars(),
            "update_params": list(UPDATE_LAUNCH.params),
        }


def _tuning_supported(values: dict) -> bool:
    """A tuning axis off its default only in the layout it tunes; walk=1 (either layout) only with the
    other axes at their defaults (the walking kernel has its own shape)."""
    if values.get("walk", WALK[0]) != WALK[0] and (values["cl_run"] != CL_RUNS[0] or values["cf_rows"] != CF_ROWS[0]
                                                   or values.get("cf_fast", CF_FAST[0]) != CF_FAST[0]):
        return False
    return (values["cl_run"] == CL_RUNS[0] or values["layout"] == "channel_last") and (
        (values["cf_rows"] == CF_ROWS[0] and values.get("cf_fast", CF_FAST[0]) == CF_FAST[0])
        or values["layout"] == "channel_first")


OP = register_op(OpDef(
    name="causal_conv1d",
    spec_type=CausalConv1dSpec,
    axes={"dtype": DTYPES, "width": WIDTHS, "activation": ACTIVATIONS, "layout": LAYOUTS, "cl_run": CL_RUNS,
          "cf_rows": CF_ROWS, "cf_fast": CF_FAST, "walk": WALK},
    supported=_tuning_supported,
    description="varlen causal depthwise conv1d (fwd) and its decode update",
    default=lambda values, arch: (values["cl_run"] == CL_RUNS[0] and values["cf_rows"] == CF_ROWS[0]
                                  and values["cf_fast"] == CF_FAST[0] and values["walk"] == WALK[0]),
    default_axes=("cl_run", "cf_rows", "cf_fast", "walk"),
))  # fmt: skip
