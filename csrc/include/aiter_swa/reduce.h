// Reductions across the lanes of a wavefront and across a workgroup.
#pragma once

#include "aiter_swa/compat.h"

namespace aiter_swa {

// Reduce-scatter of N per-lane values over the lanes of a thread group (xor offsets OFF, OFF/2,
// ..., 1). On return a lane holds the group totals of values [hb, hb + max(1, N/TG)) in v[0..]:
// about N shuffles per group instead of N * log2(TG) for N separate butterfly sums.
template <int N, int OFF>
__device__ __forceinline__ void reduce_scatter(float* v, int g_lane, int& hb) {
  if constexpr (OFF >= 1) {
    if constexpr (N == 1) {
      v[0] += shfl_xor(v[0], OFF);
      reduce_scatter<1, OFF / 2>(v, g_lane, hb);
    } else {
      constexpr int H = N / 2;
      const bool upper = (g_lane & OFF) != 0;
#pragma unroll
      for (int i = 0; i < H; ++i) {
        const float send = upper ? v[i] : v[i + H];
        const float keep = upper ? v[i + H] : v[i];
        v[i] = keep + shfl_xor(send, OFF);
      }
      if (upper) hb += H;
      reduce_scatter<H, OFF / 2>(v, g_lane, hb);
    }
  }
}

// Workgroup-wide max or sum of one value per group member g < G. Thread tid holds the value of
// member tid % G (G divides the wavefront size); s_red is [NUM_THREADS / kWarpSize][G] of shared
// memory. The result for member i lands in out[i] (shared memory); every thread must call it.
template <int NUM_THREADS, int G, bool IS_MAX>
__device__ __forceinline__ void reduce_per_member(float v, float (*s_red)[G], float* out) {
  constexpr int kNumWarps = NUM_THREADS / kWarpSize;
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
#pragma unroll
  for (int off = G; off < kWarpSize; off *= 2) {
    const float o = shfl_xor(v, off);
    v = IS_MAX ? fmaxf(v, o) : v + o;
  }
  if (lane < G) s_red[warp][lane] = v;
  __syncthreads();
  if (threadIdx.x < G) {
    float r = s_red[0][threadIdx.x];
#pragma unroll
    for (int w = 1; w < kNumWarps; ++w) r = IS_MAX ? fmaxf(r, s_red[w][threadIdx.x]) : r + s_red[w][threadIdx.x];
    out[threadIdx.x] = r;
  }
  __syncthreads();
}

}  // namespace aiter_swa
