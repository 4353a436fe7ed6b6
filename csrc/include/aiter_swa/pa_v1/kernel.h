// Paged-attention v1 decode with sliding-window attention (SWA): the partition (split-K) kernel,
// the reduce kernel and their host launch, as templates over one specialization `PaSpec`.
//
// Algorithm (docs/design.md, "The pa_v1 kernel"):
//  * One workgroup per (sequence, KV head, partition of P keys). It serves every query head of the
//    KV head's GQA group, so each K/V element is read from memory once.
//  * Sliding window: partitions are rebased at each sequence's first attended key
//    k0 = max(0, L - w), on the device: partition p covers keys [k0 + p*P, min(k0 + (p+1)*P, L)).
//    The grid has the number of partitions the host computed from host ints
//    (aiter_swa/ops/pa_v1/workspace.py); a workgroup whose partition starts at or beyond L exits.
//    Keys outside the window or the context are never read, nor are their block-table entries.
//  * Out-of-range metadata (docs/design.md, "Metadata the kernel cannot trust"): each context length
//    is clamped to [0, max_context_len]; a block id outside [0, num_blocks) is never dereferenced:
//    the workgroup that finds one writes NaN instead (write_bad_block_nan), so the sequence's whole
//    output is NaN.
//  * Logit x = scale * q.k; ALiBi x += slope_h * (j - L + 1); soft cap x = c * tanh(x / c) (aiter's
//    order); the window/context mask comes after (masked keys are simply never visited).
//  * fp8 KV cache (TKV = fp8e4m3fn_t / fp8e4m3fnuz_t, vec.h): convert8 decodes exactly (up to a power
//    of two); the per-tensor k_scale and v_scale are read on the device once per workgroup and
//    applied once: k_scale with the softmax scale to the query, v_scale to the normalised output
//    (the same numbers as scaling every K and V element, up to float32 rounding).
//  * Attention sinks (run-time, sinks != null): the sink logit s_h of query head h joins the softmax
//    denominator only, p_j = exp(x_j - m) / (exp(s_h - m) + sum_k exp(x_k - m)) with m the max over
//    the keys and the sink (gpt-oss). It enters once per (sequence, head): in the partition kernel
//    when there is one partition, else in the reduce (lse.h); never scaled, biased or capped.
//  * One partition for every sequence: the partition kernel writes the normalised output and no
//    reduce is launched. Otherwise each workgroup writes its partial (max logit, exp sum,
//    normalised partial output in the output dtype, as aiter does) to the workspace and the reduce
//    kernel merges exactly the partitions each sequence has (lse.h).
//
// Work split inside a workgroup (NUM_THREADS threads): a key/value row of HEAD_SIZE elements is read
// as HEAD_SIZE/8 vectors of 8 elements by a "thread group" of TG = min(next_pow2(HEAD_SIZE/8),
// wavefront) lanes, VPL = ceil(HEAD_SIZE/8 / TG) vectors per lane (2 only for head size 512 on a
// 32-lane wavefront); the workgroup holds NUM_THREADS/TG row slots and each thread keeps U
// independent row loads in flight.
//
// Block size: a run-time value (any positive integer). Each workgroup first writes, for each key of
// its partition, the (cache block, slot) pair into shared memory (a multiply-shift per key,
// BlockDivider of paged_kv.h, in that setup step only); the K and V loads read the pair, so the inner
// loops do not depend on it.
// q.k partial sums of the GQA heads are combined across the thread group by a reduce-scatter of
// wavefront shuffles (reduce.h).
#pragma once

#include "aiter_swa/compat.h"
#include "aiter_swa/lse.h"
#include "aiter_swa/paged_kv.h"
#include "aiter_swa/reduce.h"
#include "aiter_swa/vec.h"
#include "aiter_swa/window.h"

namespace aiter_swa {
namespace pa_v1 {

__host__ __device__ constexpr int next_pow2(int x) { return x <= 1 ? 1 : 2 * next_pow2((x + 1) / 2); }

// One compiled specialization. TQ, TKV, TOut: element types of the query, the KV cache and the
// output (and of the split-K partial outputs). GQA: a power of two (1..16), the most query heads
// per KV head this build serves (the run-time ratio may be smaller). PARTITION_SIZE (keys per
// split-K partition) and NUM_THREADS (per workgroup) are rendered from aiter_swa/ops/pa_v1/spec.py.
template <typename TQ_, typename TKV_, typename TOut_, int HEAD_SIZE_, int GQA_,
          bool SLIDING_WINDOW_ENABLED_, bool SOFT_CAP_ENABLED_, bool ALIBI_ENABLED_, int PARTITION_SIZE_,
          int NUM_THREADS_>
struct PaSpec {
  using TQ = TQ_;
  using TKV = TKV_;
  using TOut = TOut_;
  static constexpr int HEAD_SIZE = HEAD_SIZE_;
  static constexpr int GQA = GQA_;
  static constexpr bool SLIDING_WINDOW_ENABLED = SLIDING_WINDOW_ENABLED_;
  static constexpr bool SOFT_CAP_ENABLED = SOFT_CAP_ENABLED_;
  static constexpr bool ALIBI_ENABLED = ALIBI_ENABLED_;
  static constexpr int PARTITION_SIZE = PARTITION_SIZE_;
  static constexpr int NUM_THREADS = NUM_THREADS_;
  static_assert(HEAD_SIZE % kVecElems == 0, "head size must be a multiple of 8 (vector loads)");
  static_assert(GQA >= 1 && GQA <= 16 && (GQA & (GQA - 1)) == 0, "GQA bucket: 1, 2, 4, 8 or 16");
  static_assert(NUM_THREADS % kWarpSize == 0, "whole wavefronts per workgroup");
};

// Everything a launch needs; passed by value as the kernel argument. Strides are in elements.
struct PaParams {
  void* out;                  // [num_seqs, num_heads, HEAD_SIZE] of TOut
  const void* query;          // [num_seqs, num_heads, HEAD_SIZE] of TQ
  PagedCache key_cache, value_cache;
  const int* block_tables;    // [num_seqs, bt_stride]
  const int* context_lens;    // [num_seqs]
  const float* alibi_slopes;  // [num_heads] or null
  const float* sinks;         // [num_heads] or null: attention-sink logits
  const float* k_scale;       // [1]: per-tensor fp8 scales (read only when TKV is an fp8 type)
  const float* v_scale;
  float* exp_sums;            // workspace [num_seqs, num_heads, num_partitions]
  float* max_logits;          // workspace [num_seqs, num_heads, num_partitions]
  void* tmp_out;              // workspace [num_seqs, num_heads, num_partitions, HEAD_SIZE] of TOut
  int num_heads, gqa_ratio, num_partitions, sliding_window;
  int max_context_len;        // context_lens entries are clamped to [0, max_context_len]
  uint32_t num_blocks;        // valid block ids: [0, num_blocks) (paged_kv.h num_blocks_bound)
  int block_size;             // tokens per cache block (any positive integer)
  BlockDivider block_div;     // t / block_size as a multiply and a shift (paged_kv.h), made on the host
  BlockDivider gqa_div;       // m / gqa_ratio (a query row's token) likewise
  int64_t bt_stride;
  int64_t q_stride_seq, q_stride_head, o_stride_seq, o_stride_head;
  float scale, soft_cap, inv_soft_cap;
  // Query rows: tokens per sequence at most (the vector kernel: 1), the query's rows, and
  // cu_query_lens or null (query_rows, one_token_row).
  const int* cu_query_lens;   // [cu_len] (num_seqs + 1, or num_seqs: the last end is num_query_rows) or null
  int mtp, num_query_rows, cu_len;
  int partition_size;         // keys per split-K partition (mma kernel: a run-time value)
  int num_chunks;             // mma kernel: workgroups of ROWS query rows per (sequence, KV head)
};

// Rows of sequence `seq` in query/out: token i in row row0 + i (i < n), read and written only where
// that row is in [0, num_query_rows) (aiter_swa/ops/pa_v1/tokens.py: the device contract of any
// cu_query_lens values). n: mtp without cu_query_lens; with it cu[seq+1] - cu[seq] (the last end
// num_query_rows when cu has num_seqs entries), 0 unless in [1, mtp] (a count above mtp: the sequence
// is skipped, as aiter's kernel skips query lengths it does not serve).
__device__ __forceinline__ void query_rows(const PaParams& p, int seq, int& row0, int& n) {
  if (p.cu_query_lens == nullptr) {
    row0 = seq * p.mtp;
    n = p.mtp;
    return;
  }
  const int a = p.cu_query_lens[seq];
  const int b = seq + 1 < p.cu_len ? p.cu_query_lens[seq + 1] : p.num_query_rows;
  const int64_t count = int64_t(b) - int64_t(a);
  row0 = a;
  n = (count >= 1 && count <= p.mtp) ? int(count) : 0;
}

// Whether row row0 + i exists in query/out.
__device__ __forceinline__ bool row_in_range(const PaParams& p, int row0, int i) {
  const int64_t row = int64_t(row0) + i;
  return row >= 0 && row < p.num_query_rows;
}

// The query/out row of sequence `seq`'s one token in the vector kernel (mtp 1): `seq` without
// cu_query_lens; with it cu[seq] when the sequence has exactly one row and that row is in
// [0, num_query_rows), else -1: the sequence is skipped and its rows stay untouched (the same contract
// as query_rows; aiter_swa/ops/pa_v1/tokens.py).
__device__ __forceinline__ int one_token_row(const PaParams& p, int seq) {
  if (p.cu_query_lens == nullptr) return seq;
  int row0, n;
  query_rows(p, seq, row0, n);
  return n == 1 && row_in_range(p, row0, 0) ? row0 : -1;
}

// What the workgroup of (seq, KV head starting at head0, part) writes instead of its result when a
// block id of its partition is outside [0, num_blocks): NaN in every value it would have written
// (one partition: its heads' rows of out; several: its partial output, max logit and exp sum, which
// the reduce turns into NaN rows of out). Every KV head's workgroup of that partition finds the same
// id, so the sequence's whole out[seq] is NaN.
template <class S>
__device__ __forceinline__ void write_bad_block_nan(const PaParams& p, int seq, int row, int head0, int part) {
  using TOut = typename S::TOut;
  constexpr int HS = S::HEAD_SIZE;
  const float qnan = __uint_as_float(0x7fc00000u);
  const int tid = threadIdx.x;
  for (int idx = tid; idx < p.gqa_ratio * HS; idx += S::NUM_THREADS) {
    const int i = idx / HS, e = idx % HS;
    if (p.num_partitions <= 1) {
      from_float(qnan, &static_cast<TOut*>(p.out)[int64_t(row) * p.o_stride_seq + (head0 + i) * p.o_stride_head + e]);
    } else {
      const int64_t slot = (int64_t(seq) * p.num_heads + head0 + i) * p.num_partitions + part;
      from_float(qnan, &static_cast<TOut*>(p.tmp_out)[slot * HS + e]);
    }
  }
  if (p.num_partitions > 1 && tid < p.gqa_ratio) {
    const int64_t slot = (int64_t(seq) * p.num_heads + head0 + tid) * p.num_partitions + part;
    p.max_logits[slot] = qnan;
    p.exp_sums[slot] = qnan;
  }
}

// The start of either family's partition kernel, a programmatic dependent launch where the build has it (launch
// below, launch_mma): wait for the stream's previous kernel, which may write any input, before the first read. The
// reduce, where one follows, may then take free slots while this grid runs; with one partition no early trigger, so
// that a dependent kernel after this one cannot hold slots idle. Before any global access of the kernel.
__device__ __forceinline__ void begin_partition_kernel(bool single_partition) {
  grid_dependency_wait();
  if (!single_partition) allow_dependent_launch();
}

template <class S>
__global__ __launch_bounds__(S::NUM_THREADS) void partition_kernel(const PaParams p) {
  using TQ = typename S::TQ;
  using TKV = typename S::TKV;
  using TOut = typename S::TOut;
  constexpr int HS = S::HEAD_SIZE, G = S::GQA, P = S::PARTITION_SIZE;
  constexpr int kNumThreads = S::NUM_THREADS;
  constexpr int VPR = HS / kVecElems;                                       // vectors per row
  constexpr int TG = next_pow2(VPR) < kWarpSize ? next_pow2(VPR) : kWarpSize;  // lanes per row
  constexpr int VPL = (VPR + TG - 1) / TG;                                  // vectors per lane
  static_assert(G <= kWarpSize, "GQA bucket larger than the wavefront");
  constexpr int kNumWarps = kNumThreads / kWarpSize;
  constexpr int ROW_SLOTS = kNumThreads / TG;
  constexpr int U = G >= 16 ? 2 : 4;  // row loads in flight per thread (register budget)
  constexpr int ROWS_PER_ITER = ROW_SLOTS * U;
  constexpr int NH = G >= TG ? G / TG : 1;      // heads a lane holds after the reduce-scatter
  constexpr int LOW_MASK = G >= TG ? 0 : TG / G - 1;

  // Per-warp output accumulators [warp][head][HS] are summed in parallel when they fit in 32 KiB,
  // else warp after warp into one [head][HS] slice.
  constexpr bool kParallelAcc = kNumWarps * G * HS * 4 <= 32 * 1024;
  constexpr int kAccFloats = kParallelAcc ? kNumWarps * G * HS : G * HS;
  constexpr int kBufFloats = kAccFloats > P * G ? kAccFloats : P * G;
  // Logits, then probabilities, of the partition: [row][head]; reused for the output accumulators.
  __shared__ float s_buf[kBufFloats];
  __shared__ int2 s_rows[P];  // key start + r lives in cache block s_rows[r].x at slot s_rows[r].y
  __shared__ float s_slopes[G];
  __shared__ float s_red[kNumWarps][G];
  __shared__ float s_max[G], s_sum[G];
  __shared__ float s_num[G], s_den[G];  // head i's output = total * s_num[i] / s_den[i]

  const int seq = blockIdx.x, kv_head = blockIdx.y, part = blockIdx.z;
  const int tid = threadIdx.x, lane = tid % kWarpSize, warp = tid / kWarpSize;
  const int g_lane = lane % TG;
  const int row_slot = tid / TG;
  const int head0 = kv_head * p.gqa_ratio;
  const bool single_partition = p.num_partitions <= 1;
  begin_partition_kernel(single_partition);

  const int row = one_token_row(p, seq);  // the query/out row of this sequence's token; -1: skipped
  if (row < 0) return;
  const int L = clamp_context_len(p.context_lens[seq], p.max_context_len);
  const int start = first_attended_key<S::SLIDING_WINDOW_ENABLED>(L, p.sliding_window) + part * P;
  if (start >= L) {
    if (L <= 0 && part == 0 && single_partition) {  // empty context: zeros
      TOut* out = static_cast<TOut*>(p.out);
      for (int idx = tid; idx < p.gqa_ratio * HS; idx += kNumThreads)
        from_float(0.f, &out[int64_t(row) * p.o_stride_seq + (head0 + idx / HS) * p.o_stride_head + idx % HS]);
    }
    return;
  }
  const int n = min(L - start, P);
  // The (block, slot) table: key start + r, r < n, of this partition; ceil(P / kNumThreads) keys per
  // thread (a fixed trip count, not unrolled: unrolled, ptxas held both steps' values and the Mistral
  // kernel took 78 registers instead of 72 on sm_90), the division by the run-time block size a
  // multiply-shift.
  constexpr int kKeysPerThread = (P + kNumThreads - 1) / kNumThreads;
  int bad_block = 0;  // a block id of this partition outside [0, num_blocks)
  const int* bt_row = p.block_tables + seq * p.bt_stride;
#pragma unroll 1
  for (int k = 0; k < kKeysPerThread; ++k) {
    const int r = tid + k * kNumThreads;
    if (r < n) {
      const int t = start + r;
      const int b = p.block_div.block_of(t);
      const int block = bt_row[b];
      bad_block |= !block_in_range(block, p.num_blocks);
      s_rows[r] = make_int2(block, t - b * p.block_div.block_size);
    }
  }
  if (tid < G) {
    float slope = 0.f;
    if constexpr (S::ALIBI_ENABLED) {
      if (tid < p.gqa_ratio) slope = p.alibi_slopes[head0 + tid];
    }
    s_slopes[tid] = slope;
  }

  // fp8 KV: k_scale joins the softmax scale, v_scale the output's normalisation, each with convert8's
  // power of two undone (exact).
  float q_mul = p.scale, v_mul = 1.f;
  if constexpr (IsFp8<TKV>::value) {
    q_mul *= *p.k_scale / kConvertScale<TKV>;
    v_mul = *p.v_scale / kConvertScale<TKV>;
  }

  // Query rows of the group, pre-multiplied by q_mul. Lane g_lane holds vectors g_lane + k * TG
  // (k < VPL) of each row.
  float q[G][VPL][8];
  const TQ* q_row = static_cast<const TQ*>(p.query) + int64_t(row) * p.q_stride_seq + head0 * p.q_stride_head;
#pragma unroll
  for (int i = 0; i < G; ++i) {
#pragma unroll
    for (int k = 0; k < VPL; ++k) {
      const int vec = g_lane + k * TG;
      vec8_t<TQ> raw{};
      if (vec < VPR && i < p.gqa_ratio) raw = load_vec8(q_row + vec * kVecElems);
      convert8<TQ>(raw, q[i][k]);
#pragma unroll
      for (int e = 0; e < 8; ++e) q[i][k][e] *= q_mul;
    }
    q_row += p.q_stride_head;  // the next head's row (a pointer step, not a 64-bit multiply per head)
  }
  if (__syncthreads_or(bad_block)) {  // the barrier that publishes s_rows; uniform across the workgroup
    write_bad_block_nan<S>(p, seq, row, head0, part);
    return;
  }

  // Row r of this partition is key start + r, at (block, slot) s_rows[r]. A thread loads rows
  // r0 + u * ROW_SLOTS + row_slot (u < U) of an iteration, all in flight at once.
  const PagedHead<TKV> k_head = p.key_cache.head<TKV>(kv_head), v_head = p.value_cache.head<TKV>(kv_head);
  auto load_rows = [&](vec8_t<TKV> (&raw)[U][VPL], const PagedHead<TKV>& cache, int r0) {
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int row = r0 + u * ROW_SLOTS + row_slot;
#pragma unroll
      for (int k = 0; k < VPL; ++k) raw[u][k] = vec8_t<TKV>{};
      if (row < n) {
        const int2 at = s_rows[row];
        const TKV* base = cache.row(at.x, at.y);
#pragma unroll
        for (int k = 0; k < VPL; ++k) {
          const int vec = g_lane + k * TG;
          if (vec < VPR) raw[u][k] = load_vec8(base + vec * kVecElems);
        }
      }
    }
  };

  // ---- QK: logits of every (row, head) of the partition into s_buf ----
  for (int r0 = 0; r0 < n; r0 += ROWS_PER_ITER) {
    vec8_t<TKV> kraw[U][VPL];
    load_rows(kraw, k_head, r0);
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int row = r0 + u * ROW_SLOTS + row_slot;
      float dot[G];
#pragma unroll
      for (int i = 0; i < G; ++i) dot[i] = 0.f;
#pragma unroll
      for (int k = 0; k < VPL; ++k) {
        float kf[8];
        convert8<TKV>(kraw[u][k], kf);
#pragma unroll
        for (int i = 0; i < G; ++i) {
          float s = dot[i];
#pragma unroll
          for (int e = 0; e < 8; ++e) s = fmaf(q[i][k][e], kf[e], s);
          dot[i] = s;
        }
      }
      int hb = 0;
      reduce_scatter<G, TG / 2>(dot, g_lane, hb);  // every lane takes part: no divergence before it
      if (row < n && (g_lane & LOW_MASK) == 0) {
#pragma unroll
        for (int j = 0; j < NH; ++j) {
          float x = dot[j];
          if constexpr (S::ALIBI_ENABLED) x += s_slopes[hb + j] * float(start + row - L + 1);
          if constexpr (S::SOFT_CAP_ENABLED) x = p.soft_cap * tanhf(x * p.inv_soft_cap);
          s_buf[row * G + hb + j] = x;
        }
      }
    }
  }
  __syncthreads();

  // Issue the first value rows now so their latency overlaps the softmax.
  vec8_t<TKV> vraw[U][VPL];
  load_rows(vraw, v_head, 0);

  // ---- softmax over the partition, per head (thread tid always sees head tid % G) ----
  float m = -INFINITY;
  for (int idx = tid; idx < n * G; idx += kNumThreads) m = fmaxf(m, s_buf[idx]);
  reduce_per_member<kNumThreads, G, true>(m, s_red, s_max);
  const float my_max = s_max[tid % G];
  float sum = 0.f;
  for (int idx = tid; idx < n * G; idx += kNumThreads) {
    const float e = fast_exp(s_buf[idx] - my_max);
    s_buf[idx] = e;
    sum += e;
  }
  reduce_per_member<kNumThreads, G, false>(sum, s_red, s_sum);
  // Normalisation (and fp8's v_scale in num). One partition: a sink s joins the denominator, with the max over the keys and the
  // sink: num = exp(m - m'), den = sum * num + exp(s - m'), m' = max(m, s). Several partitions: the
  // partial is normalised by its own sum; the reduce adds the sink once.
  if (tid < G) {
    float num = 1.f, den = s_sum[tid];
    if (single_partition && p.sinks != nullptr && tid < p.gqa_ratio) {
      const float m = s_max[tid], sink = p.sinks[head0 + tid], m2 = fmaxf(m, sink);
      num = fast_exp(m - m2);
      den = den * num + fast_exp(sink - m2);
    }
    s_num[tid] = num * v_mul;
    s_den[tid] = den;
  }  // read after the barriers of the PV epilogue

  // ---- PV: acc[head][8 elements of this lane's vector], over this thread's rows ----
  float acc[G][VPL][8];
#pragma unroll
  for (int i = 0; i < G; ++i)
#pragma unroll
    for (int k = 0; k < VPL; ++k)
#pragma unroll
      for (int e = 0; e < 8; ++e) acc[i][k][e] = 0.f;
  for (int r0 = 0; r0 < n; r0 += ROWS_PER_ITER) {
    if (r0 > 0) load_rows(vraw, v_head, r0);
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int row = r0 + u * ROW_SLOTS + row_slot;
      if (row < n) {
#pragma unroll
        for (int k = 0; k < VPL; ++k) {
          float v[8];
          convert8<TKV>(vraw[u][k], v);
#pragma unroll
          for (int i = 0; i < G; ++i) {
            const float pr = s_buf[row * G + i];
#pragma unroll
            for (int e = 0; e < 8; ++e) acc[i][k][e] = fmaf(pr, v[e], acc[i][k][e]);
          }
        }
      }
    }
  }
  // Sum the row slots of a warp, then the warps in turn into s_buf (now free) as [head][HS]; lane
  // l < TG of a warp writes vectors l + k * TG.
#pragma unroll
  for (int off = TG; off < kWarpSize; off *= 2)
#pragma unroll
    for (int i = 0; i < G; ++i)
#pragma unroll
      for (int k = 0; k < VPL; ++k)
#pragma unroll
        for (int e = 0; e < 8; ++e) acc[i][k][e] += shfl_xor(acc[i][k][e], off);
  __syncthreads();
  if constexpr (kParallelAcc) {
    if (lane < TG) {
#pragma unroll
      for (int k = 0; k < VPL; ++k) {
        const int vec = lane + k * TG;
        if (vec < VPR) {
#pragma unroll
          for (int i = 0; i < G; ++i)
#pragma unroll
            for (int e = 0; e < 8; ++e) s_buf[(warp * G + i) * HS + vec * 8 + e] = acc[i][k][e];
        }
      }
    }
    __syncthreads();
  } else {
    for (int w = 0; w < kNumWarps; ++w) {
      if (warp == w && lane < TG) {
#pragma unroll
        for (int k = 0; k < VPL; ++k) {
          const int vec = lane + k * TG;
          if (vec < VPR) {
#pragma unroll
            for (int i = 0; i < G; ++i)
#pragma unroll
              for (int e = 0; e < 8; ++e) {
                float* dst = &s_buf[i * HS + vec * 8 + e];
                *dst = (w == 0 ? 0.f : *dst) + acc[i][k][e];
              }
          }
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
    const float val = total * s_num[i] / s_den[i];
    if (single_partition) {
      from_float(val, &static_cast<TOut*>(p.out)[int64_t(row) * p.o_stride_seq + (head0 + i) * p.o_stride_head + e]);
    } else {
      const int64_t slot = (int64_t(seq) * p.num_heads + head0 + i) * p.num_partitions + part;
      from_float(val, &static_cast<TOut*>(p.tmp_out)[slot * HS + e]);
    }
  }
  if (!single_partition && tid < p.gqa_ratio) {
    const int64_t slot = (int64_t(seq) * p.num_heads + head0 + tid) * p.num_partitions + part;
    p.max_logits[slot] = s_max[tid];
    p.exp_sums[slot] = s_sum[tid];
  }
}

// Merges the partitions a sequence really has: ceil(span / P) with span = min(L, w) (window on)
// or L. One workgroup per (sequence, query head), one thread per output element (lse_merge).
template <class S>
__global__ AITER_SWA_REDUCE_BOUNDS(S) void reduce_kernel(const PaParams p) {
  using TOut = typename S::TOut;
  constexpr int HS = S::HEAD_SIZE;
  const int seq = blockIdx.x, head = blockIdx.y, e = threadIdx.x;
  const int row = one_token_row(p, seq);
  if (row < 0) return;  // the whole workgroup (before any wavefront barrier)
  const int L = clamp_context_len(p.context_lens[seq], p.max_context_len);
  const int span = L - first_attended_key<S::SLIDING_WINDOW_ENABLED>(L, p.sliding_window);
  const int num_parts = partitions_for(span, S::PARTITION_SIZE);
  const int64_t base = (int64_t(seq) * p.num_heads + head) * p.num_partitions;
  const float sink = p.sinks != nullptr ? p.sinks[head] : -INFINITY;
  grid_dependency_wait();  // the partials of the partition kernel (launch_dependent)
  const float val = lse_merge<HS>(p.max_logits + base, p.exp_sums + base,
                                  static_cast<const TOut*>(p.tmp_out) + base * HS, HS, e, num_parts, sink);
  if (e < HS) from_float(val, &static_cast<TOut*>(p.out)[int64_t(row) * p.o_stride_seq + head * p.o_stride_head + e]);
}

// The kernels' parameters from the launcher's arguments `a` (a struct rendered from the launch contract,
// aiter_swa/ops/pa_v1/spec.py LAUNCH; pointers are integers, strides in elements, the workspace's
// arrays at byte offsets computed by the host, aiter_swa/ops/pa_v1/workspace.py). launch: one kernel when
// there is one partition, else partition + reduce, on the current device.
template <class Args>
PaParams make_params(const Args& a) {
  PaParams p{};
  p.out = reinterpret_cast<void*>(a.out);
  p.query = reinterpret_cast<const void*>(a.query);
  p.key_cache = {reinterpret_cast<const void*>(a.key_cache), a.k_stride_block, a.k_stride_head, a.k_stride_token};
  p.value_cache = {reinterpret_cast<const void*>(a.value_cache), a.v_stride_block, a.v_stride_head, a.v_stride_token};
  p.block_tables = reinterpret_cast<const int*>(a.block_tables);
  p.context_lens = reinterpret_cast<const int*>(a.context_lens);
  p.alibi_slopes = reinterpret_cast<const float*>(a.alibi_slopes);
  p.sinks = reinterpret_cast<const float*>(a.sinks);
  p.k_scale = reinterpret_cast<const float*>(a.k_scale);
  p.v_scale = reinterpret_cast<const float*>(a.v_scale);
  p.exp_sums = reinterpret_cast<float*>(a.workspace + a.exp_sums_offset);
  p.max_logits = reinterpret_cast<float*>(a.workspace + a.max_logits_offset);
  p.tmp_out = reinterpret_cast<void*>(a.workspace + a.tmp_out_offset);
  p.num_heads = int(a.num_heads);
  p.gqa_ratio = int(a.num_heads / a.num_kv_heads);
  p.num_partitions = int(a.num_partitions);
  p.sliding_window = saturate_int32(a.sliding_window, 0);
  p.max_context_len = saturate_int32(a.max_context_len, 0);
  p.num_blocks = num_blocks_bound(a.num_blocks);
  p.block_size = int(a.block_size);
  p.block_div = BlockDivider::make(p.block_size);
  p.gqa_div = BlockDivider::make(p.gqa_ratio);
  p.bt_stride = a.bt_stride;
  p.q_stride_seq = a.q_stride_seq;
  p.q_stride_head = a.q_stride_head;
  p.o_stride_seq = a.o_stride_seq;
  p.o_stride_head = a.o_stride_head;
  p.scale = float(a.scale);
  p.soft_cap = float(a.soft_cap);
  p.inv_soft_cap = a.soft_cap > 0 ? float(1.0 / a.soft_cap) : 0.f;
  p.cu_query_lens = reinterpret_cast<const int*>(a.cu_query_lens);
  p.mtp = int(a.mtp);
  p.num_query_rows = int(a.num_query_rows);
  p.cu_len = int(a.cu_len);
  p.partition_size = int(a.partition_size);
  p.num_chunks = 1;
  return p;
}

#if !defined(AITER_SWA_NO_HOST_LAUNCH)  // the CPU emulator of the tests runs the kernels itself
// Whether the reduce of `reduce_grid` is a programmatic dependent launch (compat.h launch_dependent): at most
// `max_per_cu` of its workgroups per CU of the device (spec.py PROGRAMMATIC_REDUCE_MAX_WORKGROUPS_PER_CU; 0: never).
inline bool programmatic_reduce(const dim3& reduce_grid, int64_t max_per_cu, int64_t num_cus) {
  return int64_t(reduce_grid.x) * reduce_grid.y * reduce_grid.z <= max_per_cu * num_cus;
}

// Launches the partition kernel, a programmatic dependent launch of the stream's previous kernel where the build
// has it (sm_90+: compat.h launch_dependent; it waits for that kernel before any read), and, with more than one
// partition, the reduce (see programmatic_reduce).
template <class S, class Args>
gpuError_t launch(const Args& a, int64_t programmatic_reduce_max_per_cu) {
  const PaParams p = make_params(a);
  const auto stream = reinterpret_cast<gpuStream_t>(a.stream);
  const dim3 grid(unsigned(a.num_seqs), unsigned(a.num_kv_heads), unsigned(p.num_partitions > 1 ? p.num_partitions : 1));
  gpuError_t err = launch_dependent(true, partition_kernel<S>, grid, dim3(S::NUM_THREADS), 0, stream, p);
  if (p.num_partitions > 1) {
    if (err != gpuSuccess) return err;
    const dim3 reduce_grid(unsigned(a.num_seqs), unsigned(a.num_heads));
    return launch_dependent(programmatic_reduce(reduce_grid, programmatic_reduce_max_per_cu, a.num_cus),
                            reduce_kernel<S>, reduce_grid, dim3(lse_merge_threads(S::HEAD_SIZE)), 0, stream, p);
  }
  return err;
}
#endif

}  // namespace pa_v1
}  // namespace aiter_swa
