"""GPU-only properties of the HIP/CUDA path of ``causal_conv1d_fwd`` / ``causal_conv1d_update``.

Skipped with a reason where torch sees no GPU. The correctness grid lives in
``test_causal_conv1d.py`` and runs on the GPU too when there is one.

CUDA/HIP graphs: the forward's grid is ``spec.fwd_grid`` (``ceil(total_tokens / tile) x ceil(dim / channels)``) with
``total_tokens = x.shape[1]``. A graph is captured for fixed tensors: the fixed upper bound is x's
token count (and ``num_seqs``, the length of ``query_start_loc``). Between replays the sequence
lengths, cache lines, initial-state flags and pad entries may change freely (copied into the same
buffers) as long as ``query_start_loc[-1] <= total_tokens``; tokens past ``query_start_loc[-1]``
are not written. The update's grid is ``batch x ceil(dim / 256)``: fixed by x's shape.
"""

from __future__ import annotations

import pytest
import torch

from testlib import no_host_sync
from testlib.causal_conv1d import assert_fwd_matches, assert_states, make_fwd_case, make_update_case, run_fwd

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("layout", ["channel_first", "channel_last"])
def test_no_host_device_sync(layout):
    """The call path reads no device value on the host: it runs under sync debug mode "error"."""
    case = make_fwd_case([5, 1, 300, 0, 2], dim=256, device="cuda", layout=layout, initial=True, pads=(1,))
    run_fwd(case.__class__(**{**case.__dict__, "conv_states": case.conv_states.clone()}))  # compile / load first
    before = case.conv_states.cpu().clone()
    ref = case.reference()
    out = case.new_out()
    args = case.op_args(out)
    with no_host_sync():
        torch.ops.aiter_swa.causal_conv1d_fwd(*args)
    assert_fwd_matches(case, out, before, ref, "sync-free fwd")
    upd = make_update_case(8, dim=256, device="cuda", pads=(3,))
    out = torch.empty_like(upd.x)
    torch.ops.aiter_swa.causal_conv1d_update(*upd.op_args(torch.empty_like(upd.x)))  # warm
    uargs = upd.op_args(out)
    with no_host_sync():
        torch.ops.aiter_swa.causal_conv1d_update(*uargs)


def test_cuda_graph_replay_with_new_lengths():
    """Captured once for x of 512 tokens and 6 sequences, replayed with other lengths, lines and pads."""
    first = make_fwd_case([100, 1, 0, 250, 3, 7], dim=512, device="cuda", layout="channel_last",
                          initial=[True, False, True, True, False, True], extra_tokens=151, seed=1)  # fmt: skip
    second = make_fwd_case([2, 400, 1, 3, 0, 90], dim=512, device="cuda", layout="channel_last",
                           initial=[False, True, True, False, True, True], pads=(3,), extra_tokens=16, seed=2)  # fmt: skip
    assert first.x.shape == second.x.shape
    out = first.new_out()
    run_fwd(make_fwd_case([3], dim=512, device="cuda", layout="channel_last"))  # compile / load before capture
    args = first.op_args(out, seq_lens_cpu=False)
    before = first.conv_states.cpu().clone()
    ref = first.reference()
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        torch.ops.aiter_swa.causal_conv1d_fwd(*args)
    graph.replay()
    torch.cuda.synchronize()
    assert_fwd_matches(first, out, before, ref, "first replay")
    # (every input the reference reads, weight and bias too: the second case has its own)
    for name in ("x", "weight", "bias", "conv_states", "query_start_loc", "cache_indices", "has_initial_state"):
        getattr(first, name).copy_(getattr(second, name))
    out.fill_(float("nan"))
    before = second.conv_states.cpu().clone()
    ref = second.reference()
    graph.replay()
    torch.cuda.synchronize()
    assert_fwd_matches(first, out, before, ref, "replay with new lengths")


@pytest.mark.parametrize("layout", ["channel_first", "channel_last"])
def test_long_prefill_qwen3_next_dim(layout):
    """Qwen3-Next's conv dim (8192 at TP 1), width 4, a long prefill next to decode-sized sequences."""
    case = make_fwd_case([3000, 1, 2, 517, 64], dim=8192, width=4, device="cuda", layout=layout,
                         initial=[False, True, True, True, False], seed=5)  # fmt: skip
    before = case.conv_states.cpu().clone()
    ref = case.reference()
    assert_fwd_matches(case, run_fwd(case), before, ref, "long prefill")


def test_gpu_rejects_misaligned_x():
    case = make_fwd_case([9, 7], dim=64, device="cuda", layout="channel_last")
    flat = torch.zeros(case.x.numel() + 1, dtype=case.x.dtype, device="cuda")
    case.x = flat[1:].view(case.x.shape[1], case.x.shape[0]).t()  # 2-byte offset
    out = case.new_out(fill=7.0)
    before = case.conv_states.cpu().clone()
    with pytest.raises(ValueError, match=r"^x: expected a 16-byte aligned base pointer"):
        torch.ops.aiter_swa.causal_conv1d_fwd(*case.op_args(out))
    assert torch.all(out == 7.0)
    assert_states(case.conv_states, before, {}, "misaligned")


def test_update_graph_replay():
    upd = make_update_case(16, dim=1024, device="cuda", pads=(4,))
    other = make_update_case(16, dim=1024, device="cuda", pads=(9,), seed=3)
    out = torch.empty_like(upd.x)
    torch.ops.aiter_swa.causal_conv1d_update(*make_update_case(2, dim=1024, device="cuda").op_args(torch.empty(2, 1024, dtype=torch.bfloat16, device="cuda")))
    args = upd.op_args(out)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        torch.ops.aiter_swa.causal_conv1d_update(*args)
    for name in ("x", "weight", "bias", "conv_state", "conv_state_indices"):  # every input the reference reads
        getattr(upd, name).copy_(getattr(other, name))
    before = upd.conv_state.cpu().clone()
    ref_out, ref_states = other.reference()
    out.fill_(float("nan"))
    graph.replay()
    torch.cuda.synchronize()
    written = ~torch.isnan(ref_out)
    torch.testing.assert_close(out.cpu().double()[written], ref_out[written], atol=1.6e-2, rtol=1.6e-2)
    assert_states(upd.conv_state, before, ref_states, "update replay")


@pytest.mark.parametrize("layout,tuning", [("channel_last", {"cl_run": 8}), ("channel_first", {"cf_rows": 8}),
                                           ("channel_first", {"cf_rows": 2}), ("channel_first", {"cf_fast": 0}),
                                           ("channel_first", {"cf_fast": 0, "cf_rows": 2}),
                                           ("channel_first", {"walk": 1}), ("channel_last", {"walk": 1})])  # fmt: skip
def test_tuning_variant_direct_launch_in_a_graph(layout, tuning):
    """The benchmark's tuning-variant rows (bf16, width 4, SiLU; 8 tokens per thread channel-last;
    channel-first 8 or 2 rows, phase 0 one token per search with the taps in registers (cf_fast=0),
    alone and with 2 rows):
    the kernel launched directly from a plan, captured in a CUDA graph after the
    allocator's cache is emptied (``torch.cuda.graph`` does), replayed: the reference's outputs and
    states. Its inputs are referenced only by the call object the launch reads its pointers from."""
    from aiter_swa.ops.causal_conv1d import gpu as conv_gpu
    from aiter_swa.ops.causal_conv1d.call import validate_fwd

    case = make_fwd_case([1500, 600, 1, 1, 1, 3], dim=2048, width=4, device="cuda", layout=layout,
                         initial=[True, False, True, False, True, True], pads=(4,), extra_tokens=5, seed=11)  # fmt: skip
    before = case.conv_states.cpu().clone()
    ref = case.reference()
    call = validate_fwd(*case.op_args(case.new_out()))
    plan = conv_gpu._fwd_plan(call, **tuning)  # loads (or compiles) the variant

    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        conv_gpu.launch_fwd(call, plan)
    graph.replay()
    torch.cuda.synchronize()
    assert_fwd_matches(case, call.out, before, ref, f"tuning variant {tuning} in a graph")


@pytest.mark.parametrize("variant", [{"cf_fast": 0}, {"cf_rows": 2}, {"cf_rows": 8}, {"walk": 1}],
                         ids=["cf_fast0", "cf_rows2", "cf_rows8", "walk1"])  # fmt: skip
@pytest.mark.parametrize("dt", [torch.bfloat16, torch.float32])
def test_cf_variant_bit_identical_to_the_default(dt, variant):
    """The channel-first tuning variants write the same bits as the default kernel (outputs and
    states): cf_fast=0 (the default before 2026-11-29: phase 0 one token per search, the taps in
    registers; 71.2% of the copy bandwidth against 75.0% for cf_fast=1 on the H200, docs/results.md),
    2 and 8 rows per thread. Sequences with boundaries on and next to tile edges, lengths below the
    width, a pad, tokens past the last sequence and x one element off 16 bytes."""
    from aiter_swa.ops.causal_conv1d import gpu as conv_gpu
    from aiter_swa.ops.causal_conv1d.call import validate_fwd
    from testlib.causal_conv1d import shifted_by_one_element

    tile = 32 * (16 // dt.itemsize)  # tokens per channel-first workgroup
    lens = [3 * tile - 8, 5 * tile + 1, 2, 4 * tile, 2 * tile - 3, 7 * tile + 5]
    case = make_fwd_case(lens, dim=1000, width=4, dtype=dt, device="cuda", layout="channel_first",
                         initial=[True, False, True, True, False, True], pads=(3,), extra_tokens=3, seed=12)  # fmt: skip
    case.x = shifted_by_one_element(case.x)
    before = case.conv_states.clone()
    ref = case.reference()
    results = []
    for tuning in ({}, variant):
        case.conv_states.copy_(before)
        out = shifted_by_one_element(case.new_out())
        call = validate_fwd(*case.op_args(out))
        conv_gpu.launch_fwd(call, conv_gpu._fwd_plan(call, **tuning))
        torch.cuda.synchronize()
        results.append((out.cpu(), case.conv_states.cpu().clone()))
    assert_fwd_matches(case, results[1][0], before.cpu(), ref, str(variant))  # states: the last run's
    as_bits = torch.int16 if dt.itemsize == 2 else torch.int32
    assert torch.equal(results[1][0].view(as_bits), results[0][0].view(as_bits)), "outputs differ from the default"
    assert torch.equal(results[1][1].view(as_bits), results[0][1].view(as_bits)), "states differ from the default"


@pytest.mark.parametrize("dt", [torch.bfloat16, torch.float32])
def test_cl_walk_bit_identical_to_the_default(dt):
    """Channel-last walk=1 (fwd_kernel_walk: 16-token groups walking 32 channel vectors) writes the same
    bits as the default kernel (the same math order): sequences across its 128-token workgroups and
    16-token groups, lengths below the width, a pad, tokens past the last sequence."""
    from aiter_swa.ops.causal_conv1d import gpu as conv_gpu
    from aiter_swa.ops.causal_conv1d.call import validate_fwd

    lens = [3 * 128 - 8, 5 * 128 + 1, 2, 4 * 16, 2 * 128 - 3, 1, 7 * 128 + 5]
    case = make_fwd_case(lens, dim=1024, width=4, dtype=dt, device="cuda", layout="channel_last",
                         initial=[True, False, True, True, False, True, True], pads=(3,), extra_tokens=3, seed=14)  # fmt: skip
    before = case.conv_states.clone()
    ref = case.reference()
    results = []
    for tuning in ({}, {"walk": 1}):
        case.conv_states.copy_(before)
        out = case.new_out()
        call = validate_fwd(*case.op_args(out))
        conv_gpu.launch_fwd(call, conv_gpu._fwd_plan(call, **tuning))
        torch.cuda.synchronize()
        results.append((out.cpu(), case.conv_states.cpu().clone()))
    assert_fwd_matches(case, results[1][0], before.cpu(), ref, "channel-last walk=1")
    as_bits = torch.int16 if dt.itemsize == 2 else torch.int32
    assert torch.equal(results[1][0].view(as_bits), results[0][0].view(as_bits)), "outputs differ from the default"
    assert torch.equal(results[1][1].view(as_bits), results[0][1].view(as_bits)), "states differ from the default"


@pytest.fixture
def forced_selfcheck(monkeypatch):
    """The first-use self-check forced on (it is off by default on sm_90, where these tests run), with its
    per-process record and the cached launch plans reset."""
    from aiter_swa.ops.causal_conv1d import call, selfcheck

    monkeypatch.setenv(selfcheck.ENV, "1")
    selfcheck._reset_for_tests()
    call._CHECKS.clear()  # cached launch plans would skip the first-use hook
    yield selfcheck
    selfcheck._reset_for_tests()
    call._CHECKS.clear()


@pytest.mark.parametrize("layout", ["channel_first", "channel_last"])
@pytest.mark.parametrize("dtype", ["bf16", "fp32"])
def test_self_check_through_the_real_kernels(forced_selfcheck, layout, dtype):
    """The op's first call of a specialization runs the check of its kernel through the real kernel (the
    check's own call reaches the hook again and is not re-checked) and passes; the update too."""
    from aiter_swa.jit import toolchain
    from aiter_swa.ops.causal_conv1d.spec import CausalConv1dSpec

    selfcheck = forced_selfcheck
    arch = toolchain.device_arch(torch.cuda.current_device())
    spec = CausalConv1dSpec(dtype=dtype, width=4, activation="silu", layout=layout, arch=arch)
    dt = {"bf16": torch.bfloat16, "fp32": torch.float32}[dtype]
    case = make_fwd_case([3, 40], dim=256, dtype=dt, device="cuda", layout=layout, initial=True)
    before = case.conv_states.cpu().clone()
    ref = case.reference()
    out = case.new_out()
    torch.ops.aiter_swa.causal_conv1d_fwd(*case.op_args(out))
    assert ("fwd", spec) in selfcheck._passed
    assert_fwd_matches(case, out, before, ref, "the call that ran the check")
    upd = make_update_case(4, dim=256, dtype=dt, device="cuda")
    torch.ops.aiter_swa.causal_conv1d_update(*upd.op_args(torch.empty_like(upd.x)))
    assert ("update", CausalConv1dSpec(dtype=dtype, width=4, activation="silu", layout="channel_first", arch=arch)) in selfcheck._passed


def test_self_check_failure_through_the_real_kernel(forced_selfcheck, monkeypatch):
    """A wrong result of the real kernel (perturbed after it ran) fails the first call, and every later one."""
    selfcheck = forced_selfcheck
    real = selfcheck.run_kernel
    monkeypatch.setattr(selfcheck, "run_kernel", lambda kernel, args: (real(kernel, args), args[0].add_(1.0)))
    case = make_fwd_case([3, 40], dim=256, device="cuda", initial=True)
    out = case.new_out()
    with pytest.raises(selfcheck.SelfCheckError, match=r"causal_conv1d_fwd self-check failed: specialization causal_conv1d_bf16_w4_silu_cf_sm_\d+"):
        torch.ops.aiter_swa.causal_conv1d_fwd(*case.op_args(out))
    with pytest.raises(selfcheck.SelfCheckError):
        torch.ops.aiter_swa.causal_conv1d_fwd(*case.op_args(out))
