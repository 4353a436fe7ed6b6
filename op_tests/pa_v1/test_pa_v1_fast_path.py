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
