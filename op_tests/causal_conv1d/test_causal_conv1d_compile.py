"""Compile a representative set of real causal_conv1d specializations for gfx942 and sm_90 (CPU only).

All of them go through one ninja (the pre-build), then load through the loader from that pre-built
dir. Checks: both kernels of every module report zero scratch and zero spills; the module's
SPEC_JSON matches; both entry points (``launch``, ``launch_update``) take the launch contracts'
names and return at once with nothing to do; on a machine without that GPU a real launch raises
RuntimeError carrying the runtime's message. The whole matrix for gfx942 and gfx90a is checked with
``python -m aiter_swa.jit.prebuild --op causal_conv1d --arch gfx942 --arch gfx90a --resources-only``.
"""

from __future__ import annotations

import pytest

from aiter_swa.jit import loader, resources
from aiter_swa.ops.causal_conv1d.spec import FWD_LAUNCH, UPDATE_LAUNCH, CausalConv1dSpec
from testlib.jit import assert_all_built, gpu_visible, toolchain_problem

#             dtype  width activation layout
REPRESENTATIVE = [
    ("bf16", 4, "silu", "channel_last"),   # Qwen3-Next / Mamba-2 in vLLM's layout
    ("bf16", 4, "silu", "channel_first"),  # the same, channel-first (the most scalar registers)
    ("fp16", 2, "none", "channel_first"),
    ("fp32", 3, "silu", "channel_last"),
]  # fmt: skip
ARCHS = ("gfx942", "sm_90")
SPECS = [CausalConv1dSpec(*row, arch=arch) for arch in ARCHS for row in REPRESENTATIVE]

FWD_ARGS = dict(
    out=0, x=0, weight=0, bias=0, conv_states=0, query_start_loc=0, cache_indices=0, has_initial_state=0, num_seqs=2,
    dim=256, total_tokens=100, num_cache_lines=4, pad_slot_id=-1, x_stride_dim=1, x_stride_tok=256, w_stride_dim=4,
    w_stride_width=1, s_stride_line=768, s_stride_dim=3, s_stride_tok=1, stream=0,
)  # fmt: skip
UPDATE_ARGS = dict(
    out=0, x=0, weight=0, bias=0, conv_states=0, cache_indices=0, batch=2, dim=256, seqlen=1, num_cache_lines=4,
    pad_slot_id=-1, x_stride_seq=256, x_stride_dim=1, x_stride_tok=1, o_stride_seq=256, o_stride_dim=1,
    o_stride_tok=1, w_stride_dim=4, w_stride_width=1, s_stride_line=768, s_stride_dim=3, s_stride_tok=1, stream=0,
)  # fmt: skip

pytestmark = pytest.mark.toolchain


def test_all_compile(prebuilt_dir):
    assert_all_built(prebuilt_dir)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_no_scratch_no_spills(prebuilt_env, spec):
    if toolchain_problem(spec.arch):
        pytest.skip(toolchain_problem(spec.arch))
    res = prebuilt_env[1].get(spec)
    assert res is not None, f"{spec.name} was not built"
    assert len(res) == 2, f"expected the fwd and update kernels, got {sorted(res)}"
    assert resources.spill_problems(res, spec.backend) == []


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_load_and_launch(prebuilt_env, spec):
    if toolchain_problem(spec.arch):
        pytest.skip(toolchain_problem(spec.arch))
    launch = loader.get_launcher(spec)
    module = loader.load_module(spec)
    assert loader.origin(spec)[0] == "prebuilt"
    assert module.SPEC_JSON == spec.to_json()
    for fn, contract, args, empty in ((launch, FWD_LAUNCH, FWD_ARGS, "total_tokens"),
                                      (module.launch_update, UPDATE_LAUNCH, UPDATE_ARGS, "batch")):  # fmt: skip
        assert fn(*contract.pack(**{**args, empty: 0})) is None  # returns before touching the runtime
        assert fn(**{**args, empty: 0}) is None  # the contract's names are the pybind11 names
        with pytest.raises(TypeError, match="num_cache_lines"):
            fn(**{k if k != "num_cache_lines" else "num_cache_line": v for k, v in args.items()})
        if gpu_visible(spec.backend):
            continue  # dummy pointers would really run
        with pytest.raises(RuntimeError) as ei:
            fn(*contract.pack(**args))
        msg = str(ei.value)
        assert spec.name in msg
        words = ("hipError", "no ROCm", "HIP") if spec.backend == "hip" else ("CUDA", "cuda", "driver")
        assert any(w in msg for w in words), msg
