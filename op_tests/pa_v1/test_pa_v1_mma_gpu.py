"""The matrix-core pa_v1 kernel on the GPU: multi-token rows, the machine-filling split, no host sync,
graph replay with shorter contexts; and both kernels' reduce over many partitions.

Skipped with a reason where torch sees no GPU. The one-token grid runs through the op: run
``test_pa_v1_swa.py`` / ``test_pa_v1_gpu.py`` / ``test_pa_v1_mtp_gpu.py`` with ``AITER_SWA_PA_KERNEL=mma``
(``run_gpu_suite.sh mma`` does). Here multi-token calls go to the launcher through the GPU dispatch's
own ``launch_values`` (the split on the real SM count, the mma kernel forced), against the float64
reference of testlib/pa_v1_mma.py.
"""

from __future__ import annotations

import pytest
import torch

from aiter_swa.jit import loader, toolchain
from aiter_swa.ops.pa_v1 import gpu
from aiter_swa.ops.pa_v1.spec import LAUNCH
from testlib import no_host_sync
from testlib.pa_v1 import FP8, make_case, mismatch, run_op
from testlib.pa_v1_mma import aiter_workspace, fp8_codes_case, make_mtp_case, mma_call, mtp_reference, owned_rows

pytestmark = pytest.mark.gpu


def _to_cuda(m):
    c = m.case
    for name in ("query", "key_cache", "value_cache", "block_tables", "context_lens", "alibi_slopes", "sinks",
                 "k_scale", "v_scale"):  # fmt: skip
        t = getattr(c, name)
        if t is not None:
            setattr(c, name, t.cuda())
    if m.cu_query_lens is not None:
        m.cu_query_lens = m.cu_query_lens.cuda()
    return m


def _launch(m, out, ws, kernel="mma"):
    """What gpu.run launches for this call, with the given kernel; returns the launch values."""
    call = mma_call(m, out, ws)
    arch = toolchain.device_arch(0)
    spec, values = gpu.launch_values(call, arch, gpu.multiprocessor_count(0), kernel)
    prepared = loader.load_module(spec).prepare(*LAUNCH.pack_plan(**{n: values[n] for n in LAUNCH.plan_names}))
    c = m.case
    ptr = lambda t: 0 if t is None else t.data_ptr()  # noqa: E731
    fp8 = c.kv_cache_dtype != "auto"
    per_call = dict(out=out.data_ptr(), query=c.query.data_ptr(), key_cache=c.key_cache.data_ptr(),
                    value_cache=c.value_cache.data_ptr(), block_tables=c.block_tables.data_ptr(),
                    cu_query_lens=ptr(m.cu_query_lens), context_lens=c.context_lens.data_ptr(),
                    alibi_slopes=ptr(c.alibi_slopes), sinks=ptr(c.sinks), k_scale=ptr(c.k_scale) if fp8 else 0,
                    v_scale=ptr(c.v_scale) if fp8 else 0, workspace=ws.data_ptr(), scale=c.scale,
                    soft_cap=c.logits_soft_cap, max_context_len=values["max_context_len"],
                    stream=torch.cuda.current_stream().cuda_stream)  # fmt: skip
    prepared(*LAUNCH.pack_call(**per_call))  # by name: a launch-contract change fails here, naming the argument
    return values


def _check(m, msg="", kernel="mma"):
    ref = mtp_reference(m)  # on the CPU copies
    _to_cuda(m)
    out = torch.full_like(m.case.query, float("nan"))
    ws = aiter_workspace(m).cuda()
    values = _launch(m, out, ws, kernel)
    torch.cuda.synchronize()
    owned = owned_rows(m)
    out = out.cpu()
    why = mismatch(out[owned], ref[owned])
    assert why is None, f"{msg} ({values['num_partitions']} x {values['partition_size']}): {why}"
    assert torch.isnan(out[~owned].float()).all()
    return values


MTP_GRID = [(g, t, hs) for g in (1, 4, 8, 16) for t in (2, 4, 8) for hs in (64, 128, 256)]


@pytest.mark.parametrize("gqa,mtp,head_size", MTP_GRID, ids=[f"g{g}-mtp{t}-hs{h}" for g, t, h in MTP_GRID])
@pytest.mark.parametrize("window", [0, 1, 7, 300])
def test_mtp_grid(gqa, mtp, head_size, window):
    m = make_mtp_case(num_seqs=4, mtp=mtp, num_heads=2 * gqa, num_kv_heads=2, head_size=head_size, block_size=16,
                      context_lens=[1000, 3, 0, 257], dtype=torch.bfloat16, sliding_window=window,
                      seed=gqa + 10 * mtp + head_size)  # fmt: skip
    _check(m, f"g{gqa} mtp{mtp} hs{head_size} w{window}")


@pytest.mark.parametrize("kv", ["auto", "fn", "fnuz"])
def test_mtp_cu_query_lens_flags(kv):
    """Mixed query lengths (0 and 1 included), soft cap, ALiBi, sinks, NHD, fp8 KV, block size 1 and 272."""
    for block_size in (1, 16, 272):
        m = make_mtp_case(num_seqs=6, mtp=8, query_lens=[8, 0, 1, 5, 8, 3], num_heads=32, num_kv_heads=8,
                          head_size=128, block_size=block_size, context_lens=[2000, 10, 1, 4, 600, 8000],
                          dtype=torch.float16, sliding_window=512, logits_soft_cap=30.0, alibi=True, sinks="random",
                          kv_cache_layout="NHD", kv_dtype=None if kv == "auto" else FP8[kv], k_scale=0.5, v_scale=2.0,
                          seed=block_size)  # fmt: skip
        _check(m, f"block {block_size} kv {kv}")


LONG_CONTEXTS = [8000, 4500, 7000, 5001, 6400, 7999, 4600, 5500]


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=["bf16", "fp16"])
@pytest.mark.parametrize("window,mtp,alibi", [(0, 1, False), (0, 4, False), (5000, 1, False), (5000, 4, False),
                                              (5000, 4, True)])
def test_long_form(dtype, window, mtp, alibi):
    """The warp split's long form (spec.mma_long_form: 64-key tiles over 4 warps, 2 workgroups per SM; sm_90,
    head 128 x 16 rows), which the launcher runs where its split's partitions hold at least
    spec.MMA_LONG_MIN_PARTITION_KEYS keys: 8 sequences x 8 KV heads (GQA 4 x mtp 1 or 4, mixed query lengths
    with 0), contexts 4500-8000, sinks and a soft cap: partitions of 1280-2048 keys and the reduce (4 on 132
    SMs; one case with ALiBi and the NHD layout); then 33 sequences of 1030-1100 keys, one partition each (132
    SMs), no reduce."""
    from aiter_swa.ops.pa_v1.spec import mma_long_form

    arch = toolchain.device_arch(0)
    if not mma_long_form(arch, "bf16", "bf16", 128, 16):
        pytest.skip(f"{arch} has no long form (spec.mma_long_form: two of its workgroups per SM's shared memory)")
    lens = [4, 1, 3, 4, 0, 4, 2, 4] if mtp > 1 else None
    m = make_mtp_case(num_seqs=8, mtp=mtp, query_lens=lens, num_heads=32, num_kv_heads=8, head_size=128,
                      block_size=16, context_lens=LONG_CONTEXTS, dtype=dtype, sliding_window=window,
                      logits_soft_cap=30.0, sinks="random", alibi=alibi, kv_cache_layout="NHD" if alibi else "HND",
                      seed=window + mtp)  # fmt: skip
    values = _check(m, f"long form w{window} mtp{mtp} alibi {alibi}")
    assert values["key_tile"] == 64 and values["num_partitions"] > 1, values
    m = make_mtp_case(num_seqs=33, mtp=1, num_heads=32, num_kv_heads=8, head_size=128, block_size=16,
                      context_lens=[1030 + 2 * i for i in range(33)], dtype=dtype, sliding_window=window,
                      alibi=alibi, seed=7 + window)  # fmt: skip
    values = _check(m, f"long form, one partition, w{window}")
    assert values["key_tile"] == 64, values
    if gpu.multiprocessor_count(0) == 132:
        assert values["num_partitions"] == 1, values


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=["bf16", "fp16"])
@pytest.mark.parametrize("fmt", ["fn", "fnuz"])
def test_fp8_codes_exact(fmt, dtype):
    """All 256 E4M3 codes through the matrix-core kernel's V path into the query's 16-bit type (vec.h
    convert8_f16 for fp16, convert8 for bf16): one key (weight exactly 1), v_scale 0.5, so out is exactly
    half each code's value and NaN for the NaN codes (fn: 0x7f, 0xff; fnuz: 0x80)."""
    m, expected = fp8_codes_case(FP8[fmt], dtype)
    assert expected.isnan().sum() == (2 if fmt == "fn" else 1)
    _to_cuda(m)
    out = torch.full_like(m.case.query, float("nan"))
    _launch(m, out, aiter_workspace(m).cuda())
    torch.testing.assert_close(out[0, 0].cpu(), expected, rtol=0, atol=0, equal_nan=True)


FP8_HEADS = [(fmt, hs) for fmt in ("fn", "fnuz") for hs in (32, 64, 80, 96, 128, 192, 256, 512)]


@pytest.mark.parametrize("fmt,head_size", FP8_HEADS, ids=[f"{f}-hs{h}" for f, h in FP8_HEADS])
def test_fp8_fp16_query_every_head_size(fmt, head_size):
    """An fp16 query with an fp8 cache (the tiles stored by convert8_f16) at every head size, GQA 4 x mtp 2,
    a window, sinks, scales, the caches poisoned with NaN codes outside the attended keys."""
    m = make_mtp_case(num_seqs=3, mtp=2, num_heads=8, num_kv_heads=2, head_size=head_size, block_size=16,
                      context_lens=[700, 2, 300], dtype=torch.float16, sliding_window=200, sinks="random",
                      kv_dtype=FP8[fmt], k_scale=0.5, v_scale=2.0, seed=head_size)  # fmt: skip
    _check(m, f"{fmt} hs{head_size}")


def test_batch_one_is_split_over_the_machine():
    """Batch 1, Mistral's shape (32/8 heads, d128), window 4096, 32K context: more than one
    partition per (sequence, KV head), within aiter's workspace sizing."""
    m = make_mtp_case(num_seqs=1, mtp=1, num_heads=32, num_kv_heads=8, head_size=128, block_size=16,
                      context_lens=[32768], dtype=torch.bfloat16, sliding_window=4096, seed=3)  # fmt: skip
    values = _check(m, "batch 1")
    assert 1 < values["num_partitions"] <= 128
    assert 8 * values["num_partitions"] >= gpu.multiprocessor_count(0)


@pytest.mark.parametrize("kernel", ["vector", "mma"])
@pytest.mark.parametrize("head_size", [80, 128])
def test_reduce_merges_many_partitions(kernel, head_size):
    """Many more partitions than the reduce's chunk of 32 (lse_merge, lse.h), no window, 40K keys, with
    sinks: the running sums are rescaled from chunk to chunk. The last key (in the last chunk) is
    planted along head 0's query, so that chunk's maximum is the largest. Head size 80: a reduce
    workgroup of 96 threads, the last 16 with no element."""
    m = make_mtp_case(num_seqs=1, mtp=1, num_heads=4, num_kv_heads=1, head_size=head_size, block_size=16,
                      context_lens=[40000], dtype=torch.bfloat16, sinks="random", seed=head_size)  # fmt: skip
    c = m.case
    last = int(c.context_lens[0]) - 1
    c.key_cache[int(c.block_tables[0, last // 16]), 0, last % 16] = c.query[0, 0] * 1.5  # HND
    values = _check(m, f"{kernel} head {head_size}", kernel)
    assert values["num_partitions"] > 64, values


@pytest.fixture
def mma_kernel():
    with gpu.kernel_override("mma"):
        yield


@pytest.mark.parametrize("lens,window", [([200, 0, 77, 256], 128), ([3000, 1, 0, 9216], 2048), ([40000], 4096)])
def test_op_no_sync_and_graph_replay_shorter_contexts(mma_kernel, lens, window):
    """Through the op (mtp 1) on the mma kernel: no host sync; a captured graph stays valid when the
    context lengths shrink (the grid and split come from max_context_len)."""
    case = make_case(num_seqs=len(lens), num_heads=32, num_kv_heads=8, head_size=128, block_size=16,
                     context_lens=lens, dtype=torch.bfloat16, device="cuda", sliding_window=window, seed=5)  # fmt: skip
    run_op(case)
    out = torch.full_like(case.query, float("nan"))
    ws = case.workspace()
    args = case.op_args(out, ws)
    with no_host_sync():
        torch.ops.aiter_swa.paged_attention_v1(*args)
    assert mismatch(out, case.reference()) is None
    # shorter contexts attend keys the first call's windows did not: unpoisoned caches here
    case = make_case(num_seqs=len(lens), num_heads=32, num_kv_heads=8, head_size=128, block_size=16,
                     context_lens=lens, dtype=torch.bfloat16, device="cuda", sliding_window=window, seed=6,
                     poison=False)  # fmt: skip
    out = torch.full_like(case.query, float("nan"))
    args = case.op_args(out, case.workspace())
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        torch.ops.aiter_swa.paged_attention_v1(*args)
    case.context_lens.copy_(torch.tensor([max(L // 3, 0) for L in lens], dtype=torch.int32))
    out.fill_(float("nan"))
    graph.replay()
    torch.cuda.synchronize()
    assert mismatch(out, case.reference()) is None
    assert gpu.KERNEL == "mma"
