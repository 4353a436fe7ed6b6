// Sliding-window math shared by the kernels. A query at position p attends keys j with
// max(0, p - w + 1) <= j <= p when the window w > 0, else 0 <= j <= p. For decode (p = L - 1,
// L = context length) that is [max(0, L - w), L): the last w tokens, the current one included.
#pragma once

#include "aiter_swa/compat.h"

namespace aiter_swa {

// First key attended by the query at position L - 1: max(0, L - w) with the window compiled in
// and w > 0, else 0.
template <bool SLIDING_WINDOW_ENABLED>
__device__ __forceinline__ int first_attended_key(int L, int sliding_window) {
  if constexpr (SLIDING_WINDOW_ENABLED) {
    return (sliding_window > 0 && L > sliding_window) ? L - sliding_window : 0;
  } else {
    return 0;
  }
}

// Partitions of `partition_size` keys that cover `span` attended keys: ceil(span / partition_size).
__host__ __device__ __forceinline__ int partitions_for(int span, int partition_size) {
  return span > 0 ? (span + partition_size - 1) / partition_size : 0;
}

}  // namespace aiter_swa
