"""GPU-only properties of the HIP/CUDA kernel path of ``paged_attention_v1``.

Skipped with a reason where torch sees no GPU. The correctness grid itself lives in
``test_pa_v1_swa.py`` and runs on the GPU too when there is one.
"""

from __future__ import annotations

import pytest
import torch

import aiter_swa
from aiter_swa.ops.pa_v1 import gpu
from testlib import no_host_sync
from testlib.pa_v1 import FP8, assert_matches_reference, make_case, run_op, widen_block_table

pytestmark = pytest.mark.gpu

# (context lens, window): one partition per sequence (no reduce) and several (partition + reduce).
SHAPES = {"one_partition": ([200, 0, 77, 256], 128), "split_k": ([3000, 1, 0, 9216], 2048)}


def _case(lens, window, seed, **kw):
    return make_case(
        num_seqs=len(lens), num_heads=32, num_kv_heads=8, head_size=128, block_size=16, context_lens=lens,
        dtype=torch.bfloat16, device="cuda", sliding_window=window, seed=seed, **kw,
    )  # fmt: skip


@pytest.mark.parametrize("shape", list(SHAPES))
def test_no_host_device_sync(shape):
    """The call path reads no device value on the host: it runs under sync debug mode "error"."""
    lens, window = SHAPES[shape]
    case = _case(lens, window, seed=1)
    run_op(case)  # first call: JIT compile / load outside the checked region
    out = torch.full_like(case.query, float("nan"))
    ws = case.workspace()
    args = case.op_args(out, ws)
    with no_host_sync():
        torch.ops.aiter_swa.paged_attention_v1(*args)
    assert_matches_reference(out, case.reference(), shape)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_cuda_graph_replay_with_new_data(shape):
    """Captured once, replayed after new inputs are copied into the same buffers."""
    lens, window = SHAPES[shape]
    first, second = _case(lens, window, seed=2), _case(lens, window, seed=3)
    out = torch.full_like(first.query, float("nan"))
    ws = first.workspace()
    run_op(first)  # compile / load before capture
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        torch.ops.aiter_swa.paged_attention_v1(*first.op_args(out, ws))
    graph.replay()
    assert_matches_reference(out, first.reference(), f"{shape}: first replay")
    for name in ("query", "key_cache", "value_cache", "block_tables", "context_lens"):
        getattr(first, name).copy_(getattr(second, name))
    out.fill_(float("nan"))
    graph.replay()
    assert_matches_reference(out, second.reference(), f"{shape}: replay with new data")


@pytest.mark.parametrize("kernel", ["vector", "mma"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_graph_inputs_written_by_the_kernels_just_before(kernel, shape):
    """On sm_90 and later both partition kernels are programmatic dependent launches (compat.h
    launch_dependent; docs/design.md): the launch may overlap the stream's previous kernel, so the kernel
    must wait for it (grid_dependency_wait) before it reads any input. In one captured graph, copies write
    every input (caches, block table, context lengths, then the query) right before each of 4 calls, each
    call with its own inputs and contexts shorter than the call before; the query of calls 1 and 3 by a
    conversion kernel (the op's launch follows a kernel), of calls 0 and 2 by a device copy (torch's
    same-dtype copy: a memcpy node). Every output must be its own call's."""
    lens, window = SHAPES[shape]
    names = ("key_cache", "value_cache", "block_tables", "context_lens")
    base = _case(lens, window, seed=20, poison=False)
    calls = [_case(lens, window, seed=21 + i, poison=False) for i in range(4)]
    for i, c in enumerate(calls):  # shorter contexts: a call attends keys the inputs before it did not
        c.context_lens.copy_(torch.tensor([L - L * i // 5 for L in lens], dtype=torch.int32))
    outs = [torch.full_like(base.query, float("nan")) for _ in calls]
    ws = base.workspace()
    with gpu.kernel_override(kernel):
        run_op(base)  # compiled and planned before the capture
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):  # (captured, not run: the outputs stay NaN until the replay)
            for i, (c, out) in enumerate(zip(calls, outs)):
                for name in names:
                    getattr(base, name).copy_(getattr(c, name))
                # the query last: calls 1 and 3 by a float32 -> bf16 kernel, calls 0 and 2 by a memcpy node
                base.query.copy_(c.query.float() if i % 2 else c.query)
                torch.ops.aiter_swa.paged_attention_v1(*base.op_args(out, ws))
        graph.replay()
        torch.cuda.synchronize()
    for i, (c, out) in enumerate(zip(calls, outs)):
        assert_matches_reference(out, c.reference(), f"{shape}, {kernel} kernel, call {i}")


@pytest.mark.parametrize("fmt", ["fn", "fnuz"])
def test_fp8_scales_are_read_on_the_device(fmt):
    """k_scale and v_scale stay on the GPU: a call runs under sync-debug "error", and a graph captured
    once replays with scales copied in afterwards (the kernel reads them at run time)."""
    lens, window = SHAPES["split_k"]
    case = _case(lens, window, seed=6, kv_dtype=FP8[fmt], k_scale=0.37, v_scale=2.5, sinks="random")
    run_op(case)  # compile / load outside the checked region
    out = torch.full_like(case.query, float("nan"))
    args = case.op_args(out, case.workspace())
    with no_host_sync():
        torch.ops.aiter_swa.paged_attention_v1(*args)
    assert_matches_reference(out, case.reference(), "eager")
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        torch.ops.aiter_swa.paged_attention_v1(*args)
    case.k_scale.fill_(0.8)
    case.v_scale.fill_(0.125)
    out.fill_(float("nan"))
    graph.replay()
    assert_matches_reference(out, case.reference(), "replay with new scales")


def test_gpu_rejects_misaligned_fp8_cache():
    """fp8 rows are read as 8-byte vectors: an fp8 cache needs an 8-byte aligned pointer."""
    case = make_case(num_seqs=2, num_heads=8, num_kv_heads=8, head_size=64, block_size=16, context_lens=10,
                     dtype=torch.bfloat16, device="cuda", kv_dtype=FP8["fn"])  # fmt: skip
    flat = torch.empty(case.key_cache.numel() + 4, dtype=case.key_cache.dtype, device="cuda")
    case.key_cache = flat[4:].view_as(case.key_cache)  # 4-byte offset
    out = torch.full_like(case.query, 7.0)
    with pytest.raises(ValueError, match=r"key_cache: the GPU kernel needs a 8-byte aligned"):
        torch.ops.aiter_swa.paged_attention_v1(*case.op_args(out, case.workspace()))
    assert torch.all(out == 7.0)


def test_gpu_rejects_float32():
    case = make_case(num_seqs=1, num_heads=8, num_kv_heads=8, head_size=64, block_size=16, context_lens=10,
                     dtype=torch.float32, device="cuda")  # fmt: skip
    out = torch.full_like(case.query, 7.0)
    with pytest.raises(TypeError, match=r"query: expected dtype .*float16.*bfloat16.* on cuda, got torch.float32"):
        torch.ops.aiter_swa.paged_attention_v1(*case.op_args(out, case.workspace()))
    assert torch.all(out == 7.0)


def test_gpu_rejects_misaligned_query():
    case = make_case(num_seqs=2, num_heads=8, num_kv_heads=8, head_size=64, block_size=16, context_lens=10,
                     dtype=torch.float16, device="cuda")  # fmt: skip
    flat = torch.empty(case.query.numel() + 1, dtype=case.query.dtype, device="cuda")
    case.query = flat[1:].view_as(case.query)  # 2-byte offset: no 16-byte vector loads
    out = torch.full_like(case.query, 7.0)
    with pytest.raises(ValueError, match=r"query: the GPU kernel needs a 16-byte aligned"):
        torch.ops.aiter_swa.paged_attention_v1(*case.op_args(out, case.workspace()))
    assert torch.all(out == 7.0)


def test_window_bounds_workspace_and_grid():
    """With the window on, a 128K context needs the workspace of the window alone."""
    with_window = aiter_swa.get_workspace_size(8, 32, 128, 131072, torch.bfloat16, sliding_window=4096)
    assert with_window == aiter_swa.get_workspace_size(8, 32, 128, 4096, torch.bfloat16)
    case = _case([131072, 4096, 5], 4096, seed=4)
    assert case.workspace().numel() == aiter_swa.get_workspace_size(3, 32, 128, 4096, torch.bfloat16)
    assert_matches_reference(run_op(case), case.reference(), "128K context, window 4096")


@pytest.mark.parametrize("window", [0, 2048])
def test_aiter_sized_workspace(window):
    """A workspace sized the way aiter and vLLM's ROCm aiter backend size it (partials in the output
    dtype, ceil(max_context_len / 256) partitions) runs every call: here many partitions, window off
    and on, the buffer exactly that size and NaN-filled."""
    case = _case([4097, 1, 0, 3000], window, seed=5)
    num_seqs, num_heads, head_size = case.query.shape
    n = num_seqs * num_heads * -(-case.max_context_len // 256)
    ws = torch.full((n * head_size * 2 + 2 * n * 4,), 255, dtype=torch.uint8, device="cuda")
    out = torch.full_like(case.query, float("nan"))
    torch.ops.aiter_swa.paged_attention_v1(*case.op_args(out, ws))
    assert_matches_reference(out, case.reference(), f"aiter-sized workspace, window {window}")


def test_gqa4_route_matches_the_reference():
    """GQA 4 without a window in a block table of 16384 tokens: the dispatch's warp-split rule (sm_90:
    the matrix-core kernel; elsewhere the vector kernel) against the float64 reference, at short and
    long contexts in that table and through a captured graph replayed with new contexts; the spec it
    took is the one gpu.spec_for names."""
    from aiter_swa.jit import toolchain
    from aiter_swa.ops.pa_v1.call import validate

    case = _case([16384, 1, 0, 5000], 0, seed=6)
    widen_block_table(case, 16384 // 16)
    out = torch.full_like(case.query, float("nan"))
    ws = case.workspace()
    spec = gpu.spec_for(validate(*case.op_args(out, ws)), toolchain.device_arch(0))
    if toolchain.device_arch(0) == "sm_90":
        assert spec.mma_rows == 16, spec  # the rule's pick (spec.choose_kernel)
    torch.ops.aiter_swa.paged_attention_v1(*case.op_args(out, ws))
    assert_matches_reference(out, case.reference(), f"GQA 4 on {spec.name}")
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        torch.ops.aiter_swa.paged_attention_v1(*case.op_args(out, ws))
    case.context_lens.copy_(torch.tensor([16000, 0, 0, 3], dtype=torch.int32))  # within each sequence's blocks
    out.fill_(float("nan"))
    graph.replay()
    assert_matches_reference(out, case.reference(), f"GQA 4 on {spec.name}, graph replay with new contexts")


_TWO_GPUS = pytest.mark.skipif(
    not torch.cuda.is_available() or torch.cuda.device_count() < 2,
    reason=f"needs two GPUs; torch sees {torch.cuda.device_count() if torch.cuda.is_available() else 0}",
)


@_TWO_GPUS
@pytest.mark.parametrize("shape", list(SHAPES))
def test_tensors_on_a_gpu_other_than_the_current_one(shape):
    """Every tensor on cuda:1 while cuda:0 is current: the launch goes to cuda:1 (on cuda:1's current
    stream), the result is right, the current device is unchanged, and cuda:0 stays usable.
    (``torch.cuda.stream(s)`` would make ``s``'s device current, so the default stream is used.)"""
    lens, window = SHAPES[shape]
    torch.cuda.set_device(0)
    case = _case(lens, window, seed=6)
    for name in ("query", "key_cache", "value_cache", "block_tables", "context_lens"):
        setattr(case, name, getattr(case, name).to("cuda:1"))
    out = torch.full_like(case.query, float("nan"))
    torch.ops.aiter_swa.paged_attention_v1(*case.op_args(out, case.workspace()))
    assert torch.cuda.current_device() == 0
    torch.cuda.synchronize(1)
    assert_matches_reference(out, case.reference(), f"{shape} on cuda:1 with cuda:0 current")
    torch.ones(4, device="cuda:0").add_(1)
    torch.cuda.synchronize(0)  # an illegal access on cuda:0 would surface here


@_TWO_GPUS
def test_tensors_on_two_gpus_are_an_error():
    case = _case([200, 7], 128, seed=7)
    case.key_cache = case.key_cache.to("cuda:1")
    out = torch.full_like(case.query, 7.0)
    with pytest.raises(ValueError, match=r"key_cache: expected a tensor on cuda:0 \(the query's device\), got one on cuda:1"):
        torch.ops.aiter_swa.paged_attention_v1(*case.op_args(out, case.workspace()))
    assert torch.all(out == 7.0)
