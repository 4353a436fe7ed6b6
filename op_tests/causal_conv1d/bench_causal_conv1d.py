"""Benchmark of ``causal_conv1d_fwd`` on the seed's scenario (a script, not a test; GPU machine).

The seed (sgl-project/sglang#10552): SGLang's Triton ``causal_conv1d_fn`` for Qwen3-Next extend
spent 139 us building its grid on the host (device-to-host copies) for a 17 us kernel; a grid from
the host-side lengths took the whole call from 313 us to 95 us p50. Its example batch has 5
sequences spanning 1, 2, 1, 3 and 1 blocks of 8 tokens: ``--lens 5,13,8,20,3`` (the default);
Qwen3-Next's conv dim is 8192 (2 x 16 key heads x 128 + 32 value heads x 128, TP 1), width 4, SiLU,
bf16, channel-last (vLLM's layout), conv states ``[lines, dim, 3]`` with stride 1 along dim.

Columns, per implementation (each fed the same inputs, its output checked against ours first):
  host_us   Python entry to return of one call (the launch queued), median over calls, each
            started with the GPU idle;
  gpu_us    device time per call: CUDA events around a graph replaying --graph-calls calls (n/a
            where the call synchronises, so cannot be captured: the same kernel's time is in the
            triton_md row);
  p50_us    whole call under a Python loop, each call followed by a synchronize (the seed's
            number: host + device, eager, no graph), median;
  GB/s, %copy  bytes that must move (x read, out written, the states read and written) over
            gpu_us, and against a device-to-device copy of the same bytes measured in the run;
  syncs     host-device synchronisations of one call under torch.cuda.set_sync_debug_mode("error").
Implementations: ``aiter_swa`` (this op); ``torch`` (naive: per sequence, ``F.conv1d`` over the
state prepended, lengths from ``seq_lens_cpu``); ``triton`` and ``triton_md``: vLLM's Triton
``causal_conv1d_fn`` from --peer-dir (``op_tests/causal_conv1d/fetch_vllm_peer.sh`` makes one),
``triton`` called without ``metadata`` (it copies the lengths to the host and builds its program
list there on every call: the seed's "before"), ``triton_md`` with the metadata vLLM's GDN backend
builds once per step from the host-side ``query_start_loc`` (what vLLM serves with; the build itself
is timed apart, ``md_build_us``, and is not in the call's numbers).

    python op_tests/causal_conv1d/bench_causal_conv1d.py [--lens 5,13,8,20,3] [--dim 8192] [--peer-dir DIR]
    python op_tests/causal_conv1d/bench_causal_conv1d.py --lens 4096,2048,1024,1,1,1 --dim 8192   # bandwidth
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

import aiter_swa  # noqa: F401

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
SEED_P50_US = 95.0  # sgl-project/sglang#10552, after its fix
COPY_FRACTION = 0.80  # issue 12: kernel at >= 80% of the copy bandwidth on long prefills
LONG_PREFILL_TOKENS = 4096  # a batch at least this long is a "long prefill" for the bandwidth target


def make_inputs(lens, dim, width, dtype, device, layout, seed=0):
    """The seed's batch: x, weight, bias, conv states in vLLM's layout, lines drawn from 1.. (vLLM
    0.33 treats cache line 0 as its null block), every other sequence with an initial state."""
    g = torch.Generator().manual_seed(seed)
    n, total = len(lens), sum(lens)
    xt = torch.randn(total, dim, generator=g).to(dtype)
    x = (xt.t() if layout == "channel_last" else xt.t().contiguous()).to(device)
    weight = (0.5 * torch.randn(dim, width, generator=g)).to(dtype).to(device)
    bias = (0.5 * torch.randn(dim, generator=g)).to(dtype).to(device)
    lines = 4 * n + 1
    # vLLM's state layout: [lines, width - 1, dim] storage seen as [lines, dim, width - 1] (stride 1 along dim)
    states = torch.randn(lines, width - 1, dim, generator=g).to(dtype).to(device).transpose(1, 2)
    qsl = torch.tensor([0] + torch.tensor(lens).cumsum(0).tolist(), dtype=torch.int32)
    ci = (1 + torch.randperm(lines - 1, generator=g)[:n]).to(torch.int32).to(device)
    init = (torch.arange(n) % 2 == 0).to(device)
    return dict(x=x, weight=weight, bias=bias, conv_states=states, query_start_loc=qsl.to(device),
                query_start_loc_cpu=qsl, cache_indices=ci, has_initial_state=init, seq_lens_cpu=list(lens))  # fmt: skip


@dataclasses.dataclass
class Impl:
    """One row: ``fn`` runs one call on the inputs the maker was given. Every maker keeps the tensors
    ``fn`` reads referenced from ``fn`` itself (not only their raw pointers): ``gpu_us`` captures ``fn``
    in a CUDA graph, ``torch.cuda.graph`` empties the caching allocator before capture, and a tensor
    that nothing references any more is then unmapped, so the graph's replay would read freed memory
    (the "illegal memory access" of the ``cl_run=8`` row on 2026-11-28)."""

    name: str
    fn: object  # () -> out
    note: str = ""


def ours(inp, activation, _peer):
    out = torch.empty_like(inp["x"])
    op = torch.ops.aiter_swa.causal_conv1d_fwd.default
    args = (out, inp["x"], inp["weight"], inp["bias"], inp["conv_states"], inp["query_start_loc"],
            inp["cache_indices"], inp["has_initial_state"], activation, -1, inp["seq_lens_cpu"])  # fmt: skip

    def run():
        op(*args)
        return out

    return Impl("aiter_swa", run)


def ours_variant(tuning: dict):
    """Our kernel in a tuning variant of its spec (``cl_run`` / ``cf_rows``, spec.py), launched
    directly with the plan the op would build: rows ``aiter_swa[cl_run=8]`` next to the op's own
    (its host_us and p50_us skip the torch dispatcher, so only gpu_us compares)."""

    def make(inp, activation, _peer):
        from aiter_swa.ops.causal_conv1d import gpu as conv_gpu
        from aiter_swa.ops.causal_conv1d.call import validate_fwd

        out = torch.empty_like(inp["x"])
        call = validate_fwd(out, inp["x"], inp["weight"], inp["bias"], inp["conv_states"], inp["query_start_loc"],
                            inp["cache_indices"], inp["has_initial_state"], activation, -1, inp["seq_lens_cpu"])  # fmt: skip
        plan = conv_gpu._fwd_plan(call, **tuning)

        def run():
            # the pointers read from ``call`` at each call, as gpu.run_fwd does: ``run`` references the
            # tensors (``call`` holds them), so they live as long as a graph captured from it
            conv_gpu.launch_fwd(call, plan)
            return call.out

        return Impl("aiter_swa[" + ",".join(f"{k}={v}" for k, v in tuning.items()) + "]", run, "direct launch")

    make.__name__ = "ours_" + "_".join(f"{k}{v}" for k, v in tuning.items())
    return make


def kernel_origins() -> list:
    """``name: kind (seconds to load)`` of every kernel this process loaded (prebuilt, cache or compiled)."""
    from aiter_swa.jit import loader

    return [f"{spec.name}: {origin[0]} ({origin[1]})" for spec, origin in loader._ORIGINS.items()]


def naive_torch(inp, activation, _peer):
    """Per sequence: F.conv1d over state ++ x, then the state write-back. Host lists only."""
    x, w, b, states = inp["x"], inp["weight"], inp["bias"], inp["conv_states"]
    dim, width = w.shape
    lens = inp["seq_lens_cpu"]
    starts = [0]
    for n in lens:
        starts.append(starts[-1] + n)
    ci, init = inp["cache_indices"], inp["has_initial_state"]
    out = torch.empty_like(x)
    zero = torch.zeros((), dtype=x.dtype, device=x.device)

    def run():
        for s, n in enumerate(lens):
            if n == 0:
                continue
            line = ci[s]
            st = torch.where(init[s], states[line], zero)
            ext = torch.cat([st, x[:, starts[s] : starts[s] + n]], dim=1)
            y = F.conv1d(ext[None].float(), w[:, None, :].float(), b.float(), groups=dim)[0]
            out[:, starts[s] : starts[s] + n] = F.silu(y) if activation == "silu" else y
            states[line] = ext[:, -(width - 1) :]
        return out

    return Impl("torch", run)


def load_peer(peer_dir):
    """vLLM's ``causal_conv1d`` module from ``peer_dir``, or (None, why)."""
    if not peer_dir:
        return None, "no --peer-dir / AITER_SWA_CONV1D_PEER_DIR"
    if not os.path.isfile(os.path.join(peer_dir, "causal_conv1d.py")):
        return None, f"no causal_conv1d.py in {peer_dir} (op_tests/causal_conv1d/fetch_vllm_peer.sh makes one)"
    sys.path.insert(0, os.path.abspath(peer_dir))
    try:
        return importlib.import_module("causal_conv1d"), None
    except Exception as e:  # noqa: BLE001 - report why, keep benchmarking the others
        return None, f"import failed: {type(e).__name__}: {e}"


def triton_plain(inp, activation, peer):
    fn = peer.causal_conv1d_fn
    a = (inp["x"], inp["weight"], inp["bias"], inp["conv_states"], inp["query_start_loc"])
    kw = dict(cache_indices=inp["cache_indices"], has_initial_state=inp["has_initial_state"], activation=activation)
    return Impl("triton", lambda: fn(*a, **kw), "vLLM, metadata=None")


class _ConvMetadata:
    """The three fields vLLM's causal_conv1d_fn reads from its ``metadata`` argument."""

    def __init__(self, nums_dict, batch_ptr, token_chunk_offset_ptr):
        self.nums_dict, self.batch_ptr, self.token_chunk_offset_ptr = nums_dict, batch_ptr, token_chunk_offset_ptr


def build_vllm_metadata(qsl_cpu: torch.Tensor, device, block_m: int = 8) -> _ConvMetadata:
    """What vLLM's GDN / Mamba backends hand causal_conv1d_fn once per step (from the host-side
    query_start_loc; vLLM 0.33 ``compute_causal_conv1d_metadata``, BLOCK_M 8): per program, its
    sequence and its chunk of BLOCK_M tokens, copied to the device without a sync."""
    seqlens = qsl_cpu.diff()
    nums = (seqlens + block_m - 1) // block_m
    mlist = torch.repeat_interleave(torch.arange(len(nums), dtype=torch.int32), nums)
    offsets = torch.cat([torch.arange(int(n), dtype=torch.int32) for n in nums]) if len(nums) else mlist
    cap = max(1024, len(mlist)) * 2
    batch_ptr = torch.full((cap,), -1, dtype=torch.int32, device=device)
    chunk_ptr = torch.full((cap,), -1, dtype=torch.int32, device=device)
    pin = torch.device(device).type == "cuda"
    batch_ptr[: len(mlist)].copy_(mlist.pin_memory() if pin else mlist, non_blocking=True)
    chunk_ptr[: len(mlist)].copy_(offsets.pin_memory() if pin else offsets, non_blocking=True)
    entry = dict(nums=nums, tot=int(nums.sum()), mlist=mlist, mlist_len=len(mlist), offsetlist=offsets,
                 batch_ptr=batch_ptr, token_chunk_offset_ptr=chunk_ptr)  # fmt: skip
    return _ConvMetadata({block_m: entry}, batch_ptr, chunk_ptr)


def triton_md(inp, activation, peer):
    fn = peer.causal_conv1d_fn
    md = build_vllm_metadata(inp["query_start_loc_cpu"], inp["x"].device)
    a = (inp["x"], inp["weight"], inp["bias"], inp["conv_states"], inp["query_start_loc"])
    kw = dict(cache_indices=inp["cache_indices"], has_initial_state=inp["has_initial_state"], activation=activation,
              metadata=md)  # fmt: skip
    return Impl("triton_md", lambda: fn(*a, **kw), "vLLM, per-step metadata")


def host_us(fn, iters):
    """Python entry to return of one call, the GPU idle at each start; median."""
    times = []
    for _ in range(iters):
        torch.cuda.synchronize()
        t0 = time.perf_counter_ns()
        fn()
        times.append((time.perf_counter_ns() - t0) / 1e3)
    torch.cuda.synchronize()
    return statistics.median(times)


def p50_us(fn, iters):
    """The seed's number: one call and a synchronize under a Python loop, median."""
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


def sync_free(fn) -> str:
    """'none' if one call runs under sync debug mode "error", else the first sync's message."""
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        fn()
        return "none"
    except RuntimeError as e:
        return "SYNC: " + str(e).splitlines()[0][:60]
    finally:
        torch.cuda.set_sync_debug_mode("default")
        torch.cuda.synchronize()


def copy_gbps(nbytes, repeats=20):
    """Device-to-device copy of ``nbytes`` (read + write counted), GB/s."""
    src = torch.empty(max(nbytes, 1 << 20), dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    t = gpu_us(lambda: dst.copy_(src), 20, repeats)
    return 2 * src.numel() / t / 1e3


def check_against_ours(name, make, lens, a, dtype, layout, peer):
    """Run ``make``'s implementation and ours once on identical fresh inputs: outputs close, states equal."""
    ref_inp = make_inputs(lens, a.dim, a.width, dtype, "cuda", layout)
    inp = make_inputs(lens, a.dim, a.width, dtype, "cuda", layout)
    ref_out = ours(ref_inp, a.activation, None).fn().float()
    got = make(inp, a.activation, peer).fn().float()
    torch.cuda.synchronize()
    err = ((got - ref_out).norm() / ref_out.norm()).item()
    states_equal = torch.equal(inp["conv_states"], ref_inp["conv_states"])
    ok = err < 2e-2 and states_equal and not torch.isnan(got).any().item()
    return ok, f"{name}: ||out - ours|| / ||ours|| = {err:.2e}, states {'equal' if states_equal else 'DIFFER'}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lens", default="5,13,8,20,3", help="tokens per sequence (the seed's example batch)")
    ap.add_argument("--dim", type=int, default=8192)
    ap.add_argument("--width", type=int, default=4)
    ap.add_argument("--dtype", default="bf16", choices=sorted(DTYPES))
    ap.add_argument("--layout", default="channel_last", choices=("channel_last", "channel_first"))
    ap.add_argument("--activation", default="silu")
    ap.add_argument("--peer-dir", default=os.environ.get("AITER_SWA_CONV1D_PEER_DIR", ""))
    ap.add_argument("--iters", type=int, default=1000, help="calls timed for host_us and p50_us")
    ap.add_argument("--repeats", type=int, default=7, help="graph replays timed for gpu_us")
    ap.add_argument("--graph-calls", type=int, default=50)
    ap.add_argument("--variants", default="",
                    help="tuning variants of our kernel run side by side (gpu_us), e.g. 'cl_run=8' or "
                         "'cf_rows=8;cl_run=8' or 'walk=1' (';' between variants, ',' between a variant's settings); "
                         "those of the other layout are skipped")  # fmt: skip
    a = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("bench_causal_conv1d: no GPU visible to torch; nothing to measure", file=sys.stderr)
        return 2
    lens = [int(v) for v in a.lens.split(",") if v]
    dtype = DTYPES[a.dtype]
    total = sum(lens)
    print(f"device {torch.cuda.get_device_name()}; torch {torch.__version__}; lens {lens} (total {total}); "
          f"dim {a.dim}; width {a.width}; {a.dtype}; {a.layout}; activation {a.activation}")  # fmt: skip
    esize = torch.empty((), dtype=dtype).element_size()
    nbytes = 2 * total * a.dim * esize + 2 * len(lens) * a.dim * (a.width - 1) * esize
    copy = copy_gbps(nbytes)
    print(f"bytes moved per call {nbytes}; device-to-device copy of those bytes {copy:.0f} GB/s")

    peer, why = load_peer(a.peer_dir)
    makers = [(ours, a.layout), (naive_torch, a.layout)]
    variants = []  # run after the main rows and their targets are printed (see below)
    for v in filter(None, a.variants.split(";")):
        tuning = {k.strip(): int(val) for k, val in (kv.split("=") for kv in v.split(","))}
        # cl_run: channel-last only; cf_rows / cf_fast: channel-first only; walk: either layout
        if all(k == "walk" or (k == "cl_run") == (a.layout == "channel_last") for k in tuning):
            variants.append((ours_variant(tuning), a.layout))
    if peer is not None:
        import triton

        print(f"peer: {os.path.join(a.peer_dir, 'causal_conv1d.py')} ({open(os.path.join(a.peer_dir, 'SOURCE')).readline().strip() if os.path.isfile(os.path.join(a.peer_dir, 'SOURCE')) else 'no SOURCE'}); triton {triton.__version__}")  # fmt: skip
        makers += [(triton_plain, "channel_last"), (triton_md, "channel_last")]
        qsl_cpu = make_inputs(lens, 8, a.width, dtype, "cpu", "channel_last")["query_start_loc_cpu"]
        md_times = []
        for _ in range(200):
            t0 = time.perf_counter_ns()
            build_vllm_metadata(qsl_cpu, "cuda")
            md_times.append((time.perf_counter_ns() - t0) / 1e3)
        torch.cuda.synchronize()
        print(f"md_build_us {statistics.median(md_times):.1f} (vLLM's per-step metadata for triton_md, not in its row)")
    else:
        print(f"triton: n/a ({why})")

    def measure(make, layout):
        """Check ``make``'s row against ours (except ours), measure it and print its line at once."""
        name = make.__name__
        if make is not ours:
            ok, msg = check_against_ours(name, make, lens, a, dtype, layout, peer)
            print(("check ok  " if ok else "CHECK FAILED  ") + msg)
        inp = make_inputs(lens, a.dim, a.width, dtype, "cuda", layout)  # held until the row is done
        impl = make(inp, a.activation, peer)
        syncs = sync_free(impl.fn)
        h = host_us(impl.fn, a.iters)
        g, graph = float("nan"), "not captured (it synchronises)"
        if syncs == "none":  # a failed capture can leave the stream unusable for the rows after it
            try:
                g = gpu_us(impl.fn, a.graph_calls, a.repeats)
                graph = "ok"
            except Exception as e:  # noqa: BLE001 - report it, keep benchmarking the others
                graph = f"capture fails ({type(e).__name__}: {str(e).splitlines()[0][:60]})"
                torch.cuda.synchronize()
        p = p50_us(impl.fn, a.iters)
        bw = nbytes / g / 1e3 if g == g else float("nan")
        r = dict(host=h, gpu=g, p50=p, bw=bw, syncs=syncs, graph=graph, note=impl.note)
        print(f"{impl.name:22s} {r['host']:8.1f} {r['gpu']:8.1f} {r['p50']:8.1f} {r['bw']:7.0f} {100 * r['bw'] / copy:6.1f}  "
              f"{r['syncs']} / {r['graph']}{'  (' + r['note'] + ')' if r['note'] else ''}", flush=True)  # fmt: skip
        return impl.name, r

    failed = []

    def guarded(make, layout):
        """``measure``, a failure reported on its own line (its row left out) instead of raised."""
        try:
            return measure(make, layout)
        except Exception as e:  # noqa: BLE001 - report it; the rows before it are printed already
            failed.append(make.__name__)
            first = str(e).splitlines()[0][:200] if str(e) else ""
            print(f"ROW FAILED  {make.__name__}: {type(e).__name__}: {first}", flush=True)
            return None

    header = f"{'impl':22s} {'host_us':>8s} {'gpu_us':>8s} {'p50_us':>8s} {'GB/s':>7s} {'%copy':>6s}  syncs / graph"
    print(header)
    # the op's row first, then the others (naive torch, the Triton peer), each on its own: a row that
    # fails (a CUDA error is sticky: no later row can run in this process) costs its own line and
    # those after it, never the op's row or the targets below (printed from rows already measured)
    rows = dict([measure(*makers[0])])
    rows.update(r for r in (guarded(make, layout) for make, layout in makers[1:]) if r)
    me = rows["aiter_swa"]
    print("targets (issue 12):")
    verdict = lambda ok: "MET" if ok else "MISSED"  # noqa: E731
    print(f"  p50 {me['p50']:.1f} us < seed's {SEED_P50_US:.0f} us: {verdict(me['p50'] < SEED_P50_US)}")
    for peer_name in ("triton", "triton_md"):
        if peer_name in rows:
            tp = rows[peer_name]["p50"]
            print(f"  p50 {me['p50']:.1f} us < {peer_name}'s {tp:.1f} us: {verdict(me['p50'] < tp)}")
    print(f"  syncs under sync debug mode 'error': {me['syncs']}: {verdict(me['syncs'] == 'none')}; "
          f"CUDA graph capture: {me['graph']}: {verdict(me['graph'] == 'ok')}")  # fmt: skip
    if total >= LONG_PREFILL_TOKENS:
        frac = me["bw"] / copy
        print(f"  long prefill: kernel {me['bw']:.0f} GB/s = {100 * frac:.1f}% of copy {copy:.0f} GB/s "
              f">= {100 * COPY_FRACTION:.0f}%: {verdict(frac >= COPY_FRACTION)}", flush=True)  # fmt: skip

    # the tuning variants last, after the op's rows and targets, each on its own (as above)
    if variants:
        print("tuning variants (our kernel launched directly; compare gpu_us):")
        print(header)
    for make, layout in variants:
        r = guarded(make, layout)
        if r is None:
            break  # the CUDA context may be unusable now
        print(f"  (variant {r[0]}: kernel {r[1]['bw']:.0f} GB/s = {100 * r[1]['bw'] / copy:.1f}% of copy)", flush=True)

    for line in kernel_origins():
        print(f"kernel {line}")
    if failed:
        print(f"rows failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
