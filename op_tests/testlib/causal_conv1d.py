"""Test helpers for ``causal_conv1d_fwd`` / ``causal_conv1d_update``: inputs with NaN poisoning, runners,
comparison with the float64 reference.

Shared by the correctness, validation and GPU tests and the benchmark. Import as
``from testlib.causal_conv1d import ...``.
"""

from __future__ import annotations

import dataclasses

import torch

import aiter_swa  # noqa: F401  (registers the ops)
from aiter_swa.ops.causal_conv1d.call import FwdCall, UpdateCall
from aiter_swa.ops.causal_conv1d.reference import causal_conv1d_fwd_reference, causal_conv1d_update_reference

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
#: dtype -> assert_close atol = rtol against the float64 reference (output rounding dominates).
TOLERANCES = {torch.bfloat16: 1.6e-2, torch.float16: 2e-3, torch.float32: 1e-5}
PAD = -1


@dataclasses.dataclass
class FwdCase:
    """The inputs of one ``causal_conv1d_fwd`` call (``out`` is made by :meth:`new_out`)."""

    x: torch.Tensor
    weight: torch.Tensor
    bias: torch.Tensor | None
    conv_states: torch.Tensor
    query_start_loc: torch.Tensor
    cache_indices: torch.Tensor | None
    has_initial_state: torch.Tensor | None
    activation: str | None
    seq_lens: list
    pad_slot_id: int = PAD

    def new_out(self, fill=float("nan")) -> torch.Tensor:
        """A NaN-filled ``out`` with x's shape and strides."""
        return torch.empty_strided(self.x.shape, self.x.stride(), dtype=self.x.dtype, device=self.x.device).fill_(fill)

    def op_args(self, out: torch.Tensor, seq_lens_cpu=True) -> tuple:
        return FwdCall(out=out, x=self.x, weight=self.weight, bias=self.bias, conv_states=self.conv_states,
                       query_start_loc=self.query_start_loc, cache_indices=self.cache_indices,
                       has_initial_state=self.has_initial_state, activation=self.activation,
                       pad_slot_id=self.pad_slot_id, seq_lens_cpu=self.seq_lens if seq_lens_cpu else None).args()  # fmt: skip

    def reference(self):
        return causal_conv1d_fwd_reference(self.x, self.weight, self.bias, self.conv_states, self.query_start_loc,
                                           self.cache_indices, self.has_initial_state, self.activation,
                                           self.pad_slot_id)  # fmt: skip


def make_fwd_case(lens, *, dim=64, width=4, dtype=torch.bfloat16, device="cpu", layout="channel_first",
                  activation="silu", bias=True, initial=None, pads=(), num_cache_lines=None, extra_tokens=0,
                  seed=0) -> FwdCase:  # fmt: skip
    """Fresh random inputs for sequences of ``lens`` tokens.

    ``initial``: None (``has_initial_state`` None), True / False (all), or a list of bools.
    ``pads``: sequence indices whose ``cache_indices`` entry is the pad value. Cache lines are a
    random permutation of a larger cache; every line no sequence uses is NaN, and so is the state of
    every sequence without an initial state. ``extra_tokens``: tokens of ``x`` past the last sequence.
    """
    g = torch.Generator().manual_seed(seed)
    n = len(lens)
    total = sum(lens) + extra_tokens
    lines = num_cache_lines or 2 * n + 3
    if layout == "channel_first":
        x = torch.randn(dim, total, generator=g).to(dtype)
    else:
        x = torch.randn(total, dim, generator=g).to(dtype).t()
    weight = (0.5 * torch.randn(dim, width, generator=g)).to(dtype)
    b = (0.5 * torch.randn(dim, generator=g)).to(dtype) if bias else None
    states = torch.randn(lines, dim, width - 1, generator=g).to(dtype)
    perm = torch.randperm(lines, generator=g)[:n]
    ci = perm.to(torch.int32)
    for p in pads:
        ci[p] = PAD
    if initial is None:
        init = None
        init_list = [False] * n
    else:
        init_list = [initial] * n if isinstance(initial, bool) else list(initial)
        init = torch.tensor(init_list, dtype=torch.bool)
    used = {int(ci[s]) for s in range(n) if int(ci[s]) != PAD}
    for line in range(lines):
        if line not in used:
            states[line] = float("nan")
    for s in range(n):
        if int(ci[s]) != PAD and not init_list[s]:
            states[int(ci[s])] = float("nan")  # must not be read
    qsl = torch.tensor([0] + torch.tensor(lens).cumsum(0).tolist() if lens else [0], dtype=torch.int32)
    to = dict(device=device)
    return FwdCase(x.to(**to), weight.to(**to), None if b is None else b.to(**to), states.to(**to), qsl.to(**to),
                   ci.to(**to), None if init is None else init.to(**to), activation, list(lens))  # fmt: skip


def strided_weight_offset_bias(case):
    """The same values in a weight with strides (1, dim) (a [width, dim] tensor's transpose) and a bias
    starting one element into its buffer (2 or 4 bytes: not 16-byte aligned): the kernels' scalar
    fallbacks of the vector tap and bias loads."""
    dim, width = case.weight.shape
    case.weight = case.weight.t().contiguous().t()
    if case.bias is not None:
        buf = torch.empty(dim + 1, dtype=case.bias.dtype, device=case.bias.device)
        buf[1:] = case.bias
        case.bias = buf[1:]
    return case


def shifted_by_one_element(t: torch.Tensor) -> torch.Tensor:
    """A copy of the 2-D ``t`` with the same strides, starting one element into its buffer (2 or 4
    bytes: not 16-byte aligned)."""
    span = (t.shape[0] - 1) * t.stride(0) + (t.shape[1] - 1) * t.stride(1) + 1
    buf = torch.empty(span + 1, dtype=t.dtype, device=t.device)
    view = buf[1:].as_strided(t.shape, t.stride())
    view.copy_(t)
    return view


def run_fwd(case: FwdCase, out=None, **kw) -> torch.Tensor:
    out = case.new_out() if out is None else out
    torch.ops.aiter_swa.causal_conv1d_fwd(*case.op_args(out, **kw))
    return out


def assert_fwd_matches(case: FwdCase, out: torch.Tensor, states_before: torch.Tensor, ref, what: str = ""):
    """``out`` equals the reference where written and is still NaN elsewhere; written cache lines hold
    the exact new states; every other line is bit-for-bit unchanged (NaN included)."""
    ref_out, ref_states = ref
    tol = TOLERANCES[case.x.dtype]
    got = out.detach().cpu().double()
    written = ~torch.isnan(ref_out)
    assert torch.isnan(got[~written]).all(), f"{what}: out written at a token the op must skip"
    torch.testing.assert_close(got[written], ref_out[written], atol=tol, rtol=tol, msg=lambda m: f"{what}: {m}")
    assert_states(case.conv_states, states_before, ref_states, what)


def bits(t: torch.Tensor) -> torch.Tensor:
    """The raw bit patterns of ``t`` (NaN compares equal to the same NaN)."""
    return t.contiguous().view({2: torch.int16, 4: torch.int32}[t.element_size()])


def assert_states(states: torch.Tensor, before: torch.Tensor, ref_states: dict, what: str = ""):
    """Lines in ``ref_states`` hold exactly those values; every other line is bit-for-bit ``before``'s."""
    after = states.detach().cpu()
    for line in range(after.shape[0]):
        if line in ref_states:
            assert torch.equal(bits(after[line]), bits(ref_states[line])), f"{what}: line {line} is not the exact inputs"
        else:
            assert torch.equal(bits(after[line]), bits(before[line].cpu())), f"{what}: unused line {line} was written"


@dataclasses.dataclass
class UpdateCase:
    x: torch.Tensor
    conv_state: torch.Tensor
    weight: torch.Tensor
    bias: torch.Tensor | None
    activation: str | None
    conv_state_indices: torch.Tensor | None
    pad_slot_id: int = PAD

    def op_args(self, out) -> tuple:
        return UpdateCall(out=out, x=self.x, conv_state=self.conv_state, weight=self.weight, bias=self.bias,
                          activation=self.activation, conv_state_indices=self.conv_state_indices,
                          pad_slot_id=self.pad_slot_id).args()  # fmt: skip

    def reference(self):
        return causal_conv1d_update_reference(self.x, self.conv_state, self.weight, self.bias, self.activation,
                                              self.conv_state_indices, self.pad_slot_id)  # fmt: skip


def make_update_case(batch, *, seqlen=None, dim=64, width=4, dtype=torch.bfloat16, device="cpu", activation="silu",
                     bias=True, pads=(), seed=0) -> UpdateCase:  # fmt: skip
    """``x`` ``[batch, dim]`` (``seqlen=None``) or ``[batch, dim, seqlen]``; unused cache lines NaN."""
    g = torch.Generator().manual_seed(seed)
    lines = 2 * batch + 3
    shape = (batch, dim) if seqlen is None else (batch, dim, seqlen)
    x = torch.randn(*shape, generator=g).to(dtype)
    weight = (0.5 * torch.randn(dim, width, generator=g)).to(dtype)
    b = (0.5 * torch.randn(dim, generator=g)).to(dtype) if bias else None
    states = torch.randn(lines, dim, width - 1, generator=g).to(dtype)
    ci = torch.randperm(lines, generator=g)[:batch].to(torch.int32)
    for p in pads:
        ci[p] = PAD
    used = {int(v) for v in ci if int(v) != PAD}
    for line in range(lines):
        if line not in used:
            states[line] = float("nan")
    to = dict(device=device)
    return UpdateCase(x.to(**to), states.to(**to), weight.to(**to), None if b is None else b.to(**to), activation,
                      ci.to(**to))  # fmt: skip
