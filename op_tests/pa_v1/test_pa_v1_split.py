"""The per-call split of pa_v1 (``max_context_len`` a per-call value): the prepared launcher's C++
rule (``csrc/include/aiter_swa/pa_v1/split.h``) against the Python one (``gpu.split_values``, which
``gpu.launch_values`` and the CPU emulator use), on the CPU.

``split.h`` is compiled with the host C++ compiler into a small library (the launch contract's
``LaunchArgs`` struct generated from ``spec.LAUNCH``, as the emulator does) and called through ctypes.
"""

from __future__ import annotations

import collections
import ctypes
import random
import subprocess

import pytest

from aiter_swa.ops.pa_v1 import gpu
from aiter_swa.ops.pa_v1.spec import (ELEMENT_BYTES, LAUNCH, MMA_LONG_KEY_TILE, MMA_LONG_MIN_PARTITION_KEYS,
                                      MMA_LONG_WORKGROUPS_PER_SM, MMA_ROWS, PARTITION_SIZE, SUPPORTED_HEAD_SIZES,
                                      PaV1Spec, mma_rows_fit)  # fmt: skip
from testlib.pa_v1_mma import ROOT, LaunchArgs, _launch_args_header, host_compiler

DRIVER = r"""
#include <cstdint>
#include "launch_args.h"
#include "aiter_swa/pa_v1/split.h"
extern "C" void split(const LaunchArgs* a, int64_t head_size, int64_t out_bytes, int64_t rows, int64_t key_tile,
                      int64_t vector_partition_size, int64_t target_per_cu, double min_wave_fill,
                      int64_t min_partition_keys, int64_t saturating_per_cu, int64_t kv_bytes,
                      int64_t max_wave_partition_bytes, int64_t long_key_tile, int64_t long_target_per_cu,
                      int64_t long_min_partition_keys, int64_t* out) {
  const aiter_swa::pa_v1::Split s = aiter_swa::pa_v1::split_for(*a, head_size, out_bytes, rows, key_tile,
                                                                vector_partition_size, target_per_cu, min_wave_fill,
                                                                min_partition_keys, saturating_per_cu, kv_bytes,
                                                                max_wave_partition_bytes, long_key_tile,
                                                                long_target_per_cu, long_min_partition_keys);
  const int64_t v[] = {s.max_context_len, s.num_partitions, s.partition_size, s.exp_sums_offset,
                       s.max_logits_offset, s.tmp_out_offset, s.workspace_bytes, s.key_tile};
  for (int i = 0; i < 8; ++i) out[i] = v[i];
}
"""
FIELDS = ("max_context_len", "num_partitions", "partition_size", "exp_sums_offset", "max_logits_offset",
          "tmp_out_offset", "workspace_bytes", "key_tile")  # fmt: skip


@pytest.fixture(scope="module")
def split_lib(tmp_path_factory):
    cxx = host_compiler()
    if cxx is None:
        pytest.skip("no host C++ compiler (clang++ or g++)")
    d = tmp_path_factory.mktemp("split")
    (d / "launch_args.h").write_text(_launch_args_header())
    (d / "split.cpp").write_text(DRIVER)
    so = d / "split.so"
    r = subprocess.run([cxx, "-std=c++20", "-O1", "-fPIC", "-shared", f"-I{d}", f"-I{ROOT / 'csrc' / 'include'}",
                        str(d / "split.cpp"), "-o", str(so)], capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    lib = ctypes.CDLL(str(so))
    lib.split.argtypes = ([ctypes.POINTER(LaunchArgs)] + [ctypes.c_int64] * 6
                          + [ctypes.c_double] + [ctypes.c_int64] * 7 + [ctypes.POINTER(ctypes.c_int64)])  # fmt: skip
    return lib


def cpp_split(lib, spec: PaV1Spec, plan: dict, max_context_len: int) -> dict:
    a = LaunchArgs(**{p.name: 0 for p in LAUNCH.params})
    for name, value in plan.items():
        setattr(a, name, value)
    a.max_context_len = max_context_len
    out = (ctypes.c_int64 * len(FIELDS))()
    v = spec.extra_template_vars()  # what pa_v1.cpp.jinja renders into its split_for call
    lib.split(ctypes.byref(a), spec.head_size, ELEMENT_BYTES[spec.out_dtype], spec.mma_rows, v["key_tile"],
              v["partition_size"], v["mma_target_per_cu"], float(v["mma_min_wave_fill"]), v["mma_min_partition_keys"],
              v["mma_saturating_per_cu"], ELEMENT_BYTES[spec.kv_dtype], v["mma_max_wave_partition_bytes"],
              v["long_key_tile"], v["long_min_workgroups_per_sm"], v["long_min_partition_keys"], out)  # fmt: skip
    return dict(zip(FIELDS, out))


def random_plan(rng: random.Random, mma: bool) -> tuple:
    """A spec and a consistent per-plan value set (sizes as validation admits them)."""
    head_size = rng.choice(SUPPORTED_HEAD_SIZES)
    rows = rng.choice([r for r in MMA_ROWS if mma_rows_fit(head_size, r)]) if mma else 0
    # sm_90 with a bf16 KV cache: the K/V ring (its key tiles and workgroups per SM); fp8: the register
    # path; gfx942: the AMD target per CU
    arch, kv = rng.choice((("sm_90", "bf16"), ("sm_90", "fp8e4m3fn"), ("gfx942", "bf16")))
    spec = PaV1Spec("bf16", kv, rng.choice(("bf16", "fp16")), head_size, 1 if mma else 8,
                    rng.random() < 0.5, False, False, arch=arch, mma_rows=rows)  # fmt: skip
    num_kv_heads = rng.choice((1, 2, 8))
    num_heads = num_kv_heads * rng.choice((1, 2, 4, 7, 16))
    num_seqs = rng.choice((0, 1, 2, 3, 64, 257))
    mtp = rng.choice((1, 2, 4, 9)) if mma else 1
    num_rows = num_seqs * mtp if rng.random() < 0.7 or not mma else rng.choice((0, 1, 5, 300))
    block_size = rng.choice((1, 16, 32, 272))
    max_blocks = rng.choice((1, 2, 9, 64, 1024))
    window = rng.choice((0, -5, 1, 3, 128, 255, 256, 257, 4096, 2**31 - 1, 2**63 - 1))
    # buffers: none, aiter's sizing for some context, anything
    per_part = num_rows * num_heads * (8 + head_size * ELEMENT_BYTES[spec.out_dtype])
    workspace = rng.choice((0, 1, per_part, 2 * per_part, 7 * per_part + 5, rng.randrange(1 << 30)))
    plan = dict(num_seqs=num_seqs, num_heads=num_heads, num_kv_heads=num_kv_heads, sliding_window=window,
                block_size=block_size, mtp=mtp, num_query_rows=num_rows, max_blocks_per_seq=max_blocks,
                workspace_bytes=workspace, num_cus=rng.choice((0, 1, 78, 132, 304)))  # fmt: skip
    return spec, plan


@pytest.mark.parametrize("mma", [False, True], ids=["vector", "mma"])
def test_cpp_split_equals_python(split_lib, mma):
    rng = random.Random(7 + mma)
    forms = collections.Counter()  # (spec has the long form, the key tile that runs)
    for _ in range(3000):
        spec, plan = random_plan(rng, mma)
        cap = plan["max_blocks_per_seq"] * plan["block_size"]
        for mcl in {0, 1, rng.randrange(cap + 1), cap, cap + 1, 2**31 - 1, -3}:
            py = gpu.split_values(spec, plan, mcl)
            got = cpp_split(split_lib, spec, plan, mcl)
            assert {k: got[k] for k in py} == py, (spec.name, plan, mcl)
            assert py["partition_size"] % max(1, py["key_tile"]) == 0, (spec.name, py)
            forms[spec.mma_long, py["key_tile"]] += 1
            if py["num_partitions"] > 1:  # the bytes it needs: workspace.layout's total
                assert got["workspace_bytes"] == py["tmp_out_offset"] + (py["tmp_out_offset"] // 8) * spec.head_size * (
                    ELEMENT_BYTES[spec.out_dtype])
            else:
                assert got["workspace_bytes"] == 0
    if mma:  # both forms of the specs that have the long form were drawn
        assert forms[True, MMA_LONG_KEY_TILE] and forms[True, 32], forms


# (num_seqs, num_heads, num_kv_heads, max_context_len, window) -> (key tile, partitions): the benchmark's head-128
# rows on an H200 (132 SMs), bf16, mtp 1 (docs/results.md, 2026-12-03 12:27 UTC session, call 1)
LONG_FORM_ROWS = [
    ((32, 32, 8, 16384, 0), (MMA_LONG_KEY_TILE, 1)),  # Mistral batch 32, no window: one partition of 16K keys
    ((32, 32, 8, 16384, 4096), (MMA_LONG_KEY_TILE, 1)),  # window 4096
    ((8, 32, 4, 9216, 8192), (MMA_LONG_KEY_TILE, 8)),  # the seed shape: 8 partitions of 1024 keys
    ((1, 32, 8, 32768, 4096), (32, 32)),  # batch 1: 32 partitions of 128 keys (the long form's would be 128 too)
]


@pytest.mark.parametrize("shape,expect", LONG_FORM_ROWS)
def test_long_form_choice(split_lib, shape, expect):
    """A spec with the long form (spec.mma_long_form: sm_90, head 128 x 16 rows) runs it where its split's
    partitions hold at least MMA_LONG_MIN_PARTITION_KEYS keys, else its own 32-key form, in Python and C++."""
    num_seqs, heads, kv_heads, mcl, window = shape
    spec = PaV1Spec("bf16", "bf16", "bf16", 128, 1, window > 0, False, False, arch="sm_90", mma_rows=16)
    assert spec.mma_long and spec.key_tile == 32
    plan = dict(num_seqs=num_seqs, num_heads=heads, num_kv_heads=kv_heads, sliding_window=window, block_size=16,
                mtp=1, num_query_rows=num_seqs, max_blocks_per_seq=-(-mcl // 16), workspace_bytes=1 << 30,
                num_cus=132)  # fmt: skip
    py = gpu.split_values(spec, plan, mcl)
    assert (py["key_tile"], py["num_partitions"]) == expect, py
    assert (py["key_tile"] == MMA_LONG_KEY_TILE) == (py["partition_size"] >= MMA_LONG_MIN_PARTITION_KEYS), py
    got = cpp_split(split_lib, spec, plan, mcl)
    assert {k: got[k] for k in py} == py
    assert spec.mma_form(py["key_tile"])["target_per_cu"] == (MMA_LONG_WORKGROUPS_PER_SM if expect[0] == 64 else 4)


def test_long_form_only_where_two_fit():
    """The long form needs two of its workgroups in an SM's shared memory: sm_90 yes, sm_80 / sm_86 and AMD no;
    heads other than 128, 32 rows and fp8 caches (no warp split) never; an unknown key tile is an error."""
    def spec(arch, head_size=128, rows=16, kv="bf16"):
        return PaV1Spec("bf16", kv, "bf16", head_size, 1, True, False, False, arch=arch, mma_rows=rows)

    assert spec("sm_90").mma_long
    assert not any(spec(a).mma_long for a in ("sm_80", "sm_86", "sm_89", "gfx942", "gfx90a"))
    assert not spec("sm_90", head_size=64).mma_long and not spec("sm_90", rows=32).mma_long
    assert not spec("sm_90", kv="fp8e4m3fn").mma_long
    with pytest.raises(ValueError, match="key_tile: expected 32 or 64, got 16"):
        spec("sm_90").mma_form(16)
    with pytest.raises(ValueError, match="key_tile: expected 32, got 64"):
        spec("sm_80").mma_form(64)


def test_cpp_split_saturates(split_lib):
    """Absurd sizes (never validated, but a launcher may be called directly): no overflow, and a
    saturated byte count is larger than any buffer."""
    spec = PaV1Spec("bf16", "bf16", "bf16", 512, 8, False, False, False, arch="sm_90")
    plan = dict(num_seqs=1, num_heads=2**40, num_kv_heads=1, sliding_window=0, block_size=2**40, mtp=1,
                num_query_rows=2**40, max_blocks_per_seq=2**40, workspace_bytes=2**62, num_cus=132)  # fmt: skip
    got = cpp_split(split_lib, spec, plan, 2**31 - 1)
    assert got["max_context_len"] == 2**31 - 1 and got["num_partitions"] == -(-(2**31 - 1) // PARTITION_SIZE)
    assert got["workspace_bytes"] == 2**63 - 1


def test_launch_values_use_split_values():
    """launch_values' derived values are split_values' of its plan (one rule in Python)."""
    import torch

    from aiter_swa.ops.pa_v1.call import validate

    q = torch.zeros(3, 8, 64, dtype=torch.bfloat16)
    kv = torch.zeros(40, 2, 16, 64, dtype=torch.bfloat16)
    bt = torch.zeros(3, 12, dtype=torch.int32)
    cl = torch.zeros(3, dtype=torch.int32)
    ws = torch.empty(1 << 20, dtype=torch.uint8)
    for mcl in (0, 100, 192):
        call = validate(torch.empty_like(q), ws, q, kv, kv, 0.1, bt, None, cl, mcl, None, "auto", "HND", 0.0, cl, cl)
        for kernel in ("vector", "mma"):
            spec, values = gpu.launch_values(call, "sm_90", 132, kernel)
            plan = {n: values[n] for n in LAUNCH.plan_names}
            assert {k: values[k] for k in LAUNCH.derived_names} == {
                k: v for k, v in gpu.split_values(spec, plan, mcl).items() if k != "max_context_len"}
            assert values["max_context_len"] == mcl


# ---------------------------------------------------------------- the kernel choice (spec.choose_kernel)
@pytest.mark.parametrize("arch", ["sm_90", "gfx942", "gfx90a", "sm_80"])
@pytest.mark.parametrize("gqa", [1, 2, 4, 7, 8, 16])
def test_one_token_kernel_choice(arch, gqa):
    """One query row per sequence: the matrix-core kernel at GQA >= 8 on the measured arch (sm_90), the
    vector kernel elsewhere; the env override wins either way; several rows always the matrix-core one."""
    from aiter_swa.ops.pa_v1.spec import MMA_ONE_TOKEN_ARCHS, MMA_ONE_TOKEN_MIN_GQA, choose_kernel

    expect = "mma" if arch in MMA_ONE_TOKEN_ARCHS and gqa >= MMA_ONE_TOKEN_MIN_GQA else "vector"
    assert choose_kernel(gqa, 1, False, arch) == expect
    assert (arch, gqa) != ("sm_90", 8) or expect == "mma"  # the measured case is on the matrix-core kernel
    assert choose_kernel(gqa, 1, False, arch, "vector") == "vector"
    assert choose_kernel(gqa, 1, False, arch, "mma") == "mma"
    assert choose_kernel(gqa, 2, False, arch) == "mma" and choose_kernel(gqa, 1, True, arch) == "mma"
    with pytest.raises(NotImplementedError, match="AITER_SWA_PA_KERNEL=vector"):
        choose_kernel(gqa, 2, False, arch, "vector")


@pytest.mark.parametrize("arch", ["sm_90", "gfx942"])
@pytest.mark.parametrize("pairs", [0, 1, 8, 9, 32, 512])
def test_one_token_kernel_choice_by_batch(arch, pairs):
    """One query row per sequence at GQA 4: the matrix-core kernel on sm_90 when at most
    MMA_ONE_TOKEN_MAX_PAIRS (sequence, KV head) pairs (batch 1 with 8 KV heads), the vector kernel with
    more, with the count unknown (0) and on the unmeasured archs; the env override wins."""
    from aiter_swa.ops.pa_v1.spec import MMA_ONE_TOKEN_ARCHS, MMA_ONE_TOKEN_MAX_PAIRS, choose_kernel

    assert MMA_ONE_TOKEN_MAX_PAIRS >= 8  # Mistral / gpt-oss batch 1 (8 KV heads): the measured case
    small = 0 < pairs <= MMA_ONE_TOKEN_MAX_PAIRS
    assert choose_kernel(4, 1, False, arch, "auto", pairs) == ("mma" if small and arch in MMA_ONE_TOKEN_ARCHS else "vector")
    assert choose_kernel(4, 1, False, arch, "vector", pairs) == "vector"


@pytest.mark.parametrize("arch", ["sm_90", "gfx942"])
@pytest.mark.parametrize("gqa", [2, 3, 4, 7])
@pytest.mark.parametrize("warp_kv", [False, True])
def test_one_token_kernel_choice_on_the_warp_split(arch, gqa, warp_kv):
    """One query row per sequence at a large batch: the matrix-core kernel on sm_90 when the warp split
    serves it at GQA >= MMA_WARP_KV_MIN_GQA (Mistral: the measured case), else the vector kernel; the env
    override wins."""
    from aiter_swa.ops.pa_v1.spec import MMA_ONE_TOKEN_ARCHS, MMA_WARP_KV_MIN_GQA, choose_kernel

    assert MMA_WARP_KV_MIN_GQA == 4  # Mistral (GQA 4): the measured case
    split = warp_kv and gqa >= MMA_WARP_KV_MIN_GQA and arch in MMA_ONE_TOKEN_ARCHS
    assert choose_kernel(gqa, 1, False, arch, "auto", 256, warp_kv) == ("mma" if split else "vector")
    assert choose_kernel(gqa, 1, False, arch, "vector", 256, warp_kv) == "vector"


@pytest.mark.parametrize("head_size, kv_dtype, window, table_tokens, expect", [
    (128, "bf16", 0, 16384, "mma"), (128, "bf16", 4096, 16384, "mma"), (128, "bf16", 1024, 1024, "mma"),
    (128, "fp16", 0, 1024, "mma"), (64, "bf16", 4096, 131072, "mma"),
    (96, "bf16", 4096, 16384, "vector"), (256, "bf16", 0, 16384, "vector"), (128, "fp8e4m3fn", 4096, 16384, "vector"),
])  # fmt: skip
def test_one_token_spec_follows_the_warp_split(head_size, kv_dtype, window, table_tokens, expect):
    """gpu.spec_for at GQA 4, 32 sequences, on sm_90: the matrix-core spec wherever the warp split serves
    the call (heads 64 and 128 with a 16-bit KV cache of the query's type), whatever the window and the
    block table; the vector spec for other heads and for an fp8 cache; gfx942 keeps the vector kernel."""
    import torch

    from aiter_swa.ops.pa_v1.call import validate
    from testlib.pa_v1 import make_case, widen_block_table

    dtype = torch.float16 if kv_dtype == "fp16" else torch.bfloat16
    kv = torch.float8_e4m3fn if kv_dtype == "fp8e4m3fn" else None
    case = make_case(num_seqs=32, num_heads=8, num_kv_heads=2, head_size=head_size, block_size=16, context_lens=[40] * 32,
                     dtype=dtype, device="cpu", sliding_window=window, kv_dtype=kv)  # fmt: skip
    widen_block_table(case, table_tokens // 16)
    call = validate(*case.op_args(torch.empty_like(case.query), case.workspace()))
    spec = gpu.spec_for(call, "sm_90", "auto")
    assert ("mma" if spec.mma_rows else "vector") == expect, spec
    assert gpu.spec_for(call, "gfx942", "auto").mma_rows == 0  # no rule on unmeasured archs


def test_one_token_spec_follows_the_choice():
    """gpu.spec_for builds a matrix-core spec (gqa 1, mma_rows > 0) for a GQA-8 one-token call on sm_90
    and a vector spec (its GQA bucket, mma_rows 0) on gfx942."""
    import torch

    from aiter_swa.ops.pa_v1.call import validate
    from testlib.pa_v1 import make_case

    case = make_case(num_seqs=2, num_heads=16, num_kv_heads=2, head_size=64, block_size=16, context_lens=[5, 40],
                     dtype=torch.bfloat16, device="cpu", sliding_window=16)  # fmt: skip
    call = validate(*case.op_args(torch.empty_like(case.query), case.workspace()))
    on_nvidia, on_amd = gpu.spec_for(call, "sm_90", "auto"), gpu.spec_for(call, "gfx942", "auto")
    assert on_nvidia.mma_rows == 16 and on_nvidia.gqa == 1
    assert on_amd.mma_rows == 0 and on_amd.gqa == 8


@pytest.mark.parametrize("arch", ["sm_90", "sm_80", "sm_86", "gfx942"])
@pytest.mark.parametrize("head_size", [64, 128, 256])
@pytest.mark.parametrize("rows_needed", [1, 8, 16, 17, 24, 32, 33, 64])
def test_warp_split_rows(arch, head_size, rows_needed):
    """The rows of a matrix-core workgroup (spec.mma_rows_for with the warp split, spec.MMA_WARP_KV_ROWS): up to 16
    rows one row group; 17 to 32 (gpt-oss at mtp 4) one workgroup of two row groups sharing its ring, not two
    16-row chunks; more rows as without the warp split. The warp split keeps 16 warps per SM (4 workgroups of 16
    rows, 2 of 32: the launch bound); the split counts as many per SM as also fit the SM's shared memory with
    their stages (and the 1 KiB per workgroup the driver reserves): the bound on sm_80 and sm_90, 2 on sm_86's
    100 KiB."""
    from aiter_swa.ops.pa_v1.spec import (MMA_WARP_KV_ROWS, SMEM_PER_SM, mma_key_tile, mma_rows_for, mma_smem_bytes,
                                          mma_stages, mma_warp_kv, mma_workgroups_per_sm)  # fmt: skip

    warp_kv = mma_warp_kv(arch, "bf16", "bf16", head_size, 16)
    assert warp_kv == (arch.startswith("sm_") and head_size in (64, 128))
    rows = mma_rows_for(head_size, rows_needed, warp_kv)
    if warp_kv and rows_needed <= MMA_WARP_KV_ROWS[-1]:
        assert rows == (16 if rows_needed <= 16 else 32)
    else:
        assert rows == mma_rows_for(head_size, rows_needed, False)
    if mma_warp_kv(arch, "bf16", "bf16", head_size, rows):
        per_sm = mma_workgroups_per_sm(head_size, rows, True, True)
        assert per_sm * rows // 16 * 4 == 16
        kt, stages = mma_key_tile(head_size, rows, True, True), mma_stages(arch, head_size, rows, True)
        # the most stages (up to 3) that fit: sm_90 3; sm_80 (164 KiB) 3 at 32 rows, 2 at 16; sm_86 2
        assert stages == {"sm_90": 3, "sm_80": 3 if rows == 32 else 2, "sm_86": 2}[arch]
        spec = PaV1Spec("bf16", "bf16", "bf16", head_size, 1, True, False, False, arch=arch, mma_rows=rows)
        per_cu = spec.mma_workgroups_per_cu  # the split's wave
        assert per_cu == (2 if arch == "sm_86" else per_sm), spec.name
        assert per_cu * (mma_smem_bytes(head_size, rows, kt, True, True, stages) + 1024) <= SMEM_PER_SM[arch]


@pytest.mark.parametrize("arch", ["sm_80", "sm_86", "sm_89", "sm_90"])
def test_split_wave_is_what_the_sm_holds(arch):
    """The split's workgroups per SM (PaV1Spec.mma_workgroups_per_cu, rendered into the launcher's split as
    mma_target_per_cu) never count more workgroups than the SM's shared memory holds (spec.SMEM_PER_SM, 1 KiB
    reserved each) nor than the launch bound (spec.mma_workgroups_per_sm); on sm_90, where the kernels were
    measured, every matrix-core spec's count is its launch bound."""
    from aiter_swa.ops.pa_v1.spec import SMEM_PER_SM, mma_smem_bytes, mma_workgroups_per_sm

    checked = 0
    for kv in ("bf16", "fp8e4m3fn"):
        for head_size in SUPPORTED_HEAD_SIZES:
            for rows in (r for r in MMA_ROWS if mma_rows_fit(head_size, r)):
                spec = PaV1Spec("bf16", kv, "bf16", head_size, 1, True, False, False, arch=arch, mma_rows=rows)
                bound = mma_workgroups_per_sm(head_size, rows, spec.mma_ring, spec.mma_warp_kv)
                smem = mma_smem_bytes(head_size, rows, spec.key_tile, spec.mma_ring, spec.mma_warp_kv, spec.mma_stages)
                per_cu = spec.mma_workgroups_per_cu
                assert 1 <= per_cu <= bound and per_cu * (smem + 1024) <= SMEM_PER_SM[arch], spec.name
                assert spec.extra_template_vars()["mma_target_per_cu"] == per_cu
                if arch == "sm_90":
                    assert per_cu == bound, spec.name
                checked += 1
    assert checked >= 20


# ---------------------------------------------------------------- op_tests/pa_v1/split_study.py's knobs
def test_split_study_forces_the_partition_count():
    """split_study.py's dry run of the Mistral B1 32K w4096 row (sm_90, 132 SMs): a workspace buffer
    sized for N partitions caps the matrix-core split at N (cap 16 -> 16 partitions, 32 -> 32, at the real
    SM count; 64 -> 32: partitions of at least spec.MMA_MIN_PARTITION_KEYS keys), and below what the op's
    validation admits (16 partitions at window 4096) a smaller SM count given to the plan forces fewer
    (cap 8 -> 8). The study's GPU run relies on both."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import split_study

    cases = split_study.dry_run("mistral B1 32K w4096", (8, 16, 32, 64), "sm_90", 132)
    mma = {c.cap: c for c in cases if c.kernel == "mma"}
    assert {cap: (mma[cap].parts, mma[cap].knob) for cap in (16, 32, 64)} == {16: (16, "ws"), 32: (32, "ws"),
                                                                             64: (32, "ws")}  # fmt: skip
    assert mma[8].parts == 8 and mma[8].knob == f"cus={mma[8].num_cus}" and mma[8].num_cus < 132
    for c in cases:  # each case's workgroups: (sequence, KV head, partition); the sizes tile the window
        assert c.workgroups == 8 * c.parts and c.parts * c.size >= 4096 > (c.parts - 1) * c.size, c
    vector = next(c for c in cases if c.kernel == "vector")
    assert (vector.parts, vector.size) == (16, 256)
    assert len({c.workspace.numel() for c in cases}) == len(cases)  # one plan per case


def test_timeline_stamps_lie_past_the_partials():
    """timeline.py reads the stamps of the kernels built with gpu_call_2026-12-01g_stamps.patch, which write them
    at the end of the partials (stamp_base: tmp_out plus its rows x heads x partitions x head size elements, 8-byte
    aligned), in a buffer of aiter's size: for batch 1's row (sm_90, 132 SMs: 32 partitions) its offset is the
    workspace layout's end, and 16 stamps per partition workgroup and 4 per reduce workgroup fit the buffer."""
    import sys
    from pathlib import Path

    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import split_study
    import timeline
    from aiter_swa.ops.pa_v1 import workspace
    from aiter_swa.ops.pa_v1.call import validate

    s = split_study.row_inputs("mistral B1 32K w4096", "cpu")[0]
    size = split_study.aiter_workspace_bytes(validate(*s.args))
    call = validate(*split_study.with_workspace(s.args, torch.empty(size, dtype=torch.uint8)))
    d = call.dims
    off, pwgs, rwgs = timeline.stamp_offset(call, "sm_90", 132)
    assert (pwgs, rwgs) == (256, 32)
    end = workspace.layout(d.num_seqs, d.num_heads, d.head_size, 32, call.out.dtype.itemsize)[3]
    assert off == -(-end // 8) * 8 and off + 8 * (16 * pwgs + 4 * rwgs) <= size
