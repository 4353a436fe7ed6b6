// Probe for issue 8's batch-1 target (2026-12-02 session; a measurement, not part of the library). Batch 1 spends
// about 2 us of its 10.4 on the reduce kernel and its two kernel boundaries. The 2026-12-01 probe
// (probe_2026-12-01s.cu) found a merge by "the last workgroup of a KV head" through a counter slower than the reduce
// kernel (4.5 against 3.0 us per call), but its fused kernel never triggered its dependent
// (griddepcontrol.launch_dependents), so each call also paid a launch the reduce form hides. And a counter needs a
// known initial state that the caller's workspace does not have. A cooperative launch (CUDA Programming Guide,
// "Cooperative Groups: Grid Synchronization") gives a grid barrier whose state the runtime keeps, so the merge could
// follow a grid.sync() in the partition kernel itself, spread over workgroups. Per call, in a graph of 20 calls over
// 8 rotating buffer sets, with no K/V work (8 KV heads x 32 partitions of 128 threads, GQA 4, head 128):
//   (a)  partition-like kernel then a reduce kernel of 32 heads, both programmatic dependent launches (pa_v1's launch
//        form; its merge is not pa_v1's lse_merge_block: probe_2026-12-02c.cu times that one);
//   (c)  last workgroup of each KV head merges after an atomicAdd counter zeroed ahead (a reference only), and now
//        triggering its dependent at its start as (a) does;
//   (d)  one cooperative kernel: partials, grid.sync(), then workgroup i < 32 merges head i; with and without the
//        programmatic-dependent attribute (if the runtime accepts the pair);
//   (d8) as (d), the merge spread over all 256 workgroups (8 per head, 16 columns each).
// Each form's result is compared with (a)'s. Build and run: nvcc -O3 -arch=sm_90 -o probe probe_2026-12-02.cu && ./probe
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace cg = cooperative_groups;

#define CHECK(x)                                                                                  \
  do {                                                                                            \
    cudaError_t e_ = (x);                                                                         \
    if (e_ != cudaSuccess) {                                                                      \
      std::printf("CUDA error %s at %s:%d: %s\n", cudaGetErrorString(e_), __FILE__, __LINE__, #x); \
      std::exit(1);                                                                               \
    }                                                                                             \
  } while (0)

constexpr int kHeads = 8, kParts = 32, kGqa = 4, kHs = 128;

__device__ __forceinline__ void pdl_wait() { asm volatile("griddepcontrol.wait;" ::: "memory"); }
__device__ __forceinline__ void pdl_launch() { asm volatile("griddepcontrol.launch_dependents;" ::: "memory"); }

// Partials of (KV head blockIdx.y, partition blockIdx.x): kGqa rows x kHs floats, and per row (m, l).
__device__ __forceinline__ void write_partials(float* part, float* ml) {
  const int h = blockIdx.y, pi = blockIdx.x;
  for (int r = 0; r < kGqa; ++r) {
    const int head = h * kGqa + r;
    part[(size_t(head) * kParts + pi) * kHs + threadIdx.x] = float((pi * 7 + threadIdx.x) % 13);
    if (threadIdx.x == 0) {
      ml[(head * kParts + pi) * 2] = float(pi % 5);
      ml[(head * kParts + pi) * 2 + 1] = 1.f + pi % 3;
    }
  }
}

// Merge of head `head`'s kParts partials, column `col` (pa_v1's reduce rule: all loads in flight, then the weights).
__device__ __forceinline__ float merge_column(const float* part, const float* ml, int head, int col) {
  float v[kParts], m = -INFINITY;
#pragma unroll
  for (int i = 0; i < kParts; ++i) v[i] = __ldcg(part + (size_t(head) * kParts + i) * kHs + col);
#pragma unroll
  for (int i = 0; i < kParts; ++i) m = fmaxf(m, __ldcg(ml + (head * kParts + i) * 2));
  float acc = 0.f, tot = 0.f;
#pragma unroll
  for (int i = 0; i < kParts; ++i) {
    const float w = __ldcg(ml + (head * kParts + i) * 2 + 1) * __expf(__ldcg(ml + (head * kParts + i) * 2) - m);
    acc += w * v[i];
    tot += w;
  }
  return acc / tot;
}

// (a)
__global__ void part_a(float* part, float* ml) {
  pdl_wait();
  pdl_launch();
  write_partials(part, ml);
}
__global__ void reduce_a(const float* part, const float* ml, float* out) {
  pdl_wait();
  pdl_launch();
  const int head = blockIdx.x;
  out[head * kHs + threadIdx.x] = merge_column(part, ml, head, threadIdx.x);
}

// (c) the last workgroup of each KV head merges its kGqa heads; counter zeroed ahead, reset by the last workgroup
__global__ void part_counter(float* part, float* ml, unsigned* counters, float* out) {
  __shared__ int s_last;
  pdl_wait();
  pdl_launch();
  write_partials(part, ml);
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) {
    const unsigned count = atomicAdd(counters + blockIdx.y, 1u) + 1;
    if (count == kParts) counters[blockIdx.y] = 0;
    s_last = count == kParts;
  }
  __syncthreads();
  if (!s_last) return;
  __threadfence();
  for (int r = 0; r < kGqa; ++r) {
    const int head = blockIdx.y * kGqa + r;
    out[head * kHs + threadIdx.x] = merge_column(part, ml, head, threadIdx.x);
  }
}

// (d) / (d8): one cooperative kernel
template <bool kSpread, bool kPdl>
__global__ void part_coop(float* part, float* ml, float* out) {
  if constexpr (kPdl) {
    pdl_wait();
    pdl_launch();
  }
  write_partials(part, ml);
  cg::this_grid().sync();
  const int b = blockIdx.y * gridDim.x + blockIdx.x;
  if constexpr (kSpread) {
    // 256 workgroups: 8 per head, 16 columns each; 128 threads = 16 columns x 8 partition groups of 4
    const int head = b / 8, col = (b % 8) * 16 + threadIdx.x % 16, grp = threadIdx.x / 16;
    __shared__ float s_m[kParts], s_w[kParts], s_acc[8][16];
    if (threadIdx.x < kParts) s_m[threadIdx.x] = __ldcg(ml + (head * kParts + threadIdx.x) * 2);
    float v[kParts / 8];
#pragma unroll
    for (int i = 0; i < kParts / 8; ++i) v[i] = __ldcg(part + (size_t(head) * kParts + grp * 4 + i) * kHs + col);
    const float lsum = threadIdx.x < kParts ? __ldcg(ml + (head * kParts + threadIdx.x) * 2 + 1) : 0.f;
    __syncthreads();
    float m = -INFINITY;
    for (int i = 0; i < kParts; ++i) m = fmaxf(m, s_m[i]);
    if (threadIdx.x < kParts) s_w[threadIdx.x] = lsum * __expf(s_m[threadIdx.x] - m);
    __syncthreads();
    float acc = 0.f;
#pragma unroll
    for (int i = 0; i < kParts / 8; ++i) acc += s_w[grp * 4 + i] * v[i];
    s_acc[grp][threadIdx.x % 16] = acc;
    __syncthreads();
    if (threadIdx.x < 16) {
      float tot = 0.f, a = 0.f;
      for (int i = 0; i < kParts; ++i) tot += s_w[i];
      for (int g = 0; g < 8; ++g) a += s_acc[g][threadIdx.x];
      out[head * kHs + col] = a / tot;
    }
  } else {
    if (b < kHeads * kGqa) out[b * kHs + threadIdx.x] = merge_column(part, ml, b, threadIdx.x);
  }
}

template <class... P, class... A>
static cudaError_t launch(void (*k)(P...), dim3 grid, cudaStream_t st, bool pdl, bool coop, A... args) {
  cudaLaunchAttribute attr[2];
  int n = 0;
  if (pdl) {
    attr[n].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[n++].val.programmaticStreamSerializationAllowed = 1;
  }
  if (coop) {
    attr[n].id = cudaLaunchAttributeCooperative;
    attr[n++].val.cooperative = 1;
  }
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = grid;
  cfg.blockDim = dim3(128);
  cfg.stream = st;
  cfg.attrs = attr;
  cfg.numAttrs = n;
  return cudaLaunchKernelEx(&cfg, k, args...);
}

// Per-call time (us) of `calls` calls captured in one graph, median of reps replays; -1 if capture or launch fails.
template <class F>
static float graph_us(cudaStream_t st, int calls, int reps, F one) {
  cudaGraph_t g;
  cudaGraphExec_t ge;
  CHECK(cudaStreamBeginCapture(st, cudaStreamCaptureModeGlobal));
  cudaError_t err = cudaSuccess;
  for (int i = 0; i < calls && err == cudaSuccess; ++i) err = one(i);
  const cudaError_t end = cudaStreamEndCapture(st, &g);
  if (err != cudaSuccess || end != cudaSuccess) {
    std::printf("  (capture failed: %s / %s)\n", cudaGetErrorString(err), cudaGetErrorString(end));
    cudaGetLastError();
    return -1.f;
  }
  if (cudaGraphInstantiate(&ge, g, 0) != cudaSuccess) {
    std::printf("  (instantiate failed: %s)\n", cudaGetErrorString(cudaGetLastError()));
    return -1.f;
  }
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
  int coop = 0;
  CHECK(cudaDeviceGetAttribute(&coop, cudaDevAttrCooperativeLaunch, 0));
  std::printf("# %s, %d SMs, cooperative launch %d\n", prop.name, prop.multiProcessorCount, coop);
  cudaStream_t st;
  CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));

  const int nset = 8;
  const size_t part_bytes = size_t(kHeads) * kGqa * kParts * kHs * 4, ml_bytes = size_t(kHeads) * kGqa * kParts * 8;
  const size_t out_n = size_t(kHeads) * kGqa * kHs;
  std::vector<float*> part(nset), ml(nset), out(nset);
  std::vector<unsigned*> ctr(nset);
  for (int s = 0; s < nset; ++s) {
    CHECK(cudaMalloc(&part[s], part_bytes));
    CHECK(cudaMalloc(&ml[s], ml_bytes));
    CHECK(cudaMalloc(&out[s], out_n * 4));
    CHECK(cudaMalloc(&ctr[s], kHeads * 4));
    CHECK(cudaMemset(ctr[s], 0, kHeads * 4));
  }
  const dim3 pgrid(kParts, kHeads);

  // correctness of each form against (a), eager
  std::vector<float> ref(out_n), got(out_n);
  CHECK(launch(part_a, pgrid, st, true, false, part[0], ml[0]));
  CHECK(launch(reduce_a, dim3(kHeads * kGqa), st, true, false, (const float*)part[0], (const float*)ml[0], out[0]));
  CHECK(cudaMemcpyAsync(ref.data(), out[0], out_n * 4, cudaMemcpyDeviceToHost, st));
  CHECK(cudaStreamSynchronize(st));
  auto check = [&](const char* name, cudaError_t e) {
    if (e != cudaSuccess) {
      std::printf("%s: launch failed: %s\n", name, cudaGetErrorString(e));
      cudaGetLastError();
      return;
    }
    CHECK(cudaMemcpyAsync(got.data(), out[0], out_n * 4, cudaMemcpyDeviceToHost, st));
    CHECK(cudaStreamSynchronize(st));
    float d = 0.f;
    for (size_t i = 0; i < out_n; ++i) d = std::max(d, std::abs(got[i] - ref[i]));
    std::printf("%s against (a): max |diff| %g\n", name, d);
    CHECK(cudaMemsetAsync(out[0], 0, out_n * 4, st));
  };
  CHECK(cudaMemsetAsync(out[0], 0, out_n * 4, st));
  check("(c)", launch(part_counter, pgrid, st, true, false, part[0], ml[0], ctr[0], out[0]));
  check("(d)", launch(part_coop<false, false>, pgrid, st, false, true, part[0], ml[0], out[0]));
  check("(d) pdl", launch(part_coop<false, true>, pgrid, st, true, true, part[0], ml[0], out[0]));
  check("(d8)", launch(part_coop<true, false>, pgrid, st, false, true, part[0], ml[0], out[0]));
  check("(d8) pdl", launch(part_coop<true, true>, pgrid, st, true, true, part[0], ml[0], out[0]));

  for (int round = 0; round < 3; ++round) {
    const float ta = graph_us(st, 20, 20, [&](int i) {
      cudaError_t e = launch(part_a, pgrid, st, true, false, part[i % nset], ml[i % nset]);
      if (e != cudaSuccess) return e;
      return launch(reduce_a, dim3(kHeads * kGqa), st, true, false, (const float*)part[i % nset],
                    (const float*)ml[i % nset], out[i % nset]);
    });
    const float tc = graph_us(st, 20, 20, [&](int i) {
      return launch(part_counter, pgrid, st, true, false, part[i % nset], ml[i % nset], ctr[i % nset], out[i % nset]);
    });
    const float td = graph_us(st, 20, 20, [&](int i) {
      return launch(part_coop<false, false>, pgrid, st, false, true, part[i % nset], ml[i % nset], out[i % nset]);
    });
    const float tdp = graph_us(st, 20, 20, [&](int i) {
      return launch(part_coop<false, true>, pgrid, st, true, true, part[i % nset], ml[i % nset], out[i % nset]);
    });
    const float td8 = graph_us(st, 20, 20, [&](int i) {
      return launch(part_coop<true, false>, pgrid, st, false, true, part[i % nset], ml[i % nset], out[i % nset]);
    });
    const float td8p = graph_us(st, 20, 20, [&](int i) {
      return launch(part_coop<true, true>, pgrid, st, true, true, part[i % nset], ml[i % nset], out[i % nset]);
    });
    std::printf("round %d, us per call: (a) partition + reduce kernel %.2f | (c) counter, zeroed ahead %.2f | "
                "(d) cooperative %.2f, with pdl %.2f | (d8) cooperative, merge spread %.2f, with pdl %.2f\n",
                round + 1, ta, tc, td, tdp, td8, td8p);
  }
  std::printf("# done\n");
  return 0;
}
