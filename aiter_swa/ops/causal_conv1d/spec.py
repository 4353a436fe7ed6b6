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
#: Threads per workgroup and tokens per tile of the forward kernel (grid x = ceil(total_tokens / tile)).
NUM_THREADS = 256
TILE_TOKENS = 64
#: Bytes of one vector load along the contiguous dimension (checked by the GPU dispatch).
VEC_BYTES = 16

#: C++ element type of each dtype name (csrc/include/aiter_swa/vec.h).
CPP_ELEMENT_TYPES = {"fp16": "aiter_swa::fp16_t", "bf16": "aiter_swa::bf16_t", "fp32": "float"}
ELEMENT_BYTES = {"fp16": 2, "bf16": 2, "fp32": 4}


#: Channel-first: channels per thread (each thread loads that many 16-byte vectors before computing).
CF_CHANNELS_PER_THREAD = 4
#: Channel-last: 16-byte channel vectors across a workgroup (the rest of its threads split the tile's tokens).
CL_CHANNEL_VECTORS = 32


def channels_per_block(dtype: str, layout: str) -> int:
    """Channels of one forward workgroup (grid y = ceil(dim / this)); mirrors ``ConvSpec::CHANNELS``."""
    vec = VEC_BYTES // ELEMENT_BYTES[dtype]
    if layout == "channel_last":
        return CL_CHANNEL_VECTORS * vec
    return NUM_THREADS // (TILE_TOKENS // vec) * CF_CHANNELS_PER_THREAD


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
    Param("total_tokens", "int", "x.shape[1]: grid x = ceil(total_tokens / TILE_TOKENS)"),
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
    """

    op = "causal_conv1d"
    template = "causal_conv1d.cpp.jinja"

    dtype: str
    width: int
    activation: str
    layout: str
    arch: str

    def __post_init__(self):
        super().__post_init__()
        for f, allowed in (("dtype", DTYPES), ("width", WIDTHS), ("activation", ACTIVATIONS), ("layout", LAYOUTS)):
            if getattr(self, f) not in allowed:
                raise ValueError(f"CausalConv1dSpec.{f}: expected one of {allowed}, got {getattr(self, f)!r}")

    def name_parts(self) -> list:
        """e.g. ``bf16 w4 silu cl``."""
        return [self.dtype, f"w{self.width}", self.activation, "cl" if self.layout == "channel_last" else "cf"]

    def extra_template_vars(self) -> dict:
        return {
            "elem_type": CPP_ELEMENT_TYPES[self.dtype],
            "num_threads": NUM_THREADS,
            "tile_tokens": TILE_TOKENS,
            "channels_per_block": channels_per_block(self.dtype, self.layout),
            **FWD_LAUNCH.template_vars(),
            "update_params": list(UPDATE_LAUNCH.params),
        }


OP = register_op(OpDef(
    name="causal_conv1d",
    spec_type=CausalConv1dSpec,
    axes={"dtype": DTYPES, "width": WIDTHS, "activation": ACTIVATIONS, "layout": LAYOUTS},
    description="varlen causal depthwise conv1d (fwd) and its decode update",
))  # fmt: skip
