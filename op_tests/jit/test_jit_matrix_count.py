"""The resource table's matrix-instruction column (``jit/resources.py``): ``v_mfma`` in the AMD
disassembly, ``HMMA`` in the NVIDIA SASS, counted per kernel on two tiny kernels of this test, one
with a matrix instruction and one without; ``n/a`` where the disassembler is missing.

The compiles need the toolchains (marked ``toolchain``: skipped with a reason without them); the
NVIDIA count needs ``cuobjdump`` (``AITER_SWA_CUOBJDUMP`` or on PATH / ``$CUDA_HOME/bin``; CUDA 13
pip layouts lack it: Triton's wheel carries one) and is skipped with that reason otherwise.
"""

from __future__ import annotations

import subprocess

import pytest

from aiter_swa.jit import resources, toolchain
from testlib.jit import toolchain_problem

HIP_SOURCE = r"""
#include <hip/hip_runtime.h>
typedef _Float16 half4 __attribute__((ext_vector_type(4)));
typedef float floatx4 __attribute__((ext_vector_type(4)));
extern "C" __global__ void with_matrix(const half4* a, const half4* b, floatx4* c) {
  int i = threadIdx.x;
  c[i] = __builtin_amdgcn_mfma_f32_16x16x16f16(a[i], b[i], c[i], 0, 0, 0);
}
extern "C" __global__ void without_matrix(const float* a, float* c) { int i = threadIdx.x; c[i] = a[i] * 2.0f + 1.0f; }
"""
CUDA_SOURCE = r"""
#include <mma.h>
extern "C" __global__ void with_matrix(const half* a, const half* b, float* c) {
  using namespace nvcuda;
  wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> fa;
  wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::col_major> fb;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> fc;
  wmma::fill_fragment(fc, 0.0f);
  wmma::load_matrix_sync(fa, a, 16);
  wmma::load_matrix_sync(fb, b, 16);
  wmma::mma_sync(fc, fa, fb, fc);
  wmma::store_matrix_sync(c, fc, 16, wmma::mem_row_major);
}
extern "C" __global__ void without_matrix(const float* a, float* c) { int i = threadIdx.x; c[i] = a[i] * 2.0f + 1.0f; }
"""


def test_counts_in_listings():
    """The two listing formats, per function (no toolchain needed)."""
    amd = (
        "k.elf:\tfile format elf64-amdgpu\n\nDisassembly of section .text:\n\n"
        "0000000000001900 <with_matrix>:\n\ts_load_dwordx4 s[0:3], s[0:1], 0x0\n"
        "\tv_mfma_f32_16x16x16_f16 v[0:3], v[4:5], v[6:7], v[0:3]\n\tv_mfma_f32_32x32x8_bf16 a[0:15], v[0:1], v[2:3], 0\n"
        "\tv_smfmac_f32_16x16x32_f16 v[0:3], v[4:5], v[6:9], v10\n\ts_endpgm\n\n"
        "0000000000001a00 <without_matrix>:\n\tv_fma_f32 v0, v1, v2, v3 // v_mfma in a comment\n\ts_endpgm\n"
    )
    assert resources.count_matrix_instructions(amd, "hip") == {"with_matrix": 3, "without_matrix": 0}
    nv = (
        "\tcode for sm_90\n\t\tFunction : _Z4withv\n\t.headerflags\t@\"EF_CUDA_SM90\"\n"
        "        /*0160*/                   HMMA.16816.F32 R16, R4.reuse, R12, RZ ;\n"
        "        /*0170*/                   HMMA.16816.F32.BF16 R12, R4, R14, RZ ;\n"
        "\t\tFunction : _Z7withoutv\n        /*0010*/                   FFMA R0, R2, 2, R3 ;\n"
    )
    assert resources.count_matrix_instructions(nv, "cuda") == {"_Z4withv": 2, "_Z7withoutv": 0}


def test_missing_disassembler_reads_na(tmp_path, monkeypatch):
    monkeypatch.setenv("AITER_SWA_LLVM_OBJDUMP", str(tmp_path / "no-such-objdump"))
    monkeypatch.setenv("AITER_SWA_CUOBJDUMP", str(tmp_path / "no-such-cuobjdump"))
    for backend in ("hip", "cuda"):
        assert resources.find_disassembler(backend) is None
        res = resources.add_matrix_counts({"k": {"vgpr": 1}}, tmp_path / "k.so", backend)
        assert res["k"][resources.MATRIX_COLUMN[backend]] == "n/a"
    table = resources.format_table([("spec", "hip", {"k": {"vgpr": 3, "mfma": "n/a"}})])
    assert "mfma" in table.splitlines()[1] and table.splitlines()[3].rstrip().endswith("n/a")


def _compile(arch, source, suffix, tmp_path):
    """Device code of ``source`` for ``arch``, compiled as the JIT compiles (``Toolchain.shell_command``)."""
    tc = toolchain.find_toolchain(toolchain.backend_of(arch))
    (tmp_path / f"k.{suffix}").write_text(source)
    out = "k.o" if arch.startswith("gfx") else "k.cubin"
    cmd = tc.shell_command(arch, f"k.{suffix}", out, [], device_only=True)
    r = subprocess.run(cmd, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return tc, tmp_path / out


@pytest.mark.toolchain
@pytest.mark.parametrize("arch", ["gfx942", "gfx90a"])
def test_amd_kernels_with_and_without_mfma(tmp_path, arch):
    if toolchain_problem(arch):
        pytest.skip(toolchain_problem(arch))
    tc, obj = _compile(arch, HIP_SOURCE, "hip", tmp_path)
    tool = resources.find_disassembler("hip", tc.compiler)
    if tool is None:
        pytest.skip("no llvm-objdump found (set AITER_SWA_LLVM_OBJDUMP)")
    counts = resources.matrix_counts(obj, "hip", tool)
    assert counts is not None and counts["with_matrix"] >= 1 and counts["without_matrix"] == 0, counts
    res = resources.add_matrix_counts({"with_matrix": {}, "without_matrix": {}}, obj, "hip", tool)
    assert res["without_matrix"]["mfma"] == 0 and res["with_matrix"]["mfma"] == counts["with_matrix"]


@pytest.mark.toolchain
def test_nvidia_kernels_with_and_without_hmma(tmp_path):
    if toolchain_problem("sm_90"):
        pytest.skip(toolchain_problem("sm_90"))
    tool = resources.find_disassembler("cuda")
    if tool is None:
        pytest.skip("no cuobjdump found (set AITER_SWA_CUOBJDUMP; Triton's wheel has triton/backends/nvidia/bin/cuobjdump)")
    _, cubin = _compile("sm_90", CUDA_SOURCE, "cu", tmp_path)
    counts = resources.matrix_counts(cubin, "cuda", tool)
    assert counts is not None and counts["with_matrix"] >= 1 and counts["without_matrix"] == 0, counts
