// Paged KV-cache addressing: token t of a sequence lives in cache block block_table[t / BLOCK_SIZE]
// at slot t % BLOCK_SIZE. Both layouts reduce to three element strides per cache:
//   HND [num_blocks, num_kv_heads, block_size, head_size]: (stride(0), stride(1), stride(2))
//   NHD [num_blocks, block_size, num_kv_heads, head_size]: (stride(0), stride(2), stride(1))
// (block, head, token); the head dimension is contiguous.
#pragma once

#include "aiter_swa/compat.h"

namespace aiter_swa {

// The rows of one KV head: element 0 of (cache block, slot in the block).
template <typename T>
struct PagedHead {
  const T* base;  // the cache's base pointer plus kv_head * stride_head
  int64_t stride_block, stride_token;  // elements

  __device__ __forceinline__ const T* row(int64_t block, int slot) const {
    return base + (block * stride_block + slot * stride_token);
  }
};

struct PagedCache {
  const void* base;
  int64_t stride_block, stride_head, stride_token;  // elements

  // One KV head's view, made once per workgroup: the kernel keeps its three values in registers
  // (a row address computed from the kernel-parameter struct on every load reloaded the strides
  // from the constant bank, 1-2% slower on H200 at GQA 4 and 8).
  template <typename T>
  __device__ __forceinline__ PagedHead<T> head(int kv_head) const {
    return {static_cast<const T*>(base) + kv_head * stride_head, stride_block, stride_token};
  }
};

// Whether `block` may be dereferenced in a cache of `num_blocks` blocks: 0 <= block < num_blocks.
// `num_blocks` comes saturated to 2^31 (block ids are int32: a larger cache admits every
// non-negative id); the unsigned compare rejects negative ids too.
__device__ __forceinline__ bool block_in_range(int block, uint32_t num_blocks) {
  return static_cast<uint32_t>(block) < num_blocks;
}

// num_blocks (key_cache.shape[0], a host int64) as block_in_range takes it.
__host__ __device__ __forceinline__ uint32_t num_blocks_bound(int64_t num_blocks) {
  return num_blocks <= 0 ? 0u : (num_blocks >= (int64_t(1) << 31) ? (uint32_t(1) << 31) : uint32_t(num_blocks));
}

}  // namespace aiter_swa
