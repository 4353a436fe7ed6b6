"""Per-kernel GPU time of ``paged_attention_v1`` (a script, not a test): partition and reduce apart.

Runs the op eagerly at a few shapes under ``torch.profiler`` (CUPTI kernel records, no hardware
counters needed) and prints each GPU kernel's mean duration. Inputs rotate over enough sets to
exceed the L2 cache. Self-contained (torch and the installed package only, the op called by its
schema's argument names), so the same file measures an older checkout:
``PYTHONPATH=<old site> python op_tests/pa_v1/kernel_times.py``.

    python op_tests/pa_v1/kernel_times.py [--calls 200]
"""

from __future__ import annotations

import argparse
import collections
import sys

import torch

SHAPES = {  # name: (num_heads, num_kv_heads, head_size, batch, context, window)
    "seed w128": (32, 4, 128, 8, 9216, 128),
    "seed w8192": (32, 4, 128, 8, 9216, 8192),
    "mistral w1024": (32, 8, 128, 32, 16384, 1024),
    "mistral w4096": (32, 8, 128, 32, 16384, 4096),
    "gpt-oss w128": (64, 8, 64, 64, 16384, 128),
    "mistral B1 w4096": (32, 8, 128, 1, 32768, 4096),
}
L2_BYTES = 60 * 2**20


def _inputs(op, h, kvh, d, batch, ctx, window, seed, workspace="window"):
    import aiter_swa

    gen = torch.Generator(device="cuda").manual_seed(seed)
    bs = 16
    attended = min(ctx, window) if window > 0 else ctx
    blocks_per_seq = -(-ctx // bs)
    live = -(-attended // bs) + 1
    num_blocks = batch * live + 1
    k = torch.empty(num_blocks, kvh, bs, d, dtype=torch.bfloat16, device="cuda").uniform_(-1, 1, generator=gen)
    v = torch.empty_like(k).uniform_(-1, 1, generator=gen)
    bt = torch.zeros(batch, blocks_per_seq, dtype=torch.int32, device="cuda")  # pre-window entries: null block 0
    ids = 1 + torch.randperm(num_blocks - 1, device="cuda", generator=gen).to(torch.int32)
    first = blocks_per_seq - live
    bt[:, max(first, 0):] = ids[: batch * min(live, blocks_per_seq)].view(batch, -1)
    q = torch.empty(batch, h, d, dtype=torch.bfloat16, device="cuda").uniform_(-1, 1, generator=gen)
    cl = torch.full((batch,), ctx, dtype=torch.int32, device="cuda")
    ws_window = window if workspace == "window" else 0  # "aiter": ceil(ctx / 256) partitions, as aiter sizes it
    ws = torch.empty(max(1, aiter_swa.get_workspace_size(batch, h, d, ctx, q.dtype, ws_window)), dtype=torch.uint8,
                     device="cuda")  # fmt: skip
    one = torch.ones(1, device="cuda")
    values = dict(out=torch.empty_like(q), workspace_buffer=ws, query=q, key_cache=k, value_cache=v, scale=d**-0.5,
                  block_tables=bt, cu_query_lens=None, context_lens=cl, max_context_len=ctx, alibi_slopes=None,
                  kv_cache_dtype="auto", kv_cache_layout="HND", logits_soft_cap=0.0, k_scale=one, v_scale=one,
                  fp8_out_scale=None, partition_size=256, mtp=1, sliding_window=window, sinks=None)  # fmt: skip
    names = [a.name for a in op._schema.arguments]
    return tuple(values[n] for n in names), 2 * k.numel() * 2


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    ap.add_argument("--workspace", choices=("window", "aiter"), default="window",
                    help="workspace_buffer's size: the least the op takes with the window, or aiter's "
                    "(ceil(ctx / 256) partitions; the benchmark's default, which lets batch 1 split finer)")
    a = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("kernel_times: no GPU visible to torch", file=sys.stderr)
        return 2
    import aiter_swa

    ns = "aiter_swa" if hasattr(torch.ops.aiter_swa, "paged_attention_v1") else "aiter"
    op = getattr(torch.ops, ns).paged_attention_v1.default
    print(f"# per-kernel mean GPU time (us), {torch.cuda.get_device_name()}, package {aiter_swa.__file__}")
    for name in a.shapes:
        sets, total = [], 0
        while total < 4 * L2_BYTES or len(sets) < 2:
            args, nbytes = _inputs(op, *SHAPES[name], seed=len(sets), workspace=a.workspace)
            sets.append(args)
            total += nbytes
        for i in range(20):
            op(*sets[i % len(sets)])
        torch.cuda.synchronize()
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
            for i in range(a.calls):
                op(*sets[i % len(sets)])
            torch.cuda.synchronize()
        per_kernel = collections.defaultdict(list)
        for e in prof.events():
            if e.device_type == torch.autograd.DeviceType.CUDA:
                per_kernel[e.name].append(e.device_time if hasattr(e, "device_time") else e.cuda_time)
        for kname, times in sorted(per_kernel.items()):
            short = "partition" if "partition" in kname else "reduce" if "reduce" in kname else kname[:40]
            print(f"{name:14} {short:10} n={len(times):4d} mean {sum(times) / len(times):8.2f} us  ({kname[:90]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
