"""CUDA / ROCm implementation of ``causal_conv1d_fwd`` / ``causal_conv1d_update``: pick the
specialization, call its launcher.

The call path reads metadata only (dtypes, shapes, strides, pointers, host ints): the forward's grid
is ``spec.fwd_grid`` (``ceil(total_tokens / tile) x ceil(dim / channels per block)``, channel-first
``ceil((total_tokens + vec - 1) / tile)``) with ``total_tokens = x.shape[1]``, and the update's
``batch x ceil(dim / 256)``; no device value is read on the host, so a call never synchronises and
can be captured in a CUDA/HIP graph.

Per metadata key (``call.validate_*``'s cache) a :class:`Plan` is built once: the launcher and every
launch argument that follows from metadata, packed by name from the launch contract
(``spec.FWD_LAUNCH`` / ``spec.UPDATE_LAUNCH``). A call then passes the pointers and the stream.
Building a plan first runs the kernel's first-use self-check where it applies (``selfcheck.py``:
architectures the GPU tests have not run on, every AMD gfx; it synchronises, once per kernel).
"""

from __future__ import annotations

import dataclasses

import torch

from aiter_swa._checks import raw_stream
from aiter_swa.jit import loader, toolchain

from . import selfcheck
from .call import DTYPE_NAMES, FwdCall, UpdateCall
from .spec import FWD_LAUNCH, UPDATE_LAUNCH, VEC_BYTES, CausalConv1dSpec

_FWD_POINTERS = ("out", "x", "weight", "bias", "conv_states", "query_start_loc", "cache_indices", "has_initial_state")
_UPDATE_POINTERS = ("out", "x", "weight", "bias", "conv_states", "cache_indices")
for _contract, _ptrs in ((FWD_LAUNCH, _FWD_POINTERS), (UPDATE_LAUNCH, _UPDATE_POINTERS)):
    if _contract.names[: len(_ptrs)] != _ptrs or _contract.names[-1] != "stream":
        raise ImportError(f"aiter_swa causal_conv1d: the launch contract's order changed ({_contract.names}); update gpu.py")
_INT32_MAX = 2**31 - 1

@dataclasses.dataclass(frozen=True)
class Plan:
    """The launch of one metadata key: the launcher (None: nothing to launch) and the int arguments."""

    launch: object
    values: tuple  # contract parameters between the pointers and the stream, in order
    device_index: int


def _ptr(t) -> int:
    return 0 if t is None else t.data_ptr()


def _vec(dtype) -> int:
    return VEC_BYTES // torch.empty((), dtype=dtype).element_size()


def _misaligned(name: str, t: torch.Tensor, what: str) -> ValueError:
    return ValueError(
        f"{name}: expected a {VEC_BYTES}-byte aligned base pointer and {what} (the GPU kernel reads "
        f"{VEC_BYTES}-byte vectors), got pointer offset {t.data_ptr() % VEC_BYTES} bytes, shape {tuple(t.shape)}, "
        f"strides {tuple(t.stride())}"
    )


def _fwd_plan(call: FwdCall, **tuning) -> Plan:
    """The launch plan of a validated call; ``tuning``: ``cl_run`` / ``cf_rows`` other than the
    defaults (the benchmark's side-by-side variants; the op always uses the defaults)."""
    d = call.dims
    x = call.x
    vec = _vec(x.dtype)
    if d.layout == "channel_last" and (d.dim % vec or (d.total_tokens > 1 and x.stride(1) % vec)):
        raise _misaligned("x", x, f"dim and the token stride multiples of {vec} elements (channel-last)")
    strides = (*x.stride(), *call.weight.stride(), *call.conv_states.stride())
    if max(strides) > _INT32_MAX:
        raise ValueError(f"x, weight, conv_states: expected strides below 2^31 elements, got {strides}")
    device_index = x.get_device()
    if d.total_tokens == 0 or d.dim == 0 or d.num_seqs == 0:
        return Plan(None, (), device_index)
    spec = CausalConv1dSpec(dtype=DTYPE_NAMES[x.dtype], width=d.width, activation=d.activation, layout=d.layout,
                            arch=toolchain.device_arch(device_index), **tuning)  # fmt: skip
    if not tuning:
        selfcheck.ensure("fwd", spec, x.device)  # first use on an untested arch (selfcheck.py)
    sw, ss = call.weight.stride(), call.conv_states.stride()
    args = FWD_LAUNCH.pack(
        **dict.fromkeys(_FWD_POINTERS + ("stream",), 0),
        num_seqs=d.num_seqs, dim=d.dim, total_tokens=d.total_tokens, num_cache_lines=d.num_cache_lines,
        pad_slot_id=call.pad_slot_id, x_stride_dim=x.stride(0), x_stride_tok=x.stride(1), w_stride_dim=sw[0],
        w_stride_width=sw[1], s_stride_line=ss[0], s_stride_dim=ss[1], s_stride_tok=ss[2],
    )  # fmt: skip
    return Plan(loader.get_launcher(spec), tuple(args[len(_FWD_POINTERS) : -1]), device_index)


def run_fwd(call: FwdCall) -> None:
    """Run the JIT-built forward kernel on a validated call (``call.validate_fwd``).

    Beyond the validation, the kernel reads 16-byte vectors along x's contiguous dimension.
    Channel-last (vLLM's layout) needs them: ``x`` and ``out`` 16-byte aligned, ``dim`` and the
    token stride multiples of 16 bytes — else ValueError naming the tensor. Channel-first takes
    any alignment: each row is read in 16-byte vectors on 16-byte boundaries whatever its offset
    (the tile is shifted per row) and written the same way when ``out`` starts as far past 16
    bytes as ``x`` (else element by element). Strides must be below 2^31 elements.
    """
    plan = call.checked.gpu_plan
    if plan is None:
        plan = call.checked.gpu_plan = _fwd_plan(call)
    launch_fwd(call, plan)


def launch_fwd(call: FwdCall, plan: Plan) -> None:
    """Launch ``plan`` (:func:`_fwd_plan` of ``call``, or of a tuning variant of its spec, as the
    benchmark and the tests build) on ``call``'s tensors, on the current stream; the pointers are read
    from ``call`` at each launch. ValueError: channel-last ``x`` or ``out`` not 16-byte aligned."""
    x_ptr, out_ptr = call.x.data_ptr(), call.out.data_ptr()
    if (x_ptr | out_ptr) % VEC_BYTES and call.dims.layout == "channel_last":
        bad = "x" if x_ptr % VEC_BYTES else "out"
        raise _misaligned(bad, getattr(call, bad), "16-byte aligned rows (channel-last)")
    if plan.launch is None:
        return
    plan.launch(out_ptr, x_ptr, call.weight.data_ptr(), _ptr(call.bias), call.conv_states.data_ptr(),
                call.query_start_loc.data_ptr(), _ptr(call.cache_indices), _ptr(call.has_initial_state), *plan.values,
                raw_stream(plan.device_index))  # fmt: skip


def _update_plan(call: UpdateCall) -> Plan:
    d = call.dims
    device_index = call.x.get_device()
    if d.batch == 0 or d.dim == 0 or d.seqlen == 0:
        return Plan(None, (), device_index)
    spec = CausalConv1dSpec(dtype=DTYPE_NAMES[call.x.dtype], width=d.width, activation=d.activation,
                            layout="channel_first", arch=toolchain.device_arch(device_index))  # fmt: skip
    selfcheck.ensure("update", spec, call.x.device)  # first use on an untested arch (selfcheck.py)
    x3 = call.x.stride() + ((1,) if call.x.dim() == 2 else ())
    o3 = call.out.stride() + ((1,) if call.out.dim() == 2 else ())
    sw, ss = call.weight.stride(), call.conv_state.stride()
    args = UPDATE_LAUNCH.pack(
        **dict.fromkeys(_UPDATE_POINTERS + ("stream",), 0),
        batch=d.batch, dim=d.dim, seqlen=d.seqlen, num_cache_lines=d.num_cache_lines, pad_slot_id=call.pad_slot_id,
        x_stride_seq=x3[0], x_stride_dim=x3[1], x_stride_tok=x3[2], o_stride_seq=o3[0], o_stride_dim=o3[1],
        o_stride_tok=o3[2], w_stride_dim=sw[0], w_stride_width=sw[1], s_stride_line=ss[0], s_stride_dim=ss[1],
        s_stride_tok=ss[2],
    )  # fmt: skip
    # The loader hands out one entry point per module (``launch``); the update's is read off the module.
    return Plan(loader.load_module(spec).launch_update, tuple(args[len(_UPDATE_POINTERS) : -1]), device_index)


def run_update(call: UpdateCall) -> None:
    """Run the JIT-built update kernel on a validated call (``call.validate_update``): scalar loads,
    any strides; the update kernel is compiled in the channel-first spec of the dtype, width and
    activation."""
    plan = call.checked.gpu_plan
    if plan is None:
        plan = call.checked.gpu_plan = _update_plan(call)
    if plan.launch is None:
        return
    plan.launch(call.out.data_ptr(), call.x.data_ptr(), call.weight.data_ptr(), _ptr(call.bias),
                call.conv_state.data_ptr(), _ptr(call.conv_state_indices), *plan.values,
                raw_stream(plan.device_index))  # fmt: skip
