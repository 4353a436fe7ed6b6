"""CPU microbenchmark of the fast path's hit (a script, not a test): what the C++ kernel costs on top
of the torch dispatcher, without Python.

A test op with pa_v1's schema is served on the CPU key by the fast path (``max_context_len`` a
per-call int), whose slow twin publishes the extension's test launcher with pa_v1's slots
(``gpu._fast_slots``); a second op of the same schema has a C++ no-op boxed kernel. A helper
extension (built here with ``torch.utils.cpp_extension``, about a minute) calls each op through
``OperatorHandle::callBoxed`` in a C++ loop on one stack of bench_host_cost's case (Mistral-7B heads,
one sequence of 16 tokens), timed with the thread's CPU clock (so a loaded machine's preemption is
not counted). Prints the minimum and median over rounds of both and their difference: the fast
path's kernel (key, lookup, per-call values, the test launcher), without a GPU launch.

    python op_tests/package/bench_fast_path_cpu.py [--calls 20000] [--rounds 21]

Runs against whichever ``aiter_swa`` is imported (``PYTHONPATH=<checkout>`` for another one).
"""

from __future__ import annotations

import argparse
import ctypes
import statistics
import sys
import tempfile

import torch

HELPER = r"""
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <torch/library.h>
#include <torch/csrc/jit/python/pybind_utils.h>
#include <time.h>
namespace py = pybind11;
namespace {
struct Noop final : c10::OperatorKernel {
  void operator()(const c10::OperatorHandle& op, c10::DispatchKeySet, torch::jit::Stack* stack) {
    torch::jit::drop(*stack, op.schema().arguments().size());
  }
};
std::vector<std::unique_ptr<torch::Library>> libs;
double thread_ns() { timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
}
void register_noop(const std::string& ns, const std::string& name) {
  auto lib = std::make_unique<torch::Library>(torch::Library::FRAGMENT, ns, std::nullopt, __FILE__, __LINE__);
  lib->impl(name.c_str(), torch::dispatch(c10::DispatchKey::CPU,
                                          torch::CppFunction::makeFromBoxedFunctor(std::make_unique<Noop>())));
  libs.push_back(std::move(lib));
}
double time_boxed(const std::string& qualname, py::tuple args, int64_t n) {
  auto op = *c10::Dispatcher::singleton().findOp(c10::OperatorName(qualname, ""));
  const auto& schema = op.schema();
  torch::jit::Stack base, stack;
  for (size_t i = 0; i < schema.arguments().size(); ++i)
    base.push_back(torch::jit::toIValue(args[i], schema.arguments()[i].real_type()));
  stack.reserve(64);
  const double t0 = thread_ns();
  for (int64_t i = 0; i < n; ++i) {
    stack.assign(base.begin(), base.end());
    op.callBoxed(&stack);
  }
  return (thread_ns() - t0) / n;
}
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=21)
    a = ap.parse_args(argv)
    from torch.utils.cpp_extension import load_inline

    from aiter_swa import _fast_path
    from aiter_swa.ops.pa_v1 import gpu
    from aiter_swa.ops.pa_v1.call import ARG_NAMES
    from aiter_swa.ops.pa_v1.op import SCHEMA

    ext = _fast_path.extension()
    if ext is None:
        print(f"bench_fast_path_cpu: the fast path did not build: {_fast_path.failure()}", file=sys.stderr)
        return 2
    helper = load_inline("aiter_swa_bench_fast_path_cpu", cpp_sources=[HELPER],
                         functions=["register_noop", "time_boxed"], extra_cflags=["-O2"],
                         build_directory=tempfile.mkdtemp(prefix="aiter_swa_bench_"))  # fmt: skip
    ns = "aiter_swa_bench_fp_cpu"
    lib = torch.library.Library(ns, "DEF")
    for name in ("op", "_op_slow", "noop"):
        lib.define(name + SCHEMA)
    try:
        slots = gpu._fast_slots(16, False, 8192)
        per_call = {"per_call_ints": ("max_context_len",)}
    except TypeError:  # a checkout whose key holds max_context_len
        slots, per_call = gpu._fast_slots(16, False), {}
    launchers = []

    def slow(*args):
        state = (ctypes.c_uint64 * (3 + len(slots)))(len(slots))

        class Launcher:
            def raw(self):
                return ext.test_launcher(), ctypes.addressof(state)

        launchers.append((Launcher(), state))
        _fast_path.publish(launchers[-1][0], slots, "cpu", 0)

    lib.impl("_op_slow", slow, "CPU")
    assert _fast_path.install(f"{ns}::op", f"{ns}::_op_slow", "CPU", **per_call)
    helper.register_noop(ns, "noop")

    num_seqs, h, kvh, d, bs, ctx = 1, 32, 8, 128, 16, 16
    q = torch.randn(num_seqs, h, d, dtype=torch.bfloat16)
    k = torch.randn(num_seqs * ctx // bs, kvh, bs, d, dtype=torch.bfloat16)
    one = torch.ones(1)
    values = dict(out=torch.empty_like(q), workspace_buffer=torch.empty(64, dtype=torch.uint8), query=q, key_cache=k,
                  value_cache=torch.randn_like(k), scale=d**-0.5,
                  block_tables=torch.arange(num_seqs * ctx // bs, dtype=torch.int32).view(num_seqs, -1),
                  cu_query_lens=None, context_lens=torch.full((num_seqs,), ctx, dtype=torch.int32),
                  max_context_len=ctx, alibi_slopes=None, kv_cache_dtype="auto", kv_cache_layout="HND",
                  logits_soft_cap=0.0, k_scale=one, v_scale=one, fp8_out_scale=None, partition_size=256, mtp=1,
                  sliding_window=4096, sinks=None)  # fmt: skip
    args = tuple(values[n] for n in ARG_NAMES)
    getattr(torch.ops, ns).op.default(*args)  # the miss: the slow twin publishes
    fast, noop = [], []
    for _ in range(a.rounds):
        fast.append(helper.time_boxed(f"{ns}::op", args, a.calls))
        noop.append(helper.time_boxed(f"{ns}::noop", args, a.calls))
    stats = _fast_path.stats(f"{ns}::op")
    assert stats["hits"] == a.rounds * a.calls and stats["misses"] == 1, stats
    print(f"# fast path's hit on the CPU key, pa_v1's schema, torch {torch.__version__}; thread CPU time, "
          f"{a.rounds} rounds of {a.calls} boxed calls; min / median, ns per call")
    print(f"dispatcher + fast-path kernel (test launcher)  {min(fast):7.0f} / {statistics.median(fast):7.0f}")
    print(f"dispatcher + C++ no-op kernel                  {min(noop):7.0f} / {statistics.median(noop):7.0f}")
    print(f"the fast path's kernel (difference)            {min(fast) - min(noop):7.0f} / "
          f"{statistics.median(fast) - statistics.median(noop):7.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
