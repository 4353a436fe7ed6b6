// Host emulation of the HIP device features the kernels use, so that their device code runs on the CPU
// (op_tests only). One std::thread per GPU thread of a workgroup (emu::run_block), a std::barrier for
// __syncthreads, one per wavefront for the wavefront collectives (__shfl_xor, and the matrix-core
// fragments' emu::warp_mma of warp_mma.h), __shared__ as function-static storage (workgroups run one
// after another). The wavefront size is the translation unit's AITER_SWA_WAVEFRONT_SIZE (32: the
// NVIDIA mapping of mma.h, 64: the AMD one).
#pragma once

// compat.h's wave_sync() takes emu::wave_sync() below
#define AITER_SWA_EMULATOR 1

#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))
// dynamic shared memory (compat.h): static storage of 256 KiB, more than any launch asks for
#define AITER_SWA_EXTERN_SHARED(T, name) alignas(16) static T name[(256 * 1024) / sizeof(T)]

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  dim3() = default;
  dim3(unsigned a, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
// The 16-byte vector types, 16-byte aligned as CUDA's and HIP's: a GPU faults on a 16-byte access at
// an address that is not a multiple of 16, where the CPU would not, so a store through one at such an
// address is counted (misaligned_vector_stores; the tests assert none) and then done as the CPU does.
// (The address is made opaque first: the compiler may otherwise take the type's alignment as given and
// fold the test.)
inline std::atomic<long long> misaligned_vector_stores{0};
template <class T>
struct alignas(16) Vec4 {
  T x, y, z, w;
  Vec4& operator=(const Vec4& o) {
    uintptr_t at = reinterpret_cast<uintptr_t>(static_cast<const void*>(this));
    asm volatile("" : "+r"(at));
    if (at % 16 != 0) misaligned_vector_stores.fetch_add(1, std::memory_order_relaxed);
    x = o.x, y = o.y, z = o.z, w = o.w;
    return *this;
  }
};
using uint4 = Vec4<unsigned>;
using float4 = Vec4<float>;
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
struct uint2 {
  unsigned x, y;
};
inline uint2 make_uint2(unsigned x, unsigned y) { return uint2{x, y}; }
struct int2 {
  int x, y;
};
inline int2 make_int2(int x, int y) { return int2{x, y}; }
using hipStream_t = void*;
using hipError_t = int;
#define hipSuccess 0
inline int hipGetLastError() { return 0; }
inline int hipPeekAtLastError() { return 0; }
inline const char* hipGetErrorString(int) { return "emulated"; }
inline int hipGetDevice(int* device) {
  *device = 0;
  return hipSuccess;
}
inline int hipSetDevice(int) { return hipSuccess; }

namespace emu {
constexpr int kWave = AITER_SWA_WAVEFRONT_SIZE;
inline thread_local dim3 thread_idx, block_idx;
inline std::barrier<>* block_barrier = nullptr;
// Per wavefront of the running workgroup: its barrier and one 64-bit exchange slot per lane (x 16 for
// the fragments of warp_mma).
struct Wave {
  std::unique_ptr<std::barrier<>> bar;
  uint64_t slot[kWave];
  uint32_t frag[kWave][16];
};
inline std::vector<Wave>* waves = nullptr;
inline std::atomic<int> or_acc{0};

inline Wave& my_wave() { return (*waves)[thread_idx.x / kWave]; }

// Runs `kernel()` as workgroup `block` of `threads` threads; a last wavefront of fewer than kWave threads
// has only those lanes (a collective reading an absent lane reads whatever its slot holds, as undefined as
// on the GPU).
inline void run_block(dim3 block, int threads, const std::function<void()>& kernel) {
  std::barrier<> bar(threads);
  std::vector<Wave> w((threads + kWave - 1) / kWave);
  for (size_t i = 0; i < w.size(); ++i)
    w[i].bar = std::make_unique<std::barrier<>>(std::min<std::ptrdiff_t>(kWave, threads - std::ptrdiff_t(i) * kWave));
  block_barrier = &bar;
  waves = &w;
  or_acc = 0;
  std::vector<std::thread> ts;
  ts.reserve(threads);
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      thread_idx = dim3(t);
      block_idx = block;
      kernel();
    });
  for (auto& th : ts) th.join();
}
}  // namespace emu

#define threadIdx (emu::thread_idx)
#define blockIdx (emu::block_idx)
inline void __syncthreads() { emu::block_barrier->arrive_and_wait(); }
inline int __syncthreads_or(int v) {
  if (v) emu::or_acc.fetch_or(1);
  emu::block_barrier->arrive_and_wait();
  const int r = emu::or_acc.load();
  emu::block_barrier->arrive_and_wait();
  if (threadIdx.x == 0) emu::or_acc = 0;
  emu::block_barrier->arrive_and_wait();
  return r;
}
inline int atomicAdd(int* p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline float __expf(float x) { return std::exp(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __uint_as_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint32_t __float_as_uint(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
namespace emu {
// v of the lane `source(lane)` of the caller's wavefront; every lane of the wavefront must call it (as on
// the GPU): each lane publishes its value, a wavefront barrier, each reads its source's, a barrier again.
template <typename T, class Source>
inline T shuffle(T v, Source source) {
  static_assert(sizeof(T) <= 8, "shuffle of at most 8 bytes");
  auto& w = my_wave();
  const int lane = int(threadIdx.x) % kWave;
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  w.slot[lane] = bits;
  w.bar->arrive_and_wait();
  T r;
  std::memcpy(&r, &w.slot[source(lane)], sizeof(T));
  w.bar->arrive_and_wait();
  return r;
}
// HIP's __any: whether v is non-zero in any lane of the caller's wavefront (every lane calls it).
inline int any(int v) {
  auto& w = my_wave();
  w.slot[int(threadIdx.x) % kWave] = v != 0;
  w.bar->arrive_and_wait();
  int r = 0;
  for (int l = 0; l < kWave; ++l) r |= int(w.slot[l]);
  w.bar->arrive_and_wait();
  return r;
}
// compat.h's wave_sync(): the caller's wavefront waits for all its lanes.
inline void wave_sync() { my_wave().bar->arrive_and_wait(); }
}  // namespace emu
inline int __any(int v) { return emu::any(v); }
// Lane lane ^ mask of the width-lane segment of the caller.
template <typename T>
inline T __shfl_xor(T v, int mask, int width) {
  return emu::shuffle(v, [&](int lane) { return (lane & ~(width - 1)) | ((lane ^ mask) & (width - 1)); });
}
// Lane src of the width-lane segment of the caller.
template <typename T>
inline T __shfl(T v, int src, int width) {
  return emu::shuffle(v, [&](int lane) { return (lane & ~(width - 1)) | (src & (width - 1)); });
}
using std::max;
using std::min;
