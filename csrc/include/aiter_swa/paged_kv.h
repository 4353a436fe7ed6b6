// Paged KV-cache addressing: token t of a sequence lives in cache block block_table[t / BLOCK_SIZE]
// at slot t % BLOCK_SIZE. Both layouts reduce to three element strides per cache:
//   HND [num_blocks, num_kv_heads, block_size, head_size]: (stride(0), stride(1), stride(2))
//   NHD [num_blocks, block_size, num_kv_heads, head_size]: (stride(0), stride(2), stride(1))
// (block, head, token); the head dimension is contiguous.
#pragma once

#include "aiter_swa/compat.h"

namespace aiter_swa {

struct PagedCache {
  const void* base;
  int64_t stride_block, stride_head, stride_token;  // elements

  // Element 0 of the row of (cache block, KV head, slot in the block).
  template <typename T>
  __device__ __forceinline__ const T* row(int64_t block, int kv_head, int slot) const {
    return static_cast<const T*>(base) + block * stride_block + kv_head * stride_head + slot * stride_token;
  }
};

}  // namespace aiter_swa
