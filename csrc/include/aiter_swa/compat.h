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
#define gpuGetDevice hipGetDevice
#define gpuSetDevice hipSetDevice
#else
#include <cuda_runtime.h>
#define AITER_SWA_CUDA 1
using gpuStream_t = cudaStream_t;
using gpuError_t = cudaError_t;
#define gpuSuccess cudaSuccess
#define gpuGetLastError cudaGetLastError
#define gpuPeekAtLastError cudaPeekAtLastError
#define gpuGetErrorString cudaGetErrorString
#define gpuGetDevice cudaGetDevice
#define gpuSetDevice cudaSetDevice
#endif

// The wavefront (warp) size of the target, rendered into each translation unit by aiter_swa.jit
// from the spec's arch (jit/toolchain.py `wavefront_size`: 64 on gfx9 such as MI300X's gfx942 and
// MI250's gfx90a, 32 on RDNA and NVIDIA). Neither the run-time `warpSize` nor the deprecated
// `__AMDGCN_WAVEFRONT_SIZE` macro is used.
#ifndef AITER_SWA_WAVEFRONT_SIZE
#error "AITER_SWA_WAVEFRONT_SIZE is not defined: include the kernels through a translation unit rendered by aiter_swa.jit"
#endif

// Dynamic shared memory (the launch's third argument) as the array `name` of T, 16-byte aligned. The
// CPU emulator of op_tests (its hip/hip_runtime.h) defines its own, as static storage.
#ifndef AITER_SWA_EXTERN_SHARED
#define AITER_SWA_EXTERN_SHARED(T, name) extern __shared__ __align__(16) T name[]
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

// A barrier of the calling wavefront alone, ordering its lanes' shared-memory accesses before and after
// it: __syncwarp on CUDA; on AMD a wavefront's lanes run in lock step, so a wavefront-scope fence
// pair around the scheduling barrier (__builtin_amdgcn_wave_barrier) keeps the compiler from moving
// LDS accesses across it; the CPU emulator of op_tests (AITER_SWA_EMULATOR, one host thread per lane)
// waits for the wavefront's lanes. Every lane of the wavefront calls it.
__device__ __forceinline__ void wave_sync() {
#if defined(AITER_SWA_CUDA)
  __syncwarp();
#elif defined(AITER_SWA_EMULATOR)
  emu::wave_sync();
#elif defined(__HIP_DEVICE_COMPILE__)
  __builtin_amdgcn_fence(__ATOMIC_RELEASE, "wavefront");
  __builtin_amdgcn_wave_barrier();
  __builtin_amdgcn_fence(__ATOMIC_ACQUIRE, "wavefront");
#endif
}

// Whether `v` holds in any lane of the calling wavefront (a vote); every lane of the wavefront calls it.
__device__ __forceinline__ bool wave_any(bool v) {
#if defined(AITER_SWA_CUDA)
  return __any_sync(0xffffffffu, v);
#else
  return __any(v);
#endif
}

// Lane `src` (of the `width`-lane segment of the calling lane) of v; every lane of the segment calls it.
template <typename T>
__device__ __forceinline__ T shfl_idx(T v, int src, int width) {
#if defined(AITER_SWA_HIP)
  return __shfl(v, src, width);
#else
  return __shfl_sync(0xffffffffu, v, src, width);
#endif
}

// 2^x: on CUDA one ex2.approx.ftz (PTX ISA, "ex2"), on AMD one
// v_exp_f32 (1 ulp; exp2f adds a compare and two selects for subnormal results); a subnormal result
// flushed to 0 changes no SiLU output beyond fp32 rounding, and no softmax weight. exp2f elsewhere (the
// host pass, the CPU emulator).
__device__ __forceinline__ float fast_exp2(float x) {
#if defined(AITER_SWA_CUDA)
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
#elif defined(__HIP_DEVICE_COMPILE__)
  return __builtin_amdgcn_exp2f(x);
#else
  return exp2f(x);
#endif
}

// e^x for the softmax weights and the merges of partitions. NVIDIA: fast_exp2(x log2 e), the
// approximation __expf uses too, but with .ftz: results below 2^-126 flush to +0 (a weight that small
// next to the row maximum's 1 adds nothing in fp32 anyway); -inf gives +0, NaN NaN. One FMUL and one
// MUFU.EX2, where __expf without fast-math also rescales for subnormal results (5 instructions per call
// in the sm_90 SASS). Elsewhere __expf.
__device__ __forceinline__ float fast_exp(float x) {
#if defined(AITER_SWA_CUDA)
  return fast_exp2(x * 1.4426950408889634f);
#else
  return __expf(x);
#endif
}

// Programmatic dependent launch (PDL, NVIDIA sm_90+; CUDA C++ Programming Guide, "Programmatic Dependent Launch
// and Synchronization"; PTX ISA, "griddepcontrol"): a kernel launched by launch_dependent may start while the
// stream's previous kernel still runs, once every workgroup of that kernel has called
// allow_dependent_launch() or exited; grid_dependency_wait() then blocks until that kernel has completed and
// its memory writes are visible. Where the specialization is not built with AITER_SWA_PROGRAMMATIC_LAUNCH (its
// template sets it for sm_90 and later: aiter_swa/ops/pa_v1/spec.py `programmatic_launch`) both are no-ops and
// the launch is an ordinary stream-ordered one (AMD has no equivalent).
__device__ __forceinline__ void allow_dependent_launch() {
#if defined(AITER_SWA_PROGRAMMATIC_LAUNCH) && defined(__CUDA_ARCH__)
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

__device__ __forceinline__ void grid_dependency_wait() {
#if defined(AITER_SWA_PROGRAMMATIC_LAUNCH) && defined(__CUDA_ARCH__)
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

// Host: launches `kernel(args...)` on `stream`; with `programmatic` and AITER_SWA_PROGRAMMATIC_LAUNCH as a
// programmatic dependent of the stream's previous kernel (see grid_dependency_wait: the kernel calls it before it
// reads what that kernel writes; pa_v1's partition kernels before any global read, its reduces before the first
// partial), else as an ordinary stream-ordered launch. Returns the launch's error. Only in
// a GPU compile (nvcc: __CUDACC__; clang or hipcc for HIP: __HIP__), not in the CPU emulators of op_tests (plain
// C++ with AITER_SWA_EMULATOR).
#if (defined(__CUDACC__) || defined(__HIP__)) && !defined(AITER_SWA_EMULATOR)
template <typename... Params, typename... Args>
inline gpuError_t launch_dependent(bool programmatic, void (*kernel)(Params...), dim3 grid, dim3 block,
                                   size_t smem_bytes, gpuStream_t stream, Args... args) {
#if defined(AITER_SWA_PROGRAMMATIC_LAUNCH)
  cudaLaunchAttribute attr[1] = {};
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config = {};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = smem_bytes;
  config.stream = stream;
  config.attrs = attr;
  config.numAttrs = programmatic ? 1 : 0;
  return cudaLaunchKernelEx(&config, kernel, args...);
#else
  (void)programmatic;
  kernel<<<grid, block, smem_bytes, stream>>>(args...);
  return gpuGetLastError();
#endif
}
#endif

// Host: runs `launch` (returning gpuError_t) with `device` as the calling thread's current device,
// and restores the previous one. A launch goes to the current device, whatever device its stream
// and pointers belong to, so a caller whose tensors are on another GPU needs this (the check is a
// thread-local read when the device is already current).
template <class F>
inline gpuError_t with_device(int device, F&& launch) {
  int current = -1;
  gpuError_t err = gpuGetDevice(&current);
  if (err != gpuSuccess) return err;
  if (current == device) return launch();
  if ((err = gpuSetDevice(device)) != gpuSuccess) return err;
  const gpuError_t result = launch();
  err = gpuSetDevice(current);
  return result != gpuSuccess ? result : err;
}

}  // namespace aiter_swa
