"""What ``paged_attention_v1`` does with inputs no valid call has (issue 10, findings 2 to 6).

* Metadata the kernel cannot trust (``testlib.pa_v1_hostile``): block ids outside ``[0, num_blocks)``
  inside the attended range give NaN in that sequence's whole ``out`` row, on the CPU and the GPU
  alike, and are never dereferenced; on the GPU each context length is clamped to
  ``[0, max_context_len]`` (the CPU rejects it); ``AITER_SWA_DEBUG_CHECKS=1`` turns both into a
  ValueError naming the argument. Proof that no access leaves the tensors: compute-sanitizer over
  the same cases (``sanitize_pa_v1.py``, docs/results.md).
* Windows beyond int32: exactly no window, on both paths; ``max_context_len`` beyond int32: rejected.
* ``out`` with internal overlap: rejected by name (``test_pa_v1_validation.py`` holds the cases);
  here, the overlap rule itself and that valid strided outputs still pass.
* Non-finite and extreme constants: a soft cap of ``inf`` (or one whose float32 form is infinite) is
  no cap; a large finite cap matches the float64 reference; NaN / tiny caps and scales that float32
  cannot hold are rejected (``test_pa_v1_validation.py``).

Runs on the GPU when torch sees one, else on the CPU path (``device`` fixture).
"""

from __future__ import annotations

import functools
import math
import os
import subprocess
import sys

import pytest
import torch

from aiter_swa._checks import has_internal_overlap
from aiter_swa.ops.pa_v1 import debug_checks
from aiter_swa.ops.pa_v1.call import ARG_NAMES, F32_MIN_NORMAL, F32_OVERFLOW, soft_cap_enabled
from testlib.pa_v1 import assert_matches_reference, make_case, run_op
from testlib.pa_v1_hostile import hostile_cases, run_hostile

HOSTILE_NAMES = [h.name for h in hostile_cases("cpu")]


@functools.lru_cache(maxsize=2)
def _hostile(device: str) -> dict:
    """The hostile cases on ``device`` by name, built once per device (the tests do not modify them)."""
    return {h.name: h for h in hostile_cases(device)}


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_metadata(device, name):
    """The contract of each hostile case: NaN rows for bad block ids, clamped (GPU) or rejected (CPU)
    context lengths, garbage outside the attended blocks ignored, huge windows = no window."""
    h = _hostile(device)[name]
    assert run_hostile(h) == []


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_metadata_debug_checks(device, name):
    """With the debug checks on, each hostile case raises ValueError naming the argument before
    anything is written; each valid one runs as without them."""
    h = _hostile(device)[name]
    assert run_hostile(h, debug=True) == []


def test_debug_checks_message():
    h = _hostile("cpu")["block_id_-1_last_split_k"]
    out = torch.full_like(h.case.query, float("nan"))
    debug_checks.ENABLED, saved = True, debug_checks.ENABLED
    try:
        with pytest.raises(ValueError) as info:
            torch.ops.aiter_swa.paged_attention_v1(*h.case.op_args(out, h.case.workspace()))
    finally:
        debug_checks.ENABLED = saved
    num_blocks = h.case.key_cache.shape[0]
    assert str(info.value) == (
        f"block_tables: expected block ids in [0, num_blocks={num_blocks}) (key_cache.shape[0]) in the entries "
        f"that hold attended keys, got -1 at block_tables[1, 62] (1 such entry)"
    )


def test_debug_checks_env_var():
    """AITER_SWA_DEBUG_CHECKS is read once, at import: set, the checks are on; unset or 0, off."""
    code = "import aiter_swa; from aiter_swa.ops.pa_v1 import debug_checks; print(debug_checks.ENABLED)"
    seen = {}
    for value in ("1", "0", None):
        env = {k: v for k, v in os.environ.items() if k != debug_checks.ENV}
        if value is not None:
            env[debug_checks.ENV] = value
        seen[value] = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                     check=True).stdout.strip()  # fmt: skip
    assert seen == {"1": "True", "0": "False", None: "False"}


@pytest.mark.gpu
def test_debug_checks_off_do_not_synchronise():
    """Off (the default), the debug checks add no host-device sync: the call runs under sync debug "error"."""
    from testlib import no_host_sync

    h = _hostile("cuda")["block_id_-1_last_split_k"]
    out = torch.full_like(h.case.query, float("nan"))
    args = h.case.op_args(out, h.case.workspace())
    torch.ops.aiter_swa.paged_attention_v1(*args)  # load the kernel outside the checked region
    assert not debug_checks.ENABLED
    with no_host_sync():
        torch.ops.aiter_swa.paged_attention_v1(*args)
    assert bool(out[1].isnan().all()) and not bool(out[0].isnan().any())


# ---------------------------------------------------------------- windows and lengths beyond int32
@pytest.mark.parametrize("window", [2**32 + 5, 2**31, 2**63 - 1, -(2**32) + 5, -(2**63)])
def test_window_beyond_int32_is_no_window(device, window):
    """A window that int32 cannot hold attends the whole context (or, <= 0, is off), on both paths:
    the GPU saturates it (exact, contexts are int32) instead of truncating 2^32 + 5 to 5."""
    case = make_case(num_seqs=2, num_heads=8, num_kv_heads=2, head_size=64, block_size=16, context_lens=[700, 9],
                     dtype=torch.bfloat16, device=device, seed=3)  # fmt: skip
    ref = case.reference()  # no window
    case.sliding_window = window
    assert_matches_reference(run_op(case), ref, f"window {window}")


def test_max_context_len_beyond_int32_is_rejected():
    """max_context_len is an int32 bound: above 2^31 - 1 it is a ValueError naming it. Metadata only:
    on meta tensors, so no block table of 2^27 columns (nor its workspace) is allocated."""
    case = make_case(num_seqs=1, num_heads=8, num_kv_heads=2, head_size=64, block_size=16, context_lens=[5],
                     dtype=torch.bfloat16, seed=0)  # fmt: skip
    big = 2**31
    args = dict(zip(ARG_NAMES, case.op_args(torch.empty_like(case.query), case.workspace())))
    args = {k: v.to("meta") if isinstance(v, torch.Tensor) else v for k, v in args.items()}
    args.update(max_context_len=big, block_tables=torch.zeros(1, big // 16, dtype=torch.int32, device="meta"))
    with pytest.raises(ValueError, match=rf"^max_context_len: expected an int >= 0 and <= 2147483647 .*, got {big}$"):
        torch.ops.aiter_swa.paged_attention_v1(*args.values())
    args["max_context_len"] = big - 1  # the largest accepted; then the workspace is what is missing
    with pytest.raises(ValueError, match=r"^workspace_buffer: expected >= \d+ bytes"):
        torch.ops.aiter_swa.paged_attention_v1(*args.values())


# ---------------------------------------------------------------- out with internal overlap
@pytest.mark.parametrize(
    "shape,stride,overlaps",
    [
        ((2, 8, 64), (512, 64, 1), False),  # contiguous
        ((2, 8, 64), (1024, 128, 1), False),  # padded heads
        ((2, 8, 64), (64, 128, 1), False),  # permuted: heads outermost
        ((1, 8, 64), (0, 64, 1), False),  # a size-1 dim's stride does not matter
        ((0, 8, 64), (0, 0, 1), False),  # empty
        ((2, 8, 64), (0, 64, 1), True),  # expanded over sequences
        ((2, 8, 64), (512, 32, 1), True),  # heads sharing half their memory
        ((2, 8, 64), (512, 0, 1), True),  # every head at one address
        ((4, 8, 64), (256, 64, 1), True),  # sequences sharing memory
    ],
)
def test_internal_overlap_rule(shape, stride, overlaps):
    assert has_internal_overlap(shape, stride) is overlaps
    if 0 not in shape:  # torch's own verdict, where it has one (0: no, 1: yes, 2: too hard)
        verdict = torch._debug_has_internal_overlap(torch.empty(4096).as_strided(shape, stride))
        assert verdict == 2 or verdict == int(overlaps)


def test_strided_out_without_overlap_is_accepted(device):
    """A non-dense ``out`` (padded heads, sequences in reverse memory order) is not mistaken for overlap."""
    case = make_case(num_seqs=3, num_heads=8, num_kv_heads=2, head_size=64, block_size=16, context_lens=[40, 300, 7],
                     dtype=torch.bfloat16, device=device, sliding_window=100, seed=4)  # fmt: skip
    big = torch.full((3, 8, 128), float("nan"), dtype=torch.bfloat16, device=device)
    out = big[:, :, 32:96]
    torch.ops.aiter_swa.paged_attention_v1(*case.op_args(out, case.workspace()))
    assert_matches_reference(out, case.reference())
    assert bool(big[:, :, :32].isnan().all()) and bool(big[:, :, 96:].isnan().all()), "wrote outside out"


# ---------------------------------------------------------------- non-finite and extreme constants
def _cap_case(device, cap, alibi=False):
    return make_case(num_seqs=3, num_heads=8, num_kv_heads=2, head_size=64, block_size=16, context_lens=[1, 200, 600],
                     dtype=torch.bfloat16, device=device, sliding_window=300, logits_soft_cap=cap, alibi=alibi,
                     scale=1.0, seed=5)  # fmt: skip


@pytest.mark.parametrize("cap", [float("inf"), 1e39, F32_OVERFLOW, 2.0**128])
@pytest.mark.parametrize("alibi", [False, True])
def test_soft_cap_infinite_in_float32_is_no_cap(device, cap, alibi):
    """``logits_soft_cap = inf``, or a finite cap whose float32 form is infinite, equals no cap (the
    limit of ``c * tanh(x / c)``): bit for bit the output of ``logits_soft_cap = 0``."""
    assert not soft_cap_enabled(cap)
    out = run_op(_cap_case(device, cap, alibi))
    assert torch.equal(out, run_op(_cap_case(device, 0.0, alibi))), f"cap {cap} differs from no cap"
    assert_matches_reference(out, _cap_case(device, 0.0, alibi).reference())


@pytest.mark.parametrize("cap", [3.0e38, 1e30, 1e6, 2.0**-126, 1e-30])
def test_soft_cap_extreme_finite_values_match_reference(device, cap):
    """Finite caps at both ends of float32's normal range follow ``c * tanh(x / c)`` (float64 reference)."""
    assert soft_cap_enabled(cap)
    case = _cap_case(device, cap)
    assert_matches_reference(run_op(case), case.reference(), f"cap {cap}")


def test_float32_thresholds():
    """F32_OVERFLOW is the first double that float32 rounds to inf; F32_MIN_NORMAL float32's smallest normal."""
    as_f32 = lambda x: torch.tensor(x, dtype=torch.float64).float()  # noqa: E731
    assert as_f32(F32_OVERFLOW).isinf() and as_f32(math.nextafter(F32_OVERFLOW, 0)).isfinite()
    assert as_f32(math.nextafter(F32_OVERFLOW, 0)).item() == torch.finfo(torch.float32).max
    assert F32_MIN_NORMAL == torch.finfo(torch.float32).tiny
    assert [soft_cap_enabled(c) for c in (float("nan"), -1.0, 0.0, 1e-39, F32_MIN_NORMAL, 30.0, 3.4e38, F32_OVERFLOW)] == [
        False, False, False, False, True, True, True, False]
