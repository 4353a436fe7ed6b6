// The log-sum-exp merge of split-K partial results (as in vLLM's paged attention v2 reduce and
// FlashInfer's cascade.cuh): partition i contributes its max logit m_i, its exp-sum
// s_i = sum_j exp(x_j - m_i) and its normalised partial output o_i = sum_j exp(x_j - m_i) v_j / s_i.
// With M = max_i m_i and w_i = s_i * exp(m_i - M), the merged output is sum_i w_i o_i / sum_i w_i.
// An attention sink s (a logit with no value, gpt-oss) joins the max and adds exp(s - M) to the
// denominator once: M = max(s, max_i m_i), output sum_i w_i o_i / (exp(s - M) + sum_i w_i).
#pragma once

#include "aiter_swa/compat.h"
#include "aiter_swa/vec.h"

namespace aiter_swa {

// Partitions merged per round trip: one per lane of a 32-lane segment (a warp on NVIDIA, half a wavefront
// on AMD), lane l loading partition l's maximum and exp sum.
constexpr int kLseChunk = 32;

// Threads of a workgroup that merges `elems` elements (one per thread; lse_merge): whole 32-lane segments,
// the threads past `elems` loading maxima and exp sums only.
__host__ __device__ constexpr int lse_merge_threads(int elems) {
  return (elems + kLseChunk - 1) / kLseChunk * kLseChunk;
}

// The reduce kernels' launch bounds: lse_merge_threads(head size) threads. On NVIDIA with an fp16 output, that
// bound alone left ptxas (CUDA 13.0, sm_90) at 64 registers and spilling at head sizes 192, 256 and 512 (bf16:
// 72-76 registers, no spill); a minimum of one workgroup per SM lets it take the 73-90 it needs. bf16 (the kernels
// measured, docs/results.md 2026-12-03) and AMD keep the bound alone.
#if defined(AITER_SWA_CUDA)
#define AITER_SWA_REDUCE_BOUNDS(S) \
  __launch_bounds__(lse_merge_threads(S::HEAD_SIZE), std::is_same<typename S::TOut, fp16_t>::value ? 1 : 0)
#else
#define AITER_SWA_REDUCE_BOUNDS(S) __launch_bounds__(lse_merge_threads(S::HEAD_SIZE))
#endif

// Element e of the merged output of n partials, computed by the calling thread (e = threadIdx.x of a
// one-dimensional workgroup of lse_merge_threads(ELEMS) threads; every lane of its 32-lane segment, threads
// 32 k .. 32 k + 31, calls it with the same n). A thread with e >= ELEMS has no element: nothing of `partial` is
// read for it and its result is not to be used. max_logits[i], exp_sums[i] and partial[i * partial_stride + e]
// describe partition i; sink is the sink logit (-INFINITY: none). A partition with exp sum 0 (no attended key)
// weighs nothing; with none that has one (n == 0 among them) the result is 0 (a sink alone weighs no value).
//
// Latency, not bandwidth, bounds this step (a few KiB per workgroup, read from L2), so all of a chunk's
// loads are issued before the first is used: the chunk's kLseChunk partial values of element e, and lane
// l's maximum and exp sum of partition l. Each segment then works alone, with no workgroup barrier: the
// lanes' maxima through the segment's 32 floats of shared memory (a wavefront barrier, 8 broadcast 16-byte
// reads, a tree), lane l's weight w_l = s_l * exp(m_l - M) the same way, and the sums in 4 interleaved
// chains. The earlier form shared one chunk of maxima and weights across the workgroup: two workgroup
// barriers, and 32-step chains for the maximum and the sums. On the H200 (docs/results.md, 2026-12-03, calls
// 1 and 3): batch 1 10.1 -> 9.9-10.0 us (9.8 in call 3), the seed shape 39.1-39.2 -> 38.8-39.1, Gemma-3's vector kernel
// (4 partitions, 8 warps per workgroup) 42.5-42.6 -> 42.7-42.8. A form that reads and sums only the first 8
// entries where a chunk has no more (gpu_call_2026-12-03b_bounded.patch) took Gemma-3 to 42.1-42.2 but batch 1
// to 11.3-11.4 (not understood; not kept). Chunks after the first rescale the running sums by
// exp(M_old - M_new) (online softmax); with one chunk (n <= 32: 8K keys of 256-key partitions, 4K of 128) M is
// the maximum over all partitions, as in the formula above. A NaN partition (write_bad_block_nan) makes the
// result NaN.
template <int ELEMS, typename TPart>
__device__ __forceinline__ float lse_merge(const float* max_logits, const float* exp_sums, const TPart* partial,
                                           int64_t partial_stride, int e, int n, float sink) {
  __shared__ __align__(16) float s_lse[2 * lse_merge_threads(ELEMS)];  // per segment: 32 maxima, 32 weights
  const bool has_element = e < ELEMS;
  const int lane = int(threadIdx.x) % kLseChunk;
  float* const s_m = s_lse + (int(threadIdx.x) / kLseChunk) * (2 * kLseChunk);  // the segment's maxima
  float* const s_w = s_m + kLseChunk;                                           // and weights
  const TPart* my = partial + e;
  float gmax = sink, total = sink > -INFINITY ? 1.f : 0.f, acc = 0.f;  // total relative to gmax
  for (int c = 0; c < n; c += kLseChunk) {
    const int cnt = min(kLseChunk, n - c);
    TPart v[kLseChunk];  // raw: widened where used; 0 past cnt
#pragma unroll
    for (int j = 0; j < kLseChunk; ++j)
      v[j] = has_element && j < cnt ? my[int64_t(c + j) * partial_stride] : TPart{};
    float m = -INFINITY, s = 0.f;  // past cnt: weight 0
    if (lane < cnt) {
      m = max_logits[c + lane];
      s = exp_sums[c + lane];
    }
    s_m[lane] = m;
    wave_sync();
    float mx[kLseChunk];
#pragma unroll
    for (int q = 0; q < kLseChunk / 4; ++q) {
      const float4 t = reinterpret_cast<const float4*>(s_m)[q];
      mx[4 * q] = t.x, mx[4 * q + 1] = t.y, mx[4 * q + 2] = t.z, mx[4 * q + 3] = t.w;
    }
    static_assert(kLseChunk == 32, "the tree below has 5 levels");
#pragma unroll
    for (int j = 0; j < 16; ++j) mx[j] = fmaxf(mx[j], mx[j + 16]);
#pragma unroll
    for (int j = 0; j < 8; ++j) mx[j] = fmaxf(mx[j], mx[j + 8]);
#pragma unroll
    for (int j = 0; j < 4; ++j) mx[j] = fmaxf(mx[j], mx[j + 4]);
    mx[0] = fmaxf(fmaxf(mx[0], mx[2]), fmaxf(mx[1], mx[3]));
    const float cmax = fmaxf(gmax, mx[0]);
    // s == 0: a partition where the row attends no key (m == -inf: exp(-inf - -inf) would be NaN), or none
    s_w[lane] = s == 0.f ? 0.f : s * fast_exp(m - cmax);
    const float r = cmax == gmax ? 1.f : fast_exp(gmax - cmax);  // both -inf: 1, not NaN
    gmax = cmax;
    wave_sync();
    float tot[4] = {total * r, 0.f, 0.f, 0.f}, ac[4] = {acc * r, 0.f, 0.f, 0.f};
#pragma unroll
    for (int q = 0; q < kLseChunk / 4; ++q) {
      const float4 t = reinterpret_cast<const float4*>(s_w)[q];
      const float w4[4] = {t.x, t.y, t.z, t.w};
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        tot[k] += w4[k];
        ac[k] = fmaf(w4[k], to_float(v[4 * q + k]), ac[k]);
      }
    }
    total = (tot[0] + tot[1]) + (tot[2] + tot[3]);
    acc = (ac[0] + ac[1]) + (ac[2] + ac[3]);
    wave_sync();  // every lane's reads of s_m and s_w done before the next chunk writes them
  }
  return total != 0.f ? acc / total : 0.f;  // no partial with an attended key (n == 0 among them): 0
}

}  // namespace aiter_swa
