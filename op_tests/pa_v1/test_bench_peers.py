"""CPU tests of the benchmark's peer columns (bench_pa_v1_swa.py --issue8, peers.py, the vLLM stand-ins), its
timer's hold of the stream (testlib.pa_v1.cuda_median_ms, --no-hold) and its --shared-metadata rotation.

What can be checked without a GPU: FlashInfer's page table built from our block table, the float32
reference of the multi-token rows against the project's float64 reference, the mismatch check, the
mirror of vLLM's 2D / 3D choice, the stand-in modules, the n/a paths, the FlashInfer module set
against what fetch_peers.sh builds, and the --issue8 row loop end to end on the CPU with stand-in
peers and an untimed graph_ms; --kernels' summary of profiled kernels.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from aiter_swa.ops.pa_v1.reference import paged_attention_reference

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_pa_v1_swa as bench  # noqa: E402
import peers  # noqa: E402

HAS_TRITON = importlib.util.find_spec("triton") is not None


def small_inputs(window, mtp=1, soft_cap=0.0, ctx=100, batch=3, h=8, kvh=2, d=64, bs=16, dtype=torch.float32):
    torch.manual_seed(0)
    return bench.Inputs(h, kvh, d, batch, ctx, window, bs, dtype, torch.device("cpu"), mtp=mtp, soft_cap=soft_cap)


@pytest.mark.parametrize("lens", [[0, 1, 16, 17, 100], [33], [16, 16]])
def test_flashinfer_page_table_addresses_our_tokens(lens):
    bs = 16
    g = torch.Generator().manual_seed(1)
    bt = torch.randint(1, 1000, (len(lens), 8), dtype=torch.int32, generator=g)
    indptr, indices, last = peers.flashinfer_page_table(bt, lens, bs)
    assert indptr.dtype == indices.dtype == last.dtype == torch.int32
    assert indptr.tolist()[0] == 0 and indptr.numel() == len(lens) + 1
    for s, L in enumerate(lens):
        n = int(indptr[s + 1] - indptr[s])
        assert (n - 1) * bs + int(last[s]) == L if n else L == 0 and int(last[s]) == 0
        for p in range(L):  # FlashInfer's page of token p is ours
            assert int(indices[indptr[s] + p // bs]) == int(bt[s, p // bs])


def test_flashinfer_page_table_rejects_short_block_table():
    with pytest.raises(ValueError, match="block_tables"):
        peers.flashinfer_page_table(torch.zeros(1, 2, dtype=torch.int32), [33], 16)


@pytest.mark.parametrize("window,mtp", [(37, 1), (0, 1), (37, 3), (16, 4)])
def test_bench_inputs_put_every_attended_key_in_a_real_block(window, mtp):
    inp = small_inputs(window, mtp)
    ctx, bs = inp.ctx, inp.k.shape[2]
    assert inp.q.shape[0] == 3 * mtp and inp.lo == (max(0, ctx - window - mtp + 1) if window else 0)
    _, indices, _ = peers.flashinfer_page_table(inp.bt, [ctx] * 3, bs)
    pages = indices.view(3, -1)
    for p in range(ctx):
        attended = p >= inp.lo
        assert bool((pages[:, p // bs] != 0).all()) or not attended  # attended keys: real blocks
    assert len(set(pages[pages != 0].tolist())) == int((pages != 0).sum())  # no block shared


@pytest.mark.parametrize("window,soft_cap", [(37, 0.0), (0, 0.0), (37, 5.0), (200, 0.0)])
def test_reference_fp32_matches_project_reference(window, soft_cap):
    inp = small_inputs(window, soft_cap=soft_cap)
    want = paged_attention_reference(inp.q, inp.k, inp.v, inp.bt, inp.cl, inp.scale, sliding_window=window,
                                     logits_soft_cap=soft_cap)  # fmt: skip
    got = peers.reference_fp32(inp, 1, window, soft_cap)
    torch.testing.assert_close(got.double(), want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("window,mtp", [(37, 3), (0, 2), (16, 4), (1, 2)])
def test_reference_fp32_multi_token_rows(window, mtp):
    """Row i of sequence s is a single-token decode at position L - mtp + i: context L - mtp + 1 + i."""
    inp = small_inputs(window, mtp)
    got = peers.reference_fp32(inp, mtp, window, 0.0).view(3, mtp, *inp.q.shape[1:])
    q = inp.q.view(3, mtp, *inp.q.shape[1:])
    for i in range(mtp):
        cl = torch.full((3,), inp.ctx - mtp + 1 + i, dtype=torch.int32)
        want = paged_attention_reference(q[:, i], inp.k, inp.v, inp.bt, cl, inp.scale, sliding_window=window)
        torch.testing.assert_close(got[:, i].double(), want, atol=1e-5, rtol=1e-5)


def test_compare_passes_bf16_rounding_and_fails_a_window_off_by_one():
    torch.manual_seed(0)
    inp = bench.Inputs(32, 8, 128, 2, 8192, 4096, 16, torch.bfloat16, torch.device("cpu"))
    ref = peers.reference_fp32(inp, 1, 4096, 0.0)
    ok, err = peers.compare(ref.bfloat16(), ref)
    assert ok and err > 0
    ok, err = peers.compare(peers.reference_fp32(inp, 1, 4095, 0.0).bfloat16(), ref)
    assert not ok, f"a window one key short passed the check (max err {err})"
    nan = ref.clone()
    nan[0, 0, 0] = float("nan")
    assert peers.compare(nan, ref) == (False, float("inf"))


@pytest.mark.parametrize(
    "num_seqs,h,kvh,mtp,want",
    [(1, 32, 8, 1, True), (32, 32, 8, 1, False), (16, 32, 8, 1, True), (17, 32, 8, 1, False),
     (64, 64, 8, 1, False), (16, 64, 8, 1, True), (8, 64, 8, 4, True), (9, 64, 8, 4, False), (8, 32, 8, 4, True),
     (1, 32, 8, 9, False), (8, 32, 4, 1, True)],
)  # fmt: skip
def test_vllm_3d_mirror(num_seqs, h, kvh, mtp, want):
    rows = min(128 // kvh, 256) * min(mtp, 8)  # the backend's scratch
    assert peers.vllm_uses_3d(num_seqs, h, kvh, mtp, rows) is want


def test_vllm_3d_mirror_needs_scratch_rows():
    assert peers.vllm_uses_3d(1, 32, 8, 4, 4)
    assert not peers.vllm_uses_3d(1, 32, 8, 4, 3)


def run_py(code: str, *path: Path) -> subprocess.CompletedProcess:
    env_path = ":".join(str(p) for p in path)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})  # fmt: skip


def test_vllm_standins_answer_what_the_kernel_file_asks():
    code = """
import torch
import vllm.envs as envs
from vllm.logger import init_logger
from vllm.platforms import current_platform
from vllm.v1.kv_cache_interface import KVQuantMode
assert envs.VLLM_BATCH_INVARIANT is False
log = init_logger("x"); log.debug_once("a"); log.debug_once("a")
assert [m.value for m in KVQuantMode] == [0, 1, 2, 3, 4, 5] and KVQuantMode.NONE == 0
assert current_platform.fp8_dtype() is torch.float8_e4m3fn
assert not current_platform.is_device_capability_family(100)
print("ok")
"""
    site = Path(torch.__file__).parents[1]
    r = run_py(code, HERE / "peer_standins", site)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]


@pytest.mark.skipif(not HAS_TRITON, reason="triton not installed (vLLM's file is Triton code)")
@pytest.mark.skipif(not (peers.peers_dir() / "vllm_attn").is_dir(), reason=".peers/vllm_attn not fetched")
def test_vllm_unified_attention_imports_with_the_standins():
    code = """
import sys; sys.path.insert(0, sys.argv[-1]) if False else None
import peers
fn, why = peers.import_vllm_unified()
assert fn is not None, why
print(fn.__module__)
"""
    site = Path(torch.__file__).parents[1]
    tri = Path(importlib.util.find_spec("triton").origin).parents[1]
    r = run_py(code, HERE, site, tri)
    assert r.returncode == 0 and r.stdout.strip() == "vllm.v1.attention.ops.triton_unified_attention", r.stderr[-2000:]


def test_peer_import_na_reasons(tmp_path):
    fn, why = peers.import_vllm_unified(tmp_path)
    assert fn is None and "not fetched" in why and str(tmp_path) in why
    if importlib.util.find_spec("flashinfer") is None:
        mod, why = peers.import_flashinfer()
        assert mod is None and "flashinfer not importable" in why


def test_flashinfer_cuda_core_refuses_multi_token():
    with pytest.raises(NotImplementedError, match="single-token"):
        peers.FlashInferDecode(None, small_inputs(37, 2), tensor_cores=False, mtp=2, window=37, soft_cap=0.0)


def test_flashinfer_module_args_kinds():
    tc = peers.flashinfer_module_args("tc", torch.bfloat16, 128, 4095, 0.0)
    cc = peers.flashinfer_module_args("cuda", torch.bfloat16, 64, -1, 30.0)
    assert tc[0] == "fa2" and tc[5:] == (128, 128, 0, True, False, False)
    assert cc[4:] == (64, 64, 0, False, True)
    with pytest.raises(ValueError, match="kind"):
        peers.flashinfer_module_args("xqa", torch.bfloat16, 64, -1, 0.0)


def test_issue8_flashinfer_modules_are_the_ones_fetch_peers_builds():
    text = (HERE / "fetch_peers.sh").read_text()
    on = [int(x) for x in re.search(r"PEERS_HEAD_DIMS:-([0-9 ]+)\}", text).group(1).split()]
    off = [int(x) for x in re.search(r"PEERS_OFF_HEAD_DIMS:-([0-9 ]+)\}", text).group(1).split()]
    built = {(k, d, True, False) for k in ("tc", "cuda") for d in on} | {(k, d, False, False) for k in ("tc", "cuda") for d in off}
    need = bench.issue8_flashinfer_modules()
    assert need <= built, f"rows need FlashInfer modules fetch_peers.sh does not build: {need - built}"
    assert built <= need, f"fetch_peers.sh builds modules no row needs: {built - need}"


def test_issue8_dry_run_lists_rows(capsys):
    assert bench.main(["--issue8", "--dry-run", "--rows", "mistral B1 32K w4096"]) == 0
    out = capsys.readouterr().out
    assert "mistral B1 32K w4096" in out and "gpt-oss" not in out.split("flashinfer module")[0]


@pytest.mark.parametrize("kernels", [False, True])
def test_issue8_loop_on_cpu(monkeypatch, capsys, kernels):
    """The row loop end to end on the CPU: ours through the CPU path, a correct peer, a wrong peer
    (printed as MISMATCH, marked !, not taken as the best), a peer that raises (n/a), the targets; with
    --kernels, a kernels line for each column that was timed."""
    monkeypatch.setattr(bench, "MODELS", {**bench.MODELS, "mistral": (8, 2, 64, 3), "gpt-oss": (8, 2, 32, 2)})
    monkeypatch.setattr(bench, "ISSUE8_ROWS", [
        ("mistral B32 16K w4096", "mistral", 3, 100, 37, 1),
        ("mistral B32 16K w4096 mtp4", "mistral", 3, 100, 37, 4),
        ("gpt-oss B64 16K w128", "gpt-oss", 2, 70, 0, 1),
    ])  # fmt: skip
    timed = {}

    def fake_graph_ms(fns, calls, reps):
        for f in fns:
            f()
        key = type(getattr(fns[0], "__self__", fns[0])).__name__
        timed[key] = timed.get(key, 0) + 1
        return {"Inputs": 2.0, "Good": 1.0, "Wrong": 0.5}[key]  # ms

    class Good:
        def __init__(self, mod, inp, *, mtp, window, soft_cap, tensor_cores=None):
            self.inp, self.mtp, self.window, self.cap = inp, mtp, window, soft_cap
            self.out = torch.empty_like(inp.q)
            self.mode = "2D"

        def __call__(self):
            self.out.copy_(peers.reference_fp32(self.inp, self.mtp, self.window, self.cap))

    class Wrong(Good):
        def __call__(self):  # a window one key short
            self.out.copy_(peers.reference_fp32(self.inp, self.mtp, max(self.window - 1, 0), self.cap))

    class Broken:
        def __init__(self, *a, **k):
            raise RuntimeError("MissingJITCacheError: module not in the JIT cache")

    fake = type(sys)("fake_peer")
    fake.__version__ = "0"
    monkeypatch.setattr(peers, "import_flashinfer", lambda: (fake, None))
    monkeypatch.setattr(peers, "import_vllm_unified", lambda: (fake, None))
    monkeypatch.setattr(peers, "FlashInferDecode", lambda mod, inp, *, tensor_cores, **k: (Good if tensor_cores else Broken)(mod, inp, **k))
    monkeypatch.setattr(peers, "VllmUnified", Wrong)
    monkeypatch.setattr(bench, "graph_ms", fake_graph_ms)
    monkeypatch.setattr(bench, "graph_kernels", lambda fns, calls: [("k_" + type(getattr(fns[0], "__self__", fns[0])).__name__, 1.0, 7.0, "")])
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *a: None)
    ns = type("A", (), dict(rows=None, no_peers=False, block_size=[16], soft_cap=0.0, calls=2, reps=1, workspace="aiter",
                            shared_metadata=False, kernels=kernels))()
    assert bench.issue8(ns, torch.device("cpu"), torch.float32, copy_bw=1.0, l2=1 << 20) == 0
    out = capsys.readouterr().out
    lines = {}
    for ln in out.splitlines():  # the table's row, not the targets' line of the same label
        lines.setdefault(ln[:28].strip(), ln)
    # window on, mtp 1: ours ran (CPU path), fi_tc correct, fi_cuda n/a, vllm wrong -> marked, not the best
    row = lines["mistral B32 16K w4096"].split()
    assert row[4:8] == ["2000.0", "1000.0", "n/a", "500.0!"] and row[-1] == "2.00"
    assert "MISMATCH vllm vs ours at mistral B32 16K w4096" in out
    assert "fi_cuda at mistral B32 16K w4096: n/a (RuntimeError: MissingJITCacheError" in out
    # mtp 4: where ours does not run it (n/a), the peers are checked against the float32 reference;
    # where it does (the CPU path's multi-token rows), ours agrees with that reference
    ours_mtp = "ours at mistral B32 16K w4096 mtp4: n/a" not in out
    if ours_mtp:
        assert "MISMATCH ours vs float32 reference" not in out
        assert "MISMATCH vllm vs ours at mistral B32 16K w4096 mtp4" in out
        assert re.search(r"mistral B32 16K w4096 mtp4 +1.00x mtp1 <= 1.3x: met", out)
    else:
        assert "MISMATCH vllm vs float32 reference at mistral B32 16K w4096 mtp4" in out
        assert lines["mistral B32 16K w4096 mtp4"].split()[5] == "n/a"
        assert re.search(r"mistral B32 16K w4096 mtp4 +nanx mtp1 <= 1.3x: not measured", out)
    # no window: a window one key short is the same attention; no mismatch there
    assert "MISMATCH vllm vs ours at gpt-oss" not in out
    assert "issue 8 targets (this run):" in out
    assert re.search(r"mistral B32 16K w4096 +ours +2000.0 us <= FlashInfer TC +1000.0 us: MISSED \(2.00x\)", out)
    assert re.search(r"gpt-oss B64 16K w128 +2000.0 us <= 10 us: MISSED", out)
    klines = [ln for ln in out.splitlines() if ln.startswith("#   kernels ")]
    if kernels:  # one per timed column and row: ours where it ran, fi_tc and vllm on every row, never fi_cuda
        assert "#   kernels fi_tc at mistral B32 16K w4096: k_Good 1.00/call 7.00 us; sum 7.00 us per call (timed: 1000.00)" in klines
        assert "#   kernels ours at gpt-oss B64 16K w128: k_Inputs 1.00/call 7.00 us; sum 7.00 us per call (timed: 2000.00)" in klines
        assert len(klines) == (3 if ours_mtp else 2) + 3 + 3 and not any("fi_cuda" in ln for ln in klines)
    else:
        assert klines == []
    # ours and the correct peer ran through graph_ms on every row; the n/a peer never did
    assert timed == {"Inputs": 3 if ours_mtp else 2, "Good": 3, "Wrong": 3}


VLLM_INTERPRET_CODE = """
import sys, torch
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import bench_pa_v1_swa as bench, peers
fn, why = peers.import_vllm_unified()
assert fn is not None, why
mod = sys.modules[fn.__module__]
ran = []
class Spy:  # counts launches of vLLM's split-K reduce: it runs exactly when the 3D path ran
    def __init__(self, jit): self.jit = jit
    def __getitem__(self, grid): ran.append(grid); return self.jit[grid]
mod.reduce_segments = Spy(mod.reduce_segments)
for (B, h, kvh, d, ctx, w, mtp, cap, dtype) in [
        (3, 8, 2, 64, 100, 37, 1, 0.0, torch.float16), (2, 8, 2, 64, 100, 37, 3, 0.0, torch.float16),
        (3, 8, 2, 64, 100, 0, 1, 5.0, torch.float32), (20, 16, 8, 32, 50, 16, 1, 0.0, torch.float16),
        (9, 16, 8, 32, 40, 16, 4, 0.0, torch.float32)]:
    torch.manual_seed(0)
    inp = bench.Inputs(h, kvh, d, B, ctx, w, 16, dtype, torch.device("cpu"), mtp=mtp, soft_cap=cap)
    r = peers.VllmUnified(fn, inp, mtp=mtp, window=w, soft_cap=cap)
    n = len(ran)
    r()
    ok, err = peers.compare(r.out, peers.reference_fp32(inp, mtp, w, cap))
    actual = "3D" if len(ran) > n else "2D"
    print(B, w, mtp, cap, r.mode, actual, ok, err)
    assert ok and actual == r.mode, (B, w, mtp, r.mode, actual, err)
print("ok")
"""


@pytest.mark.skipif(not HAS_TRITON, reason="triton not installed (vLLM's file is Triton code)")
@pytest.mark.skipif(not (peers.peers_dir() / "vllm_attn").is_dir(), reason=".peers/vllm_attn not fetched")
def test_vllm_call_matches_reference_in_triton_interpreter():
    """vLLM's kernel, called as VllmUnified calls it, run by Triton's CPU interpreter on the bench's
    inputs (HND cache seen through a permuted view, null-block pages, window, soft cap, mtp rows):
    equal to the float32 reference, and the 2D / 3D path the mirror predicts is the one that ran."""
    site = Path(torch.__file__).parents[1]
    tri = Path(importlib.util.find_spec("triton").origin).parents[1]
    env_path = ":".join(str(p) for p in (HERE.parent.parent, site, tri))
    r = subprocess.run([sys.executable, "-c", VLLM_INTERPRET_CODE, str(HERE), str(HERE.parent)], capture_output=True,
                       text=True, timeout=600, env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin", "TRITON_INTERPRET": "1"})  # fmt: skip
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stdout[-2000:] + r.stderr[-3000:]


class _FakeEvent:
    """A stand-in for ``torch.cuda.Event`` that logs what the timer does, in order."""

    log: list = []
    made = 0  # events made so far: the timer makes a start and an end event per run, in that order
    passed = False  # what start.query() answers: whether the GPU had already passed the start event

    def __init__(self, enable_timing=False):
        self.name = ("start", "end")[_FakeEvent.made % 2]
        _FakeEvent.made += 1

    def record(self):
        self.log.append(f"{self.name} record")

    def query(self):
        self.log.append(f"{self.name} query")
        return self.passed

    def synchronize(self):
        self.log.append(f"{self.name} synchronize")

    def elapsed_time(self, other):
        return 2.0


@pytest.mark.parametrize("hold", [True, False])
def test_timed_runs_start_behind_a_hold_of_the_stream(monkeypatch, hold):
    """Each timed run holds the stream (torch.cuda._sleep) before its start event is recorded, so the host's
    submission of the work is not timed; --no-hold times as before."""
    from testlib import pa_v1 as tl

    log = _FakeEvent.log = []
    _FakeEvent.made, _FakeEvent.passed = 0, False
    monkeypatch.setattr(torch.cuda, "Event", _FakeEvent)
    monkeypatch.setattr(torch.cuda, "_sleep", lambda cycles: log.append(f"sleep {cycles}"))
    assert tl.cuda_median_ms(lambda: log.append("fn"), 1, 2, hold=hold) == 2.0
    run = ([f"sleep {tl.HOLD_CYCLES}"] if hold else []) + ["start record", "fn", "end record"]
    run += ["start query"] if hold else []
    assert log == ["fn"] + 2 * [*run, "end synchronize"]
    # the benchmark's own timer passes its --no-hold
    log.clear()
    monkeypatch.setattr(bench, "HOLD", hold)
    bench.median_ms(lambda: log.append("fn"), 0, 1)
    assert (f"sleep {tl.HOLD_CYCLES}" in log) == hold


def test_a_hold_shorter_than_the_submission_is_reported(monkeypatch):
    from testlib import pa_v1 as tl

    _FakeEvent.log, _FakeEvent.made = [], 0
    _FakeEvent.passed = True  # the GPU reached the start event before the host recorded the end event
    monkeypatch.setattr(torch.cuda, "Event", _FakeEvent)
    monkeypatch.setattr(torch.cuda, "_sleep", lambda cycles: None)
    with pytest.warns(RuntimeWarning, match="ended before the host had enqueued 3 of 3 runs"):
        tl.cuda_median_ms(lambda: None, 0, 3)


def test_shared_metadata_runs_each_set_on_the_first_sets_block_table():
    """--shared-metadata: set 1 keeps its caches and query but reads set 0's block table, context lengths and
    workspace, and its output is attention through that table (it would not match with its own table)."""
    a, b = small_inputs(48), small_inputs(48)
    torch.manual_seed(1)
    b.bt[:, :] = b.bt[:, torch.randperm(b.bt.shape[1])]  # a table of its own that differs from a's
    assert not torch.equal(a.bt, b.bt)
    b.share_metadata(a)
    assert b.bt is a.bt and b.cl is a.cl and b.ws is a.ws
    b.ours()
    ok, err = peers.compare(b.out, peers.reference_fp32(b, 1, 48, 0.0))
    assert ok, err
    assert a.q.data_ptr() != b.q.data_ptr() and a.k.data_ptr() != b.k.data_ptr()


def test_shared_metadata_is_for_ours_alone():
    with pytest.raises(SystemExit):
        bench.main(["--issue8", "--shared-metadata", "--dry-run"])


def test_kernel_names_shortened():
    assert bench.short_kernel_name("void aiter_swa::mma_partition_kernel<aiter_swa::PaSpec<int, 4> >(aiter_swa::PaParams)") \
        == "mma_partition_kernel"
    assert bench.short_kernel_name("void flashinfer::BatchPrefillWithPagedKVCacheKernel<KTraits, Params>(Params)") \
        == "BatchPrefillWithPagedKVCacheKernel"
    assert bench.short_kernel_name("kernel_unified_attention_2d") == "kernel_unified_attention_2d"
    assert bench.short_kernel_name("Memcpy DtoD (Device -> Device)") == "Memcpy DtoD"


def test_summarize_kernels_per_call():
    """Launches per op call and mean µs per launch, per full name (two template instances with one short name
    stay apart), in order of first appearance; the line's sum is launches x µs."""
    part = "void ns::partition<1>(P)"
    red, red2 = "void ns::reduce<1>(P)", "void ns::reduce<2>(P)"
    shape = bench.launch_shape({"grid": [32, 8, 1], "block": [128, 1, 1], "blocks per SM": 4.0})
    assert shape == "grid 32x8x1 block 128x1x1 4/SM" and bench.launch_shape({}) == ""
    records = [(part, 9.0, shape), (red, 1.0, ""), (part, 11.0, shape), (red2, 3.0, "")]  # 2 op calls
    got = bench.summarize_kernels(records, calls=2)
    assert got == [("partition", 1.0, 10.0, shape), ("reduce", 0.5, 1.0, ""), ("reduce", 0.5, 3.0, "")]
    line = bench.kernels_line("ours", "mistral B1 32K w4096", got, call_ms=0.0101)
    assert line.startswith("#   kernels ours at mistral B1 32K w4096: partition 1.00/call 10.00 us (grid 32x8x1 block "
                           "128x1x1 4/SM); reduce 0.50/call 1.00 us; reduce 0.50/call 3.00 us;")
    assert line.endswith("sum 12.00 us per call (timed: 10.10)")


def test_kernel_records_from_a_chrome_trace():
    """Only the trace's kernel events count, with their duration (µs) and launch; a runtime call does not."""
    events = [
        {"ph": "X", "cat": "cuda_runtime", "name": "cudaGraphLaunch", "dur": 5},
        {"ph": "X", "cat": "kernel", "name": "void ns::partition<1>(P)", "dur": 9.5,
         "args": {"grid": [1, 8, 32], "block": [128, 1, 1], "blocks per SM": 1.93939}},
        {"ph": "X", "cat": "kernel", "name": "void ns::reduce<1>(P)", "dur": 1, "args": {}},
    ]  # fmt: skip
    assert bench.kernel_records(events) == [("void ns::partition<1>(P)", 9.5, "grid 1x8x32 block 128x1x1 1.93939/SM"),
                                            ("void ns::reduce<1>(P)", 1.0, "")]


def test_kernels_is_for_issue8(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--kernels", "--models", "mistral"])
    assert "--kernels profiles issue 8's columns: use it with --issue8" in capsys.readouterr().err
