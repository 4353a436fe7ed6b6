"""``paged_attention_v1`` through the fast path (aiter_swa/_fast_path.py) on the GPU.

The op's CUDA key is served by the fast path's C++ kernel; its misses run the Python path (the slow
twin ``torch.ops.aiter_swa._paged_attention_v1_slow``). Each test reads the fast kernel's counters
to prove which path a call took. Skipped with a reason without a GPU, or with the fast path off
(``AITER_SWA_FAST_PATH=0``); a fast path that did not build fails the tests.
"""

from __future__ import annotations

import pytest
import torch

from aiter_swa import _fast_path
from aiter_swa.ops.pa_v1 import debug_checks
from testlib import HAS_GPU, no_host_sync
from testlib.pa_v1 import assert_matches_reference, make_case

pytestmark = pytest.mark.gpu
OP = "aiter_swa::paged_attention_v1"


@pytest.fixture(autouse=True)
def fast_path_on():
    if not HAS_GPU:
        pytest.skip("no GPU")
    if not _fast_path.env_enabled():
        pytest.skip(f"the fast path is off ({_fast_path.ENV}=0)")
    if _fast_path.stats(OP) is None:
        pytest.fail(f"the fast path is not installed for {OP}: {_fast_path.failure()}")


def _case(seed=0, device="cuda", window=128, lens=(200, 0, 77, 256), **kw):
    return make_case(
        num_seqs=len(lens), num_heads=32, num_kv_heads=8, head_size=128, block_size=16, context_lens=list(lens),
        dtype=torch.bfloat16, device=device, sliding_window=window, seed=seed, **kw,
    )  # fmt: skip


def _stats():
    return _fast_path.stats(OP)


def _call(case, out=None, ws=None, op=torch.ops.aiter_swa.paged_attention_v1):
    out = torch.full_like(case.query, float("nan")) if out is None else out
    op(*case.op_args(out, case.workspace() if ws is None else ws))
    return out


@pytest.mark.parametrize("window,lens", [(128, (200, 0, 77, 256)), (2048, (3000, 1, 0, 9216))],
                         ids=["one_partition", "split_k"])  # fmt: skip
def test_hit_matches_python_path(window, lens):
    case = _case(seed=1, window=window, lens=lens)
    _call(case)  # a miss (or a hit of an earlier test's key): the entry is filed
    before = _stats()
    fast = _call(case)
    after = _stats()
    assert after["hits"] == before["hits"] + 1, (before, after)
    slow = _call(case, op=torch.ops.aiter_swa._paged_attention_v1_slow)
    torch.cuda.synchronize()
    assert torch.equal(fast, slow), "the fast and Python paths differ"
    assert_matches_reference(fast, case.reference(), "fast path")
    assert _stats()["hits"] == after["hits"], "the slow twin must not reach the fast kernel"


def test_other_tensors_of_the_same_metadata_hit():
    """Pointers are per-call values: other tensors of the same metadata are a hit, with their data."""
    case = _case(seed=2)
    _call(case)
    other = _case(seed=3)  # same metadata, other tensors
    before = _stats()
    assert_matches_reference(_call(other), other.reference(), "other tensors")
    assert _stats()["hits"] == before["hits"] + 1


def test_misaligned_query_raises_the_python_error():
    case = _case(seed=4)
    _call(case)
    q = case.query
    buf = torch.empty(q.numel() + 1, dtype=q.dtype, device=q.device)
    case.query = buf[1:].view(q.shape)  # same metadata, pointer 2 bytes off
    case.query.copy_(q)
    before = _stats()
    with pytest.raises(ValueError, match="query: the GPU kernel needs a 16-byte aligned base pointer"):
        _call(case)
    assert _stats()["misaligned"] == before["misaligned"] + 1


def test_wrong_dtype_raises_the_python_error():
    case = _case(seed=5)
    _call(case)
    case.query = case.query.half()
    with pytest.raises(TypeError, match="out: expected dtype torch.float16"):
        _call(case, out=torch.empty_like(case.query, dtype=torch.bfloat16))


def test_no_host_device_sync_on_a_hit():
    case = _case(seed=6)
    _call(case)
    out, ws = torch.full_like(case.query, float("nan")), case.workspace()
    args = case.op_args(out, ws)
    before = _stats()
    with no_host_sync():
        torch.ops.aiter_swa.paged_attention_v1(*args)
    assert _stats()["hits"] == before["hits"] + 1
    assert_matches_reference(out, case.reference(), "sync-debug")


def test_cuda_graph_capture_of_a_hit():
    first, second = _case(seed=7), _case(seed=8)
    out, ws = torch.full_like(first.query, float("nan")), first.workspace()
    _call(first, out, ws)  # filed before capture
    torch.cuda.synchronize()
    before = _stats()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        torch.ops.aiter_swa.paged_attention_v1(*first.op_args(out, ws))
    assert _stats()["hits"] == before["hits"] + 1, "the capture must go through the fast path"
    out.fill_(float("nan"))
    graph.replay()
    assert_matches_reference(out, first.reference(), "first replay")
    for name in ("query", "key_cache", "value_cache", "block_tables", "context_lens"):
        getattr(first, name).copy_(getattr(second, name))
    out.fill_(float("nan"))
    graph.replay()
    assert_matches_reference(out, second.reference(), "replay with new data")


def test_debug_checks_take_the_python_path():
    case = _case(seed=9)
    _call(case)
    case.context_lens[0] = 10**6  # beyond max_context_len: only the debug value checks see it
    saved = debug_checks.ENABLED
    debug_checks.ENABLED = True
    try:
        with pytest.raises(ValueError, match="context_lens"):
            _call(case)
    finally:
        debug_checks.ENABLED = saved


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 GPUs (tensors on a non-current device)")
def test_tensors_on_a_non_current_device():
    assert torch.cuda.current_device() == 0
    case0, case1 = _case(seed=10, device="cuda:0"), _case(seed=10, device="cuda:1")
    _call(case0)
    before = _stats()
    out1 = _call(case1)  # same metadata but the device index: a miss
    assert _stats()["misses"] == before["misses"] + 1
    out1 = _call(case1)  # a hit on device 1 while device 0 is current
    assert _stats()["hits"] == before["hits"] + 1
    assert torch.cuda.current_device() == 0
    assert_matches_reference(out1, case1.reference(), "cuda:1")


@pytest.mark.parametrize("window,mtp", [(0, 1), (300, 1), (0, 2)], ids=["full", "window", "mtp2_matrix_core"])
def test_growing_max_context_len_stays_on_the_fast_path(window, mtp):
    """A decode loop (issue 7): max_context_len grows every step, the block table and the workspace
    sized for the last step. After the first call every call is a hit (before, each new value was a
    miss of about 200 us), with its own split (vector kernel: 1 to 36 partitions; two query tokens:
    the matrix-core kernel's SM-count split), no host sync, matching the reference."""
    # unpoisoned: the clamped contexts attend keys that the full contexts' window leaves out (NaN with poison)
    case = _case(seed=11, window=window, lens=(3000, 1, 0, 9216), poison=False)
    if mtp > 1:
        case.mtp = mtp
        case.query = torch.randn(case.query.shape[0] * mtp, *case.query.shape[1:], dtype=case.query.dtype,
                                 device=case.query.device)  # fmt: skip
    out, ws = torch.full_like(case.query, float("nan")), case.workspace()
    full_lens = case.context_lens.clone()
    before = None
    for step, m in enumerate((1, 256, 257, 2048, 5000, 9216)):
        case.context_lens = full_lens.clamp_max(m)
        case.max_context_len = m
        out.fill_(float("nan"))
        if step == 0:
            _call(case, out, ws)  # a miss (or a hit of an earlier test's key)
            before = _stats()
        else:
            args = case.op_args(out, ws)
            with no_host_sync():
                torch.ops.aiter_swa.paged_attention_v1(*args)
        assert_matches_reference(out, case.reference(), f"max_context_len {m}")
    after = _stats()
    assert after["hits"] - before["hits"] == 5 and after["misses"] == before["misses"], (before, after)


def test_max_context_len_beyond_the_plan_raises_the_python_error():
    """A max_context_len above what the key's block table admits (the plan's bound) takes the slow
    twin, which raises the validation's error before ``out`` is written; the admitted values still hit."""
    case = _case(seed=12, window=0, lens=(200, 0, 77, 256))  # 16 blocks of 16: max_context_len <= 256
    out, ws = torch.full_like(case.query, float("nan")), case.workspace()
    _call(case, out, ws)
    torch.cuda.synchronize()
    out.fill_(float("nan"))
    before = _stats()
    case.max_context_len = 257
    with pytest.raises(ValueError, match=r"^block_tables: expected shape \[num_seqs=4, >= ceil\(max_context_len=257"):
        _call(case, out, ws)
    torch.cuda.synchronize()
    assert bool(out.isnan().all()), "out was written for a rejected call"
    after = _stats()
    assert after["out_of_range"] == before["out_of_range"] + 1 and after["hits"] == before["hits"], (before, after)
    case.max_context_len = 256
    _call(case, out, ws)
    assert _stats()["hits"] == after["hits"] + 1


def test_python_path_keeps_its_plan_as_max_context_len_grows():
    """The Python path (the slow twin, the fast path's misses and AITER_SWA_FAST_PATH=0): one
    validation record and one plan for every max_context_len of the metadata."""
    from aiter_swa.ops.pa_v1 import call as pa_call

    case = _case(seed=13, window=0, lens=(3000, 1, 0, 9216))
    out, ws = torch.full_like(case.query, float("nan")), case.workspace()
    full_lens = case.context_lens.clone()
    plans = set()
    for m in (9216, 100, 4000):
        case.context_lens = full_lens.clamp_max(m)
        case.max_context_len = m
        out.fill_(float("nan"))
        args = case.op_args(out, ws)
        torch.ops.aiter_swa._paged_attention_v1_slow(*args)
        plans.add(id(pa_call.lookup(pa_call.full_args(args)).gpu_plan))
        assert_matches_reference(out, case.reference(), f"Python path, max_context_len {m}")
    assert len(plans) == 1
