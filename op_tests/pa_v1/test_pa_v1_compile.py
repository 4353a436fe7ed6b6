"""Compile a representative set of real paged-attention specializations for gfx942 and sm_90 (CPU only).

All of them go through one ninja (the pre-build, ``$AITER_SWA_MAX_JOBS`` or all CPUs in parallel),
then load through ``get_launcher`` from that pre-built dir. Checks: every kernel reports zero scratch
and zero spills; the module's SPEC_JSON matches; ``launch`` returns at once for ``num_seqs == 0``;
on a machine without that GPU, a real launch raises RuntimeError carrying the runtime's message.
One gfx942 spec also goes through the JIT cache path (first-call compile and its log line).
"""

from __future__ import annotations

import logging

import pytest

from aiter_swa.jit import loader, resources
from aiter_swa.ops.pa_v1 import gpu
from aiter_swa.ops.pa_v1.spec import LAUNCH, PaV1Spec, fp8_format_for_arch
from testlib.jit import JIT_ENV, assert_all_built, gpu_visible, toolchain_problem
from testlib.pa_v1 import call_raw, null_launch_args

#             dtype  head  gqa  swa    cap    alibi
REPRESENTATIVE = [
    ("fp16", 128, 8, True, False, False),   # the common case: GQA 8, window
    ("bf16", 64, 1, False, False, False),   # MHA, no window
    ("bf16", 256, 16, True, True, True),    # every flag, the largest GQA bucket
    ("fp16", 80, 4, True, True, False),     # an odd head size
    ("bf16", 192, 2, False, False, True),   # ALiBi without window
    ("fp16", 96, 16, True, False, True),
    ("bf16", 32, 8, True, False, False),    # the smallest head size
    ("bf16", 512, 8, True, True, False),    # the largest head size (2 vectors per lane on 32-lane wavefronts)
]
#              query   KV cache       head  gqa  swa    cap    alibi
FP8_REPRESENTATIVE = [
    ("bf16", "fp8e4m3fnuz", 128, 8, True, False, False),   # MI300's fp8 format, the common case
    ("fp16", "fp8e4m3fn", 512, 8, True, True, True),       # OCP fp8, the largest head size, every flag
    ("bf16", "fp8e4m3fnuz", 32, 16, False, True, False),
]
#           query   KV cache   head  rows  swa    cap    alibi   (the matrix-core kernel, gqa 1)
MMA_REPRESENTATIVE = [
    ("bf16", "bf16", 128, 16, True, False, False),   # GQA <= 16 decode, the common case (sm_90: and its long form)
    ("fp16", "fp16", 64, 64, True, True, True),      # multi-token rows, every flag
    ("bf16", "fp8", 512, 16, False, False, True),    # fp8 KV, the largest head size
    ("fp16", "fp16", 80, 32, True, False, False),    # an odd head size
]
ARCHS = ("gfx942", "sm_90")
#: The rows sm_90 builds too (indices into the lists above). gfx942 builds every row: no AMD GPU runs
#: its code here. sm_90 builds the common cases, the largest head size and the fp8 formats: the GPU
#: machine compiles and runs every sm_90 kernel it tests (nvcc's builds took 55% of this module's 10
#: minutes of CI with all rows on both archs).
SM90_ROWS = {"vector": (0, 7), "fp8": (1,), "mma": (0, 2)}


def _archs(kind, i):
    return [a for a in ARCHS if a != "sm_90" or i in SM90_ROWS[kind]]


SPECS = [PaV1Spec(dt, dt, dt, *row, arch=arch) for i, (dt, *row) in enumerate(REPRESENTATIVE)
         for arch in _archs("vector", i)] + [
    PaV1Spec(q, kv, q, *row, arch=arch) for i, (q, kv, *row) in enumerate(FP8_REPRESENTATIVE) for arch in _archs("fp8", i)
] + [
    PaV1Spec(q, fp8_format_for_arch(arch) if kv == "fp8" else kv, q, hs, 1, swa, cap, alibi, arch=arch, mma_rows=rows)
    for i, (q, kv, hs, rows, swa, cap, alibi) in enumerate(MMA_REPRESENTATIVE) for arch in _archs("mma", i)
]  # fmt: skip


# Launcher arguments by name (the launch contract, aiter_swa/ops/pa_v1/spec.py LAUNCH); null pointers.
LAUNCH_ARGS = null_launch_args()


pytestmark = pytest.mark.toolchain


def _spec_id(s):
    return s.name


def test_all_compile(prebuilt_dir):
    assert_all_built(prebuilt_dir)


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
def test_no_scratch_no_spills(prebuilt_env, spec):
    if toolchain_problem(spec.arch):
        pytest.skip(toolchain_problem(spec.arch))
    res = prebuilt_env[1].get(spec)
    assert res is not None, f"{spec.name} was not built"
    forms = 2 if spec.mma_long else 1  # a spec with the warp split's long form holds both forms' kernels
    assert len(res) == 2 * forms, f"expected the partition and reduce kernels of {forms} form(s), got {sorted(res)}"
    assert resources.spill_problems(res, spec.backend) == []


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
def test_load_and_launch(prebuilt_env, spec):
    if toolchain_problem(spec.arch):
        pytest.skip(toolchain_problem(spec.arch))
    launch = loader.get_launcher(spec)
    assert loader.origin(spec)[0] == "prebuilt"
    assert loader.load_module(spec).SPEC_JSON == spec.to_json()
    assert resources.spill_problems(loader.resources(spec), spec.backend) == []
    assert launch(*LAUNCH.pack(**{**LAUNCH_ARGS, "num_seqs": 0})) is None  # returns before touching the runtime
    assert launch(**{**LAUNCH_ARGS, "num_seqs": 0}) is None  # the contract's names are the pybind11 names
    with pytest.raises(TypeError, match="num_kv_heads"):  # a wrong name is named in the error
        launch(**{k if k != "num_kv_heads" else "num_kv_head": v for k, v in LAUNCH_ARGS.items()})
    # the prepared launcher: the per-plan parameters bound once, the per-call ones on each call
    prepare = loader.load_module(spec).prepare
    per_call = [LAUNCH_ARGS[n] for n in LAUNCH.call_names]
    plan_args = {n: LAUNCH_ARGS[n] for n in LAUNCH.plan_names}
    assert prepare(*LAUNCH.pack_plan(**{**plan_args, "num_seqs": 0}))(*per_call) is None
    assert prepare(**{**plan_args, "num_seqs": 0})(**dict(zip(LAUNCH.call_names, per_call))) is None
    # its C entry point (the fast path's): returns at once for num_seqs == 0, errors come back as text
    call_args = dict(zip(LAUNCH.call_names, per_call))
    assert call_raw(prepare(**{**plan_args, "num_seqs": 0}), **call_args) is None
    assert "grid too large" in call_raw(prepare(**{**plan_args, "num_kv_heads": 70000}), **call_args)
    # the split derived per call from max_context_len (split.h) is gpu.split_values' (Python)
    for mcl in (0, 1, 300, 512, 513, 10**6):
        expected = gpu.split_values(spec, plan_args, mcl)
        assert prepare(**plan_args).derived(mcl) == expected, mcl
    # a buffer for one partition only: the vector kernel's two partitions do not fit (an error before
    # the launch); the matrix-core kernel's split stays within the buffer (one partition)
    small = {**plan_args, "num_seqs": 0, "sliding_window": 0, "workspace_bytes": 0}
    message = call_raw(prepare(**small), **{**call_args, "max_context_len": 512})
    if spec.mma_rows:
        assert message is None and prepare(**small).derived(512)["num_partitions"] == 1
    else:
        assert message is not None and "max_context_len=512 needs " in message, message
        assert message.endswith("workspace bytes, the plan's buffer has 0"), message
    with pytest.raises(TypeError, match="prepare arguments: missing \\['device'\\]"):
        LAUNCH.pack_plan(**{k: v for k, v in plan_args.items() if k != "device"})
    if gpu_visible(spec.backend):
        pytest.skip("a GPU is visible: launching with dummy pointers would really run")
    runtime_words = ("hipError", "no ROCm", "HIP") if spec.backend == "hip" else ("CUDA", "cuda", "driver")
    direct = {**LAUNCH_ARGS, "key_tile": spec.key_tile}  # launch takes the derived values as given
    if spec.mma_rows:  # a key tile of neither form: an error naming it, before the GPU runtime
        with pytest.raises(ValueError, match="key_tile must be"):
            launch(**{**direct, "key_tile": 48})
    for attempt in (lambda: launch(*LAUNCH.pack(**direct)), lambda: prepare(*LAUNCH.pack_plan(**plan_args))(*per_call)):
        with pytest.raises(RuntimeError) as ei:
            attempt()
        msg = str(ei.value)
        assert spec.name in msg
        assert any(w in msg for w in runtime_words), msg
    msg = call_raw(prepare(*LAUNCH.pack_plan(**plan_args)), **call_args)  # the same failure, as text
    assert spec.name in msg and any(w in msg for w in runtime_words), msg


@pytest.mark.skipif(toolchain_problem("gfx942") is not None, reason=str(toolchain_problem("gfx942")))
def test_first_call_compiles_through_the_jit_cache(monkeypatch, tmp_path, caplog):
    for name in JIT_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AITER_SWA_CACHE_DIR", str(tmp_path / "cache"))
    loader._reset_for_tests()
    spec = PaV1Spec("bf16", "bf16", "bf16", 128, 8, True, False, False, arch="gfx942")
    with caplog.at_level(logging.INFO, logger="aiter_swa.jit"):
        launch = loader.get_launcher(spec)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "aiter_swa.jit"]
    assert line.startswith(f"compiled {spec.name} for gfx942 in ") and str(tmp_path / "cache") in line
    assert loader.origin(spec)[0] == "compiled"
    assert resources.spill_problems(loader.resources(spec), "hip") == []
    assert launch(*LAUNCH.pack(**{**LAUNCH_ARGS, "num_seqs": 0})) is None
    loader._reset_for_tests()
