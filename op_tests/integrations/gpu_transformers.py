"""transformers' continuous batching on ``paged_attention_v1``, on a GPU (a script, not a test).

    python op_tests/integrations/gpu_transformers.py [--check] [--bench] [--requests 32 --prompt 1536 --new 128]

``--check`` (bf16): tiny random Mistral (every layer windowed, head size 128), Gemma-2 (alternating,
soft cap 5, head size 256) and gpt-oss (alternating, sinks: transformers' path until the op takes
them) generate greedily through ``generate_batch`` with the integration on; each generated token's
log-probability (``return_logprobs``) is compared with a float32 eager forward of the same weights
over the same tokens (teacher forcing), next to the same numbers for transformers' own continuous
batching in bf16. Passes when the largest log-probability difference and the largest "greedy
gap" (the float32 log-probability of the best token minus that of the token chosen) are both
under ``--tol`` nats or no larger than transformers' own bf16 path gives on the same model, and
the op served every decode step (counted; none for gpt-oss until the op takes sinks). One more run checks that the
integration's code makes no host-device synchronisation (``torch.cuda.set_sync_debug_mode``).

``--bench``: a Mistral-7B-shaped random model with fewer layers (hidden 4096, 32 heads, 8 KV heads,
head size 128, intermediate 14336, vocabulary 32000; ``--layers``, ``--window``) serves ``--requests``
prompts of ``--prompt`` tokens, ``--new`` new tokens each, through ``generate_batch``, with the
integration and with transformers' own path (``paged|sdpa``), runs in the order A-B-A (the two A
runs give the run-to-run spread). Reports wall time, tokens/s over the whole call, and decode
tokens/s from the per-token timestamps (tokens produced after every request has its first token,
over the time from then to the last token).

Prints a short table last; ``--json PATH`` writes every number.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time

import torch

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"  # the CPU only to try the script out

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from testlib.hf import cb_generate, count_op_calls, prompts, teacher_forced_logprobs, tiny_model  # noqa: E402

from aiter_swa.integrations import transformers as integration  # noqa: E402

CHECK_MODELS = {
    # family: tiny-model config (real head sizes of Mistral-7B, Gemma-2 and gpt-oss)
    "mistral": dict(head_dim=128, num_heads=8, num_kv_heads=2),
    "gemma2": dict(head_dim=256, num_heads=4, num_kv_heads=2, softcap=5.0),
    "gpt_oss": dict(head_dim=64, num_heads=4, num_kv_heads=2),
}


def logprob_errors(model32, ps, outs):
    """max |logprob - fp32 logprob| and max greedy gap over every generated token."""
    max_diff, max_gap, n = 0.0, 0.0, 0
    for p, o in zip(ps, outs):
        ref, best = teacher_forced_logprobs(model32, p, o.generated_tokens)
        max_diff = max(max_diff, max(abs(a - b) for a, b in zip(o.logprobs, ref)))
        max_gap = max(max_gap, max(b - a for a, b in zip(ref, best)))
        n += len(ref)
    return max_diff, max_gap, n


def check(args, results):
    ok = True
    window, block_size, new = 64, 32, 100
    ps = prompts((150, 20, 70, 200))
    for family, cfg in CHECK_MODELS.items():
        model = tiny_model(family, window=window, dtype=torch.bfloat16, device=DEVICE, sharpen=4.0, **cfg)
        model32 = copy.deepcopy(model).float()
        layers = model.config.num_hidden_layers
        integration.enable(model)
        integration.reset_stats()
        with count_op_calls() as calls:
            ours = cb_generate(model, ps, new, block_size=block_size, return_logprobs=True)
        stats = integration.stats()
        integration.disable()
        theirs = cb_generate(model, ps, new, block_size=block_size, return_logprobs=True)
        d_ours, g_ours, n = logprob_errors(model32, ps, ours)
        d_theirs, g_theirs, _ = logprob_errors(model32, ps, theirs)
        sinks = family == "gpt_oss" and not integration.OP_TAKES_SINKS
        want_calls = 0 if sinks else (new - 1) * layers
        # within the tolerance, or no worse than transformers' own bf16 path on the same model
        close = max(d_ours, g_ours) <= args.tol or (d_ours <= d_theirs and g_ours <= g_theirs)
        passed = close and calls[0] == want_calls
        ok &= passed
        results["check"][family] = dict(
            tokens=n, op_calls=calls[0], expected_op_calls=want_calls, stats=stats,
            max_logprob_diff=d_ours, max_greedy_gap=g_ours,
            transformers_max_logprob_diff=d_theirs, transformers_max_greedy_gap=g_theirs, passed=passed,
        )  # fmt: skip
        print(f"check {family:8s} tokens {n}  op calls {calls[0]}/{want_calls}  ours: max|dlogprob| {d_ours:.4f} "
              f"gap {g_ours:.4f}  transformers' CB bf16: {d_theirs:.4f} gap {g_theirs:.4f}  "
              f"{'PASS' if passed else 'FAIL'}", flush=True)  # fmt: skip
        del model, model32

    if DEVICE != "cuda":
        return ok
    # No host-device synchronisation inside the integration's decode path (kernels are loaded by now).
    model = tiny_model("mistral", window=window, dtype=torch.bfloat16, device=DEVICE, **CHECK_MODELS["mistral"])
    real = integration._decode

    def no_sync_decode(*a, **k):
        torch.cuda.set_sync_debug_mode("error")
        try:
            return real(*a, **k)
        finally:
            torch.cuda.set_sync_debug_mode("default")

    integration.enable(model)
    integration._decode = no_sync_decode
    try:
        with count_op_calls() as calls:
            cb_generate(model, ps, 20, block_size=block_size)
        sync_ok, why = calls[0] == 19 * model.config.num_hidden_layers, f"op calls {calls[0]}"
    except RuntimeError as e:
        sync_ok, why = False, str(e)
    finally:
        integration._decode = real
        integration.disable()
    ok &= sync_ok
    results["check"]["no_host_sync"] = dict(passed=sync_ok, detail=why)
    print(f"check no host-device sync in the decode path: {'PASS' if sync_ok else 'FAIL'} ({why})", flush=True)
    return ok


def bench_model(args):
    from transformers import AutoModelForCausalLM, MistralConfig

    cfg = MistralConfig(
        vocab_size=32000, hidden_size=4096, intermediate_size=14336, num_hidden_layers=args.layers,
        num_attention_heads=32, num_key_value_heads=8, head_dim=128, sliding_window=args.window,
        max_position_embeddings=32768, bos_token_id=1, eos_token_id=2, pad_token_id=0,
    )  # fmt: skip
    torch.manual_seed(0)
    with torch.device(DEVICE):
        return AutoModelForCausalLM.from_config(cfg, attn_implementation="sdpa", dtype=torch.bfloat16).eval()


def timed_run(model, ps, args, ours: bool):
    if ours:
        integration.enable(model)
        integration.reset_stats()
    try:
        if DEVICE == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        outs = cb_generate(model, ps, args.new, block_size=args.block_size, num_blocks=args.num_blocks,
                           max_batch_tokens=args.max_batch_tokens, record_timestamps=True)  # fmt: skip
        wall = time.perf_counter() - t0
        stats = integration.stats() if ours else {}
    finally:
        integration.disable()
    firsts = [o.timestamps[0] for o in outs]
    start, end = max(firsts), max(o.timestamps[-1] for o in outs)
    decode_tokens = sum(sum(t > start for t in o.timestamps) for o in outs)
    total = sum(len(o.generated_tokens) for o in outs)
    return dict(wall_s=wall, tokens=total, tokens_per_s=total / wall, decode_tokens=decode_tokens,
                decode_s=end - start, decode_tokens_per_s=decode_tokens / (end - start), stats=stats)  # fmt: skip


def bench(args, results):
    model = bench_model(args)
    ps = prompts([args.prompt] * args.requests, vocab=32000, seed=2)
    warm = argparse.Namespace(**{**vars(args), "new": 4})
    for ours in (True, False):  # warm-up: kernels loaded, allocator grown, transformers' paths traced once
        timed_run(model, ps[:4], warm, ours)
    runs = []
    for label, ours in (("aiter_swa", True), ("transformers", False), ("aiter_swa", True)):
        r = timed_run(model, ps, args, ours)
        r["label"] = label
        runs.append(r)
        print(f"bench {label:12s} wall {r['wall_s']:.2f} s  {r['tokens_per_s']:.0f} tok/s overall  "
              f"decode {r['decode_tokens_per_s']:.0f} tok/s ({r['decode_tokens']} tokens in {r['decode_s']:.2f} s)  "
              f"{r['stats']}", flush=True)  # fmt: skip
    config = dict(layers=args.layers, window=args.window, requests=args.requests, prompt=args.prompt, new=args.new,
                  block_size=args.block_size)  # fmt: skip
    results["bench"] = dict(config=config, runs=runs)
    return runs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--tol", type=float, default=0.1, help="nats (default 0.1)")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--window", type=int, default=1024)
    ap.add_argument("--requests", type=int, default=32)
    ap.add_argument("--prompt", type=int, default=1536)
    ap.add_argument("--new", type=int, default=128)
    ap.add_argument("--block-size", type=int, default=32)
    ap.add_argument("--num-blocks", type=int, default=2048)
    ap.add_argument("--max-batch-tokens", type=int, default=4096)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if not (args.check or args.bench):
        args.check = args.bench = True
    import transformers

    device = torch.cuda.get_device_name() if DEVICE == "cuda" else "cpu"
    results = dict(device=device, torch=torch.__version__, transformers=transformers.__version__, check={})
    print(f"device {results['device']}  torch {torch.__version__}  transformers {transformers.__version__}", flush=True)
    ok = True
    if args.check:
        ok &= check(args, results)
    if args.bench:
        runs = bench(args, results)
        ours = [r["decode_tokens_per_s"] for r in runs if r["label"] == "aiter_swa"]
        theirs = [r["decode_tokens_per_s"] for r in runs if r["label"] == "transformers"]
        print(f"decode tokens/s: aiter_swa {min(ours):.0f}-{max(ours):.0f}, transformers {theirs[0]:.0f} "
              f"(x{min(ours) / theirs[0]:.2f}-{max(ours) / theirs[0]:.2f})")  # fmt: skip
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
