// Probe for issue 8's batch-1 target (2026-12-01, 02:28 UTC session, call 6, gpu_call_2026-12-01k.sh; a measurement, not part of the
// library): what the H200 gives a call that reads batch 1's 16.8 MB of K/V from a cold L2, and what a
// two-kernel call costs, both replayed from a CUDA graph over rotating buffers as bench_pa_v1_swa.py times;
// and how many thread-block clusters fit (cudaOccupancyMaxActiveClusters) for the cluster merge of
// docs/results.md's note. Build and run: nvcc -O3 -arch=sm_90 -o probe probe_2026-12-01.cu && ./probe
#include <cuda_runtime.h>

#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <vector>

#define CHECK(x)                                                                              \
  do {                                                                                        \
    cudaError_t e_ = (x);                                                                     \
    if (e_ != cudaSuccess) {                                                                  \
      std::printf("CUDA error %s at %s:%d: %s\n", cudaGetErrorString(e_), __FILE__, __LINE__, #x); \
      std::exit(1);                                                                           \
    }                                                                                         \
  } while (0)

// Reads n16 16-byte vectors (L2 only, as cp.async.cg), kUnroll loads in flight per thread.
template <int kUnroll>
__global__ void read_kernel(const uint4* __restrict__ src, long long n16, unsigned* out) {
  unsigned acc = 0;
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i0 = (long long)blockIdx.x * blockDim.x + threadIdx.x; i0 < n16; i0 += stride * kUnroll) {
    uint4 v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const long long i = i0 + u * stride;
      v[u] = i < n16 ? __ldcg(src + i) : make_uint4(0, 0, 0, 0);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) acc ^= v[u].x ^ v[u].y ^ v[u].z ^ v[u].w;
  }
  if (acc == 0x9e3779b9u) out[0] = acc;  // keeps the loads
}

__global__ void empty_kernel(unsigned* out) {
  if (out != nullptr && threadIdx.x == 1023) out[0] = 1;
}

// The call's two kernels as pa_v1 launches them on sm_90 (compat.h): both programmatic dependent launches, the
// first waiting and then triggering at its start, the second (the reduce) triggering right after its wait.
__global__ void pdl_first(unsigned* out) {
  asm volatile("griddepcontrol.wait;" ::: "memory");
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
  if (out != nullptr && threadIdx.x == 1023) out[0] = 1;
}
__global__ void pdl_second(unsigned* out) {
  asm volatile("griddepcontrol.wait;" ::: "memory");
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
  if (out != nullptr && threadIdx.x == 1023) out[0] = 2;
}

static void launch_pdl(void (*k)(unsigned*), int grid, cudaStream_t st, unsigned* out) {
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = dim3(grid);
  cfg.blockDim = dim3(128);
  cfg.stream = st;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  CHECK(cudaLaunchKernelEx(&cfg, k, out));
}

__global__ void cluster_kernel(unsigned* out) {
  extern __shared__ unsigned s[];
  if (out != nullptr && threadIdx.x == 0) out[0] = s[0];
}

// Per-launch time (us) of `launch(i)` for i in [0, calls), captured in one graph, median of reps replays.
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
  std::printf("# %s, %d SMs, L2 %d MiB\n", prop.name, prop.multiProcessorCount, prop.l2CacheSize >> 20);
  cudaStream_t st;
  CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
  unsigned* out;
  CHECK(cudaMalloc(&out, 64));
  const int sms = prop.multiProcessorCount;

  // 1. reading batch 1's K/V bytes (Mistral, window 4096: 8 heads x 4096 keys x 128 x 2 bytes x 2) from a cold
  // L2: 8 rotating buffers (134 MB, over twice the L2), one kernel per buffer; and 1 GiB for the peak.
  const long long b1 = 8LL * 4096 * 128 * 2 * 2;
  const int nbuf = 8;
  std::vector<uint4*> bufs(nbuf);
  for (auto& p : bufs) {
    CHECK(cudaMalloc(&p, b1));
    CHECK(cudaMemset(p, 1, b1));
  }
  for (int blocks_per_sm : {2, 4, 8}) {
    const int grid = sms * blocks_per_sm;
    const float t = graph_us(st, 2 * nbuf, 20, [&](int i) {
      read_kernel<4><<<grid, 256, 0, st>>>(bufs[i % nbuf], b1 / 16, out);
    });
    std::printf("read %.1f MB cold, %d blocks/SM x 256 threads, 4 loads in flight: %.2f us per kernel, %.2f TB/s\n",
                b1 / 1e6, blocks_per_sm, t, b1 / t / 1e6);
  }
  uint4* big;
  const long long nbig = 1LL << 30;
  CHECK(cudaMalloc(&big, nbig));
  CHECK(cudaMemset(big, 1, nbig));
  {
    const float t = graph_us(st, 4, 10, [&](int) { read_kernel<4><<<sms * 4, 256, 0, st>>>(big, nbig / 16, out); });
    std::printf("read 1 GiB: %.1f us, %.2f TB/s\n", t, nbig / t / 1e6);
  }

  // 2. the kernel boundaries of a call: one empty kernel, and two in a row (a partition kernel and its reduce),
  // per call in a graph of 20 calls
  {
    const float one = graph_us(st, 20, 20, [&](int) { empty_kernel<<<sms * 2, 128, 0, st>>>(out); });
    const float two = graph_us(st, 20, 20, [&](int) {
      empty_kernel<<<sms * 2, 128, 0, st>>>(out);
      empty_kernel<<<32, 128, 0, st>>>(out);
    });
    const float pdl = graph_us(st, 20, 20, [&](int) {
      launch_pdl(pdl_first, sms * 2, st, out);
      launch_pdl(pdl_second, 32, st, out);
    });
    std::printf("empty kernels per call in a graph: one %.2f us, two in a row %.2f us, two as pa_v1's dependent "
                "launches %.2f us\n", one, two, pdl);
  }

  // 3. thread-block clusters: how many fit at once, per cluster size and shared memory per workgroup
  CHECK(cudaFuncSetAttribute(cluster_kernel, cudaFuncAttributeNonPortableClusterSizeAllowed, 1));
  for (int smem_kb : {56, 111, 200}) {
    CHECK(cudaFuncSetAttribute(cluster_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem_kb * 1024));
    for (int cs : {2, 4, 8, 16}) {
      cudaLaunchConfig_t cfg = {};
      cfg.gridDim = dim3(cs * 8);
      cfg.blockDim = dim3(128);
      cfg.dynamicSmemBytes = size_t(smem_kb) * 1024;
      cudaLaunchAttribute attr[1];
      attr[0].id = cudaLaunchAttributeClusterDimension;
      attr[0].val.clusterDim.x = cs;
      attr[0].val.clusterDim.y = 1;
      attr[0].val.clusterDim.z = 1;
      cfg.attrs = attr;
      cfg.numAttrs = 1;
      int n = -1;
      const cudaError_t e = cudaOccupancyMaxActiveClusters(&n, cluster_kernel, &cfg);
      std::printf("clusters of %2d, %3d KB shared memory per workgroup: %d at once%s%s\n", cs, smem_kb, n,
                  e == cudaSuccess ? "" : " -- ", e == cudaSuccess ? "" : cudaGetErrorString(e));
      if (e != cudaSuccess) cudaGetLastError();
    }
  }
  CHECK(cudaDeviceSynchronize());
  std::printf("# done\n");
  return 0;
}
