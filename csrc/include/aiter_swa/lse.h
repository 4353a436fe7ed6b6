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

// Element e of the merged output of n partials. max_logits[i], exp_sums[i] and
// partial[i * partial_stride + e] describe partition i; sink is the sink logit (-INFINITY: none).
// n == 0 gives 0 (a sink alone weighs no value).
template <typename TPart>
__device__ __forceinline__ float lse_merge(const float* max_logits, const float* exp_sums, const TPart* partial,
                                           int64_t partial_stride, int e, int n, float sink = -INFINITY) {
  float global_max = sink;
  for (int i = 0; i < n; ++i) global_max = fmaxf(global_max, max_logits[i]);
  float total = sink > -INFINITY ? fast_exp(sink - global_max) : 0.f, acc = 0.f;
  for (int i = 0; i < n; ++i) {
    const float w = exp_sums[i] * fast_exp(max_logits[i] - global_max);
    total += w;
    acc = fmaf(w, to_float(partial[i * partial_stride + e]), acc);
  }
  return n > 0 ? acc / total : 0.f;
}

}  // namespace aiter_swa
