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

// Context length of a sequence as the kernels use it: context_lens[i] clamped to [0, max_context_len]
// (max_context_len: the host's bound, never above what the block table's width addresses), so no
// value in context_lens makes a kernel read past a block-table row or past the grid's partitions.
__device__ __forceinline__ int clamp_context_len(int L, int max_context_len) { return min(max(L, 0), max_context_len); }

// A launch argument (int64 on the host) as the kernels' int: values below `lo` become `lo`, values
// above INT32_MAX become INT32_MAX. Exact for a window (lo = 0: <= 0 is off) and for
// max_context_len, because a context length is an int32: a window of INT32_MAX or more covers
// every context, as the CPU path's max(0, L - w) does.
__host__ __device__ __forceinline__ int saturate_int32(int64_t v, int lo) {
  return v < lo ? lo : (v > int64_t(INT32_MAX) ? INT32_MAX : int(v));
}

// Partitions of `partition_size` keys that cover `span` attended keys: ceil(span / partition_size).
__host__ __device__ __forceinline__ int partitions_for(int span, int partition_size) {
  return span > 0 ? (span + partition_size - 1) / partition_size : 0;
}

}  // namespace aiter_swa
