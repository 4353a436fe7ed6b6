// HIP <-> CUDA compatibility: the kernels are written against these names, so the same source
// builds with clang/hipcc for AMD GPUs (gfx942, gfx90a) and with nvcc for NVIDIA GPUs.
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

namespace aiter_swa {

// Wavefront (warp) size as a compile-time constant of the device target: 64 on gfx9 (MI300X's
// gfx942, MI250's gfx90a), 32 on RDNA wave32 and on NVIDIA. Never the run-time `warpSize`.
// In the host pass of a HIP compile no target is known; host code never uses this value.
#if defined(AITER_SWA_HIP)
#if defined(__AMDGCN_WAVEFRONT_SIZE)
constexpr int kWarpSize = __AMDGCN_WAVEFRONT_SIZE;
#else
constexpr int kWarpSize = 64;
#endif
#else
constexpr int kWarpSize = 32;
#endif

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
