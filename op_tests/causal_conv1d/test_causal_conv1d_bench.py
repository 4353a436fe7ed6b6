"""CPU tests of the causal_conv1d benchmark's rows (bench_causal_conv1d.py): no GPU needed.

The benchmark captures each row's ``fn`` in a CUDA graph after ``torch.cuda.graph`` has emptied the
caching allocator, so a row whose ``fn`` keeps only raw pointers to its inputs replays on unmapped
memory: on 2026-11-28 the ``cl_run=8`` row (a tuning variant launched directly) did exactly that and
hit "an illegal memory access" on the H200, killing the process before the op's own long-prefill rows
printed. These tests hold every row's maker to keeping the tensors its ``fn`` reads alive, and check
the direct launch's arguments against the op's own launch.
"""

from __future__ import annotations

import gc
import sys
import weakref
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_causal_conv1d as bench  # noqa: E402

from aiter_swa.ops.causal_conv1d import gpu as conv_gpu  # noqa: E402
from aiter_swa.ops.causal_conv1d.spec import FWD_LAUNCH  # noqa: E402

LENS = [7, 1, 20]


def _tensors(inp: dict) -> dict:
    return {k: v for k, v in inp.items() if isinstance(v, torch.Tensor) and k != "query_start_loc_cpu"}


class _Recorder:
    """Stands in for a JIT launcher: records each launch's arguments."""

    def __init__(self):
        self.calls = []

    def __call__(self, *args):
        self.calls.append(args)


@pytest.fixture
def fake_launch(monkeypatch):
    """``gpu._fwd_plan`` and gpu's raw stream without a GPU: the plan's launcher records its arguments."""
    rec = _Recorder()

    def plan(call, **tuning):
        # the plan's int values as the real one packs them (its spec is not built: no GPU, no compile)
        packed = conv_gpu.FWD_LAUNCH.pack(
            **dict.fromkeys(conv_gpu._FWD_POINTERS + ("stream",), 0), num_seqs=call.dims.num_seqs,
            dim=call.dims.dim, total_tokens=call.dims.total_tokens, num_cache_lines=call.dims.num_cache_lines,
            pad_slot_id=call.pad_slot_id, x_stride_dim=call.x.stride(0), x_stride_tok=call.x.stride(1),
            w_stride_dim=call.weight.stride(0), w_stride_width=call.weight.stride(1),
            s_stride_line=call.conv_states.stride(0), s_stride_dim=call.conv_states.stride(1),
            s_stride_tok=call.conv_states.stride(2))  # fmt: skip
        return conv_gpu.Plan(rec, tuple(packed[len(conv_gpu._FWD_POINTERS) : -1]), 0)

    monkeypatch.setattr(conv_gpu, "_fwd_plan", plan)
    monkeypatch.setattr(conv_gpu, "raw_stream", lambda index: 12345)  # the row launches through gpu.launch_fwd
    return rec


@pytest.mark.parametrize("layout,tuning", [("channel_last", {"cl_run": 8}), ("channel_first", {"cf_rows": 8}),
                                           ("channel_first", {"cf_fast": 0, "cf_rows": 2}),
                                           ("channel_first", {"walk": 1}), ("channel_last", {"walk": 1})])  # fmt: skip
def test_variant_row_keeps_its_tensors_alive_and_launches_like_the_op(fake_launch, layout, tuning):
    """The direct launch's ``fn`` must keep x, weight, bias, states and the index tensors alive after
    its maker returns (a graph captured from it reads them at replay), and pass the op's pointers
    and values in the launch contract's order."""
    inp = bench.make_inputs(LENS, 16, 4, torch.bfloat16, "cpu", layout)
    refs = {k: weakref.ref(t) for k, t in _tensors(inp).items()}
    ptrs = {k: t.data_ptr() for k, t in _tensors(inp).items()}
    impl = bench.ours_variant(tuning)(inp, "silu", None)
    del inp
    gc.collect()
    dead = sorted(k for k, r in refs.items() if r() is None)
    assert not dead, f"{impl.name}: its fn no longer references {dead} (freed: a captured graph would read freed memory)"
    out = impl.fn()
    assert len(fake_launch.calls) == 1
    args = dict(zip(FWD_LAUNCH.names, fake_launch.calls[0]))
    assert args["out"] == out.data_ptr()
    for k in ("x", "weight", "bias", "conv_states", "query_start_loc", "cache_indices", "has_initial_state"):
        assert args[k] == ptrs[k], k
    assert args["stream"] == 12345
    assert args["total_tokens"] == sum(LENS) and args["num_seqs"] == len(LENS) and args["dim"] == 16
    assert (args["x_stride_dim"], args["x_stride_tok"]) == tuple(refs["x"]().stride())
    assert (args["s_stride_line"], args["s_stride_dim"], args["s_stride_tok"]) == tuple(refs["conv_states"]().stride())


@pytest.mark.parametrize("maker", [bench.ours, bench.naive_torch], ids=lambda m: m.__name__)
def test_main_rows_keep_their_tensors_alive(maker):
    inp = bench.make_inputs(LENS, 16, 4, torch.bfloat16, "cpu", "channel_last")
    refs = {k: weakref.ref(t) for k, t in _tensors(inp).items()}
    impl = maker(inp, "silu", None)
    del inp
    gc.collect()
    # ours passes every tensor to the op; the naive row reads all but query_start_loc (host lengths)
    needed = set(refs) - ({"query_start_loc"} if maker is bench.naive_torch else set())
    dead = sorted(k for k in needed if refs[k]() is None)
    assert not dead, f"{impl.name}: its fn no longer references {dead}"


def test_naive_row_matches_the_reference_on_the_cpu():
    """The naive torch row computes what the op computes (the CPU path): outputs and states."""
    inp = bench.make_inputs(LENS, 16, 4, torch.float32, "cpu", "channel_last")
    inp2 = bench.make_inputs(LENS, 16, 4, torch.float32, "cpu", "channel_last")
    got = bench.naive_torch(inp, "silu", None).fn()
    want = bench.ours(inp2, "silu", None).fn()
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(inp["conv_states"], inp2["conv_states"], atol=0, rtol=0)


def _stand_in_gpu(monkeypatch):
    """``bench.main`` on the CPU: the inputs on the CPU (the op runs its CPU path), a stand-in GPU and
    fixed timers."""
    real_make_inputs = bench.make_inputs
    monkeypatch.setattr(bench, "make_inputs", lambda *a, **k: real_make_inputs(*a[:4], "cpu", *a[5:], **k))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "stand-in")
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *a: None)
    monkeypatch.setattr(bench, "copy_gbps", lambda nbytes: 1000.0)
    monkeypatch.setattr(bench, "sync_free", lambda fn: (fn(), "none")[1])
    monkeypatch.setattr(bench, "host_us", lambda fn, iters: (fn(), 10.0)[1])
    monkeypatch.setattr(bench, "gpu_us", lambda fn, calls, repeats: (fn(), 5.0)[1])
    monkeypatch.setattr(bench, "p50_us", lambda fn, iters: (fn(), 20.0)[1])


def test_a_failing_variant_row_does_not_hide_the_op_rows(monkeypatch, capsys):
    """``main`` on the CPU (its timers and the GPU stand in; the op runs its CPU path): a variant whose
    row raises what the H200 raised (a sticky CUDA error) is reported on its own line after the
    op's row and the targets, and the exit status says a row failed."""
    _stand_in_gpu(monkeypatch)

    def failing_variant(tuning):
        def make(inp, activation, peer):
            def run():  # torch.AcceleratorError, what the H200 raised, is a RuntimeError
                raise RuntimeError("CUDA error: an illegal memory access was encountered")

            return bench.Impl("aiter_swa[cl_run=8]", run)

        make.__name__ = "ours_cl_run8"
        return make

    monkeypatch.setattr(bench, "ours_variant", failing_variant)
    rc = bench.main(["--lens", "4096,5,1", "--dim", "16", "--dtype", "fp32", "--peer-dir", "", "--variants", "cl_run=8"])
    text = capsys.readouterr().out
    assert rc == 1
    lines = text.splitlines()
    ours = next(i for i, line in enumerate(lines) if line.startswith("aiter_swa "))
    long_prefill = next(i for i, line in enumerate(lines) if line.strip().startswith("long prefill:"))
    failed = next(i for i, line in enumerate(lines) if line.startswith("ROW FAILED  ours_cl_run8"))
    assert ours < long_prefill < failed, text
    assert any(line.startswith("torch ") for line in lines[:long_prefill]), text


def test_ncu_summary_units(tmp_path, capsys):
    """ncu_summary.py (run_gpu_suite.sh conv1d's CONV1D_NCU=1 step) reads ncu's CSV: times in ns become
    µs, bytes in Mbyte MB, the median per specialization; a unit it does not know is named, not read as
    a plain number (a ns time once showed as µs)."""
    import ncu_summary

    head = '"ID","Kernel Name","Grid Size","Metric Name","Metric Unit","Metric Value"'
    name = "void aiter_swa::causal_conv1d::fwd_kernel<aiter_swa::causal_conv1d::ConvSpec<aiter_swa::bf16_t, 4, true, false, 256, 4, 4, true>>(P)"
    rows = [f'"{i}","{name}","(29, 256, 1)","gpu__time_duration.sum","ns","{t}"' for i, t in enumerate(["74,000", "76,000", "75,000"])]
    rows += [f'"0","{name}","(29, 256, 1)","dram__bytes_read.sum","Mbyte","117.84"',
             f'"0","{name}","(29, 256, 1)","smsp__inst_executed.sum","furlong","3"']  # fmt: skip
    path = tmp_path / "ncu.csv"
    path.write_text("==PROF== Connected\n" + "\n".join([head, *rows]) + "\n")
    assert ncu_summary.main([str(path)]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("bf16_t,4,true,false,256,4,4,true"))
    assert line.split()[5:7] == ["75.00", "117.84"], line  # median µs, MB (after the name, the grid "(29, 256, 1)" and n)
    assert "left out (unit 'furlong'" in out and "smsp__inst_executed.sum" in out


@pytest.mark.parametrize("layout,want", [("channel_last", [{"cl_run": 8}, {"walk": 1}]),
                                         ("channel_first", [{"walk": 1}, {"cf_rows": 2}])])  # fmt: skip
def test_variants_walk_in_either_layout(monkeypatch, capsys, layout, want):
    """``--variants``: walk=1 is a variant of both layouts (run_gpu_suite.sh passes it to each); cl_run
    channel-last only, cf_rows channel-first only (the others are dropped for the layout)."""
    _stand_in_gpu(monkeypatch)
    asked = []

    def recording_variant(tuning):
        asked.append(tuning)

        def make(inp, activation, peer):
            return bench.Impl("aiter_swa[" + ",".join(f"{k}={v}" for k, v in tuning.items()) + "]",
                              lambda: inp["x"])  # fmt: skip

        make.__name__ = "ours_variant"
        return make

    monkeypatch.setattr(bench, "ours_variant", recording_variant)
    bench.main(["--lens", "64,5,1", "--dim", "16", "--dtype", "fp32", "--peer-dir", "", "--layout", layout,
                "--variants", "cl_run=8;walk=1;cf_rows=2"])  # fmt: skip
    capsys.readouterr()
    assert asked == want
