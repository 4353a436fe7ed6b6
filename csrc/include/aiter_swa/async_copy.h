// Global -> shared copies of 16 bytes that bypass registers (NVIDIA sm_80+: cp.async), the one layer
// the matrix-core kernel's K/V ring (pa_v1/mma_kernel.h, MmaSpec::RING) uses. Source: the PTX ISA,
// "Data Movement and Conversion Instructions: cp.async", "cp.async.commit_group", "cp.async.wait_group"
// (PTX ISA 7.4+ for the cache hint, sm_80+):
// - cp.async.cg.shared.global.L2::cache_hint [dst], [src], 16, src_size, policy: copies src_size (0 or 16)
//   bytes from global memory to shared memory and fills the rest of the 16 bytes with zeros; .cg caches in
//   L2 only. With src_size 0 no byte is read from src. dst and src 16-byte aligned. policy, from
//   createpolicy.fractional.L2::evict_first (PTX ISA "createpolicy", sm_80+), makes L2 evict these lines
//   before lines of normal priority.
// - cp.async.commit_group: the thread's copies issued since the last commit form one group.
// - cp.async.wait_group N: waits until at most N of the thread's most recent groups are pending. A
//   thread sees only its own copies complete: a workgroup barrier after the wait publishes them to the
//   other threads.
// The CPU emulator of op_tests (AITER_SWA_EMULATED_MMA) runs the same code with a plain 16-byte copy
// (commit and wait are no-ops) and counts the copies (async_copy_count), so its tests can check that
// the ring path ran. AMD (HIP) has no such instruction here: the kernel keeps its register prefetch
// there (kAsyncCopyAvailable is false and a spec with RING does not compile).
#pragma once

#include <cstdint>
#include <cstring>

#include "aiter_swa/compat.h"

#if defined(AITER_SWA_EMULATED_MMA)
#include <atomic>
#endif

namespace aiter_swa {

#if defined(AITER_SWA_EMULATED_MMA)
constexpr bool kAsyncCopyAvailable = true;
// Copies issued through async_copy16 in this process (the emulator's check that the ring ran).
inline std::atomic<long long> async_copy_count{0};
#elif !defined(AITER_SWA_HIP) && (!defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800)
constexpr bool kAsyncCopyAvailable = true;  // (host pass: no device code is generated from it)
#else
constexpr bool kAsyncCopyAvailable = false;
#endif

// 16 bytes from src (valid) or 16 zero bytes (not valid: src is not read, but must be a pointer the
// caller was given) into dst, in shared memory.
__device__ __forceinline__ void async_copy16(void* dst, const void* src, bool valid) {
#if defined(AITER_SWA_EMULATED_MMA)
  if (valid) std::memcpy(dst, src, 16);
  else std::memset(dst, 0, 16);
  async_copy_count.fetch_add(1, std::memory_order_relaxed);
#elif !defined(AITER_SWA_HIP) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  const int n = valid ? 16 : 0;
  // The K/V rows a call streams are read once: L2 evicts them first, so that they do not push out the lines a
  // call reads again, the context lengths and the block table (every layer's call reads the same) that the
  // set-up's dependent round trips wait for (H200: batch 1 0.1-0.3 us faster, gpt-oss window 128 0.3-0.8;
  // docs/results.md, 2026-12-02 12:48 UTC session, call 2)
  unsigned long long policy;
  asm("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;\n" : "=l"(policy));
  asm volatile("cp.async.cg.shared.global.L2::cache_hint [%0], [%1], 16, %2, %3;\n" ::"r"(s), "l"(src), "r"(n),
               "l"(policy)
               : "memory");
#else
  (void)dst, (void)src, (void)valid;
#endif
}

// Closes the group of the calling thread's copies issued since the last commit.
__device__ __forceinline__ void async_commit() {
#if !defined(AITER_SWA_EMULATED_MMA) && !defined(AITER_SWA_HIP) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::: "memory");
#endif
}

// Waits until at most PENDING of the calling thread's most recent groups are in flight.
template <int PENDING>
__device__ __forceinline__ void async_wait() {
#if !defined(AITER_SWA_EMULATED_MMA) && !defined(AITER_SWA_HIP) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group %0;\n" ::"n"(PENDING) : "memory");
#endif
}

}  // namespace aiter_swa
