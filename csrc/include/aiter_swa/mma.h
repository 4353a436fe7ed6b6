// Matrix-core fragments: the one place that knows how a 16 x K x N matrix multiply-accumulate spreads
// its operands over the lanes of a wavefront. Kernels (pa_v1/mma_kernel.h) only use the constants,
// the fragment types, the loaders and mma(); each architecture's mapping is below.
//
//   D[16 x N] (fp32) += A[16 x 16] (16-bit) * B[16 x N] (16-bit)
//
// Elements are named by (row, col) of their matrix: A[i][k], B[k][j], C/D[i][j]. A fragment holds
// its 16-bit elements in pairs: element 2p in the low half of 32-bit register p, element 2p + 1 in
// the high half; both architectures put consecutive k of one row (A) / one column (B) in a pair.
//
// NVIDIA, 32 lanes: mma.sync.aligned.m16n8k16.row.col.f32.{f16,bf16}.{f16,bf16}.f32 (sm_80+), N = 8.
//   Source: PTX ISA, "Matrix Fragments for mma.m16n8k16 with floating point type". With
//   g = lane >> 2 (groupID) and t = lane % 4 (threadID_in_group):
//   A a0..a7:  row = g for i in {0,1,4,5}, g + 8 otherwise; col = 2t + (i & 1), + 8 for i >= 4
//   B b0..b3:  row (k) = 2t + (i & 1), + 8 for i >= 2;      col (n) = g
//   C c0..c3:  row = g for i < 2, g + 8 otherwise;           col = 2t + (i & 1)
// AMD CDNA2/CDNA3, 64 lanes: v_mfma_f32_16x16x16f16 / v_mfma_f32_16x16x16bf16_1k (gfx90a, gfx942;
//   gfx942's ISA names the latter v_mfma_f32_16x16x16_bf16), N = 16. Source: AMD Matrix Instruction
//   Calculator (ROCm/amd_matrix_instruction_calculator, --matrix-layout for cdna2 and cdna3), which
//   prints for element e (0..3) of lane l:
//   A: A[l % 16][4 * (l / 16) + e]     B: B[4 * (l / 16) + e][l % 16]     D: D[4 * (l / 16) + e][l % 16]
//
// The CPU emulator of the tests (op_tests/testlib/emulator) defines AITER_SWA_EMULATED_MMA and
// provides emu::warp_mma, which gathers every lane's fragments and computes each lane's D elements
// from its own transcription of the tables above.
#pragma once

#include <type_traits>

#include "aiter_swa/compat.h"
#include "aiter_swa/vec.h"

namespace aiter_swa {
namespace mma {

constexpr int kM = 16;  // rows of A, C
constexpr int kK = 16;  // reduction
#if AITER_SWA_WAVEFRONT_SIZE == 64
constexpr int kN = 16;
constexpr int kAElems = 4, kBElems = 4, kCElems = 4;
__host__ __device__ constexpr int a_row(int lane, int) { return lane % 16; }
__host__ __device__ constexpr int a_col(int lane, int e) { return 4 * (lane / 16) + e; }
__host__ __device__ constexpr int b_row(int lane, int e) { return 4 * (lane / 16) + e; }
__host__ __device__ constexpr int b_col(int lane, int) { return lane % 16; }
__host__ __device__ constexpr int c_row(int lane, int e) { return 4 * (lane / 16) + e; }
__host__ __device__ constexpr int c_col(int lane, int) { return lane % 16; }
#else
constexpr int kN = 8;
constexpr int kAElems = 8, kBElems = 4, kCElems = 4;
__host__ __device__ constexpr int a_row(int lane, int e) { return (lane >> 2) + ((e >> 1) & 1) * 8; }
__host__ __device__ constexpr int a_col(int lane, int e) { return (lane % 4) * 2 + (e & 1) + (e >= 4 ? 8 : 0); }
__host__ __device__ constexpr int b_row(int lane, int e) { return (lane % 4) * 2 + (e & 1) + (e >= 2 ? 8 : 0); }
__host__ __device__ constexpr int b_col(int lane, int) { return lane >> 2; }
__host__ __device__ constexpr int c_row(int lane, int e) { return (lane >> 2) + (e >= 2 ? 8 : 0); }
__host__ __device__ constexpr int c_col(int lane, int e) { return (lane % 4) * 2 + (e & 1); }
#endif

struct FragA {
  uint32_t r[kAElems / 2];
};
struct FragB {
  uint32_t r[kBElems / 2];
};
struct FragC {
  float c[kCElems];
};

__device__ __forceinline__ void zero(FragC& f) {
#pragma unroll
  for (int e = 0; e < kCElems; ++e) f.c[e] = 0.f;
}

// 16-bit element types only (fp16_t, bf16_t: vec.h). `tile` points at element (0, 0) of the operand in
// shared memory; ld: elements between rows. ld and every column offset: multiples of 8 (NVIDIA reads
// whole 16-byte rows of 8 x 8 sub-matrices with ldmatrix; elsewhere 32-bit pairs / 16-bit elements).
//
// NVIDIA (sm_75+, not the CPU emulator): ldmatrix.sync.aligned.m8n8.{x4,x2}[.trans].shared.b16 (PTX ISA,
// "Warp-level matrix load instruction: ldmatrix"): lanes 8i .. 8i + 7 give the row addresses of 8 x 8
// matrix i; lane l receives, per matrix i, register i = its rows' elements (l / 4, 2 (l % 4)) and
// (l / 4, 2 (l % 4) + 1), or with .trans (2 (l % 4), l / 4) and (2 (l % 4) + 1, l / 4): exactly the
// fragment pairs of the table above, with A's four pairs = matrices (rows 0-7, cols 0-7), (rows 8-15,
// cols 0-7), (rows 0-7, cols 8-15), (rows 8-15, cols 8-15) and B's two = k 0-7, k 8-15. One ldmatrix
// replaces four 32-bit loads (A), two (B, n-major) or four 16-bit loads and packing (B, k-major).
// The CPU emulator runs the generic loaders (same fragments); the GPU tests run these.
#if !defined(AITER_SWA_EMULATED_MMA) && !defined(AITER_SWA_HIP) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 750
#define AITER_SWA_LDMATRIX 1
__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}
// ldmatrix .x4 (.trans with TRANS): the four 8 x 8 matrices whose rows lanes 8i .. 8i + 7 give (`row`,
// this lane's) into r[0] .. r[3].
template <bool TRANS>
__device__ __forceinline__ void ldmatrix_x4(uint32_t& r0, uint32_t& r1, uint32_t& r2, uint32_t& r3, const void* row) {
  if constexpr (TRANS)
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
                 : "r"(smem_addr(row)));
  else
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
                 : "r"(smem_addr(row)));
}
#else
#define AITER_SWA_LDMATRIX 0
#endif
template <typename T>
__device__ __forceinline__ uint16_t bits_at(const T* p) {
  return reinterpret_cast<const uint16_t*>(p)[0];
}

// A[i][k] at tile[i * ld + k] (row-major [16][16]).
template <typename T>
__device__ __forceinline__ void load_a(FragA& f, const T* tile, int ld, int lane) {
#if AITER_SWA_LDMATRIX
  const T* row = tile + ((lane % 8) + ((lane / 8) % 2) * 8) * ld + (lane / 16) * 8;
  ldmatrix_x4<false>(f.r[0], f.r[1], f.r[2], f.r[3], row);
  return;
#endif
#pragma unroll
  for (int p = 0; p < kAElems / 2; ++p)
    f.r[p] = *reinterpret_cast<const uint32_t*>(tile + a_row(lane, 2 * p) * ld + a_col(lane, 2 * p));
}

// Where element (r, c) of an operand tile lies in shared memory (offsets in elements from the tile's
// element (0, 0)): Padded, rows of ld elements (ld a multiple of 8, rows padded by 8 elements stagger the
// banks); Swizzled, unpadded rows of ld elements (ld a multiple of 64) whose 16-byte chunks are permuted
// by chunk ^ (r % 8), as the permuted shared-memory layouts of CUTLASS and FlashInfer: the 8 rows that
// one 8 x 8 ldmatrix matrix reads (from a row r0 with r0 % 8 == 0) then lie in 8 different chunk
// columns, so its 8 16-byte reads hit all 32 banks once (unpadded rows of 128 or 256 bytes would put
// them in the same 4 banks).
struct Padded {
  int ld;
  __host__ __device__ constexpr int operator()(int r, int c) const { return r * ld + c; }
};
struct Swizzled {
  int ld;
  __host__ __device__ constexpr int operator()(int r, int c) const {
    return r * ld + ((((c >> 3) ^ r) & 7) | ((c >> 3) & ~7)) * 8 + (c & 7);
  }
};

// B[k][j] at tile[at(r0 + j, c0 + k)] ([N][16] row-major: B's columns are rows of memory, e.g. key rows
// for q.k); r0, c0: multiples of 8.
template <typename T, typename Layout>
__device__ __forceinline__ void load_b_nk(FragB& f, const T* tile, Layout at, int r0, int c0, int lane) {
#if AITER_SWA_LDMATRIX
  const T* row = tile + at(r0 + lane % 8, c0 + ((lane / 8) % 2) * 8);  // lanes 16-31: ignored (x2), in range
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n"
               : "=r"(f.r[0]), "=r"(f.r[1])
               : "r"(smem_addr(row)));
  return;
#endif
#pragma unroll
  for (int p = 0; p < kBElems / 2; ++p)
    f.r[p] = *reinterpret_cast<const uint32_t*>(tile + at(r0 + b_col(lane, 2 * p), c0 + b_row(lane, 2 * p)));
}
template <typename T>
__device__ __forceinline__ void load_b_nk(FragB& f, const T* tile, int ld, int lane) {
  load_b_nk(f, tile, Padded{ld}, 0, 0, lane);
}

// B[k][j] at tile[at(r0 + k, c0 + j)] ([16][N] row-major, e.g. value rows for p.v): two 16-bit reads per pair.
template <typename T, typename Layout>
__device__ __forceinline__ void load_b_kn(FragB& f, const T* tile, Layout at, int r0, int c0, int lane) {
#if AITER_SWA_LDMATRIX
  const T* row = tile + at(r0 + lane % 16, c0);  // lanes 16-31: ignored (x2), in range
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];\n"
               : "=r"(f.r[0]), "=r"(f.r[1])
               : "r"(smem_addr(row)));
  return;
#endif
#pragma unroll
  for (int p = 0; p < kBElems / 2; ++p) {
    const int k = r0 + b_row(lane, 2 * p), j = c0 + b_col(lane, 2 * p);
    f.r[p] = uint32_t(bits_at(tile + at(k, j))) | (uint32_t(bits_at(tile + at(k + 1, j))) << 16);
  }
}
template <typename T>
__device__ __forceinline__ void load_b_kn(FragB& f, const T* tile, int ld, int lane) {
  load_b_kn(f, tile, Padded{ld}, 0, 0, lane);
}

// Two B operands per ldmatrix (.x4; 32 lanes, else two loads): load_b_nk2 those at (r0, c0) and (r0 + 8, c0)
// (two 8-key tiles of K), load_b_kn2 those at (r0, c0) and (r0, c0 + 8) (two 8-column tiles of V); the
// instruction's matrices 2 and 3 (lanes 16-31's rows) are the second operand's halves.
template <typename T, typename Layout>
__device__ __forceinline__ void load_b_nk2(FragB& f0, FragB& f1, const T* tile, Layout at, int r0, int c0, int lane) {
#if AITER_SWA_LDMATRIX && AITER_SWA_WAVEFRONT_SIZE == 32
  const T* row = tile + at(r0 + lane % 8 + (lane / 16) * 8, c0 + ((lane / 8) % 2) * 8);
  ldmatrix_x4<false>(f0.r[0], f0.r[1], f1.r[0], f1.r[1], row);
  return;
#endif
  load_b_nk(f0, tile, at, r0, c0, lane);
  load_b_nk(f1, tile, at, r0 + kN, c0, lane);
}
template <typename T, typename Layout>
__device__ __forceinline__ void load_b_kn2(FragB& f0, FragB& f1, const T* tile, Layout at, int r0, int c0, int lane) {
#if AITER_SWA_LDMATRIX && AITER_SWA_WAVEFRONT_SIZE == 32
  const T* row = tile + at(r0 + lane % 16, c0 + (lane / 16) * 8);
  ldmatrix_x4<true>(f0.r[0], f0.r[1], f1.r[0], f1.r[1], row);
  return;
#endif
  load_b_kn(f0, tile, at, r0, c0, lane);
  load_b_kn(f1, tile, at, r0, c0 + kN, lane);
}

// The A fragment of a 16 x 16 operand (e.g. the softmax weights P: rows x keys) from the C fragments of its
// two 16 x 8 halves (columns 0-7: c0, 8-15: c1), each as two 32-bit words of 16-bit elements (word 0:
// C elements 0 and 1, low half first; word 1: elements 2 and 3, e.g. vec.h pack2): the register reuse of
// FlashAttention-2's m16n8k16 kernels. From the table above: A pair 0 = (g, 2t), (g, 2t + 1) = c0 elements
// 0, 1; pair 1 = (g + 8, 2t ...) = c0 elements 2, 3; pairs 2, 3 the same of c1 (columns + 8). No lane
// exchange: every A element of a lane is a C element of the same lane. AMD's 16x16x16 layout has no such
// identity (C holds a column per lane, A a row): only an instantiation for 32 lanes compiles.
template <int W = kWarpSize>
__device__ __forceinline__ void c_pair_to_a(FragA& a, const uint32_t (&c0)[2], const uint32_t (&c1)[2]) {
  static_assert(W == 32, "c_pair_to_a: the 32-lane m16n8k16 layout");
  a.r[0] = c0[0];
  a.r[1] = c0[1];
  a.r[2] = c1[0];
  a.r[3] = c1[1];
}

}  // namespace mma
}  // namespace aiter_swa

#if defined(AITER_SWA_EMULATED_MMA)
namespace emu {
template <bool IS_BF16>
void warp_mma(aiter_swa::mma::FragC& c, const aiter_swa::mma::FragA& a, const aiter_swa::mma::FragB& b);
}  // namespace emu
#endif

namespace aiter_swa {
namespace mma {

// c += A * B (fp32 accumulation) for the whole wavefront; every lane must call it (no divergence).
template <typename T>
__device__ __forceinline__ void mma(FragC& c, const FragA& a, const FragB& b) {
  static_assert(std::is_same<T, fp16_t>::value || std::is_same<T, bf16_t>::value, "mma: fp16 or bf16 operands");
  constexpr bool kBf16 = std::is_same<T, bf16_t>::value;
#if defined(AITER_SWA_EMULATED_MMA)
  emu::warp_mma<kBf16>(c, a, b);
#elif defined(AITER_SWA_HIP)
#if defined(__HIP_DEVICE_COMPILE__)
  typedef float f32x4 __attribute__((ext_vector_type(4)));
  f32x4 acc = {c.c[0], c.c[1], c.c[2], c.c[3]};
  if constexpr (kBf16) {
    typedef short i16x4 __attribute__((ext_vector_type(4)));
    acc = __builtin_amdgcn_mfma_f32_16x16x16bf16_1k(__builtin_bit_cast(i16x4, a.r), __builtin_bit_cast(i16x4, b.r),
                                                      acc, 0, 0, 0);
  } else {
    typedef _Float16 f16x4 __attribute__((ext_vector_type(4)));
    acc = __builtin_amdgcn_mfma_f32_16x16x16f16(__builtin_bit_cast(f16x4, a.r), __builtin_bit_cast(f16x4, b.r), acc,
                                                0, 0, 0);
  }
#pragma unroll
  for (int e = 0; e < 4; ++e) c.c[e] = acc[e];
#endif
#else
#if defined(__CUDA_ARCH__)
  if constexpr (kBf16) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(c.c[0]), "+f"(c.c[1]), "+f"(c.c[2]), "+f"(c.c[3])
        : "r"(a.r[0]), "r"(a.r[1]), "r"(a.r[2]), "r"(a.r[3]), "r"(b.r[0]), "r"(b.r[1]));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(c.c[0]), "+f"(c.c[1]), "+f"(c.c[2]), "+f"(c.c[3])
        : "r"(a.r[0]), "r"(a.r[1]), "r"(a.r[2]), "r"(a.r[3]), "r"(b.r[0]), "r"(b.r[1]));
  }
#endif
#endif
}

}  // namespace mma
}  // namespace aiter_swa
