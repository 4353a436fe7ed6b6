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

// t / block_size and t % block_size for 0 <= t < 2^31 and any block_size >= 1, without a division
// instruction (a run-time integer division is a ~20-instruction sequence on both GPU targets): with
// s = ceil(log2 d) and m = ceil(2^(32+s) / d) (a 33-bit number, magic = m - 2^32),
// t / d = floor(t * m / 2^(32+s)) = (umulhi(t, magic) + t) >> s. Exact because the error
// e = m * d - 2^(32+s) < d <= 2^s gives t * e < 2^31 * 2^s < 2^(32+s) (Granlund and Montgomery,
// "Division by invariant integers using multiplication", PLDI 1994, section 4). The sum cannot
// overflow: umulhi(t, magic) < t < 2^31. A power of two d = 2^s gets magic 0: t >> s.
struct BlockDivider {
  uint32_t magic;
  int shift;
  int block_size;

  // Host (or device) side, once per launch; block_size < 1 is treated as 1 (the op rejects it).
  __host__ __device__ static BlockDivider make(int block_size) {
    const uint32_t d = block_size < 1 ? 1u : uint32_t(block_size);
    int s = 0;
    while ((uint64_t(1) << s) < d) ++s;
    const uint64_t m = ((uint64_t(1) << (32 + s)) + d - 1) / d;  // in [2^32, 2^33)
    return {uint32_t(m - (uint64_t(1) << 32)), s, int(d)};
  }

  // t / d for 0 <= t < 2^31 (the divider serves any divisor d >= 1, e.g. the GQA ratio: PaParams gqa_div).
  __host__ __device__ __forceinline__ int div(int t) const {
    const uint32_t u = uint32_t(t);
    return int((uint32_t((uint64_t(u) * magic) >> 32) + u) >> shift);
  }
  // Block index of token t (0 <= t < 2^31): t / block_size.
  __host__ __device__ __forceinline__ int block_of(int t) const { return div(t); }
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
