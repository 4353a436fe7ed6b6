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

// Element e of the merged output of n partials, computed by a workgroup of NUM_THREADS threads, thread
// e < NUM_THREADS taking element e. max_logits[i], exp_sums[i] and partial[i * partial_stride + e]
// describe partition i; sink is the sink logit (-INFINITY: none). A partition with exp sum 0 (no
// attended key) weighs nothing; with none that has one (n == 0 among them) the result is 0 (a sink alone
// weighs no value). Every thread of the workgroup must call it (it has barriers); n must be the same for all.
//
// Latency, not bandwidth, bounds this step (a few KiB per workgroup, read from L2), so the loads are
// grouped so that few round trips are in series: thread t loads partition t's (max logit, exp sum)
// into shared memory (chunks of NUM_THREADS partitions), while the first kBatch partial values of its
// element are already in flight; then every thread reads the chunk's maximum and weights
// w_i = s_i * exp(m_i - M) from shared memory and accumulates batch after batch of kBatch partial
// loads, all issued before their first use. Chunks after the first rescale the running sums by
// exp(M_old - M_new) (online softmax); with one chunk (n <= NUM_THREADS, every shipped partition
// count below 32K keys at head size 128) the result is exactly the two-pass formula above, summed
// in the same order. A NaN partition (write_bad_block_nan) makes the result NaN.
template <int NUM_THREADS, typename TPart>
__device__ __forceinline__ float lse_merge_block(const float* max_logits, const float* exp_sums, const TPart* partial,
                                                 int64_t partial_stride, int e, int n, float sink,
                                                 float* s_ml /* [NUM_THREADS] shared */,
                                                 float* s_w /* [NUM_THREADS] shared */) {
  // partial loads in flight per thread: 32, so that batch 1's 32 partitions (Mistral window 4096, H200) take one
  // round trip after the partition kernel (16: two; docs/results.md, 2026-11-30 21:52 UTC session, call 1)
  constexpr int kBatch = 32;
  const TPart* my = partial + e;
  float gmax = sink, total = sink > -INFINITY ? 1.f : 0.f, acc = 0.f;  // total relative to gmax
  for (int c = 0; c < n; c += NUM_THREADS) {
    const int cnt = min(NUM_THREADS, n - c);
    TPart v[kBatch];  // raw: widened where used
#pragma unroll
    for (int j = 0; j < kBatch; ++j) v[j] = j < cnt ? my[int64_t(c + j) * partial_stride] : TPart{};
    float m_e = -INFINITY, s_e = 0.f;
    if (e < cnt) {
      m_e = max_logits[c + e];
      s_e = exp_sums[c + e];
      s_ml[e] = m_e;
    }
    __syncthreads();
    float cmax = gmax;
    for (int i = 0; i < cnt; ++i) cmax = fmaxf(cmax, s_ml[i]);
    // s_e == 0: a partition where the row attends no key (m_e == -inf: exp(-inf - -inf) would be NaN)
    if (e < cnt) s_w[e] = s_e == 0.f ? 0.f : s_e * fast_exp(m_e - cmax);
    const float r = cmax == gmax ? 1.f : fast_exp(gmax - cmax);  // both -inf: 1, not NaN
    gmax = cmax;
    total *= r;
    acc *= r;
    __syncthreads();
    for (int i0 = 0; i0 < cnt; i0 += kBatch) {
      if (i0 > 0) {
#pragma unroll
        for (int j = 0; j < kBatch; ++j)
          v[j] = i0 + j < cnt ? my[int64_t(c + i0 + j) * partial_stride] : TPart{};
      }
#pragma unroll
      for (int j = 0; j < kBatch; ++j) {
        if (i0 + j < cnt) {
          const float w = s_w[i0 + j];
          total += w;
          acc = fmaf(w, to_float(v[j]), acc);
        }
      }
    }
    __syncthreads();  // s_ml and s_w are rewritten by the next chunk
  }
  return total != 0.f ? acc / total : 0.f;  // no partial with an attended key (n == 0 among them): 0
}

}  // namespace aiter_swa
