"""Host cost of one ``paged_attention_v1`` call (a script, not a test): Python entry to launch return.

The kernel is excluded: the case is tiny (one sequence of 16 tokens: one iteration of the kernel's
loop, a few microseconds on the GPU, less than a call's host time), so back-to-back calls are
host-bound and the launch queue never fills. Each row is the median over ``--repeats`` rounds of
the mean time of ``--calls`` back-to-back calls (``time.perf_counter_ns``). Prints it for the op through
``torch.ops.<ns>.paged_attention_v1`` (the overload packet, as call sites write it) and through
``.default``, next to the target, and a breakdown where the package offers one: the Python path
with the fast path off (the op's slow twin, ``aiter_swa._fast_path``), the torch dispatcher alone
(a no-op op of the same schema), the validation, the GPU dispatch with its launch, and the launch
alone.

    python op_tests/pa_v1/bench_host_cost.py [--calls 20000]

Self-contained (torch and the installed package only), so the same file measures an older checkout
(``PYTHONPATH=<old checkout> python op_tests/pa_v1/bench_host_cost.py``), which registered the op
as ``torch.ops.aiter.paged_attention_v1``.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time

import torch

TARGET_US = 12.0
#: Tokens of the serving-like rows' cache: their max_context_len cycles over more values than a cache keeps.
SERVING_MAX_CONTEXT = 8192


def per_call_us(rows, calls: int, repeats: int) -> list:
    """Host time per call of each ``(label, fn)`` row, in us: the median over ``repeats`` rounds of
    the mean over ``calls`` back-to-back calls. Each round times every row in turn, so a drift of the
    host's speed (frequency, neighbours) affects all rows alike."""
    for _, fn in rows:
        for _ in range(min(calls, 2000)):
            fn()
    torch.cuda.synchronize()
    rounds = {label: [] for label, _ in rows}
    for _ in range(repeats):
        for label, fn in rows:
            t0 = time.perf_counter_ns()
            for _ in range(calls):
                fn()
            rounds[label].append((time.perf_counter_ns() - t0) / calls / 1e3)
            torch.cuda.synchronize()
    return [(label, statistics.median(rounds[label])) for label, _ in rows]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("bench_host_cost: no GPU visible to torch; nothing to measure", file=sys.stderr)
        return 2
    import aiter_swa

    ns = "aiter_swa" if hasattr(torch.ops.aiter_swa, "paged_attention_v1") else "aiter"
    packet = getattr(torch.ops, ns).paged_attention_v1
    dev = "cuda"
    # Mistral-7B heads (32 / 8, head size 128), one sequence of 16 tokens, window 4096, bf16, HND.
    num_seqs, h, kvh, d, bs, ctx = 1, 32, 8, 128, 16, 16
    q = torch.randn(num_seqs, h, d, dtype=torch.bfloat16, device=dev)
    k = torch.randn(num_seqs * ctx // bs, kvh, bs, d, dtype=torch.bfloat16, device=dev)
    v = torch.randn_like(k)
    bt = torch.arange(num_seqs * ctx // bs, dtype=torch.int32, device=dev).view(num_seqs, -1)
    cl = torch.full((num_seqs,), ctx, dtype=torch.int32, device=dev)
    out = torch.empty_like(q)
    ws = torch.empty(max(1, aiter_swa.get_workspace_size(num_seqs, h, d, ctx, q.dtype, 4096)), dtype=torch.uint8,
                     device=dev)
    one = torch.ones(1, device=dev)
    tiny = torch.ones(1, device=dev)
    names = [x.name for x in packet.default._schema.arguments]
    values = dict(out=out, workspace_buffer=ws, query=q, key_cache=k, value_cache=v, scale=d**-0.5,
                  block_tables=bt, cu_query_lens=None, context_lens=cl, max_context_len=ctx, alibi_slopes=None,
                  kv_cache_dtype="auto", kv_cache_layout="HND", logits_soft_cap=0.0, k_scale=one, v_scale=one,
                  fp8_out_scale=None, partition_size=256, mtp=1, sliding_window=4096, sinks=None)
    args = tuple(values[n] for n in names)  # by the op's own schema

    rows = [(f"torch.ops.{ns}.paged_attention_v1(...)", lambda: packet(*args)),
            (f"torch.ops.{ns}.paged_attention_v1.default(...)", lambda: packet.default(*args))]
    # Serving-like: max_context_len changes every call (as in a decode loop) over more values than
    # either cache keeps (4096): a new metadata key every call where max_context_len is in the key
    # (before issue 7's per-call max_context_len: the cost of a miss), the same key where it is not.
    big_blocks = SERVING_MAX_CONTEXT // bs
    big = dict(values, key_cache=torch.randn(big_blocks, kvh, bs, d, dtype=torch.bfloat16, device=dev),
               block_tables=torch.arange(big_blocks, dtype=torch.int32, device=dev).view(1, -1),
               workspace_buffer=torch.empty(aiter_swa.get_workspace_size(num_seqs, h, d, SERVING_MAX_CONTEXT, q.dtype,
                                                                         4096), dtype=torch.uint8, device=dev))
    big["value_cache"] = torch.randn_like(big["key_cache"])
    big_args, at = [big[n] for n in names], names.index("max_context_len")
    steps = itertools.count()

    def serving_like(fn):
        big_args[at] = ctx + next(steps) % (SERVING_MAX_CONTEXT - ctx)
        fn(*big_args)

    rows.append(("  serving-like: a new max_context_len every call", lambda: serving_like(packet)))
    breakdown = []
    fast, fast_note = None, "not in this package"
    try:  # the fast path (aiter_swa._fast_path): the Python path is its slow twin, same schema and arguments
        from aiter_swa import _fast_path

        fast = _fast_path.stats(f"{ns}::paged_attention_v1")
        fast_note = _fast_path.failure() or f"{_fast_path.ENV}=0, or torch without a GPU backend"
        twin = torch.ops.aiter_swa._paged_attention_v1_slow.default
        breakdown.append(("  fast path off: the Python path (the op's slow twin)", lambda: twin(*args)))
        breakdown.append(("  fast path off, serving-like", lambda: serving_like(twin)))
    except (ImportError, AttributeError):  # an older layout, or the fast path off or not built
        fast = None
    lib = torch.library.Library("aiter_swa_bench_noop", "DEF")
    lib.define("noop" + str(packet.default._schema)[str(packet.default._schema).index("("):])
    lib.impl("noop", lambda *xs: None, "CUDA")
    noop = torch.ops.aiter_swa_bench_noop.noop.default
    breakdown.append(("  a one-element torch op on the GPU (Tensor.neg_), for scale", lambda: tiny.neg_()))
    breakdown.append(("  torch dispatcher, same schema, Python no-op kernel", lambda: noop(*args)))
    try:  # this package's layout: validation and GPU dispatch apart
        from aiter_swa.ops.pa_v1 import call as pa_call, gpu

        full = pa_call.full_args(args)
        breakdown.append(("  validation (call.lookup, cached per metadata)", lambda: pa_call.lookup(full)))
        breakdown.append(("  validation + GPU dispatch + launch (gpu.run)", lambda: gpu.run(full)))
        gpu.run(full)  # builds the plan
        plan, ptr = pa_call.lookup(full).gpu_plan, ws.data_ptr()
        from aiter_swa.ops.pa_v1.spec import LAUNCH

        per_call = dict(out=out.data_ptr(), query=q.data_ptr(), key_cache=k.data_ptr(), value_cache=v.data_ptr(),
                        block_tables=bt.data_ptr(), context_lens=cl.data_ptr(), workspace=ptr, scale=d**-0.5,
                        soft_cap=0.0, max_context_len=ctx,
                        stream=torch.cuda.current_stream().cuda_stream)  # absent tensors: 0
        launch_args = tuple(per_call.get(n, 0) for n in LAUNCH.call_names)  # the launch contract's order
        breakdown.append((f"  the launch alone (prepared launcher: {len(launch_args)} arguments + kernel launch)",
                          lambda: plan.launch(*launch_args)))
    except (ImportError, AttributeError):  # an older layout: no breakdown
        pass

    props = torch.cuda.get_device_properties(0)
    print(f"# host cost per call, {props.name}, torch {torch.__version__}, package {aiter_swa.__file__}")
    print(f"# case: Mistral-7B heads, 1 sequence x 16 tokens, window 4096, bf16; {a.calls} calls x {a.repeats} rounds")
    if fast is None:
        print(f"# fast path: not installed ({fast_note})")
    measured = per_call_us(rows + breakdown, a.calls, a.repeats)
    if fast is not None:
        after = _fast_path.stats(f"{ns}::paged_attention_v1")
        print(f"# fast path: {after['hits'] - fast['hits']} hits, {after['misses'] - fast['misses']} misses, "
              f"{after['entries']} entries during the rows")
    for label, us in measured:
        print(f"{label:58} {us:7.2f} us")
    best = min(us for _, us in measured[:2])
    print(f"target: <= {TARGET_US:.0f} us per call (Python entry to launch return) -> {best:.2f} us "
          f"({'met' if best <= TARGET_US else f'missed by {best - TARGET_US:.2f} us'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
