// Varlen causal depthwise conv1d (prefill / extend) and its decode update, as templates over one
// specialization `ConvSpec`. Semantics: aiter_swa/ops/causal_conv1d/op.py (vLLM's causal_conv1d_fn /
// causal_conv1d_update).
//
// Forward (fwd_kernel). The grid comes from host ints only (fwd_grid): x's token count (grid x,
// tiles of TILE_TOKENS tokens of the concatenated sequences) and dim (grid y, groups of CHANNELS
// channels). No per-sequence grid, so nothing about the sequence lengths is needed on the host and a
// CUDA/HIP graph captured for an x of a fixed token count replays for any split of those tokens.
// No thread hands data to another one but through the token flags of phase 0 (one LDS table, one
// workgroup barrier; a second one before phase 0 where ConvSpec::HEADS_IN_WAVE0 does not hold), so every
// load of x is issued before that barrier and its latency overlaps phase 0.
//  loads:   channel-first, CF_LANES threads along a row, each one 16-byte vector of VEC tokens, in
//           CF_ITERS rows (channels) apart by CF_ROWS: every row is read in 16-byte vectors on 16-byte
//           boundaries whatever its offset (a row starting `o` elements past a 16-byte boundary
//           covers tokens [tile_start - o, tile_start - o + TILE_TOKENS) in this block: the tile is
//           shifted per row, by at most VEC - 1 tokens); the WIDTH - 1 inputs before a vector (its
//           halo) come from a load of the previous vector's tail (its neighbour's vector: an L1/L2
//           hit, no LDS hand-off). Channel-last, VEC channels x CL_RUN tokens per thread plus the
//           WIDTH - 1 vectors before them (the host requires 16-byte aligned x and out, dim and the
//           token stride multiples of VEC). Vectors partly outside x are read element by element.
//  phase 0: each token of [tile_start - PRE, tile_start + TILE_TOKENS) finds its sequence by binary
//           search in query_start_loc; a byte flag per token says whether phase 1 computes it
//           (position >= WIDTH - 1 in a sequence that is not padded); tokens of the unshifted tile
//           at position 0 list their sequence as a "head" of this tile (LDS).
//  phase 1: outputs of positions >= WIDTH - 1 (their inputs all lie in x); 16-byte stores where all
//           of a vector's tokens are such positions (and, channel-first, out's rows have x's offset
//           from 16 bytes), else element stores of those tokens.
//  phase 2: for each head sequence s and channel c, one thread reads the old state (when
//           has_initial_state[s]), computes the outputs of positions < WIDTH - 1, then writes the
//           new state (the last WIDTH - 1 inputs of state ++ x). The only reader and the only writer
//           of that state row is this thread: no race, one launch.
// Walk (fwd_kernel_walk, ConvSpec::WALK, spec.py's walk=1; a tuning variant): the same grid contract
// and results, but 32-lane groups walk many vectors (a channel-first row over WALK_CF_TOKENS tokens;
// channel-last 32 channel vectors over WALK_CL_GROUP_TOKENS tokens), the halo carried in registers,
// loads WALK_DEPTH chunks / one step ahead, flags from a per-lane cursor over query_start_loc (no LDS
// table, no barrier in the main loop), heads as phase 2 for the sequences starting in the segment.
// Update (update_kernel): one thread per (sequence, channel): state ++ x[0:seqlen], outputs and
// the new state, as phase 2 for every position.
#pragma once

#include "aiter_swa/compat.h"
#include "aiter_swa/vec.h"

// The forward kernel's bounds: CUDA takes the spec's minimum of blocks per multiprocessor
// (ConvSpec::MIN_BLOCKS). (HIP's second argument means something else, waves per EU, and gfx9
// needs no hint: plain bounds there.)
#if defined(AITER_SWA_CUDA)
#define AITER_SWA_CONV_FWD_BOUNDS(S) __launch_bounds__(S::NUM_THREADS, S::MIN_BLOCKS)
#else
#define AITER_SWA_CONV_FWD_BOUNDS(S) __launch_bounds__(S::NUM_THREADS)
#endif

namespace aiter_swa {
namespace causal_conv1d {

// One compiled specialization. T: element type of x, weight, bias, states and out (fp16_t, bf16_t,
// float); math in fp32. WIDTH: 2..4 taps. SILU: y = v / (1 + exp(-v)), computed as u / (K + K 2^u)
// with u = K v (activate). CHANNEL_LAST: x[c, t] is at c + t * stride_tok (else c * stride_dim + t).
// NUM_THREADS: rendered from spec.py. CL_RUN: tokens per thread, channel-last; CF_ITERS: rows per
// thread, channel-first (spec.py's cl_run / cf_rows).
// CF_FAST (spec.py's cf_fast, channel-first only; on by default, off a tuning variant): phase 0 by
// groups of 8 tokens (one thread each: one binary search for the group's first token, then a walk
// along query_start_loc: 33 searches per bf16 tile instead of 264, one round instead of two, one 8-byte
// flag store per group) and the block's taps and biases loaded once (the last CHANNELS threads) into LDS as
// fp32 (no per-row tap loads, 5 registers held across the barrier instead of 5 per row): fewer
// instructions and registers per byte.
template <typename T_, int WIDTH_, bool SILU_, bool CHANNEL_LAST_, int NUM_THREADS_, int CL_RUN_ = 4, int CF_ITERS_ = 4,
          bool CF_FAST_ = true, bool WALK_ = false>
struct ConvSpec {
  using T = T_;
  static constexpr int WIDTH = WIDTH_;
  static constexpr bool SILU = SILU_;
  static constexpr bool CHANNEL_LAST = CHANNEL_LAST_;
  static constexpr int NUM_THREADS = NUM_THREADS_;
  static constexpr int VEC = 16 / int(sizeof(T));  // elements per 16-byte vector
  static constexpr int STATE = WIDTH - 1;
  // channel-first: CF_LANES threads along a row (one vector each: a row segment of CF_LANES * 16
  // bytes per load instruction), CF_ROWS rows per pass, CF_ITERS passes (independent loads per thread)
  static constexpr int CF_LANES = 32;
  static constexpr int CF_ROWS = NUM_THREADS / CF_LANES;
  static constexpr int CF_ITERS = CF_ITERS_;
  static constexpr bool CF_FAST = CF_FAST_ && !CHANNEL_LAST_;
  // WALK (spec.py's walk; off by default, a tuning variant): fwd_kernel_walk instead of fwd_kernel.
  // Channel-first: each CF_LANES group walks one row (CHANNELS = CF_ROWS rows per block) over a
  // segment of WALK_CF_TOKENS tokens in chunks of CF_CHUNK tokens, WALK_DEPTH chunks of loads in
  // flight. Channel-last: each CL_VECS group walks CL_VECS * VEC channels over WALK_CL_GROUP_TOKENS
  // tokens (CL_RUNS groups per block, TILE_TOKENS = CL_RUNS * WALK_CL_GROUP_TOKENS), WALK_DEPTH
  // tokens per step, the next step's loads in flight during the math.
  static constexpr bool WALK = WALK_;
  static constexpr int CF_CHUNK = CF_LANES * VEC;
  static constexpr int WALK_CF_TOKENS = 4096;
  static constexpr int WALK_CL_GROUP_TOKENS = 16;
  static constexpr int WALK_DEPTH = 4;
  // channel-last: CL_VECS channel vectors across a block, CL_RUNS runs of CL_RUN tokens
  static constexpr int CL_VECS = 32;
  static constexpr int CL_RUNS = NUM_THREADS / CL_VECS;
  static constexpr int CL_RUN = CL_RUN_;
  // CUDA: blocks per multiprocessor the register allocation must allow (__launch_bounds__): 4 (at
  // most 64 registers) with the default 4 rows / 4 tokens per thread: all 36 specializations fit
  // without spills (nvcc 13.0; uncapped they took 58-79), so 32 warps and 64 KB of loads in flight
  // per multiprocessor; 2 for the 8-row / 8-token variants (112 / 128 registers). The 2-row channel-first
  // variants (cf_rows=2): 6 (at most 40 registers: 48 warps) where nvcc 13.0 fits that without spills
  // (fp16 but width 4 with CF_FAST; bf16 width 2), else 5 (48 registers), else 4 (bf16 width 3 and
  // width 4 without CF_FAST: 64): checked for all 36 with --cf-rows 2 --cf-fast 0,1. Spilled before:
  // bf16 width 3 and width 4 without SiLU 24-80 bytes at 40, 4-16 at 48 without CF_FAST; fp16 width 4
  // with CF_FAST 4 bytes at 40 since the straddling loads; bf16 width 4 SiLU 20-24 bytes at 40 since
  // SiLU's pre-scaled taps (2026-11-29).
  static constexpr bool CF2_FITS_40 = sizeof(T) == 2 &&
                                      !(std::is_same<T, bf16_t>::value && (WIDTH == 3 || WIDTH == 4)) &&
                                      !(std::is_same<T, fp16_t>::value && WIDTH == 4 && CF_FAST_);
  // WALK: 4 channel-first (the ring of WALK_DEPTH vectors, taps and cursor in registers), 2 channel-last
  // (two steps of WALK_DEPTH token vectors, the halo and the packed outputs: about 90 registers)
  static constexpr int MIN_BLOCKS = WALK ? (CHANNEL_LAST ? 2 : 4)
                                    : CHANNEL_LAST ? (CL_RUN <= 4 ? 4 : 2)
                                    : CF_ITERS <= 2 ? (CF2_FITS_40 ? 6 : CF_FAST || sizeof(T) == 4 ? 5 : 4)
                                    : CF_ITERS <= 4 ? 4 : 2;
  static constexpr int TILE_TOKENS = WALK ? (CHANNEL_LAST ? CL_RUNS * WALK_CL_GROUP_TOKENS : WALK_CF_TOKENS)
                                    : CHANNEL_LAST ? CL_RUNS * CL_RUN : CF_LANES * VEC;  // per block (grid x)
  static constexpr int CHANNELS = CHANNEL_LAST ? CL_VECS * VEC : WALK ? CF_ROWS : CF_ROWS * CF_ITERS;  // per block (grid y)
  // tokens before the tile whose flags phase 0 computes (channel-first rows shift the tile back by
  // up to VEC - 1 tokens)
  static constexpr int PRE = CHANNEL_LAST ? 0 : VEC;
  // token flags one thread reads: its vector's (channel-first) or its run's (channel-last)
  static constexpr int NFLAGS = CHANNEL_LAST ? CL_RUN : VEC;
  // phase 0's groups of 8 tokens (CF_FAST: one thread each)
  static constexpr int PHASE0_GROUPS = (PRE + TILE_TOKENS + 7) / 8;
  // Whether every thread of phase 0 that can list a head (a sequence starting in the unshifted tile) is
  // in wavefront 0: then the head counter's reset needs a barrier of that wavefront only, not of the
  // workgroup (CF_FAST: thread i takes group (i + PRE / 8) % PHASE0_GROUPS, so the groups of the tile's
  // tokens come first; the generic loop: thread i takes token i of the table). The workgroup barrier
  // there made all warps wait for wavefront 0's tap loads, which the compiler placed before it: 24% of
  // the channel-first kernel's stall samples were at the two barriers (Nsight Compute source view,
  // H200, 2026-11-29 20:38 UTC session, call 3).
  static constexpr bool HEADS_IN_WAVE0 =
      CF_FAST ? PHASE0_GROUPS - PRE / 8 <= kWarpSize : PRE == 0 && TILE_TOKENS <= kWarpSize;
  // CF_FAST: the threads that load the block's taps and biases, the last CHANNELS ones, none of phase 0's
  // (whose search then waits on no tap load)
  static constexpr int TAP_THREAD0 = CF_FAST ? NUM_THREADS - CHANNELS : 0;
  // channel-first 16-bit: the halo (STATE <= 3 elements) lies in the upper 8 bytes of the previous
  // vector, and only those are loaded
  static constexpr bool CF_HALF_HALO = !CHANNEL_LAST && VEC == 8;
  static_assert(WIDTH >= 2 && WIDTH <= 4, "width: 2, 3 or 4");
  static_assert(VEC == 4 || VEC == 8, "16-bit or 32-bit elements");
  static_assert(STATE < VEC, "channel-first: the halo lies in the previous vector");
  static_assert(!CF_HALF_HALO || STATE <= VEC / 2, "channel-first 16-bit: the halo lies in the upper half");
  static_assert(NUM_THREADS % kWarpSize == 0, "whole wavefronts per workgroup");
  static_assert(NUM_THREADS % CF_LANES == 0 && NUM_THREADS % CL_VECS == 0, "thread split");
  static_assert(NFLAGS <= 8 && TILE_TOKENS % 8 == 0, "a thread's flags fit one 64-bit word");
  static_assert(!CF_FAST || WALK || (PHASE0_GROUPS <= TAP_THREAD0 && TAP_THREAD0 >= 0), "CF_FAST: phase 0's threads load no taps");
  static_assert(!WALK || (WALK_CF_TOKENS % (CF_CHUNK * WALK_DEPTH) == 0 && WALK_CL_GROUP_TOKENS % WALK_DEPTH == 0),
                "walk: whole unrolled steps per segment");
};

// Launch arguments; passed by value. Strides in elements. out has x's strides.
struct FwdParams {
  void* out;
  const void* x;
  const void* weight;
  const void* bias;                  // [dim] or null
  void* conv_states;                 // [num_cache_lines, dim, WIDTH - 1]
  const int* query_start_loc;        // [num_seqs + 1]
  const int* cache_indices;          // [num_seqs] or null (sequence s uses line s)
  const uint8_t* has_initial_state;  // [num_seqs] (bool) or null (no initial state)
  // 32-bit sizes and strides (the host checks they fit): fewer scalar registers than int64 on gfx9;
  // every product with a stride is taken in 64 bits.
  int num_seqs, dim, total_tokens, pad_slot_id, num_cache_lines;
  int x_stride_dim, x_stride_tok, w_stride_dim, w_stride_width, s_stride_line, s_stride_dim, s_stride_tok;
};

struct UpdateParams {
  void* out;
  const void* x;
  const void* weight;
  const void* bias;
  void* conv_states;
  const int* cache_indices;  // [batch] or null
  int batch, dim, seqlen, pad_slot_id;
  int64_t num_cache_lines;
  int64_t x_stride_seq, x_stride_dim, x_stride_tok, o_stride_seq, o_stride_dim, o_stride_tok;
  int64_t w_stride_dim, w_stride_width, s_stride_line, s_stride_dim, s_stride_tok;
};

// The forward's grid: x tiles of TILE_TOKENS tokens by groups of CHANNELS channels. Channel-first
// rows shift their tile back by up to VEC - 1 tokens (see the top): VEC - 1 more tokens to cover.
template <class S>
inline dim3 fwd_grid(int total_tokens, int dim) {
  const int64_t covered = int64_t(total_tokens) + (S::CHANNEL_LAST ? 0 : S::VEC - 1);
  return dim3(unsigned((covered + S::TILE_TOKENS - 1) / S::TILE_TOKENS),
              unsigned((dim + S::CHANNELS - 1) / S::CHANNELS));
}

// Every 16-byte access of the kernels goes through these two. The emulator of op_tests defines
// AITER_SWA_CHECK_VEC_ALIGNMENT to count misaligned ones (a GPU faults on them; a CPU does not).
#ifndef AITER_SWA_CHECK_VEC_ALIGNMENT
#define AITER_SWA_CHECK_VEC_ALIGNMENT(p) ((void)0)
#endif
template <typename T>
__device__ __forceinline__ uint4 load16(const T* p) {
  AITER_SWA_CHECK_VEC_ALIGNMENT(p);
  return *reinterpret_cast<const uint4*>(p);
}

template <typename T>
__device__ __forceinline__ void store16(T* p, const uint4& v) {
  AITER_SWA_CHECK_VEC_ALIGNMENT(p);
  *reinterpret_cast<uint4*>(p) = v;
}

// The CPU emulator of op_tests defines AITER_SWA_CHECK_HEAD_LISTER to count heads listed by a thread the
// head counter's reset is not ordered with (fwd_kernel: outside wavefront 0 under HEADS_IN_WAVE0): on
// the emulator such a race rarely shows in the results, so the kernel reports each listing.
#ifndef AITER_SWA_CHECK_HEAD_LISTER
#define AITER_SWA_CHECK_HEAD_LISTER(ordered) ((void)0)
#endif

// 8-byte loads (the upper half of a 16-bit channel-first vector: its halo for the next one).
#ifndef AITER_SWA_CHECK_ALIGNMENT8
#define AITER_SWA_CHECK_ALIGNMENT8(p) ((void)0)
#endif
template <typename T>
__device__ __forceinline__ uint2 load8(const T* p) {
  AITER_SWA_CHECK_ALIGNMENT8(p);
  return *reinterpret_cast<const uint2*>(p);
}

// Element i of a 16-byte vector of T, widened to fp32 (i a compile-time constant after unrolling).
template <typename T>
__device__ __forceinline__ float element(const uint4& v, int i) {
  constexpr int PER_WORD = 4 / int(sizeof(T));
  const int wi = i / PER_WORD;
  const uint32_t w = wi == 0 ? v.x : wi == 1 ? v.y : wi == 2 ? v.z : v.w;
  if constexpr (sizeof(T) == 4) {
    return __uint_as_float(w);
  } else if constexpr (std::is_same<T, bf16_t>::value) {
    return __uint_as_float(i % 2 ? (w & 0xffff0000u) : (w << 16));
  } else {
    return to_float(T{uint16_t(i % 2 ? w >> 16 : w & 0xffffu)});
  }
}

template <typename T>
__device__ __forceinline__ void unpack(const uint4& v, float (&f)[16 / sizeof(T)]) {
  if constexpr (sizeof(T) == 4) {
    f[0] = __uint_as_float(v.x);
    f[1] = __uint_as_float(v.y);
    f[2] = __uint_as_float(v.z);
    f[3] = __uint_as_float(v.w);
  } else {
    convert8<T>(v, f);
  }
}

// Raw bits of one element / of VEC elements in one 16-byte vector (element 0 in the low bits of .x),
// built in registers (no local array: no stack frame).
template <typename T>
__device__ __forceinline__ uint32_t bits_of(T v) {
  if constexpr (sizeof(T) == 4) {
    return __float_as_uint(v);
  } else {
    return v.bits;
  }
}

template <typename T>
__device__ __forceinline__ uint4 pack(const T (&e)[16 / sizeof(T)]) {
  uint32_t w[4];
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    if constexpr (sizeof(T) == 4) {
      w[i] = bits_of(e[i]);
    } else {
      w[i] = bits_of(e[2 * i]) | (bits_of(e[2 * i + 1]) << 16);
    }
  }
  return make_uint4(w[0], w[1], w[2], w[3]);
}

template <typename T>
__device__ __forceinline__ uint4 pack_vec(const float (&f)[16 / sizeof(T)]) {
  if constexpr (sizeof(T) == 4) {
    return make_uint4(__float_as_uint(f[0]), __float_as_uint(f[1]), __float_as_uint(f[2]), __float_as_uint(f[3]));
  } else {
    return make_uint4(pack2<T>(f[0], f[1]), pack2<T>(f[2], f[3]), pack2<T>(f[4], f[5]), pack2<T>(f[6], f[7]));
  }
}

template <typename T>
__device__ __forceinline__ void store_vec(T* p, const float (&f)[16 / sizeof(T)]) {
  store16(p, pack_vec<T>(f));
}

// SiLU without its exponent's multiply: every tap and bias is pre-scaled by K = -log2(e) where it is
// converted to fp32 (scaled<SILU>), so a convolution sums u = K v, and
//   silu(v) = v / (1 + exp(-v)) = (u / K) / (1 + 2^u) = u / (K + K 2^u)
// (one ex2, one fma, one reciprocal, one multiply: 2^u = exp(-v) with no multiply before it).
// u = -inf (v = +inf) gives u / K = +inf; u = +inf gives u * (1 / -inf) = NaN as v / (1 + exp(-v)) =
// -inf / inf does; NaN stays NaN. Without SiLU the scale is 1 and the sum is the output.
constexpr float kSiluTapScale = -1.4426950408889634f;
// The product is rounded on its own, never contracted into a later FMA (nvcc fused the bias's
// `b * K` into the first tap's product, fma(b, K, w x), where the taps came from registers but not
// where they came from LDS: the variants' outputs differed in fp32, H200 2026-11-29).
template <bool SILU>
__device__ __forceinline__ float scaled(float tap) {
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
  if constexpr (!SILU) return tap;
#if defined(AITER_SWA_CUDA)
  return __fmul_rn(tap, kSiluTapScale);
#else
  return tap * kSiluTapScale;
#endif
}

// 1 / d for SiLU's |d| = |K| (1 + 2^u) >= 1.44, or inf: on CUDA one rcp.approx.ftz (MUFU.RCP with no
// denormal guard: __fdividef's rescaling compare and two multiplies per output are never needed here;
// 1 / inf = 0), v_rcp_f32 on AMD, an IEEE division elsewhere (the host pass, the CPU emulator).
__device__ __forceinline__ float silu_rcp(float d) {
#if defined(AITER_SWA_CUDA)
  float r;
  asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(d));
  return r;
#elif defined(__HIP_DEVICE_COMPILE__)
  return __builtin_amdgcn_rcpf(d);
#else
  return 1.f / d;
#endif
}

template <bool SILU>
__device__ __forceinline__ float activate(float u) {
  if constexpr (SILU) return u * silu_rcp(fmaf(fast_exp2(u), kSiluTapScale, kSiluTapScale));
  return u;
}

// The cache line of sequence s, or -1 when it is skipped (pad_slot_id, or outside the cache).
__device__ __forceinline__ int64_t line_of(const int* cache_indices, int s, int pad, int64_t num_lines) {
  const int64_t line = cache_indices ? cache_indices[s] : s;
  return (cache_indices && line == pad) || line < 0 || line >= num_lines ? -1 : line;
}

// The sequence of token t: the largest s in [0, num_seqs] with qsl[s] <= t, or -1 when t < qsl[0]
// (one binary search; s == num_seqs: after the last sequence).
__device__ __forceinline__ int seq_of_token(const int* qsl, int num_seqs, int t) {
  if (qsl[0] > t) return -1;
  int lo = 0, hi = num_seqs;
  while (lo < hi) {
    const int mid = (lo + hi + 1) >> 1;
    if (qsl[mid] <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// Outputs of positions [0, n_out) of one (sequence, channel) from the old state, then the new state.
// x_at(p): element p of the sequence in this channel; out_at(p): where output p goes.
template <class S, class XAt, class OutAt>
__device__ __forceinline__ void state_pass(const typename S::T* w_row, int64_t w_stride_width, float bias,
                                           typename S::T* state, int64_t s_stride_tok, bool has_init, int len,
                                           int n_out, XAt x_at, OutAt out_at) {
  using T = typename S::T;
  constexpr int W = S::WIDTH, ST = S::STATE;
  float wt[W];
#pragma unroll
  for (int k = 0; k < W; ++k) wt[k] = scaled<S::SILU>(to_float(w_row[k * w_stride_width]));
  T raw[ST];
#pragma unroll
  for (int k = 0; k < ST; ++k) {
    if (has_init) {
      raw[k] = state[k * s_stride_tok];
    } else {
      from_float(0.f, &raw[k]);
    }
  }
  for (int p = 0; p < n_out; ++p) {
    const T xv = x_at(p);
    float acc = scaled<S::SILU>(bias);
#pragma unroll
    for (int k = 0; k < ST; ++k) acc += wt[k] * to_float(raw[k]);
    acc += wt[ST] * to_float(xv);
    from_float(activate<S::SILU>(acc), out_at(p));
#pragma unroll
    for (int k = 0; k + 1 < ST; ++k) raw[k] = raw[k + 1];
    raw[ST - 1] = xv;
  }
  // New state: the last ST inputs of state ++ x[0, len): raw already holds them when len <= n_out.
  if (len > n_out) {
#pragma unroll
    for (int k = 0; k < ST; ++k) {
      const int p = len - ST + k;  // >= n_out - ST + k; p < n_out were pushed into raw already
      if (p >= 0) raw[k] = x_at(p);
    }
    // (len > n_out implies n_out == ST here in the forward pass; the update pass has n_out == len)
  }
#pragma unroll
  for (int k = 0; k < ST; ++k) state[k * s_stride_tok] = raw[k];
}

// Channel-last outputs of RUN consecutive tokens of the VEC channels of lane cv: in[k] is the token
// vector k - STATE of the run (k < STATE: the inputs before it), the taps and biases come from LDS
// (fp32, channel c0 + cv * VEC + v at s_w[v][k][cv], s_b[v][cv]); channel pairs (v, v + 1) one after
// the other, each input widened once, the outputs packed into the 4 words per token of yv (few live
// registers). fwd_kernel's and fwd_kernel_walk's channel-last math.
template <class S, int RUN>
__device__ __forceinline__ void cl_outputs(const uint4 (&in)[S::STATE + RUN], const float (&s_w)[S::VEC][S::WIDTH][S::CL_VECS],
                                           const float (&s_b)[S::VEC][S::CL_VECS], int cv, uint32_t (&yv)[RUN][4]) {
  using T = typename S::T;
  constexpr int W = S::WIDTH, ST = S::STATE, VEC = S::VEC;
#pragma unroll
  for (int v = 0; v < VEC; v += 2) {
    float w0[W], w1[W];
#pragma unroll
    for (int k = 0; k < W; ++k) {
      w0[k] = s_w[v][k][cv];
      w1[k] = s_w[v + 1][k][cv];
    }
    const float b0 = s_b[v][cv], b1 = s_b[v + 1][cv];
    float win0[ST], win1[ST];  // the last ST inputs of channels c + v, c + v + 1
#pragma unroll
    for (int k = 0; k < ST; ++k) {
      win0[k] = element<T>(in[k], v);
      win1[k] = element<T>(in[k], v + 1);
    }
#pragma unroll
    for (int k = 0; k < RUN; ++k) {
      const float x0 = element<T>(in[ST + k], v), x1 = element<T>(in[ST + k], v + 1);
      float a0 = b0, a1 = b1;
#pragma unroll
      for (int i = 0; i < ST; ++i) {
        a0 += w0[i] * win0[i];
        a1 += w1[i] * win1[i];
      }
      a0 += w0[ST] * x0;
      a1 += w1[ST] * x1;
      const float y0 = activate<S::SILU>(a0), y1 = activate<S::SILU>(a1);
      if constexpr (sizeof(T) == 4) {
        yv[k][v] = __float_as_uint(y0);
        yv[k][v + 1] = __float_as_uint(y1);
      } else {
        yv[k][v / 2] = pack2<T>(y0, y1);
      }
#pragma unroll
      for (int i = 0; i + 1 < ST; ++i) {
        win0[i] = win0[i + 1];
        win1[i] = win1[i + 1];
      }
      win0[ST - 1] = x0;
      win1[ST - 1] = x1;
    }
  }
}

// The NFLAGS byte flags of tokens [idx, idx + NFLAGS) of the tile's flag table (byte i of the
// result: token idx + i), from the two 64-bit words around them.
template <int NFLAGS>
__device__ __forceinline__ uint64_t flags_at(const uint64_t* words, int idx) {
  const int w = idx >> 3, sh = (idx & 7) * 8;
  const uint64_t lo = words[w];
  uint64_t f = sh ? (lo >> sh) | (words[w + 1] << (64 - sh)) : lo;
  if constexpr (NFLAGS < 8) f &= (uint64_t(1) << (8 * NFLAGS)) - 1;
  return f;
}

// Every flag of NFLAGS set (byte value 1 each).
template <int NFLAGS>
struct AllFlags {
  static constexpr uint64_t value = 0x0101010101010101ull >> (64 - 8 * NFLAGS);
};

// Elements [t, t + N) of a channel-first row, those outside [0, total) as 0, element by element,
// into the raw bits of a vector (N = VEC) or of its upper half.
template <class S>
__device__ __forceinline__ uint4 load_masked(const typename S::T* row, int t, int total) {
  using T = typename S::T;
  T e[S::VEC];
#pragma unroll
  for (int k = 0; k < S::VEC; ++k) {
    if (t + k >= 0 && t + k < total) e[k] = row[t + k];
    else from_float(0.f, &e[k]);
  }
  return pack<T>(e);
}

template <class S>
__global__ AITER_SWA_CONV_FWD_BOUNDS(S) void fwd_kernel(const FwdParams p) {
  using T = typename S::T;
  constexpr int W = S::WIDTH, ST = S::STATE, VEC = S::VEC, TILE = S::TILE_TOKENS, PRE = S::PRE;
  constexpr int NF = S::NFLAGS;
  // byte i: token tile_start - PRE + i is computed in phase 1 (8 spare bytes: readers take whole words)
  __shared__ uint64_t s_ok[(PRE + TILE) / 8 + 2];
  __shared__ int s_heads[TILE];  // sequences whose position 0 is in [tile_start, tile_start + TILE)
  __shared__ int s_num_heads;
  // channel-last: the block's taps and biases in fp32, channel c0 + cv * VEC + v at s_w[v][k][cv],
  // s_b[v][cv]: the CL_VECS threads of a run read consecutive words (no bank conflict; [channel][k]
  // would put all of them in one bank)
  constexpr int NWV = S::CHANNEL_LAST ? VEC : 1, NWC = S::CHANNEL_LAST ? S::CL_VECS : 1;
  __shared__ float s_w[NWV][W][NWC];
  __shared__ float s_b[NWV][NWC];
  // channel-first CF_FAST: the block's taps and biases in fp32, channel c0 + r at s_wf[k][r], s_bf[r]
  // (the 32 lanes of a row read one word: a broadcast)
  constexpr int NFC = S::CF_FAST ? S::CHANNELS : 1;
  __shared__ float s_wf[S::CF_FAST ? W : 1][NFC];
  __shared__ float s_bf[NFC];

  const int tid = threadIdx.x;
  const int tile_start = blockIdx.x * TILE;
  const int c0 = blockIdx.y * S::CHANNELS;
  const T* x = static_cast<const T*>(p.x);
  T* out = static_cast<T*>(p.out);
  const T* weight = static_cast<const T*>(p.weight);
  const T* bias = static_cast<const T*>(p.bias);
  const uint4 zero4 = make_uint4(0u, 0u, 0u, 0u);

  // ---- loads (and the taps), before anything else ----
  // channel-first: xv[j] = tokens [t0[j], t0[j] + VEC) of channel c0 + row + j * CF_ROWS, hv[j] the
  // vector before (16-bit: its upper half only). channel-last: xv[k] = VEC channels from c at token
  // t0 - ST + k.
  constexpr int NV = S::CHANNEL_LAST ? ST + S::CL_RUN : S::CF_ITERS;
  constexpr int NH = S::CHANNEL_LAST ? 1 : S::CF_ITERS;
  using halo_t = typename std::conditional<S::CF_HALF_HALO, uint2, uint4>::type;
  uint4 xv[NV];
  halo_t hv[NH];
  int t0[NH];  // channel-first: first token of each row's vector (channel-last: t0[0])
  // channel-first: the taps of each of the thread's rows (CF_FAST: those of channel c0 + tid, for the
  // LDS table); channel-last: those of channel c0 + tid, for the LDS table.
  // Kept raw (T) until used, after the first barrier: converting them where they are loaded made the
  // compiler wait for each row's taps before issuing the next row's x loads (sm_90 SASS: the
  // channel-first loads went out one row at a time, one tap latency apart).
  constexpr int NTAP = S::CHANNEL_LAST || S::CF_FAST ? 1 : S::CF_ITERS;
  T wr[NTAP][W], br[NTAP];  // set and read only for channels < dim (left unset otherwise: fewer live registers)
  T zero_t;
  from_float(0.f, &zero_t);
  int lane = 0, row = 0, cv = 0, run = 0;
  // channel-first: out's rows start as far past 16 bytes as x's (the same strides): 16-byte stores
  const bool out_vec = S::CHANNEL_LAST || (reinterpret_cast<uintptr_t>(x) % 16) == (reinterpret_cast<uintptr_t>(out) % 16);
  if constexpr (!S::CHANNEL_LAST) {
    lane = tid % S::CF_LANES;
    row = tid / S::CF_LANES;
    // x's offset from 16 bytes in elements (x is element-aligned: a tensor of T)
    const uint32_t x_off = uint32_t((reinterpret_cast<uintptr_t>(x) % 16) / sizeof(T));
    // x's span in elements: from its first element to one past its last
    const int64_t x_span = int64_t(p.dim - 1) * p.x_stride_dim + p.total_tokens;
#pragma unroll
    for (int j = 0; j < S::CF_ITERS; ++j) {
      const int c = c0 + row + j * S::CF_ROWS;
      // this row's offset from 16 bytes (mod VEC: only the low bits of the product matter)
      const int o = int((x_off + uint32_t(c) * uint32_t(p.x_stride_dim)) & uint32_t(VEC - 1));
      const int t = tile_start - o + lane * VEC;
      t0[j] = t;
      const T* xr = x + int64_t(c) * p.x_stride_dim;
      xv[j] = zero4;
      if constexpr (S::CF_HALF_HALO) hv[j] = make_uint2(0u, 0u);
      else hv[j] = zero4;
      if (c < p.dim) {
        // A vector that meets the row but runs past its ends (into the previous or next row, or
        // the gap between rows) is still one 16-byte load when it lies inside x's span: the
        // elements outside the row feed no stored output (they have no flag, and a flagged
        // output's inputs are its own sequence's). Only the span's first and last vectors are
        // read element by element.
        const int64_t e = int64_t(c) * p.x_stride_dim + t;  // x's element index of token t of row c
        if (t + VEC > 0 && t < p.total_tokens) {
          if (e >= 0 && e + VEC <= x_span) xv[j] = load16(xr + t);
          else xv[j] = load_masked<S>(xr, t, p.total_tokens);
        }
        if (t > 0 && t - VEC < p.total_tokens && e - VEC >= 0 && e <= x_span) {
          if constexpr (S::CF_HALF_HALO) hv[j] = load8(xr + t - VEC / 2);
          else hv[j] = load16(xr + t - VEC);
        } else if (t > 0 && t - VEC < p.total_tokens) {
          const uint4 h = load_masked<S>(xr, t - VEC, p.total_tokens);
          if constexpr (S::CF_HALF_HALO) hv[j] = make_uint2(h.z, h.w);
          else hv[j] = h;
        }
        if constexpr (!S::CF_FAST) {
#pragma unroll
          for (int k = 0; k < W; ++k) wr[j][k] = weight[int64_t(c) * p.w_stride_dim + k * p.w_stride_width];
          br[j] = bias ? bias[c] : zero_t;
        }
      }
    }
    if constexpr (S::CF_FAST) {
      const int ct = c0 + tid - S::TAP_THREAD0;
      if (tid >= S::TAP_THREAD0 && ct < p.dim) {
#pragma unroll
        for (int k = 0; k < W; ++k) wr[0][k] = weight[int64_t(ct) * p.w_stride_dim + k * p.w_stride_width];
        br[0] = bias ? bias[ct] : zero_t;
      }
    }
  } else {
    cv = tid % S::CL_VECS;
    run = tid / S::CL_VECS;
    t0[0] = tile_start + run * S::CL_RUN;
    const int c = c0 + cv * VEC;  // dim is a multiple of VEC (checked on the host)
#pragma unroll
    for (int k = 0; k < NV; ++k) {
      const int t = t0[0] - ST + k;
      xv[k] = zero4;
      if (c < p.dim && t >= 0 && t < p.total_tokens) xv[k] = load16(x + int64_t(t) * p.x_stride_tok + c);
    }
    hv[0] = halo_t{};
    const int ct = c0 + tid;
    if (tid < S::CHANNELS && ct < p.dim) {
#pragma unroll
      for (int k = 0; k < W; ++k) wr[0][k] = weight[int64_t(ct) * p.w_stride_dim + k * p.w_stride_width];
      br[0] = bias ? bias[ct] : zero_t;
    }
  }

  // ---- phase 0: token -> (sequence, position): the flags and the heads ----
  if (tid == 0) s_num_heads = 0;
  if constexpr (S::HEADS_IN_WAVE0) wave_sync();  // only wavefront 0 counts heads
  else __syncthreads();
  uint8_t* ok = reinterpret_cast<uint8_t*>(s_ok);
  if constexpr (S::CF_FAST) {
    // one thread per 8 tokens [tg, tg + 8) of the table (the last group may run into the spare word);
    // thread i takes group (i + PRE / 8) % NG: those before PRE / 8 hold no token of the unshifted
    // tile, so no head, and go to the last threads (HEADS_IN_WAVE0)
    constexpr int NG = S::PHASE0_GROUPS;
    static_assert(NG <= S::NUM_THREADS && NG <= (PRE + TILE) / 8 + 2, "one group per thread, inside s_ok");
    if (tid < NG) {
      const int g = (tid + PRE / 8) % NG;
      const int tg = tile_start - PRE + 8 * g;
      const int* qsl = p.query_start_loc;
      int s = seq_of_token(qsl, p.num_seqs, tg);
      // sequence s holds tokens [start, next) (s == -1: none, before qsl[0]; s == num_seqs: none, after
      // the last); each pass takes the group's tokens of one sequence: usually one pass
      int start = s >= 0 ? qsl[s] : 0;
      int next = s < p.num_seqs ? qsl[s + 1] : 2147483647;
      bool live = s >= 0 && s < p.num_seqs && line_of(p.cache_indices, s, p.pad_slot_id, p.num_cache_lines) >= 0;
      const int tend = tg + 8;
      uint64_t word = 0;
      while (true) {
        if (live) {
          // flags of k in [ka, kb): positions >= ST, tokens inside x and inside the sequence
          const int ka = max(max(start + ST, 0), tg) - tg;
          const int kb = min(min(next, p.total_tokens), tend) - tg;
          if (ka < kb) word |= (0x0101010101010101ull >> (8 * (8 - (kb - ka)))) << (8 * ka);
          // position 0 in the unshifted tile (a non-empty sequence): a head of this tile
          if (start < next && start >= max(tg, max(tile_start, 0)) && start < min(tend, tile_start + TILE) &&
              start < p.total_tokens) {
            AITER_SWA_CHECK_HEAD_LISTER(!S::HEADS_IN_WAVE0 || tid < kWarpSize);
            s_heads[atomicAdd(&s_num_heads, 1)] = s;
          }
        }
        if (next >= tend) break;  // s <= num_seqs grows every pass: at most num_seqs + 1 passes
        ++s;
        start = next;
        next = s < p.num_seqs ? qsl[s + 1] : 2147483647;
        live = s < p.num_seqs && line_of(p.cache_indices, s, p.pad_slot_id, p.num_cache_lines) >= 0;
      }
      s_ok[g] = word;
    }
  } else {
    for (int i = tid; i < PRE + TILE; i += S::NUM_THREADS) {
      const int t = tile_start - PRE + i;
      int pos = -1;
      if (t >= 0 && t < p.total_tokens) {
        const int* qsl = p.query_start_loc;
        int lo = 0, hi = p.num_seqs;  // largest s in [0, num_seqs] with qsl[s] <= t
        if (qsl[0] <= t) {
          while (lo < hi) {
            const int mid = (lo + hi + 1) >> 1;
            if (qsl[mid] <= t) lo = mid;
            else hi = mid - 1;
          }
          const int s = lo;
          if (s < p.num_seqs && t < qsl[s + 1] &&
              line_of(p.cache_indices, s, p.pad_slot_id, p.num_cache_lines) >= 0) {
            pos = t - qsl[s];
            if (pos == 0 && i >= PRE) {
              AITER_SWA_CHECK_HEAD_LISTER(!S::HEADS_IN_WAVE0 || tid < kWarpSize);
              s_heads[atomicAdd(&s_num_heads, 1)] = s;
            }
          }
        }
      }
      ok[i] = pos >= ST ? 1 : 0;
    }
  }
  if constexpr (S::CF_FAST) {
    const int r = tid - S::TAP_THREAD0;
    if (r >= 0 && c0 + r < p.dim) {
#pragma unroll
      for (int k = 0; k < W; ++k) s_wf[k][r] = scaled<S::SILU>(to_float(wr[0][k]));
      s_bf[r] = scaled<S::SILU>(to_float(br[0]));
    }
  }
  if constexpr (S::CHANNEL_LAST) {
    if (tid < S::CHANNELS && c0 + tid < p.dim) {
#pragma unroll
      for (int k = 0; k < W; ++k) s_w[tid % VEC][k][tid / VEC] = scaled<S::SILU>(to_float(wr[0][k]));
      s_b[tid % VEC][tid / VEC] = scaled<S::SILU>(to_float(br[0]));
    }
  }
  __syncthreads();

  // ---- phase 1: positions >= WIDTH - 1, inputs from x alone ----
  if constexpr (!S::CHANNEL_LAST) {
#pragma unroll
    for (int j = 0; j < S::CF_ITERS; ++j) {
      const int c = c0 + row + j * S::CF_ROWS;
      if (c >= p.dim) continue;
      const int t = t0[j];
      const uint64_t f = flags_at<NF>(s_ok, PRE - (tile_start - t));  // index of token t
      if (f == 0) continue;
      float win[ST + VEC];  // inputs t - ST .. t + VEC - 1 (only those inside a sequence are used)
      {
        float prev[VEC];
        if constexpr (S::CF_HALF_HALO) {
          unpack<T>(make_uint4(0u, 0u, hv[j].x, hv[j].y), prev);  // elements VEC / 2 .. VEC - 1 only
        } else {
          unpack<T>(hv[j], prev);
        }
#pragma unroll
        for (int k = 0; k < ST; ++k) win[k] = prev[VEC - ST + k];
        float cur[VEC];
        unpack<T>(xv[j], cur);
#pragma unroll
        for (int k = 0; k < VEC; ++k) win[ST + k] = cur[k];
      }
      float wj[W], bj = 0.f;  // CF_FAST: this row's taps and bias, from LDS
      if constexpr (S::CF_FAST) {
        const int r = row + j * S::CF_ROWS;
#pragma unroll
        for (int i = 0; i < W; ++i) wj[i] = s_wf[i][r];
        bj = s_bf[r];
      }
      float y[VEC];
#pragma unroll
      for (int k = 0; k < VEC; ++k) {
        float acc;
        if constexpr (S::CF_FAST) acc = bj;
        else acc = scaled<S::SILU>(to_float(br[j]));
#pragma unroll
        for (int i = 0; i < W; ++i) {  // inputs t + k - ST .. t + k
          if constexpr (S::CF_FAST) acc += wj[i] * win[k + i];
          else acc += scaled<S::SILU>(to_float(wr[j][i])) * win[k + i];
        }
        y[k] = activate<S::SILU>(acc);
      }
      T* orow = out + int64_t(c) * p.x_stride_dim;
      if (f == AllFlags<NF>::value && out_vec) {  // all VEC tokens exist (a token outside x has no flag)
        store_vec<T>(orow + t, y);
      } else {
#pragma unroll
        for (int k = 0; k < VEC; ++k)
          if ((f >> (8 * k)) & 1) from_float(y[k], &orow[t + k]);
      }
    }
  } else {
    const int c = c0 + cv * VEC;
    const uint64_t f = flags_at<NF>(s_ok, run * S::CL_RUN);
    if (c < p.dim && f != 0) {
      uint32_t yv[S::CL_RUN][4];  // the run's outputs, packed for the 16-byte stores
      cl_outputs<S, S::CL_RUN>(xv, s_w, s_b, cv, yv);
#pragma unroll
      for (int k = 0; k < S::CL_RUN; ++k)
        if ((f >> (8 * k)) & 1)
          store16(out + int64_t(t0[0] + k) * p.x_stride_tok + c, make_uint4(yv[k][0], yv[k][1], yv[k][2], yv[k][3]));
    }
  }

  // ---- phase 2: positions < WIDTH - 1 and the state of each sequence that starts in this tile ----
  const int n_heads = s_num_heads;
#pragma unroll 1
  for (int idx = tid; idx < n_heads * S::CHANNELS; idx += S::NUM_THREADS) {
    const int c = c0 + idx % S::CHANNELS;
    if (c >= p.dim) continue;
    const int s = s_heads[idx / S::CHANNELS];
    const int start = p.query_start_loc[s];
    const int len = p.query_start_loc[s + 1] - start;
    const int64_t line = line_of(p.cache_indices, s, p.pad_slot_id, p.num_cache_lines);
    const bool has_init = p.has_initial_state && p.has_initial_state[s];
    const T* xs = x + int64_t(c) * p.x_stride_dim + int64_t(start) * p.x_stride_tok;
    T* os = out + int64_t(c) * p.x_stride_dim + int64_t(start) * p.x_stride_tok;
    const int64_t st = p.x_stride_tok;
    state_pass<S>(weight + int64_t(c) * p.w_stride_dim, p.w_stride_width, bias ? to_float(bias[c]) : 0.f,
                  static_cast<T*>(p.conv_states) + line * p.s_stride_line + int64_t(c) * p.s_stride_dim, p.s_stride_tok,
                  has_init, len, min(len, ST), [&](int q) { return xs[q * st]; },
                  [&](int q) { return &os[q * st]; });
  }
}

// ---- the walking forward (ConvSpec::WALK, spec.py's walk=1; a tuning variant) ----
// Same FwdParams, grid (fwd_grid: TILE_TOKENS x CHANNELS per block) and results as fwd_kernel, but no
// flag table and no barrier in the main loop: each group of 32 lanes walks along its row (channel-first)
// or its 32 channel vectors (channel-last) over many vectors, the halo carried in registers, the next
// loads in flight during the math, the token flags from a per-lane cursor over query_start_loc.

// A cursor over query_start_loc: sequence s in [-1, num_seqs] holds the tokens [start, next) (s == -1:
// the tokens before qsl[0]; s == num_seqs: those after the last sequence, next = INT_MAX); live: s is a
// sequence whose cache line is not skipped.
struct SeqCursor {
  int s, start, next;
  bool live;
};

__device__ __forceinline__ void cursor_at(SeqCursor& cur, const FwdParams& p, int s) {
  cur.s = s;
  cur.start = s >= 0 ? p.query_start_loc[s] : 0;
  cur.next = s < p.num_seqs ? p.query_start_loc[s + 1] : 2147483647;
  cur.live = s >= 0 && s < p.num_seqs && line_of(p.cache_indices, s, p.pad_slot_id, p.num_cache_lines) >= 0;
}

// The cursor of token t (seq_of_token).
__device__ __forceinline__ SeqCursor cursor_find(const FwdParams& p, int t) {
  SeqCursor cur;
  cursor_at(cur, p, seq_of_token(p.query_start_loc, p.num_seqs, t));
  return cur;
}

// Forward steps to token t (t no smaller than the cursor's last token): s grows every step and stops
// at num_seqs (next = INT_MAX), so at most num_seqs + 1 steps in all whatever query_start_loc holds.
__device__ __forceinline__ void cursor_to(SeqCursor& cur, const FwdParams& p, int t) {
  while (t >= cur.next) cursor_at(cur, p, cur.s + 1);
}

// Whether token t (the cursor at t) is computed in the main loop: position >= WIDTH - 1 of a live
// sequence, inside x.
template <int ST>
__device__ __forceinline__ bool cursor_flag(const SeqCursor& cur, int t, int total) {
  return cur.live && t - cur.start >= ST && t >= 0 && t < total;
}

// The first sequence s in [0, num_seqs] with qsl[s] >= t (num_seqs when none).
__device__ __forceinline__ int first_seq_from(const FwdParams& p, int t) {
  int lo = 0, hi = p.num_seqs;
  while (lo < hi) {
    const int mid = (lo + hi) >> 1;
    if (p.query_start_loc[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Heads of the walk: for each sequence whose position 0 lies in [t_lo, t_hi) (non-empty, inside x, not
// skipped), channel c: phase 2 of fwd_kernel (state_pass). Sequences s_first, s_first + step, ...
template <class S>
__device__ __forceinline__ void walk_heads(const FwdParams& p, int t_lo, int t_hi, int s_first, int step, int c) {
  using T = typename S::T;
  const T* x = static_cast<const T*>(p.x);
  T* out = static_cast<T*>(p.out);
  const T* bias = static_cast<const T*>(p.bias);
  const int64_t st = p.x_stride_tok;
#pragma unroll 1
  for (int s = s_first; s < p.num_seqs; s += step) {
    const int start = p.query_start_loc[s];
    if (start >= t_hi) break;
    const int len = p.query_start_loc[s + 1] - start;
    const int64_t line = line_of(p.cache_indices, s, p.pad_slot_id, p.num_cache_lines);
    if (len <= 0 || start < t_lo || start >= p.total_tokens || line < 0) continue;
    const bool has_init = p.has_initial_state && p.has_initial_state[s];
    const T* xs = x + int64_t(c) * p.x_stride_dim + int64_t(start) * st;
    T* os = out + int64_t(c) * p.x_stride_dim + int64_t(start) * st;
    state_pass<S>(static_cast<const T*>(p.weight) + int64_t(c) * p.w_stride_dim, p.w_stride_width,
                  bias ? to_float(bias[c]) : 0.f,
                  static_cast<T*>(p.conv_states) + line * p.s_stride_line + int64_t(c) * p.s_stride_dim, p.s_stride_tok,
                  has_init, len, min(len, S::STATE), [&](int q) { return xs[q * st]; },
                  [&](int q) { return &os[q * st]; });
  }
}

template <class S>
__global__ AITER_SWA_CONV_FWD_BOUNDS(S) void fwd_kernel_walk(const FwdParams p) {
  static_assert(S::WALK, "fwd_kernel_walk: a WALK spec");
  using T = typename S::T;
  constexpr int W = S::WIDTH, ST = S::STATE, VEC = S::VEC, D = S::WALK_DEPTH;
  const int tid = threadIdx.x;
  const int lane = tid % 32, grp = tid / 32;  // CF_LANES == CL_VECS == 32 lanes per group
  const int c0 = blockIdx.y * S::CHANNELS;
  const T* x = static_cast<const T*>(p.x);
  T* out = static_cast<T*>(p.out);
  const T* weight = static_cast<const T*>(p.weight);
  const T* bias = static_cast<const T*>(p.bias);
  const uint4 zero4 = make_uint4(0u, 0u, 0u, 0u);

  if constexpr (!S::CHANNEL_LAST) {
    // ---- channel-first: group grp walks row c over the block's segment ----
    // Lane l's vector of chunk i holds tokens [t_first + i * CF_CHUNK, + VEC) of the row, on 16-byte
    // boundaries (the row's shift o, as fwd_kernel's tiles): the shifted segments of a row tile it.
    // The segment's chunks that can hold a token < total_tokens (the same for every row: uniform
    // loops, whole groups at each shuffle).
    constexpr int CHUNK = S::CF_CHUNK, SEG = S::WALK_CF_TOKENS;
    constexpr int HW = (ST * int(sizeof(T)) + 3) / 4;  // words of a vector's top that hold the halo
    static_assert(HW <= 3, "the halo lies in the upper three words");
    const int seg_start = blockIdx.x * SEG;
    const int n = min(SEG / CHUNK, (p.total_tokens + VEC - 1 - seg_start + CHUNK - 1) / CHUNK);
    const int c = c0 + grp;
    const bool row_ok = c < p.dim;
    const uint32_t x_off = uint32_t((reinterpret_cast<uintptr_t>(x) % 16) / sizeof(T));
    const int o = int((x_off + uint32_t(c) * uint32_t(p.x_stride_dim)) & uint32_t(VEC - 1));
    const int t_first = seg_start - o + lane * VEC;
    const int64_t x_span = int64_t(p.dim - 1) * p.x_stride_dim + p.total_tokens;
    const T* xr = x + int64_t(c) * p.x_stride_dim;
    T* orow = out + int64_t(c) * p.x_stride_dim;
    const bool out_vec = (reinterpret_cast<uintptr_t>(x) % 16) == (reinterpret_cast<uintptr_t>(out) % 16);
    // tokens [t, t + VEC) of the row: one 16-byte load when inside x's span (elements outside the row
    // feed no stored output), element loads for the span's first and last vectors, zeros outside x
    auto load_vec = [&](int t) -> uint4 {
      uint4 v = zero4;
      if (row_ok && t + VEC > 0 && t < p.total_tokens) {
        const int64_t e = int64_t(c) * p.x_stride_dim + t;
        if (e >= 0 && e + VEC <= x_span) v = load16(xr + t);
        else v = load_masked<S>(xr, t, p.total_tokens);
      }
      return v;
    };
    uint4 buf[D];  // chunks i .. i + D - 1 in flight
#pragma unroll
    for (int k = 0; k < D; ++k) buf[k] = k < n ? load_vec(t_first + k * CHUNK) : zero4;
    // lane 0's halo: the vector before the segment's first (its words HW from the top)
    uint32_t carry[HW];
    {
      const uint4 h = lane == 0 && n > 0 ? load_vec(t_first - VEC) : zero4;
      const uint32_t hw4[4] = {h.x, h.y, h.z, h.w};
#pragma unroll
      for (int h2 = 0; h2 < HW; ++h2) carry[h2] = hw4[4 - HW + h2];
    }
    float wj[W], bj = 0.f;
    if (row_ok) {
#pragma unroll
      for (int k = 0; k < W; ++k)
        wj[k] = scaled<S::SILU>(to_float(weight[int64_t(c) * p.w_stride_dim + k * p.w_stride_width]));
      bj = scaled<S::SILU>(bias ? to_float(bias[c]) : 0.f);
    } else {
#pragma unroll
      for (int k = 0; k < W; ++k) wj[k] = 0.f;
    }
    SeqCursor cur = cursor_find(p, t_first);
#pragma unroll 1
    for (int i0 = 0; i0 < n; i0 += D) {
#pragma unroll
      for (int k = 0; k < D; ++k) {
        const int i = i0 + k;
        if (i >= n) break;  // uniform in the block
        const uint4 v = buf[k];
        const int t = t_first + i * CHUNK;
        if (i + D < n) buf[k] = load_vec(t + D * CHUNK);
        // the halo: the previous lane's top words (lane 0: the previous chunk's lane 31, carried)
        const uint32_t vw[4] = {v.x, v.y, v.z, v.w};
        uint32_t hw[4] = {0u, 0u, 0u, 0u};
#pragma unroll
        for (int h2 = 0; h2 < HW; ++h2) {
          const uint32_t r = shfl_idx(vw[4 - HW + h2], (lane + 31) & 31, 32);
          hw[4 - HW + h2] = lane == 0 ? carry[h2] : r;
          carry[h2] = r;
        }
        // flags of tokens [t, t + VEC), bit k: a couple of compares when the whole vector lies in one
        // live sequence at positions >= ST, else token by token
        uint32_t f = 0;
        if (row_ok) {
          cursor_to(cur, p, t);
          if (cur.live && t - cur.start >= ST && t + VEC <= cur.next && t >= 0 && t + VEC <= p.total_tokens) {
            f = (1u << VEC) - 1;
          } else {
            // not unrolled: a rare path, and on gfx9 each unrolled copy of the divergent cursor loop held
            // its own saved exec masks (SGPR spills in the 16-bit specializations)
#pragma unroll 1
            for (int q = 0; q < VEC; ++q) {
              cursor_to(cur, p, t + q);
              if (cursor_flag<ST>(cur, t + q, p.total_tokens)) f |= 1u << q;
            }
          }
        }
        if (f == 0) continue;
        float win[ST + VEC];  // inputs t - ST .. t + VEC - 1
        {
          float prev[VEC];
          unpack<T>(make_uint4(hw[0], hw[1], hw[2], hw[3]), prev);
#pragma unroll
          for (int q = 0; q < ST; ++q) win[q] = prev[VEC - ST + q];
          float cv[VEC];
          unpack<T>(v, cv);
#pragma unroll
          for (int q = 0; q < VEC; ++q) win[ST + q] = cv[q];
        }
        float y[VEC];
#pragma unroll
        for (int q = 0; q < VEC; ++q) {
          float acc = bj;
#pragma unroll
          for (int j = 0; j < W; ++j) acc += wj[j] * win[q + j];
          y[q] = activate<S::SILU>(acc);
        }
        if (f == (1u << VEC) - 1 && out_vec) {
          store_vec<T>(orow + t, y);
        } else {
#pragma unroll
          for (int q = 0; q < VEC; ++q)
            if ((f >> q) & 1) from_float(y[q], &orow[t + q]);
        }
      }
    }
    // heads: sequences starting in the unshifted segment, this row, one lane per sequence
    if (row_ok) {
      const int lo = max(seg_start, 0), hi = seg_start + SEG;
      walk_heads<S>(p, lo, hi, first_seq_from(p, lo) + lane, 32, c);
    }
  } else {
    // ---- channel-last: group grp walks tokens [tg, tg + G) of channels c .. c + VEC - 1 per lane ----
    constexpr int G = S::WALK_CL_GROUP_TOKENS, CH = S::CHANNELS;
    __shared__ float s_w[VEC][W][S::CL_VECS];  // fwd_kernel's layout: channel c0 + cv * VEC + v
    __shared__ float s_b[VEC][S::CL_VECS];
    const int ct = c0 + tid;
    if (tid < CH && ct < p.dim) {
#pragma unroll
      for (int k = 0; k < W; ++k) {
        const float w = to_float(weight[int64_t(ct) * p.w_stride_dim + k * p.w_stride_width]);
        s_w[tid % VEC][k][tid / VEC] = scaled<S::SILU>(w);
      }
      s_b[tid % VEC][tid / VEC] = scaled<S::SILU>(bias ? to_float(bias[ct]) : 0.f);
    }
    const int cv = lane;
    const int c = c0 + cv * VEC;  // dim is a multiple of VEC (checked on the host)
    const int tg = blockIdx.x * S::TILE_TOKENS + grp * G;
    const bool ch_ok = c < p.dim;
    auto load_tok = [&](int t) -> uint4 {
      return ch_ok && t >= 0 && t < p.total_tokens ? load16(x + int64_t(t) * p.x_stride_tok + c) : zero4;
    };
    // cur[k]: token tj - ST + k of the current step (tj = tg + j * D); nxt: the next step's D tokens
    uint4 cur[ST + D], nxt[D];
#pragma unroll
    for (int k = 0; k < ST + D; ++k) cur[k] = load_tok(tg - ST + k);
#pragma unroll
    for (int k = 0; k < D; ++k) nxt[k] = load_tok(tg + D + k);
    const int steps = max(0, min(G / D, (p.total_tokens - tg + D - 1) / D));
    SeqCursor sc = cursor_find(p, tg);
    __syncthreads();  // the taps in LDS (the only barrier)
#pragma unroll 1
    for (int j = 0; j < steps; ++j) {
      const int tj = tg + j * D;
      uint32_t f = 0;  // bit k: token tj + k (the same for the whole group)
#pragma unroll
      for (int k = 0; k < D; ++k) {
        cursor_to(sc, p, tj + k);
        if (cursor_flag<ST>(sc, tj + k, p.total_tokens)) f |= 1u << k;
      }
      if (ch_ok && f != 0) {
        uint32_t yv[D][4];
        cl_outputs<S, D>(cur, s_w, s_b, cv, yv);
#pragma unroll
        for (int k = 0; k < D; ++k)
          if ((f >> k) & 1)
            store16(out + int64_t(tj + k) * p.x_stride_tok + c, make_uint4(yv[k][0], yv[k][1], yv[k][2], yv[k][3]));
      }
      // slide: the last ST inputs stay, the next step's arrive, the one after is requested
#pragma unroll
      for (int k = 0; k < ST; ++k) cur[k] = cur[D + k];
#pragma unroll
      for (int k = 0; k < D; ++k) {
        cur[ST + k] = nxt[k];
        nxt[k] = j + 2 < steps ? load_tok(tj + 2 * D + k) : zero4;
      }
    }
    // heads: sequences starting in [tg, tg + G), this lane's VEC channels
    if (ch_ok) {
      const int s_first = first_seq_from(p, max(tg, 0));
#pragma unroll 1
      for (int v = 0; v < VEC; ++v) walk_heads<S>(p, max(tg, 0), tg + G, s_first, 1, c + v);
    }
  }
}

// Decode update: one thread per (sequence, channel).
template <class S>
__global__ __launch_bounds__(S::NUM_THREADS) void update_kernel(const UpdateParams p) {
  using T = typename S::T;
  const int s = blockIdx.x;
  const int c = blockIdx.y * S::NUM_THREADS + threadIdx.x;
  if (c >= p.dim) return;
  const int64_t line = line_of(p.cache_indices, s, p.pad_slot_id, p.num_cache_lines);
  if (line < 0) return;
  const T* xs = static_cast<const T*>(p.x) + s * p.x_stride_seq + c * p.x_stride_dim;
  T* os = static_cast<T*>(p.out) + s * p.o_stride_seq + c * p.o_stride_dim;
  const int64_t xt = p.x_stride_tok, ot = p.o_stride_tok;
  const T* bias = static_cast<const T*>(p.bias);
  state_pass<S>(static_cast<const T*>(p.weight) + c * p.w_stride_dim, p.w_stride_width, bias ? to_float(bias[c]) : 0.f,
                static_cast<T*>(p.conv_states) + line * p.s_stride_line + c * p.s_stride_dim, p.s_stride_tok, true,
                p.seqlen, p.seqlen, [&](int q) { return xs[q * xt]; }, [&](int q) { return &os[q * ot]; });
}

// Host launches from the launchers' arguments (structs rendered from the launch contracts of
// aiter_swa/ops/causal_conv1d/spec.py: FWD_LAUNCH, UPDATE_LAUNCH). Pointers are integers.
template <class S, class Args>
gpuError_t launch_fwd(const Args& a) {
  FwdParams p{};
  p.out = reinterpret_cast<void*>(a.out);
  p.x = reinterpret_cast<const void*>(a.x);
  p.weight = reinterpret_cast<const void*>(a.weight);
  p.bias = reinterpret_cast<const void*>(a.bias);
  p.conv_states = reinterpret_cast<void*>(a.conv_states);
  p.query_start_loc = reinterpret_cast<const int*>(a.query_start_loc);
  p.cache_indices = reinterpret_cast<const int*>(a.cache_indices);
  p.has_initial_state = reinterpret_cast<const uint8_t*>(a.has_initial_state);
  p.num_seqs = int(a.num_seqs);
  p.dim = int(a.dim);
  p.total_tokens = int(a.total_tokens);
  p.pad_slot_id = int(a.pad_slot_id);
  p.num_cache_lines = int(a.num_cache_lines);
  p.x_stride_dim = int(a.x_stride_dim);
  p.x_stride_tok = int(a.x_stride_tok);
  p.w_stride_dim = int(a.w_stride_dim);
  p.w_stride_width = int(a.w_stride_width);
  p.s_stride_line = int(a.s_stride_line);
  p.s_stride_dim = int(a.s_stride_dim);
  p.s_stride_tok = int(a.s_stride_tok);
  const dim3 grid = fwd_grid<S>(p.total_tokens, p.dim);
  if constexpr (S::WALK) {
    fwd_kernel_walk<S><<<grid, S::NUM_THREADS, 0, reinterpret_cast<gpuStream_t>(a.stream)>>>(p);
  } else {
    fwd_kernel<S><<<grid, S::NUM_THREADS, 0, reinterpret_cast<gpuStream_t>(a.stream)>>>(p);
  }
  return gpuGetLastError();
}

template <class S, class Args>
gpuError_t launch_update(const Args& a) {
  UpdateParams p{};
  p.out = reinterpret_cast<void*>(a.out);
  p.x = reinterpret_cast<const void*>(a.x);
  p.weight = reinterpret_cast<const void*>(a.weight);
  p.bias = reinterpret_cast<const void*>(a.bias);
  p.conv_states = reinterpret_cast<void*>(a.conv_states);
  p.cache_indices = reinterpret_cast<const int*>(a.cache_indices);
  p.batch = int(a.batch);
  p.dim = int(a.dim);
  p.seqlen = int(a.seqlen);
  p.pad_slot_id = int(a.pad_slot_id);
  p.num_cache_lines = a.num_cache_lines;
  p.x_stride_seq = a.x_stride_seq;
  p.x_stride_dim = a.x_stride_dim;
  p.x_stride_tok = a.x_stride_tok;
  p.o_stride_seq = a.o_stride_seq;
  p.o_stride_dim = a.o_stride_dim;
  p.o_stride_tok = a.o_stride_tok;
  p.w_stride_dim = a.w_stride_dim;
  p.w_stride_width = a.w_stride_width;
  p.s_stride_line = a.s_stride_line;
  p.s_stride_dim = a.s_stride_dim;
  p.s_stride_tok = a.s_stride_tok;
  const dim3 grid(unsigned(a.batch), unsigned((a.dim + S::NUM_THREADS - 1) / S::NUM_THREADS));
  update_kernel<S><<<grid, S::NUM_THREADS, 0, reinterpret_cast<gpuStream_t>(a.stream)>>>(p);
  return gpuGetLastError();
}

}  // namespace causal_conv1d
}  // namespace aiter_swa
