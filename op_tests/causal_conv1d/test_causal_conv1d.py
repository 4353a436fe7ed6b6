"""Correctness of ``causal_conv1d_fwd`` and ``causal_conv1d_update`` against the float64 reference.

Runs on the GPU when torch sees one, else on the CPU path. Every case: fresh random inputs, ``out``
NaN-filled, every cache line no sequence uses NaN and so is the state of every sequence without an
initial state; checks the written tokens against the reference, the skipped tokens still NaN, the
new states bit-exact, every other cache line bit-for-bit unchanged.
"""

from __future__ import annotations

import itertools
import zlib

import pytest
import torch

from testlib.causal_conv1d import (DTYPES, assert_fwd_matches, assert_states, make_fwd_case, make_update_case,
                                   run_fwd, shifted_by_one_element, strided_weight_offset_bias)  # fmt: skip

#: lengths 0, 1, < width, == width - 1, long, and a pad entry (index 3 below).
LENS = [0, 1, 2, 3, 5, 130, 1, 17]
GRID = list(itertools.product(("fp32", "bf16", "fp16"), (2, 3, 4), ("channel_first", "channel_last"), ("silu", None)))


def _id(p):
    dt, w, layout, act = p
    return f"{dt}-w{w}-{'cl' if layout == 'channel_last' else 'cf'}-{act or 'none'}"


@pytest.mark.parametrize("params", GRID, ids=map(_id, GRID))
def test_fwd_grid(device, params):
    dt, width, layout, act = params
    initial = [True, False, True, True, False, True, True, False]
    case = make_fwd_case(LENS, dim=80, width=width, dtype=DTYPES[dt], device=device, layout=layout, activation=act,
                         bias=width != 3, initial=initial, pads=(3,), extra_tokens=5, seed=zlib.crc32(_id(params).encode()) % 1000)  # fmt: skip
    before = case.conv_states.detach().cpu().clone()
    ref = case.reference()
    out = run_fwd(case)
    assert_fwd_matches(case, out, before, ref, _id(params))


@pytest.mark.parametrize("initial", [None, False, True], ids=["none", "all_false", "all_true"])
@pytest.mark.parametrize("layout", ["channel_first", "channel_last"])
def test_fwd_initial_state(device, initial, layout):
    case = make_fwd_case([4, 1, 2, 70, 0, 3], dim=48, width=4, device=device, layout=layout, initial=initial, seed=7)
    before = case.conv_states.detach().cpu().clone()
    ref = case.reference()
    assert_fwd_matches(case, run_fwd(case), before, ref, f"initial={initial}")


def test_fwd_many_short_sequences_across_tiles(device):
    """Many 1- to 3-token sequences: sequence starts on both sides of every tile boundary (32 tokens channel-last, 256 channel-first bf16)."""
    g = torch.Generator().manual_seed(3)
    lens = torch.randint(0, 4, (150,), generator=g).tolist()
    case = make_fwd_case(lens, dim=40, width=4, device=device, initial=True, pads=(5, 77), seed=4)
    before = case.conv_states.detach().cpu().clone()
    ref = case.reference()
    assert_fwd_matches(case, run_fwd(case), before, ref, "short sequences")


def test_fwd_every_sequence_padded(device):
    case = make_fwd_case([3, 9], device=device, initial=True, pads=(0, 1))
    before = case.conv_states.detach().cpu().clone()
    out = run_fwd(case)
    assert torch.isnan(out).all()
    assert_states(case.conv_states, before, {}, "all padded")


def test_fwd_no_sequences_and_no_tokens(device):
    for lens in ([], [0, 0]):
        case = make_fwd_case(lens, device=device, extra_tokens=3)
        before = case.conv_states.detach().cpu().clone()
        out = run_fwd(case)
        assert torch.isnan(out).all()
        assert_states(case.conv_states, before, {}, f"lens {lens}")


def test_fwd_without_cache_indices_and_bias(device):
    case = make_fwd_case([5, 2, 9], dim=32, width=3, device=device, bias=False, initial=True, num_cache_lines=3)
    case.cache_indices = None
    case.conv_states = torch.randn(case.conv_states.shape, device=device).to(case.x.dtype)  # lines 0..2, no NaN
    before = case.conv_states.detach().cpu().clone()
    ref = case.reference()
    assert_fwd_matches(case, run_fwd(case, seq_lens_cpu=False), before, ref, "no cache_indices")


def test_fwd_states_chain_like_one_long_sequence(device):
    """Prefill in two chunks (state carried through conv_states) equals one call on the whole sequence."""
    whole = make_fwd_case([50], dim=64, width=4, dtype=torch.float32, device=device, initial=False, seed=9)
    out_whole = run_fwd(whole)
    first = make_fwd_case([30], dim=64, width=4, dtype=torch.float32, device=device, initial=False, seed=9)
    first.x = whole.x[:, :30].contiguous()
    first.conv_states, first.cache_indices = whole.conv_states.clone(), whole.cache_indices
    first.weight, first.bias = whole.weight, whole.bias
    out1 = run_fwd(first)
    second = first
    second.x = whole.x[:, 30:].contiguous()
    second.query_start_loc = torch.tensor([0, 20], dtype=torch.int32, device=device)
    second.has_initial_state = torch.ones(1, dtype=torch.bool, device=device)
    second.seq_lens = [20]
    out2 = run_fwd(second)
    torch.testing.assert_close(torch.cat([out1, out2], dim=1), out_whole, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("layout", ["channel_first", "channel_last"])
@pytest.mark.parametrize("dt", ["bf16", "fp32"])
def test_fwd_strided_weight_offset_bias_several_channel_groups(device, dt, layout):
    """dim 264: several channel groups per tile, the last one partial; weight and bias off the vector path."""
    case = make_fwd_case([70, 3, 1, 60], dim=264, width=4, dtype=DTYPES[dt], device=device, layout=layout,
                         initial=[True, False, True, True], pads=(2,), seed=13)  # fmt: skip
    case = strided_weight_offset_bias(case)
    before = case.conv_states.detach().cpu().clone()
    ref = case.reference()
    assert_fwd_matches(case, run_fwd(case), before, ref, f"strided weight {dt} {layout}")


@pytest.mark.parametrize("dt", ["bf16", "fp16", "fp32"])
def test_fwd_channel_first_unaligned_rows(device, dt):
    """Channel-first rows that do not start on 16 bytes (131 tokens a row; x and out one element into
    their buffers): accepted, and on the GPU read and written element by element."""
    case = make_fwd_case([60, 1, 2, 68], dim=40, width=4, dtype=DTYPES[dt], device=device, layout="channel_first",
                         initial=[True, False, True, True], seed=17)  # fmt: skip
    case.x = shifted_by_one_element(case.x)
    before = case.conv_states.detach().cpu().clone()
    ref = case.reference()
    out = shifted_by_one_element(case.new_out())
    assert_fwd_matches(case, run_fwd(case, out=out), before, ref, f"unaligned rows {dt}")


UPDATE_GRID = list(itertools.product(("fp32", "bf16", "fp16"), (2, 3, 4), ("silu", None), (None, 1, 3)))


@pytest.mark.parametrize("params", UPDATE_GRID, ids=[f"{d}-w{w}-{a or 'none'}-L{s}" for d, w, a, s in UPDATE_GRID])
def test_update_grid(device, params):
    dt, width, act, seqlen = params
    case = make_update_case(6, seqlen=seqlen, dim=72, width=width, dtype=DTYPES[dt], device=device, activation=act,
                            pads=(2,), seed=width * 10 + (seqlen or 0))  # fmt: skip
    before = case.conv_state.detach().cpu().clone()
    ref_out, ref_states = case.reference()
    out = torch.full_like(case.x, float("nan"))
    torch.ops.aiter_swa.causal_conv1d_update(*case.op_args(out))
    tol = {torch.float32: 1e-5, torch.bfloat16: 1.6e-2, torch.float16: 2e-3}[case.x.dtype]
    got = out.cpu().double()
    written = ~torch.isnan(ref_out)
    assert torch.isnan(got[~written]).all()
    torch.testing.assert_close(got[written], ref_out[written], atol=tol, rtol=tol)
    assert_states(case.conv_state, before, ref_states, "update")


def test_update_in_place(device):
    case = make_update_case(4, seqlen=2, dim=32, device=device, pads=(1,))
    ref_out, ref_states = case.reference()
    before = case.conv_state.detach().cpu().clone()
    x = case.x
    torch.ops.aiter_swa.causal_conv1d_update(*case.op_args(x))  # out is x
    rows = [0, 2, 3]
    torch.testing.assert_close(x[rows].cpu().double(), ref_out[rows], atol=1.6e-2, rtol=1.6e-2)
    assert_states(case.conv_state, before, ref_states, "in place")


def test_update_equals_fwd_of_one_token(device):
    """A decode step through the update equals a one-token forward with an initial state."""
    fwd = make_fwd_case([1, 1, 1], dim=64, width=4, dtype=torch.float32, device=device, layout="channel_last",
                        initial=True, seed=11)  # fmt: skip
    states = fwd.conv_states.clone()
    out_fwd = run_fwd(fwd)
    x = fwd.x.t()  # [batch, dim]
    out_upd = torch.empty_like(x)
    torch.ops.aiter_swa.causal_conv1d_update(out_upd, x, states, fwd.weight, fwd.bias, "silu", fwd.cache_indices)
    torch.testing.assert_close(out_upd.t(), out_fwd, atol=1e-6, rtol=1e-6)
    assert torch.equal(states.nan_to_num(0), fwd.conv_states.nan_to_num(0))
