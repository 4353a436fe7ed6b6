"""CUDA / ROCm implementation of ``paged_attention_v1``: pick the specialization, call its launcher.

The call path reads metadata only (dtypes, shapes, strides, pointers, host ints): no device value
is read on the host, so a call never synchronises and can be captured in a CUDA/HIP graph.

Per metadata key (``call.lookup``'s cache, whose key leaves ``max_context_len`` out) a :class:`Plan`
is built once: the specialization's launcher with every per-plan parameter of the launch contract
(``spec.LAUNCH``: sizes, strides, the workspace buffer's size, the SM count, the device) bound in
C++ (``prepare``). A call then passes the per-call parameters only: the pointers, ``scale``, the soft
cap, ``max_context_len`` and the stream (their order is checked at import); the launcher derives the
split (partition count and size) and the workspace offsets from ``max_context_len`` on every call
(``csrc/include/aiter_swa/pa_v1/split.h``, the rule of :func:`launch_values`), so a decode loop whose
``max_context_len`` grows every step keeps one plan. The launch switches to the tensors' device when it is not the current one. A launch made
here for a miss of the fast path (``aiter_swa._fast_path``) is filed for that call's key, with the
slots the fast path reads its per-call values from (:func:`_fast_slots`).

Two kernel families (``AITER_SWA_PA_KERNEL``, :func:`set_kernel`): the vector kernel (kernel.h, one
query row per sequence) and the matrix-core kernel (mma_kernel.h: multi-token queries, the split over
the machine of :func:`mma_split`); :func:`spec.choose_kernel` is the rule.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import operator
import os

import torch

from aiter_swa import _fast_path
from aiter_swa._checks import raw_stream
from aiter_swa.jit import loader, toolchain

from . import debug_checks, selfcheck
from .call import ARG_INDEX, PaV1Call, kv_element_dtype, lookup, soft_cap_enabled
from .spec import (ELEMENT_BYTES, KERNEL_ENV, KERNELS, LAUNCH, MMA_LONG_KEY_TILE, MMA_LONG_MIN_PARTITION_KEYS,
                   MMA_LONG_WORKGROUPS_PER_SM, MMA_MAX_WAVE_PARTITION_BYTES, MMA_MIN_PARTITION_KEYS,
                   MMA_MIN_WAVE_FILL, MMA_ROWS, MMA_SATURATING_WORKGROUPS_PER_CU, MMA_TARGET_WORKGROUPS_PER_CU,
                   PARTITION_SIZE, VEC_BYTES, VEC_ELEMS,
                   PaV1Spec, choose_kernel, gqa_bucket, mma_rows_for, mma_warp_kv)  # fmt: skip
from .workspace import attended_span, layout

_DTYPE_NAMES = {torch.float16: "fp16", torch.bfloat16: "bf16", torch.float8_e4m3fn: "fp8e4m3fn",
                torch.float8_e4m3fnuz: "fp8e4m3fnuz"}
#: The launch contract's per-call parameters, and the op argument each comes from (None: the stream).
_CALL_SOURCES = {"out": "out", "query": "query", "key_cache": "key_cache", "value_cache": "value_cache",
                 "block_tables": "block_tables", "cu_query_lens": "cu_query_lens", "context_lens": "context_lens",
                 "alibi_slopes": "alibi_slopes",
                 "sinks": "sinks", "k_scale": "k_scale", "v_scale": "v_scale", "workspace": "workspace_buffer",
                 "scale": "scale", "soft_cap": "logits_soft_cap", "max_context_len": "max_context_len",
                 "stream": None}  # fmt: skip
if LAUNCH.call_names != tuple(_CALL_SOURCES):
    raise ImportError(f"aiter_swa pa_v1: the launch contract's per-call parameters changed ({LAUNCH.call_names}); "
                      "update gpu.py")  # fmt: skip
_call_args = operator.itemgetter(*(ARG_INDEX[a] for a in _CALL_SOURCES.values() if a is not None))

#: The kernel family the environment chose (``AITER_SWA_PA_KERNEL``: ``auto``, ``vector``, ``mma``;
#: read at import; another value is a ValueError naming it at the first GPU call).
ENV_KERNEL = os.environ.get(KERNEL_ENV, "auto") or "auto"
#: The kernel family in force (:func:`set_kernel`); a plan records the one it was built for and is
#: rebuilt when it changes.
KERNEL = ENV_KERNEL


def set_kernel(kernel: str) -> None:
    """Serve later calls with ``kernel`` (``auto``, ``vector``, ``mma``), for tests and benchmarks.
    While it differs from the environment's, the fast path is suspended (its filed launches follow the
    environment's choice), so every call takes this module's dispatch.

    Raises:
        ValueError: ``kernel`` not one of :data:`spec.KERNELS`.
    """
    global KERNEL
    if kernel not in KERNELS:
        raise ValueError(f"kernel: expected one of {', '.join(KERNELS)}, got {kernel!r}")
    KERNEL = ENV_KERNEL if kernel == ENV_KERNEL else kernel
    _fast_path.suspend("pa_v1 kernel override", KERNEL != ENV_KERNEL)


@contextlib.contextmanager
def kernel_override(kernel: str):
    """:func:`set_kernel` ``kernel`` for the ``with`` block, the environment's choice back after it (also on an
    exception).

    Raises:
        ValueError: ``kernel`` not one of :data:`spec.KERNELS`.
    """
    set_kernel(kernel)
    try:
        yield
    finally:
        set_kernel(ENV_KERNEL)


@functools.lru_cache(maxsize=None)
def multiprocessor_count(device_index: int) -> int:
    """SMs (NVIDIA) / CUs (AMD) of a GPU, read once per process and device (a host query, no sync)."""
    return torch.cuda.get_device_properties(device_index).multi_processor_count


def mma_split(num_seqs: int, num_kv_heads: int, chunks: int, span: int, key_tile: int, part_bytes: int,
              workspace_bytes: int, num_cus: int, per_cu: int = MMA_TARGET_WORKGROUPS_PER_CU,
              key_bytes: int = 0) -> tuple:
    """``(num_partitions, partition_size)`` of the matrix-core kernel, from host values only.

    ``span``: the most keys a sequence's rows attend (``min(max_context_len, w + mtp - 1)`` with a
    window ``w``, else ``max_context_len``); ``part_bytes``: workspace bytes one partition needs for
    every query row and head; ``num_cus``: the device's SM/CU count; ``per_cu``: the workgroups one
    CU holds at once (``PaV1Spec.mma_workgroups_per_cu``); ``key_bytes``: K and V bytes of one key
    (``2 * head_size * kv element bytes``; 0 counts every partition as small). Aims at ``per_cu``
    workgroups per CU (so a batch of 1 fills the GPU), never more partitions than key tiles, nor than
    ``workspace_bytes`` holds (the caller's buffer, whose size is host metadata: aiter's sizing gives
    ``ceil(max_context_len / 256)`` partitions), nor partitions of fewer than ``MMA_MIN_PARTITION_KEYS``
    keys (in whole key tiles; one partition whatever the span). The number of partitions is the smallest
    that either fills its waves of ``per_cu * num_cus`` workgroups to ``MMA_MIN_WAVE_FILL``, or (the
    one-wave rule) fits one wave with at least ``MMA_MIN_WAVE_FILL`` of
    ``MMA_SATURATING_WORKGROUPS_PER_CU`` workgroups per CU, each partition reading at most
    ``MMA_MAX_WAVE_PARTITION_BYTES``; else the one that fills its waves best. The partition size is a
    multiple of ``key_tile``; one partition needs no workspace and no reduce.
    """
    tiles = -(-max(span, 1) // key_tile)
    cap = workspace_bytes // part_bytes if part_bytes > 0 else 0
    cap = min(cap, tiles // -(-MMA_MIN_PARTITION_KEYS // key_tile))  # partitions of at least that many keys
    workgroups = max(1, num_seqs * num_kv_heads * chunks)
    slots = max(1, per_cu * num_cus)
    saturating = MMA_MIN_WAVE_FILL * min(per_cu, MMA_SATURATING_WORKGROUPS_PER_CU) * num_cus
    # Every workgroup of a call has the same keys to read, so a last wave that is mostly empty costs a
    # whole wave: the fewest partitions whose workgroups fill their waves to MMA_MIN_WAVE_FILL, else the
    # best fill (e.g. 128 (sequence, KV head) pairs on 132 SMs x 2: 2 partitions, 97%, not 3: 73%). Or one
    # wave that keeps enough copies in flight with short partitions: no more partitions (and reduce) than
    # that (Mistral batch 32 at window 4096 on an H200, 4 workgroups per SM: 1 partition, 256 workgroups).
    best, best_fill = 1, -1.0
    for want in range(1, max(1, min(tiles, cap, 4 * slots)) + 1):
        size_tiles = -(-tiles // want)
        parts = -(-tiles // size_tiles)
        n = workgroups * parts
        fill = n / (-(-n // slots) * slots)
        if fill > best_fill + 1e-9:
            best, best_fill = parts, fill
        one_wave = saturating <= n <= slots and size_tiles * key_tile * key_bytes <= MMA_MAX_WAVE_PARTITION_BYTES
        if fill >= MMA_MIN_WAVE_FILL or one_wave:
            best = parts
            break
    size = -(-tiles // best) * key_tile
    return -(-max(span, 1) // size), size


@dataclasses.dataclass(frozen=True)
class Plan:
    """The launch of one metadata key (``max_context_len`` aside: a per-call value): the prepared
    launcher (None: nothing to launch), the device, the caches' pointer alignment and whether the fp8
    scales are passed."""

    launch: object
    device_index: int
    kv_vec_bytes: int = VEC_BYTES  # alignment of the caches' pointers: 8 elements
    fp8: bool = False  # pass k_scale and v_scale
    #: The fast path's per-call slots (``aiter_swa._fast_path.publish``), in contract order.
    fast_slots: tuple = ()
    choice: str = "auto"  # the KERNEL setting it was built for


def _fast_slots(kv_vec_bytes: int, fp8: bool, max_context_limit: int = 0) -> tuple:
    """Where the fast path reads each per-call value: the arguments of :data:`_CALL_SOURCES`, with the
    alignment :func:`run` checks (query and workspace 16 bytes, the caches ``kv_vec_bytes``), and
    ``max_context_len`` admitted in ``[0, max_context_limit]`` (``call.Checked.max_context_limit``:
    beyond it the slow twin raises the validation's error)."""
    align = {"query": VEC_BYTES, "workspace_buffer": VEC_BYTES, "key_cache": kv_vec_bytes, "value_cache": kv_vec_bytes}
    slots = []
    for param, source in _CALL_SOURCES.items():
        if source is None:
            slots.append((_fast_path.STREAM, 0, 0))
        elif source == "max_context_len":
            slots.append((_fast_path.BOUNDED_INT, ARG_INDEX[source], max_context_limit))
        elif LAUNCH.params[LAUNCH.index(param)].kind == "float":
            slots.append((_fast_path.DOUBLE, ARG_INDEX[source], 0))
        elif source in ("k_scale", "v_scale") and not fp8:
            slots.append((_fast_path.CONSTANT, 0, 0))
        elif source in ("alibi_slopes", "sinks", "cu_query_lens"):
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


#: Whether this build's GPU kernels run multi-token queries (``mtp > 1``, any ``cu_query_lens``): the
#: matrix-core kernel does (mma_kernel.h).
MULTI_TOKEN = True


def _multi_row(call: PaV1Call) -> bool:
    """Whether the call needs the multi-token kernel: ``mtp > 1``, or ``cu_query_lens`` with a row
    count other than one per sequence (with one row per sequence the vector kernel serves it, reading
    ``cu_query_lens`` on the device: ``one_token_row`` in csrc/include/aiter_swa/pa_v1/kernel.h)."""
    d = call.dims
    return call.mtp > 1 or (call.cu_query_lens is not None and d.num_rows != d.num_seqs)


def check_supported(call: PaV1Call) -> None:
    """Raise NotImplementedError for what the chosen GPU kernel cannot run (metadata only): several
    query rows per sequence with ``AITER_SWA_PA_KERNEL=vector`` (:func:`spec.choose_kernel`)."""
    choose_kernel(call.dims.gqa_ratio, call.mtp, _multi_row(call), "", KERNEL)


def _spec_fields(call: PaV1Call, arch: str) -> dict:
    d = call.dims
    return dict(
        q_dtype=_DTYPE_NAMES[call.query.dtype], kv_dtype=_DTYPE_NAMES[kv_element_dtype(call.key_cache)],
        out_dtype=_DTYPE_NAMES[call.out.dtype], head_size=d.head_size, sliding_window=call.sliding_window > 0,
        soft_cap=soft_cap_enabled(call.logits_soft_cap), alibi=call.alibi_slopes is not None, arch=arch,
    )  # fmt: skip


def spec_for(call: PaV1Call, arch: str, kernel: str | None = None) -> PaV1Spec:
    """The specialization that runs a validated ``call`` on ``arch`` (``kernel``: default :data:`KERNEL`)."""
    d = call.dims
    f = _spec_fields(call, arch)
    warp_kv = mma_warp_kv(arch, f["q_dtype"], f["kv_dtype"], d.head_size, MMA_ROWS[0])
    which = choose_kernel(d.gqa_ratio, call.mtp, _multi_row(call), arch, KERNEL if kernel is None else kernel,
                          d.num_seqs * d.num_kv_heads, warp_kv)
    if which == "vector":
        return PaV1Spec(gqa=gqa_bucket(d.gqa_ratio), **f)
    return PaV1Spec(gqa=1, mma_rows=mma_rows_for(d.head_size, d.gqa_ratio * call.mtp, warp_kv), **f)


def split_values(spec: PaV1Spec, plan: dict, max_context_len: int) -> dict:
    """The derived launch values of a call with ``max_context_len`` on a plan: the rule the prepared
    launcher runs on every call (``csrc/include/aiter_swa/pa_v1/split.h``; op_tests/pa_v1/test_pa_v1_split.py
    checks that both agree). ``plan``: the per-plan values of :data:`spec.LAUNCH` by name.

    Returns ``max_context_len`` clamped to ``[0, max_blocks_per_seq * block_size]``, ``num_partitions``,
    ``partition_size``, the workspace offsets (``workspace.layout`` over ``num_query_rows`` rows) and ``key_tile``:
    the vector kernel splits the attended span (``workspace.num_partitions``) into partitions of
    :data:`PARTITION_SIZE` (``key_tile`` 0); the matrix-core kernel as :func:`mma_split` on the plan's SM count and
    buffer, at the key tile and wave of the form it runs (``spec.mma_form``): a spec with the long form
    (``spec.mma_long``) runs it when that form's split gives partitions of at least
    :data:`spec.MMA_LONG_MIN_PARTITION_KEYS` keys, else its own form with its own split.
    """
    mcl = max(0, min(max_context_len, plan["max_blocks_per_seq"] * plan["block_size"]))
    mtp, w, heads, rows = plan["mtp"], plan["sliding_window"], plan["num_heads"], plan["num_query_rows"]
    span = attended_span(mcl, w, mtp)
    out_bytes = ELEMENT_BYTES[spec.out_dtype]
    if not spec.mma_rows:
        parts, partition_size, key_tile = -(-span // PARTITION_SIZE), PARTITION_SIZE, 0
    else:
        kv_heads = plan["num_kv_heads"]
        chunks = -(-((heads // kv_heads if kv_heads > 0 else 0) * mtp) // spec.mma_rows)
        # partials per query row (query.shape[0] of them): the buffer's size bounds the partitions
        split = functools.partial(mma_split, plan["num_seqs"], kv_heads, chunks, span,
                                  part_bytes=rows * heads * (8 + spec.head_size * out_bytes),
                                  workspace_bytes=plan["workspace_bytes"], num_cus=plan["num_cus"],
                                  key_bytes=2 * spec.head_size * ELEMENT_BYTES[spec.kv_dtype])  # fmt: skip
        key_tile = spec.key_tile
        if spec.mma_long:  # its long form where that form's partitions are long enough (spec.mma_long_form)
            parts, partition_size = split(key_tile=MMA_LONG_KEY_TILE, per_cu=MMA_LONG_WORKGROUPS_PER_SM)
            if partition_size >= MMA_LONG_MIN_PARTITION_KEYS:
                key_tile = MMA_LONG_KEY_TILE
        if key_tile == spec.key_tile:
            parts, partition_size = split(key_tile=key_tile, per_cu=spec.mma_workgroups_per_cu)
    exp_sums, max_logits, tmp_out, _ = layout(rows, heads, spec.head_size, parts, out_bytes)
    return dict(max_context_len=mcl, num_partitions=parts, partition_size=partition_size, exp_sums_offset=exp_sums,
                max_logits_offset=max_logits, tmp_out_offset=tmp_out, key_tile=key_tile)  # fmt: skip


def launch_values(call: PaV1Call, arch: str, num_cus: int, kernel: str | None = None) -> tuple:
    """The specialization and every launch parameter (``spec.LAUNCH``) of a validated call but the
    per-call pointers, scalars and stream, from metadata and host values only: ``(spec, values)``:
    the per-plan values (:func:`_plan` binds them), and ``max_context_len`` with the derived values
    of :func:`split_values` (which the prepared launcher computes itself on each call). Used by
    :func:`_plan` and by the CPU emulator of the tests (op_tests/pa_v1/test_pa_v1_mma_emulated.py)."""
    d = call.dims
    spec = spec_for(call, arch, kernel)
    ks, vs, qs, os_ = call.key_cache.stride(), call.value_cache.stride(), call.query.stride(), call.out.stride()
    if call.kv_cache_layout == "HND":  # [num_blocks, num_kv_heads, block_size, head_size]
        (kb, kh, kt), (vb, vh, vt) = ks[:3], vs[:3]
    else:  # NHD: [num_blocks, block_size, num_kv_heads, head_size]
        (kb, kt, kh), (vb, vt, vh) = ks[:3], vs[:3]
    plan = dict(
        device=call.query.get_device(), num_seqs=d.num_seqs, num_heads=d.num_heads, num_kv_heads=d.num_kv_heads,
        bt_stride=call.block_tables.stride(0), q_stride_seq=qs[0], q_stride_head=qs[1], o_stride_seq=os_[0],
        o_stride_head=os_[1], k_stride_block=kb, k_stride_head=kh, k_stride_token=kt, v_stride_block=vb,
        v_stride_head=vh, v_stride_token=vt, sliding_window=call.sliding_window, block_size=d.block_size,
        num_blocks=call.key_cache.shape[0], mtp=call.mtp, num_query_rows=d.num_rows, cu_len=d.cu_len,
        max_blocks_per_seq=d.max_blocks_per_seq, workspace_bytes=call.workspace_buffer.numel(), num_cus=num_cus,
    )  # fmt: skip
    return spec, {**plan, **split_values(spec, plan, call.max_context_len)}


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
        return Plan(None, device_index, kv_vec_bytes, fp8, choice=KERNEL)  # (and nothing for the fast path to file)
    spec, values = launch_values(call, toolchain.device_arch(device_index), multiprocessor_count(device_index))
    selfcheck.ensure(spec, call)  # first use of an untested arch's specialization (selfcheck.py)
    prepared = loader.load_module(spec).prepare(*LAUNCH.pack_plan(**{n: values[n] for n in LAUNCH.plan_names}))
    return Plan(prepared, device_index, kv_vec_bytes, fp8, _fast_slots(kv_vec_bytes, fp8, call.checked.max_context_limit),
                KERNEL)  # fmt: skip


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
    if plan is None or plan.choice is not KERNEL:
        call = PaV1Call(*args)
        call.checked, call.dims = checked, checked.dims
        plan = checked.gpu_plan = _plan(call)
    (out, query, key_cache, value_cache, block_tables, cu_query_lens, context_lens, alibi_slopes, sinks, k_scale,
     v_scale, workspace, scale, cap, max_context_len) = _call_args(args)  # fmt: skip
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
        out.data_ptr(), q_ptr, k_ptr, v_ptr, block_tables.data_ptr(),
        cu_query_lens.data_ptr() if cu_query_lens is not None else 0, context_lens.data_ptr(),
        alibi_slopes.data_ptr() if alibi_slopes is not None else 0, sinks.data_ptr() if sinks is not None else 0,
        k_scale.data_ptr() if plan.fp8 else 0, v_scale.data_ptr() if plan.fp8 else 0, ws_ptr, scale, cap,
        max_context_len, stream,
    )  # fmt: skip
    if not debug_checks.ENABLED:  # a miss of the fast path (aiter_swa._fast_path): file this launch for its key
        _fast_path.publish(plan.launch, plan.fast_slots, f"cuda:{plan.device_index}", stream)
