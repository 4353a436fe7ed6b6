"""The first-use self-check of the causal_conv1d GPU kernels (``aiter_swa/ops/causal_conv1d/selfcheck.py``),
on the CPU: the CPU path stands in for the kernel (``selfcheck.run_kernel`` runs the op on the case's
device), and a monkeypatched kernel that writes a deliberately wrong result exercises the failure
path. The same check through the real kernels runs in ``test_causal_conv1d_gpu.py``.
"""

from __future__ import annotations

import logging

import pytest
import torch

from aiter_swa.ops.causal_conv1d import gpu, selfcheck
from aiter_swa.ops.causal_conv1d.call import validate_fwd, validate_update
from aiter_swa.ops.causal_conv1d.spec import CausalConv1dSpec

CPU = torch.device("cpu")


def spec(arch="gfx942", **kw) -> CausalConv1dSpec:
    return CausalConv1dSpec(**{**dict(dtype="bf16", width=4, activation="silu", layout="channel_first", arch=arch), **kw})


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.delenv(selfcheck.ENV, raising=False)
    selfcheck._reset_for_tests()
    yield
    selfcheck._reset_for_tests()


@pytest.fixture
def kernel_runs(monkeypatch):
    """Count the kernel runs; the kernel is the CPU path (the op on CPU tensors)."""
    runs = []
    real = selfcheck.run_kernel

    def counted(kernel, args):
        runs.append(kernel)
        real(kernel, args)

    monkeypatch.setattr(selfcheck, "run_kernel", counted)
    return runs


@pytest.mark.parametrize("kernel", ["fwd", "update"])
@pytest.mark.parametrize(
    "kw", [{}, dict(layout="channel_last"), dict(dtype="fp16", width=2, activation="none"), dict(dtype="fp32", width=3)],
    ids=["bf16-cf", "bf16-cl", "fp16-w2-none", "fp32-w3"],
)  # fmt: skip
def test_passes_once_per_kernel_and_specialization(kernel_runs, kernel, kw):
    s = spec(**kw)
    selfcheck.ensure(kernel, s, CPU)
    assert kernel_runs == [kernel] and (kernel, s) in selfcheck._passed
    selfcheck.ensure(kernel, s, CPU)
    assert len(kernel_runs) == 1, "checked again after it passed"
    selfcheck.ensure(kernel, spec(**{**kw, "arch": "gfx90a"}), CPU)
    assert len(kernel_runs) == 2, "another specialization (arch) gets its own check"
    other = "update" if kernel == "fwd" else "fwd"
    selfcheck.ensure(other, s, CPU)
    assert kernel_runs[-1] == other, "the forward and the update of one specialization are checked separately"


def test_on_for_untested_archs_only_unless_set(kernel_runs, monkeypatch):
    selfcheck.ensure("fwd", spec(arch="sm_90"), CPU)
    assert not kernel_runs
    monkeypatch.setenv(selfcheck.ENV, "1")
    selfcheck.ensure("fwd", spec(arch="sm_90"), CPU)
    assert kernel_runs == ["fwd"]
    monkeypatch.setenv(selfcheck.ENV, "off")
    selfcheck.ensure("update", spec(), CPU)
    assert kernel_runs == ["fwd"]
    monkeypatch.setenv(selfcheck.ENV, "sometimes")
    with pytest.raises(ValueError, match=r"^AITER_SWA_SELF_CHECK: expected 1/on, 0/off or auto \(unset\), got 'sometimes'"):
        selfcheck.ensure("fwd", spec(), CPU)


def test_the_built_in_cases_cover_what_they_claim():
    """Both layouts, a pad, initial states, sequences shorter than the width, two channel groups."""
    for layout in ("channel_first", "channel_last"):
        s = spec(layout=layout)
        c = validate_fwd(*selfcheck.build_fwd_case(s, CPU))
        assert c.dims.layout == layout and c.dims.dim > 256 and c.dims.total_tokens % 2 == 1
        assert (c.cache_indices == selfcheck.PAD_SLOT_ID).sum() == 1 and c.has_initial_state.any()
        assert min(selfcheck.CASE_LENS) == 0 and any(0 < n < s.width for n in selfcheck.CASE_LENS)
        u = validate_update(*selfcheck.build_update_case(s, CPU))
        assert u.dims.seqlen > 1 and (u.conv_state_indices == selfcheck.PAD_SLOT_ID).sum() == 1


def wrong(kernel_change):
    def run(kernel, args):
        getattr(torch.ops.aiter_swa, f"causal_conv1d_{kernel}")(*args)
        kernel_change(kernel, args)

    return run


def _first_written(kernel, args):
    """The index of a written output element (not the padded sequence's), as out[...]."""
    if kernel == "fwd":
        return (5, 0)  # channel 5, token 0: the 1-token sequence (sequence 0 is empty)
    return (0, 5, 1)  # sequence 0, channel 5, token 1


@pytest.mark.parametrize("kernel", ["fwd", "update"])
@pytest.mark.parametrize(
    "change,why",
    [
        (lambda k, a: a[0].nan_to_num_(0.0).add_(0.25), "elements beyond atol"),
        (lambda k, a: a[0][_first_written(k, a)].fill_(float("nan")), "1 non-finite"),
        (lambda k, a: a[0][_first_written(k, a)].add_(0.5), "1 elements beyond atol"),
        (lambda k, a: a[4 if k == "fwd" else 2][0, 7, 0].add_(1.0), "(its new conv states) has 1 elements"),
    ],
    ids=["shifted", "one_nan", "one_element", "one_state"],
)
def test_a_wrong_kernel_result_raises_naming_what_to_do(monkeypatch, kernel, change, why):
    """The failure path: the check compares against a deliberately wrong result."""
    runs = []
    monkeypatch.setattr(selfcheck, "run_kernel", lambda k, args: (runs.append(k), wrong(change)(k, args)))
    s = spec()
    with pytest.raises(selfcheck.SelfCheckError) as info:
        selfcheck.ensure(kernel, s, CPU)
    msg = str(info.value)
    for text in (f"causal_conv1d_{kernel} self-check failed", s.name, "on gfx942", why, "AITER_SWA_SELF_CHECK=0",
                 "on the CPU or another implementation", "Please report it", "python -m aiter_swa.info"):  # fmt: skip
        assert text in msg, (text, msg)
    with pytest.raises(selfcheck.SelfCheckError, match="self-check failed"):  # stays failed, without a rerun
        selfcheck.ensure(kernel, s, CPU)
    assert len(runs) == 1


def test_skipped_with_a_warning_inside_graph_capture(kernel_runs, monkeypatch, caplog):
    monkeypatch.setattr(selfcheck, "_capturing", lambda device: True)
    s = spec()
    with caplog.at_level(logging.WARNING, logger="aiter_swa"):
        selfcheck.ensure("fwd", s, CPU)
        selfcheck.ensure("fwd", s, CPU)
    assert not kernel_runs and caplog.text.count("self-check cannot run there") == 1, "warned once"
    monkeypatch.setattr(selfcheck, "_capturing", lambda device: False)
    selfcheck.ensure("fwd", s, CPU)  # the first use outside a capture runs it
    assert kernel_runs == ["fwd"] and ("fwd", s) in selfcheck._passed


class _Module:
    launch_update = "update launcher"


@pytest.mark.parametrize("layout", ["channel_first", "channel_last"])
def test_the_gpu_dispatch_checks_the_op_kernels_not_the_tuning_variants(monkeypatch, layout):
    """gpu._fwd_plan / gpu._update_plan run the check on the spec they launch (once per metadata key);
    the benchmark's tuning variants are not checked."""
    seen = []
    monkeypatch.setattr(selfcheck, "ensure", lambda kernel, s, device: seen.append((kernel, s)))
    monkeypatch.setattr(gpu.toolchain, "device_arch", lambda index: "gfx942")
    monkeypatch.setattr(gpu.loader, "get_launcher", lambda s: "fwd launcher")
    monkeypatch.setattr(gpu.loader, "load_module", lambda s: _Module)
    s = spec(layout=layout)
    assert gpu._fwd_plan(validate_fwd(*selfcheck.build_fwd_case(s, CPU))).launch == "fwd launcher"
    assert seen == [("fwd", s)]
    variant = {"cl_run": 8} if layout == "channel_last" else {"cf_rows": 2}
    gpu._fwd_plan(validate_fwd(*selfcheck.build_fwd_case(s, CPU)), **variant)
    assert seen == [("fwd", s)]
    assert gpu._update_plan(validate_update(*selfcheck.build_update_case(s, CPU))).launch == "update launcher"
    assert seen[-1] == ("update", spec(layout="channel_first"))  # the update is built in the channel-first module
