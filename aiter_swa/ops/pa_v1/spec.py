"""Supported configurations, the kernel spec, its pre-build matrix and the launch contract of pa_v1.

Torch-free: the pre-build imports it (through the op catalogue) without torch. One place, so the
validation messages, the pre-build matrix, the kernel's constants and the README agree.
"""

from __future__ import annotations

import dataclasses
import re

from aiter_swa.jit.contract import LaunchContract, Param
from aiter_swa.jit.registry import OpDef, register_op
from aiter_swa.jit.spec import KernelSpec

#: Head sizes with a GPU specialization (each exact: no element is padded or dropped).
SUPPORTED_HEAD_SIZES = (32, 64, 80, 96, 128, 192, 256, 512)
#: Tokens per KV-cache block: any positive integer, a run-time value of the kernel (not a
#: specialization axis).
MIN_BLOCK_SIZE = 1
#: Tokens per split-K partition: aiter's ``_PARTITION_SIZE_ROCM``, rendered into the kernel.
PARTITION_SIZE = 256
SUPPORTED_PARTITION_SIZES = (PARTITION_SIZE,)
#: Query heads per KV head served by one workgroup: GQA ratios are rounded up to one of these.
GQA_BUCKETS = (1, 2, 4, 8, 16)
MAX_GQA_RATIO = GQA_BUCKETS[-1]
#: Query / output element types with a GPU kernel (the CPU path also takes float32), by spec name.
GPU_DTYPES = ("fp16", "bf16")
#: fp8 KV-cache formats (``kv_cache_dtype="fp8"``): torch.float8_e4m3fn and torch.float8_e4m3fnuz.
FP8_KV_DTYPES = ("fp8e4m3fn", "fp8e4m3fnuz")
#: KV-cache element types with a GPU kernel: the query's, or an fp8 format.
KV_DTYPES = GPU_DTYPES + FP8_KV_DTYPES
#: Archs whose fp8 is E4M3 FNUZ (MI300X / MI325X; vLLM's ``current_platform.fp8_dtype()``); every
#: other arch (gfx950, gfx90a, NVIDIA, the CPU) uses the OCP E4M3 ("fn").
FNUZ_ARCHS = ("gfx940", "gfx941", "gfx942")
#: Threads per workgroup of the partition kernel (measured on H200 against 64 and 256).
NUM_THREADS = 128
#: Elements of one vector load: every query/K/V row is read in vectors of 8 elements (16 bytes
#: for 16-bit types, 8 for fp8), so base pointers must be aligned to 8 elements' bytes and leading
#: strides be multiples of 8 elements (checked by the GPU dispatch).
VEC_ELEMS = 8
#: Bytes of one vector load of a 16-bit type.
VEC_BYTES = 16

#: Query rows (GQA heads x query tokens of one sequence and KV head) per workgroup of the
#: matrix-core kernel (csrc/include/aiter_swa/pa_v1/mma_kernel.h); 0 in a spec selects the vector
#: kernel. Rows beyond a workgroup's go to more workgroups (chunks) at run time.
MMA_ROWS = (16, 32, 64)
#: Register budget of the matrix-core kernel's output accumulators beyond 16 rows: rows * head_size
#: at most (fp32 [rows, head_size] over 4 wavefronts: 32 floats per lane on a 32-lane wavefront).
#: 8192 spilled on sm_90 (head 256 x 32 rows, head 96 x 64 rows with fp8 KV).
MMA_ACC_BUDGET = 4096
#: Shared memory of one matrix-core workgroup at most (bytes; CUDA's static limit is 48 KiB). 45 KiB since
#: the ring keeps each key's K and V row addresses (head 256 x 16 rows takes 45128 bytes with 16-key tiles); every
#: spec's key tile and ring choice are what they were at 44 KiB before that.
MMA_SMEM_LIMIT = 45 * 1024
#: Workgroups per CU the split counts as one wave on AMD (gpu.py mma_split; NVIDIA:
#: :func:`mma_workgroups_per_sm`, what the kernel's launch bound guarantees); provisional until an AMD
#: GPU has run it.
MMA_TARGET_WORKGROUPS_PER_CU = 2
#: The fill of the last wave the split accepts (gpu.py mma_split: fewest partitions reaching it).
MMA_MIN_WAVE_FILL = 0.9
#: Workgroups per CU whose copies in flight keep the memory busy (gpu.py mma_split's one-wave rule; it counts
#: ``MMA_MIN_WAVE_FILL`` of them on every CU, where a wave holds more). H200, the warp split (32 KiB of K/V
#: in flight per workgroup at heads 64 and 128), Mistral window 4096, one partition (docs/results.md,
#: 2026-11-30 16:17 UTC session, calls 2 and 3): 256 workgroups (1.94 per SM) read 4.02 TB/s, 192 (1.45 per
#: SM, batch 24) 3.01 TB/s.
MMA_SATURATING_WORKGROUPS_PER_CU = 2
#: K/V bytes a workgroup's partition reads at most under the one-wave rule (gpu.py mma_split): beyond it the
#: fuller wave's bandwidth gains more than the reduce kernel costs. H200, Mistral batch 32 (256 workgroups
#: with one partition), same session: partitions of 1 and 2 MiB (window 2048 and 4096) one partition 3%
#: faster than two; of 4 MiB (window 8192, no window at 8K) 0.8% and 0.2% slower; of 8 MiB (no window,
#: 16K) 7% slower.
MMA_MAX_WAVE_PARTITION_BYTES = 3 << 20
#: Keys per partition at least (gpu.py mma_split): a batch of 1 split over every slot of the GPU gave partitions
#: of one or two key tiles (one: no copy in flight behind it) and a reduce over twice the partitions. H200,
#: batch 1, window 4096, 32K context (docs/results.md, 2026-11-30 04:54 UTC session, call 7; µs per call,
#: partition + reduce kernel): gpt-oss 64 partitions of 64 keys 14.60 (9.39 + 3.48), 32 of 128 12.65 (8.42 +
#: 2.57), 16 of 256 12.74; Mistral 64 of 64 16.24 (12.49 + 3.54), 32 of 128 16.05 (11.62 + 2.60).
MMA_MIN_PARTITION_KEYS = 128


#: Smallest head size that takes the K/V ring (:func:`mma_ring`). Measured on an H200 (docs/results.md,
#: 2026-11-29 07:03 UTC, call 4 against call 2; bf16, block 16, µs): head 128 faster with the ring
#: (Mistral B32 window 4096 159.8 against 193.7 on the register path, the seed shape 56.9 against 59.2),
#: head 256 about even (Gemma-3 58.3 against 59.2), head 64 slower (gpt-oss B64 window 4096 213.5
#: against 196.7: 5 workgroups of 32-key tiles per SM against 4 of 64-key tiles). Smaller heads take
#: the ring where the register path drops to 2 workgroups per SM (:func:`mma_ring`): head 64 x 32 rows,
#: gpt-oss at mtp 4, 349.8 µs against 379.7 (window 4096) and 23.2 against 33.1 (window 128)
#: (2026-11-29 09:31 UTC session, calls 3 and 6).
MMA_RING_MIN_HEAD_SIZE = 128


def mma_ring(arch: str, q_dtype: str, kv_dtype: str, head_size: int, rows: int) -> bool:
    """Whether the matrix-core kernel copies K/V global -> shared without registers (``cp.async``, PTX
    ISA, sm_80+: csrc/include/aiter_swa/async_copy.h) into a ring of two stages (``MmaSpec::RING``; the
    warp split's: :func:`mma_stages`):
    NVIDIA ``sm_XX`` with XX >= 80, a KV cache of the query's 16-bit type, head size at least
    :data:`MMA_RING_MIN_HEAD_SIZE` or ``head_size * rows`` in (64 x 16, 64 x 32] (e.g. head 64 with 32
    rows, gpt-oss at mtp 4: the register path holds 2 workgroups per SM there, the ring 4; 64 x 64
    spilled 4 bytes with the ring), and the ring's four tile buffers fitting :data:`MMA_SMEM_LIMIT` with
    16-key tiles (not head size 512); and every spec of the warp split (:func:`mma_warp_kv`: 16 rows,
    heads 64 and 128). Else (AMD, fp8 KV, older NVIDIA; head 32 with 16 or 32 rows, heads 64 to 96
    with more rows than that, head 512) the register prefetch: the tile's K and V loaded into
    registers one tile ahead, stored (fp8: converted) into one shared buffer."""
    if mma_warp_kv(arch, q_dtype, kv_dtype, head_size, rows):
        return True
    return (_cp_async(arch, q_dtype, kv_dtype)
            and (head_size >= MMA_RING_MIN_HEAD_SIZE or 64 * 16 < head_size * rows <= 64 * 32)
            and mma_smem_bytes(head_size, rows, 16, True) <= MMA_SMEM_LIMIT)  # fmt: skip


def _sm(arch: str) -> int:
    """XX of an NVIDIA ``sm_XX`` arch (``sm_90a``: 90); 0 for any other arch."""
    m = re.fullmatch(r"sm_(\d+)[a-z]?", arch)
    return int(m.group(1)) if m else 0


def _cp_async(arch: str, q_dtype: str, kv_dtype: str) -> bool:
    """NVIDIA ``sm_XX`` with XX >= 80 (``cp.async``) and a KV cache of the query's 16-bit type."""
    return _sm(arch) >= 80 and kv_dtype == q_dtype


#: Most reduce workgroups per SM for which the reduce is a programmatic dependent launch
#: (:func:`programmatic_launch`). H200 (docs/results.md, 2026-11-30 19:11 UTC session, calls 2, 3 and 5): at 32 to
#: 768 reduce workgroups (batch 1, Gemma-3, the seed shape, Mistral B16 and B24) 0.5-7% faster per call; at 1024
#: (Mistral B32 with 2 partitions) 0.8% slower in one run and 0.3-1% faster in another, inside the 497-506 µs
#: the same code spans between rounds; so the grids of 1024 (7.8 per SM) keep the ordinary launch. Measured again
#: at that row with 8 (2026-12-02 14:57 UTC session, call 4, four rounds each): 497.5-500.7 µs against 497.6-501.1.
PROGRAMMATIC_REDUCE_MAX_WORKGROUPS_PER_CU = 6


def programmatic_launch(arch: str) -> bool:
    """Whether the kernels are programmatic dependent launches (compat.h ``launch_dependent``; CUDA C++
    Programming Guide, "Programmatic Dependent Launch and Synchronization"): NVIDIA sm_90 and later (PTX ISA,
    ``griddepcontrol``: sm_90+). The partition kernel (both kernel families) is then a dependent launch of the
    stream's previous kernel, whatever it is: its workgroups wait (``griddepcontrol.wait``) for that kernel's
    completion and writes before their first read, so only its launch overlaps that kernel's tail. The reduce
    is one of the partition kernel: its workgroups start as the partition kernel's finish and wait for its writes,
    instead of being launched after its completion; the launcher does so at most
    :data:`PROGRAMMATIC_REDUCE_MAX_WORKGROUPS_PER_CU` reduce workgroups per SM. The matrix-core reduce allows its
    own dependents once its wait returns, so the next call's partition kernel starts while it merges.
    docs/design.md has the measurements (H200: batch 1 11.9 -> 10.5 µs with the first two, 10.4 with the third)."""
    return _sm(arch) >= 90


#: Head sizes of the warp split (:func:`mma_warp_kv`): each warp owns a 16-key slice of the tile with
#: 64 of the head's columns (head 64: four slices of a 64-key tile; head 128: two slices of a 32-key
#: tile, two warps each), so 32 O accumulators per lane.
MMA_WARP_KV_HEAD_SIZES = (64, 128)
#: Query rows per workgroup of the warp split (:func:`mma_warp_kv`): one row group of 4 warps per 16
#: rows, the row groups sharing the workgroup's K/V ring (so 32 rows, e.g. gpt-oss at mtp 4, copy each
#: key tile once instead of once per 16-row chunk).
MMA_WARP_KV_ROWS = (16, 32)


def mma_warp_kv(arch: str, q_dtype: str, kv_dtype: str, head_size: int, rows: int) -> bool:
    """Whether the matrix-core kernel splits each key tile across its warps (``MmaSpec::WARP_KV``):
    each group of warps takes a 16-key slice with its own online softmax held in registers (the scores'
    C fragments become the weights' A fragments in the same lane: mma.h ``c_pair_to_a``, the m16n8k16
    layout), and the groups merge once after the key loop, as FlashAttention-2 / FlashInfer's decode
    splits keys over warps. Against the column split (scores and weights through shared memory, three
    barriers per tile) it has one barrier per tile and no score traffic through shared memory: the
    shared-memory pipe was the largest stall of the column split (docs/results.md, 2026-11-29 07:03
    UTC, call 2). On: the K/V ring's targets (NVIDIA sm_80+, 16-bit KV of the query's type), rows
    :data:`MMA_WARP_KV_ROWS` (a row group of 4 warps per 16 rows), head sizes :data:`MMA_WARP_KV_HEAD_SIZES`."""
    return _cp_async(arch, q_dtype, kv_dtype) and rows in MMA_WARP_KV_ROWS and head_size in MMA_WARP_KV_HEAD_SIZES


#: Shared memory per SM (bytes) of NVIDIA architectures: CUDA C++ Programming Guide, "Technical
#: Specifications per Compute Capability" (8.0 and 8.7: 164 KB, 8.6 and 8.9: 100 KB, 9.0: 228 KB; the driver
#: reserves 1 KB of it per workgroup). Others: 100 KB.
SMEM_PER_SM = {"sm_80": 164 * 1024, "sm_86": 100 * 1024, "sm_87": 164 * 1024, "sm_89": 100 * 1024,
               "sm_90": 228 * 1024}  # fmt: skip

#: Most stages of the warp split's K/V ring (:func:`mma_stages`).
MMA_WARP_KV_MAX_STAGES = 3


#: The warp split's long form (:func:`mma_long_form`): key tiles of this many keys over the same 4 warps (4 key
#: groups of one warp, each with all of the head's columns: 64 O accumulators per lane at head 128), a ring of
#: :data:`MMA_LONG_STAGES` stages, :data:`MMA_LONG_WORKGROUPS_PER_SM` workgroups per SM (launch bound and the
#: split's wave). A spec that has it holds both kernels; each call runs the long form when the long form's split
#: (gpu.mma_split at its tile and wave) gives partitions of at least :data:`MMA_LONG_MIN_PARTITION_KEYS` keys,
#: else the spec's own (csrc/include/aiter_swa/pa_v1/split.h ``split_for``). On the H200 (docs/results.md,
#: 2026-12-03 12:27 UTC session, call 1; bf16, head 128 x 16 rows): Mistral batch 32 without a window 479.8-480.9
#: µs against 487.7-488.7 (one partition of 16K keys, no reduce; FlashInfer 482.6-484.4 in the same rounds),
#: window 4096 124.5-124.6 against 129.3-129.7, the seed shape (partitions of 1024 keys) 37.9-38.1 against
#: 38.6-38.8, and batch 1 at 32K with window 4096 (partitions of 128 keys) 10.4 against 9.9-10.0: hence the
#: bound, between the shortest partitions measured faster (1024) and slower (128); the lengths between were
#: not measured and keep the spec's own form. ptxas (CUDA 13.0, sm_90): 224-248 registers (fp16 and bf16, every flag),
#: zero spills. Two stages (FlashInfer's budget: one 64-key tile in flight) measured the same at batch
#: 32 and 10.6 µs at batch 1 (three stages 10.4).
MMA_LONG_KEY_TILE = 64
MMA_LONG_STAGES = 3
MMA_LONG_WORKGROUPS_PER_SM = 2
MMA_LONG_MIN_PARTITION_KEYS = 1024
#: (head size, rows) of the warp-split specs that have the long form (the measured one).
MMA_LONG_SHAPES = ((128, 16),)


def _smem_per_sm(arch: str) -> int:
    return SMEM_PER_SM.get(re.sub(r"[a-z]$", "", arch), 100 * 1024)


def _workgroups_in_smem(arch: str, smem: int) -> int:
    """Workgroups of ``smem`` bytes of shared memory an SM of ``arch`` holds (:data:`SMEM_PER_SM`, with the 1 KiB
    the driver reserves per workgroup)."""
    return _smem_per_sm(arch) // (smem + 1024)


def mma_long_form(arch: str, q_dtype: str, kv_dtype: str, head_size: int, rows: int) -> bool:
    """Whether a matrix-core spec also holds the warp split's long form (:data:`MMA_LONG_KEY_TILE`): the warp
    split (:func:`mma_warp_kv`) at a shape of :data:`MMA_LONG_SHAPES`, on an arch whose SM holds
    :data:`MMA_LONG_WORKGROUPS_PER_SM` such workgroups in shared memory (:data:`SMEM_PER_SM`: sm_90; sm_80's
    164 KiB hold one)."""
    if not mma_warp_kv(arch, q_dtype, kv_dtype, head_size, rows) or (head_size, rows) not in MMA_LONG_SHAPES:
        return False
    smem = mma_smem_bytes(head_size, rows, MMA_LONG_KEY_TILE, True, True, MMA_LONG_STAGES)
    return _workgroups_in_smem(arch, smem) >= MMA_LONG_WORKGROUPS_PER_SM


def mma_stages(arch: str, head_size: int, rows: int, warp_kv: bool) -> int:
    """Stages of the matrix-core kernel's K/V ring (``MmaSpec::STAGES``): ``stages - 1`` key tiles in
    flight over each tile's math. The warp split takes the most, up to :data:`MMA_WARP_KV_MAX_STAGES`, for
    which its launch bound's workgroups (:func:`mma_workgroups_per_sm`) fit the SM's shared memory
    (:data:`SMEM_PER_SM`; sm_90: 3 stages, 55 KiB per workgroup at head 128 x 16 rows; sm_80: 2); the column split 2. On the
    H200, three stages against two (docs/results.md, 2026-11-30 02:24 UTC session, call 3): Mistral
    batch 32 window 4096 134.5-135.4 µs against 143.6-143.8, gpt-oss window 4096 128.6-129.8 against
    137.6-138.4; three stages padded, which fitted only 3 workgroups per SM, were slower (11-29 17:15 UTC
    session, call 2); four stages at 3 workgroups per SM (2026-11-30 19:11 UTC session, call 1) read one partition
    of the no-window row no faster and were 12% and 33% slower at gpt-oss windows 4096 and 128; five at 2
    workgroups per SM (every tile of batch 1's 128-key partitions in flight from the start; 2026-12-01 00:06 UTC
    session, call 2) made batch 1 no faster, and gpt-oss window 128 30% and Mistral batch 32 2% slower."""
    if not warp_kv:
        return 2
    kt, per_sm = mma_key_tile(head_size, rows, True, True), mma_workgroups_per_sm(head_size, rows, True, True)
    for stages in range(MMA_WARP_KV_MAX_STAGES, 2, -1):
        smem = mma_smem_bytes(head_size, rows, kt, True, True, stages)
        if _workgroups_in_smem(arch, smem) >= per_sm:
            return stages
    return 2


def mma_smem_bytes(head_size: int, rows: int, key_tile: int, ring: bool = False, warp_kv: bool = False,
                   stages: int = 2) -> int:
    """Shared memory (bytes) of one matrix-core workgroup (mma_kernel.h ``mma_smem_bytes``, the same
    formula): ``ring`` (:func:`mma_ring`) keeps four K/V tile buffers (K and V, two stages), else one;
    ``warp_kv`` (:func:`mma_warp_kv`) no score or weight tile, and ``stages`` (:func:`mma_stages`) stages
    of unpadded, swizzled K and V tiles with their keys' row addresses, at least the size of the key groups'
    merge after the loop (float O in rows of ``head_size + 8``, maximum, exp sum and weight per group and row;
    e.g. 32 rows, 2 stages)."""
    if warp_kv:  # `stages` stages of unpadded (swizzled) K and V tiles; the key groups' merge after the loop
        # (the merge's O rows padded by 8 floats: mma_kernel.h kMergeRowPad)
        tiles = max(2 * 2 * stages * key_tile * head_size, 4 * (key_tile // 16) * rows * (head_size + 8 + 3))
    else:
        tiles = 2 * (4 if ring else 1) * key_tile * (head_size + 8)
    scores = 4 + 2 if warp_kv else 4 * rows * key_tile + 2 * rows * (key_tile + 8)
    # the ring: K and V row addresses (8 bytes each) per key of each stage
    keys = 16 * stages * key_tile + 8 if warp_kv else 32 * key_tile + 8 if ring else 16 * key_tile + 16
    return tiles + 2 * rows * (head_size + 8) + scores + keys + 36 * rows


def mma_key_tile(head_size: int, rows: int, ring: bool = False, warp_kv: bool = False) -> int:
    """Keys per tile of the matrix-core kernel: the largest of 64, 32, 16 whose workgroup fits in
    :data:`MMA_SMEM_LIMIT` bytes of shared memory (:func:`mma_smem_bytes`; the ring's four buffers
    take e.g. head 128 x 16 rows to 32-key tiles, head 256 to 16). Partition sizes are multiples of it."""
    if warp_kv:  # a 16-key slice per group of head_size / 64 warps (MMA_WARP_KV_HEAD_SIZES)
        return 16 * 4 * 64 // head_size
    for kt in (64, 32, 16):
        if mma_smem_bytes(head_size, rows, kt, ring) <= MMA_SMEM_LIMIT:
            return kt
    raise ValueError(f"no key tile fits head_size {head_size} with {rows} rows (ring {ring})")


def mma_workgroups_per_sm(head_size: int, rows: int, ring: bool, warp_kv: bool = False) -> int:
    """NVIDIA: resident workgroups per SM the matrix-core kernel's registers must allow (its
    ``__launch_bounds__`` second argument ``MIN_WORKGROUPS_PER_SM``: 65536 registers per SM / (128
    threads x registers)); the split (gpu.mma_split, split.h) counts that many per SM as one wave, or fewer
    where the SM's shared memory holds fewer (``PaV1Spec.mma_workgroups_per_cu``).
    Register path: head size 64 with 16 rows 4 (128 registers, no spill; 155 without the bound),
    else 2 (at most 255 registers). Ring (:func:`mma_ring`; no prefetch registers): 4 (ptxas -v, nvcc
    13.0, sm_90, bf16, 2026-11-29: head 128 x 16 rows 122 registers, 128 x 32 126, 256 x 16 128, head
    64 x 32 119-123, head 32 x 64 124-128, heads 80 / 96 x 16 97-118, zero spills; 5 spilled 8-88 bytes
    at head 128 and 256; head 64 x 64 spilled 4 bytes at 4, hence its register path). Shared memory
    allows 4 of any spec (at most 45 KiB + 1 KiB each of the SM's 228 KiB; the warp split's deeper ring
    takes as many stages as keep 4 fitting: :func:`mma_stages`). The warp split (``warp_kv``,
    :func:`mma_warp_kv`): 16 warps per SM, so 4 workgroups of 16 rows (4 warps, 122-128 registers, zero
    spills), 2 of 32 rows (8 warps, the same registers per thread)."""
    if warp_kv:
        return 4 * MMA_WARP_KV_ROWS[0] // rows
    if ring:  # 118-128 registers, zero spills
        return 4
    return 4 if head_size * rows <= 64 * 16 else 2


def mma_rows_fit(head_size: int, rows: int) -> bool:
    """Whether a matrix-core workgroup of ``rows`` query rows fits the accumulator budget (16 rows always)."""
    return rows == MMA_ROWS[0] or rows * head_size <= MMA_ACC_BUDGET


def mma_rows_for(head_size: int, rows_needed: int, warp_kv: bool = False) -> int:
    """The :data:`MMA_ROWS` bucket for ``rows_needed`` query rows per (sequence, KV head): the smallest
    that holds them, else the largest that fits the budget (the rest in more chunks). ``warp_kv``: the
    16-row spec takes the warp split (:func:`mma_warp_kv`); then the smallest of :data:`MMA_WARP_KV_ROWS`
    that holds them (e.g. gpt-oss at mtp 4, GQA 8 x 4 = 32 rows: one workgroup whose two row groups share
    each key tile, not two 16-row chunks that copy each tile twice), beyond them as without it. (Fewer rows
    on 32 anyway, the empty row group's warps only issuing copies, made batch 1 0.6-0.7 µs slower on the H200:
    docs/results.md, 2026-11-30 21:52 UTC session, call 6.)"""
    if warp_kv and rows_needed <= MMA_WARP_KV_ROWS[-1]:
        return next(r for r in MMA_WARP_KV_ROWS if rows_needed <= r)
    fitting = [r for r in MMA_ROWS if mma_rows_fit(head_size, r)]
    for r in fitting:
        if rows_needed <= r:
            return r
    return fitting[-1]


#: One query row per sequence runs on the matrix-core kernel at GQA ratios of at least this, on the
#: architectures of :data:`MMA_ONE_TOKEN_ARCHS` (:func:`choose_kernel` gives the measurements).
MMA_ONE_TOKEN_MIN_GQA = 8
MMA_ONE_TOKEN_ARCHS = ("sm_90",)
#: ... and at any GQA ratio when a call has at most this many (sequence, KV head) pairs: the vector
#: kernel's fixed 256-key partitions then leave most SMs idle (batch 1, 8 KV heads, window 4096: 128
#: workgroups), where the matrix-core split fills the GPU (:func:`choose_kernel` gives the measurements).
MMA_ONE_TOKEN_MAX_PAIRS = 8
#: ... and at GQA ratios of at least this when the warp split serves the call (:func:`mma_warp_kv`),
#: whatever the context and window (:func:`choose_kernel` gives the measurements).
MMA_WARP_KV_MIN_GQA = 4

#: The environment variable that chooses the GPU kernel (read by gpu.py), and its values.
KERNEL_ENV = "AITER_SWA_PA_KERNEL"
KERNELS = ("auto", "vector", "mma")


def choose_kernel(gqa_ratio: int, mtp: int, multi_rows: bool, arch: str, kernel: str = "auto", pairs: int = 0,
                  warp_kv: bool = False) -> str:
    """``"vector"`` or ``"mma"`` for a call (``kernel``: gpu.py's ``KERNEL``, from :data:`KERNEL_ENV`).

    ``multi_rows``: ``cu_query_lens`` given with a row count other than one per sequence; ``pairs``:
    ``num_seqs * num_kv_heads`` (0: not known, no batch rule); ``warp_kv``: the matrix-core spec would
    take the warp split (:func:`mma_warp_kv`).
    Only the matrix-core kernel serves several query rows per sequence (``mtp > 1`` or
    ``multi_rows``). One query row per sequence, on :data:`MMA_ONE_TOKEN_ARCHS`: the matrix-core kernel
    at GQA ratios of at least :data:`MMA_ONE_TOKEN_MIN_GQA`, with at most
    :data:`MMA_ONE_TOKEN_MAX_PAIRS` pairs, or on the warp split at GQA ratios of at least
    :data:`MMA_WARP_KV_MIN_GQA`; else, and on other
    architectures, the vector kernel (every call on the matrix-core kernel with
    ``AITER_SWA_PA_KERNEL=mma``, every one-token call on the vector kernel with ``=vector``).

    Measured on an H200 (sm_90), both kernels in one run (docs/results.md, 2026-11-29 07:03 UTC, call 2:
    ``run_gpu_suite.sh mma``, issue 8's rows, bf16, block 16, µs per call, vector / matrix-core):
    GQA 8 faster on the matrix-core kernel (gpt-oss window 4096 271.0 / 196.7, the seed shape 67.8 /
    59.2, gpt-oss window 128 13.4 / 13.0); GQA 4 and 2 faster on the vector kernel (Mistral window
    4096 148.3 / 193.7, no window 603.2 / 745.9, batch 1 20.1 / 20.7; Gemma-3 44.8 / 59.2). The batch
    rule, after the matrix-core reduce took the vector reduce's batched loads (2026-11-29 09:31 UTC
    session, call 3, ``op_tests/pa_v1/split_study.py``, µs, partition + reduce kernel, vector /
    matrix-core): Mistral batch 1 (8 pairs, window 4096, 32K) 20.2 (17.3 + 2.0) / 16.0 (12.2 + 3.6),
    gpt-oss batch 1 15.4 / 13.9; Mistral batch 4 (32 pairs) 29.1 / 32.9. The long-span rule, on the
    warp split (which came after the 07:03 UTC call above; Mistral batch 32, no window, a block table of
    16384 tokens, µs, vector / matrix-core): contexts 1024 52.7 / 47.5, 4096 159.7 / 149.8, 16384
    593.6 / 555.8 (2026-11-29 17:15 UTC session, call 4); at 16384, three rounds of vector, forced
    matrix-core and ``auto`` with this rule: 589.7-591.3 / 569.1-573.9 / 552.9-577.3, and issue 8's
    no-window row 589.7 and 590.8 on the vector kernel against 576.2 and 570.5 under ``auto``
    (2026-11-29 20:38 UTC session, call 2); at window 4096 the vector kernel stayed faster then
    (147.2-148.4 against 149.0-149.4). The warp split's loop then went from 588 to 424 sm_90
    instructions per warp and tile (2026-11-29 23:37 UTC session), and the rule became GQA >= 4 on the
    warp split at any span: Mistral batch 32 (block 16, ms per call, vector / matrix-core, two rounds,
    call 3), contexts 1024, 4096 and 16384 without a window 0.0530-0.0534 / 0.0457-0.0460,
    0.1597-0.1606 / 0.1440-0.1441, 0.6028-0.6072 / 0.5355-0.5364; window 4096 at 4096 and 16384
    0.1489-0.1500 / 0.1441-0.1442, 0.1492-0.1498 / 0.1457-0.1459; window 1024 at 1024, 4096, 16384
    0.0517-0.0532 / 0.0459-0.0469. Other
    architectures keep the vector kernel for one-token calls until measured there (no AMD GPU has run
    the matrix-core kernel; its first use there is self-checked, aiter_swa/ops/pa_v1/selfcheck.py).

    Raises:
        ValueError: ``kernel`` not one of :data:`KERNELS` (the message names ``AITER_SWA_PA_KERNEL``).
        NotImplementedError: ``kernel="vector"`` with several query rows per sequence.
    """
    if kernel not in KERNELS:
        raise ValueError(f"{KERNEL_ENV}: expected one of {', '.join(KERNELS)}, got {kernel!r}")
    multi = mtp > 1 or multi_rows
    if kernel == "vector":
        if multi:
            raise NotImplementedError(
                f"mtp / cu_query_lens: {KERNEL_ENV}=vector serves one query row per sequence (mtp 1, one "
                f"cu_query_lens row per sequence); got mtp={mtp}{', rows per cu_query_lens' if multi_rows else ''}"
            )
        return "vector"
    if kernel == "mma" or multi:
        return "mma"
    if arch not in MMA_ONE_TOKEN_ARCHS:
        return "vector"
    warp_split = warp_kv and gqa_ratio >= MMA_WARP_KV_MIN_GQA
    if gqa_ratio >= MMA_ONE_TOKEN_MIN_GQA or 0 < pairs <= MMA_ONE_TOKEN_MAX_PAIRS or warp_split:
        return "mma"
    return "vector"


#: C++ element type of each dtype name (csrc/include/aiter_swa/vec.h).
CPP_ELEMENT_TYPES = {"fp16": "aiter_swa::fp16_t", "bf16": "aiter_swa::bf16_t", "fp8e4m3fn": "aiter_swa::fp8e4m3fn_t",
                     "fp8e4m3fnuz": "aiter_swa::fp8e4m3fnuz_t"}
#: Bytes per element of each dtype name.
ELEMENT_BYTES = {"fp16": 2, "bf16": 2, "fp8e4m3fn": 1, "fp8e4m3fnuz": 1}


def fp8_format_for_arch(arch: str | None) -> str:
    """The fp8 format a ``uint8`` KV cache holds on ``arch`` (None: the CPU): ``"fp8e4m3fnuz"`` on
    :data:`FNUZ_ARCHS`, else ``"fp8e4m3fn"``."""
    return "fp8e4m3fnuz" if arch in FNUZ_ARCHS else "fp8e4m3fn"


def gqa_bucket(gqa_ratio: int) -> int:
    """Smallest bucket in :data:`GQA_BUCKETS` that holds ``gqa_ratio`` query heads per KV head."""
    for b in GQA_BUCKETS:
        if gqa_ratio <= b:
            return b
    raise ValueError(
        f"num_heads / num_kv_heads: expected a GQA ratio of at most {MAX_GQA_RATIO}, got {gqa_ratio}"
    )


#: The launcher's parameters in order (csrc/templates/pa_v1.cpp.jinja renders its signature from
#: this; aiter_swa/ops/pa_v1/gpu.py builds the arguments from it). Strides are in elements. The
#: per-plan values (sizes, strides, the buffer's size, the device) are bound once per metadata key
#: (``prepare``); a call passes the pointers, the two float scalars, ``max_context_len`` and the
#: stream. The derived values (the split and the workspace offsets, which follow from
#: ``max_context_len``) are computed by the prepared launcher on each call
#: (csrc/include/aiter_swa/pa_v1/split.h, the same rule as gpu.launch_values); ``launch`` takes them.
LAUNCH = LaunchContract((
    Param("out", "ptr", "[num_seqs, num_heads, head_size] of out_dtype", per_call=True),
    Param("query", "ptr", "[num_seqs, num_heads, head_size] of q_dtype", per_call=True),
    Param("key_cache", "ptr", "paged K of kv_dtype (layout in the strides)", per_call=True),
    Param("value_cache", "ptr", "paged V of kv_dtype", per_call=True),
    Param("block_tables", "ptr", "int32 [num_seqs, bt_stride]", per_call=True),
    Param("cu_query_lens", "ptr", "int32 [num_seqs + 1] query rows of each sequence, or 0 (mtp rows each)", per_call=True),
    Param("context_lens", "ptr", "int32 [num_seqs]", per_call=True),
    Param("alibi_slopes", "ptr", "float32 [num_heads], or 0", per_call=True),
    Param("sinks", "ptr", "float32 [num_heads] attention-sink logits, or 0", per_call=True),
    Param("k_scale", "ptr", "float32 [1] fp8 K scale, or 0 (16-bit KV)", per_call=True),
    Param("v_scale", "ptr", "float32 [1] fp8 V scale, or 0 (16-bit KV)", per_call=True),
    Param("workspace", "ptr", "the workspace buffer (16-byte aligned); its arrays at the offsets below", per_call=True),
    Param("scale", "float", per_call=True),
    Param("soft_cap", "float", "<= 0: off", per_call=True),
    Param("max_context_len", "int", "context_lens entries are clamped to [0, this] on the device; the prepared "
          "launcher clamps it to max_blocks_per_seq * block_size and derives the split from it", per_call=True),
    Param("stream", "stream", "the raw stream of `device`", per_call=True),
    Param("device", "int", "GPU index of the tensors: the launch switches to it and back"),
    Param("exp_sums_offset", "int", "bytes: float32 [num_query_rows, num_heads, num_partitions] (workspace.layout)",
          derived=True),
    Param("max_logits_offset", "int", "bytes: float32 [num_query_rows, num_heads, num_partitions]", derived=True),
    Param("tmp_out_offset", "int", "bytes: out_dtype [num_query_rows, num_heads, num_partitions, head_size]",
          derived=True),
    Param("num_seqs", "int"),
    Param("num_heads", "int"),
    Param("num_kv_heads", "int"),
    Param("num_partitions", "int", "split-K partitions per sequence (grid z); <= 1: no reduce", derived=True),
    Param("bt_stride", "int"),
    Param("q_stride_seq", "int"),
    Param("q_stride_head", "int"),
    Param("o_stride_seq", "int"),
    Param("o_stride_head", "int"),
    Param("k_stride_block", "int"),
    Param("k_stride_head", "int"),
    Param("k_stride_token", "int"),
    Param("v_stride_block", "int"),
    Param("v_stride_head", "int"),
    Param("v_stride_token", "int"),
    Param("sliding_window", "int", "tokens; <= 0: off (saturated to int32 by the kernel: exact, contexts are int32)"),
    Param("num_blocks", "int", "key_cache.shape[0]: a block id outside [0, num_blocks) is never dereferenced"),
    Param("block_size", "int", "tokens per cache block, >= 1"),
    Param("mtp", "int", "query tokens per sequence at most (rows s * mtp + i without cu_query_lens)"),
    Param("num_query_rows", "int", "query.shape[0]: rows outside [0, this) are neither read nor written"),
    Param("cu_len", "int", "entries of cu_query_lens: num_seqs + 1, or num_seqs (the last end: num_query_rows); 0: none"),
    Param("partition_size", "int", "keys per split-K partition (mma kernel: a multiple of its key tile; "
          "the vector kernel's is PARTITION_SIZE)", derived=True),
    Param("key_tile", "int", "keys per tile of the matrix-core kernel the call runs: the spec's, or with its long "
          "form (mma_long_form) MMA_LONG_KEY_TILE; 0: the vector kernel", derived=True),
    Param("max_blocks_per_seq", "int", "block_tables.shape[1]: max_context_len is clamped to it * block_size"),
    Param("workspace_bytes", "int", "bytes of the workspace buffer: a split that needs more is an error"),
    Param("num_cus", "int", "SMs / CUs of the device (the matrix-core kernel's split aims at them)"),
))  # fmt: skip


@dataclasses.dataclass(frozen=True)
class PaV1Spec(KernelSpec):
    """One pa_v1 specialization.

    Fields:
        q_dtype, kv_dtype, out_dtype: element types of the query, the KV cache and the output (and of
            the split-K partial outputs): ``"fp16"`` or ``"bf16"``; the KV cache also
            ``"fp8e4m3fn"`` or ``"fp8e4m3fnuz"``.
        head_size: elements per head (one of :data:`SUPPORTED_HEAD_SIZES`).
        gqa: query heads per KV head served by one workgroup (a GQA bucket: 1, 2, 4, 8 or 16);
            the actual ratio is passed at run time and may be smaller.
        sliding_window: compile the window code (``SLIDING_WINDOW_ENABLED``).
        soft_cap: compile the logit soft cap ``c * tanh(x / c)``.
        alibi: compile the ALiBi bias.
        arch: offload target, ``gfx942`` / ``gfx90a`` (HIP) or ``sm_90`` style (CUDA).
        mma_rows: 0: the vector kernel (kernel.h); 16, 32 or 64: the matrix-core kernel
            (mma_kernel.h) with that many query rows (GQA heads x query tokens) per workgroup; its
            GQA ratio is a run-time value, so ``gqa`` is 1 in these specs.
    """

    op = "pa_v1"
    template = "pa_v1.cpp.jinja"

    q_dtype: str
    kv_dtype: str
    out_dtype: str
    head_size: int
    gqa: int
    sliding_window: bool
    soft_cap: bool
    alibi: bool
    arch: str
    mma_rows: int = 0

    def __post_init__(self):
        super().__post_init__()
        for f in ("q_dtype", "kv_dtype", "out_dtype"):
            if getattr(self, f) not in CPP_ELEMENT_TYPES:
                raise ValueError(f"PaV1Spec.{f}: expected one of {tuple(CPP_ELEMENT_TYPES)}, got {getattr(self, f)!r}")

    @property
    def mma_ring(self) -> bool:
        """Matrix-core specs: the K/V ring (:func:`mma_ring`) or the register prefetch."""
        return bool(self.mma_rows) and mma_ring(self.arch, self.q_dtype, self.kv_dtype, self.head_size, self.mma_rows)

    @property
    def mma_warp_kv(self) -> bool:
        """Matrix-core specs: the warp split of the key tile (:func:`mma_warp_kv`) or the column split."""
        return bool(self.mma_rows) and mma_warp_kv(self.arch, self.q_dtype, self.kv_dtype, self.head_size,
                                                   self.mma_rows)

    @property
    def mma_stages(self) -> int:
        """Matrix-core specs: the K/V ring's stages (:func:`mma_stages`); 2 otherwise (unused)."""
        return mma_stages(self.arch, self.head_size, self.mma_rows, self.mma_warp_kv) if self.mma_rows else 2

    @property
    def key_tile(self) -> int:
        """Keys per tile of a matrix-core spec (:func:`mma_key_tile` of its path); 0 for the vector kernel."""
        return mma_key_tile(self.head_size, self.mma_rows, self.mma_ring, self.mma_warp_kv) if self.mma_rows else 0

    @property
    def mma_workgroups_per_cu(self) -> int:
        """Workgroups per SM/CU the split counts as one wave: NVIDIA the fewer of :func:`mma_workgroups_per_sm`
        (the launch bound) and the workgroups the SM's shared memory holds (:data:`SMEM_PER_SM`, 1 KiB reserved
        per workgroup; the same on sm_90 for every spec; sm_86 and sm_89's 100 KiB hold 2 warp-split workgroups
        of 16 rows, not the bound's 4), AMD :data:`MMA_TARGET_WORKGROUPS_PER_CU`."""
        if not self.arch.startswith("sm_"):
            return MMA_TARGET_WORKGROUPS_PER_CU
        bound = mma_workgroups_per_sm(self.head_size, self.mma_rows, self.mma_ring, self.mma_warp_kv)
        smem = mma_smem_bytes(self.head_size, self.mma_rows, self.key_tile, self.mma_ring, self.mma_warp_kv,
                              self.mma_stages)
        return max(1, min(bound, _workgroups_in_smem(self.arch, smem)))

    @property
    def mma_long(self) -> bool:
        """Matrix-core specs: whether the module also holds the warp split's long form (:func:`mma_long_form`),
        which a call runs when its split gives partitions of at least :data:`MMA_LONG_MIN_PARTITION_KEYS` keys."""
        return bool(self.mma_rows) and mma_long_form(self.arch, self.q_dtype, self.kv_dtype, self.head_size,
                                                     self.mma_rows)

    def mma_form(self, key_tile: int) -> dict:
        """The matrix-core kernel of this spec that runs key tiles of ``key_tile`` keys (the ``key_tile``
        launch value): ``key_tile``, ``stages``, ``min_workgroups_per_sm`` (its launch bound) and
        ``target_per_cu`` (its split's wave). The spec's own form, or with :attr:`mma_long` its long form;
        ValueError for another key tile."""
        if key_tile == self.key_tile:
            return dict(key_tile=key_tile, stages=self.mma_stages, target_per_cu=self.mma_workgroups_per_cu,
                        min_workgroups_per_sm=mma_workgroups_per_sm(self.head_size, self.mma_rows, self.mma_ring,
                                                                    self.mma_warp_kv))  # fmt: skip
        if self.mma_long and key_tile == MMA_LONG_KEY_TILE:
            return dict(key_tile=key_tile, stages=MMA_LONG_STAGES, target_per_cu=MMA_LONG_WORKGROUPS_PER_SM,
                        min_workgroups_per_sm=MMA_LONG_WORKGROUPS_PER_SM)  # fmt: skip
        raise ValueError(f"{self.name}: key_tile: expected {self.key_tile}"
                         f"{f' or {MMA_LONG_KEY_TILE}' if self.mma_long else ''}, got {key_tile}")

    def name_parts(self) -> list:
        """e.g. ``bf16 hs128 g8 swa`` (``kv<dtype>`` / ``o<dtype>`` only where they differ from the query's)."""
        parts = [self.q_dtype]
        if self.kv_dtype != self.q_dtype:
            parts.append(f"kv{self.kv_dtype}")
        if self.out_dtype != self.q_dtype:
            parts.append(f"o{self.out_dtype}")
        parts += [f"hs{self.head_size}", f"mma{self.mma_rows}" if self.mma_rows else f"g{self.gqa}"]
        parts += [flag for flag, on in (("swa", self.sliding_window), ("cap", self.soft_cap), ("alibi", self.alibi)) if on]
        return parts

    def extra_template_vars(self) -> dict:
        return {
            "q_type": CPP_ELEMENT_TYPES[self.q_dtype],
            "kv_type": CPP_ELEMENT_TYPES[self.kv_dtype],
            "out_type": CPP_ELEMENT_TYPES[self.out_dtype],
            "partition_size": PARTITION_SIZE,
            "key_tile": self.key_tile,
            "mma_ring": self.mma_ring,
            "mma_warp_kv": self.mma_warp_kv,
            "mma_stages": self.mma_stages,
            "mma_min_workgroups_per_sm": mma_workgroups_per_sm(self.head_size, self.mma_rows, self.mma_ring,
                                                               self.mma_warp_kv) if self.mma_rows else 0,
            "num_threads": NUM_THREADS,
            "mma_target_per_cu": self.mma_workgroups_per_cu if self.mma_rows else MMA_TARGET_WORKGROUPS_PER_CU,
            "mma_min_wave_fill": repr(float(MMA_MIN_WAVE_FILL)),
            "mma_saturating_per_cu": MMA_SATURATING_WORKGROUPS_PER_CU,
            "mma_max_wave_partition_bytes": MMA_MAX_WAVE_PARTITION_BYTES,
            "mma_min_partition_keys": MMA_MIN_PARTITION_KEYS,
            "mma_long": self.mma_long,
            "long_key_tile": MMA_LONG_KEY_TILE if self.mma_long else 0,
            "long_stages": MMA_LONG_STAGES,
            "long_min_workgroups_per_sm": MMA_LONG_WORKGROUPS_PER_SM,
            "long_min_partition_keys": MMA_LONG_MIN_PARTITION_KEYS,
            # > 0 also renders AITER_SWA_PROGRAMMATIC_LAUNCH (the device side of the launch)
            "programmatic_reduce_max_per_cu": (PROGRAMMATIC_REDUCE_MAX_WORKGROUPS_PER_CU
                                               if programmatic_launch(self.arch) else 0),
            "q_vec_bytes": VEC_ELEMS * ELEMENT_BYTES[self.q_dtype],
            "kv_vec_bytes": VEC_ELEMS * ELEMENT_BYTES[self.kv_dtype],
            **LAUNCH.template_vars(),
        }


def _supported(v: dict) -> bool:
    """Query and output of one 16-bit type; the KV cache of that type or fp8 (fp8 output: not yet).
    Matrix-core specs: ``gqa`` 1 (a run-time value there) and rows within the accumulator budget."""
    mma_ok = v["mma_rows"] == 0 or (v["gqa"] == 1 and mma_rows_fit(v["head_size"], v["mma_rows"]))
    return mma_ok and v["q_dtype"] == v["out_dtype"] and (v["kv_dtype"] == v["q_dtype"] or v["kv_dtype"] in FP8_KV_DTYPES)


def _default(v: dict, arch: str) -> bool:
    """The default pre-build: per arch only the fp8 format its serving engines store
    (:func:`fp8_format_for_arch`); ``--kv-dtype`` chooses others explicitly."""
    return v["kv_dtype"] not in FP8_KV_DTYPES or v["kv_dtype"] == fp8_format_for_arch(arch)


def _from_hf_config(config: dict, **options):
    """The op table's model hook (``--hf-config``): :func:`aiter_swa.ops.pa_v1.models.from_hf_config`."""
    from .models import from_hf_config  # models imports this module

    return from_hf_config(config, **options)


OP = register_op(OpDef(
    name="pa_v1",
    spec_type=PaV1Spec,
    axes={
        "q_dtype": GPU_DTYPES, "kv_dtype": KV_DTYPES, "out_dtype": GPU_DTYPES,
        "head_size": SUPPORTED_HEAD_SIZES, "gqa": GQA_BUCKETS,
        "sliding_window": (False, True), "soft_cap": (False, True), "alibi": (False, True),
        "mma_rows": (0,) + MMA_ROWS,
    },
    supported=_supported,
    default=_default,
    default_axes=("kv_dtype",),
    description="paged-attention decode with sliding window",
    from_hf_config=_from_hf_config,
))  # fmt: skip
