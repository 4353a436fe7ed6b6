// Runs the device code of csrc/include/aiter_swa/causal_conv1d/kernel.h on the CPU (op_tests only).
// The test feeds this file the header with its host launch functions cut off (they use the <<<>>>
// launch syntax) as "kernel_device.h", compiles it with the host compiler against the emulation in
// op_tests/testlib/emulator/hip/hip_runtime.h (shared with the pa_v1 kernels' emulator), and calls
// emu_fwd / emu_update through ctypes with CPU tensors' pointers.
#include <atomic>
#include <cstdint>

#ifndef AITER_SWA_WAVEFRONT_SIZE  // the tests build it for 64 (gfx9) and 32 (NVIDIA's warps)
#define AITER_SWA_WAVEFRONT_SIZE 64
#endif
// A GPU faults on a 16-byte access that is not 16-byte aligned; the CPU does not: count them.
namespace emu {
inline std::atomic<long> misaligned{0};
// Heads listed by a thread whose listing the head counter's reset does not order (kernel.h's
// AITER_SWA_CHECK_HEAD_LISTER).
inline std::atomic<long> unordered_heads{0};
// The last forward launch's spec (WALK) and grid: the tests check which kernel ran.
inline int last_walk = -1;
inline unsigned last_grid[2] = {0, 0};
}
#define AITER_SWA_CHECK_VEC_ALIGNMENT(p) \
  (reinterpret_cast<uintptr_t>(p) % 16 ? (void)emu::misaligned.fetch_add(1) : (void)0)
#define AITER_SWA_CHECK_HEAD_LISTER(ordered) ((ordered) ? (void)0 : (void)emu::unordered_heads.fetch_add(1))
#define AITER_SWA_CHECK_ALIGNMENT8(p) \
  (reinterpret_cast<uintptr_t>(p) % 8 ? (void)emu::misaligned.fetch_add(1) : (void)0)
#include "kernel_device.h"

using namespace aiter_swa;
using namespace aiter_swa::causal_conv1d;

template <class S, class P>
static void run_grid(void (*kernel)(P), const P& p, dim3 grid) {
  for (unsigned by = 0; by < grid.y; ++by)
    for (unsigned bx = 0; bx < grid.x; ++bx) emu::run_block(dim3(bx, by), S::NUM_THREADS, [&] { kernel(p); });
}

template <class S>
static void fwd(const FwdParams& p) {
  const dim3 grid = fwd_grid<S>(p.total_tokens, p.dim);
  emu::last_walk = S::WALK ? 1 : 0;
  emu::last_grid[0] = grid.x;
  emu::last_grid[1] = grid.y;
  if (p.total_tokens > 0 && p.dim > 0 && p.num_seqs > 0) {
    if constexpr (S::WALK) run_grid<S>(fwd_kernel_walk<S>, p, grid);
    else run_grid<S>(fwd_kernel<S>, p, grid);
  }
}

template <class S>
static void update(const UpdateParams& p) {
  const dim3 grid(p.batch, (p.dim + S::NUM_THREADS - 1) / S::NUM_THREADS);
  if (p.batch > 0 && p.dim > 0 && p.seqlen > 0) run_grid<S>(update_kernel<S>, p, grid);
}

#define SPEC(T, W, SILU, CL) ConvSpec<T, W, SILU, CL, 256>
// spec.py's walk=1 (the other tuning axes at their defaults)
#define WALK_SPEC(T, W, SILU, CL) ConvSpec<T, W, SILU, CL, 256, 4, 4, true, true>

template <class T, int W, bool SILU, bool CL, bool WALK>
static void dispatch_fwd(const FwdParams& p) {
  if constexpr (WALK) fwd<WALK_SPEC(T, W, SILU, CL)>(p);
  else fwd<SPEC(T, W, SILU, CL)>(p);
}

template <class T, bool WALK = false>
static void by_flags_fwd(int width, int silu, int cl, const FwdParams& p) {
#define CASE(W)                                                        \
  if (width == W) {                                                    \
    if (silu && cl) dispatch_fwd<T, W, true, true, WALK>(p);           \
    if (silu && !cl) dispatch_fwd<T, W, true, false, WALK>(p);         \
    if (!silu && cl) dispatch_fwd<T, W, false, true, WALK>(p);         \
    if (!silu && !cl) dispatch_fwd<T, W, false, false, WALK>(p);       \
  }
  CASE(2) CASE(3) CASE(4)
#undef CASE
}

template <class T>
static void by_flags_update(int width, int silu, const UpdateParams& p) {
  if (width == 2) silu ? update<SPEC(T, 2, true, false)>(p) : update<SPEC(T, 2, false, false)>(p);
  if (width == 3) silu ? update<SPEC(T, 3, true, false)>(p) : update<SPEC(T, 3, false, false)>(p);
  if (width == 4) silu ? update<SPEC(T, 4, true, false)>(p) : update<SPEC(T, 4, false, false)>(p);
}

// The channel-first tuning variants 2-4 of emu_fwd (any dtype: the grouped phase 0 has a partial last
// group with 32-bit elements).
template <class T>
static void tuned_cf(int tuned, const FwdParams& p) {
  if (tuned == 2) fwd<ConvSpec<T, 4, true, false, 256, 4, 2>>(p);
  if (tuned == 3) fwd<ConvSpec<T, 4, true, false, 256, 4, 4, false>>(p);
  if (tuned == 4) fwd<ConvSpec<T, 4, true, false, 256, 4, 2, false>>(p);
}

// tuned: 0, or a tuning variant of width 4, SiLU (the only ones built here): 1 = spec.py's cl_run 8
// (channel-last) / cf_rows 8 (channel-first), bf16; channel-first only, fp16 / bf16 / fp32 (bf16 alone under
// AITER_SWA_EMU_BENCH_SPECS_ONLY): 2 = cf_rows 2, 3 = cf_fast 0, 4 = cf_fast 0 with cf_rows 2;
// 5 = walk 1, either layout, every dtype, width and activation (bf16 w4 SiLU alone under
// AITER_SWA_EMU_BENCH_SPECS_ONLY)
extern "C" void emu_fwd(int dtype, int width, int silu, int cl, void* out, const void* x, const void* weight,
                        const void* bias, void* conv_states, const int* qsl, const int* cache_indices,
                        const uint8_t* has_init, int num_seqs, int dim, int total_tokens, int pad_slot_id,
                        int num_cache_lines, int x_stride_dim, int x_stride_tok, int w_stride_dim,
                        int w_stride_width, int s_stride_line, int s_stride_dim, int s_stride_tok, int tuned) {
  FwdParams p{out, x, weight, bias, conv_states, qsl, cache_indices, has_init, num_seqs, dim, total_tokens,
              pad_slot_id, num_cache_lines, x_stride_dim, x_stride_tok, w_stride_dim, w_stride_width,
              s_stride_line, s_stride_dim, s_stride_tok};
  if (tuned == 5) {
#ifdef AITER_SWA_EMU_BENCH_SPECS_ONLY
    if (dtype == 1 && width == 4 && silu) cl ? fwd<WALK_SPEC(bf16_t, 4, true, true)>(p) : fwd<WALK_SPEC(bf16_t, 4, true, false)>(p);
#else
    if (dtype == 0) by_flags_fwd<fp16_t, true>(width, silu, cl, p);
    if (dtype == 1) by_flags_fwd<bf16_t, true>(width, silu, cl, p);
    if (dtype == 2) by_flags_fwd<float, true>(width, silu, cl, p);
#endif
    return;
  }
  if (tuned) {
    if (dtype == 1 && width == 4 && silu && cl && tuned == 1) fwd<ConvSpec<bf16_t, 4, true, true, 256, 8, 4>>(p);
    if (dtype == 1 && width == 4 && silu && !cl && tuned == 1) fwd<ConvSpec<bf16_t, 4, true, false, 256, 4, 8>>(p);
    if (width == 4 && silu && !cl && tuned >= 2) {
      if (dtype == 1) tuned_cf<bf16_t>(tuned, p);
#ifndef AITER_SWA_EMU_BENCH_SPECS_ONLY
      if (dtype == 0) tuned_cf<fp16_t>(tuned, p);
      if (dtype == 2) tuned_cf<float>(tuned, p);
#endif
    }
    return;
  }
#ifdef AITER_SWA_EMU_BENCH_SPECS_ONLY  // emulate_asan.py: the benchmark's bf16 w4 SiLU alone (a 5x shorter build)
  if (dtype == 1 && width == 4 && silu) cl ? fwd<SPEC(bf16_t, 4, true, true)>(p) : fwd<SPEC(bf16_t, 4, true, false)>(p);
#else
  if (dtype == 0) by_flags_fwd<fp16_t>(width, silu, cl, p);
  if (dtype == 1) by_flags_fwd<bf16_t>(width, silu, cl, p);
  if (dtype == 2) by_flags_fwd<float>(width, silu, cl, p);
#endif
}

extern "C" void emu_update(int dtype, int width, int silu, void* out, const void* x, const void* weight,
                           const void* bias, void* conv_states, const int* cache_indices, int batch, int dim,
                           int seqlen, int pad_slot_id, int64_t num_cache_lines, int64_t xs0, int64_t xs1,
                           int64_t xs2, int64_t os0, int64_t os1, int64_t os2, int64_t ws0, int64_t ws1,
                           int64_t ss0, int64_t ss1, int64_t ss2) {
  UpdateParams p{out, x, weight, bias, conv_states, cache_indices, batch, dim, seqlen, pad_slot_id,
                 num_cache_lines, xs0, xs1, xs2, os0, os1, os2, ws0, ws1, ss0, ss1, ss2};
#ifndef AITER_SWA_EMU_BENCH_SPECS_ONLY
  if (dtype == 0) by_flags_update<fp16_t>(width, silu, p);
  if (dtype == 1) by_flags_update<bf16_t>(width, silu, p);
  if (dtype == 2) by_flags_update<float>(width, silu, p);
#endif
}

// The last forward launch: 1 when it ran fwd_kernel_walk (a WALK spec), 0 fwd_kernel, -1 none yet;
// grid[0..1] its grid.
extern "C" int emu_last_fwd(unsigned* grid) {
  grid[0] = emu::last_grid[0];
  grid[1] = emu::last_grid[1];
  return emu::last_walk;
}

// 16-byte accesses off a 16-byte boundary since the last call (then reset).
extern "C" long emu_misaligned_and_reset() { return emu::misaligned.exchange(0); }
extern "C" long emu_unordered_heads_and_reset() { return emu::unordered_heads.exchange(0); }
