"""Benchmark of ``causal_conv1d_fwd`` on the seed's scenario (a script, not a test; GPU machine).

The seed (sgl-project/sglang#10552): SGLang's Triton ``causal_conv1d_fn`` for Qwen3-Next extend
spent 139 us building its grid on the host (device-to-host copies) for a 17 us kernel; a grid from
the host-side lengths took the whole call from 313 us to 95 us p50. Its example batch has 5
sequences spanning 1, 2, 1, 3 and 1 blocks of 8 tokens: ``--lens 5,13,8,20,3`` (the default);
Qwen3-Next's conv dim is 8192 (2 x 16 key heads x 128 + 32 value heads x 128, TP 1), width 4, SiLU,
bf16, channel-last (vLLM's layout), conv states ``[lines, dim, 3]`` with stride 1 along dim.

Columns, per implementation (each fed the same inputs):
  host_us   Python entry to launch return, mean over back-to-back calls (median of rounds);
  gpu_us    device time per call: CUDA/HIP events around a graph replaying --graph-calls calls;
  p50_us    whole call under a Python loop, each call followed by a synchronize (the seed's
            number: host + device, eager, no graph), median;
  GB/s, %copy  bytes that must move (x read, out written, the states read and written) over
            gpu_us, and against a device-to-device copy of the same bytes measured in the run.
Implementations: ``aiter_swa`` (this op), ``torch`` (naive: per sequence, ``F.conv1d`` over the
state prepended, lengths from ``seq_lens_cpu``), ``triton`` (vLLM's or SGLang's Triton
``causal_conv1d_fn`` when importable from --peer-dir, see ../shared/peers/README.md: a folder
holding ``causal_conv1d.py`` and stand-ins for its ``vllm`` / ``sglang`` imports).

    python op_tests/causal_conv1d/bench_causal_conv1d.py [--lens 5,13,8,20,3] [--dim 8192] [--peer-dir DIR]
    python op_tests/causal_conv1d/bench_causal_conv1d.py --lens 4096,2048,1024,1,1,1 --dim 8192   # bandwidth
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import aiter_swa  # noqa: E402,F401

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


def make_inputs(lens, dim, width, dtype, device, layout, seed=0):
    g = torch.Generator().manual_seed(seed)
    n, total = len(lens), sum(lens)
    xt = torch.randn(total, dim, generator=g).to(dtype)
    x = (xt.t() if layout == "channel_last" else xt.t().contiguous()).to(device)
    weight = (0.5 * torch.randn(dim, width, generator=g)).to(dtype).to(device)
    bias = (0.5 * torch.randn(dim, generator=g)).to(dtype).to(device)
    lines = 4 * n
    # vLLM's state layout: [lines, width - 1, dim] storage seen as [lines, dim, width - 1] (stride 1 along dim)
    states = torch.randn(lines, width - 1, dim, generator=g).to(dtype).to(device).transpose(1, 2)
    qsl = torch.tensor([0] + torch.tensor(lens).cumsum(0).tolist(), dtype=torch.int32, device=device)
    ci = torch.randperm(lines, generator=g)[:n].to(torch.int32).to(device)
    init = (torch.arange(n) % 2 == 0).to(device)
    return dict(x=x, weight=weight, bias=bias, conv_states=states, query_start_loc=qsl, cache_indices=ci,
                has_initial_state=init, seq_lens_cpu=list(lens))  # fmt: skip


def ours(inp, activation):
    out = torch.empty_like(inp["x"])
    op = torch.ops.aiter_swa.causal_conv1d_fwd.default
    args = (out, inp["x"], inp["weight"], inp["bias"], inp["conv_states"], inp["query_start_loc"],
            inp["cache_indices"], inp["has_initial_state"], activation, -1, inp["seq_lens_cpu"])  # fmt: skip
    return lambda: op(*args)


def naive_torch(inp, activation):
    """Per sequence: F.conv1d over state ++ x, then the state write-back. Host lists only (no sync)."""
    x, w, b, states = inp["x"], inp["weight"], inp["bias"], inp["conv_states"]
    dim, width = w.shape
    lens = inp["seq_lens_cpu"]
    starts = [0]
    for n in lens:
        starts.append(starts[-1] + n)
    ci, init = inp["cache_indices"], inp["has_initial_state"]
    out = torch.empty_like(x)

    def run():
        for s, n in enumerate(lens):
            if n == 0:
                continue
            line = ci[s]
            st = torch.where(init[s], states[line], torch.zeros((), dtype=x.dtype, device=x.device))
            ext = torch.cat([st, x[:, starts[s] : starts[s] + n]], dim=1)
            y = F.conv1d(ext[None], w[:, None, :], b, groups=dim)[0]
            out[:, starts[s] : starts[s] + n] = F.silu(y) if activation == "silu" else y
            states[line] = ext[:, -(width - 1) :]

    return run


def triton_peer(inp, activation, peer_dir):
    """vLLM's / SGLang's ``causal_conv1d_fn`` from ``peer_dir``, or the reason it is unavailable."""
    if not peer_dir:
        return None, "no --peer-dir"
    sys.path.insert(0, peer_dir)
    try:
        mod = importlib.import_module("causal_conv1d")
        fn = mod.causal_conv1d_fn
    except Exception as e:  # noqa: BLE001 - report why, keep benchmarking the others
        return None, f"import failed: {type(e).__name__}: {e}"
    kw = dict(cache_indices=inp["cache_indices"], has_initial_state=inp["has_initial_state"], activation=activation)
    import inspect

    params = inspect.signature(fn).parameters
    if "seq_lens_cpu" in params:  # SGLang's, after its grid fix (the seed)
        kw["seq_lens_cpu"] = inp["seq_lens_cpu"]
    return (lambda: fn(inp["x"], inp["weight"], inp["bias"], inp["conv_states"], inp["query_start_loc"], **kw)), None


def host_us(fn, calls, repeats):
    for _ in range(50):
        fn()
    torch.cuda.synchronize()
    rounds = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        rounds.append((time.perf_counter_ns() - t0) / calls / 1e3)
        torch.cuda.synchronize()
    return statistics.median(rounds)


def p50_us(fn, iters):
    times = []
    for _ in range(iters):
        t0 = time.perf_counter_ns()
        fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter_ns() - t0) / 1e3)
    return statistics.median(times)


def gpu_us(fn, graph_calls, repeats):
    """Device time per call: a graph of ``graph_calls`` back-to-back calls, timed with events."""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        fn()
    torch.cuda.current_stream().wait_stream(s)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for _ in range(graph_calls):
            fn()
    graph.replay()
    torch.cuda.synchronize()
    res = []
    for _ in range(repeats):
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        e0.record()
        graph.replay()
        e1.record()
        e1.synchronize()
        res.append(e0.elapsed_time(e1) * 1e3 / graph_calls)
    return statistics.median(res)


def copy_gbps(nbytes, repeats=20):
    src = torch.empty(max(nbytes, 1 << 20), dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    t = gpu_us(lambda: dst.copy_(src), 20, repeats)
    return 2 * src.numel() / t / 1e3  # read + write, GB/s


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lens", default="5,13,8,20,3", help="tokens per sequence (the seed's example batch)")
    ap.add_argument("--dim", type=int, default=8192)
    ap.add_argument("--width", type=int, default=4)
    ap.add_argument("--dtype", default="bf16", choices=sorted(DTYPES))
    ap.add_argument("--layout", default="channel_last", choices=("channel_last", "channel_first"))
    ap.add_argument("--activation", default="silu")
    ap.add_argument("--peer-dir", default=os.environ.get("AITER_SWA_CONV1D_PEER_DIR", ""))
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--iters", type=int, default=500)
    ap.add_argument("--graph-calls", type=int, default=50)
    a = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("bench_causal_conv1d: no GPU visible to torch; nothing to measure", file=sys.stderr)
        return 2
    lens = [int(v) for v in a.lens.split(",") if v]
    dtype = DTYPES[a.dtype]
    print(f"device {torch.cuda.get_device_name()}; torch {torch.__version__}; lens {lens} (total {sum(lens)}); "
          f"dim {a.dim}; width {a.width}; {a.dtype}; {a.layout}; activation {a.activation}")  # fmt: skip
    esize = torch.empty((), dtype=dtype).element_size()
    nbytes = 2 * sum(lens) * a.dim * esize + 2 * len(lens) * a.dim * (a.width - 1) * esize
    copy = copy_gbps(nbytes)
    print(f"bytes moved per call {nbytes}; device-to-device copy {copy:.0f} GB/s")
    print(f"{'impl':10s} {'host_us':>9s} {'gpu_us':>9s} {'p50_us':>9s} {'GB/s':>8s} {'%copy':>6s}")
    impls = [("aiter_swa", ours, None), ("torch", naive_torch, None)]
    peer, why = triton_peer(make_inputs(lens, a.dim, a.width, dtype, "cuda", "channel_last"), a.activation, a.peer_dir)
    impls.append(("triton", None, why))
    for name, make, reason in impls:
        inp = make_inputs(lens, a.dim, a.width, dtype, "cuda", a.layout if name != "triton" else "channel_last")
        if name == "triton":
            if peer is None:
                print(f"{name:10s} n/a ({reason})")
                continue
            fn = triton_peer(inp, a.activation, a.peer_dir)[0]
        else:
            fn = make(inp, a.activation)
        try:
            h = host_us(fn, a.calls, a.repeats)
            g = gpu_us(fn, a.graph_calls, a.repeats)
        except Exception as e:  # noqa: BLE001 - e.g. a peer that cannot be captured in a graph
            g, h = float("nan"), locals().get("h", float("nan"))
            print(f"  ({name}: {type(e).__name__}: {e})")
        p = p50_us(fn, a.iters)
        bw = nbytes / g / 1e3 if g == g else float("nan")
        print(f"{name:10s} {h:9.1f} {g:9.1f} {p:9.1f} {bw:8.0f} {100 * bw / copy:6.1f}")
    print("targets (issue 12): aiter_swa p50 < 95 us (the seed's) and < triton's; gpu_us at >= 80% of copy for long prefills")
    return 0


if __name__ == "__main__":
    sys.exit(main())
