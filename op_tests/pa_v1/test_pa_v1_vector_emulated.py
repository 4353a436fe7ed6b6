"""The vector pa_v1 kernel's device code (``partition_kernel`` / ``reduce_kernel`` of
csrc/include/aiter_swa/pa_v1/kernel.h), run on the CPU by the emulator, against the float64 reference.

No GPU here: the kernels are compiled by the host C++ compiler against op_tests/testlib/emulator (one
std::thread per GPU thread, barriers for ``__syncthreads`` and the wavefront shuffles) with the
launch values the GPU dispatch computes (``gpu.launch_values(..., "vector")``), for a 32-lane
(``sm_90``) and a 64-lane (``gfx942``) wavefront. It checks the run-time block size's (block, slot)
table (the multiply-shift division of ``BlockDivider``, paged_kv.h), the partition kernel's tiling
and masking, and the reduce (``lse_merge``, lse.h), including partition counts around and past its
chunk of 32; not timing or the vendor compilers (the ``toolchain`` and
``gpu`` tests do those). Every cache slot no key attends is NaN and ``out`` starts as NaN.
"""

from __future__ import annotations

import random

import pytest
import torch

from testlib.pa_v1 import FP8, mismatch
from testlib.pa_v1_mma import Emulator, aiter_workspace, host_compiler, make_mtp_case, mma_call, mtp_reference

ARCHS = ("sm_90", "gfx942")
BLOCK_SIZES = (1, 8, 16, 32, 64, 128, 256, 272, 544)


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    if host_compiler() is None:
        pytest.skip("no host C++ compiler (clang++-19, clang++ or g++)")
    return Emulator(tmp_path_factory.mktemp("pa_v1_vector_emu"))


def _run(emu, m, arch, workspace=None):
    out = torch.full_like(m.case.query, float("nan"))
    ws = aiter_workspace(m) if workspace is None else workspace
    spec, values = emu.run(mma_call(m, out, ws), arch, 4, kernel="vector")
    assert spec.mma_rows == 0
    return out, spec, values


def _check(emu, m, arch, expect_parts=None):
    out, spec, values = _run(emu, m, arch)
    if expect_parts is not None:
        assert values["num_partitions"] == expect_parts, values
    why = mismatch(out, mtp_reference(m))
    assert why is None, f"{spec.name} block {values['block_size']} parts {values['num_partitions']}: {why}"
    return spec, values


def test_block_divider(emu, tmp_path):
    """BlockDivider::block_of (paged_kv.h) is t / d for every block size 1 .. 1100 and large ones,
    at the edges of each block and at the top of the int32 range."""
    m = make_mtp_case(num_seqs=1, mtp=1, num_heads=1, num_kv_heads=1, head_size=64, block_size=16,
                      context_lens=[5], dtype=torch.bfloat16)  # fmt: skip
    _, spec, _ = _run(emu, m, "sm_90")
    lib = emu.lib(spec)
    rng = random.Random(0)
    top = 2**31 - 1
    divisors = list(range(1, 1101)) + [4095, 4097, 65535, 65537, 2**20 + 3, 2**30 - 1, 2**30, 2**30 + 1, top - 1, top]
    bad = []
    for d in divisors:
        ts = {0, 1, d - 1, d, d + 1, 2 * d - 1, 2 * d, top, top - 1, top - d, (top // d) * d, (top // d) * d - 1}
        ts |= {rng.randrange(0, 2**31) for _ in range(20)} | {rng.randrange(0, 40 * d) for _ in range(10)}
        for t in sorted(x for x in ts if 0 <= x <= top):
            got = lib.emu_block_of(d, t)
            if got != t // d:
                bad.append((d, t, got, t // d))
    assert not bad, bad[:10]


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("block_size", BLOCK_SIZES)
def test_vector_block_sizes(emu, block_size, arch):
    """Every block size of issue 9: one partition (window 128, gpt-oss-like GQA 8 at head 64, a
    window starting inside a block) and several partitions with no window (contexts across block and
    partition boundaries), the reduce included."""
    m = make_mtp_case(num_seqs=3, mtp=1, num_heads=8, num_kv_heads=1, head_size=64, block_size=block_size,
                      context_lens=[700, 129, 3], dtype=torch.bfloat16, sliding_window=128, seed=block_size)  # fmt: skip
    _check(emu, m, arch, expect_parts=1)
    m = make_mtp_case(num_seqs=2, mtp=1, num_heads=4, num_kv_heads=2, head_size=128, block_size=block_size,
                      context_lens=[600, 257], dtype=torch.float16, seed=block_size + 1)  # fmt: skip
    _check(emu, m, arch, expect_parts=3)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("sinks", ["random", 40.0], ids=["random", "dominant"])
def test_vector_sinks(emu, sinks, arch):
    """Sinks with one partition (the partition kernel adds them) and with several (the reduce adds
    them once), a context of 0 (zeros), soft cap and ALiBi."""
    for window, lens, parts in [(100, [300, 0, 7], 1), (0, [700, 0, 260], 3)]:
        m = make_mtp_case(num_seqs=3, mtp=1, num_heads=8, num_kv_heads=2, head_size=64, block_size=272,
                          context_lens=lens, dtype=torch.bfloat16, sliding_window=window, sinks=sinks,
                          logits_soft_cap=5.0, alibi=True, seed=parts)  # fmt: skip
        _check(emu, m, arch, expect_parts=parts)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("fmt", ["fn", "fnuz"])
def test_vector_fp8(emu, fmt, arch):
    """fp8 KV (scales != 1) with several partitions and block size 1."""
    m = make_mtp_case(num_seqs=2, mtp=1, num_heads=8, num_kv_heads=2, head_size=64, block_size=1,
                      context_lens=[530, 40], dtype=torch.bfloat16, kv_dtype=FP8[fmt], k_scale=0.37, v_scale=2.5,
                      sinks="random", seed=3)  # fmt: skip
    _check(emu, m, arch, expect_parts=3)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("head_size,parts", [(32, 35), (80, 31), (80, 32), (80, 33), (96, 65)])
def test_vector_reduce_chunks(emu, arch, head_size, parts):
    """Partition counts around the reduce's chunk of 32 (lse_merge, lse.h): past it the chunks rescale
    the running sums (online softmax). The last key (in the last chunk) is planted along head 0's
    query, so the last chunk's max logit is the largest and the earlier chunks' weights must be
    rescaled (skipping that rescale fails this test); with sinks, a large block size. Head size 80: a
    reduce workgroup of 96 threads, the last 16 with no element; 32 on gfx942: half a wavefront."""
    m = make_mtp_case(num_seqs=1, mtp=1, num_heads=2, num_kv_heads=1, head_size=head_size, block_size=544,
                      context_lens=[parts * 256 - 100], dtype=torch.bfloat16, sinks="random", seed=9)  # fmt: skip
    c = m.case
    last = int(c.context_lens[0]) - 1
    block = int(c.block_tables[0, last // 544])
    c.key_cache[block, 0, last % 544] = c.query[0, 0] * 1.5  # HND: [blocks, kv_heads, block_size, head]
    _check(emu, m, arch, expect_parts=parts)


@pytest.mark.parametrize("arch", ARCHS)
def test_vector_bad_block(emu, arch):
    """A bad block id among one sequence's attended keys: NaN in its rows (through the reduce), the
    other sequence exact."""
    m = make_mtp_case(num_seqs=2, mtp=1, num_heads=4, num_kv_heads=1, head_size=64, block_size=32,
                      context_lens=[600, 600], dtype=torch.bfloat16, seed=19)  # fmt: skip
    ref = mtp_reference(m)
    m.case.block_tables[1, 12] = 10**6
    out, _, values = _run(emu, m, arch)
    assert values["num_partitions"] == 3
    assert torch.isnan(out[1].float()).all()
    assert mismatch(out[0], ref[0]) is None
