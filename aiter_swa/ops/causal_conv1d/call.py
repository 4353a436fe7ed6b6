"""The arguments of ``causal_conv1d_fwd`` and ``causal_conv1d_update``, listed once, and their validation.

:class:`FwdCall` and :class:`UpdateCall` are the ops' argument lists (their fields, in schema order,
render the torch schemas: ``aiter_swa._library.schema_of``). :func:`validate_fwd` and
:func:`validate_update` check one call on metadata only — dtypes, shapes, strides, devices and host
scalars; no device tensor is read, so a GPU call does not synchronise and can be captured in a
CUDA/HIP graph — and return the call with its sizes in ``dims``. The outcome is a function of that
metadata, so it is cached per metadata key (the GPU dispatch keeps its launch plan in the same record).

Exception types: ``TypeError`` for a wrong dtype, ``ValueError`` for a wrong shape, stride, device
or value. Every message reads ``<argument>: expected <what>, got <what>``.
"""

from __future__ import annotations

import dataclasses

import torch

from aiter_swa._checks import MetadataCache
from aiter_swa._library import arg, arg_names, derived

from .spec import WIDTHS

DTYPES = (torch.float16, torch.bfloat16, torch.float32)
DTYPE_NAMES = {torch.float16: "fp16", torch.bfloat16: "bf16", torch.float32: "fp32"}
#: Accepted ``activation`` values and the kernel's name for each (vLLM: None, "silu", "swish").
ACTIVATIONS = {None: "none", "none": "none", "silu": "silu", "swish": "silu"}
#: vLLM's ``PAD_SLOT_ID`` (``vllm/attention/backends/utils.py``): the default ``pad_slot_id``.
PAD_SLOT_ID = -1
_INT32_MAX = 2**31 - 1

try:
    from torch._subclasses.fake_tensor import FakeTensor as _FakeTensor
except ImportError:  # pragma: no cover - torch without fake tensors
    _FakeTensor = None


@dataclasses.dataclass(frozen=True)
class FwdDims:
    """Sizes of one validated ``causal_conv1d_fwd`` call (host ints, from shapes only)."""

    dim: int
    total_tokens: int
    num_seqs: int
    width: int
    num_cache_lines: int
    layout: str  # "channel_first" or "channel_last"
    activation: str  # "none" or "silu"


@dataclasses.dataclass(frozen=True)
class UpdateDims:
    """Sizes of one validated ``causal_conv1d_update`` call."""

    batch: int
    dim: int
    seqlen: int
    width: int
    num_cache_lines: int
    activation: str


@dataclasses.dataclass
class Checked:
    """What validation caches per metadata key: the sizes, and the GPU dispatch's launch plan slot."""

    dims: object
    gpu_plan: object = None
    #: (x's extent in bytes, out's extent in bytes, out's strides == x's): the per-call overlap check
    extents: tuple = (0, 0, True)


@dataclasses.dataclass
class FwdCall:
    """One call of ``causal_conv1d_fwd``: vLLM's ``causal_conv1d_fn`` arguments (names and order), with
    ``out`` first and ``seq_lens_cpu`` last. Shapes, dtypes and semantics: :mod:`aiter_swa.ops.causal_conv1d.op`."""

    out: torch.Tensor = arg("Tensor(a!)")
    x: torch.Tensor = arg("Tensor")
    weight: torch.Tensor = arg("Tensor")
    bias: torch.Tensor | None = arg("Tensor?")
    conv_states: torch.Tensor = arg("Tensor(b!)")
    query_start_loc: torch.Tensor = arg("Tensor")
    cache_indices: torch.Tensor | None = arg("Tensor?", None)
    has_initial_state: torch.Tensor | None = arg("Tensor?", None)
    activation: str | None = arg("str?", "silu")
    pad_slot_id: int = arg("int", PAD_SLOT_ID)
    seq_lens_cpu: list | None = arg("int[]?", None)
    dims: FwdDims | None = derived()
    checked: Checked | None = derived()

    def args(self) -> tuple:
        return tuple(getattr(self, n) for n in FWD_ARG_NAMES)


@dataclasses.dataclass
class UpdateCall:
    """One call of ``causal_conv1d_update``: vLLM's ``causal_conv1d_update`` arguments (names and
    order; no spec-decode rollback, varlen or prefix-cache arguments), with ``out`` first."""

    out: torch.Tensor = arg("Tensor(a!)")
    x: torch.Tensor = arg("Tensor")
    conv_state: torch.Tensor = arg("Tensor(b!)")
    weight: torch.Tensor = arg("Tensor")
    bias: torch.Tensor | None = arg("Tensor?", None)
    activation: str | None = arg("str?", None)
    conv_state_indices: torch.Tensor | None = arg("Tensor?", None)
    pad_slot_id: int = arg("int", PAD_SLOT_ID)
    dims: UpdateDims | None = derived()
    checked: Checked | None = derived()

    def args(self) -> tuple:
        return tuple(getattr(self, n) for n in UPDATE_ARG_NAMES)


FWD_ARG_NAMES = arg_names(FwdCall)
UPDATE_ARG_NAMES = arg_names(UpdateCall)


def _dtype(name, t, expected, why=""):
    if t.dtype not in expected:
        raise TypeError(f"{name}: expected dtype {' or '.join(map(str, expected))}{why}, got {t.dtype}")


def _shape(name, t, expected: tuple, doc: str):
    if tuple(t.shape) != tuple(expected):
        raise ValueError(f"{name}: expected shape {doc} = {tuple(expected)}, got {tuple(t.shape)}")


def _ndim(name, t, ndim, doc):
    if t.dim() != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D tensor {doc}, got shape {tuple(t.shape)}")


def _device(name, t, device):
    if t.device != device:
        raise ValueError(f"{name}: expected a tensor on {device} (x's device), got one on {t.device}")


def _unit_stride(name, t):
    if t.dim() == 1 and t.shape[0] > 1 and t.stride(0) != 1:
        raise ValueError(f"{name}: expected a contiguous 1-D tensor, got stride {t.stride(0)}")


def _activation(value) -> str:
    if value not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of None, 'none', 'silu', 'swish', got {value!r}")
    return ACTIVATIONS[value]


def _overlap(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether the memory spans of ``a`` and ``b`` intersect (spans from pointers, shapes and strides)."""
    if a.numel() == 0 or b.numel() == 0 or a.device != b.device or a.device.type == "meta":
        return False
    if _FakeTensor is not None and (isinstance(a, _FakeTensor) or isinstance(b, _FakeTensor)):
        return False  # torch.compile / opcheck tracing: no real pointers
    try:
        a.data_ptr(), b.data_ptr()
    except RuntimeError:  # tensors without storage: no pointers to compare
        return False

    def span(t):
        lo = t.data_ptr()
        return lo, lo + (1 + sum((n - 1) * abs(s) for n, s in zip(t.shape, t.stride()))) * t.element_size()

    (a0, a1), (b0, b1) = span(a), span(b)
    return a0 < b1 and b0 < a1


def fwd_layout(x: torch.Tensor) -> str:
    """``channel_first`` (stride 1 along tokens) or ``channel_last`` (stride 1 along dim) of a 2-D ``x``."""
    if x.stride(0) == 1 and x.stride(1) != 1 and x.shape[0] > 1:
        return "channel_last"
    if x.stride(1) == 1 or x.shape[1] <= 1:
        return "channel_first"
    if x.stride(0) == 1 or x.shape[0] <= 1:
        return "channel_last"
    raise ValueError(
        f"x: expected stride 1 along total_tokens (channel-first) or along dim (channel-last), got strides {x.stride()}"
    )


def _state_checks(name, states, dim, width, device, dtype):
    _ndim(name, states, 3, "[num_cache_lines, dim, width - 1]")
    _dtype(name, states, (dtype,), " (x's)")
    _device(name, states, device)
    if states.shape[1:] != (dim, width - 1):
        raise ValueError(
            f"{name}: expected shape [num_cache_lines, dim={dim}, width - 1={width - 1}], got {tuple(states.shape)}"
        )


def _weight_checks(weight, bias, dim, device, dtype) -> int:
    _ndim("weight", weight, 2, "[dim, width]")
    _dtype("weight", weight, (dtype,), " (x's)")
    _device("weight", weight, device)
    if weight.shape[0] != dim or weight.shape[1] not in WIDTHS:
        raise ValueError(f"weight: expected shape [dim={dim}, width in {WIDTHS}], got {tuple(weight.shape)}")
    if bias is not None:
        _ndim("bias", bias, 1, "[dim]")
        _dtype("bias", bias, (dtype,), " (x's)")
        _device("bias", bias, device)
        _shape("bias", bias, (dim,), "[dim]")
        _unit_stride("bias", bias)
    return weight.shape[1]


def _indices_checks(name, t, n, device, dtype, doc):
    _ndim(name, t, 1, doc)
    _dtype(name, t, (dtype,))
    _device(name, t, device)
    _shape(name, t, (n,), doc)
    _unit_stride(name, t)


def check_fwd(c: FwdCall) -> FwdDims:
    """Every check of :func:`validate_fwd`, uncached (the fake impl's path)."""
    x, out = c.x, c.out
    _ndim("x", x, 2, "[dim, total_tokens]")
    _dtype("x", x, DTYPES)
    device = x.device
    dim, total_tokens = x.shape
    layout = fwd_layout(x)
    _ndim("out", out, 2, "[dim, total_tokens]")
    _dtype("out", out, (x.dtype,), " (x's)")
    _device("out", out, device)
    _shape("out", out, x.shape, "[dim, total_tokens] (x's)")
    if out.stride() != x.stride():
        raise ValueError(f"out: expected x's strides {x.stride()}, got {out.stride()}")
    if _overlap(out, x):
        raise ValueError("out: expected a tensor that does not overlap x (the forward is not in place), got one that does")
    width = _weight_checks(c.weight, c.bias, dim, device, x.dtype)
    _state_checks("conv_states", c.conv_states, dim, width, device, x.dtype)
    num_cache_lines = c.conv_states.shape[0]
    qsl = c.query_start_loc
    _ndim("query_start_loc", qsl, 1, "[num_seqs + 1]")
    _dtype("query_start_loc", qsl, (torch.int32,))
    _device("query_start_loc", qsl, device)
    _unit_stride("query_start_loc", qsl)
    if qsl.shape[0] < 1:
        raise ValueError("query_start_loc: expected shape [num_seqs + 1] (at least one entry), got (0,)")
    num_seqs = qsl.shape[0] - 1
    if c.cache_indices is not None:
        _indices_checks("cache_indices", c.cache_indices, num_seqs, device, torch.int32, "[num_seqs]")
    elif num_seqs > num_cache_lines:
        raise ValueError(
            f"conv_states: expected num_cache_lines >= num_seqs={num_seqs} (cache_indices is None: sequence s uses "
            f"line s), got {num_cache_lines}"
        )
    if c.has_initial_state is not None:
        _indices_checks("has_initial_state", c.has_initial_state, num_seqs, device, torch.bool, "[num_seqs]")
    activation = _activation(c.activation)
    if not -(2**31) <= c.pad_slot_id <= _INT32_MAX:
        raise ValueError(f"pad_slot_id: expected an int32 value, got {c.pad_slot_id}")
    if c.seq_lens_cpu is not None:
        lens = list(c.seq_lens_cpu)
        if len(lens) != num_seqs or any(n < 0 for n in lens) or sum(lens) > total_tokens:
            raise ValueError(
                f"seq_lens_cpu: expected {num_seqs} lengths >= 0 (num_seqs) summing to <= total_tokens={total_tokens}, "
                f"got {len(lens)} lengths summing to {sum(lens)}"
            )
    if total_tokens > _INT32_MAX - 64 or num_cache_lines > _INT32_MAX:
        raise ValueError(f"x: expected fewer than 2^31 - 64 tokens, got {total_tokens}")
    return FwdDims(dim, total_tokens, num_seqs, width, num_cache_lines, layout, activation)


def check_update(c: UpdateCall) -> UpdateDims:
    """Every check of :func:`validate_update`, uncached (the fake impl's path)."""
    x, out = c.x, c.out
    if x.dim() not in (2, 3):
        raise ValueError(f"x: expected a 2-D [batch, dim] or 3-D [batch, dim, seqlen] tensor, got shape {tuple(x.shape)}")
    _dtype("x", x, DTYPES)
    device = x.device
    batch, dim = x.shape[:2]
    seqlen = x.shape[2] if x.dim() == 3 else 1
    _dtype("out", out, (x.dtype,), " (x's)")
    _device("out", out, device)
    _shape("out", out, x.shape, "x's")
    if _overlap(out, x) and (out.data_ptr() != x.data_ptr() or out.stride() != x.stride()):
        raise ValueError("out: expected x itself (in place) or a tensor that does not overlap x, got a partial overlap")
    width = _weight_checks(c.weight, c.bias, dim, device, x.dtype)
    _state_checks("conv_state", c.conv_state, dim, width, device, x.dtype)
    num_cache_lines = c.conv_state.shape[0]
    if c.conv_state_indices is not None:
        _indices_checks("conv_state_indices", c.conv_state_indices, batch, device, torch.int32, "[batch]")
    elif batch > num_cache_lines:
        raise ValueError(
            f"conv_state: expected num_cache_lines >= batch={batch} (conv_state_indices is None), got {num_cache_lines}"
        )
    activation = _activation(c.activation)
    if not -(2**31) <= c.pad_slot_id <= _INT32_MAX:
        raise ValueError(f"pad_slot_id: expected an int32 value, got {c.pad_slot_id}")
    if batch > _INT32_MAX or num_cache_lines > _INT32_MAX:
        raise ValueError(f"x: expected batch < 2^31, got {batch}")
    return UpdateDims(batch, dim, seqlen, width, num_cache_lines, activation)


def _extent(t: torch.Tensor) -> int:
    """Bytes from ``t``'s first element to one past its last (non-negative strides); 0 when empty."""
    if t.numel() == 0:
        return 0
    return (1 + sum((n - 1) * s for n, s in zip(t.shape, t.stride()))) * t.element_size()


_CHECKS = MetadataCache()


def _lookup(scalars, tensors, check, call):
    """The cached record of this call's metadata (running ``check`` on a miss); sets ``call.checked``, ``call.dims``."""

    def make():
        checked = Checked(check(call))
        checked.extents = (_extent(call.x), _extent(call.out), call.out.stride() == call.x.stride())
        return checked

    checked = _CHECKS.lookup(scalars, tensors, make)
    call.checked, call.dims = checked, checked.dims
    return checked


def validate_fwd(*args, **kwargs) -> FwdCall:
    """Check the arguments of ``causal_conv1d_fwd`` (schema order); return the call with its ``dims``.

    Cached per metadata key (shapes, strides, dtypes, devices, host scalars); whether ``out``
    overlaps ``x`` is checked on every call from the pointers and the cached extents.

    Raises:
        TypeError: a dtype other than float16/bfloat16/float32 for ``x``; ``out``, ``weight``,
            ``bias``, ``conv_states`` not in x's dtype; ``query_start_loc``/``cache_indices`` not
            int32; ``has_initial_state`` not bool.
        ValueError: a wrong shape, stride, device, width, activation, ``pad_slot_id`` outside int32,
            ``out`` overlapping ``x``, ``seq_lens_cpu`` of the wrong length or sum.
    """
    c = FwdCall(*args, **kwargs)
    tensors = [t for t in (c.out, c.x, c.weight, c.bias, c.conv_states, c.query_start_loc, c.cache_indices,
                           c.has_initial_state) if t is not None]  # fmt: skip
    scalars = ("fwd", c.bias is None, c.cache_indices is None, c.has_initial_state is None, c.activation,
               c.pad_slot_id, None if c.seq_lens_cpu is None else tuple(c.seq_lens_cpu))  # fmt: skip
    checked = _lookup(scalars, tensors, check_fwd, c)
    x_ext, out_ext, _ = checked.extents
    xp, op = c.x.data_ptr(), c.out.data_ptr()
    if xp and op and xp < op + out_ext and op < xp + x_ext:  # pointer 0: meta tensors, nothing to overlap
        raise ValueError("out: expected a tensor that does not overlap x (the forward is not in place), got one that does")
    return c


def validate_update(*args, **kwargs) -> UpdateCall:
    """Check the arguments of ``causal_conv1d_update`` (schema order); return the call with its ``dims``.

    Raises:
        TypeError: as :func:`validate_fwd` (``conv_state_indices`` int32).
        ValueError: a wrong shape, stride, device, width or activation; ``out`` partially overlapping
            ``x`` (``out`` may be ``x`` itself: the update is safe in place).
    """
    c = UpdateCall(*args, **kwargs)
    same = c.out is c.x  # in place: one tensor object (a guard over a repeated tensor does not match)
    tensors = [t for t in (None if same else c.out, c.x, c.weight, c.bias, c.conv_state, c.conv_state_indices)
               if t is not None]  # fmt: skip
    scalars = ("update", same, c.bias is None, c.conv_state_indices is None, c.activation, c.pad_slot_id)
    checked = _lookup(scalars, tensors, check_update, c)
    x_ext, out_ext, same_strides = checked.extents
    xp, op = c.x.data_ptr(), c.out.data_ptr()
    if xp and op and xp < op + out_ext and op < xp + x_ext and not (xp == op and same_strides):
        raise ValueError("out: expected x itself (in place) or a tensor that does not overlap x, got a partial overlap")
    return c
