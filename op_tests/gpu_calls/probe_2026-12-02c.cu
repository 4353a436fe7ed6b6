// Probe for issue 8's batch-1 target (2026-12-02 session, call 3; a measurement, not part of the library). The
// reduce kernel adds about 1.1 us to batch 1's call (docs/results.md, 2026-12-02 01:27 UTC session). In that
// session's first probe (probe_2026-12-02.cu) a merge spread over 256 workgroups (4 partitions per thread, lanes
// combined by shuffles) ran about 1.1 us faster than one of 32 workgroups (a thread per output, all 32
// partitions). Here the same question for the reduce kernel itself, pa_v1's own merge included: a partition-like
// kernel (8 KV heads x 32 partitions, GQA 4, head 128, bf16 partials, no K/V work), then as programmatic dependent
// launches (each waits, then triggers, as pa_v1's reduce does), in a graph of 20 calls over 8 rotating buffer sets:
//   (r)  pa_v1's reduce: 32 workgroups (sequence, head) of 128 threads, lse_merge_block of csrc/include/aiter_swa/lse.h;
//   (s8) a spread reduce: 256 workgroups, 8 per head of 16 columns, 8 lanes per output taking 4 partitions each;
//   (s4) 128 workgroups, 4 per head of 32 columns, 4 lanes per output taking 8 partitions each.
// Each form's output is compared with (r)'s. It includes lse.h as it was then (lse_merge_block, replaced by
// lse_merge on 2026-12-03): build it in a checkout of 8749294. Build (from the repository root) and run:
//   nvcc -O3 -arch=sm_90 -DAITER_SWA_WAVEFRONT_SIZE=32 -DAITER_SWA_PROGRAMMATIC_LAUNCH=1 -Icsrc/include \
//        -o probe op_tests/gpu_calls/probe_2026-12-02c.cu && ./probe
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "aiter_swa/lse.h"

using aiter_swa::bf16_t;

#define CHECK(x)                                                                                  \
  do {                                                                                            \
    cudaError_t e_ = (x);                                                                         \
    if (e_ != cudaSuccess) {                                                                      \
      std::printf("CUDA error %s at %s:%d: %s\n", cudaGetErrorString(e_), __FILE__, __LINE__, #x); \
      std::exit(1);                                                                               \
    }                                                                                             \
  } while (0)

constexpr int kHeads = 8, kParts = 32, kGqa = 4, kHs = 128;

// Partials of (KV head blockIdx.y, partition blockIdx.x): kGqa rows x kHs bf16, and per row (m, l); pa_v1's layout
// [head][partition][column] and [head][partition].
__global__ void part_kernel(bf16_t* part, float* m, float* l) {
  aiter_swa::grid_dependency_wait();
  aiter_swa::allow_dependent_launch();
  const int h = blockIdx.y, pi = blockIdx.x;
  for (int r = 0; r < kGqa; ++r) {
    const int head = h * kGqa + r;
    aiter_swa::from_float(float((pi * 7 + threadIdx.x) % 13) * 0.25f, &part[(size_t(head) * kParts + pi) * kHs + threadIdx.x]);
    if (threadIdx.x == 0) {
      m[head * kParts + pi] = float(pi % 5);
      l[head * kParts + pi] = 1.f + pi % 3;
    }
  }
}

// (r) pa_v1's reduce (mma_reduce_kernel's body for one token and no sink)
__global__ void reduce_r(const bf16_t* part, const float* m, const float* l, bf16_t* out) {
  __shared__ float s_ml[kHs], s_w[kHs];
  const int head = blockIdx.x, e = threadIdx.x;
  aiter_swa::grid_dependency_wait();
  aiter_swa::allow_dependent_launch();
  const float v = aiter_swa::lse_merge_block<kHs>(m + head * kParts, l + head * kParts, part + size_t(head) * kParts * kHs,
                                                  kHs, e, kParts, -INFINITY, s_ml, s_w);
  aiter_swa::from_float(v, &out[head * kHs + e]);
}

// (s<W>) W workgroups per head, kHs / W columns each; TPI = 128 / (kHs / W) lanes per output, kParts / TPI partitions
// per lane (all loads in flight), then shuffles.
template <int W>
__global__ void reduce_s(const bf16_t* part, const float* m, const float* l, bf16_t* out) {
  constexpr int COLS = kHs / W, TPI = 128 / COLS, PPL = kParts / TPI;
  static_assert(TPI <= 32 && PPL * TPI == kParts, "lanes per output within a warp");
  const int head = blockIdx.x / W, col = (blockIdx.x % W) * COLS + threadIdx.x / TPI, sub = threadIdx.x % TPI;
  aiter_swa::grid_dependency_wait();
  aiter_swa::allow_dependent_launch();
  float mi[PPL], si[PPL], vi[PPL];
#pragma unroll
  for (int k = 0; k < PPL; ++k) {
    const int i = k * TPI + sub;
    mi[k] = __ldcg(m + head * kParts + i);
    si[k] = __ldcg(l + head * kParts + i);
    bf16_t b;
    b.bits = __ldcg(reinterpret_cast<const unsigned short*>(part + (size_t(head) * kParts + i) * kHs + col));
    vi[k] = aiter_swa::to_float(b);
  }
  float mx = mi[0];
#pragma unroll
  for (int k = 1; k < PPL; ++k) mx = fmaxf(mx, mi[k]);
#pragma unroll
  for (int o = 1; o < TPI; o *= 2) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
  float tot = 0.f, acc = 0.f;
#pragma unroll
  for (int k = 0; k < PPL; ++k) {
    const float w = si[k] == 0.f ? 0.f : si[k] * aiter_swa::fast_exp(mi[k] - mx);
    tot += w;
    acc = fmaf(w, vi[k], acc);
  }
#pragma unroll
  for (int o = 1; o < TPI; o *= 2) {
    tot += __shfl_xor_sync(0xffffffffu, tot, o);
    acc += __shfl_xor_sync(0xffffffffu, acc, o);
  }
  if (sub == 0) aiter_swa::from_float(tot != 0.f ? acc / tot : 0.f, &out[head * kHs + col]);
}

template <class... P, class... A>
static cudaError_t launch(void (*k)(P...), dim3 grid, cudaStream_t st, A... args) {
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = grid;
  cfg.blockDim = dim3(128);
  cfg.stream = st;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  return cudaLaunchKernelEx(&cfg, k, args...);
}

template <class F>
static float graph_us(cudaStream_t st, int calls, int reps, F one) {
  cudaGraph_t g;
  cudaGraphExec_t ge;
  CHECK(cudaStreamBeginCapture(st, cudaStreamCaptureModeGlobal));
  for (int i = 0; i < calls; ++i) CHECK(one(i));
  CHECK(cudaStreamEndCapture(st, &g));
  CHECK(cudaGraphInstantiate(&ge, g, 0));
  cudaEvent_t a, b;
  CHECK(cudaEventCreate(&a));
  CHECK(cudaEventCreate(&b));
  for (int w = 0; w < 3; ++w) CHECK(cudaGraphLaunch(ge, st));
  std::vector<float> t;
  for (int r = 0; r < reps; ++r) {
    CHECK(cudaEventRecord(a, st));
    CHECK(cudaGraphLaunch(ge, st));
    CHECK(cudaEventRecord(b, st));
    CHECK(cudaEventSynchronize(b));
    float ms;
    CHECK(cudaEventElapsedTime(&ms, a, b));
    t.push_back(ms * 1e3f / calls);
  }
  std::sort(t.begin(), t.end());
  CHECK(cudaGraphExecDestroy(ge));
  CHECK(cudaGraphDestroy(g));
  return t[t.size() / 2];
}

int main() {
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("# %s, %d SMs\n", prop.name, prop.multiProcessorCount);
  cudaStream_t st;
  CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
  const int nset = 8, nh = kHeads * kGqa;
  std::vector<bf16_t*> part(nset), out(nset);
  std::vector<float*> m(nset), l(nset);
  for (int s = 0; s < nset; ++s) {
    CHECK(cudaMalloc(&part[s], size_t(nh) * kParts * kHs * 2));
    CHECK(cudaMalloc(&m[s], nh * kParts * 4));
    CHECK(cudaMalloc(&l[s], nh * kParts * 4));
    CHECK(cudaMalloc(&out[s], nh * kHs * 2));
  }
  const dim3 pgrid(kParts, kHeads);
  auto form = [&](int which, int i) {
    const int s = i % nset;
    cudaError_t e = launch(part_kernel, pgrid, st, part[s], m[s], l[s]);
    if (e != cudaSuccess) return e;
    const bf16_t* p = part[s];
    const float *mm = m[s], *ll = l[s];
    if (which == 0) return launch(reduce_r, dim3(nh), st, p, mm, ll, out[s]);
    if (which == 1) return launch(reduce_s<8>, dim3(nh * 8), st, p, mm, ll, out[s]);
    return launch(reduce_s<4>, dim3(nh * 4), st, p, mm, ll, out[s]);
  };
  // each form's output against (r)'s
  std::vector<uint16_t> ref(nh * kHs), got(nh * kHs);
  for (int which = 0; which < 3; ++which) {
    CHECK(cudaMemsetAsync(out[0], 0xff, nh * kHs * 2, st));
    CHECK(form(which, 0));
    CHECK(cudaMemcpyAsync(which == 0 ? ref.data() : got.data(), out[0], nh * kHs * 2, cudaMemcpyDeviceToHost, st));
    CHECK(cudaStreamSynchronize(st));
    if (which > 0) {
      float d = 0.f;
      for (int i = 0; i < nh * kHs; ++i) {
        const uint32_t ua = uint32_t(ref[i]) << 16, ub = uint32_t(got[i]) << 16;
        float fa, fb;
        std::memcpy(&fa, &ua, 4);
        std::memcpy(&fb, &ub, 4);
        d = std::max(d, std::abs(fa - fb));
      }
      std::printf("(%s) against (r): max |diff| %g\n", which == 1 ? "s8" : "s4", d);
    }
  }
  for (int round = 0; round < 3; ++round) {
    float t[3];
    for (int which = 0; which < 3; ++which) t[which] = graph_us(st, 20, 20, [&](int i) { return form(which, i); });
    std::printf("round %d, us per call: (r) pa_v1's reduce %.2f | (s8) 256 workgroups %.2f | (s4) 128 workgroups %.2f\n",
                round + 1, t[0], t[1], t[2]);
  }
  std::printf("# done\n");
  return 0;
}
