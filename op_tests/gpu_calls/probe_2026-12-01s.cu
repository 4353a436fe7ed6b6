// Probe for issue 8's batch-1 target (2026-12-01, 07:53 UTC session, call 2, gpu_call_2026-12-01s.sh; a measurement,
// not part of the library). The reduce kernel and its two kernel boundaries cost batch 1 about 2 us of its 10.4
// (docs/results.md, 2026-12-01 02:28 UTC session). Merging inside the partition kernel ("the last workgroup of a
// KV head merges") needs a counter per KV head, and the caller's workspace has no known initial state. A counter
// tagged with the launch's %gridid (PTX ISA, "Special Registers: %gridid": the temporal grid launch number of the
// context) would not need one: a workgroup that finds another launch's tag counts from 0. Two questions:
//   1. is %gridid different for every launch, eager and graph replays alike?
//   2. what does the tagged counter cost against a dependent reduce kernel, in a graph of 20 calls, with no K/V
//      work: a partition-like kernel of 8 KV heads x 32 partitions (128 threads, 2 KB of partials each) then
//      (a) a reduce kernel of 32 heads (pa_v1's form: both programmatic dependent launches), or
//      (b) the last workgroup of each KV head (tagged atomicCAS after __threadfence) merges its 4 heads, or
//      (c) as (b) with an untagged atomicAdd that the last workgroup resets (needs a zeroed start: a reference).
// Build and run: nvcc -O3 -arch=sm_90 -o probe probe_2026-12-01s.cu && ./probe
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#define CHECK(x)                                                                                  \
  do {                                                                                            \
    cudaError_t e_ = (x);                                                                         \
    if (e_ != cudaSuccess) {                                                                      \
      std::printf("CUDA error %s at %s:%d: %s\n", cudaGetErrorString(e_), __FILE__, __LINE__, #x); \
      std::exit(1);                                                                               \
    }                                                                                             \
  } while (0)

constexpr int kHeads = 8, kParts = 32, kGqa = 4, kHs = 128;

__device__ __forceinline__ unsigned long long grid_id() {
  unsigned long long g;
  asm volatile("mov.u64 %0, %%gridid;" : "=l"(g));
  return g;
}
__device__ __forceinline__ void pdl_wait() { asm volatile("griddepcontrol.wait;" ::: "memory"); }
__device__ __forceinline__ void pdl_launch() { asm volatile("griddepcontrol.launch_dependents;" ::: "memory"); }

__global__ void gridid_kernel(unsigned long long* out, int slot) {
  if (blockIdx.x == 0 && threadIdx.x == 0) out[slot] = grid_id();
}

// Partials of (KV head blockIdx.y, partition blockIdx.x): kGqa rows x kHs floats, and per row (m, l).
__device__ __forceinline__ void write_partials(float* part, float* ml) {
  const int h = blockIdx.y, pi = blockIdx.x;
  for (int r = 0; r < kGqa; ++r) {
    const int head = h * kGqa + r;
    part[(size_t(head) * kParts + pi) * kHs + threadIdx.x] = float(pi + threadIdx.x);
    if (threadIdx.x == 0) {
      ml[(head * kParts + pi) * 2] = float(pi);
      ml[(head * kParts + pi) * 2 + 1] = 1.f;
    }
  }
}

// Merge of head `head`'s kParts partials, column threadIdx.x (pa_v1's reduce: all loads in flight, then the weights).
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

// (a) partition kernel then reduce kernel, as pa_v1 launches them (compat.h): both programmatic dependents
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

// (b) / (c): the last workgroup of each KV head merges its kGqa heads (128 threads: kGqa x 32 float4 columns)
template <bool kTagged>
__global__ void part_fused(float* part, float* ml, unsigned long long* counters, float* out) {
  __shared__ int s_last;
  pdl_wait();
  write_partials(part, ml);
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) {
    unsigned long long* c = counters + blockIdx.y;
    unsigned count;
    if constexpr (kTagged) {
      // 40-bit tag (the launch's %gridid), 24-bit count; another launch's word counts as 0
      const unsigned long long tag = grid_id() & ((1ull << 40) - 1);
      unsigned long long old = *reinterpret_cast<volatile unsigned long long*>(c), assumed, want;
      do {
        assumed = old;
        const unsigned prev = (assumed >> 24) == tag ? unsigned(assumed & 0xffffff) : 0u;
        want = (tag << 24) | (prev + 1);
        old = atomicCAS(c, assumed, want);
      } while (old != assumed);
      count = unsigned(want & 0xffffff);
    } else {
      count = unsigned(atomicAdd(c, 1ull)) + 1;
      if (count == kParts) *c = 0;  // every workgroup of this head has counted: reset for the next call
    }
    s_last = count == kParts;
  }
  __syncthreads();
  if (!s_last) return;
  __threadfence();
  const int r = threadIdx.x / 32, c4 = threadIdx.x % 32, head = blockIdx.y * kGqa + r;
  float4 v[kParts];
  float m = -INFINITY;
#pragma unroll
  for (int i = 0; i < kParts; ++i)
    v[i] = __ldcg(reinterpret_cast<const float4*>(part + (size_t(head) * kParts + i) * kHs) + c4);
#pragma unroll
  for (int i = 0; i < kParts; ++i) m = fmaxf(m, __ldcg(ml + (head * kParts + i) * 2));
  float4 acc = make_float4(0, 0, 0, 0);
  float tot = 0.f;
#pragma unroll
  for (int i = 0; i < kParts; ++i) {
    const float w = __ldcg(ml + (head * kParts + i) * 2 + 1) * __expf(__ldcg(ml + (head * kParts + i) * 2) - m);
    acc.x += w * v[i].x;
    acc.y += w * v[i].y;
    acc.z += w * v[i].z;
    acc.w += w * v[i].w;
    tot += w;
  }
  reinterpret_cast<float4*>(out + head * kHs)[c4] = make_float4(acc.x / tot, acc.y / tot, acc.z / tot, acc.w / tot);
}

template <class... P, class... A>
static void launch_pdl(void (*k)(P...), dim3 grid, cudaStream_t st, A... args) {
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = grid;
  cfg.blockDim = dim3(128);
  cfg.stream = st;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  CHECK(cudaLaunchKernelEx(&cfg, k, args...));
}

// Per-call time (us) of `launch(i)` for i in [0, calls), captured in one graph, median of reps replays.
template <class F>
static float graph_us(cudaStream_t st, int calls, int reps, F launch) {
  cudaGraph_t g;
  cudaGraphExec_t ge;
  CHECK(cudaStreamBeginCapture(st, cudaStreamCaptureModeGlobal));
  for (int i = 0; i < calls; ++i) launch(i);
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

  // 1. %gridid: 3 eager launches, then a graph of 3 launches replayed twice
  unsigned long long* ids;
  CHECK(cudaMalloc(&ids, 16 * sizeof(unsigned long long)));
  CHECK(cudaMemset(ids, 0, 16 * sizeof(unsigned long long)));
  for (int i = 0; i < 3; ++i) gridid_kernel<<<1, 32, 0, st>>>(ids, i);
  unsigned long long h[16];
  cudaGraph_t g;
  cudaGraphExec_t ge;
  CHECK(cudaStreamBeginCapture(st, cudaStreamCaptureModeGlobal));
  for (int i = 0; i < 3; ++i) gridid_kernel<<<1, 32, 0, st>>>(ids, 3 + i);
  CHECK(cudaStreamEndCapture(st, &g));
  CHECK(cudaGraphInstantiate(&ge, g, 0));
  CHECK(cudaGraphLaunch(ge, st));
  CHECK(cudaStreamSynchronize(st));
  CHECK(cudaMemcpy(h, ids, 6 * sizeof(unsigned long long), cudaMemcpyDeviceToHost));
  CHECK(cudaGraphLaunch(ge, st));
  CHECK(cudaStreamSynchronize(st));
  CHECK(cudaMemcpy(h + 6, ids + 3, 3 * sizeof(unsigned long long), cudaMemcpyDeviceToHost));
  std::printf("%%gridid: eager");
  for (int i = 0; i < 3; ++i) std::printf(" %llu", h[i]);
  std::printf(" | graph replay 1");
  for (int i = 3; i < 6; ++i) std::printf(" %llu", h[i]);
  std::printf(" | replay 2");
  for (int i = 6; i < 9; ++i) std::printf(" %llu", h[i]);
  std::vector<unsigned long long> u(h, h + 9);
  std::sort(u.begin(), u.end());
  std::printf(" | %s\n", std::unique(u.begin(), u.end()) == u.end() ? "all different" : "REPEATS");

  // 2. the merge's cost, 8 rotating sets of buffers (each set its own counters, as each call its own workspace)
  const int nset = 8;
  const size_t part_bytes = size_t(kHeads) * kGqa * kParts * kHs * 4, ml_bytes = size_t(kHeads) * kGqa * kParts * 8;
  std::vector<float*> part(nset), ml(nset), out(nset);
  std::vector<unsigned long long*> ctr(nset);
  for (int s = 0; s < nset; ++s) {
    CHECK(cudaMalloc(&part[s], part_bytes));
    CHECK(cudaMalloc(&ml[s], ml_bytes));
    CHECK(cudaMalloc(&out[s], kHeads * kGqa * kHs * 4));
    CHECK(cudaMalloc(&ctr[s], kHeads * 8));
    CHECK(cudaMemset(ctr[s], 0xab, kHeads * 8));  // no known initial state (zeroed below for (c) only)
  }
  const dim3 pgrid(kParts, kHeads);
  for (int round = 0; round < 2; ++round) {
    const float ta = graph_us(st, 20, 20, [&](int i) {
      launch_pdl(part_a, pgrid, st, part[i % nset], ml[i % nset]);
      launch_pdl(reduce_a, dim3(kHeads * kGqa), st, (const float*)part[i % nset], (const float*)ml[i % nset],
                 out[i % nset]);
    });
    const float tb = graph_us(st, 20, 20, [&](int i) {
      launch_pdl(part_fused<true>, pgrid, st, part[i % nset], ml[i % nset], ctr[i % nset], out[i % nset]);
    });
    for (int s = 0; s < nset; ++s) CHECK(cudaMemset(ctr[s], 0, kHeads * 8));
    const float tc = graph_us(st, 20, 20, [&](int i) {
      launch_pdl(part_fused<false>, pgrid, st, part[i % nset], ml[i % nset], ctr[i % nset], out[i % nset]);
    });
    for (int s = 0; s < nset; ++s) CHECK(cudaMemset(ctr[s], 0xab, kHeads * 8));
    std::printf("round %d, us per call: (a) partition + reduce kernel %.2f | (b) last workgroup merges, tagged "
                "counter %.2f | (c) untagged counter %.2f\n", round + 1, ta, tb, tc);
  }
  // the fused form's result against the two-kernel form's (same partials)
  std::vector<float> ra(kHeads * kGqa * kHs), rb(ra.size());
  launch_pdl(part_a, pgrid, st, part[0], ml[0]);
  launch_pdl(reduce_a, dim3(kHeads * kGqa), st, (const float*)part[0], (const float*)ml[0], out[0]);
  CHECK(cudaMemcpyAsync(ra.data(), out[0], ra.size() * 4, cudaMemcpyDeviceToHost, st));
  CHECK(cudaMemsetAsync(out[0], 0, ra.size() * 4, st));
  launch_pdl(part_fused<true>, pgrid, st, part[0], ml[0], ctr[0], out[0]);
  CHECK(cudaMemcpyAsync(rb.data(), out[0], rb.size() * 4, cudaMemcpyDeviceToHost, st));
  CHECK(cudaStreamSynchronize(st));
  float maxdiff = 0.f;
  for (size_t i = 0; i < ra.size(); ++i) maxdiff = std::max(maxdiff, std::abs(ra[i] - rb[i]));
  std::printf("tagged fused merge against the reduce kernel: max |diff| %g\n", maxdiff);
  std::printf("# done\n");
  return 0;
}
