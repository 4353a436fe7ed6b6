"""transformers' continuous batching with ``aiter_swa.integrations.transformers`` (CPU, fp32).

Tiny randomly initialised Mistral (every layer windowed), Gemma-2 (sliding and full layers
alternating, attention soft cap) and gpt-oss (alternating, attention sinks) models generate
greedily through ``generate_batch`` with the integration on; the tokens must equal ``generate()``
with eager attention, token for token, with windows smaller than the generated length and
prompts longer than the window. Each case counts the ``paged_attention_v1`` calls, so a silent
fall-back fails it, and checks that the window / soft cap changes the reference tokens (so the
match says something about them). The GPU counterpart (bf16, log-probabilities, tokens/s):
``op_tests/integrations/gpu_transformers.py``.
"""

from __future__ import annotations

import logging

import pytest
import torch

pytest.importorskip("transformers", reason="transformers not installed (pip install -e '.[test]')")
pytest.importorskip("psutil", reason="psutil not installed: transformers' continuous batching needs it on the CPU")

from testlib.hf import cb_generate, count_op_calls, prompts, reference_tokens, set_softcap, tiny_model  # noqa: E402

import aiter_swa  # noqa: E402
from aiter_swa.integrations import transformers as integration  # noqa: E402

LOGGER = "aiter_swa.integrations.transformers"


@pytest.fixture(autouse=True)
def _clean_integration():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: threads only add contention on a shared CPU
    integration.reset_stats()
    yield
    integration.disable()
    integration.reset_stats()
    torch.set_num_threads(threads)


def _messages(caplog, level):
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == level]


# family, window, block size, prompt lengths, new tokens, extra config
CASES = [
    pytest.param("mistral", 48, 16, (100, 10, 49, 70), 56, {}, id="mistral-w48-bs16"),
    pytest.param("mistral", 32, 32, (45, 10, 33, 70), 40, {}, id="mistral-w32-bs32"),
    pytest.param("gemma2", 32, 16, (45, 10, 33, 70), 40, {"softcap": 5.0}, id="gemma2-w32-bs16-cap5"),
    pytest.param("gpt_oss", 32, 32, (45, 10, 33, 70), 40, {}, id="gpt_oss-w32-bs32-sinks"),
]


@pytest.mark.parametrize("family, window, block_size, lengths, new_tokens, extra", CASES)
def test_decode_rows_on_the_op_match_generate(family, window, block_size, lengths, new_tokens, extra, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    model = tiny_model(family, window=window, **extra)
    ps = prompts(lengths)
    assert max(lengths) > window and new_tokens > window
    ref = reference_tokens(model, ps, new_tokens)

    integration.enable(model)
    with count_op_calls() as calls:
        got = [o.generated_tokens for o in cb_generate(model, ps, new_tokens, block_size=block_size)]
    assert got == ref

    layers = model.config.num_hidden_layers
    sinks = family == "gpt_oss"
    if sinks and not integration.OP_TAKES_SINKS:
        # gpt-oss' sinks: transformers' path (the model's own eager attention) until the op takes them
        assert calls[0] == 0
        assert sum("attention sinks" in m for m in _messages(caplog, logging.WARNING)) == 1
    else:
        # one prefill step, then new_tokens - 1 decode-only steps, every layer on the op
        assert calls[0] == (new_tokens - 1) * layers
        assert _messages(caplog, logging.WARNING) == []
    assert integration.stats().get("op", 0) == calls[0]
    prefill_lines = [m for m in _messages(caplog, logging.INFO) if "prefill" in m]
    assert len(prefill_lines) == 1

    # The window (and Gemma-2's soft cap) change the reference tokens: the match above covers them.
    if family == "mistral":
        assert reference_tokens(tiny_model(family, window=None, **extra), ps, new_tokens) != ref
    if family == "gemma2":
        set_softcap(model, None)
        assert reference_tokens(model, ps, new_tokens) != ref


def test_chunked_prefill_and_mixed_steps():
    """A token budget smaller than the prompts: prefills are chunked, and their chunks share steps
    with the decode rows of requests already prefilled (decode rows go first in transformers'
    FIFO scheduler); those steps take transformers' path, the decode-only steps the op."""
    model = tiny_model("mistral", window=32)
    lengths, budget, new_tokens = (70, 10, 45, 90), 16, 40
    ps = prompts(lengths)
    ref = reference_tokens(model, ps, new_tokens)
    integration.enable(model)
    with count_op_calls() as calls:
        outs = cb_generate(model, ps, new_tokens, block_size=16, max_batch_tokens=budget)
    assert [o.generated_tokens for o in outs] == ref
    layers = model.config.num_hidden_layers
    # at least the last prefilled request's new_tokens - 1 decode steps are decode only
    assert calls[0] >= (new_tokens - 1) * layers
    assert integration.stats()["fallback:prefill"] // layers >= -(-sum(lengths) // budget)


@pytest.mark.parametrize(
    "window, block_size, extra, reason, needle",
    [
        pytest.param(32, 16, {"head_dim": 48}, "op", "head_size", id="head-size-48"),
        pytest.param(40, 16, {}, "ring", "not a multiple of block_size", id="window-not-multiple-of-block"),
    ],
)
def test_unsupported_layouts_fall_back(window, block_size, extra, reason, needle, caplog):
    """What the op cannot take goes to transformers' path with one warning, and the tokens stay right."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    model = tiny_model("mistral", window=window, **extra)
    ps = prompts((50, 12))
    ref = reference_tokens(model, ps, 12)
    integration.enable(model)
    with count_op_calls() as calls:
        got = [o.generated_tokens for o in cb_generate(model, ps, 12, block_size=block_size, num_blocks=32)]
    assert got == ref
    assert calls[0] == 0
    warnings = _messages(caplog, logging.WARNING)
    assert len(warnings) == 1 and needle in warnings[0], warnings
    assert integration.stats()[f"fallback:{reason}"] == 11 * model.config.num_hidden_layers


def _op_takes_block_size(block_size: int) -> bool:
    one = torch.zeros(1, 1, 64)
    cache = torch.zeros(1, block_size, 1, 64)
    try:
        aiter_swa.paged_attention(one, cache, cache, torch.zeros(1, 1, dtype=torch.int32),
                                  torch.ones(1, dtype=torch.int32), kv_cache_layout="NHD", max_context_len=1)  # fmt: skip
    except ValueError:
        return False
    return True


def test_transformers_default_block_size(caplog):
    """transformers' default block size (256): on the op once the op takes it (issue 9), else
    transformers' path with one warning naming the block size; the tokens are right either way."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    model = tiny_model("mistral", window=256)
    ps = prompts((300, 12))
    ref = reference_tokens(model, ps, 12)
    integration.enable(model)
    with count_op_calls() as calls:
        got = [o.generated_tokens for o in cb_generate(model, ps, 12, block_size=256, num_blocks=32,
                                                       max_batch_tokens=512)]  # fmt: skip
    assert got == ref
    layers = model.config.num_hidden_layers
    warnings = _messages(caplog, logging.WARNING)
    if _op_takes_block_size(256):
        assert calls[0] == 11 * layers and warnings == []
    else:
        assert calls[0] == 0
        assert len(warnings) == 1 and "block_size" in warnings[0], warnings
        assert integration.stats()["fallback:op"] == 11 * layers


def test_enable_scope_and_disable():
    """enable(model) routes that model only; enable() every model; disable() restores transformers'
    functions."""
    from transformers import AttentionInterface
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    before = {n: ALL_ATTENTION_FUNCTIONS[n] for n in integration.WRAPPED_NAMES}
    a, b = tiny_model("mistral", window=32, seed=0), tiny_model("mistral", window=32, seed=1)
    ps = prompts((40, 8))
    integration.enable(a)
    assert all(ALL_ATTENTION_FUNCTIONS[n] is not before[n] for n in integration.WRAPPED_NAMES)
    with count_op_calls() as calls:
        cb_generate(b, ps, 6, block_size=16)
    assert calls[0] == 0
    with count_op_calls() as calls:
        cb_generate(a, ps, 6, block_size=16)
    assert calls[0] == 5 * a.config.num_hidden_layers
    integration.enable()
    with count_op_calls() as calls:
        cb_generate(b, ps, 6, block_size=16)
    assert calls[0] == 5 * b.config.num_hidden_layers
    integration.disable(a)
    integration.disable()
    assert {n: AttentionInterface._global_mapping[n] for n in integration.WRAPPED_NAMES} == before
    with count_op_calls() as calls:
        cb_generate(a, ps, 6, block_size=16)
    assert calls[0] == 0


@pytest.mark.parametrize("version", ["4.57.6", "5.16.1", "5.18.0", "5.24.0"])
def test_enable_checks_the_transformers_version(version, monkeypatch):
    import transformers

    monkeypatch.setattr(transformers, "__version__", version)
    with pytest.raises(RuntimeError, match=rf"transformers: expected a version >=5\.17,<5\.18 .*got {version}"):
        integration.enable()
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    assert all(not ALL_ATTENTION_FUNCTIONS[n].__name__.startswith("aiter_swa") for n in integration.WRAPPED_NAMES)
