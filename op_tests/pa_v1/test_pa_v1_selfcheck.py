"""The first-use self-check of the GPU kernels (``aiter_swa/ops/pa_v1/selfcheck.py``), on the CPU:
the CPU path stands in for the kernel (``selfcheck.run_kernel`` runs the op on the case's device),
and a monkeypatched kernel that returns a deliberately wrong result exercises the failure path.
The same check through a real kernel runs in ``test_pa_v1_mtp_gpu.py``.
"""

from __future__ import annotations

import logging

import pytest
import torch

from aiter_swa.ops.pa_v1 import selfcheck
from aiter_swa.ops.pa_v1.call import validate
from aiter_swa.ops.pa_v1.spec import PaV1Spec

CPU = torch.device("cpu")


def spec(arch="gfx942", **kw) -> PaV1Spec:
    fields = dict(q_dtype="bf16", kv_dtype="bf16", out_dtype="bf16", head_size=64, gqa=4, sliding_window=True,
                  soft_cap=True, alibi=True, arch=arch)  # fmt: skip
    return PaV1Spec(**{**fields, **kw})


def first_use(s: PaV1Spec, **case_kw):
    """The validated call of a first use of ``s`` (the built-in case itself, on the CPU)."""
    return validate(*selfcheck.build_case(s, CPU, **case_kw))


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

    def counted(args):
        runs.append(args)
        real(args)

    monkeypatch.setattr(selfcheck, "run_kernel", counted)
    return runs


def test_on_by_default_for_untested_archs_only(monkeypatch):
    assert selfcheck.enabled("gfx942") and selfcheck.enabled("gfx90a") and selfcheck.enabled("sm_80")
    assert not selfcheck.enabled("sm_90")
    assert not selfcheck.enabled("sm_90", "mma")  # the GPU tests have run the matrix-core kernel on sm_90
    assert selfcheck.enabled("gfx942", "mma")  # ... and nowhere on AMD
    monkeypatch.setenv(selfcheck.ENV, "1")
    assert selfcheck.enabled("sm_90")
    monkeypatch.setenv(selfcheck.ENV, "off")
    assert not selfcheck.enabled("gfx942")
    monkeypatch.setenv(selfcheck.ENV, "auto")
    assert selfcheck.enabled("gfx942")
    monkeypatch.setenv(selfcheck.ENV, "sometimes")
    with pytest.raises(ValueError, match=r"^AITER_SWA_SELF_CHECK: expected 1/on, 0/off or auto \(unset\), got 'sometimes'"):
        selfcheck.enabled("gfx942")


@pytest.mark.parametrize(
    "kw,case_kw",
    [
        ({}, {}),
        (dict(q_dtype="fp16", kv_dtype="fp8e4m3fnuz", out_dtype="fp16", head_size=128, gqa=8, sliding_window=False,
              soft_cap=False, alibi=False), dict(kv_cache_layout="NHD")),
        # multi-token calls run the matrix-core kernel (gpu.spec_for): its specs have gqa 1 and the rows
        (dict(head_size=32, gqa=1, mma_rows=16), dict(mtp=3, varlen=True)),
        (dict(head_size=256, gqa=1, mma_rows=16, alibi=False), dict(mtp=2, gqa_ratio=16)),
    ],
    ids=["bf16-swa-cap-alibi", "fp8-NHD", "mtp3-varlen", "mtp2-g16"],
)  # fmt: skip
def test_passes_once_per_specialization(kernel_runs, kw, case_kw):
    s = spec(**kw)
    call = first_use(s, **case_kw)
    selfcheck.ensure(s, call)
    assert len(kernel_runs) == 1 and s in selfcheck._passed
    selfcheck.ensure(s, call)
    selfcheck.ensure(s, first_use(s))
    assert len(kernel_runs) == 1, "checked again after it passed"
    other = spec(**{**kw, "arch": "gfx90a"})
    selfcheck.ensure(other, first_use(other, **case_kw))
    assert len(kernel_runs) == 2, "another specialization (arch) gets its own check"


def test_tested_arch_is_not_checked_unless_forced(kernel_runs, monkeypatch):
    s = spec(arch="sm_90", gqa=2)  # GQA 2: the vector kernel (spec.choose_kernel)
    selfcheck.ensure(s, first_use(s))
    assert not kernel_runs and s not in selfcheck._passed
    monkeypatch.setenv(selfcheck.ENV, "1")
    selfcheck.ensure(s, first_use(s))
    assert len(kernel_runs) == 1 and s in selfcheck._passed


def test_off_for_every_arch(kernel_runs, monkeypatch):
    monkeypatch.setenv(selfcheck.ENV, "0")
    s = spec()
    selfcheck.ensure(s, first_use(s))
    assert not kernel_runs


def wrong_kernel(change):
    def run(args):
        torch.ops.aiter_swa.paged_attention_v1(*args)
        change(args[0])

    return run


@pytest.mark.parametrize(
    "change,why",
    [
        (lambda out: out.add_(0.25), "relative norm error"),
        (lambda out: out[-1, 0, 0].fill_(float("nan")), "non-finite"),
        (lambda out: out[-1, 1, 3].add_(0.05), "1 elements beyond atol"),
    ],
    ids=["shifted", "one_nan", "one_element"],
)
def test_a_wrong_kernel_result_raises_naming_what_to_do(monkeypatch, change, why):
    """The failure path: the check compares against a deliberately wrong result."""
    runs = []
    monkeypatch.setattr(selfcheck, "run_kernel", lambda args: (runs.append(1), wrong_kernel(change)(args)))
    s = spec()
    with pytest.raises(selfcheck.SelfCheckError) as info:
        selfcheck.ensure(s, first_use(s))
    msg = str(info.value)
    for text in (s.name, "on gfx942", why, "AITER_SWA_PA_KERNEL=vector", "AITER_SWA_SELF_CHECK=0", "Please report it",
                 "python -m aiter_swa.info"):  # fmt: skip
        assert text in msg, (text, msg)
    with pytest.raises(selfcheck.SelfCheckError, match="self-check failed"):  # stays failed, without a rerun
        selfcheck.ensure(s, first_use(s))
    assert len(runs) == 1


def test_skipped_with_a_warning_inside_graph_capture(kernel_runs, monkeypatch, caplog):
    monkeypatch.setattr(selfcheck, "_capturing", lambda device: True)
    s = spec()
    with caplog.at_level(logging.WARNING, logger="aiter_swa"):
        selfcheck.ensure(s, first_use(s))
        selfcheck.ensure(s, first_use(s))
    assert not kernel_runs and s not in selfcheck._passed
    assert caplog.text.count("self-check cannot run there") == 1, "warned once"
    monkeypatch.setattr(selfcheck, "_capturing", lambda device: False)
    selfcheck.ensure(s, first_use(s))  # the first use outside a capture runs it
    assert len(kernel_runs) == 1 and s in selfcheck._passed


def test_the_built_in_case_selects_the_specialization_it_checks(monkeypatch):
    from aiter_swa.ops.pa_v1 import gpu

    for kw in ({}, dict(gqa=1, sliding_window=False), dict(kv_dtype="fp8e4m3fn", soft_cap=False, head_size=512),
               dict(arch="sm_90", head_size=96), dict(arch="sm_90", gqa=2, head_size=128)):
        s = spec(**kw)  # sm_90: one-token calls at GQA < 8 off the warp split on the vector kernel unless the batch is small
        assert gpu.spec_for(first_use(s), s.arch) == s
    s = spec(arch="sm_90", gqa=1, mma_rows=16)  # a one-token first call at GQA 4 and batch 1 on sm_90: the matrix-core kernel
    assert gpu.spec_for(first_use(s, gqa_ratio=4), s.arch) == s
    # sm_90, GQA 4, head 64, bf16 cache: the warp split serves every batch (spec.MMA_WARP_KV_MIN_GQA), so a
    # first use of the vector spec comes only with AITER_SWA_PA_KERNEL=vector, which the case then follows too
    s = spec(arch="sm_90")
    assert gpu.spec_for(first_use(s), s.arch).mma_rows == 16
    monkeypatch.setattr(gpu, "KERNEL", "vector")
    assert gpu.spec_for(first_use(s), s.arch) == s
    s = spec(gqa=4)  # a first call at GQA 3 (bucket 4): the case keeps the call's ratio
    call = first_use(s, gqa_ratio=3)
    assert call.dims.gqa_ratio == 3 and gpu.spec_for(call, s.arch) == s
