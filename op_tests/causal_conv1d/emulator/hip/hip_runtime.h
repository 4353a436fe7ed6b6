// Host emulation of the few HIP device features the causal_conv1d kernels use, so that the device
// code of csrc/include/aiter_swa/causal_conv1d/kernel.h runs on the CPU (op_tests only; see
// emu.cpp). One std::thread per GPU thread of a workgroup, a std::barrier for __syncthreads,
// __shared__ as function-static storage (workgroups run one after another).
#pragma once

#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  dim3() = default;
  dim3(unsigned a, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
struct uint4 {
  unsigned x, y, z, w;
};
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }
struct uint2 {
  unsigned x, y;
};
inline uint2 make_uint2(unsigned x, unsigned y) { return uint2{x, y}; }
using hipStream_t = void*;
using hipError_t = int;
#define hipSuccess 0
inline int hipGetLastError() { return 0; }
inline int hipPeekAtLastError() { return 0; }
inline const char* hipGetErrorString(int) { return "emulated"; }
inline int hipGetDevice(int* device) {  // compat.h's host-side device guard (not used by the kernels)
  *device = 0;
  return hipSuccess;
}
inline int hipSetDevice(int) { return hipSuccess; }

namespace emu {
inline thread_local dim3 thread_idx, block_idx;
inline std::barrier<>* block_barrier = nullptr;
}  // namespace emu
#define threadIdx (emu::thread_idx)
#define blockIdx (emu::block_idx)
inline void __syncthreads() { emu::block_barrier->arrive_and_wait(); }
inline int atomicAdd(int* p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline float __expf(float x) { return std::exp(x); }
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
template <typename T>
inline T __shfl_xor(T v, int, int) { return v; }  // unused by these kernels
using std::max;
using std::min;
