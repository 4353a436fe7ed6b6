"""Helpers for the transformers integration's tests and GPU script (no tests here).

Tiny randomly initialised models built from the real config classes (Mistral: every layer
windowed; Gemma-2: sliding and full layers alternating, attention soft cap; gpt-oss: alternating,
attention sinks), greedy reference tokens from ``generate()``, tokens from continuous batching
(``generate_batch``), teacher-forced log-probabilities, and a counter of the op calls the
integration makes. Import as ``from testlib.hf import ...``.
"""

from __future__ import annotations

import contextlib

import torch

FAMILIES = ("mistral", "gemma2", "gpt_oss")


def tiny_config(family: str, *, window: int | None, head_dim: int = 64, num_heads: int = 4, num_kv_heads: int = 2,
                layers: int = 2, softcap: float | None = None, **overrides):  # fmt: skip
    """The family's real config class with tiny sizes; ``window=None``: no sliding window."""
    from transformers import Gemma2Config, GptOssConfig, MistralConfig

    common = dict(
        vocab_size=128, hidden_size=128, intermediate_size=256, num_hidden_layers=layers,
        num_attention_heads=num_heads, num_key_value_heads=num_kv_heads, head_dim=head_dim,
        max_position_embeddings=1024, sliding_window=window, bos_token_id=1, eos_token_id=2, pad_token_id=0,
    )  # fmt: skip
    common.update(overrides)
    if family == "mistral":
        return MistralConfig(**common)
    if family == "gemma2":
        if window is None:  # Gemma-2 always alternates; no window at all = a window longer than any sequence
            common["sliding_window"] = common["max_position_embeddings"]
        return Gemma2Config(**common, attn_logit_softcapping=softcap, final_logit_softcapping=None,
                            query_pre_attn_scalar=head_dim)  # fmt: skip
    if family == "gpt_oss":
        if window is None:
            common["sliding_window"] = common["max_position_embeddings"]
        return GptOssConfig(**common, num_local_experts=4, num_experts_per_tok=2)
    raise ValueError(f"family: expected one of {FAMILIES}, got {family!r}")


def tiny_model(family: str, *, window: int | None, dtype=torch.float32, device="cpu", sharpen: float = 8.0,
               seed: int = 0, attn_implementation: str = "eager", **config):  # fmt: skip
    """A randomly initialised tiny model of ``family`` (same ``seed``: same weights whatever the window).

    ``sharpen`` multiplies the query and key projections, so attention logits are several units
    large (random init leaves them near 0, where neither the window nor a soft cap of a few units
    changes a token); the tests check that they do change tokens here.
    """
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    cfg = tiny_config(family, window=window, **config)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(cfg, attn_implementation=attn_implementation, dtype=dtype)
    with torch.no_grad():
        for layer in model.model.layers:
            layer.self_attn.q_proj.weight.mul_(sharpen)
            layer.self_attn.k_proj.weight.mul_(sharpen)
    return model.eval()


def set_softcap(model, value):
    """Set the attention soft cap of every layer of a Gemma-2 model (``None``: off)."""
    for layer in model.model.layers:
        layer.self_attn.attn_logit_softcapping = value


def prompts(lengths, vocab: int = 128, seed: int = 1) -> list:
    """Random prompts of the given lengths (token ids >= 3: no bos/eos/pad)."""
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(3, vocab, (n,), generator=g).tolist() for n in lengths]


@torch.no_grad()
def reference_tokens(model, prompt_list, max_new_tokens: int) -> list:
    """Greedy tokens of ``generate()`` (the model's own attention, its own cache), one prompt at a time."""
    out = []
    for p in prompt_list:
        ids = torch.tensor([p], device=model.device)
        gen = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
                             do_sample=False, eos_token_id=None, pad_token_id=0)  # fmt: skip
        out.append(gen[0, len(p):].tolist())
    return out


def cb_generate(model, prompt_list, max_new_tokens: int, *, block_size: int, num_blocks: int = 128,
                max_batch_tokens: int = 256, return_logprobs: bool = False,
                record_timestamps: bool = False):  # fmt: skip
    """``generate_batch`` (continuous batching), greedy, no EOS: the outputs in prompt order."""
    from transformers import ContinuousBatchingConfig, GenerationConfig

    gen_cfg = GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=-1, pad_token_id=0)
    cb_cfg = ContinuousBatchingConfig(block_size=block_size, num_blocks=num_blocks, max_batch_tokens=max_batch_tokens,
                                      return_logprobs=return_logprobs)  # fmt: skip
    res = model.generate_batch(prompt_list, generation_config=gen_cfg, continuous_batching_config=cb_cfg,
                               record_timestamps=record_timestamps)  # fmt: skip
    outs = list(res.values())
    if len(outs) != len(prompt_list) or any(o.error is not None for o in outs):
        raise RuntimeError(f"generate_batch: expected {len(prompt_list)} finished requests, got {outs}")
    return outs


@torch.no_grad()
def teacher_forced_logprobs(model, prompt, tokens) -> tuple:
    """Log-probabilities under ``model`` (one full forward, no cache) of ``tokens`` after ``prompt``,
    and of the most likely token at each step: two float lists."""
    ids = torch.tensor([list(prompt) + list(tokens)], device=model.device)
    logits = model(ids).logits[0, len(prompt) - 1 : -1].float()
    lp = torch.log_softmax(logits, dim=-1)
    chosen = lp.gather(1, torch.tensor(tokens, device=lp.device)[:, None])[:, 0]
    return chosen.tolist(), lp.max(dim=-1).values.tolist()


@contextlib.contextmanager
def count_op_calls():
    """Count the ``paged_attention_v1`` calls the integration makes and the op serves (from any
    thread: continuous batching runs its generation loop in a thread of its own). Yields a
    one-element list."""
    from aiter_swa.integrations import transformers as integration

    calls = [0]
    real = integration._paged_attention_v1

    def counting(*args, **kwargs):
        real(*args, **kwargs)  # a call the op refuses (it raises, writing nothing) is not counted
        calls[0] += 1

    integration._paged_attention_v1 = counting
    try:
        yield calls
    finally:
        integration._paged_attention_v1 = real
