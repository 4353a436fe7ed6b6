// Runs the pa_v1 kernels on the CPU through the emulation of hip/hip_runtime.h and warp_mma.h (op_tests
// only): the matrix-core kernels (csrc/include/aiter_swa/pa_v1/mma_kernel.h) when EMU_ROWS > 0, else the
// vector kernels (kernel.h; EMU_GQA, EMU_P = PARTITION_SIZE, EMU_NT = NUM_THREADS). One specialization
// per build, from -D flags (EMU_TQ, EMU_TKV, EMU_TOUT, EMU_HS, EMU_ROWS, EMU_KT, EMU_SW, EMU_CAP,
// EMU_ALIBI, EMU_RING, EMU_MINWG, EMU_WARPKV, EMU_STAGES and AITER_SWA_WAVEFRONT_SIZE); "launch_args.h" (written by the test from
// aiter_swa/ops/pa_v1/spec.py LAUNCH) defines LaunchArgs, the launcher's parameters, so emu_launch
// takes exactly what the GPU launcher takes and builds PaParams with the kernel's own make_params.
#include <cstdio>

#define AITER_SWA_NO_HOST_LAUNCH 1
#define AITER_SWA_EMULATED_MMA 1
#include "hip/hip_runtime.h"
#include "aiter_swa/pa_v1/mma_kernel.h"
#include "launch_args.h"
#include "warp_mma.h"

using namespace aiter_swa;
using namespace aiter_swa::pa_v1;

#if EMU_ROWS > 0
using Spec = MmaSpec<EMU_TQ, EMU_TKV, EMU_TOUT, EMU_HS, EMU_ROWS, EMU_KT, EMU_SW != 0, EMU_CAP != 0, EMU_ALIBI != 0,
                     EMU_RING != 0, EMU_MINWG, EMU_WARPKV != 0, EMU_STAGES>;

// Whether the kernel compiled here takes the K/V ring (MmaSpec::RING), as the kernel itself sees it.
extern "C" int emu_ring() { return Spec::RING ? 1 : 0; }
// Its shared memory per workgroup (mma_smem_bytes: the kernel asserts that it is what it declares).
extern "C" int emu_smem_bytes() {
  return mma_smem_bytes(Spec::HEAD_SIZE, Spec::ROWS, Spec::KEY_TILE, Spec::RING, Spec::WARP_KV, Spec::STAGES);
}
// Whether it splits the key tile over its warps (MmaSpec::WARP_KV).
extern "C" int emu_warp_kv() { return Spec::WARP_KV ? 1 : 0; }

// The grids of launch_mma (mma_kernel.h), workgroup after workgroup; the reduce has wavefront barriers (lse_merge).
extern "C" int emu_launch(const LaunchArgs* a) {
  if (a->num_seqs == 0) return 0;
  PaParams p = make_params(*a);
  p.num_chunks = int((a->mtp * p.gqa_ratio + Spec::ROWS - 1) / Spec::ROWS);
  const int parts = p.num_partitions > 1 ? p.num_partitions : 1;
  for (int z = 0; z < parts; ++z)
    for (int y = 0; y < int(a->num_kv_heads) * p.num_chunks; ++y)
      for (int x = 0; x < int(a->num_seqs); ++x)
        emu::run_block(dim3(x, y, z), Spec::NUM_THREADS, [&] { mma_partition_kernel<Spec>(p); });
  if (p.num_partitions > 1)
    for (int z = 0; z < int(a->mtp); ++z)
      for (int y = 0; y < int(a->num_heads); ++y)
        for (int x = 0; x < int(a->num_seqs); ++x)
          emu::run_block(dim3(x, y, z), lse_merge_threads(Spec::HEAD_SIZE), [&] { mma_reduce_kernel<Spec>(p); });
  return 0;
}
#else
using Spec = PaSpec<EMU_TQ, EMU_TKV, EMU_TOUT, EMU_HS, EMU_GQA, EMU_SW != 0, EMU_CAP != 0, EMU_ALIBI != 0, EMU_P, EMU_NT>;

// The grids of launch (kernel.h), workgroup after workgroup; the reduce has wavefront barriers (lse_merge).
extern "C" int emu_launch(const LaunchArgs* a) {
  if (a->num_seqs == 0) return 0;
  const PaParams p = make_params(*a);
  const int parts = p.num_partitions > 1 ? p.num_partitions : 1;
  for (int z = 0; z < parts; ++z)
    for (int y = 0; y < int(a->num_kv_heads); ++y)
      for (int x = 0; x < int(a->num_seqs); ++x)
        emu::run_block(dim3(x, y, z), Spec::NUM_THREADS, [&] { partition_kernel<Spec>(p); });
  if (p.num_partitions > 1)
    for (int y = 0; y < int(a->num_heads); ++y)
      for (int x = 0; x < int(a->num_seqs); ++x)
        emu::run_block(dim3(x, y, 0), lse_merge_threads(Spec::HEAD_SIZE), [&] { reduce_kernel<Spec>(p); });
  return 0;
}
#endif

// 16-byte copies async_copy16 (async_copy.h) issued in this process so far: the ring's, 0 on the register path.
extern "C" long long emu_async_copies() { return aiter_swa::async_copy_count.load(); }
extern "C" long long emu_misaligned_vector_stores() { return misaligned_vector_stores.load(); }

// BlockDivider (paged_kv.h) as the kernels use it: block_size's divider made on the host, t / block_size.
extern "C" int emu_block_of(int block_size, int t) { return BlockDivider::make(block_size).block_of(t); }
