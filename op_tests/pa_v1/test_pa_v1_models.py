"""Model configs -> attention layers -> pa_v1 kernels (``aiter_swa.ops.pa_v1.models``) and the
pre-build's ``--hf-config`` (issue 11, item 2).

The configs are written here, shaped like the ``config.json`` of public checkpoints of each family
(keys and values as those files have them; a ``save_pretrained`` config lists only what differs
from the class defaults, so some leave keys out on purpose). Where transformers is installed, every
config is also read by transformers' own configuration class and attention module (built on the
meta device), which must agree layer by layer: the independent check of the semantics.
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import os
import subprocess
import sys

import pytest

from aiter_swa.jit import prebuild, registry
from aiter_swa.ops.pa_v1 import models
from aiter_swa.ops.pa_v1.spec import OP, PaV1Spec
from testlib.jit import JIT_ENV, toolchain_problem

S, F = "sliding_attention", "full_attention"

CONFIGS = {
    # Mistral-7B-v0.1: every layer windowed.
    "mistral_v01": {"architectures": ["MistralForCausalLM"], "model_type": "mistral", "hidden_size": 4096,
                    "num_attention_heads": 32, "num_key_value_heads": 8, "num_hidden_layers": 32,
                    "sliding_window": 4096, "torch_dtype": "bfloat16"},
    # Mistral-7B-v0.3: no window.
    "mistral_v03": {"model_type": "mistral", "hidden_size": 4096, "num_attention_heads": 32, "num_key_value_heads": 8,
                    "num_hidden_layers": 32, "sliding_window": None, "torch_dtype": "bfloat16"},
    # A save_pretrained diff: sliding_window left out, so MistralConfig's default 4096 applies; small.
    "mistral_tiny_default_window": {"model_type": "mistral", "hidden_size": 256, "num_attention_heads": 4,
                                    "num_key_value_heads": 2, "num_hidden_layers": 3, "head_dim": 64, "dtype": "float16"},
    # gemma-2-9b: alternating (even layers windowed), soft cap 50, scale query_pre_attn_scalar ** -0.5.
    "gemma2_9b": {"model_type": "gemma2", "hidden_size": 3584, "num_attention_heads": 16, "num_key_value_heads": 8,
                  "head_dim": 256, "num_hidden_layers": 42, "sliding_window": 4096, "attn_logit_softcapping": 50.0,
                  "final_logit_softcapping": 30.0, "query_pre_attn_scalar": 256, "torch_dtype": "float32"},
    # gemma-2-27b: head_dim 128, query_pre_attn_scalar 144.
    "gemma2_27b": {"model_type": "gemma2", "hidden_size": 4608, "num_attention_heads": 32, "num_key_value_heads": 16,
                   "head_dim": 128, "num_hidden_layers": 46, "sliding_window": 4096, "attn_logit_softcapping": 50.0,
                   "query_pre_attn_scalar": 144, "torch_dtype": "bfloat16"},
    # gemma-3-4b-it: the multimodal wrapper; heads, head_dim and the pattern (6) are Gemma3TextConfig defaults.
    "gemma3_4b": {"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
                  "text_config": {"hidden_size": 2560, "intermediate_size": 10240, "model_type": "gemma3_text",
                                  "num_hidden_layers": 34, "sliding_window": 1024},
                  "vision_config": {"model_type": "siglip_vision_model"}, "torch_dtype": "bfloat16"},
    # gemma-3-1b-it: a text model with an old-style sliding_window_pattern.
    "gemma3_1b": {"model_type": "gemma3_text", "hidden_size": 1152, "num_attention_heads": 4, "num_key_value_heads": 1,
                  "head_dim": 256, "num_hidden_layers": 26, "sliding_window": 512, "sliding_window_pattern": 6,
                  "query_pre_attn_scalar": 256, "torch_dtype": "bfloat16"},
    # gpt-oss-20b: alternating, window 128, attention sinks in every layer.
    "gpt_oss_20b": {"model_type": "gpt_oss", "hidden_size": 2880, "num_attention_heads": 64, "num_key_value_heads": 8,
                    "head_dim": 64, "num_hidden_layers": 24, "sliding_window": 128,
                    "layer_types": [S, F] * 12, "torch_dtype": "bfloat16"},
    # Phi-3-mini-4k-instruct: every layer windowed (2047), MHA, head size 96.
    "phi3_mini": {"model_type": "phi3", "hidden_size": 3072, "num_attention_heads": 32, "num_key_value_heads": 32,
                  "num_hidden_layers": 32, "sliding_window": 2047, "torch_dtype": "bfloat16"},
    # Phi-3-medium: GQA 4, head size 128.
    "phi3_medium": {"model_type": "phi3", "hidden_size": 5120, "num_attention_heads": 40, "num_key_value_heads": 10,
                    "num_hidden_layers": 40, "sliding_window": 131072, "torch_dtype": "bfloat16"},
    # Qwen2-7B-Instruct: use_sliding_window false, so no layer is windowed; GQA 7 -> bucket 8.
    "qwen2_7b": {"model_type": "qwen2", "hidden_size": 3584, "num_attention_heads": 28, "num_key_value_heads": 4,
                 "num_hidden_layers": 28, "use_sliding_window": False, "sliding_window": 131072,
                 "max_window_layers": 28, "torch_dtype": "bfloat16"},
    # Qwen2 with the window on: layers >= max_window_layers are windowed.
    "qwen2_swa": {"model_type": "qwen2", "hidden_size": 896, "num_attention_heads": 14, "num_key_value_heads": 2,
                  "num_hidden_layers": 24, "use_sliding_window": True, "sliding_window": 4096,
                  "max_window_layers": 21, "torch_dtype": "bfloat16"},
    # Llama-3.1-8B: full attention.
    "llama31_8b": {"model_type": "llama", "hidden_size": 4096, "num_attention_heads": 32, "num_key_value_heads": 8,
                   "num_hidden_layers": 32, "torch_dtype": "bfloat16"},
    # Llama-3.2-1B: head_dim given.
    "llama32_1b": {"model_type": "llama", "hidden_size": 2048, "num_attention_heads": 32, "num_key_value_heads": 8,
                   "head_dim": 64, "num_hidden_layers": 16, "torch_dtype": "bfloat16"},
}  # fmt: skip

# What each config must give: (number of layers, indices of the windowed layers, window, heads, KV heads,
# head size, soft cap, sinks, scale). Derived from the configs by hand, not by the code under test.
EXPECTED = {
    "mistral_v01": (32, set(range(32)), 4096, 32, 8, 128, 0.0, False, 128 ** -0.5),
    "mistral_v03": (32, set(), 0, 32, 8, 128, 0.0, False, 128 ** -0.5),
    "mistral_tiny_default_window": (3, {0, 1, 2}, 4096, 4, 2, 64, 0.0, False, 64 ** -0.5),
    "gemma2_9b": (42, set(range(0, 42, 2)), 4096, 16, 8, 256, 50.0, False, 256 ** -0.5),
    "gemma2_27b": (46, set(range(0, 46, 2)), 4096, 32, 16, 128, 50.0, False, 144 ** -0.5),
    "gemma3_4b": (34, set(range(34)) - {5, 11, 17, 23, 29}, 1024, 8, 4, 256, 0.0, False, 256 ** -0.5),
    "gemma3_1b": (26, set(range(26)) - {5, 11, 17, 23}, 512, 4, 1, 256, 0.0, False, 256 ** -0.5),
    "gpt_oss_20b": (24, set(range(0, 24, 2)), 128, 64, 8, 64, 0.0, True, 64 ** -0.5),
    "phi3_mini": (32, set(range(32)), 2047, 32, 32, 96, 0.0, False, 96 ** -0.5),
    "phi3_medium": (40, set(range(40)), 131072, 40, 10, 128, 0.0, False, 128 ** -0.5),
    "qwen2_7b": (28, set(), 0, 28, 4, 128, 0.0, False, 128 ** -0.5),
    "qwen2_swa": (24, {21, 22, 23}, 4096, 14, 2, 64, 0.0, False, 64 ** -0.5),
    "llama31_8b": (32, set(), 0, 32, 8, 128, 0.0, False, 128 ** -0.5),
    "llama32_1b": (16, set(), 0, 32, 8, 64, 0.0, False, 64 ** -0.5),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_attention_layers_of_each_family(name):
    n, windowed, window, heads, kv_heads, head_size, cap, sinks, scale = EXPECTED[name]
    layers = models.attention_layers(CONFIGS[name])
    assert [x.index for x in layers] == list(range(n))
    assert {x.index for x in layers if x.sliding_window > 0} == windowed
    assert {x.sliding_window for x in layers if x.index in windowed} <= {window}
    assert all(x.layer_type == S for x in layers if x.index in windowed)
    for x in layers:
        assert (x.num_heads, x.num_kv_heads, x.head_size, x.soft_cap, x.sinks) == (heads, kv_heads, head_size, cap, sinks)
        assert x.scale == pytest.approx(scale)


def _hf_config(config: dict):
    transformers = pytest.importorskip("transformers", reason="transformers is not installed")
    return transformers.AutoConfig.for_model(**config)


def _hf_layers(config: dict) -> list:
    """What transformers itself builds from ``config``: per layer (window or None, heads, KV heads,
    head size, soft cap or None, has sinks, scale), read off its attention modules (meta device)."""
    import torch

    cfg = _hf_config(config)
    text = cfg.get_text_config()
    mtype = text.model_type
    pkg = {"gemma3_text": "gemma3"}.get(mtype, mtype)
    mod = importlib.import_module(f"transformers.models.{pkg}.modeling_{pkg}")
    prefix = {"gpt_oss": "GptOss", "gemma3_text": "Gemma3", "qwen2": "Qwen2", "phi3": "Phi3"}.get(mtype, mtype.capitalize())
    attn_cls = getattr(mod, f"{prefix}Attention")
    out = []
    with torch.device("meta"):
        for i in range(text.num_hidden_layers):
            a = attn_cls(text, layer_idx=i)
            if hasattr(a, "sliding_window"):
                window = a.sliding_window
            elif mtype in ("mistral", "phi3"):  # their forward passes getattr(self.config, "sliding_window", None)
                window = getattr(text, "sliding_window", None)
            else:  # LlamaAttention passes no window
                window = None
            out.append((window, text.num_attention_heads, text.num_key_value_heads, a.head_dim,
                        getattr(a, "attn_logit_softcapping", None), hasattr(a, "sinks"), a.scaling))
    return out


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_attention_layers_agree_with_transformers(name):
    expected = _hf_layers(CONFIGS[name])
    got = [(x.sliding_window or None, x.num_heads, x.num_kv_heads, x.head_size, x.soft_cap or None, x.sinks, x.scale)
           for x in models.attention_layers(CONFIGS[name])]
    assert len(got) == len(expected)
    for i, (g, e) in enumerate(zip(got, expected)):
        assert g[:6] == e[:6], f"layer {i}: {g} vs transformers {e}"
        assert g[6] == pytest.approx(e[6]), f"layer {i}: scale"
    # a transformers config object's to_dict() (what an integration holds) reads the same
    as_dict = _hf_config(CONFIGS[name]).to_dict()
    assert models.attention_layers(as_dict) == models.attention_layers(CONFIGS[name])
    assert models.model_dtype(as_dict) == models.model_dtype(CONFIGS[name])


def test_layer_types_override_the_pattern_and_legacy_names_map():
    cfg = dict(CONFIGS["gemma3_1b"], num_hidden_layers=4, layer_types=[F, "attention", S, S])
    assert [x.sliding_window for x in models.attention_layers(cfg)] == [0, 0, 512, 512]
    # Qwen2 keeps layer_types but drops the window when use_sliding_window is false
    q = dict(CONFIGS["qwen2_swa"], num_hidden_layers=2, layer_types=[S, F], use_sliding_window=False)
    assert [x.sliding_window for x in models.attention_layers(q)] == [0, 0]
    # MistralConfig ignores layer_types (transformers warns and keeps every layer windowed)
    m = dict(CONFIGS["mistral_v01"], num_hidden_layers=2, layer_types=[F, F])
    assert [x.sliding_window for x in models.attention_layers(m)] == [4096, 4096]


@pytest.mark.parametrize("change, message", [
    ({"model_type": "bert"}, "model_type: expected one of"),
    ({"model_type": None}, "model_type: expected one of"),
    ({"num_attention_heads": 0}, "num_attention_heads: expected a positive integer, got 0"),
    ({"num_key_value_heads": 3}, "num_attention_heads / num_key_value_heads: expected a whole number"),
    ({"sliding_window": -5}, "sliding_window: expected a positive integer or null, got -5"),
    ({"layer_types": [S]}, "layer_types: expected a list of num_hidden_layers = 42"),
    ({"layer_types": ["linear_attention"] * 42}, "layer_types: expected only 'full_attention' and 'sliding_attention'"),
    ({"use_bidirectional_attention": True}, "use_bidirectional_attention: expected false"),
    ({"attn_logit_softcapping": "fifty"}, "attn_logit_softcapping: expected a number"),
])  # fmt: skip
def test_bad_configs_name_the_key(change, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        models.attention_layers(dict(CONFIGS["gemma2_9b"], **change))


def test_kernel_specs_are_the_distinct_specializations():
    layers = models.attention_layers(CONFIGS["gemma2_9b"])
    specs = models.kernel_specs(layers, ["gfx942", "gfx90a"], "bf16")
    base = dict(q_dtype="bf16", kv_dtype="bf16", out_dtype="bf16", head_size=256, gqa=2, soft_cap=True, alibi=False)
    assert specs == [PaV1Spec(**base, sliding_window=w, arch=a) for a in ("gfx942", "gfx90a") for w in (True, False)]
    # GQA 7 (Qwen2-7B) rounds up to the bucket 8; one spec serves every block size (a run-time value)
    q = models.kernel_specs(models.attention_layers(CONFIGS["qwen2_7b"]), ["gfx942"], "fp16")
    assert [(s.gqa, s.sliding_window) for s in q] == [(8, False)]


def test_kernel_specs_cover_the_batch_rule():
    """Mistral (GQA 4) on sm_90: the vector kernel of a large batch and the matrix-core kernel the
    dispatch picks at batch 1 (spec.choose_kernel's batch rule), both pre-built; gfx942 has no such
    rule (its one-token calls stay on the vector kernel), so only the vector one. The warp-split rule
    (GQA >= 4 on the warp split, any batch) picks that same matrix-core kernel: nothing more to pre-build."""
    from aiter_swa.ops.pa_v1.spec import MMA_ONE_TOKEN_MAX_PAIRS, choose_kernel

    layers = models.attention_layers(CONFIGS["mistral_v01"])
    specs = models.kernel_specs(layers, ["sm_90", "gfx942"], "bf16")
    assert [(s.arch, s.gqa, s.mma_rows) for s in specs] == [("sm_90", 4, 0), ("sm_90", 1, 16), ("gfx942", 4, 0)]
    # what the dispatch picks at batch 1 (8 KV heads: 8 pairs) and at batch 32
    assert choose_kernel(4, 1, False, "sm_90", "auto", 8) == "mma" and 8 <= MMA_ONE_TOKEN_MAX_PAIRS
    assert choose_kernel(4, 1, False, "sm_90", "auto", 256) == "vector"
    # the warp-split rule's pick at batch 32 is the batch rule's kernel, pre-built (Mistral v0.3: no window)
    v03 = models.kernel_specs(models.attention_layers(CONFIGS["mistral_v03"]), ["sm_90"], "bf16")
    assert [(s.gqa, s.mma_rows, s.sliding_window) for s in v03] == [(4, 0, False), (1, 16, False)]
    assert choose_kernel(4, 1, False, "sm_90", "auto", 256, specs[1].mma_warp_kv) == "mma"
    assert choose_kernel(4, 1, False, "sm_90", "auto", 256, v03[1].mma_warp_kv) == "mma"


@pytest.mark.parametrize("kwargs, error, message", [
    ({"dtype": "fp32"}, ValueError, "dtype: expected one of fp16, bf16"),
    ({"dtype": "bf16", "kv_cache_dtype": "fp8_e5m2"}, NotImplementedError, "no kernel for an fp8_e5m2 KV cache"),
    ({"dtype": "bf16", "kv_cache_dtype": "int4"}, ValueError, "kv_cache_dtype: expected auto, fp8, fp8_e4m3 or one of"),
])  # fmt: skip
def test_kernel_specs_reject_what_the_op_lacks(kwargs, error, message):
    layers = models.attention_layers(CONFIGS["mistral_v01"])
    with pytest.raises(error, match=message):
        models.kernel_specs(layers, ["gfx942"], **kwargs)


@pytest.mark.parametrize("kv_cache_dtype, expected", [
    ("fp8", {"gfx942": "fp8e4m3fnuz", "gfx90a": "fp8e4m3fn", "sm_90": "fp8e4m3fn"}),  # each arch's format
    ("fp8_e4m3", {"gfx942": "fp8e4m3fnuz", "gfx90a": "fp8e4m3fn", "sm_90": "fp8e4m3fn"}),
    ("float8_e4m3fn", {"gfx942": "fp8e4m3fn", "gfx90a": "fp8e4m3fn", "sm_90": "fp8e4m3fn"}),  # explicit
    ("fp8e4m3fnuz", {"gfx942": "fp8e4m3fnuz", "gfx90a": "fp8e4m3fnuz", "sm_90": "fp8e4m3fnuz"}),
])  # fmt: skip
def test_kernel_specs_fp8_kv_cache(kv_cache_dtype, expected):
    layers = models.attention_layers(CONFIGS["mistral_v01"])
    specs = models.kernel_specs(layers, list(expected), "bf16", kv_cache_dtype)
    assert {s.arch: s.kv_dtype for s in specs} == expected and all(s.q_dtype == s.out_dtype == "bf16" for s in specs)


def test_unsupported_head_size_and_gqa_ratio_are_named():
    big = dict(CONFIGS["llama31_8b"], head_dim=112)
    with pytest.raises(ValueError, match="head_dim: expected one of 32, 64, 80, 96, 128, 192, 256, 512, got 112"):
        models.kernel_specs(models.attention_layers(big), ["gfx942"], "bf16")
    mqa = dict(CONFIGS["llama31_8b"], num_key_value_heads=1)  # 32 query heads per KV head
    with pytest.raises(ValueError, match="expected a GQA ratio of at most 16, got 32"):
        models.kernel_specs(models.attention_layers(mqa), ["gfx942"], "bf16")


def test_sinks_need_no_kernel_of_their_own():
    """gpt-oss' sinks are the op's run-time ``sinks`` argument: its layers map to the plain specs."""
    layers = models.attention_layers(CONFIGS["gpt_oss_20b"])
    assert all(x.sinks for x in layers)
    specs = models.kernel_specs(layers, ["gfx942"], "bf16")
    assert [(s.sliding_window, s.head_size, s.gqa) for s in specs] == [(True, 64, 8), (False, 64, 8)]
    no_sinks = [dataclasses.replace(x, sinks=False) for x in layers]
    assert models.kernel_specs(no_sinks, ["gfx942"], "bf16") == specs


def test_from_hf_config_takes_the_config_dtype_or_asks_for_one():
    mk = models.from_hf_config(CONFIGS["mistral_v01"], archs=["gfx942"])
    assert {s.q_dtype for s in mk.specs} == {"bf16"}
    assert "32 windowed (window 4096)" in mk.summary and "GQA 4" in mk.summary
    tiny = models.from_hf_config(CONFIGS["mistral_tiny_default_window"], archs=["gfx942"])  # "dtype": "float16"
    assert {s.q_dtype for s in tiny.specs} == {"fp16"}
    with pytest.raises(ValueError, match="the config's dtype is 'float32', which has no GPU kernel; pass --dtype"):
        models.from_hf_config(CONFIGS["gemma2_9b"], archs=["gfx942"])
    both = models.from_hf_config(CONFIGS["gemma2_9b"], archs=["gfx942"], dtypes=["bfloat16", "fp16"])
    assert {s.q_dtype for s in both.specs} == {"bf16", "fp16"} and len(both.specs) == len(set(both.specs)) == 4


def test_op_table_hook_is_the_models_mapping():
    hook = registry.get_op("pa_v1").from_hf_config
    assert hook(CONFIGS["llama31_8b"], archs=["sm_90"], dtypes=None, kv_cache_dtype="auto").specs == \
        models.from_hf_config(CONFIGS["llama31_8b"], archs=["sm_90"]).specs
    assert registry.get_op("causal_conv1d").from_hf_config is None


# ------------------------------------------------------------------ the pre-build CLI


def _write(tmp_path, name) -> str:
    path = tmp_path / name / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps(CONFIGS[name]))
    return str(path)


def _list(capsys, *args):
    code = prebuild.main(["--arch", "gfx942", "--list", *args])
    out = capsys.readouterr()
    return code, out.out.split(), out.err


@pytest.mark.parametrize("name, extra, expected", [
    ("mistral_v01", [], ["pa_v1_bf16_hs128_g4_swa_gfx942"]),
    ("gemma2_9b", ["--dtype", "bf16"], ["pa_v1_bf16_hs256_g2_swa_cap_gfx942", "pa_v1_bf16_hs256_g2_cap_gfx942"]),
    ("gemma3_4b", [], ["pa_v1_bf16_hs256_g2_swa_gfx942", "pa_v1_bf16_hs256_g2_gfx942"]),
    ("phi3_mini", ["--dtype", "fp16"], ["pa_v1_fp16_hs96_g1_swa_gfx942"]),
    ("qwen2_swa", [], ["pa_v1_bf16_hs64_g8_gfx942", "pa_v1_bf16_hs64_g8_swa_gfx942"]),
    ("llama32_1b", ["--kv-cache-dtype", "auto"], ["pa_v1_bf16_hs64_g4_gfx942"]),
    ("llama32_1b", ["--sliding-window", "on"], []),
    ("gpt_oss_20b", ["--dtype", "bf16"], ["pa_v1_bf16_hs64_g8_swa_gfx942", "pa_v1_bf16_hs64_g8_gfx942"]),
    ("mistral_v01", ["--kv-cache-dtype", "fp8"], ["pa_v1_bf16_kvfp8e4m3fnuz_hs128_g4_swa_gfx942"]),
    ("mistral_v01", ["--kv-cache-dtype", "float8_e4m3fn", "--head-size", "128"],
     ["pa_v1_bf16_kvfp8e4m3fn_hs128_g4_swa_gfx942"]),  # an explicit format survives the axis filters
])  # fmt: skip
def test_prebuild_hf_config_lists_exactly_the_models_kernels(tmp_path, capsys, name, extra, expected):
    code, names, err = _list(capsys, "--hf-config", _write(tmp_path, name), *extra)
    assert code == 0, err
    assert names == expected
    assert f"-> {len(expected)} kernels for gfx942" in err


@pytest.mark.parametrize("name, extra, message", [
    ("mistral_v01", ["--kv-cache-dtype", "fp8_e5m2"], "no kernel for an fp8_e5m2 KV cache"),
    ("gemma2_9b", [], "pass --dtype bf16 or --dtype fp16"),
    ("mistral_v01", ["--op", "causal_conv1d"], "--op causal_conv1d: no model mapping for --hf-config"),
    ("mistral_v01", ["--head-size", "100"], "head_size: 100 not supported by op pa_v1"),
    ("mistral_v01", ["--width", "4"], "--width: no selected op (pa_v1) has that axis"),
])  # fmt: skip
def test_prebuild_hf_config_errors_are_one_line(tmp_path, capsys, name, extra, message):
    with pytest.raises(SystemExit) as e:
        prebuild.main(["--arch", "gfx942", "--list", "--hf-config", _write(tmp_path, name), *extra])
    assert e.value.code == 2
    assert message in capsys.readouterr().err


def test_prebuild_hf_config_bad_files_and_misplaced_flags(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    for path, message in ((bad, "not JSON"), (tmp_path / "missing.json", "cannot read it")):
        with pytest.raises(SystemExit):
            prebuild.main(["--arch", "gfx942", "--list", "--hf-config", str(path)])
        assert f"--hf-config {path}: {message}" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        prebuild.main(["--arch", "gfx942", "--list", "--kv-cache-dtype", "auto"])
    assert "--kv-cache-dtype: only with --hf-config" in capsys.readouterr().err


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_a_tqdm_bar_on_a_terminal_and_lines_elsewhere(capsys):
    tty = _Tty()
    bar = prebuild.Progress(4, stream=tty)
    for done, name in ((1, "a"), (2, "b_kernel")):
        bar(done, 4, f"compile {name}")
    bar.close()
    shown = tty.getvalue()
    assert "2/4" in shown and "kernel/s" in shown and "b_kernel" in shown  # tqdm's count, rate and postfix
    assert capsys.readouterr().out == ""
    lines = prebuild.Progress(3, stream=io.StringIO())
    lines(1, 3, "compile first")
    lines(3, 3, "compile third")
    lines.close()
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert out[0].startswith("aiter_swa.jit.prebuild [1/3] ") and "ETA" in out[0] and out[0].endswith("  first")
    assert out[1].startswith("aiter_swa.jit.prebuild [3/3] ") and out[1].endswith("  third")


@pytest.mark.toolchain
def test_prebuild_hf_config_builds_the_kernel_with_progress(tmp_path):
    """A model whose layers need one kernel (every layer windowed; any block size): the CLI builds
    exactly it, shows a progress line with the ETA and ends with the summary line."""
    problem = toolchain_problem("gfx942")
    if problem:
        pytest.skip(problem)
    cfg = _write(tmp_path, "mistral_tiny_default_window")
    out = tmp_path / "kernels"
    env = {k: v for k, v in os.environ.items() if k not in JIT_ENV}
    proc = subprocess.run([sys.executable, "-m", "aiter_swa.jit.prebuild", "--hf-config", cfg, "--arch", "gfx942",
                           "--jobs", "1", "--out", str(out)],
                          capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    spec = PaV1Spec("fp16", "fp16", "fp16", 64, 2, True, False, False, "gfx942")
    kernels = json.loads((out / "manifest.json").read_text())["kernels"]
    assert list(kernels) == [spec.to_json()]
    assert "mistral: 3 attention layers: 3 windowed (window 4096)" in proc.stdout
    assert "aiter_swa.jit.prebuild [1/1] " in proc.stdout and f"  {spec.name}" in proc.stdout and "ETA" in proc.stdout
    assert f"aiter_swa.jit.prebuild: 1/1 kernels for {cfg} ready in {out}" in proc.stdout
    assert "0 failed; 0 spill/scratch warnings" in proc.stdout
