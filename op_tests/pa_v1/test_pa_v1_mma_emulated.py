"""The matrix-core pa_v1 kernel's device code, run on the CPU by the emulator, against the float64 reference.

No GPU here: ``mma_partition_kernel`` / ``mma_reduce_kernel`` of csrc/include/aiter_swa/pa_v1/mma_kernel.h
are compiled by the host C++ compiler against op_tests/testlib/emulator (one std::thread per GPU
thread, barriers for ``__syncthreads`` and the wavefront collectives; the matrix-core fragments of
mma.h are exchanged across the wavefront and multiplied with the emulator's own transcription of the
PTX / AMD layouts), with the launch values the GPU dispatch computes (``gpu.launch_values``), for
both fragment layouts: ``sm_90`` (32 lanes, mma.m16n8k16) and ``gfx942`` (64 lanes, MFMA 16x16x16).
It checks the kernels' tiling, fragment indexing, masking, online softmax, split and reduce; not
timing, memory ordering across workgroups or the vendor compilers (the ``toolchain`` and ``gpu``
tests do those).
"""

from __future__ import annotations

import pytest
import torch

from aiter_swa.ops.pa_v1.spec import MMA_LONG_MIN_PARTITION_KEYS, PaV1Spec
from testlib.pa_v1 import FP8, mismatch
from testlib.pa_v1_mma import (Emulator, aiter_workspace, fp8_codes_case, host_compiler, make_mtp_case, mma_call,
                               mtp_reference, owned_rows)  # fmt: skip

ARCHS = ("sm_90", "gfx942")


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    if host_compiler() is None:
        pytest.skip("no host C++ compiler (clang++-19, clang++ or g++)")
    return Emulator(tmp_path_factory.mktemp("pa_v1_mma_emu"))


def _check(emu, m, arch, num_cus=4, workspace=None, expect_parts=None):
    out = torch.full_like(m.case.query, float("nan"))
    ws = aiter_workspace(m) if workspace is None else workspace
    call = mma_call(m, out, ws)
    spec, values = emu.run(call, arch, num_cus)
    if expect_parts is not None:
        assert values["num_partitions"] == expect_parts, values
    ref = mtp_reference(m)
    owned = owned_rows(m)
    why = mismatch(out[owned], ref[owned])
    assert why is None, f"{spec.name} {values['num_partitions']}x{values['partition_size']}: {why}"
    assert torch.isnan(out[~owned].float()).all(), "rows no sequence owns were written"
    return spec, values


# GQA 1..16 x mtp 1..4 (a cover: each GQA and each mtp, 16 and 64 rows) x both fragment layouts, a window,
# several partitions. Each case builds an emulator and runs one std::thread per GPU thread: kept small.
GQA_MTP = [(1, 1), (1, 4), (2, 2), (3, 3), (4, 1), (4, 4), (8, 1), (8, 2), (16, 1), (16, 4)]
GRID = [(g, t, a) for g, t in GQA_MTP for a in ARCHS]


@pytest.mark.parametrize("gqa,mtp,arch", GRID, ids=[f"g{g}-mtp{t}-{a}" for g, t, a in GRID])
def test_emulated_gqa_mtp(emu, gqa, mtp, arch):
    m = make_mtp_case(num_seqs=3, mtp=mtp, num_heads=2 * gqa, num_kv_heads=2, head_size=64, block_size=16,
                      context_lens=[300, 5, 130], dtype=torch.bfloat16, sliding_window=100, seed=gqa * 10 + mtp)  # fmt: skip
    _check(emu, m, arch)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("block_size", [1, 16, 272])
def test_emulated_block_sizes(emu, block_size, arch):
    """Run-time block sizes (1: a block-table entry per key; 272: a window inside one block)."""
    m = make_mtp_case(num_seqs=2, mtp=2, num_heads=8, num_kv_heads=2, head_size=128, block_size=block_size,
                      context_lens=[290, 47], dtype=torch.float16, sliding_window=64, seed=block_size)  # fmt: skip
    _check(emu, m, arch)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("window", [1, 3, 5, 65, 0], ids=lambda w: f"w{w}")
def test_emulated_window_edges(emu, window, arch):
    """Windows of 1 .. mtp + 1 keys (the first token sees keys the last does not), around the key
    tile, and none; contexts shorter than the query tokens (rows with p < 0 get zeros) and 0."""
    m = make_mtp_case(num_seqs=4, mtp=4, num_heads=4, num_kv_heads=1, head_size=64, block_size=16,
                      context_lens=[200, 3, 0, 65], dtype=torch.bfloat16, sliding_window=window, seed=window)  # fmt: skip
    _check(emu, m, arch)


@pytest.mark.parametrize("arch", ARCHS)
def test_emulated_cu_query_lens(emu, arch):
    """Variable query lengths (0 and 1 included) through cu_query_lens; unowned rows stay untouched."""
    m = make_mtp_case(num_seqs=5, mtp=4, query_lens=[3, 0, 1, 4, 2], num_heads=8, num_kv_heads=2, head_size=64,
                      block_size=16, context_lens=[150, 90, 1, 2, 400], dtype=torch.bfloat16, sliding_window=50,
                      seed=5)  # fmt: skip
    _check(emu, m, arch)


@pytest.mark.parametrize("arch", ARCHS)
def test_emulated_cu_query_lens_contract(emu, arch):
    """Any cu_query_lens values (aiter_swa/ops/pa_v1/tokens.py): a sequence whose rows start before
    row 0 writes only its rows in range; more tokens than mtp: skipped; cu of num_seqs entries (the
    last end is the query's row count)."""
    m = make_mtp_case(num_seqs=3, mtp=3, cu=[-1, 2, 3], num_rows=6, num_heads=8, num_kv_heads=2, head_size=64,
                      block_size=16, context_lens=[90, 40, 130], dtype=torch.bfloat16, sliding_window=50, seed=23)  # fmt: skip
    _check(emu, m, arch, num_cus=16)
    m = make_mtp_case(num_seqs=3, mtp=3, cu=[0, 4, 5, 6], num_rows=6, num_heads=8, num_kv_heads=2, head_size=64,
                      block_size=16, context_lens=[90, 40, 130], dtype=torch.bfloat16, sliding_window=50, seed=29)  # fmt: skip
    assert owned_rows(m).tolist() == [False] * 4 + [True] * 2
    _check(emu, m, arch, num_cus=16)


@pytest.mark.parametrize("arch", ARCHS)
def test_emulated_flags(emu, arch):
    """Soft cap, ALiBi (relative to each row's position), random sinks, NHD, several partitions."""
    m = make_mtp_case(num_seqs=3, mtp=3, num_heads=8, num_kv_heads=2, head_size=64, block_size=16,
                      context_lens=[400, 20, 3], dtype=torch.bfloat16, sliding_window=300, logits_soft_cap=3.0,
                      alibi=True, sinks="random", kv_cache_layout="NHD", scale=0.5, seed=7)  # fmt: skip
    _, values = _check(emu, m, arch, num_cus=16)
    assert values["num_partitions"] > 1


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=["bf16", "fp16"])
@pytest.mark.parametrize("fmt", ["fn", "fnuz"])
def test_emulated_fp8(emu, fmt, dtype, arch):
    """fp8 KV into the 16-bit operands (bf16: convert8; fp16: convert8_f16), scales folded as the vector
    kernel folds them."""
    m = make_mtp_case(num_seqs=2, mtp=2, num_heads=8, num_kv_heads=2, head_size=64, block_size=16,
                      context_lens=[180, 40], dtype=dtype, sliding_window=128, kv_dtype=FP8[fmt],
                      k_scale=0.5, v_scale=2.0, seed=11)  # fmt: skip
    _check(emu, m, arch)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=["bf16", "fp16"])
@pytest.mark.parametrize("fmt", ["fn", "fnuz"])
def test_emulated_fp8_codes_exact(emu, fmt, dtype, arch):
    """All 256 E4M3 codes through the V path into the query's 16-bit type (fp16: convert8_f16's bits; bf16:
    convert8's upper halves): one key (weight exactly 1) and v_scale 0.5, so out is exactly half each code's
    value (a bf16 and an fp16 number) and NaN for the NaN codes (fn: 0x7f, 0xff; fnuz: 0x80)."""
    m, expected = fp8_codes_case(FP8[fmt], dtype)
    assert expected.isnan().sum() == (2 if fmt == "fn" else 1)
    out = torch.full_like(m.case.query, float("nan"))
    emu.run(mma_call(m, out, aiter_workspace(m)), arch, 4)
    torch.testing.assert_close(out[0, 0], expected, rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("arch,kv,hs,mtp,ring,warp_kv,rows,stages", [
    ("sm_90", "bf16", 128, 1, True, True, 16, 3), ("sm_90", "bf16", 64, 1, True, True, 16, 3),
    ("sm_90", "bf16", 64, 4, True, True, 32, 3), ("sm_80", "bf16", 128, 1, True, True, 16, 2),
    ("sm_80", "bf16", 64, 4, True, True, 32, 3), ("sm_86", "bf16", 128, 4, True, True, 32, 2),
    ("sm_90", "bf16", 128, 8, True, True, 32, 3), ("sm_90", "fn", 128, 1, False, False, 16, 2),
    ("gfx942", "bf16", 128, 1, False, False, 16, 2)])  # fmt: skip
def test_emulated_kv_path(emu, arch, kv, hs, mtp, ring, warp_kv, rows, stages):
    """The K/V path of the spec's arch, as the compiled kernel sees it (emu_ring: MmaSpec::RING,
    emu_warp_kv: MmaSpec::WARP_KV) and as it ran (emu_async_copies: async_copy16's copies, async_copy.h):
    sm_90 with a 16-bit KV cache the cp.async ring from head size 128 (spec.MMA_RING_MIN_HEAD_SIZE) and for
    the warp split (16 or 32 rows, heads 64 and 128: spec.mma_warp_kv; its ring's stages as many as fit its
    workgroups per SM, spec.mma_stages: 16 rows 3 on sm_90, 2 on sm_80's 164 KiB; 32 rows, 2 workgroups per SM,
    3 on both, 2 on sm_86's 100 KiB, where the key groups' merge outgrows the ring); GQA 8 x mtp 4 = 32 rows
    one workgroup of two row groups sharing its ring (each tile copied once), GQA 8 x mtp 8 = 64 rows two of
    them; one 16-byte copy per 8 elements of K and V of every key tile a chunk visits (keys outside its
    rows' windows zero-filled, copies all the same); fp8 KV and gfx942 the register prefetch, no copy. The
    other sm_90 tests of this file with at most 32 rows at heads 64 and 128 run the warp split, at head 256
    the ring with the column split, the gfx942 ones and fp8 the register path."""
    kw = dict(kv_dtype=FP8[kv], k_scale=0.5, v_scale=2.0) if kv != "bf16" else {}
    m = make_mtp_case(num_seqs=2, mtp=mtp, num_heads=16, num_kv_heads=2, head_size=hs, block_size=16,
                      context_lens=[100, 37], dtype=torch.bfloat16, sliding_window=0, seed=31, **kw)  # fmt: skip
    out = torch.full_like(m.case.query, float("nan"))
    call = mma_call(m, out, aiter_workspace(m))
    from aiter_swa.ops.pa_v1.gpu import launch_values
    from aiter_swa.ops.pa_v1.spec import MMA_SMEM_LIMIT, SMEM_PER_SM, mma_smem_bytes

    spec, _ = launch_values(call, arch, 4, "mma")
    lib = emu.lib(spec)
    assert spec.mma_ring == ring and lib.emu_ring() == int(ring), spec.name
    assert spec.mma_warp_kv == warp_kv and lib.emu_warp_kv() == int(warp_kv), spec.name
    assert spec.mma_rows == rows and spec.mma_stages == stages, spec.name
    # spec.py's twin of mma_smem_bytes (which sizes the key tile) is the C++ one, within the limit (the warp
    # split: its launch bound's workgroups in the SM's shared memory, with the 1 KiB the driver reserves each)
    smem = mma_smem_bytes(spec.head_size, spec.mma_rows, spec.key_tile, ring, warp_kv, spec.mma_stages)
    limit = SMEM_PER_SM[arch] // spec.mma_workgroups_per_cu - 1024 if warp_kv else MMA_SMEM_LIMIT
    assert lib.emu_smem_bytes() == smem <= limit
    before = lib.emu_async_copies()
    _check(emu, m, arch)
    copies = lib.emu_async_copies() - before
    if ring:
        kt, rows, gqa = spec.key_tile, spec.mma_rows, 8
        tiles = 0  # no window: a chunk reads keys 0 .. (its last token's position) of its sequence
        for L in m.case.context_lens.tolist():
            for first in range(0, gqa * mtp, rows):
                last_pos = L - mtp + (min(gqa * mtp, first + rows) - 1) // gqa
                tiles += -(-min(L, last_pos + 1) // kt)
        assert copies == 2 * 2 * tiles * kt * hs // 8, (spec.name, kt, copies)  # K and V, 2 KV heads
    else:
        assert copies == 0, spec.name


@pytest.mark.parametrize("arch", ARCHS)
def test_emulated_row_chunks(emu, arch):
    """GQA 16 x mtp 4 = 64 rows at head size 256: four workgroups of 16 rows per (sequence, KV head),
    each reading only the keys of its tokens' windows."""
    m = make_mtp_case(num_seqs=2, mtp=4, num_heads=16, num_kv_heads=1, head_size=256, block_size=16,
                      context_lens=[100, 7], dtype=torch.bfloat16, sliding_window=20, seed=13)  # fmt: skip
    spec, _ = _check(emu, m, arch)
    assert spec.mma_rows == 16


@pytest.mark.parametrize("head_size", [64, 128])
def test_emulated_warp_split_32_rows(emu, head_size):
    """The warp split's 32-row workgroup (two row groups sharing its ring, spec.mma_warp_kv): GQA 8 x mtp 4 with
    variable query lengths (4, 0, 1, 3), ALiBi, a soft cap and sinks, a window of 250 keys split into partitions
    (64 CUs); each row's window starts at another key, so the rows of the second row group (tokens 2 and 3) attend
    keys the first group's rows do not, and the other way round."""
    m = make_mtp_case(num_seqs=4, mtp=4, query_lens=[4, 0, 1, 3], num_heads=16, num_kv_heads=2, head_size=head_size,
                      block_size=16, context_lens=[600, 40, 77, 390], dtype=torch.bfloat16, sliding_window=250,
                      alibi=True, logits_soft_cap=20.0, sinks="random", seed=head_size)  # fmt: skip
    spec, values = _check(emu, m, "sm_90", num_cus=64, workspace=torch.zeros(1 << 22, dtype=torch.uint8))
    assert spec.mma_warp_kv and spec.mma_rows == 32 and spec.alibi and spec.soft_cap, spec.name
    assert values["num_partitions"] > 1, values


@pytest.mark.parametrize("num_cus,parts", [(1, 1), (64, None)], ids=["one-partition", "split"])
def test_emulated_warp_split_out_alignment(emu, num_cus, parts):
    """``out`` a view whose heads are 2 * (head_size + 4) bytes apart and start 4 elements into their rows, so
    that every other (row, head) is not 16-byte aligned: the warp split's write must give each its values, leave
    the elements outside the view untouched and store no 16 bytes at a misaligned address (the emulator counts
    such stores, ``Emulator.run`` asserts none; a GPU faults there). Its write stores 8 columns at once, 16
    bytes only where the address allows (the test fails with that address test removed). One partition writes
    out from the partition kernel; a split writes the partials there and out from the reduce."""
    m = make_mtp_case(num_seqs=2, mtp=1, num_heads=16, num_kv_heads=2, head_size=128, block_size=16,
                      context_lens=[600, 37], dtype=torch.bfloat16, sliding_window=300, sinks="random",
                      seed=47)  # fmt: skip
    rows, heads, hs = m.case.query.shape
    big = torch.full((rows, heads, hs + 4), float("nan"), dtype=m.case.query.dtype)
    out = big[:, :, 4:]
    assert {(out[0, h].data_ptr() % 16 == 0) for h in range(heads)} == {True, False}
    call = mma_call(m, out, torch.zeros(1 << 22, dtype=torch.uint8))
    spec, values = emu.run(call, "sm_90", num_cus)
    assert spec.mma_warp_kv, spec.name
    if parts:
        assert values["num_partitions"] == parts, values
    else:
        assert values["num_partitions"] > 1, values
    ref = mtp_reference(m)
    why = mismatch(out, ref)
    assert why is None, f"{spec.name} {values['num_partitions']} partitions: {why}"
    assert torch.isnan(big[:, :, :4].float()).all(), "elements outside out were written"


# (window, CUs) -> (key tile, partitions) of the long-form case below: 2 (sequence, KV head) workgroups, long
# partitions on 1 CU (one wave of 2 long-form workgroups) and 2 CUs (two partitions of 1088 keys, and a reduce);
# with the window's 1203 keys split in two (640 keys each, under MMA_LONG_MIN_PARTITION_KEYS) the spec's own form.
LONG_FORM_CASES = [(0, 1, 64, 1), (0, 2, 64, 2), (1200, 1, 64, 1), (1200, 2, 32, 2)]


@pytest.mark.parametrize("window,num_cus,key_tile,parts", LONG_FORM_CASES)
def test_emulated_long_form(emu, window, num_cus, key_tile, parts):
    """The warp split's long form (spec.mma_long_form: 64-key tiles over 4 warps, one 16-key slice per warp with
    all 128 columns, 3 stages, 2 workgroups per SM), which the launcher runs where its split's partitions hold at
    least spec.MMA_LONG_MIN_PARTITION_KEYS keys: sm_90, head 128, GQA 4 x mtp 4 with query lengths 4 and 3 (16
    rows), sinks, a soft cap (with the window: ALiBi), contexts past 1024 keys; the emulator builds the form the
    launch values name."""
    m = make_mtp_case(num_seqs=2, mtp=4, query_lens=[4, 3], num_heads=4, num_kv_heads=1, head_size=128,
                      block_size=16, context_lens=[2100, 1300], dtype=torch.bfloat16, sliding_window=window,
                      logits_soft_cap=30.0, alibi=window > 0, sinks="random", seed=53 + window)  # fmt: skip
    expected = PaV1Spec("bf16", "bf16", "bf16", 128, 1, window > 0, True, window > 0, arch="sm_90", mma_rows=16)
    lib = emu.lib(expected, key_tile)  # the library Emulator.run takes for this form
    before = lib.emu_async_copies()
    spec, values = _check(emu, m, "sm_90", num_cus=num_cus, expect_parts=parts,
                          workspace=torch.zeros(1 << 22, dtype=torch.uint8))  # fmt: skip
    assert spec == expected and spec.mma_long and spec.key_tile == 32, spec.name
    assert values["key_tile"] == key_tile, values
    # it ran: K and V copied in tiles of key_tile keys from each partition's first attended key
    size, tiles = values["partition_size"], 0
    for L, n in ((2100, 4), (1300, 3)):
        k0 = max(0, L - n - window + 1) if window else 0
        tiles += sum(-(-(min(L, k0 + z + size) - (k0 + z)) // key_tile) for z in range(0, L - k0, size))
    assert lib.emu_async_copies() - before == 2 * tiles * key_tile * 128 // 8
    assert (key_tile == 64) == (values["partition_size"] >= MMA_LONG_MIN_PARTITION_KEYS), values


@pytest.mark.parametrize("arch", ARCHS)
def test_emulated_split_follows_machine_and_workspace(emu, arch):
    """Batch 1 is split to fill the CUs, within aiter's workspace sizing; a larger buffer than aiter's
    allows more partitions than ceil(max_context_len / 256)."""
    m = make_mtp_case(num_seqs=1, mtp=1, num_heads=8, num_kv_heads=1, head_size=64, block_size=16,
                      context_lens=[700], dtype=torch.bfloat16, sliding_window=600, seed=17)  # fmt: skip
    _check(emu, m, arch, num_cus=64, expect_parts=3)  # aiter's sizing: ceil(700 / 256) = 3 partitions
    big = torch.zeros(aiter_workspace(m).numel() * 4, dtype=torch.uint8)
    spec, values = _check(emu, m, arch, num_cus=64, workspace=big)
    assert 3 < values["num_partitions"] <= 12 and values["partition_size"] % spec.key_tile == 0


@pytest.mark.parametrize("arch", ARCHS)
def test_emulated_bad_block_and_clamped_lens(emu, arch):
    """A bad block id among a sequence's attended keys: NaN in all its rows, other sequences exact;
    a context length above max_context_len is clamped (the result for max_context_len)."""
    m = make_mtp_case(num_seqs=3, mtp=2, num_heads=4, num_kv_heads=1, head_size=64, block_size=16,
                      context_lens=[120, 60, 120], dtype=torch.bfloat16, sliding_window=0, seed=19)  # fmt: skip
    ref = mtp_reference(m)
    c = m.case
    c.block_tables[1, 2] = 10**6
    c.context_lens[2] = 10**6  # clamped to max_context_len = 120
    out = torch.full_like(c.query, float("nan"))
    emu.run(mma_call(m, out, aiter_workspace(m)), arch, 4)
    assert torch.isnan(out[2:4].float()).all()
    assert mismatch(out[[0, 1, 4, 5]], ref[[0, 1, 4, 5]]) is None


@pytest.mark.parametrize("window", [0, 100])
@pytest.mark.parametrize("arch", ARCHS)
def test_emulated_bad_ids_past_shorter_contexts(emu, arch, window):
    """Bad ids in the block-table entries past each shorter sequence's context (keys below max_context_len
    that the sequence does not have) change nothing, whatever the partition: no kernel may read them as
    the sequence's, e.g. by reading the table for max_context_len before the context length is known."""
    lens = [300, 70, 133]
    m = make_mtp_case(num_seqs=3, mtp=1, num_heads=8, num_kv_heads=2, head_size=64, block_size=16,
                      context_lens=lens, dtype=torch.bfloat16, sliding_window=window, seed=23)  # fmt: skip
    for i, L in enumerate(lens):
        m.case.block_tables[i, -(-L // 16) :] = 10**6
    _check(emu, m, arch, num_cus=16)


@pytest.mark.parametrize("arch", ARCHS)
def test_emulated_empty_cache(emu, arch):
    """No block at all (num_blocks 0): a sequence of L = 0 checks no id and gets zeros (its partition has no
    key, so no id of it is bad), one with keys finds a bad id and gets NaN."""
    m = make_mtp_case(num_seqs=2, mtp=1, num_heads=8, num_kv_heads=2, head_size=64, block_size=16,
                      context_lens=[0, 40], dtype=torch.bfloat16, sliding_window=0, seed=29)  # fmt: skip
    c = m.case
    c.key_cache, c.value_cache = c.key_cache[:0], c.value_cache[:0]
    out = torch.full_like(c.query, float("nan"))
    emu.run(mma_call(m, out, aiter_workspace(m)), arch, 4)
    assert (out[0] == 0).all(), out[0]
    assert torch.isnan(out[1].float()).all()


def test_split_rule():
    """mma_split from host values: the machine, the key tiles, the workspace."""
    from aiter_swa.ops.pa_v1.gpu import mma_split

    part = 8 * (8 + 128 * 2)  # one partition of 8 rows x heads
    # batch 1, 8 KV heads, window 4096, 132 SMs, aiter's buffer for a 32K context (128 partitions)
    parts, size = mma_split(1, 8, 1, 4096, 64, part, 128 * part, 132)
    assert parts == 32 and size == 128 and parts * 8 >= 2 * 132 - 8
    # a full batch needs no split: one partition, no workspace, no reduce
    assert mma_split(64, 8, 1, 4096, 64, part, 0, 132) == (1, 4096)
    assert mma_split(64, 8, 1, 4096, 64, part, 10**9, 132) == (1, 4096)
    # no workspace: one partition whatever the machine
    assert mma_split(1, 1, 1, 4096, 64, part, 0, 132) == (1, 4096)
    # never more partitions than the buffer holds, nor than key tiles, nor of fewer than MMA_MIN_PARTITION_KEYS
    # keys (in whole key tiles)
    from aiter_swa.ops.pa_v1.spec import MMA_MIN_PARTITION_KEYS

    assert mma_split(1, 1, 1, 4096, 64, part, 5 * part, 132)[0] <= 5
    assert mma_split(1, 1, 1, 100, 64, part, 10**9, 132) == (1, 128)
    assert mma_split(1, 1, 1, 300, 64, part, 10**9, 132) == (2, 192)
    assert mma_split(1, 1, 1, 300, 16, part, 10**9, 132) == (2, 160)
    for args in [(1, 8, 1, 4096, 64), (3, 2, 2, 777, 32), (1, 1, 1, 1, 16), (1, 8, 1, 4096, 32), (2, 1, 1, 999, 16)]:
        parts, size = mma_split(*args, part, 10**6, 132)
        assert size % args[4] == 0 and (parts - 1) * size < max(args[3], 1) <= parts * size
        assert parts == 1 or size >= MMA_MIN_PARTITION_KEYS, (args, parts, size)
    # waves: every workgroup reads as many keys, so the split fills its last wave (132 SMs x 2 a wave)
    from aiter_swa.ops.pa_v1.spec import MMA_MIN_WAVE_FILL, MMA_TARGET_WORKGROUPS_PER_CU

    slots = MMA_TARGET_WORKGROUPS_PER_CU * 132
    fill = lambda n: n / (-(-n // slots) * slots)  # noqa: E731
    # 128 (sequence, KV head) pairs: 2 partitions (256 workgroups, 97%), not 3 (384: 73%)
    assert mma_split(16, 8, 1, 1024, 32, part, 10**9, 132) == (2, 512)
    # 32 pairs: 8 partitions (256, 97%), not 9 (288: 55%)
    assert mma_split(8, 4, 1, 8192, 64, part, 10**9, 132) == (8, 1024)
    for seqs, kv, span in [(32, 8, 4096), (64, 8, 4096), (16, 8, 1024), (8, 4, 8192), (3, 5, 3000), (100, 3, 700)]:
        parts, size = mma_split(seqs, kv, 1, span, 64, part, 10**9, 132)
        assert fill(seqs * kv * parts) >= MMA_MIN_WAVE_FILL, (seqs, kv, span, parts)
        for fewer in range(1, parts):  # no smaller count of partitions (of key-tile multiples) fills as well
            n = -(-span // (-(-(-(-span // 64)) // fewer) * 64))
            assert n == parts or fill(seqs * kv * n) < MMA_MIN_WAVE_FILL
        # at 2 workgroups per CU a saturating wave is a full one: the one-wave rule changes nothing
        assert mma_split(seqs, kv, 1, span, 64, part, 10**9, 132, key_bytes=512) == (parts, size)


def test_split_one_wave_rule():
    """The one-wave rule (4 workgroups per SM, as the warp split on sm_90; key_bytes of head 128 in bf16): the
    fewest partitions whose workgroups fit one wave with >= 0.9 x 2 per SM, partitions of <= 3 MiB of K/V."""
    from aiter_swa.ops.pa_v1.gpu import mma_split
    from aiter_swa.ops.pa_v1.spec import MMA_MAX_WAVE_PARTITION_BYTES

    part, kb = 8 * (8 + 128 * 2), 2 * 128 * 2
    split = lambda seqs, span, key_bytes=kb: mma_split(seqs, 8, 1, span, 32, part, 10**9, 132, 4, key_bytes)  # noqa: E731
    # Mistral batch 32 (256 workgroups, half a wave): one partition of 1 or 2 MiB, no reduce
    assert split(32, 2048) == (1, 2048) and split(32, 4096) == (1, 4096)
    # 4 MiB partitions are past the bound: two partitions (512 workgroups fill the wave), as without the rule
    assert 4096 * kb <= MMA_MAX_WAVE_PARTITION_BYTES < 8192 * kb
    assert split(32, 8192) == (2, 4096) and split(32, 16384) == (2, 8192)
    assert split(32, 4096, key_bytes=10**9) == (2, 2048)  # no partition small enough: the fill rule alone
    # batches 24 and 16: 2 partitions (384 and 256 workgroups, one wave), not 5 and 4 (960 and 512)
    assert split(24, 4096) == (2, 2048) and split(16, 4096) == (2, 2048)
    assert split(24, 4096, key_bytes=10**9) == (5, 832) and split(16, 4096, key_bytes=10**9) == (4, 1024)
    # fewer than 0.9 x 2 workgroups per SM never take the rule (192 workgroups: 1.45 per SM)
    assert split(24, 2048)[0] > 1


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("head_size", [32, 80, 96, 192, 512])
def test_emulated_head_sizes(emu, head_size, arch):
    """Every other head size (80 and 96: 5 and 6 k-steps; 512: the smallest key tile), fp16."""
    m = make_mtp_case(num_seqs=2, mtp=2, num_heads=8, num_kv_heads=2, head_size=head_size, block_size=16,
                      context_lens=[150, 9], dtype=torch.float16, sliding_window=70, seed=head_size)  # fmt: skip
    _check(emu, m, arch)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("cap", [1e6, 1e30, 3.0e38, 2.0**-126])
def test_emulated_soft_cap_extremes(emu, cap, arch):
    """Finite caps at both ends of float32's range follow ``c * tanh(x / c)``: a large cap makes
    ``x / c`` tiny, where ``1 - 2 / (exp(2x) + 1)`` cancels to 0 (uniform weights; the GPU tree's
    failures of 2026-11-29, 11:28 UTC session, call 5): mma_kernel.h fast_tanh's series there."""
    m = make_mtp_case(num_seqs=2, mtp=1, num_heads=8, num_kv_heads=2, head_size=64, block_size=16,
                      context_lens=[200, 37], dtype=torch.bfloat16, sliding_window=100, logits_soft_cap=cap,
                      scale=1.0, seed=3)  # fmt: skip
    spec, _ = _check(emu, m, arch)
    assert spec.soft_cap
