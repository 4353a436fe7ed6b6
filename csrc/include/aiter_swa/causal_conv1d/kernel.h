// Varlen causal depthwise conv1d (prefill / extend) and its decode update, as templates over one
// specialization `ConvSpec`. Semantics: aiter_swa/ops/causal_conv1d/op.py (vLLM's causal_conv1d_fn /
// causal_conv1d_update).
//
// Forward (fwd_kernel). The grid comes from host ints only (fwd_grid): x's token count (grid x,
// tiles of TILE_TOKENS tokens of the concatenated sequences) and dim (grid y, groups of CHANNELS
// channels). No per-sequence grid, so nothing about the sequence lengths is needed on the host and a
// CUDA/HIP graph captured for an x of a fixed token count replays for any split of those tokens.
//  loads:   every thread first issues all its 16-byte loads of x (they depend on nothing else), so
//           the load latency overlaps phase 0: channel-first, CF_ITERS channels x VEC tokens per
//           thread (element loads where rows do not start on 16 bytes: a dim stride that is not a
//           multiple of VEC, or an unaligned x or out); channel-last, VEC channels x CL_RUN tokens
//           (the host requires 16-byte aligned x and out, dim and the token stride multiples of VEC). The WIDTH - 1 inputs before a
//           thread's first token (its halo) are the tail of the neighbouring thread's loads, handed
//           over through LDS; only the threads at the tile's first token read the previous tile's
//           tail from x (scalar loads channel-first, 16-byte vectors channel-last).
//  phase 0: each of the tile's tokens finds its sequence by binary search in query_start_loc
//           (its position in the sequence, or -1: a padded sequence or a token past the last
//           sequence); tokens at position 0 list their sequence as a "head" of this tile (LDS).
//  phase 1: outputs of positions >= WIDTH - 1 (their inputs all lie in x), 16-byte stores where
//           a thread's tokens are all such positions.
//  phase 2: for each head sequence s and channel c, one thread reads the old state (when
//           has_initial_state[s]), computes the outputs of positions < WIDTH - 1, then writes the
//           new state (the last WIDTH - 1 inputs of state ++ x). The only reader and the only writer
//           of that state row is this thread: no race, one launch.
// Update (update_kernel): one thread per (sequence, channel): state ++ x[0:seqlen], outputs and
// the new state, as phase 2 for every position.
#pragma once

#include "aiter_swa/compat.h"
#include "aiter_swa/vec.h"

// The forward kernel's bounds: with the thread count alone, ptxas (nvcc 13.0, sm_90) held the
// channel-first SiLU specializations to 64 registers and spilled 12-16 bytes; a minimum of one
// block per multiprocessor lets it take the 69 it needs. (HIP's second argument means something
// else, waves per EU, and gfx9 needs no hint: plain bounds there.)
#if defined(AITER_SWA_CUDA)
#define AITER_SWA_CONV_FWD_BOUNDS(threads) __launch_bounds__(threads, 1)
#else
#define AITER_SWA_CONV_FWD_BOUNDS(threads) __launch_bounds__(threads)
#endif

namespace aiter_swa {
namespace causal_conv1d {

// One compiled specialization. T: element type of x, weight, bias, states and out (fp16_t, bf16_t,
// float); math in fp32. WIDTH: 2..4 taps. SILU: y = v / (1 + exp(-v)). CHANNEL_LAST: x[c, t] is at
// c + t * stride_tok (else c * stride_dim + t). NUM_THREADS, TILE_TOKENS: rendered from spec.py.
template <typename T_, int WIDTH_, bool SILU_, bool CHANNEL_LAST_, int NUM_THREADS_, int TILE_TOKENS_>
struct ConvSpec {
  using T = T_;
  static constexpr int WIDTH = WIDTH_;
  static constexpr bool SILU = SILU_;
  static constexpr bool CHANNEL_LAST = CHANNEL_LAST_;
  static constexpr int NUM_THREADS = NUM_THREADS_;
  static constexpr int TILE_TOKENS = TILE_TOKENS_;
  static constexpr int VEC = 16 / int(sizeof(T));  // elements per 16-byte vector
  static constexpr int STATE = WIDTH - 1;
  // channel-first: a thread holds CF_ITERS channels x VEC tokens (lane: which VEC tokens, row: which
  // channels); channel-last: VEC channels x CL_RUN tokens (CL_VECS channel vectors per block).
  static constexpr int CF_LANES_PER_ROW = TILE_TOKENS / VEC;
  static constexpr int CF_ROWS = NUM_THREADS / CF_LANES_PER_ROW;
  static constexpr int CF_ITERS = 4;
  static constexpr int CL_VECS = 32;
  static constexpr int CL_RUNS = NUM_THREADS / CL_VECS;
  static constexpr int CL_RUN = TILE_TOKENS / CL_RUNS;
  static constexpr int CHANNELS = CHANNEL_LAST ? CL_VECS * VEC : CF_ROWS * CF_ITERS;  // per block (grid y)
  // 16-byte vectors each thread leaves in LDS for its neighbour's halo
  static constexpr int HALO_SLOTS = CHANNEL_LAST ? STATE : CF_ITERS;
  // channel-first 16-bit: the halo (STATE <= 4 elements) lies in the upper 8 bytes of the
  // neighbour's vector, and only those go through LDS (half the LDS: more workgroups per CU)
  static constexpr bool CF_HALF_HALO = !CHANNEL_LAST && VEC == 8;
  using halo_t = typename std::conditional<CF_HALF_HALO, uint2, uint4>::type;
  static_assert(WIDTH >= 2 && WIDTH <= 4, "width: 2, 3 or 4");
  static_assert(VEC == 4 || VEC == 8, "16-bit or 32-bit elements");
  static_assert(STATE < VEC, "channel-first: the halo lies in the neighbour's one vector");
  static_assert(!CF_HALF_HALO || STATE <= VEC / 2, "channel-first 16-bit: the halo lies in the upper half");
  static_assert(NUM_THREADS % kWarpSize == 0, "whole wavefronts per workgroup");
  static_assert(TILE_TOKENS % VEC == 0 && NUM_THREADS % CF_LANES_PER_ROW == 0, "tile / thread split");
  static_assert(NUM_THREADS % CL_VECS == 0 && TILE_TOKENS % CL_RUNS == 0 && CL_RUN >= STATE, "tile / thread split");
  static_assert(TILE_TOKENS <= NUM_THREADS, "phase 0: one thread per token of the tile");
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

// The forward's grid: x tiles of TILE_TOKENS tokens by groups of CHANNELS channels.
template <class S>
inline dim3 fwd_grid(int total_tokens, int dim) {
  return dim3(unsigned((total_tokens + S::TILE_TOKENS - 1) / S::TILE_TOKENS),
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
__device__ __forceinline__ void store_vec(T* p, const float (&f)[16 / sizeof(T)]) {
  constexpr int N = 16 / sizeof(T);
  T e[N];
#pragma unroll
  for (int i = 0; i < N; ++i) from_float(f[i], &e[i]);
  store16(p, pack<T>(e));
}

template <bool SILU>
__device__ __forceinline__ float activate(float v) {
  if constexpr (SILU) return v / (1.f + fast_exp(-v));
  return v;
}

// The cache line of sequence s, or -1 when it is skipped (pad_slot_id, or outside the cache).
__device__ __forceinline__ int64_t line_of(const int* cache_indices, int s, int pad, int64_t num_lines) {
  const int64_t line = cache_indices ? cache_indices[s] : s;
  return (cache_indices && line == pad) || line < 0 || line >= num_lines ? -1 : line;
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
  for (int k = 0; k < W; ++k) wt[k] = to_float(w_row[k * w_stride_width]);
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
    float acc = bias;
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

// Taps and bias of VEC consecutive channels c.. (channel-last): wt[v][k] = weight[c + v, k]. One
// 16-byte load per tap row when weight is a contiguous [dim, WIDTH] tensor on a 16-byte boundary
// (then channel c's row starts at c * WIDTH elements, a multiple of VEC * WIDTH: aligned), else
// scalar loads; bias is contiguous (checked on the host).
template <class S>
__device__ __forceinline__ void load_taps_cl(const FwdParams& p, int c, float (&wt)[S::VEC][S::WIDTH],
                                             float (&b)[S::VEC]) {
  using T = typename S::T;
  constexpr int W = S::WIDTH, VEC = S::VEC;
  const T* weight = static_cast<const T*>(p.weight);
  const T* bias = static_cast<const T*>(p.bias);
  if (p.w_stride_width == 1 && p.w_stride_dim == W && (reinterpret_cast<uintptr_t>(weight) % 16) == 0) {
    const T* wv = weight + int64_t(c) * W;
#pragma unroll
    for (int i = 0; i < W; ++i) {  // vector i holds elements [i * VEC, (i + 1) * VEC) of the VEC x W block
      float f[VEC];
      unpack<T>(load16(wv + i * VEC), f);
#pragma unroll
      for (int e = 0; e < VEC; ++e) wt[(i * VEC + e) / W][(i * VEC + e) % W] = f[e];
    }
  } else {
#pragma unroll
    for (int v = 0; v < VEC; ++v) {
#pragma unroll
      for (int k = 0; k < W; ++k) wt[v][k] = to_float(weight[int64_t(c + v) * p.w_stride_dim + k * p.w_stride_width]);
    }
  }
  if (bias && (reinterpret_cast<uintptr_t>(bias) % 16) == 0) {
    unpack<T>(load16(bias + c), b);
  } else {
#pragma unroll
    for (int v = 0; v < VEC; ++v) b[v] = bias ? to_float(bias[c + v]) : 0.f;
  }
}

template <class S>
__global__ AITER_SWA_CONV_FWD_BOUNDS(S::NUM_THREADS) void fwd_kernel(const FwdParams p) {
  using T = typename S::T;
  constexpr int W = S::WIDTH, ST = S::STATE, VEC = S::VEC, TILE = S::TILE_TOKENS;
  __shared__ int s_pos[TILE];    // position of each tile token in its sequence; -1: not computed
  __shared__ int s_heads[TILE];  // sequences whose position 0 is in this tile
  __shared__ int s_num_heads;
  __shared__ typename S::halo_t s_halo[S::HALO_SLOTS][S::NUM_THREADS];  // each thread's tail, for its neighbour

  const int tid = threadIdx.x;
  const int tile_start = blockIdx.x * TILE;
  const int c0 = blockIdx.y * S::CHANNELS;
  const T* x = static_cast<const T*>(p.x);
  T* out = static_cast<T*>(p.out);
  const T* weight = static_cast<const T*>(p.weight);
  const T* bias = static_cast<const T*>(p.bias);
  const uint4 zero4 = make_uint4(0u, 0u, 0u, 0u);

  // loads: this thread's inputs (and, at the tile's first token, the previous tile's tail)
  // channel-first: row `row` of channels, tokens [t0, t0 + VEC); cf_halo: the ST tokens before t0
  // (lane 0 only). channel-last: VEC channels from c, tokens [t0 - ST, t0 + CL_RUN); the ST halo
  // vectors are read from x by run 0 only.
  constexpr int NV = S::CHANNEL_LAST ? ST + S::CL_RUN : S::CF_ITERS;
  uint4 xv[NV];
  float cf_halo[S::CHANNEL_LAST ? 1 : S::CF_ITERS][ST];
  int lane = 0, row = 0, cv = 0, run = 0, i0, t0;
  // channel-first rows start on 16 bytes when x, out and the dim stride do (else element loads/stores)
  const bool cf_rows_aligned = !S::CHANNEL_LAST && p.x_stride_dim % VEC == 0 &&
                               ((reinterpret_cast<uintptr_t>(x) | reinterpret_cast<uintptr_t>(out)) % 16) == 0;
  if constexpr (!S::CHANNEL_LAST) {
    lane = tid % S::CF_LANES_PER_ROW;
    row = tid / S::CF_LANES_PER_ROW;
    i0 = lane * VEC;
    t0 = tile_start + i0;
    const bool full = t0 + VEC <= p.total_tokens;
#pragma unroll
    for (int j = 0; j < S::CF_ITERS; ++j) {
      const int c = c0 + row + j * S::CF_ROWS;
      const T* xr = x + int64_t(c) * p.x_stride_dim;
      xv[j] = zero4;
      if (c < p.dim && full && cf_rows_aligned) {
        xv[j] = load16(xr + t0);
      } else if (c < p.dim && t0 < p.total_tokens) {  // rows off 16 bytes, or the last, partial vector of x
        T e[VEC];
#pragma unroll
        for (int k = 0; k < VEC; ++k) {
          if (t0 + k < p.total_tokens) e[k] = xr[t0 + k];
          else from_float(0.f, &e[k]);
        }
        xv[j] = pack<T>(e);
      }
#pragma unroll
      for (int k = 0; k < ST; ++k) {
        cf_halo[j][k] = 0.f;
        if (lane == 0 && c < p.dim && t0 - ST + k >= 0 && t0 < p.total_tokens) cf_halo[j][k] = to_float(xr[t0 - ST + k]);
      }
    }
  } else {
    cv = tid % S::CL_VECS;
    run = tid / S::CL_VECS;
    i0 = run * S::CL_RUN;
    t0 = tile_start + i0;
    const int c = c0 + cv * VEC;  // dim is a multiple of VEC (checked on the host)
#pragma unroll
    for (int k = 0; k < NV; ++k) {
      const int t = t0 - ST + k;
      xv[k] = zero4;
      if (c < p.dim && t >= 0 && t < p.total_tokens && (k >= ST || run == 0))
        xv[k] = load16(x + int64_t(t) * p.x_stride_tok + c);
    }
  }

  // phase 0: token -> (sequence, position)
  if (tid == 0) s_num_heads = 0;
  __syncthreads();
  if (tid < TILE) {
    const int t = tile_start + tid;
    int pos = -1;
    if (t < p.total_tokens) {
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
          if (pos == 0) s_heads[atomicAdd(&s_num_heads, 1)] = s;
        }
      }
    }
    s_pos[tid] = pos;
  }
  // the halo hand-over: this thread's tail, for the next lane (channel-first) / run (channel-last)
  if constexpr (!S::CHANNEL_LAST) {
#pragma unroll
    for (int j = 0; j < S::CF_ITERS; ++j) {
      if constexpr (S::CF_HALF_HALO) {
        s_halo[j][tid] = make_uint2(xv[j].z, xv[j].w);
      } else {
        s_halo[j][tid] = xv[j];
      }
    }
  } else {
#pragma unroll
    for (int k = 0; k < ST; ++k) s_halo[k][tid] = xv[S::CL_RUN + k];
  }
  __syncthreads();

  // phase 1: positions >= WIDTH - 1, inputs from x alone
  if constexpr (!S::CHANNEL_LAST) {
    int n_valid = 0;
#pragma unroll
    for (int k = 0; k < VEC; ++k) n_valid += s_pos[i0 + k] >= ST;
    if (n_valid > 0) {
#pragma unroll
      for (int j = 0; j < S::CF_ITERS; ++j) {
        const int c = c0 + row + j * S::CF_ROWS;
        if (c >= p.dim) continue;
        float win[ST + VEC];  // inputs t0 - ST .. t0 + VEC - 1 (only those inside a sequence are used)
        if (lane == 0) {
#pragma unroll
          for (int k = 0; k < ST; ++k) win[k] = cf_halo[j][k];
        } else {
          float prev[VEC];
          if constexpr (S::CF_HALF_HALO) {
            const uint2 tail = s_halo[j][tid - 1];
            unpack<T>(make_uint4(0u, 0u, tail.x, tail.y), prev);  // elements VEC / 2 .. VEC - 1 only
          } else {
            unpack<T>(s_halo[j][tid - 1], prev);
          }
#pragma unroll
          for (int k = 0; k < ST; ++k) win[k] = prev[VEC - ST + k];
        }
        float cur[VEC];
        unpack<T>(xv[j], cur);
#pragma unroll
        for (int k = 0; k < VEC; ++k) win[ST + k] = cur[k];
        float wt[W];
#pragma unroll
        for (int k = 0; k < W; ++k) wt[k] = to_float(weight[int64_t(c) * p.w_stride_dim + k * p.w_stride_width]);
        const float b = bias ? to_float(bias[c]) : 0.f;
        float y[VEC];
#pragma unroll
        for (int k = 0; k < VEC; ++k) {
          float acc = b;
#pragma unroll
          for (int i = 0; i < W; ++i) acc += wt[i] * win[k + i];  // inputs t0 + k - ST .. t0 + k
          y[k] = activate<S::SILU>(acc);
        }
        T* orow = out + int64_t(c) * p.x_stride_dim;
        if (n_valid == VEC && cf_rows_aligned) {  // all VEC tokens exist (s_pos of a token past x is -1)
          store_vec<T>(orow + t0, y);
        } else {
#pragma unroll
          for (int k = 0; k < VEC; ++k)
            if (s_pos[i0 + k] >= ST) from_float(y[k], &orow[t0 + k]);
        }
      }
    }
  } else {
    const int c = c0 + cv * VEC;
    int n_valid = 0;
#pragma unroll
    for (int k = 0; k < S::CL_RUN; ++k) n_valid += s_pos[i0 + k] >= ST;
    if (c < p.dim && n_valid > 0) {
      if (run > 0) {
#pragma unroll
        for (int k = 0; k < ST; ++k) xv[k] = s_halo[k][tid - S::CL_VECS];
      }
      float wt[VEC][W], b[VEC];
      load_taps_cl<S>(p, c, wt, b);
      // token t0 + k reads xv[k .. k + ST] (inputs t0 + k - ST .. t0 + k), widened where used: no
      // second, fp32 copy of the window in registers
#pragma unroll
      for (int k = 0; k < S::CL_RUN; ++k) {
        if (s_pos[i0 + k] >= ST) {
          float y[VEC];
#pragma unroll
          for (int v = 0; v < VEC; ++v) {
            float acc = b[v];
#pragma unroll
            for (int j = 0; j < W; ++j) acc += wt[v][j] * element<T>(xv[k + j], v);
            y[v] = activate<S::SILU>(acc);
          }
          store_vec<T>(out + int64_t(t0 + k) * p.x_stride_tok + c, y);
        }
      }
    }
  }

  // phase 2: positions < WIDTH - 1 and the state of each sequence that starts in this tile
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
  fwd_kernel<S><<<grid, S::NUM_THREADS, 0, reinterpret_cast<gpuStream_t>(a.stream)>>>(p);
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
