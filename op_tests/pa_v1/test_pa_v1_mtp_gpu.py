"""Multi-token queries of ``paged_attention_v1`` on the GPU: the GPU op against the CPU path on the
multi-token grid (``testlib.pa_v1_mtp``), no host-device sync, CUDA-graph capture with new
``cu_query_lens`` values at replay, and the first-use self-check run through a real kernel.

Skipped with a reason where torch sees no GPU; the multi-token tests also skip, with the reason,
while this build's GPU kernels are one-row-per-sequence (``gpu.MULTI_TOKEN`` False): then the
tests of that build's contract (a clear NotImplementedError, cu_query_lens = arange) run instead.
"""

from __future__ import annotations

import logging
import zlib

import pytest
import torch

from aiter_swa.ops.pa_v1 import gpu, selfcheck
from aiter_swa.ops.pa_v1.call import validate
from aiter_swa.jit import toolchain
from testlib import no_host_sync
from testlib.pa_v1 import assert_rows_match, make_case, run_op
from testlib.pa_v1_mtp import GRID, GRID_ARGS, mtp_case

pytestmark = pytest.mark.gpu
needs_multi_token_kernel = pytest.mark.skipif(
    not gpu.MULTI_TOKEN, reason="this build's GPU kernels serve one query row per sequence (gpu.MULTI_TOKEN is False)"
)
#: The GPU runs float16/bfloat16 only: the grid's float32 cases run in bfloat16 here.
GPU_DTYPES = {"fp32": torch.bfloat16, "bf16": torch.bfloat16, "fp16": torch.float16}


def seed_of(request) -> int:
    return zlib.crc32(request.node.name.encode())


def cpu_result(case, out_init: torch.Tensor) -> torch.Tensor:
    """The CPU path's output on a CPU copy of ``case`` (same values), ``out`` starting as ``out_init``."""
    fields = {n: (v.cpu() if isinstance(v, torch.Tensor) else v) for n, v in vars(case).items()}
    host = type(case)(**fields)
    out = out_init.cpu().clone()
    torch.ops.aiter_swa.paged_attention_v1(*host.op_args(out, host.workspace()))
    return out


def check_against_cpu(case, msg):
    out = run_op(case)
    expected = cpu_result(case, torch.full_like(case.query, float("nan")))
    assert_rows_match(out, expected.double(), msg)
    return out


@needs_multi_token_kernel
@pytest.mark.parametrize(GRID_ARGS, GRID)
def test_gpu_multi_token_grid(request, mtp, heads, head_size, window, layout, features, dtype, kv_layout, block_size):
    case = mtp_case(seed_of(request), mtp=mtp, heads=heads, head_size=head_size, window=window, layout=layout,
                    features=features, dtype=GPU_DTYPES[dtype], kv_cache_layout=kv_layout, block_size=block_size,
                    device="cuda")  # fmt: skip
    check_against_cpu(case, request.node.name)


def _case(layout, seed, mtp=4):
    kw = dict(query_lens=[4, 0, 1, 3, 5], extra_rows=2) if layout == "varlen" else {}
    return make_case(num_seqs=5, num_heads=32, num_kv_heads=8, head_size=128, block_size=16, context_lens=[3000, 0, 1, 700, 9216],
                     dtype=torch.bfloat16, device="cuda", sliding_window=2048, mtp=mtp, seed=seed, sinks="random", **kw)  # fmt: skip


@needs_multi_token_kernel
@pytest.mark.parametrize("layout", ["fixed", "varlen"])
def test_multi_token_no_host_device_sync(layout):
    case = _case(layout, seed=11)
    run_op(case)  # compile / load (and any first-use self-check) outside the checked region
    out = torch.full_like(case.query, float("nan"))
    args = case.op_args(out, case.workspace())
    with no_host_sync():
        torch.ops.aiter_swa.paged_attention_v1(*args)
    assert_rows_match(out, cpu_result(case, torch.full_like(out, float("nan"))).double(), layout)


@needs_multi_token_kernel
@pytest.mark.parametrize("layout", ["fixed", "varlen"])
def test_multi_token_cuda_graph_replay_with_new_data(layout):
    """Captured once; replayed after new inputs (and, varlen, new per-sequence counts in the same
    cu_query_lens buffer) are copied in: the kernel reads them on the device."""
    first, second = _case(layout, seed=12), _case(layout, seed=13)
    if layout == "varlen":
        second.cu_query_lens.copy_(torch.tensor([0, 2, 3, 3, 7, 8], dtype=torch.int32))
    out = torch.full_like(first.query, float("nan"))
    ws = first.workspace()
    run_op(first)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        torch.ops.aiter_swa.paged_attention_v1(*first.op_args(out, ws))
    graph.replay()
    assert_rows_match(out, cpu_result(first, torch.full_like(out, float("nan"))).double(), "first replay")
    names = ("query", "key_cache", "value_cache", "block_tables", "context_lens") + (("cu_query_lens",) if layout == "varlen" else ())
    for name in names:
        getattr(first, name).copy_(getattr(second, name))
    out.fill_(float("nan"))
    graph.replay()
    assert_rows_match(out, cpu_result(first, torch.full_like(out, float("nan"))).double(), "replay with new data")


def test_cu_query_lens_arange_equals_none_on_the_gpu():
    """aiter's own test passes cu_query_lens = arange(num_seqs + 1) on the device with mtp = 1, and vLLM's
    decode passes query_start_loc[:num_decodes]: both give the plain decode."""
    case = make_case(num_seqs=4, num_heads=16, num_kv_heads=4, head_size=128, block_size=16, context_lens=[5, 0, 300, 2000],
                     dtype=torch.bfloat16, device="cuda", sliding_window=512)  # fmt: skip
    plain = run_op(case)
    for cu in (torch.arange(5, dtype=torch.int32, device="cuda"), torch.arange(4, dtype=torch.int32, device="cuda")):
        case.cu_query_lens = cu
        assert torch.equal(run_op(case), plain)


@pytest.mark.parametrize("cu", [[0, 1, 1, 2, 3], [1, 2, 3, 4], [0, 2, 3, 4, 4]], ids=["zero-count", "shifted", "count-2"])
def test_vector_kernel_reads_cu_query_lens(cu):
    """One row per sequence by count (query.shape[0] == num_seqs: the vector kernel) with cu_query_lens
    values that are not arange: each sequence's row is cu[s], a sequence whose count is not 1 is skipped,
    and rows no sequence owns keep their NaN: as on the CPU (ops/pa_v1/tokens.py). Before 2026-11-29 the
    vector kernel took such a cu_query_lens as arange. Head 96: no warp split, so the vector kernel on
    every arch (at head 128 sm_90 takes the matrix-core kernel at GQA 4, spec.MMA_WARP_KV_MIN_GQA)."""
    case = make_case(num_seqs=4, num_heads=16, num_kv_heads=4, head_size=96, block_size=16,
                     context_lens=[300, 5, 0, 2000], dtype=torch.bfloat16, device="cuda", sliding_window=512,
                     sinks="random", seed=31)  # fmt: skip
    case.cu_query_lens = torch.tensor(cu, dtype=torch.int32, device="cuda")
    call = validate(*case.op_args(torch.empty_like(case.query), case.workspace()))
    assert gpu.spec_for(call, toolchain.device_arch(case.query.get_device())).mma_rows == 0  # the vector kernel
    out = check_against_cpu(case, f"cu_query_lens={cu}")
    assert out.isnan().flatten(1).all(1).any()  # some row is skipped or unowned: the NaN is kept there


def test_self_check_one_token_varlen_selects_the_matrix_core_kernel(fresh_selfcheck):
    """mtp 1 with fewer query rows than sequences runs the matrix-core kernel; its self-check's
    built-in case must select that same specialization (found on the H200, 2026-11-29)."""
    case = _case("varlen", seed=15, mtp=1)
    call = validate(*case.op_args(torch.empty_like(case.query), case.workspace()))
    spec = gpu.spec_for(call, toolchain.device_arch(case.query.get_device()))
    assert spec.mma_rows and call.dims.num_rows != call.dims.num_seqs
    selfcheck.ensure(spec, call)
    assert spec in selfcheck._passed


@pytest.mark.skipif(gpu.MULTI_TOKEN, reason="this build's GPU kernels run multi-token queries")
@pytest.mark.parametrize("layout", ["fixed", "varlen"])
def test_multi_token_is_not_implemented_on_this_build(layout):
    case = _case(layout, seed=14, mtp=4 if layout == "fixed" else 1)  # varlen: rows != num_seqs
    out = torch.full_like(case.query, 7.0)
    name = "mtp" if layout == "fixed" else "cu_query_lens"
    with pytest.raises(NotImplementedError, match=rf"^{name}: expected .*on the GPU"):
        torch.ops.aiter_swa.paged_attention_v1(*case.op_args(out, case.workspace()))
    assert torch.all(out == 7.0)


@pytest.fixture
def fresh_selfcheck(monkeypatch):
    """The self-check forced on, with its per-process record and the launch plans reset."""
    monkeypatch.setenv(selfcheck.ENV, "1")
    selfcheck._reset_for_tests()
    from aiter_swa.ops.pa_v1 import call

    call._CHECKS.clear()  # cached launch plans would skip the first-use hook
    yield
    selfcheck._reset_for_tests()


def test_self_check_passes_through_the_real_kernel(fresh_selfcheck):
    """Forced on, the first use of a specialization runs the built-in case through its kernel on this GPU
    and finds it right; the spec is then recorded and never checked again."""
    case = make_case(num_seqs=3, num_heads=12, num_kv_heads=4, head_size=96, block_size=16, context_lens=[11, 400, 0],
                     dtype=torch.float16, device="cuda", sliding_window=100, alibi=True, logits_soft_cap=30.0)  # fmt: skip
    spec = gpu.spec_for(validate(*case.op_args(torch.empty_like(case.query), case.workspace())),
                        toolchain.device_arch(case.query.get_device()))  # fmt: skip
    assert selfcheck.check(spec, case.query.device) is None
    selfcheck.ensure(spec, validate(*case.op_args(torch.empty_like(case.query), case.workspace())))
    assert spec in selfcheck._passed


def test_self_check_is_skipped_with_a_warning_inside_graph_capture(fresh_selfcheck, caplog):
    case = make_case(num_seqs=2, num_heads=8, num_kv_heads=8, head_size=80, block_size=16, context_lens=[9, 33],
                     dtype=torch.float16, device="cuda")  # fmt: skip
    out = torch.full_like(case.query, float("nan"))
    args = case.op_args(out, case.workspace())
    spec = gpu.spec_for(validate(*args), toolchain.device_arch(case.query.get_device()))
    from aiter_swa.jit import loader

    loader.load_module(spec)  # compile outside the capture
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with caplog.at_level(logging.WARNING, logger="aiter_swa"), torch.cuda.graph(graph):
        torch.ops.aiter_swa.paged_attention_v1(*args)
    assert "self-check cannot run there" in caplog.text
    assert spec not in selfcheck._passed
    graph.replay()
    torch.cuda.synchronize()
    assert not bool(out.isnan().any())
