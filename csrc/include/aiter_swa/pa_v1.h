// Paged-attention v1 decode with sliding-window attention (SWA): the partition (split-K) kernel,
// the reduce kernel and their host launch, as templates over one specialization `PaSpec`.
//
// Algorithm (DESIGN.md §4):
//  * One workgroup per (sequence, KV head, partition of P = 256 keys). It serves every query head
//    of the KV head's GQA group, so each K/V element is read from memory once.
//  * Sliding window: partitions are rebased at each sequence's first attended key
//    k0 = max(0, L - w), on the device: partition p covers keys [k0 + p*P, min(k0 + (p+1)*P, L)).
//    The grid has ceil(min(max_context_len, w) / P) partitions (host ints only); a workgroup whose
//    partition starts at or beyond L exits. Keys outside the window or the context are never read,
//    nor are their block-table entries.
//  * Logit x = scale * q.k; soft cap x = c * tanh(x / c); ALiBi x += slope_h * (j - L + 1); the
//    window/context mask comes after (masked keys are simply never visited).
//  * One partition for every sequence (min(max_context_len, w) <= P): the partition kernel writes
//    the normalised output and no reduce is launched. Otherwise each workgroup writes its partial
//    (max logit, exp sum, normalised partial output) to the workspace and the reduce kernel combines
//    exactly the partitions each sequence has (log-sum-exp rescaling, as in vLLM's paged attention v2).
//
// Work split inside a workgroup (kNumThreads = 128): a key/value row of HEAD_SIZE elements is read
// as HEAD_SIZE/8 16-byte vectors by a "thread group" of TG = next_pow2(HEAD_SIZE/8) lanes; the
// workgroup holds kNumThreads/TG row slots and each thread keeps U independent row loads in flight.
// q.k partial sums of the GQA heads are combined across the thread group by a reduce-scatter of
// warp shuffles (about GQA shuffles per row instead of GQA*log2(TG)).
#pragma once

#include "aiter_swa/compat.h"
#include "aiter_swa/dtypes.h"

namespace aiter_swa {

constexpr int kPartitionSize = 256;
constexpr int kNumThreads = 128;  // per workgroup (measured on H200 against 64 and 256: see README)

__host__ __device__ constexpr int next_pow2(int x) { return x <= 1 ? 1 : 2 * next_pow2((x + 1) / 2); }

// One compiled specialization. T: fp16_t / bf16_t (query, caches, output). GQA: a power of two
// (1..16), the most query heads per KV head this build serves (the run-time ratio may be smaller).
template <typename T_, int HEAD_SIZE_, int BLOCK_SIZE_, int GQA_, bool SLIDING_WINDOW_ENABLED_,
          bool SOFT_CAP_ENABLED_, bool ALIBI_ENABLED_>
struct PaSpec {
  using T = T_;
  static constexpr int HEAD_SIZE = HEAD_SIZE_;
  static constexpr int BLOCK_SIZE = BLOCK_SIZE_;
  static constexpr int GQA = GQA_;
  static constexpr bool SLIDING_WINDOW_ENABLED = SLIDING_WINDOW_ENABLED_;
  static constexpr bool SOFT_CAP_ENABLED = SOFT_CAP_ENABLED_;
  static constexpr bool ALIBI_ENABLED = ALIBI_ENABLED_;
  static_assert(HEAD_SIZE % 8 == 0, "head size must be a multiple of 8 (16-byte vectors)");
  static_assert(GQA >= 1 && GQA <= 16 && (GQA & (GQA - 1)) == 0, "GQA bucket: 1, 2, 4, 8 or 16");
  static_assert(BLOCK_SIZE >= 1 && (BLOCK_SIZE & (BLOCK_SIZE - 1)) == 0, "block size: a power of two");
};

// Everything a launch needs; passed by value as the kernel argument. Strides are in elements.
struct PaParams {
  void* out;                  // [num_seqs, num_heads, HEAD_SIZE]
  const void* query;          // [num_seqs, num_heads, HEAD_SIZE]
  const void* key_cache;      // HND [blocks, kv_heads, BLOCK_SIZE, HS] or NHD [blocks, BLOCK_SIZE, kv_heads, HS]
  const void* value_cache;    // same layouts, strides passed separately
  const int* block_tables;    // [num_seqs, bt_stride]
  const int* context_lens;    // [num_seqs]
  const float* alibi_slopes;  // [num_heads] or null
  float* exp_sums;            // workspace [num_seqs, num_heads, max_parts]
  float* max_logits;          // workspace [num_seqs, num_heads, max_parts]
  float* tmp_out;             // workspace [num_seqs, num_heads, max_parts, HEAD_SIZE]
  int num_heads, num_kv_heads, gqa_ratio, max_parts, sliding_window;
  int64_t bt_stride;
  int64_t q_stride_seq, q_stride_head, o_stride_seq, o_stride_head;
  int64_t k_stride_block, k_stride_head, k_stride_token;
  int64_t v_stride_block, v_stride_head, v_stride_token;
  float scale, soft_cap, inv_soft_cap;
  bool single_partition;
};

// Reduce-scatter of N per-lane values over the lanes of a thread group (xor offsets OFF, OFF/2,
// ..., 1). On return a lane holds the group totals of heads [hb, hb + max(1, N/TG)) in v[0..].
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

// Block-wide reduction of one value per GQA head. Thread tid holds the value of head tid % GQA
// (GQA divides the warp size). Result for head i in out[i].
template <int GQA, bool IS_MAX>
__device__ __forceinline__ void reduce_per_head(float v, float (*s_red)[GQA], float* out) {
  constexpr int kNumWarps = kNumThreads / kWarpSize;
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
#pragma unroll
  for (int off = GQA; off < kWarpSize; off *= 2) {
    const float o = shfl_xor(v, off);
    v = IS_MAX ? fmaxf(v, o) : v + o;
  }
  if (lane < GQA) s_red[warp][lane] = v;
  __syncthreads();
  if (threadIdx.x < GQA) {
    float r = s_red[0][threadIdx.x];
#pragma unroll
    for (int w = 1; w < kNumWarps; ++w) r = IS_MAX ? fmaxf(r, s_red[w][threadIdx.x]) : r + s_red[w][threadIdx.x];
    out[threadIdx.x] = r;
  }
  __syncthreads();
}

// First key a query at position L - 1 attends: max(0, L - w) with the window on, else 0.
template <class S>
__device__ __forceinline__ int first_attended_key(int L, int sliding_window) {
  if constexpr (S::SLIDING_WINDOW_ENABLED) {
    return (sliding_window > 0 && L > sliding_window) ? L - sliding_window : 0;
  } else {
    return 0;
  }
}

template <class S>
__global__ __launch_bounds__(kNumThreads) void pa_v1_partition_kernel(const PaParams p) {
  using T = typename S::T;
  constexpr int HS = S::HEAD_SIZE, BS = S::BLOCK_SIZE, G = S::GQA;
  constexpr int VPR = HS / 8;            // 16-byte vectors per row
  constexpr int TG = next_pow2(VPR);     // lanes per row
  static_assert(TG <= kWarpSize, "a row must fit in one wavefront");
  static_assert(G <= kWarpSize, "GQA bucket larger than the wavefront");
  constexpr int kNumWarps = kNumThreads / kWarpSize;
  constexpr int ROW_SLOTS = kNumThreads / TG;
  constexpr int U = G >= 16 ? 2 : 4;  // row loads in flight per thread (register budget)
  constexpr int ROWS_PER_ITER = ROW_SLOTS * U;
  constexpr int MAX_BLOCKS = kPartitionSize / BS + 1;
  constexpr int NH = G >= TG ? G / TG : 1;      // heads a lane holds after the reduce-scatter
  constexpr int LOW_MASK = G >= TG ? 0 : TG / G - 1;

  // Per-warp output accumulators [warp][head][HS] are summed in parallel when they fit in 32 KiB,
  // else warp after warp into one [head][HS] slice.
  constexpr bool kParallelAcc = kNumWarps * G * HS * 4 <= 32 * 1024;
  constexpr int kAccFloats = kParallelAcc ? kNumWarps * G * HS : G * HS;
  constexpr int kBufFloats = kAccFloats > kPartitionSize * G ? kAccFloats : kPartitionSize * G;
  // Logits, then probabilities, of the partition: [row][head]; reused for the output accumulators.
  __shared__ float s_buf[kBufFloats];
  __shared__ int s_blocks[MAX_BLOCKS];
  __shared__ float s_slopes[G];
  __shared__ float s_red[kNumWarps][G];
  __shared__ float s_max[G], s_sum[G];

  const int seq = blockIdx.x, kv_head = blockIdx.y, part = blockIdx.z;
  const int tid = threadIdx.x, lane = tid % kWarpSize, warp = tid / kWarpSize;
  const int g_lane = lane % TG;
  const int row_slot = tid / TG;
  const bool vec_active = g_lane < VPR;
  const int head0 = kv_head * p.gqa_ratio;

  const int L = p.context_lens[seq];
  const int start = first_attended_key<S>(L, p.sliding_window) + part * kPartitionSize;
  if (start >= L) {
    if (L <= 0 && part == 0 && p.single_partition) {  // empty context: zeros
      T* out = static_cast<T*>(p.out);
      for (int idx = tid; idx < p.gqa_ratio * HS; idx += kNumThreads)
        from_float(0.f, &out[seq * p.o_stride_seq + (head0 + idx / HS) * p.o_stride_head + idx % HS]);
    }
    return;
  }
  const int n = min(L - start, kPartitionSize);
  const int b0 = start / BS;
  const int nb = (start + n - 1) / BS - b0 + 1;
  if (tid < nb) s_blocks[tid] = p.block_tables[seq * p.bt_stride + b0 + tid];
  if (tid < G) {
    float slope = 0.f;
    if constexpr (S::ALIBI_ENABLED) {
      if (tid < p.gqa_ratio) slope = p.alibi_slopes[head0 + tid];
    }
    s_slopes[tid] = slope;
  }

  // Query rows of the group, pre-multiplied by the softmax scale.
  float q[G][8];
#pragma unroll
  for (int i = 0; i < G; ++i) {
    uint4 raw = make_uint4(0, 0, 0, 0);
    if (vec_active && i < p.gqa_ratio)
      raw = *reinterpret_cast<const uint4*>(static_cast<const T*>(p.query) + seq * p.q_stride_seq +
                                            (head0 + i) * p.q_stride_head + g_lane * 8);
    unpack8<T>(raw, q[i]);
#pragma unroll
    for (int e = 0; e < 8; ++e) q[i][e] *= p.scale;
  }
  __syncthreads();

  // Row r of this partition is key start + r, in cache block s_blocks[(start + r) / BS - b0]. A thread
  // loads rows r0 + u * ROW_SLOTS + row_slot (u < U) of an iteration, all in flight at once.
  auto load_rows = [&](uint4 (&raw)[U], const void* cache, int64_t s_block, int64_t s_head, int64_t s_token, int r0) {
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int row = r0 + u * ROW_SLOTS + row_slot;
      raw[u] = make_uint4(0, 0, 0, 0);
      if (vec_active && row < n) {
        const int t = start + row;
        const int64_t blk = s_blocks[t / BS - b0];
        raw[u] = *reinterpret_cast<const uint4*>(static_cast<const T*>(cache) + blk * s_block + kv_head * s_head +
                                                 (t % BS) * s_token + g_lane * 8);
      }
    }
  };

  // ---- QK: logits of every (row, head) of the partition into s_buf ----
  for (int r0 = 0; r0 < n; r0 += ROWS_PER_ITER) {
    uint4 kraw[U];
    load_rows(kraw, p.key_cache, p.k_stride_block, p.k_stride_head, p.k_stride_token, r0);
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int row = r0 + u * ROW_SLOTS + row_slot;
      float k[8];
      unpack8<T>(kraw[u], k);
      float dot[G];
#pragma unroll
      for (int i = 0; i < G; ++i) {
        float s = 0.f;
#pragma unroll
        for (int e = 0; e < 8; ++e) s = fmaf(q[i][e], k[e], s);
        dot[i] = s;
      }
      int hb = 0;
      reduce_scatter<G, TG / 2>(dot, g_lane, hb);  // every lane takes part: no divergence before it
      if (row < n && (g_lane & LOW_MASK) == 0) {
#pragma unroll
        for (int j = 0; j < NH; ++j) {
          float x = dot[j];
          if constexpr (S::SOFT_CAP_ENABLED) x = p.soft_cap * tanhf(x * p.inv_soft_cap);
          if constexpr (S::ALIBI_ENABLED) x += s_slopes[hb + j] * float(start + row - L + 1);
          s_buf[row * G + hb + j] = x;
        }
      }
    }
  }
  __syncthreads();

  // Issue the first value rows now so their latency overlaps the softmax.
  auto load_v = [&](uint4 (&raw)[U], int r0) {
    load_rows(raw, p.value_cache, p.v_stride_block, p.v_stride_head, p.v_stride_token, r0);
  };
  uint4 vraw[U];
  load_v(vraw, 0);

  // ---- softmax over the partition, per head (thread tid always sees head tid % G) ----
  float m = -INFINITY;
  for (int idx = tid; idx < n * G; idx += kNumThreads) m = fmaxf(m, s_buf[idx]);
  reduce_per_head<G, true>(m, s_red, s_max);
  const float my_max = s_max[tid % G];
  float sum = 0.f;
  for (int idx = tid; idx < n * G; idx += kNumThreads) {
    const float e = fast_exp(s_buf[idx] - my_max);
    s_buf[idx] = e;
    sum += e;
  }
  reduce_per_head<G, false>(sum, s_red, s_sum);

  // ---- PV: acc[head][8 elements of this lane's vector], over this thread's rows ----
  float acc[G][8];
#pragma unroll
  for (int i = 0; i < G; ++i)
#pragma unroll
    for (int e = 0; e < 8; ++e) acc[i][e] = 0.f;
  for (int r0 = 0; r0 < n; r0 += ROWS_PER_ITER) {
    if (r0 > 0) load_v(vraw, r0);
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int row = r0 + u * ROW_SLOTS + row_slot;
      if (row < n) {
        float v[8];
        unpack8<T>(vraw[u], v);
#pragma unroll
        for (int i = 0; i < G; ++i) {
          const float pr = s_buf[row * G + i];
#pragma unroll
          for (int e = 0; e < 8; ++e) acc[i][e] = fmaf(pr, v[e], acc[i][e]);
        }
      }
    }
  }
  // Sum the row slots of a warp, then the warps in turn into s_buf (now free) as [head][HS].
#pragma unroll
  for (int off = TG; off < kWarpSize; off *= 2)
#pragma unroll
    for (int i = 0; i < G; ++i)
#pragma unroll
      for (int e = 0; e < 8; ++e) acc[i][e] += shfl_xor(acc[i][e], off);
  __syncthreads();
  if constexpr (kParallelAcc) {
    if (lane < VPR) {
#pragma unroll
      for (int i = 0; i < G; ++i)
#pragma unroll
        for (int e = 0; e < 8; ++e) s_buf[(warp * G + i) * HS + lane * 8 + e] = acc[i][e];
    }
    __syncthreads();
  } else {
    for (int w = 0; w < kNumWarps; ++w) {
      if (warp == w && lane < VPR) {
#pragma unroll
        for (int i = 0; i < G; ++i)
#pragma unroll
          for (int e = 0; e < 8; ++e) {
            float* dst = &s_buf[i * HS + lane * 8 + e];
            *dst = (w == 0 ? 0.f : *dst) + acc[i][e];
          }
      }
      __syncthreads();
    }
  }

  // ---- write: the final output (one partition) or this partition's partial ----
  for (int idx = tid; idx < p.gqa_ratio * HS; idx += kNumThreads) {
    const int i = idx / HS, e = idx % HS;
    float total = s_buf[idx];
    if constexpr (kParallelAcc) {
#pragma unroll
      for (int w = 1; w < kNumWarps; ++w) total += s_buf[w * G * HS + idx];
    }
    const float val = total / s_sum[i];
    if (p.single_partition) {
      from_float(val, &static_cast<T*>(p.out)[seq * p.o_stride_seq + (head0 + i) * p.o_stride_head + e]);
    } else {
      const int64_t slot = (int64_t(seq) * p.num_heads + head0 + i) * p.max_parts + part;
      p.tmp_out[slot * HS + e] = val;
    }
  }
  if (!p.single_partition && tid < p.gqa_ratio) {
    const int64_t slot = (int64_t(seq) * p.num_heads + head0 + tid) * p.max_parts + part;
    p.max_logits[slot] = s_max[tid];
    p.exp_sums[slot] = s_sum[tid];
  }
}

// Combines the partitions a sequence really has: ceil(span / P) with span = min(L, w) (window on)
// or L. One workgroup per (sequence, query head), one thread per output element.
template <class S>
__global__ __launch_bounds__(S::HEAD_SIZE) void pa_v1_reduce_kernel(const PaParams p) {
  using T = typename S::T;
  constexpr int HS = S::HEAD_SIZE;
  const int seq = blockIdx.x, head = blockIdx.y, e = threadIdx.x;
  const int L = p.context_lens[seq];
  const int span = L - first_attended_key<S>(L, p.sliding_window);
  const int num_parts = span > 0 ? (span + kPartitionSize - 1) / kPartitionSize : 0;
  const int64_t base = (int64_t(seq) * p.num_heads + head) * p.max_parts;
  float global_max = -INFINITY;
  for (int i = 0; i < num_parts; ++i) global_max = fmaxf(global_max, p.max_logits[base + i]);
  float total = 0.f, acc = 0.f;
  for (int i = 0; i < num_parts; ++i) {
    const float w = p.exp_sums[base + i] * fast_exp(p.max_logits[base + i] - global_max);
    total += w;
    acc = fmaf(w, p.tmp_out[(base + i) * HS + e], acc);
  }
  from_float(num_parts > 0 ? acc / total : 0.f,
             &static_cast<T*>(p.out)[seq * p.o_stride_seq + head * p.o_stride_head + e]);
}

// Partitions the grid needs: ceil(min(max_context_len, w) / P) with the window on, else
// ceil(max_context_len / P). Host ints only: no device read.
template <class S>
inline int grid_partitions(int64_t max_context_len, int64_t sliding_window) {
  int64_t span = max_context_len;
  if (S::SLIDING_WINDOW_ENABLED && sliding_window > 0 && sliding_window < span) span = sliding_window;
  return int((span + kPartitionSize - 1) / kPartitionSize);
}

// Host launch: 1 kernel when every sequence fits one partition, else partition + reduce.
// `p.max_parts` and `p.single_partition` are filled in here.
template <class S>
gpuError_t launch_pa_v1(PaParams p, int num_seqs, int64_t max_context_len, gpuStream_t stream) {
  const int parts = grid_partitions<S>(max_context_len, p.sliding_window);
  p.max_parts = parts;
  p.single_partition = parts <= 1;
  const dim3 grid(num_seqs, p.num_kv_heads, parts > 1 ? parts : 1);
  pa_v1_partition_kernel<S><<<grid, kNumThreads, 0, stream>>>(p);
  if (!p.single_partition) {
    gpuError_t err = gpuPeekAtLastError();
    if (err != gpuSuccess) return err;
    pa_v1_reduce_kernel<S><<<dim3(num_seqs, p.num_heads), S::HEAD_SIZE, 0, stream>>>(p);
  }
  return gpuGetLastError();
}

}  // namespace aiter_swa
