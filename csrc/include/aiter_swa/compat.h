// HIP <-> CUDA compatibility: every vendor difference of the kernels in one place, so the same
// source builds with clang/hipcc for AMD GPUs (gfx942, gfx90a) and with nvcc for NVIDIA GPUs.
#pragma once

#include <cstdint>

#if defined(__HIP__) || defined(__HIP_PLATFORM_AMD__) || defined(__HIPCC__)
#include <hip/hip_runtime.h>
#define AITER_SWA_HIP 1
using gpuStream_t = hipStream_t;
using gpuError_t = hipError_t;
#define gpuSuccess hipSuccess
#define gpuGetLastError hipGetLastError
#define gpuPeekAtLastError hipPeekAtLastError
#define gpuGetErrorString hipGetErrorString
#else
#include <cuda_runtime.h>
#define AITER_SWA_CUDA 1
using gpuStream_t = cudaStream_t;
using gpuError_t = cudaError_t;
#define gpuSuccess cudaSuccess
#define gpuGetLastError cudaGetLastError
#define gpuPeekAtLastError cudaPeekAtLastError
#define gpuGetErrorString cudaGetErrorString
#endif

// The wavefront (warp) size of the target, rendered into each translation unit by aiter_swa.jit
// from the spec's arch (jit/toolchain.py `wavefront_size`: 64 on gfx9 such as MI300X's gfx942 and
// MI250's gfx90a, 32 on RDNA and NVIDIA). Neither the run-time `warpSize` nor the deprecated
// `__AMDGCN_WAVEFRONT_SIZE` macro is used.
#ifndef AITER_SWA_WAVEFRONT_SIZE
#error "AITER_SWA_WAVEFRONT_SIZE is not defined: include the kernels through a translation unit rendered by aiter_swa.jit"
#endif

namespace aiter_swa {

constexpr int kWarpSize = AITER_SWA_WAVEFRONT_SIZE;
static_assert(kWarpSize == 32 || kWarpSize == 64, "wavefront size: 32 or 64");

template <typename T>
__device__ __forceinline__ T shfl_xor(T v, int lane_mask) {
#if defined(AITER_SWA_HIP)
  return __shfl_xor(v, lane_mask, kWarpSize);
#else
  return __shfl_xor_sync(0xffffffffu, v, lane_mask, kWarpSize);
#endif
}

__device__ __forceinline__ float fast_exp(float x) { return __expf(x); }

}  // namespace aiter_swa
