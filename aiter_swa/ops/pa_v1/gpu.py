"""CUDA / ROCm implementation of ``paged_attention_v1``: pick the specialization, call its launcher.

The call path reads metadata only (dtypes, shapes, strides, pointers, host ints): no device value
is read on the host, so a call never synchronises and can be captured in a CUDA/HIP graph.

Per metadata key (``call.lookup``'s cache) a :class:`Plan` is built once: the specialization's
launcher with every per-plan parameter of the launch contract (``spec.LAUNCH``: sizes, strides,
workspace offsets, the device) bound in C++ (``prepare``). A call then passes the per-call
parameters only: the pointers, ``scale``, the soft cap and the stream (their order is checked at
import). The launch switches to the tensors' device when it is not the current one. A launch made
here for a miss of the fast path (``aiter_swa._fast_path``) is filed for that call's key, with the
slots the fast path reads its per-call values from (:func:`_fast_slots`).
"""

from __future__ import annotations

import dataclasses
import operator

import torch

from aiter_swa import _fast_path
from aiter_swa._checks import raw_stream
from aiter_swa.jit import loader, toolchain

from . import debug_checks, selfcheck
from .call import ARG_INDEX, PaV1Call, kv_element_dtype, lookup, soft_cap_enabled
from .spec import LAUNCH, VEC_BYTES, VEC_ELEMS, PaV1Spec, gqa_bucket

_DTYPE_NAMES = {torch.float16: "fp16", torch.bfloat16: "bf16", torch.float8_e4m3fn: "fp8e4m3fn",
                torch.float8_e4m3fnuz: "fp8e4m3fnuz"}
#: The launch contract's per-call parameters, and the op argument each comes from (None: the stream).
_CALL_SOURCES = {"out": "out", "query": "query", "key_cache": "key_cache", "value_cache": "value_cache",
                 "block_tables": "block_tables", "context_lens": "context_lens", "alibi_slopes": "alibi_slopes",
                 "sinks": "sinks", "k_scale": "k_scale", "v_scale": "v_scale", "workspace": "workspace_buffer",
                 "scale": "scale", "soft_cap": "logits_soft_cap", "stream": None}  # fmt: skip
if LAUNCH.call_names != tuple(_CALL_SOURCES):
    raise ImportError(f"aiter_swa pa_v1: the launch contract's per-call parameters changed ({LAUNCH.call_names}); "
                      "update gpu.py")  # fmt: skip
_call_args = operator.itemgetter(*(ARG_INDEX[a] for a in _CALL_SOURCES.values() if a is not None))


@dataclasses.dataclass(frozen=True)
class Plan:
    """The launch of one metadata key: the prepared launcher (None: nothing to launch), the device,
    the caches' pointer alignment and whether the fp8 scales are passed."""

    launch: object
    device_index: int
    kv_vec_bytes: int = VEC_BYTES  # alignment of the caches' pointers: 8 elements
    fp8: bool = False  # pass k_scale and v_scale
    #: The fast path's per-call slots (``aiter_swa._fast_path.publish``), in contract order.
    fast_slots: tuple = ()


def _fast_slots(kv_vec_bytes: int, fp8: bool) -> tuple:
    """Where the fast path reads each per-call value: the arguments of :data:`_CALL_SOURCES`, with the
    alignment :func:`run` checks (query and workspace 16 bytes, the caches ``kv_vec_bytes``)."""
    align = {"query": VEC_BYTES, "workspace_buffer": VEC_BYTES, "key_cache": kv_vec_bytes, "value_cache": kv_vec_bytes}
    slots = []
    for param, source in _CALL_SOURCES.items():
        if source is None:
            slots.append((_fast_path.STREAM, 0, 0))
        elif LAUNCH.params[LAUNCH.index(param)].kind == "float":
            slots.append((_fast_path.DOUBLE, ARG_INDEX[source], 0))
        elif source in ("k_scale", "v_scale") and not fp8:
            slots.append((_fast_path.CONSTANT, 0, 0))
        elif source in ("alibi_slopes", "sinks"):
            slots.append((_fast_path.OPTIONAL_TENSOR, ARG_INDEX[source], 1))
        else:
            slots.append((_fast_path.TENSOR, ARG_INDEX[source], align.get(source, 1)))
    return tuple(slots)


def _misaligned(name: str, t: torch.Tensor, align: int = VEC_BYTES) -> ValueError:
    return ValueError(
        f"{name}: the GPU kernel needs a {align}-byte aligned base pointer and strides that are "
        f"multiples of {VEC_ELEMS} elements (except the last, which must be 1); got pointer offset "
        f"{t.data_ptr() % align} bytes and strides {tuple(t.stride())}"
    )


#: Whether this build's GPU kernels run multi-token queries (``mtp > 1``, any ``cu_query_lens``);
#: the GPU tests of the multi-token grid skip with this as their reason while it is False.
MULTI_TOKEN = False


def check_supported(call: PaV1Call) -> None:
    """Raise NotImplementedError for what the GPU kernels of this build cannot run (metadata only).

    The vector kernel serves one query row per sequence: ``mtp == 1`` and, with ``cu_query_lens``,
    ``query.shape[0] == num_seqs``, where it assumes ``cu_query_lens == arange(num_seqs + 1)`` (aiter's
    test and vLLM's decode-only batches pass exactly that; the values cannot be checked without a
    host read). The multi-token kernel replaces this check (``MULTI_TOKEN``).
    """
    d = call.dims
    if call.mtp > 1:
        raise NotImplementedError(
            f"mtp: expected 1 on the GPU (the multi-token GPU kernel is not in this build; the CPU path "
            f"runs mtp > 1), got {call.mtp}"
        )
    if call.cu_query_lens is not None and d.num_rows != d.num_seqs:
        raise NotImplementedError(
            f"cu_query_lens: expected one query row per sequence on the GPU (query.shape[0] == num_seqs={d.num_seqs}; "
            f"the multi-token GPU kernel is not in this build), got query.shape[0]={d.num_rows}"
        )


def spec_for(call: PaV1Call, arch: str) -> PaV1Spec:
    """The specialization that runs a validated ``call`` on ``arch``."""
    d = call.dims
    return PaV1Spec(
        q_dtype=_DTYPE_NAMES[call.query.dtype], kv_dtype=_DTYPE_NAMES[kv_element_dtype(call.key_cache)],
        out_dtype=_DTYPE_NAMES[call.out.dtype], head_size=d.head_size,
        gqa=gqa_bucket(d.gqa_ratio), sliding_window=call.sliding_window > 0, soft_cap=soft_cap_enabled(call.logits_soft_cap),
        alibi=call.alibi_slopes is not None, arch=arch,
    )  # fmt: skip


def _plan(call: PaV1Call) -> Plan:
    d = call.dims
    check_supported(call)
    kv_vec_bytes = VEC_ELEMS * call.key_cache.element_size()
    for name in ("query", "key_cache", "value_cache"):
        t = getattr(call, name)
        if any(x % VEC_ELEMS for x in t.stride()[:-1]):
            raise _misaligned(name, t, VEC_ELEMS * t.element_size())
    device_index = call.query.get_device()
    fp8 = call.kv_cache_dtype != "auto"
    if d.num_seqs == 0:  # nothing to launch: no kernel is loaded
        return Plan(None, device_index, kv_vec_bytes, fp8)  # (and nothing for the fast path to file)
    spec = spec_for(call, toolchain.device_arch(device_index))
    selfcheck.ensure(spec, call)  # first use of an untested arch's specialization (selfcheck.py)
    ks, vs, qs, os_ = call.key_cache.stride(), call.value_cache.stride(), call.query.stride(), call.out.stride()
    if call.kv_cache_layout == "HND":  # [num_blocks, num_kv_heads, block_size, head_size]
        (kb, kh, kt), (vb, vh, vt) = ks[:3], vs[:3]
    else:  # NHD: [num_blocks, block_size, num_kv_heads, head_size]
        (kb, kt, kh), (vb, vt, vh) = ks[:3], vs[:3]
    exp_sums, max_logits, tmp_out = d.workspace_layout[:3]
    prepared = loader.load_module(spec).prepare(*LAUNCH.pack_plan(
        device=device_index, exp_sums_offset=exp_sums, max_logits_offset=max_logits, tmp_out_offset=tmp_out,
        num_seqs=d.num_seqs, num_heads=d.num_heads, num_kv_heads=d.num_kv_heads, num_partitions=d.num_partitions,
        bt_stride=call.block_tables.stride(0), q_stride_seq=qs[0], q_stride_head=qs[1], o_stride_seq=os_[0],
        o_stride_head=os_[1], k_stride_block=kb, k_stride_head=kh, k_stride_token=kt, v_stride_block=vb,
        v_stride_head=vh, v_stride_token=vt, sliding_window=call.sliding_window, block_size=d.block_size,
        max_context_len=min(call.max_context_len, d.max_blocks_per_seq * d.block_size),  # (equal after validation)
        num_blocks=call.key_cache.shape[0],
    ))  # fmt: skip
    return Plan(prepared, device_index, kv_vec_bytes, fp8, _fast_slots(kv_vec_bytes, fp8))


def run(args: tuple) -> None:
    """Validate and run the op on the GPU; ``args``: its arguments in schema order, all of them
    (``call.full_args``).

    Beyond the validation (dtypes, shapes, devices, unit last strides), the kernel reads vectors of
    8 elements: query and workspace need 16-byte aligned pointers, the caches pointers aligned to 8
    elements (16 bytes, 8 for fp8), and leading strides that are multiples of 8 elements, else
    ValueError naming the tensor.
    """
    checked = lookup(args)
    plan = checked.gpu_plan
    if plan is None:
        call = PaV1Call(*args)
        call.checked, call.dims = checked, checked.dims
        plan = checked.gpu_plan = _plan(call)
    (out, query, key_cache, value_cache, block_tables, context_lens, alibi_slopes, sinks, k_scale, v_scale, workspace,
     scale, cap) = _call_args(args)  # fmt: skip
    q_ptr, k_ptr, v_ptr, ws_ptr = query.data_ptr(), key_cache.data_ptr(), value_cache.data_ptr(), workspace.data_ptr()
    if (q_ptr | ws_ptr) % VEC_BYTES or (k_ptr | v_ptr) % plan.kv_vec_bytes:
        for name, t, align in (("query", query, VEC_BYTES), ("key_cache", key_cache, plan.kv_vec_bytes),
                               ("value_cache", value_cache, plan.kv_vec_bytes)):
            if t.data_ptr() % align:
                raise _misaligned(name, t, align)
        raise _misaligned("workspace_buffer", workspace)  # its pointer is what failed (a byte buffer)
    if plan.launch is None:
        return
    if debug_checks.ENABLED:  # AITER_SWA_DEBUG_CHECKS=1: value checks on the device, synchronising
        debug_checks.check_values(PaV1Call(*args), checked.dims)
    stream = raw_stream(plan.device_index)
    plan.launch(
        out.data_ptr(), q_ptr, k_ptr, v_ptr, block_tables.data_ptr(), context_lens.data_ptr(),
        alibi_slopes.data_ptr() if alibi_slopes is not None else 0, sinks.data_ptr() if sinks is not None else 0,
        k_scale.data_ptr() if plan.fp8 else 0, v_scale.data_ptr() if plan.fp8 else 0, ws_ptr, scale, cap, stream,
    )  # fmt: skip
    if not debug_checks.ENABLED:  # a miss of the fast path (aiter_swa._fast_path): file this launch for its key
        _fast_path.publish(plan.launch, plan.fast_slots, f"cuda:{plan.device_index}", stream)
