"""The arguments of ``paged_attention_v1``, listed once, and their validation.

:class:`PaV1Call` is the op's argument list (its fields, in schema order, render the torch schema:
``aiter_swa._library.schema_of``). :func:`validate` checks one call on metadata only — dtypes,
shapes, strides, devices and host scalars; no device tensor is read (no ``.item()``, ``.cpu()`` or
tensor comparison), so a GPU call does not synchronise, works under CUDA/HIP graph capture and
traces under torch.compile (the fake impl runs the same checks) — and returns the call object,
with its sizes in ``dims``, which the CPU and GPU implementations both take.

The outcome of the checks is a function of that metadata alone, so it is cached per metadata key
(shapes, strides, dtypes, devices of every tensor, and the host scalars but ``max_context_len``): a
repeated call with new tensors of the same metadata pays for matching the key, not for the checks.
``max_context_len`` changes every step of a decode loop, so it is not in the key: the record keeps
the largest value the metadata admits (:attr:`Checked.max_context_limit`: the block table's width,
the workspace buffer's size, int32), and a call beyond it runs the checks again, which raise.

Exception types: ``TypeError`` for a wrong dtype, ``ValueError`` for a wrong shape, stride, device
or value, ``NotImplementedError`` for what a later issue adds (fp8 output, an E5M2 KV cache; on the
GPU, until its multi-token kernel lands, ``mtp > 1`` and ``cu_query_lens`` layouts other than one
row per sequence: ``gpu.py``). Every message reads ``<argument>: expected <what>, got <what>``.
"""

from __future__ import annotations

import dataclasses
import operator

import torch

from aiter_swa._checks import MetadataCache, has_internal_overlap
from aiter_swa._library import arg, arg_names, derived
from aiter_swa.jit import toolchain

from .spec import GPU_DTYPES, MAX_GQA_RATIO, MIN_BLOCK_SIZE, SUPPORTED_HEAD_SIZES, fp8_format_for_arch
from .workspace import DTYPES, check_mtp, get_workspace_size, layout, max_context_limit, num_partitions

LAYOUTS = ("HND", "NHD")
#: The smallest double that rounds to infinity in float32: FLT_MAX plus half an ulp, 2^128 - 2^103.
F32_OVERFLOW = 2.0**128 - 2.0**103
#: float32's smallest normal number, 2^-126.
F32_MIN_NORMAL = 2.0**-126
#: Largest ``max_context_len``: context lengths are int32 (``context_lens``, and the kernel's ints).
MAX_CONTEXT_LEN = 2**31 - 1


def soft_cap_enabled(logits_soft_cap: float) -> bool:
    """Whether ``logits_soft_cap = c`` caps the logits (``c * tanh(x / c)``): ``2^-126 <= c`` and
    ``c`` finite in float32. ``c <= 0`` is no cap; so is ``c = inf`` or any ``c`` whose float32 form
    is infinite (``c >= 2^128 - 2^103``): the limit of ``c * tanh(x / c)`` as ``c`` grows is ``x``.
    NaN and ``0 < c < 2^-126`` are rejected by :func:`check`. CPU and GPU paths both use this."""
    return F32_MIN_NORMAL <= logits_soft_cap < F32_OVERFLOW
_GPU_DTYPES = tuple({"fp16": torch.float16, "bf16": torch.bfloat16}[d] for d in GPU_DTYPES)
#: ``kv_cache_dtype`` values: the query's dtype, or fp8 E4M3 (vLLM's names for it).
KV_CACHE_DTYPES = ("auto", "fp8", "fp8_e4m3")
#: Known ``kv_cache_dtype`` values of the serving engines that are not supported (NotImplementedError).
_NOT_YET_KV_CACHE_DTYPES = ("fp8_e5m2", "int8")
#: Torch fp8 dtypes by spec name, and the cache dtypes ``kv_cache_dtype="fp8"`` accepts: an fp8
#: dtype (the format, an explicit choice) or uint8 (aiter's call sites; the format of the device's
#: arch: :func:`kv_element_dtype`).
TORCH_FP8 = {"fp8e4m3fn": torch.float8_e4m3fn, "fp8e4m3fnuz": torch.float8_e4m3fnuz}
FP8_CACHE_DTYPES = (torch.float8_e4m3fnuz, torch.float8_e4m3fn, torch.uint8)


def kv_element_dtype(cache: torch.Tensor) -> torch.dtype:
    """The element type a KV cache holds: its dtype; for ``uint8`` the fp8 format of its device's
    arch (``spec.fp8_format_for_arch``: E4M3 FNUZ on gfx940/941/942, else OCP E4M3, also on the CPU)."""
    if cache.dtype != torch.uint8:
        return cache.dtype
    arch = toolchain.device_arch(cache.get_device()) if cache.device.type == "cuda" else None
    return TORCH_FP8[fp8_format_for_arch(arch)]


@dataclasses.dataclass(frozen=True)
class PaDims:
    """Sizes of one validated call (host ints, read from shapes only)."""

    num_seqs: int
    #: ``query.shape[0]``: ``num_seqs * mtp`` without ``cu_query_lens``, any count with it.
    num_rows: int
    num_heads: int
    num_kv_heads: int
    head_size: int
    block_size: int
    max_blocks_per_seq: int
    #: ``num_heads // num_kv_heads``: query heads sharing one KV head.
    gqa_ratio: int
    #: Split-K partitions per sequence (``workspace.num_partitions``) for :attr:`max_context_len`.
    num_partitions: int
    #: Byte offsets of exp_sums, max_logits, tmp_out in the workspace, and the bytes needed, for
    #: :attr:`max_context_len`.
    workspace_layout: tuple
    #: Most query tokens per sequence (the ``mtp`` argument).
    mtp: int = 1
    #: ``cu_query_lens`` given: 0 (None), ``num_seqs + 1`` or ``num_seqs`` (its length).
    cu_len: int = 0
    #: The call's ``max_context_len`` (the partition count and the layout are for it).
    max_context_len: int = 0


@dataclasses.dataclass
class PaV1Call:
    """One call of ``paged_attention_v1``: aiter's arguments, names, order and defaults, plus
    ``sliding_window`` and ``sinks`` (appended, with defaults: every aiter call site still works).
    Shapes, dtypes and semantics: the docstring of :mod:`aiter_swa.ops.pa_v1.op`.
    """

    out: torch.Tensor = arg("Tensor(a!)")
    workspace_buffer: torch.Tensor = arg("Tensor(b!)")
    query: torch.Tensor = arg("Tensor")
    key_cache: torch.Tensor = arg("Tensor")
    value_cache: torch.Tensor = arg("Tensor")
    scale: float = arg("float")
    block_tables: torch.Tensor = arg("Tensor")
    cu_query_lens: torch.Tensor | None = arg("Tensor?")
    context_lens: torch.Tensor = arg("Tensor")
    max_context_len: int = arg("int")
    alibi_slopes: torch.Tensor | None = arg("Tensor?")
    kv_cache_dtype: str = arg("str")
    kv_cache_layout: str = arg("str")
    logits_soft_cap: float = arg("float")
    k_scale: torch.Tensor = arg("Tensor")
    v_scale: torch.Tensor = arg("Tensor")
    fp8_out_scale: torch.Tensor | None = arg("Tensor?", None)
    partition_size: int = arg("int", 256)
    mtp: int = arg("int", 1)
    sliding_window: int = arg("int", 0)
    sinks: torch.Tensor | None = arg("Tensor?", None)
    #: Filled by :func:`validate`: the call's sizes, and the per-metadata record they come from.
    dims: PaDims | None = derived()
    checked: Checked | None = derived()

    def args(self) -> tuple:
        """The op's arguments in schema order: ``torch.ops.aiter_swa.paged_attention_v1(*call.args())``."""
        return tuple(getattr(self, name) for name in ARG_NAMES)


@dataclasses.dataclass
class Checked:
    """What :func:`validate` caches per metadata key (``max_context_len`` aside): the sizes (of the
    first call's ``max_context_len``), the largest ``max_context_len`` the metadata admits, and a
    slot where the GPU dispatch keeps its launch plan for that metadata (``gpu.py``)."""

    dims: PaDims
    #: Every ``max_context_len`` in ``[0, max_context_limit]`` passes the checks with this metadata,
    #: none above it (``workspace.max_context_limit``, the block table's width, :data:`MAX_CONTEXT_LEN`).
    max_context_limit: int = 0
    gpu_plan: object = None


#: The op's argument names in schema order.
ARG_NAMES = arg_names(PaV1Call)


def _check_dtype(name, tensor, expected, why=""):
    if tensor.dtype not in expected:
        raise TypeError(f"{name}: expected dtype {' or '.join(map(str, expected))}{why}, got {tensor.dtype}")


def _check_ndim(name, tensor, ndim, shape_doc):
    if tensor.dim() != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D tensor {shape_doc}, got shape {tuple(tensor.shape)}")


def _check_last_stride(name, tensor, what):
    if tensor.stride(-1) != 1:
        raise ValueError(f"{name}: expected stride 1 along {what} (last dimension), got strides {tensor.stride()}")


#: Each argument's position in the schema, and the defaults of the trailing ones.
ARG_INDEX = {name: i for i, name in enumerate(ARG_NAMES)}
_DEFAULTS = tuple(f.default for f in dataclasses.fields(PaV1Call) if "schema" in f.metadata)
_FIRST_DEFAULTED = next(i for i, d in enumerate(_DEFAULTS) if d is not dataclasses.MISSING)


def full_args(args: tuple) -> tuple:
    """The op's positional arguments with the trailing defaults filled in.

    The torch dispatcher leaves out trailing arguments equal to their defaults when it calls a
    Python kernel, so a kernel receives 16 to 21 arguments.
    """
    n = len(args)
    if n == len(ARG_NAMES):
        return args
    if not _FIRST_DEFAULTED <= n < len(ARG_NAMES):
        raise TypeError(f"paged_attention_v1: expected {_FIRST_DEFAULTED} to {len(ARG_NAMES)} arguments, got {n}")
    return args + _DEFAULTS[n:]


#: The tensor arguments whose metadata the checks read (``alibi_slopes``, ``sinks`` and ``cu_query_lens``,
#: last, may be None).
_tensors_of = operator.itemgetter(*(ARG_INDEX[n] for n in (
    "out", "workspace_buffer", "query", "key_cache", "value_cache", "block_tables", "context_lens", "alibi_slopes",
    "sinks", "cu_query_lens")))  # fmt: skip
_KV_CACHE_DTYPE = ARG_INDEX["kv_cache_dtype"]
_scales_of = operator.itemgetter(ARG_INDEX["k_scale"], ARG_INDEX["v_scale"])
_scalar_args = operator.itemgetter(*(ARG_INDEX[n] for n in (
    "kv_cache_dtype", "kv_cache_layout", "partition_size", "mtp", "sliding_window",
    "logits_soft_cap", "scale", "fp8_out_scale", "alibi_slopes", "sinks", "cu_query_lens")))  # fmt: skip
_MAX_CONTEXT_LEN = ARG_INDEX["max_context_len"]


def _scalars(args: tuple) -> tuple:
    """The host values the checks (and the GPU launch plan) depend on, and which optionals are None.

    ``scale`` and the soft cap's value are passed to the kernel on every call; only their classes
    are in the key: the cap on, off or invalid (:func:`soft_cap_enabled`), ``scale`` finite in float32.
    ``max_context_len`` is not in it (:attr:`Checked.max_context_limit`).
    """
    (kv_cache_dtype, layout_name, partition_size, mtp, window, cap, scale, fp8_out_scale, alibi,
     sinks, cu) = _scalar_args(args)  # fmt: skip
    return (kv_cache_dtype, layout_name, partition_size, mtp, window,
            F32_MIN_NORMAL <= cap < F32_OVERFLOW, cap <= 0 or cap >= F32_OVERFLOW, abs(scale) < F32_OVERFLOW,
            fp8_out_scale is None, alibi is None, sinks is None, cu is None)  # fmt: skip


_CHECKS = MetadataCache()


def lookup(args: tuple) -> Checked:
    """The checks of :func:`validate` on the op's positional arguments (:func:`full_args`), cached.

    The GPU dispatch's entry: no call object is built when the metadata was seen before and
    ``max_context_len`` is within what it admits (:attr:`Checked.max_context_limit`); one beyond it
    runs :func:`check`, which raises the error of that value.
    """
    tensors = _tensors_of(args)
    if tensors[-1] is None or tensors[-2] is None or tensors[-3] is None:  # their absence is part of the scalars
        tensors = tuple(t for t in tensors if t is not None)
    if args[_KV_CACHE_DTYPE] != "auto":  # fp8: the scales are checked (kv_cache_dtype is in the scalars)
        tensors += _scales_of(args)
    checked = _CHECKS.lookup(_scalars(args), tensors, lambda: _checked(PaV1Call(*args)))
    if 0 <= args[_MAX_CONTEXT_LEN] <= checked.max_context_limit:
        return checked
    return _checked(PaV1Call(*args))  # raises (the limit is exact: tested); uncached either way


def _checked(c: PaV1Call) -> Checked:
    """The record of one call's metadata: :func:`check`, and the largest ``max_context_len`` it admits."""
    d = check(c)
    ws = max_context_limit(d.num_seqs, d.num_heads, d.head_size, c.workspace_buffer.numel(), c.out.dtype,
                           c.sliding_window, c.partition_size, c.mtp)  # fmt: skip
    limit = min(MAX_CONTEXT_LEN, d.max_blocks_per_seq * d.block_size, MAX_CONTEXT_LEN if ws is None else ws)
    return Checked(d, limit)


def _for_context(d: PaDims, c: PaV1Call) -> PaDims:
    """``d`` (a record's sizes) for the ``max_context_len`` of ``c`` (a call of the same metadata)."""
    parts = num_partitions(c.max_context_len, c.sliding_window, c.partition_size, c.mtp)
    return dataclasses.replace(d, max_context_len=c.max_context_len, num_partitions=parts,
                               workspace_layout=layout(d.num_seqs * c.mtp, d.num_heads, d.head_size, parts,
                                                       c.out.dtype.itemsize))  # fmt: skip


def validate(*args, **kwargs) -> PaV1Call:
    """Check the arguments of ``paged_attention_v1`` (schema order); return the call with its ``dims``.

    Multi-token queries (``tokens.py``): without ``cu_query_lens``, ``query`` has ``num_seqs * mtp``
    rows (``num_seqs = context_lens.shape[0]``); with it (int32 on the query's device,
    ``[num_seqs + 1]``, or ``[num_seqs]`` whose end is the query's row count), any number of rows;
    its values are never read on the host. ``k_scale`` and ``v_scale`` are not checked with
    ``kv_cache_dtype="auto"`` (aiter's test passes CPU tensors there). With ``"fp8"`` / ``"fp8_e4m3"`` the caches are float8_e4m3fnuz,
    float8_e4m3fn or uint8 (both alike) and the scales float32 tensors of one element on the
    query's device (read by the kernel, never on the host).
    ``sliding_window`` takes any int64 (``<= 0``: off; one at least as long as a context attends
    all of it). ``logits_soft_cap``: ``<= 0``, ``inf`` or any value whose float32 form is infinite
    disable the cap (:func:`soft_cap_enabled`). ``scale``: any value finite in float32.

    The outcome is cached per metadata key; a call whose tensors match one of the recently seen
    metadata sets (checked in C++) skips building the key.

    Raises:
        NotImplementedError: ``kv_cache_dtype`` ``"fp8_e5m2"`` or ``"int8"``, ``fp8_out_scale``
            given (on the GPU also ``gpu.check_supported``: multi-token calls with
            ``AITER_SWA_PA_KERNEL=vector``).
        TypeError: wrong dtype of ``query`` (float16/bfloat16; float32 on the CPU), ``out``,
            ``key_cache``/``value_cache`` (the query's), ``block_tables``/``context_lens``/``cu_query_lens`` (int32),
            ``alibi_slopes``/``sinks``/fp8 scales (float32), ``workspace_buffer`` (uint8); a cache
            dtype that does not match ``kv_cache_dtype``.
        ValueError: any shape, stride, device or size mismatch, an unsupported head size, a block
            size of 0, an unsupported GQA ratio, layout or partition size, ``mtp < 1``, ``query`` rows
            not ``num_seqs * mtp`` (without ``cu_query_lens``), ``cu_query_lens`` not 1-D of
            ``num_seqs + 1`` (or ``num_seqs``) entries, ``max_context_len`` outside
            ``[0, 2^31 - 1]``, a workspace smaller than ``get_workspace_size(...)`` bytes, ``out``
            with internal overlap (two of its elements at one address), ``scale`` NaN, infinite or
            beyond float32's range, ``logits_soft_cap`` NaN or in ``(0, 2^-126)``.
    """
    call = PaV1Call(*args, **kwargs)
    checked = lookup(call.args())
    dims = checked.dims
    call.checked, call.dims = checked, dims if dims.max_context_len == call.max_context_len else _for_context(dims, call)
    return call


def _check_constants(c: PaV1Call) -> None:
    """The host scalars' ranges: ``max_context_len`` an int32, ``scale`` and ``logits_soft_cap``
    usable as the kernel's float32 (docs/design.md, "Constants")."""
    if c.max_context_len > MAX_CONTEXT_LEN:
        raise ValueError(
            f"max_context_len: expected an int >= 0 and <= {MAX_CONTEXT_LEN} (context lengths are int32), "
            f"got {c.max_context_len}"
        )
    if not abs(c.scale) < F32_OVERFLOW:
        raise ValueError(f"scale: expected a finite number within float32's range (|scale| < 3.4028236e+38), got {c.scale!r}")
    cap = c.logits_soft_cap
    if not (cap <= 0 or cap >= F32_MIN_NORMAL):  # NaN, or a cap whose reciprocal overflows float32
        raise ValueError(
            f"logits_soft_cap: expected <= 0 or inf (no cap) or a number >= 2^-126 (float32's smallest normal), "
            f"got {cap!r}"
        )


def check(c: PaV1Call) -> PaDims:
    """Every check of :func:`validate`, uncached (the fake impl's path: symbolic shapes are not hashable)."""
    if c.kv_cache_dtype not in KV_CACHE_DTYPES:
        exc = NotImplementedError if c.kv_cache_dtype in _NOT_YET_KV_CACHE_DTYPES else ValueError
        raise exc(
            f"kv_cache_dtype: expected one of {KV_CACHE_DTYPES} ('auto': the query's dtype; 'fp8', 'fp8_e4m3': "
            f"fp8 E4M3 with per-tensor k_scale/v_scale; E5M2 and int8 caches are not supported), got {c.kv_cache_dtype!r}"
        )
    fp8 = c.kv_cache_dtype != "auto"
    if c.fp8_out_scale is not None:
        raise NotImplementedError("fp8_out_scale: expected None (fp8 output is not supported yet), got a tensor")
    check_mtp(c.mtp)
    _check_constants(c)
    parts = num_partitions(c.max_context_len, c.sliding_window, c.partition_size, c.mtp)
    layout_name = c.kv_cache_layout
    if layout_name not in LAYOUTS:
        raise ValueError(f"kv_cache_layout: expected one of {LAYOUTS}, got {layout_name!r}")

    query, out, key_cache, value_cache = c.query, c.out, c.key_cache, c.value_cache
    block_tables, context_lens, alibi_slopes, workspace = c.block_tables, c.context_lens, c.alibi_slopes, c.workspace_buffer
    sinks, cu = c.sinks, c.cu_query_lens
    rows_doc = "[num_seqs * mtp, num_heads, head_size]" if cu is None else "[num_rows, num_heads, head_size]"
    cache_doc = (
        "[num_blocks, num_kv_heads, block_size, head_size]"
        if layout_name == "HND"
        else "[num_blocks, block_size, num_kv_heads, head_size]"
    )
    _check_ndim("query", query, 3, rows_doc)
    _check_ndim("out", out, 3, rows_doc)
    _check_ndim("key_cache", key_cache, 4, f"{cache_doc} ({layout_name})")
    _check_ndim("value_cache", value_cache, 4, f"{cache_doc} ({layout_name})")
    _check_ndim("block_tables", block_tables, 2, "[num_seqs, max_blocks_per_seq]")
    _check_ndim("context_lens", context_lens, 1, "[num_seqs]")
    if alibi_slopes is not None:
        _check_ndim("alibi_slopes", alibi_slopes, 1, "[num_heads]")
    if sinks is not None:
        _check_ndim("sinks", sinks, 1, "[num_heads]")
    if cu is not None:
        _check_ndim("cu_query_lens", cu, 1, "[num_seqs + 1]")

    _check_dtype("query", query, DTYPES if query.device.type == "cpu" else _GPU_DTYPES, f" on {query.device.type}")
    _check_dtype("out", out, (query.dtype,), " (the query's)")
    if fp8:
        _check_dtype("key_cache", key_cache, FP8_CACHE_DTYPES, f" (kv_cache_dtype={c.kv_cache_dtype!r})")
        _check_dtype("value_cache", value_cache, (key_cache.dtype,), " (the key_cache's)")
        for name in ("k_scale", "v_scale"):
            t = getattr(c, name)
            _check_dtype(name, t, (torch.float32,), f" (per-tensor fp8 scale, kv_cache_dtype={c.kv_cache_dtype!r})")
            if t.numel() != 1:
                raise ValueError(
                    f"{name}: expected one element (a per-tensor fp8 scale, shape [] or [1]; per-token or "
                    f"per-head scales are not supported), got shape {tuple(t.shape)}"
                )
    else:
        _check_dtype("key_cache", key_cache, (query.dtype,), " (the query's, as kv_cache_dtype='auto')")
        _check_dtype("value_cache", value_cache, (query.dtype,), " (the query's, as kv_cache_dtype='auto')")
    _check_dtype("block_tables", block_tables, (torch.int32,))
    _check_dtype("context_lens", context_lens, (torch.int32,))
    _check_dtype("workspace_buffer", workspace, (torch.uint8,))
    if alibi_slopes is not None:
        _check_dtype("alibi_slopes", alibi_slopes, (torch.float32,))
    if sinks is not None:
        _check_dtype("sinks", sinks, (torch.float32,))
    if cu is not None:
        _check_dtype("cu_query_lens", cu, (torch.int32,))

    for name in ("out", "workspace_buffer", "key_cache", "value_cache", "block_tables", "context_lens", "alibi_slopes",
                 "sinks", "cu_query_lens") + (("k_scale", "v_scale") if fp8 else ()):
        t = getattr(c, name)
        if t is not None and t.device != query.device:
            raise ValueError(f"{name}: expected a tensor on {query.device} (the query's device), got one on {t.device}")

    num_rows, num_heads, head_size = query.shape
    if cu is None:
        if num_rows % c.mtp:
            raise ValueError(
                f"query: expected num_seqs * mtp rows (mtp={c.mtp}; without cu_query_lens every sequence has mtp "
                f"tokens), got {num_rows} rows"
            )
        num_seqs = num_rows // c.mtp
    else:
        num_seqs = context_lens.shape[0]
        if cu.shape[0] not in (num_seqs + 1, num_seqs):
            raise ValueError(
                f"cu_query_lens: expected shape [num_seqs + 1={num_seqs + 1}] (or [num_seqs={num_seqs}], the end being "
                f"query.shape[0]; num_seqs = context_lens.shape[0]), got {tuple(cu.shape)}"
            )
    if layout_name == "HND":
        _, num_kv_heads, block_size, cache_head_size = key_cache.shape
    else:
        _, block_size, num_kv_heads, cache_head_size = key_cache.shape
    if out.shape != query.shape:
        raise ValueError(f"out: expected the query's shape {tuple(query.shape)}, got {tuple(out.shape)}")
    if value_cache.shape != key_cache.shape:
        raise ValueError(
            f"value_cache: expected the key_cache's shape {tuple(key_cache.shape)}, got {tuple(value_cache.shape)}"
        )
    if cache_head_size != head_size:
        raise ValueError(
            f"key_cache: expected head_size {head_size} (the query's) in the last dimension of {cache_doc}, "
            f"got {cache_head_size}"
        )
    if head_size not in SUPPORTED_HEAD_SIZES:
        raise ValueError(f"query: expected a head_size in {SUPPORTED_HEAD_SIZES}, got {head_size}")
    if block_size < MIN_BLOCK_SIZE:
        raise ValueError(
            f"key_cache: expected a block_size >= {MIN_BLOCK_SIZE} ({layout_name} layout {cache_doc}), got {block_size}"
        )
    if num_kv_heads < 1 or num_heads < 1 or num_heads % num_kv_heads != 0:
        raise ValueError(
            f"query: expected num_heads a positive multiple of num_kv_heads={num_kv_heads} (key_cache), got {num_heads}"
        )
    gqa_ratio = num_heads // num_kv_heads
    if gqa_ratio > MAX_GQA_RATIO:
        raise ValueError(
            f"query: expected num_heads / num_kv_heads <= {MAX_GQA_RATIO}, got {num_heads} / {num_kv_heads} = {gqa_ratio}"
        )
    if context_lens.shape[0] != num_seqs:
        raise ValueError(
            f"context_lens: expected num_seqs={num_seqs} entries (query.shape[0] / mtp={c.mtp}), got {context_lens.shape[0]}"
        )
    max_blocks_per_seq = block_tables.shape[1]
    min_blocks = -(-c.max_context_len // block_size)
    if block_tables.shape[0] != num_seqs or max_blocks_per_seq < min_blocks:
        raise ValueError(
            f"block_tables: expected shape [num_seqs={num_seqs}, >= ceil(max_context_len={c.max_context_len} / "
            f"block_size={block_size})={min_blocks}], got {tuple(block_tables.shape)}"
        )
    if alibi_slopes is not None and alibi_slopes.shape[0] != num_heads:
        raise ValueError(f"alibi_slopes: expected shape [num_heads={num_heads}], got {tuple(alibi_slopes.shape)}")
    if sinks is not None and sinks.shape[0] != num_heads:
        raise ValueError(f"sinks: expected shape [num_heads={num_heads}], got {tuple(sinks.shape)}")

    if has_internal_overlap(out.shape, out.stride()):
        raise ValueError(
            f"out: expected a tensor whose elements do not share memory (no internal overlap), "
            f"got shape {tuple(out.shape)} with strides {tuple(out.stride())}"
        )
    _check_last_stride("query", query, "head_size")
    _check_last_stride("out", out, "head_size")
    _check_last_stride("key_cache", key_cache, "head_size")
    _check_last_stride("value_cache", value_cache, "head_size")
    _check_last_stride("block_tables", block_tables, "max_blocks_per_seq")
    _check_last_stride("context_lens", context_lens, "num_seqs")
    if alibi_slopes is not None:
        _check_last_stride("alibi_slopes", alibi_slopes, "num_heads")
    if sinks is not None:
        _check_last_stride("sinks", sinks, "num_heads")
    if cu is not None:
        _check_last_stride("cu_query_lens", cu, "num_seqs + 1")
    if not workspace.is_contiguous():
        raise ValueError(f"workspace_buffer: expected a contiguous tensor, got strides {workspace.stride()}")

    workspace_bytes = get_workspace_size(
        num_seqs, num_heads, head_size, c.max_context_len, out.dtype, c.sliding_window, c.partition_size, c.mtp
    )
    if workspace.numel() < workspace_bytes:
        raise ValueError(
            f"workspace_buffer: expected >= {workspace_bytes} bytes (aiter_swa.get_workspace_size), "
            f"got {workspace.numel()}"
        )
    return PaDims(
        num_seqs=num_seqs,
        num_rows=num_rows,
        num_heads=num_heads,
        num_kv_heads=num_kv_heads,
        head_size=head_size,
        block_size=block_size,
        max_blocks_per_seq=max_blocks_per_seq,
        gqa_ratio=gqa_ratio,
        num_partitions=parts,
        workspace_layout=layout(num_seqs * c.mtp, num_heads, head_size, parts, out.dtype.itemsize),
        mtp=c.mtp,
        cu_len=0 if cu is None else cu.shape[0],
        max_context_len=c.max_context_len,
    )
