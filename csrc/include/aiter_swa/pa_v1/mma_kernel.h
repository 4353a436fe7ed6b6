// Paged-attention decode on matrix cores: the tiled partition kernel, its reduce and their host launch,
// as templates over one specialization `MmaSpec`. Shares PaParams, the load-and-convert path (vec.h),
// the paged addressing (paged_kv.h) and the window math (window.h) with the vector kernel (kernel.h).
//
// Rows. The M dimension of every product is the query rows of one (sequence, KV head): its GQA heads
// times its query tokens, row m = token * gqa_ratio + head. A workgroup serves ROWS of them (a chunk);
// sequences with more rows have several chunks (grid y = num_kv_heads * chunks), each reading only the
// keys its rows attend.
//
// Query tokens (multi-token decode, spec-decode verify). Sequence s has n query tokens: n = mtp at rows
// s * mtp + i without cu_query_lens; with it, rows cu[s] .. cu[s+1] - 1 (device contract, as
// aiter_swa/ops/pa_v1/tokens.py: a count outside [1, mtp] is no token, a row outside [0, num_query_rows)
// is neither read nor written: never an access outside the query). Token i of
// a sequence with context length L sits at position p = L - n + i and attends keys j with
// max(0, p - w + 1) <= j <= p (window w > 0; none: 0 <= j <= p); a row with p < 0 attends nothing and
// gets zeros, as a context of 0. ALiBi adds slope_h * (j - p).
//
// Split. Partitions of P keys (P a run-time multiple of KEY_TILE, computed on the host with their
// number: aiter_swa/ops/pa_v1/gpu.py) start at the sequence's first key any of its rows needs,
// k0 = max(0, L - n - w + 1); partition z covers [k0 + z * P, min(k0 + (z + 1) * P, L)). Inside it a
// chunk visits only the key tiles of KEY_TILE keys that intersect its rows' windows; keys outside are
// neither loaded nor their block-table entries read. One partition: the kernel writes out; several:
// normalised partials in the workspace (as the vector kernel) and mma_reduce_kernel merges the
// partitions each sequence has.
//
// Per key tile (4 workgroup barriers), software-pipelined one tile deep: the tile's K and V rows are
// already in registers (load_vec8, issued during the previous tile) and the (block, slot) of each key
// of the next tile in shared memory (block-table entries read two tiles ahead into a register).
// (1) K stored into shared memory as the query's 16-bit type (convert8: fp8 widens exactly, vec.h),
// the next tile's K loads issued; (2) S = Q K^T on matrix cores (mma.h), warps splitting the (row
// tile, key tile) pairs; (3) online softmax per row (threads of a row combine by shuffles; masked keys
// get -inf, so exactly zero weight), P rounded to the 16-bit type; V stored, the next tile's V loads
// issued; (4) O = O * alpha + P V on matrix cores, warps splitting the (row tile, column tile) pairs
// of O, which stay in registers. So the global loads of tile t + 1 are in flight over all of tile t's
// math (the loop had load -> barrier -> math, three dependent global round trips per tile: block
// table, K, V).
//
// The K/V ring (S::RING: NVIDIA sm_80+, 16-bit KV; spec.py mma_ring) replaces that register prefetch:
// K and V go global -> shared by async_copy.h (cp.async, PTX ISA) into two stages of separate K and V
// buffers, 3 barriers per tile: wait for the tile's K group, barrier (publishes K, ends every read of
// the other stage), the next tile's K and V copies issued into the other stage, (2), barrier, (3)
// with a wait for the tile's V group, barrier, (4). No registers hold K/V in flight (243 -> 122
// registers at head 128 x 16 rows on sm_90, so 4 workgroups per SM instead of 2).
//
// Warp split (S::WARP_KV: the ring's targets, 16 or 32 rows, heads 64 and 128; spec.py mma_warp_kv). The
// scheme above splits the head's columns over the warps, so every warp needs every key's weight: the
// scores and weights go through shared memory and three barriers per tile. Instead, each row group (16
// rows, 4 warps; 32 rows: two row groups, 8 warps, sharing the ring, so each key tile is copied once for
// both) splits the tile's keys: key group kg of its warps takes keys [16 kg, 16 kg + 16) of each tile
// (KV_GROUPS = KEY_TILE / 16 groups; the warps of a key group split the columns of O): it computes the
// slice's scores in two 8-key C tiles, masks them,
// takes each row's maximum over the four lanes of the row (shuffles), rounds the weights and uses
// them as the A fragment of P V straight from its registers (mma.h c_pair_to_a), with its own running
// maximum and exp sum per row. One barrier per tile (the ring's wait, then the copies of the tile
// STAGES - 1 ahead into the stage the previous tile used). Its ring has STAGES stages (spec.py mma_stages:
// 3 on sm_90, so two tiles in flight over each tile's math) of unpadded K and V tiles whose 16-byte chunks
// are swizzled (mma.h Swizzled) instead of padded, so that three stages fit 4 workgroups per SM. After the
// loop the groups merge through the ring's buffers with the reduce's rule: M = max m_g,
// L = sum l_g exp(m_g - M), O = sum O_g exp(m_g - M) (a group that saw no key weighs 0); the write is the
// same as above. The long form (spec.py mma_long_form: sm_90, head 128 x 16 rows) is this kernel with 64-key
// tiles, so four key groups of one warp each holding all of O's columns, 3 stages and 2 workgroups per SM; its
// module holds both, and the launcher picks one per call (split.h split_for).
//
// Metadata the kernel cannot trust (docs/design.md): context lengths are clamped to [0, max_context_len];
// every block id of the partition's keys is checked before any K/V read (all chunks and KV heads check
// the same ids) and a bad one makes the workgroup write NaN in all it would write.
#pragma once

#include <atomic>

#include "aiter_swa/async_copy.h"
#include "aiter_swa/mma.h"
#include "aiter_swa/pa_v1/kernel.h"

namespace aiter_swa {
namespace pa_v1 {

// K/V tile buffers in shared memory: one (K and V in turn) on the register path, four on the ring
// (K and V, two stages each).
__host__ __device__ constexpr int mma_kv_buffers(bool ring) { return ring ? 4 : 1; }

// Floats of padding after each row of the warp split's merge of O (its rows are head_size + kMergeRowPad
// floats apart: mma_partition_kernel's LDO, which says why).
constexpr int kMergeRowPad = 8;

// The warp split's K/V ring (bytes): `stages` stages of unpadded (swizzled) K and V tiles, and at least the
// merge of its key groups after the loop (float O in rows of head_size + kMergeRowPad, maximum, exp sum and
// weight per group and row), which goes in the same buffer (e.g. 32 rows with two stages).
__host__ __device__ constexpr int mma_warp_kv_bytes(int head_size, int rows, int key_tile, int stages) {
  const int ring = 2 * 2 * stages * key_tile * head_size;
  const int merge = 4 * (key_tile / 16) * rows * (head_size + kMergeRowPad + 3);
  return ring > merge ? ring : merge;
}

// Shared memory of one workgroup (bytes), as aiter_swa/ops/pa_v1/spec.py mma_smem_bytes computes it
// (and mma_key_tile from it). The warp split (warp_kv) keeps no score or weight tile (1 element each),
// and its ring (mma_warp_kv_bytes) with its keys' row addresses.
__host__ __device__ constexpr int mma_smem_bytes(int head_size, int rows, int key_tile, bool ring, bool warp_kv = false,
                                                 int stages = 2) {
  return (warp_kv ? mma_warp_kv_bytes(head_size, rows, key_tile, stages)
                  : 2 * mma_kv_buffers(ring) * key_tile * (head_size + 8)) +
         2 * rows * (head_size + 8) + (warp_kv ? 4 + 2 : 4 * rows * key_tile + 2 * rows * (key_tile + 8)) +
         (warp_kv ? 16 * stages * key_tile + 8 : ring ? 32 * key_tile + 8 : 16 * key_tile + 16) + 36 * rows;
}

// One matrix-core specialization. ROWS: query rows (GQA heads x tokens) per workgroup, a multiple of
// 16; KEY_TILE: keys per tile (a multiple of 16; spec.py mma_key_tile). RING: K/V copied global ->
// shared by async_copy.h (cp.async) into a ring of two stages, no register prefetch (spec.py mma_ring:
// NVIDIA sm_80+ with a 16-bit KV cache). MIN_WORKGROUPS_PER_SM: see below (spec.py
// mma_workgroups_per_sm, which the split counts as resident too).
template <typename TQ_, typename TKV_, typename TOut_, int HEAD_SIZE_, int ROWS_, int KEY_TILE_,
          bool SLIDING_WINDOW_ENABLED_, bool SOFT_CAP_ENABLED_, bool ALIBI_ENABLED_, bool RING_,
          int MIN_WORKGROUPS_PER_SM_, bool WARP_KV_ = false, int STAGES_ = 2>
struct MmaSpec {
  using TQ = TQ_;
  using TKV = TKV_;
  using TOut = TOut_;
  static constexpr int HEAD_SIZE = HEAD_SIZE_;
  static constexpr int ROWS = ROWS_;
  static constexpr int KEY_TILE = KEY_TILE_;
  static constexpr bool SLIDING_WINDOW_ENABLED = SLIDING_WINDOW_ENABLED_;
  static constexpr bool SOFT_CAP_ENABLED = SOFT_CAP_ENABLED_;
  static constexpr bool ALIBI_ENABLED = ALIBI_ENABLED_;
  // The warp split (WARP_KV below) has a row group of 4 warps per 16 rows; the column split 4 warps.
  static constexpr bool WARP_KV = WARP_KV_;
  static constexpr int ROW_GROUPS = WARP_KV ? ROWS_ / 16 : 1;
  static constexpr int NUM_WARPS = 4 * ROW_GROUPS;
  static constexpr int NUM_THREADS = NUM_WARPS * kWarpSize;
  static constexpr bool RING = RING_;
  // NVIDIA: resident workgroups per SM the register allocation must allow (__launch_bounds__'s second
  // argument: 65536 registers per SM / (NUM_THREADS x registers)); the rule and its measurements:
  // spec.py mma_workgroups_per_sm. HIP: unused.
  static constexpr int MIN_WORKGROUPS_PER_SM = MIN_WORKGROUPS_PER_SM_;
  // The warp split (spec.py mma_warp_kv): in each row group (16 rows, 4 warps; the groups share the K/V
  // ring), the key tile's 16-key slices go to groups of warps (KV_GROUPS = KEY_TILE / 16 of them), each
  // with its own online softmax in registers; the warps of a group split the head's columns (COLS each).
  // See "Warp split" at the top of this file.
  static constexpr int KV_GROUPS = WARP_KV ? KEY_TILE / 16 : 1;
  static constexpr int COLS = HEAD_SIZE / (4 / KV_GROUPS);
  static_assert(!WARP_KV || (RING && kWarpSize == 32 && ROWS % 16 == 0 && KEY_TILE % 16 == 0 &&
                             4 % KV_GROUPS == 0 && COLS % 8 == 0),
                "the warp split: the ring, 32-lane wavefronts (mma.h's m16n8k16 C -> A reuse), row groups of "
                "16 rows, 16-key slices over whole warps, columns in 8-column tiles");
  // The warp split's ring: STAGES stages (STAGES - 1 key tiles in flight over a tile's math; spec.py
  // mma_stages) of unpadded, swizzled K and V tiles (mma.h Swizzled), in dynamic shared memory (KV_BYTES:
  // three stages take 55 KiB per workgroup at head 128, past CUDA's 48 KiB of static shared memory;
  // launch_mma opts in once per device). The column split: two stages, padded, static.
  static constexpr int STAGES = STAGES_;
  static constexpr int KV_BYTES = WARP_KV ? mma_warp_kv_bytes(HEAD_SIZE, ROWS, KEY_TILE, STAGES) : 0;
  static_assert(STAGES >= 2 && (STAGES == 2 || WARP_KV), "ring stages: 2, or more with the warp split");
  static_assert(!WARP_KV || HEAD_SIZE % 64 == 0, "swizzled tiles: rows of whole 8-chunk groups");
  static_assert(!RING || (std::is_same<TKV_, TQ_>::value && kAsyncCopyAvailable),
                "the K/V ring: a 16-bit KV cache and a target with cp.async (async_copy.h)");
  static_assert(ROWS % mma::kM == 0 && ROWS <= NUM_THREADS, "rows: a multiple of 16, at most one per thread");
  static_assert(KEY_TILE % mma::kK == 0 && KEY_TILE % mma::kN == 0, "key tile: a multiple of 16");
  static_assert(HEAD_SIZE % mma::kK == 0 && HEAD_SIZE % mma::kN == 0, "head size: a multiple of 16");
  static_assert(sizeof(TQ) == 2, "matrix-core operands: the query's 16-bit type");
};

// First key any of the n query tokens of a sequence of L keys attends (the partitions' origin).
template <bool SLIDING_WINDOW_ENABLED>
__device__ __forceinline__ int64_t first_needed_key(int L, int n, int w) {
  if (SLIDING_WINDOW_ENABLED && w > 0) {
    const int64_t k = int64_t(L) - n - w + 1;
    return k > 0 ? k : 0;
  }
  return 0;
}

// tanh(x) = 1 - 2 / (exp(2x) + 1) with the fast exponential and division: absolute error of a few
// float32 ulps of 1, +-1 at +-inf, NaN for NaN; below |x| = 1/16 the odd series x - x^3/3 + 2x^5/15
// (relative error below 2^-27 there), since the capped logit c * tanh(x / c) needs a relative error:
// a large cap makes x tiny, where 1 - 2 / (exp(2x) + 1) cancels to 0 (caps 1e6 to 3e38 gave uniform
// weights: the H200 run of 2026-11-29, 11:28 UTC session, call 5). The library tanhf needed scalar
// registers that gfx90a did not have (spills).
__device__ __forceinline__ float fast_tanh(float x) {
  const float x2 = x * x;
  const float series = x * (1.f + x2 * (-1.f / 3.f + x2 * (2.f / 15.f)));
  const float formula = 1.f - __fdividef(2.f, fast_exp(2.f * x) + 1.f);
  return fabsf(x) < 0.0625f ? series : formula;  // a select, not a branch (a branch spilled on sm_90 at head 512)
}

// NVIDIA: with the specialization's minimum of resident workgroups per SM (HIP: threads only; its
// second argument means waves per EU, and gfx90a/gfx942 must keep zero spills).
#if defined(AITER_SWA_HIP)
#define AITER_SWA_MMA_BOUNDS(S) __launch_bounds__(S::NUM_THREADS)
#else
#define AITER_SWA_MMA_BOUNDS(S) __launch_bounds__(S::NUM_THREADS, S::MIN_WORKGROUPS_PER_SM)
#endif
template <class S>
__global__ AITER_SWA_MMA_BOUNDS(S) void mma_partition_kernel(const PaParams p) {
  using TQ = typename S::TQ;
  using TKV = typename S::TKV;
  using TOut = typename S::TOut;
  constexpr int HS = S::HEAD_SIZE, R = S::ROWS, KT = S::KEY_TILE, NT = S::NUM_THREADS, NW = S::NUM_WARPS;
  constexpr int LDQ = HS + 8, LDK = HS + (S::WARP_KV ? 0 : 8), LDP = KT + 8;  // 16-bit elements; +8 staggers the banks
  constexpr int NSTAGE = S::STAGES;
  constexpr int MT = R / mma::kM;
  constexpr int QK_JOBS = MT * (KT / mma::kN);
  constexpr int PV_JOBS = MT * (HS / mma::kN);
  constexpr int PV_PER_WARP = (PV_JOBS + NW - 1) / NW;
  constexpr int QK_PER_WARP = (QK_JOBS + NW - 1) / NW;
  constexpr int TPR = NT / R;  // softmax threads per row, consecutive lanes of one wavefront
  static_assert(KT <= NT, "one key location per thread");
  static_assert((TPR & (TPR - 1)) == 0 && TPR <= kWarpSize && KT % TPR == 0, "softmax row groups");
  constexpr int VPR = HS / kVecElems;          // vectors per K/V row
  constexpr int TILE_VECS = KT * VPR;
  constexpr int VPT = (TILE_VECS + NT - 1) / NT;  // vectors per thread of one tile
  // Whether every warp has the same number of jobs / every thread the same number of vectors (tid < NT,
  // warp < NW: the guards below are compile-time then, and no branch separates the mma or the loads)
  constexpr bool QK_EVEN = QK_JOBS % NW == 0, PV_EVEN = PV_JOBS % NW == 0, TILES_EVEN = TILE_VECS % NT == 0;
  // V of the next tile prefetched too, unless its registers (with K's and O's accumulators) would not
  // fit beside the rest on NVIDIA (sm_90 spilled at head 192 x 64 keys and 512 x 16 keys, bf16: 120
  // and 128 such registers); then this tile's V loads are issued before its softmax, as K's are not.
  constexpr int kPrefetchRegs = 2 * VPT * int(sizeof(vec8_t<TKV>)) / 4, kAccRegs = PV_PER_WARP * mma::kCElems;
  constexpr bool kPrefetchV = kWarpSize == 64 || kPrefetchRegs + kAccRegs <= 100;
  constexpr bool kRawCopy = std::is_same<TKV, TQ>::value;
  // The warp split (S::WARP_KV): row group rg (rows [16 rg, 16 rg + 16), warps [4 rg, 4 rg + 4)) of KG
  // key groups of WPG warps, key group kg on keys [16 kg, 16 kg + 16) of each tile, warp cg of it on
  // columns [cg * CW, cg * CW + CW) of O, in O_TILES accumulators of 8 columns.
  constexpr bool WKV = S::WARP_KV;
  constexpr int KG = S::KV_GROUPS, WPG = 4 / KG, CW = S::COLS;
  constexpr int O_TILES = WKV ? CW / mma::kN : PV_PER_WARP;
  // ... and its merge after the key loop, in the ring's buffers (floats): each group's O [KG][R][LDO], then
  // its maxima, exp sums and merge weights, [KG][R] each. LDO = HS + 8 (kMergeRowPad): a warp's 64-bit
  // store of a C tile (rows c_row = lane / 4, 8 of them, 8 columns) then covers 32 banks per half-warp, 2
  // wavefronts; with rows HS floats apart (a multiple of 32 banks) all 32 lanes hit the same 8 banks, 8.
  constexpr int LDO = HS + kMergeRowPad;
  constexpr int MERGE_M = KG * R * LDO, MERGE_L = MERGE_M + KG * R, MERGE_W = MERGE_L + KG * R;

  __shared__ __align__(16) uint16_t s_q[R * LDQ];
  // K/V tiles: register path one buffer, K and V in turn; ring: K of stages 0 .. NSTAGE - 1, then V of them
  // (the warp split: in dynamic shared memory, S::KV_BYTES)
  __shared__ __align__(16) uint16_t s_kv_static[WKV ? 1 : mma_kv_buffers(S::RING) * KT * LDK];
  AITER_SWA_EXTERN_SHARED(uint16_t, s_kv_dynamic);
  uint16_t* const s_kv = WKV ? s_kv_dynamic : s_kv_static;
  __shared__ __align__(16) uint16_t s_p[WKV ? 1 : R * LDP];  // the warp split keeps scores and weights in registers
  __shared__ float s_s[WKV ? 1 : R * KT];
  // Where each key of the next tiles lives (two buffers; the warp split's ring NSTAGE): the register path
  // its (block, slot); the ring the address of its K and V row (ring_row below), computed once per key where the key is
  // published, so that each 16-byte copy costs a shared load, an add and a mask: with (block, slot)
  // each copy took about 30 instructions of address math (64-bit products by strides reloaded from the
  // constant bank), 240 of the loop's 583 per warp and 32-key tile (Nsight Compute source view, H200,
  // 2026-11-29 20:38 UTC session, call 6); with element offsets still about 25 (the head's base
  // rebuilt from the kernel parameters for each copy: the sm_90 SASS of 2026-11-30).
  __shared__ int2 s_rows[S::RING ? 1 : 2 * KT];
  __shared__ unsigned long long s_kptr[S::RING ? NSTAGE * KT : 1], s_vptr[S::RING ? NSTAGE * KT : 1];
  __shared__ float s_m[R], s_l[R], s_alpha[R], s_slope[R];
  __shared__ int s_lo[R], s_hi[R];  // attended keys of row r in this partition: [s_lo, s_hi)
  // Row r's query/out row and head (-1: none, or outside the query), its position: kept in shared memory
  // so that none of the values they come from stay in (scalar) registers across the key loop.
  __shared__ int s_qrow[R], s_qhead[R], s_pos[R];
  static_assert(mma_smem_bytes(HS, R, KT, S::RING, WKV, NSTAGE) ==
                    int(sizeof(s_q) + (WKV ? S::KV_BYTES : sizeof(s_kv_static)) + sizeof(s_p) + sizeof(s_s) +
                        sizeof(s_rows) + sizeof(s_kptr) + sizeof(s_vptr) + 9 * sizeof(s_m)),
                "mma_smem_bytes must be the shared memory declared here (spec.py sizes the key tile with it)");

  const int num_chunks = p.num_chunks;
  const int seq = blockIdx.x, kv_head = blockIdx.y / num_chunks, chunk = blockIdx.y % num_chunks, part = blockIdx.z;
  const int tid = threadIdx.x, lane = tid % kWarpSize, warp = tid / kWarpSize;
  const int gqa = p.gqa_ratio, head0 = kv_head * gqa;
  const bool single_partition = p.num_partitions <= 1;
  begin_partition_kernel(single_partition);

  int row0, n;
  query_rows(p, seq, row0, n);
  const int rows_total = n * gqa;
  if (chunk * R >= rows_total) return;  // no query row here
  // The chunk's query rows (zeros for rows past the sequence's), loaded into registers before anything else
  // and stored into shared memory only before the barrier below, so that these loads, the block table's
  // and the context length's are in flight together: stored where they were loaded, the query rows and
  // each tile's block-table entries were one dependent global round trip each before the first key
  // (the sm_90 SASS of 2026-11-30: about 7 in a row, where batch 1's 128-key partitions spend most of
  // their time).
  // Row m's token m / gqa by the host-made divider (a run-time division was a ~10-20 instruction sequence
  // each, about 100 sm_90 instructions of the prologue's ~460 per warp at gpt-oss window 128)
  auto token_of = [&](int m) { return p.gqa_div.div(m); };
  constexpr int QVPT = (R * VPR + NT - 1) / NT;  // query vectors per thread
  constexpr bool Q_EVEN = R * VPR % NT == 0;      // every thread QVPT of them (no guard, as TILES_EVEN)
  vec8_t<TQ> q_raw[QVPT];
#pragma unroll
  for (int u = 0; u < QVPT; ++u) {
    const int idx = tid + u * NT, r = idx / VPR, c = idx % VPR, m = chunk * R + r, tok = token_of(m);
    q_raw[u] = vec8_t<TQ>{};
    if ((Q_EVEN || idx < R * VPR) && m < rows_total && row_in_range(p, row0, tok))
      q_raw[u] = load_vec8(static_cast<const TQ*>(p.query) + (int64_t(row0) + tok) * p.q_stride_seq +
                           int64_t(head0 + m - tok * gqa) * p.q_stride_head + c * kVecElems);
  }
  const int L = clamp_context_len(p.context_lens[seq], p.max_context_len);
  const int w = p.sliding_window;
  const int64_t part_start64 = first_needed_key<S::SLIDING_WINDOW_ENABLED>(L, n, w) + int64_t(part) * p.partition_size;
  if (!single_partition && part_start64 >= L) return;  // the sequence has fewer partitions (the reduce agrees)
  // From here every key index is in [0, L] (one partition: part 0 starts at k0 <= L): ints.
  const int part_start = int(part_start64);
  const int part_end = int(min(part_start64 + p.partition_size, int64_t(L)));
  // Keys this chunk's rows attend in the partition: [lo, hi) (positions of its tokens are consecutive,
  // so the union of their windows is one interval). Positions are >= -mtp.
  const int m_first = chunk * R, m_last = min(rows_total, (chunk + 1) * R) - 1;
  const int pos_first = L - n + token_of(m_first), pos_last = L - n + token_of(m_last);
  int lo = part_start;
  const int hi = min(part_end, pos_last + 1);
  if (S::SLIDING_WINDOW_ENABLED && w > 0) lo = int(max(int64_t(lo), int64_t(pos_first) - w + 1));
  const int* bt_row = p.block_tables + seq * p.bt_stride;

  if (tid < R) {
    const int m = chunk * R + tid, tok = token_of(m), head = head0 + m - tok * gqa;
    int rlo = 0, rhi = 0;
    float slope = 0.f;
    if (m < rows_total) {
      const int pos = L - n + tok;
      rlo = part_start;
      if (S::SLIDING_WINDOW_ENABLED && w > 0) rlo = int(max(int64_t(rlo), int64_t(pos) - w + 1));
      rhi = min(part_end, pos + 1);
      if constexpr (S::ALIBI_ENABLED) slope = p.alibi_slopes[head];
    }
    s_lo[tid] = rlo;
    s_hi[tid] = max(rhi, rlo);
    s_slope[tid] = slope;
    const bool written = m < rows_total && row_in_range(p, row0, tok);
    s_qrow[tid] = written ? row0 + tok : -1;
    s_qhead[tid] = head;
    s_pos[tid] = L - n + tok;
    s_m[tid] = -INFINITY;
    s_l[tid] = 0.f;
  }
  // Key tiles of the chunk, and where the keys of its first two tiles live (block, slot; -1: a key
  // outside [lo, hi), not read, zeros); later tiles' locations are read one tile ahead (the loop).
  const int first_tile = part_start + (lo > part_start ? (lo - part_start) / KT * KT : 0);
  const int num_tiles = hi > lo ? (hi - first_tile + KT - 1) / KT : 0;
  auto locate = [&](int tile) {
    int2 at = make_int2(-1, 0);
    if (tid < KT && tile < num_tiles) {
      const int t0 = first_tile + tile * KT;
      if (tid >= lo - t0 && tid < hi - t0) {
        // Register path (the one AMD runs): a division, not BlockDivider's multiply-shift (paged_kv.h):
        // one per thread per tile, read a tile ahead, off the critical path; its two more scalars live
        // across the loop spilled 4 SGPRs on gfx90a (fp8 KV: head 80 and 96 x 32 rows, 192 x 16). The
        // ring (NVIDIA): the multiply-shift (the division's ~25 instructions ran in warp 0 alone).
        const int j = t0 + tid, b = S::RING ? p.block_div.block_of(j) : j / p.block_size;
        at = make_int2(bt_row[b], j - b * p.block_size);
      }
    }
    return at;
  };
  const PagedHead<TKV> k_head = p.key_cache.head<TKV>(kv_head), v_head = p.value_cache.head<TKV>(kv_head);
  // Ring: the address of the key's row in `cache` (16-byte aligned: the op checks the cache's pointer
  // and strides), or for a key outside [lo, hi) the head's base pointer with bit 0 set: copied as zeros,
  // not read (copy_tile), and never an address from a block id that locate did not pass.
  auto ring_row = [](const PagedHead<TKV>& cache, const int2 at) -> unsigned long long {
    return at.x >= 0 ? reinterpret_cast<unsigned long long>(cache.row(at.x, at.y))
                     : reinterpret_cast<unsigned long long>(cache.base) | 1ull;
  };
  // Publishes key i of the buffers (i in [0, 2 KT); the warp split's ring [0, NSTAGE KT)) from its (block, slot).
  auto publish = [&](int i, const int2 at) {
    if constexpr (S::RING) {
      s_kptr[i] = ring_row(k_head, at);
      s_vptr[i] = ring_row(v_head, at);
    } else {
      s_rows[i] = at;
    }
  };
  // The first tiles' block-table entries (all loads issued before any is used), then every block id of the
  // partition's keys (the same for every chunk and KV head of the sequence), then the query rows' stores.
  int2 at_first[NSTAGE];
#pragma unroll
  for (int t = 0; t < NSTAGE; ++t) at_first[t] = locate(t);
  int2 at_next = locate(NSTAGE);
  int bad_block = 0;
  if (part_end > part_start) {
    const int b_first = p.block_div.block_of(part_start), b_last = p.block_div.block_of(part_end - 1);
    for (int b = b_first + tid; b <= b_last; b += NT) bad_block |= !block_in_range(bt_row[b], p.num_blocks);
  }
#pragma unroll
  for (int u = 0; u < QVPT; ++u) {
    const int idx = tid + u * NT;
    if (Q_EVEN || idx < R * VPR)
      *reinterpret_cast<vec8_t<TQ>*>(&s_q[(idx / VPR) * LDQ + (idx % VPR) * kVecElems]) = q_raw[u];
  }
  if (tid < KT) {
#pragma unroll
    for (int t = 0; t < NSTAGE; ++t) publish(t * KT + tid, at_first[t]);
  }
  const float qnan = __uint_as_float(0x7fc00000u);
  float q_mul = p.scale;  // fp8: k_scale with convert8's power of two undone (v_scale: at the end)
  if constexpr (IsFp8<TKV>::value) q_mul *= *p.k_scale / kConvertScale<TKV>;
  const bool bad = __syncthreads_or(bad_block);  // also publishes the row set-up, the query, the keys

  auto issue_tile = [&](vec8_t<TKV> (&raw)[VPT], const PagedHead<TKV>& cache, const int2* rows) {
#pragma unroll
    for (int u = 0; u < VPT; ++u) {
      const int idx = tid + u * NT;
      raw[u] = vec8_t<TKV>{};
      if (TILES_EVEN || idx < TILE_VECS) {
        const int2 at = rows[idx / VPR];
        if (at.x >= 0) raw[u] = load_vec8(cache.row(at.x, at.y) + (idx % VPR) * kVecElems);
      }
    }
  };
  // Ring (S::RING): the tile's K or V rows (`rows`: their ring_row addresses, s_kptr or s_vptr) straight
  // into the shared buffer `buf` by async_copy16, the keys outside [lo, hi) (bit 0 set) zero-filled
  // without a read (the source then lies in the head's first row). Consecutive threads copy consecutive
  // 16-byte chunks of a row, so each warp-wide copy reads whole rows. (Each thread copying the chunks of
  // one row at fixed offsets, one address read per row, cut the loop from 424 to 342 sm_90 instructions
  // but each warp-wide copy then read 32-64 bytes of each of 16 or 8 rows: 11% slower at Mistral's
  // shape, 46% at gpt-oss's on the H200, docs/results.md, 2026-11-29 23:37 UTC session, call 2.)
  auto copy_tile = [&](uint16_t* buf, const unsigned long long* rows) {
#pragma unroll
    for (int u = 0; u < VPT; ++u) {
      const int idx = tid + u * NT;
      if (TILES_EVEN || idx < TILE_VECS) {
        const unsigned long long at = rows[idx / VPR];
        const TKV* src = reinterpret_cast<const TKV*>(at & ~1ull) + (idx % VPR) * kVecElems;
        const int r = idx / VPR, c = (idx % VPR) * kVecElems;
        const int dst = WKV ? mma::Swizzled{LDK}(r, c) : mma::Padded{LDK}(r, c);
        async_copy16(&buf[dst], src, !(at & 1));
      }
    }
  };
  uint16_t* const s_k_ring = s_kv;               // K of stage s: s_k_ring + s * KT * LDK (ring only)
  uint16_t* const s_v_ring = s_kv + (S::RING ? NSTAGE * KT * LDK : 0);  // V of stage s: likewise
  auto store_tile = [&](const vec8_t<TKV> (&raw)[VPT]) {
#pragma unroll
    for (int u = 0; u < VPT; ++u) {
      const int idx = tid + u * NT;
      if (TILES_EVEN || idx < TILE_VECS) {
        uint16_t* dst = &s_kv[(idx / VPR) * LDK + (idx % VPR) * kVecElems];
        if constexpr (kRawCopy) {
          *reinterpret_cast<vec8_t<TQ>*>(dst) = raw[u];
        } else {
          // fp8 -> the 16-bit type, exactly: convert8's values (value * 2^-8 or 2^-7, NaN a quiet NaN) are
          // fp16 numbers (convert8_f16 gives their bits) and bf16 numbers, so bf16 takes the upper half of the
          // float bits (no rounding).
          uint32_t packed[4];
          if constexpr (std::is_same<TQ, bf16_t>::value) {
            float f[8];
            convert8<TKV>(raw[u], f);
#pragma unroll
            for (int e = 0; e < 4; ++e)
              packed[e] = (__float_as_uint(f[2 * e]) >> 16) | (__float_as_uint(f[2 * e + 1]) & 0xffff0000u);
          } else {
            convert8_f16<TKV>(raw[u], packed);
          }
          *reinterpret_cast<uint4*>(dst) = make_uint4(packed[0], packed[1], packed[2], packed[3]);
        }
      }
    }
  };

  mma::FragC o[O_TILES];
#pragma unroll
  for (int jj = 0; jj < O_TILES; ++jj) mma::zero(o[jj]);

  const int sr = tid / TPR, sub = tid % TPR;  // softmax: row sr, keys sub, sub + TPR, ...
  if constexpr (WKV) {
    // The softmax state of the lane's rows c_row(lane, 0) and c_row(lane, 2) (g and g + 8 of the
    // m16n8k16 C layout, mma.h): the running maximum and this lane's part of the exp sum (its keys
    // only: the four lanes of a row add theirs after the loop)
    float m_run[2] = {-INFINITY, -INFINITY}, l_run[2] = {0.f, 0.f};
    // (one row group: rg 0 at compile time; warp / 4 kept 11 more sm_90 instructions per tile in the loop)
    const int rg = S::ROW_GROUPS > 1 ? warp / 4 : 0, kg = (S::ROW_GROUPS > 1 ? warp % 4 : warp) / WPG, cg = warp % WPG;
    const int rr[2] = {rg * mma::kM + mma::c_row(lane, 0), rg * mma::kM + mma::c_row(lane, 2)};
    const uint16_t* const s_q_rows = s_q + rg * mma::kM * LDQ;  // the row group's query rows
    if (!bad && num_tiles > 0) {
      int klo[2], khi[2], kpos[2];
      float slope[2];
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        klo[i] = s_lo[rr[i]];
        khi[i] = s_hi[rr[i]];
        kpos[i] = s_pos[rr[i]];
        slope[i] = s_slope[rr[i]];
      }
      // the query rows as A fragments held for the whole loop up to head 64 (16 registers); larger heads
      // read them from shared memory per tile (sm_90 spilled 4-16 bytes at 128 registers with head 128's 32)
      constexpr bool kQRegs = HS <= 64;
      mma::FragA qf[kQRegs ? HS / mma::kK : 1];
#pragma unroll
      for (int ks = 0; ks < (kQRegs ? HS / mma::kK : 0); ++ks)
        mma::load_a(qf[ks], reinterpret_cast<const TQ*>(s_q_rows) + ks * mma::kK, LDQ, lane);
      // tiles 0 .. NSTAGE - 2 into stages 0 .. NSTAGE - 2: K and V of a tile, one group per tile (empty past
      // the last tile, so that the waits' counts hold)
#pragma unroll
      for (int t = 0; t < NSTAGE - 1; ++t) {
        if (t < num_tiles) {
          copy_tile(s_k_ring + t * KT * LDK, s_kptr + t * KT);
          copy_tile(s_v_ring + t * KT * LDK, s_vptr + t * KT);
        }
        async_commit();
      }
      int stage = 0, ahead_stage = NSTAGE - 1;  // tile % NSTAGE, (tile + NSTAGE - 1) % NSTAGE
      for (int tile = 0; tile < num_tiles; ++tile) {
        const int t0 = first_tile + tile * KT;
        // this tile's K and V copies done (the next NSTAGE - 2 tiles' may stay in flight); the barrier
        // publishes them and ends every read of the previous tile's stage, where the copies of tile
        // + NSTAGE - 1 go (one group; an empty one near the end, so that the wait counts hold). (With two
        // stages, issuing the next tile's copies before this tile's wait, behind a second barrier,
        // measured the same or slower on the H200: docs/results.md, 2026-11-29 11:28 UTC session, call 3.)
        async_wait<NSTAGE - 2>();
        __syncthreads();
        if (tile + NSTAGE - 1 < num_tiles) {
          copy_tile(s_k_ring + ahead_stage * KT * LDK, s_kptr + ahead_stage * KT);
          copy_tile(s_v_ring + ahead_stage * KT * LDK, s_vptr + ahead_stage * KT);
        }
        async_commit();
        // where the keys of tile + NSTAGE live (into this tile's buffer: its copies were issued before
        // the barrier above; read one tile ahead into a register)
        if (tid < KT) publish(stage * KT + tid, at_next);
        at_next = locate(tile + NSTAGE + 1);
        const int cur = stage;
        stage = stage + 1 == NSTAGE ? 0 : stage + 1;
        ahead_stage = ahead_stage + 1 == NSTAGE ? 0 : ahead_stage + 1;
        const int kbase = t0 + kg * 16;  // this group's 16 keys (a slice outside [lo, hi): skipped)
        if (kbase >= hi || kbase + 16 <= lo) continue;  // uniform across the wavefront
        const TQ* const k_stage = reinterpret_cast<const TQ*>(s_k_ring + cur * KT * LDK);
        const TQ* const v_stage = reinterpret_cast<const TQ*>(s_v_ring + cur * KT * LDK);
        // S = Q K^T of the slice: two 8-key C tiles, HS / 16 k-steps; at head 128 and up the even and
        // odd k-steps go to two accumulators added at the end (chains of HS / 32 dependent mma instead
        // of HS / 16: the H200 profile's top stall was the wait on the previous mma, 2026-11-29, call 6)
        constexpr int QK_CHAINS = HS >= 128 ? 2 : 1;
        mma::FragC sc[2], sc_odd[2];
#pragma unroll
        for (int nt = 0; nt < 2; ++nt) {
          mma::zero(sc[nt]);
          mma::zero(sc_odd[nt]);
        }
#pragma unroll
        for (int ks = 0; ks < HS / mma::kK; ++ks) {
          mma::FragA qa;
          if constexpr (kQRegs) qa = qf[ks];
          else mma::load_a(qa, reinterpret_cast<const TQ*>(s_q_rows) + ks * mma::kK, LDQ, lane);
          mma::FragB b[2];  // the slice's two 8-key tiles
          mma::load_b_nk2(b[0], b[1], k_stage, mma::Swizzled{LDK}, kg * 16, ks * mma::kK, lane);
#pragma unroll
          for (int nt = 0; nt < 2; ++nt) mma::mma<TQ>(QK_CHAINS == 2 && ks % 2 ? sc_odd[nt] : sc[nt], qa, b[nt]);
        }
        if constexpr (QK_CHAINS == 2) {
#pragma unroll
          for (int nt = 0; nt < 2; ++nt)
#pragma unroll
            for (int e = 0; e < mma::kCElems; ++e) sc[nt].c[e] += sc_odd[nt].c[e];
        }
        // online softmax in registers: the masks, the row maximum over the four lanes of a row, the
        // weights rounded to the 16-bit type (the exp sum adds the rounded ones, as the product uses)
        float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
        for (int nt = 0; nt < 2; ++nt) {
#pragma unroll
          for (int e = 0; e < mma::kCElems; ++e) {
            const int i = e >= 2, key = kbase + nt * mma::kN + mma::c_col(lane, e);
            float v = sc[nt].c[e] * q_mul;
            if constexpr (S::ALIBI_ENABLED) v += slope[i] * float(key - kpos[i]);
            if constexpr (S::SOFT_CAP_ENABLED) v = p.soft_cap * fast_tanh(v * p.inv_soft_cap);
            if (key < klo[i] || key >= khi[i]) v = -INFINITY;  // window, causal and context masks
            sc[nt].c[e] = v;
            mx[i] = fmaxf(mx[i], v);
          }
        }
        float alpha[2], ref[2];
        bool grew = false;  // a row maximum of the warp changed (else every alpha is exactly 1)
#pragma unroll
        for (int i = 0; i < 2; ++i) {
          mx[i] = fmaxf(mx[i], shfl_xor(mx[i], 1));
          mx[i] = fmaxf(mx[i], shfl_xor(mx[i], 2));
          const float m_new = fmaxf(m_run[i], mx[i]);
          ref[i] = m_new == -INFINITY ? 0.f : m_new;  // no key yet: exp(-inf) = 0
          alpha[i] = fast_exp(m_run[i] - ref[i]);
          grew |= m_new != m_run[i];
          m_run[i] = m_new;
          l_run[i] *= alpha[i];
        }
        // the weights rounded to the 16-bit type in pairs (c elements 0, 1 and 2, 3: the A pairs of
        // mma.h c_pair_to_a); the exp sum adds the rounded ones
        uint32_t pw[2][2];
#pragma unroll
        for (int nt = 0; nt < 2; ++nt) {
#pragma unroll
          for (int h = 0; h < 2; ++h) {
            pw[nt][h] = pack2<TQ>(fast_exp(sc[nt].c[2 * h] - ref[h]), fast_exp(sc[nt].c[2 * h + 1] - ref[h]));
            float w0, w1;
            unpack2<TQ>(pw[nt][h], w0, w1);
            l_run[h] += w0 + w1;
          }
        }
        mma::FragA pa;
        mma::c_pair_to_a(pa, pw[0], pw[1]);
        // O = O * alpha + P V over the slice's 16 keys, the warp's columns; the rescale only when some
        // row maximum of the warp grew (a vote: the later tiles of a long window rarely raise one)
        if (wave_any(grew)) {
#pragma unroll
          for (int jj = 0; jj < O_TILES; ++jj)
#pragma unroll
            for (int e = 0; e < mma::kCElems; ++e) o[jj].c[e] *= alpha[e >= 2];
        }
        static_assert(O_TILES % 2 == 0, "the warp's O tiles in pairs (load_b_kn2)");
#pragma unroll
        for (int jj = 0; jj < O_TILES; jj += 2) {
          mma::FragB b[2];
          mma::load_b_kn2(b[0], b[1], v_stage, mma::Swizzled{LDK}, kg * 16, cg * CW + jj * mma::kN, lane);
          mma::mma<TQ>(o[jj], pa, b[0]);
          mma::mma<TQ>(o[jj + 1], pa, b[1]);
        }
      }
      async_wait<0>();
    }
    __syncthreads();  // every read of the ring done: it holds the merge from here
    // Merge the groups (the same rule as the reduce across partitions): each group's O, maximum and
    // exp sum into the ring; row r's maximum M over the groups, its exp sum L = sum l_g exp(m_g - M)
    // into s_m, s_l, the weights exp(m_g - M) (0 for a group that saw no key) into s_wg.
    float* const s_og = reinterpret_cast<float*>(s_kv);
    float* const s_mg = s_og + MERGE_M;
    float* const s_lg = s_og + MERGE_L;
    float* const s_wg = s_og + MERGE_W;
    static_assert(int(sizeof(float)) * (MERGE_W + KG * R) <= S::KV_BYTES, "the merge fits the ring");
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      l_run[i] += shfl_xor(l_run[i], 1);
      l_run[i] += shfl_xor(l_run[i], 2);
    }
#pragma unroll
    for (int jj = 0; jj < O_TILES; ++jj)
#pragma unroll
      for (int e = 0; e < mma::kCElems; ++e)
        s_og[(kg * R + rr[e >= 2]) * LDO + cg * CW + jj * mma::kN + mma::c_col(lane, e)] = o[jj].c[e];
    if (cg == 0 && lane % 4 == 0) {
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        s_mg[kg * R + rr[i]] = m_run[i];
        s_lg[kg * R + rr[i]] = l_run[i];
      }
    }
    __syncthreads();
    if (tid < R) {
      float mm = -INFINITY, ll = 0.f;
#pragma unroll
      for (int g = 0; g < KG; ++g) mm = fmaxf(mm, s_mg[g * R + tid]);
#pragma unroll
      for (int g = 0; g < KG; ++g) {
        const float mg = s_mg[g * R + tid];
        const float wg = mg == -INFINITY ? 0.f : fast_exp(mg - mm);
        s_wg[g * R + tid] = wg;
        ll += s_lg[g * R + tid] * wg;
      }
      s_m[tid] = mm;
      s_l[tid] = ll;
    }
  } else if (!bad && num_tiles > 0) {
    vec8_t<TKV> kraw[VPT], vraw[VPT];  // register path: the next tile's K and V, in flight over this tile's math
    if constexpr (S::RING) {
      // tile 0 into stage 0: K and V as two groups (waited for separately)
      copy_tile(s_k_ring, s_kptr);
      async_commit();
      copy_tile(s_v_ring, s_vptr);
      async_commit();
    } else {
      issue_tile(kraw, k_head, s_rows);
      if constexpr (kPrefetchV) issue_tile(vraw, v_head, s_rows);
    }
    for (int tile = 0; tile < num_tiles; ++tile) {
      const int t0 = first_tile + tile * KT;  // < hi: no overflow; keys t0 + r, compared as offsets
      const int next = ((tile + 1) & 1) * KT;  // the next tile's keys: buffer (tile + 1) & 1
      const int2* rows_next = s_rows + (S::RING ? 0 : next);
      const int2* rows_this = s_rows + (S::RING ? 0 : (tile & 1) * KT);
      const bool more = tile + 1 < num_tiles;
      const int stage = tile & 1;
      const uint16_t* const k_tile = S::RING ? s_k_ring + stage * KT * LDK : s_kv;
      const uint16_t* const v_tile = S::RING ? s_v_ring + stage * KT * LDK : s_kv;
      if constexpr (S::RING) {
        // (1) ring: this tile's K copies done (the thread's groups in flight: this tile's K and V; its V
        // may stay in flight), the barrier publishes them and ends every read of the other stage (the
        // previous tile's QK and PV): the next tile's K and V copies go there, one group each (empty
        // groups after the last tile keep the counts of the waits the same)
        async_wait<1>();
        __syncthreads();
        if (more) copy_tile(s_k_ring + (stage ^ 1) * KT * LDK, s_kptr + next);
        async_commit();
        if (more) copy_tile(s_v_ring + (stage ^ 1) * KT * LDK, s_vptr + next);
        async_commit();
      } else {
        // (1) this tile's K into shared memory (waits for its loads); the next tile's K loads issued
        store_tile(kraw);
        if (more) issue_tile(kraw, k_head, rows_next);
        __syncthreads();
      }
      // (2) S = Q K^T: k-steps outer, the warp's jobs inner, so that its QK_PER_WARP accumulators are
      // independent chains the matrix unit overlaps (one job after another was a chain of HS / 16
      // dependent mma per job). NVIDIA: the k-steps partly unrolled (fully unrolled, 16 k-steps of
      // fragments in flight took every register of sm_90 and spilled); AMD: fully unrolled (the loop
      // control of partly unrolled loops took the last scalar registers of gfx90a/gfx942 and spilled).
      {
        mma::FragC acc[QK_PER_WARP];
#pragma unroll
        for (int jj = 0; jj < QK_PER_WARP; ++jj) mma::zero(acc[jj]);
#if AITER_SWA_WAVEFRONT_SIZE == 64
#pragma unroll
#else
#pragma unroll 2
#endif
        for (int ks = 0; ks < HS / mma::kK; ++ks) {
#pragma unroll
          for (int jj = 0; jj < QK_PER_WARP; ++jj) {
            const int job = warp + jj * NW;
            if (QK_EVEN || job < QK_JOBS) {  // uniform across the wavefront
              const int mt = job / (KT / mma::kN), nt = job % (KT / mma::kN);
              mma::FragA a;
              mma::FragB b;
              mma::load_a(a, reinterpret_cast<const TQ*>(s_q) + mt * mma::kM * LDQ + ks * mma::kK, LDQ, lane);
              mma::load_b_nk(b, reinterpret_cast<const TQ*>(k_tile) + nt * mma::kN * LDK + ks * mma::kK, LDK, lane);
              mma::mma<TQ>(acc[jj], a, b);
            }
          }
        }
#pragma unroll
        for (int jj = 0; jj < QK_PER_WARP; ++jj) {
          const int job = warp + jj * NW;
          if (!QK_EVEN && job >= QK_JOBS) continue;
          const int mt = job / (KT / mma::kN), nt = job % (KT / mma::kN);
#pragma unroll
          for (int e = 0; e < mma::kCElems; ++e)
            s_s[(mt * mma::kM + mma::c_row(lane, e)) * KT + nt * mma::kN + mma::c_col(lane, e)] = acc[jj].c[e];
        }
      }
      __syncthreads();
      // (3) online softmax of the tile; this tile's V into shared memory (every read of its K is done);
      // the next tile's V loads issued (or, without kPrefetchV, this tile's before the softmax)
      if constexpr (!S::RING && !kPrefetchV) issue_tile(vraw, v_head, rows_this);
      {
        const int klo = s_lo[sr] - t0, khi = s_hi[sr] - t0;  // attended keys of the row, as tile offsets
        const float slope = s_slope[sr];
        const int rel0 = t0 - s_pos[sr];  // key t0's distance to the row's position
        float x[KT / TPR];
        float mx = -INFINITY;
#pragma unroll
        for (int c = 0; c < KT / TPR; ++c) {
          const int k = sub + c * TPR;
          float v = s_s[sr * KT + k] * q_mul;
          if constexpr (S::ALIBI_ENABLED) v += slope * float(rel0 + k);
          if constexpr (S::SOFT_CAP_ENABLED) v = p.soft_cap * fast_tanh(v * p.inv_soft_cap);
          if (k < klo || k >= khi) v = -INFINITY;  // window, causal and context masks: zero weight
          x[c] = v;
          mx = fmaxf(mx, v);
        }
        const float m_old = s_m[sr];
#pragma unroll
        for (int off = 1; off < TPR; off *= 2) mx = fmaxf(mx, shfl_xor(mx, off));
        const float m_new = fmaxf(m_old, mx);
        const float ref = m_new == -INFINITY ? 0.f : m_new;  // a row with no key yet: exp(-inf) = 0
        float sum = 0.f;
#pragma unroll
        for (int c = 0; c < KT / TPR; ++c) {
          TQ pr;
          from_float(fast_exp(x[c] - ref), &pr);
          sum += to_float(pr);  // the weights the product uses
          s_p[sr * LDP + sub + c * TPR] = pr.bits;
        }
#pragma unroll
        for (int off = 1; off < TPR; off *= 2) sum += shfl_xor(sum, off);
        if (sub == 0) {
          const float alpha = fast_exp(m_old - ref);
          s_m[sr] = m_new;
          s_l[sr] = s_l[sr] * alpha + sum;
          s_alpha[sr] = alpha;
        }
      }
      if constexpr (S::RING) {
        async_wait<2>();  // this tile's V (in flight after it: the next tile's K and V)
      } else {
        store_tile(vraw);
        if (kPrefetchV && more) issue_tile(vraw, v_head, rows_next);
      }
      __syncthreads();
      // where the keys of tile + 2 live (into this tile's buffer: every read of it is done; read one
      // tile ahead into a register)
      if (tid < KT) publish((tile & 1) * KT + tid, at_next);
      at_next = locate(tile + 3);
      // (4) O = O * alpha + P V: k-steps outer, the warp's PV_PER_WARP accumulators inner (independent
      // chains, as (2))
#pragma unroll
      for (int jj = 0; jj < PV_PER_WARP; ++jj) {
        const int job = warp + jj * NW;
        if (PV_EVEN || job < PV_JOBS) {
          const int mt = job / (HS / mma::kN);
#pragma unroll
          for (int e = 0; e < mma::kCElems; ++e) o[jj].c[e] *= s_alpha[mt * mma::kM + mma::c_row(lane, e)];
        }
      }
#pragma unroll
      for (int ks = 0; ks < KT / mma::kK; ++ks) {
#pragma unroll
        for (int jj = 0; jj < PV_PER_WARP; ++jj) {
          const int job = warp + jj * NW;
          if (PV_EVEN || job < PV_JOBS) {
            const int mt = job / (HS / mma::kN), nt = job % (HS / mma::kN);
            mma::FragA a;
            mma::FragB b;
            mma::load_a(a, reinterpret_cast<const TQ*>(s_p) + mt * mma::kM * LDP + ks * mma::kK, LDP, lane);
            mma::load_b_kn(b, reinterpret_cast<const TQ*>(v_tile) + ks * mma::kK * LDK + nt * mma::kN, LDK, lane);
            mma::mma<TQ>(o[jj], a, b);
          }
        }
      }
      // PV's reads of s_kv and s_p before the next tile's stores (ring: the next tile's first barrier
      // precedes every write of this tile's stage and of s_p)
      if constexpr (!S::RING) __syncthreads();
    }
  }
  __syncthreads();

  // ---- write: the output (one partition) or this partition's partials; NaN for a bad block id ----
  TOut* const out = static_cast<TOut*>(p.out);
  TOut* const tmp_out = static_cast<TOut*>(p.tmp_out);
  float v_mul = 1.f;
  if constexpr (IsFp8<TKV>::value) v_mul = *p.v_scale / kConvertScale<TKV>;
  // row r's factor on the chunk's O: v_mul / l, with one partition and a sink (num v_mul) / (l num +
  // exp(sink - m2)) (the sink's exp joins the exp sum, docs/design.md "Sinks"); 0 where the row saw no key
  auto row_factor = [&](int r, int head) -> float {
    const float l = s_l[r];
    if (!(l > 0.f)) return 0.f;
    float num = 1.f, den = l;
    if (single_partition && p.sinks != nullptr) {
      const float mm = s_m[r], sink = p.sinks[head], m2 = fmaxf(mm, sink);
      num = fast_exp(mm - m2);
      den = l * num + fast_exp(sink - m2);
    }
    return (num * v_mul) / den;
  };
  // where element (row, head, col) goes: out (one partition) or this partition's partials
  auto row_dst = [&](int row, int head, int col) -> TOut* {
    if (single_partition) return &out[int64_t(row) * p.o_stride_seq + int64_t(head) * p.o_stride_head + col];
    return &tmp_out[((int64_t(row) * p.num_heads + head) * p.num_partitions + part) * HS + col];
  };
  // the written value: NaN for a bad block id, 0 for a row that saw no key (its O may hold 0 x NaN)
  auto row_value = [&](int r, float o_rc, float factor) -> float {
    return bad ? qnan : (s_l[r] > 0.f ? o_rc * factor : 0.f);
  };
  if constexpr (WKV) {
    // 8 consecutive columns of one row per thread and step: the groups' O read as float4, the row's factor
    // once per 8 columns, and one 16-byte store (two for a float out) where the address allows it, else 8
    // scalar stores. (One element per step took 16 steps of about 60 sm_90 instructions each per
    // thread at head 128 x 16 rows, a division and a 2-byte store each: a quarter of batch 1's instructions
    // per warp, docs/results.md 2026-11-30 10:30 UTC session; 8 columns: batch 1 13.6 -> 12.7 us, the
    // 13:00 UTC session, call 1.)
    const float* const s_og = reinterpret_cast<const float*>(s_kv);
    const float* const s_wg = s_og + MERGE_W;
    constexpr int OV = HS / 8;  // 8-column vectors per row
    for (int idx = tid; idx < R * OV; idx += NT) {
      const int r = idx / OV, col = (idx % OV) * 8;
      const int row = s_qrow[r], head = s_qhead[r];
      if (row < 0) continue;
      // A quarter-warp's 8 lanes read 8 vectors of one row (32 floats apart in pairs: 8 col and 8 (col + 4)
      // share banks); lanes with idx & 4 read their second float4 first, so each LDS.128 covers 32 banks
      // (2-way conflicts otherwise: Nsight Compute, docs/results.md 2026-11-30 13:00 UTC session, call 2).
      const int sw = (idx >> 2) & 1;
      float acc[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};  // columns col + 4 sw .., then the other 4
#pragma unroll
      for (int g = 0; g < KG; ++g) {
        const float wg = s_wg[g * R + r];
        const float4* const src = reinterpret_cast<const float4*>(&s_og[(g * R + r) * LDO + col]);
        const float4 a = src[sw], b = src[sw ^ 1];
        acc[0] += a.x * wg; acc[1] += a.y * wg; acc[2] += a.z * wg; acc[3] += a.w * wg;
        acc[4] += b.x * wg; acc[5] += b.y * wg; acc[6] += b.z * wg; acc[7] += b.w * wg;
      }
      if (sw) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const float t = acc[e];
          acc[e] = acc[e + 4];
          acc[e + 4] = t;
        }
      }
      const float factor = row_factor(r, head);
      TOut* const dst = row_dst(row, head, col);
      float val[8];
#pragma unroll
      for (int e = 0; e < 8; ++e) val[e] = row_value(r, acc[e], factor);
      if (reinterpret_cast<uintptr_t>(dst) % 16 == 0) {
        if constexpr (sizeof(TOut) == 4) {
          reinterpret_cast<float4*>(dst)[0] = make_float4(val[0], val[1], val[2], val[3]);
          reinterpret_cast<float4*>(dst)[1] = make_float4(val[4], val[5], val[6], val[7]);
        } else {
          *reinterpret_cast<uint4*>(dst) = make_uint4(pack2<TOut>(val[0], val[1]), pack2<TOut>(val[2], val[3]),
                                                      pack2<TOut>(val[4], val[5]), pack2<TOut>(val[6], val[7]));
        }
      } else {
#pragma unroll
        for (int e = 0; e < 8; ++e) from_float(val[e], dst + e);
      }
    }
  } else {
#pragma unroll
    for (int jj = 0; jj < PV_PER_WARP; ++jj) {
      const int job = warp + jj * NW;
      if (job >= PV_JOBS) continue;
      const int mt = job / (HS / mma::kN), nt = job % (HS / mma::kN);
#pragma unroll
      for (int e = 0; e < mma::kCElems; ++e) {
        const int r = mt * mma::kM + mma::c_row(lane, e), row = s_qrow[r], head = s_qhead[r];
        if (row < 0) continue;
        from_float(row_value(r, o[jj].c[e], row_factor(r, head)), row_dst(row, head, nt * mma::kN + mma::c_col(lane, e)));
      }
    }
  }
  if (!single_partition && tid < R) {
    if (s_qrow[tid] >= 0) {
      const int64_t slot = (int64_t(s_qrow[tid]) * p.num_heads + s_qhead[tid]) * p.num_partitions + part;
      p.max_logits[slot] = bad ? qnan : s_m[tid];
      p.exp_sums[slot] = bad ? qnan : s_l[tid];
    }
  }
}

// Merges the partitions sequence `seq` has (ceil((L - k0) / P), k0 as the partition kernel's) for
// token blockIdx.z of it and query head blockIdx.y; one thread per output element, the loads batched
// as the vector kernel's reduce does (lse_merge: a round trip per 32 partitions, not one per
// partition; H200, 2026-11-29: the serial loop it replaces took 7-12 us at 32-64 partitions). A
// partition where the row attends no key (exp sum 0, max -inf) adds nothing; none at all gives 0 (a
// sink alone weighs no value). NaN partials (a bad block id) propagate.
template <class S>
__global__ AITER_SWA_REDUCE_BOUNDS(S) void mma_reduce_kernel(const PaParams p) {
  using TOut = typename S::TOut;
  constexpr int HS = S::HEAD_SIZE;
  const int seq = blockIdx.x, head = blockIdx.y, token = blockIdx.z, e = threadIdx.x;
  int row0, n;
  query_rows(p, seq, row0, n);
  if (token >= n || !row_in_range(p, row0, token)) return;  // the whole workgroup (before any wavefront barrier)
  const int L = clamp_context_len(p.context_lens[seq], p.max_context_len);
  const int64_t span = int64_t(L) - first_needed_key<S::SLIDING_WINDOW_ENABLED>(L, n, p.sliding_window);
  const int num_parts = span > 0 ? int((span + p.partition_size - 1) / p.partition_size) : 0;
  const int row = row0 + token;
  const int64_t base = (int64_t(row) * p.num_heads + head) * p.num_partitions;
  const float sink = p.sinks != nullptr ? p.sinks[head] : -INFINITY;
  grid_dependency_wait();  // the partials of the partition kernel (launch_dependent)
  // The next kernel may launch now: where it is the next call's partition kernel (a programmatic dependent launch)
  // its workgroups take the slots the partition kernel left while this merge runs, and wait for its end. Not
  // before the wait: the next partition kernel's workgroups then landed beside this one's, 3 on some SMs, and batch
  // 1 took 11.6-11.9 us instead of 10.5 (%globaltimer timelines, docs/results.md, 2026-12-01 02:28 UTC session).
  allow_dependent_launch();
  const float val = lse_merge<HS>(p.max_logits + base, p.exp_sums + base,
                                  static_cast<const TOut*>(p.tmp_out) + base * HS, HS, e, num_parts, sink);
  if (e < HS)
    from_float(val, &static_cast<TOut*>(p.out)[int64_t(row) * p.o_stride_seq + int64_t(head) * p.o_stride_head + e]);
}

#if !defined(AITER_SWA_NO_HOST_LAUNCH)
// Host launch of the matrix-core kernels from the launcher's arguments (see launch in kernel.h).
template <class S, class Args>
gpuError_t launch_mma(const Args& a, int64_t programmatic_reduce_max_per_cu) {
  PaParams p = make_params(a);
  const int rows = int(a.mtp) * p.gqa_ratio;
  p.num_chunks = (rows + S::ROWS - 1) / S::ROWS;
  const auto stream = reinterpret_cast<gpuStream_t>(a.stream);
  const dim3 grid(unsigned(a.num_seqs), unsigned(a.num_kv_heads * p.num_chunks),
                  unsigned(p.num_partitions > 1 ? p.num_partitions : 1));
#if defined(AITER_SWA_CUDA)
  if constexpr (S::KV_BYTES > 0) {
    // more than 48 KiB of shared memory in all: the kernel's opt-in, once per device (bit d of opted_in);
    // the carveout at its maximum, so that MIN_WORKGROUPS_PER_SM workgroups fit
    static std::atomic<unsigned long long> opted_in{0};
    const int dev = int(a.device);
    const unsigned long long bit = dev >= 0 && dev < 64 ? 1ull << dev : 0ull;
    if (bit == 0 || !(opted_in.load(std::memory_order_relaxed) & bit)) {
      gpuError_t err = cudaFuncSetAttribute(mma_partition_kernel<S>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                            S::KV_BYTES);
      if (err == gpuSuccess)
        err = cudaFuncSetAttribute(mma_partition_kernel<S>, cudaFuncAttributePreferredSharedMemoryCarveout,
                                   int(cudaSharedmemCarveoutMaxShared));
      if (err != gpuSuccess) return err;
      opted_in.fetch_or(bit, std::memory_order_relaxed);
    }
  }
#endif
  // as the vector kernel's (launch in kernel.h): a programmatic dependent launch where the build has it
  gpuError_t err =
      launch_dependent(true, mma_partition_kernel<S>, grid, dim3(S::NUM_THREADS), S::KV_BYTES, stream, p);
  if (p.num_partitions > 1) {
    if (err != gpuSuccess) return err;
    const dim3 reduce_grid(unsigned(a.num_seqs), unsigned(a.num_heads), unsigned(a.mtp));
    return launch_dependent(programmatic_reduce(reduce_grid, programmatic_reduce_max_per_cu, a.num_cus),
                            mma_reduce_kernel<S>, reduce_grid, dim3(lse_merge_threads(S::HEAD_SIZE)), 0, stream, p);
  }
  return err;
}
#endif

}  // namespace pa_v1
}  // namespace aiter_swa
