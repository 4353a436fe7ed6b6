"""Model configs -> the attention layers they have -> the pa_v1 kernels those layers need.

Torch-free (the pre-build imports it without torch). Used by ``python -m aiter_swa.jit.prebuild
--hf-config PATH/config.json`` through the op table's ``from_hf_config`` hook (:func:`from_hf_config`),
and usable by any integration that needs a model's attention layers (:func:`attention_layers`).

A Hugging Face ``config.json`` is read as a dict with the semantics of transformers' own
configuration and modeling classes (transformers 5.x, ``models/<type>/configuration_<type>.py``
and the attention module of ``modeling_<type>.py``); ``save_pretrained`` writes only the values that
differ from the class defaults, so the defaults of each class are applied here too:

============  =====================================================================================
model_type    attention layers
============  =====================================================================================
llama         every layer full attention (LlamaAttention passes no window)
mistral       every layer windowed with ``sliding_window`` (default 4096; null: none)
phi3          every layer windowed with ``sliding_window`` (default null: none)
qwen2         ``layer_types``; else layer ``i`` windowed iff ``use_sliding_window`` (default false)
              and ``i >= max_window_layers`` (default 28); the window is ``sliding_window`` (4096)
              and is dropped altogether when ``use_sliding_window`` is false
gemma2        ``layer_types``; else even layers windowed (``sliding_window``, 4096), odd ones full;
              soft cap ``attn_logit_softcapping`` (default 50.0); scale ``query_pre_attn_scalar ** -0.5``
gemma3_text   ``layer_types``; else layer ``i`` full iff ``(i + 1) % sliding_window_pattern == 0``
              (default 6); soft cap ``attn_logit_softcapping`` (default none); Gemma-2's scale.
gemma3        the multimodal wrapper: its ``text_config`` is a ``gemma3_text`` config
gpt_oss       ``layer_types``; else even layers windowed (``sliding_window``, 128), odd ones full;
              every layer has attention sinks (the learned per-head ``s_aux`` logit)
============  =====================================================================================

Common to all: ``num_key_value_heads`` null means ``num_attention_heads``; ``head_dim`` null or absent
means ``hidden_size // num_attention_heads``; a layer of type ``sliding_attention`` with a null
window is full attention (as the modeling code does); the scale is ``head_dim ** -0.5`` unless said
otherwise. ``sliding_window`` counts the current token (transformers' masks attend keys ``j`` with
``q - w < j <= q``), the op's convention. A model whose config sets ``use_bidirectional_attention``
is an encoder, not decode attention, and is refused.
"""

from __future__ import annotations

import dataclasses

from aiter_swa.jit.registry import ModelKernels

from .spec import GPU_DTYPES, OP, SUPPORTED_HEAD_SIZES, choose_kernel, fp8_format_for_arch, gqa_bucket, mma_rows_for

#: transformers' layer type names that are attention layers of this op, and what they are.
_FULL, _SLIDING = "full_attention", "sliding_attention"
_LEGACY_LAYER_TYPES = {"attention": _FULL}  # transformers' remap_legacy_layer_types

#: The class defaults (transformers 5.x) of the keys read here, per model_type.
_DEFAULTS = {
    "llama": {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": None},
    "mistral": {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
                "sliding_window": 4096},
    "phi3": {"hidden_size": 3072, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": None,
             "sliding_window": None},
    "qwen2": {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32,
              "use_sliding_window": False, "sliding_window": 4096, "max_window_layers": 28},
    "gemma2": {"hidden_size": 2304, "num_hidden_layers": 26, "num_attention_heads": 8, "num_key_value_heads": 4,
               "head_dim": 256, "query_pre_attn_scalar": 256, "sliding_window": 4096, "attn_logit_softcapping": 50.0},
    "gemma3_text": {"hidden_size": 2304, "num_hidden_layers": 26, "num_attention_heads": 8, "num_key_value_heads": 4,
                    "head_dim": 256, "query_pre_attn_scalar": 256, "sliding_window": 4096,
                    "attn_logit_softcapping": None, "sliding_window_pattern": 6},
    "gpt_oss": {"hidden_size": 2880, "num_hidden_layers": 36, "num_attention_heads": 64, "num_key_value_heads": 8,
                "head_dim": 64, "sliding_window": 128},
}  # fmt: skip
#: Multimodal wrappers whose language model is their ``text_config`` (of the given model_type).
_WRAPPERS = {"gemma3": "gemma3_text"}
#: Model types read here (for messages).
MODEL_TYPES = tuple(sorted(set(_DEFAULTS) | set(_WRAPPERS)))

#: ``config.json`` dtype names -> op dtype names.
_DTYPE_NAMES = {"bfloat16": "bf16", "bf16": "bf16", "float16": "fp16", "fp16": "fp16", "half": "fp16"}


@dataclasses.dataclass(frozen=True)
class AttentionLayer:
    """One attention layer of a model, as the op sees it.

    Attributes:
        index: the layer's index in the decoder stack (0-based).
        layer_type: ``"full_attention"`` or ``"sliding_attention"`` (transformers' names).
        num_heads, num_kv_heads: query heads and KV heads.
        head_size: elements per head (``head_dim``).
        sliding_window: keys attended, the current token included (the op's ``sliding_window``);
            0 for full attention.
        soft_cap: ``c`` of the logit soft cap ``c * tanh(x / c)`` (the op's ``logits_soft_cap``); 0.0: none.
        sinks: the layer has learned per-head attention sinks (gpt-oss' ``s_aux``).
        scale: the softmax scale the model multiplies ``q·k`` by.
    """

    index: int
    layer_type: str
    num_heads: int
    num_kv_heads: int
    head_size: int
    sliding_window: int
    soft_cap: float
    sinks: bool
    scale: float


def _text_config(config: dict) -> tuple:
    """``(model_type, the language model's config dict)``.

    Raises:
        ValueError: not a dict, no ``model_type``, or a model type not listed in :data:`MODEL_TYPES`.
    """
    if not isinstance(config, dict):
        raise ValueError(f"config: expected a JSON object (a dict), got {type(config).__name__}")
    mtype = config.get("model_type")
    if mtype in _WRAPPERS:
        text = config.get("text_config") or {}
        if not isinstance(text, dict):
            raise ValueError(f"text_config: expected a JSON object, got {text!r}")
        inner = text.get("model_type", _WRAPPERS[mtype])
        if inner != _WRAPPERS[mtype]:
            raise ValueError(f"text_config.model_type: expected {_WRAPPERS[mtype]!r} in a {mtype} config, got {inner!r}")
        text = dict(text)
        for key in ("dtype", "torch_dtype"):  # the wrapper's dtype applies to its text model
            if config.get(key) is not None and text.get(key) is None:
                text[key] = config[key]
        return inner, text
    if mtype not in _DEFAULTS:
        raise ValueError(f"model_type: expected one of {', '.join(MODEL_TYPES)} (the configs whose attention "
                         f"layers aiter_swa can read), got {mtype!r}")
    return mtype, config


def _get(cfg: dict, mtype: str, key: str):
    return cfg[key] if key in cfg else _DEFAULTS[mtype].get(key)


def _positive_int(cfg: dict, mtype: str, key: str) -> int:
    v = _get(cfg, mtype, key)
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"{key}: expected a positive integer, got {v!r}")
    return v


def _window(cfg: dict, mtype: str) -> int:
    """The config's ``sliding_window`` (0 when null)."""
    w = _get(cfg, mtype, "sliding_window")
    if w is None:
        return 0
    if isinstance(w, bool) or not isinstance(w, int) or w < 1:
        raise ValueError(f"sliding_window: expected a positive integer or null, got {w!r}")
    return w


def _layer_types(cfg: dict, mtype: str, n: int, window: int) -> list:
    given = cfg.get("layer_types")
    if given is not None and mtype not in ("mistral", "phi3", "llama"):  # those classes ignore layer_types
        if not isinstance(given, list) or len(given) != n:
            raise ValueError(f"layer_types: expected a list of num_hidden_layers = {n} names, got {given!r}")
        types = [_LEGACY_LAYER_TYPES.get(t, t) for t in given]
        bad = sorted({t for t in types if t not in (_FULL, _SLIDING)})
        if bad:
            raise ValueError(f"layer_types: expected only {_FULL!r} and {_SLIDING!r} layers (pa_v1 is causal "
                             f"decode attention with an optional sliding window), got {', '.join(map(repr, bad))}")
        return types
    if mtype == "llama":
        return [_FULL] * n
    if mtype in ("mistral", "phi3"):
        return [_SLIDING if window else _FULL] * n
    if mtype == "qwen2":
        first = _get(cfg, mtype, "max_window_layers")
        if isinstance(first, bool) or not isinstance(first, int) or first < 0:
            raise ValueError(f"max_window_layers: expected an integer >= 0, got {first!r}")
        return [_SLIDING if window and i >= first else _FULL for i in range(n)]
    if mtype == "gemma3_text":
        pattern = _get(cfg, mtype, "sliding_window_pattern")
        if isinstance(pattern, bool) or not isinstance(pattern, int) or pattern < 1:
            raise ValueError(f"sliding_window_pattern: expected a positive integer, got {pattern!r}")
        return [_FULL if (i + 1) % pattern == 0 else _SLIDING for i in range(n)]
    return [_SLIDING if i % 2 == 0 else _FULL for i in range(n)]  # gemma2, gpt_oss


def attention_layers(config: dict) -> list:
    """The attention layers of the model that ``config`` (a parsed ``config.json``) describes.

    Args:
        config: the config as a dict: ``json.load`` of ``config.json``, or a transformers config's
            ``to_dict()`` (the same layers either way).

    Returns:
        One :class:`AttentionLayer` per decoder layer, in order.

    Raises:
        ValueError: an unknown ``model_type``, or a value that transformers would not accept (the
            message names the key, what was expected and what was given), or an encoder
            (``use_bidirectional_attention``).
    """
    mtype, cfg = _text_config(config)
    if cfg.get("use_bidirectional_attention"):
        raise ValueError("use_bidirectional_attention: expected false (causal decode attention), got "
                         f"{cfg['use_bidirectional_attention']!r}: this model is an encoder")
    n = _positive_int(cfg, mtype, "num_hidden_layers")
    heads = _positive_int(cfg, mtype, "num_attention_heads")
    kv_heads = heads if _get(cfg, mtype, "num_key_value_heads") is None else _positive_int(cfg, mtype, "num_key_value_heads")
    if heads % kv_heads:
        raise ValueError(f"num_attention_heads / num_key_value_heads: expected a whole number of query heads per "
                         f"KV head, got {heads} / {kv_heads}")
    if _get(cfg, mtype, "head_dim") is not None:
        head_size = _positive_int(cfg, mtype, "head_dim")
    else:
        head_size = _positive_int(cfg, mtype, "hidden_size") // heads
    window = _window(cfg, mtype)
    if mtype == "qwen2" and not _get(cfg, mtype, "use_sliding_window"):
        window = 0  # Qwen2Config.__post_init__: sliding_window = None unless use_sliding_window
    cap = 0.0
    if mtype in ("gemma2", "gemma3_text"):
        c = _get(cfg, mtype, "attn_logit_softcapping")
        if c is not None:
            if isinstance(c, bool) or not isinstance(c, (int, float)) or c < 0:
                raise ValueError(f"attn_logit_softcapping: expected a number >= 0 or null, got {c!r}")
            cap = float(c)
        scale = float(_get(cfg, mtype, "query_pre_attn_scalar")) ** -0.5
    else:
        scale = head_size ** -0.5
    sinks = mtype == "gpt_oss"
    return [
        AttentionLayer(index=i, layer_type=t, num_heads=heads, num_kv_heads=kv_heads, head_size=head_size,
                       sliding_window=window if t == _SLIDING else 0, soft_cap=cap, sinks=sinks, scale=scale)
        for i, t in enumerate(_layer_types(cfg, mtype, n, window))
    ]  # fmt: skip


def model_dtype(config: dict) -> str | None:
    """The op dtype name (``"bf16"``, ``"fp16"``) of the config's ``dtype`` (or older ``torch_dtype``),
    None when it names none or another dtype (e.g. ``float32``, which has no GPU kernel)."""
    _, cfg = _text_config(config)
    name = cfg.get("dtype") or cfg.get("torch_dtype")
    return _DTYPE_NAMES.get(str(name).replace("torch.", "")) if name else None


#: ``--kv-cache-dtype`` names of an fp8 E4M3 cache (vLLM's): the format of each arch (spec.fp8_format_for_arch).
_FP8_KV_CACHE_DTYPES = ("fp8", "fp8_e4m3")
#: Torch's names of the two fp8 formats -> the spec's.
_FP8_NAMES = {"float8_e4m3fn": "fp8e4m3fn", "float8_e4m3fnuz": "fp8e4m3fnuz"}


def _kv_dtype(kv_cache_dtype: str, dtype: str, arch: str) -> str:
    """The spec's ``kv_dtype`` on ``arch`` for ``--kv-cache-dtype``: ``"auto"`` (the model's dtype),
    ``"fp8"`` / ``"fp8_e4m3"`` (the arch's E4M3 format, as the op reads a uint8 cache there), or a
    KV dtype of the op (``fp8e4m3fnuz``, ``float8_e4m3fn``, ...: that format)."""
    if kv_cache_dtype in (None, "", "auto"):
        return dtype
    if kv_cache_dtype in _FP8_KV_CACHE_DTYPES:
        return fp8_format_for_arch(arch)
    supported = OP.axes["kv_dtype"]
    name = _FP8_NAMES.get(kv_cache_dtype, _DTYPE_NAMES.get(kv_cache_dtype, kv_cache_dtype))
    if name in supported:
        return name
    if name.startswith("fp8"):
        raise NotImplementedError(
            f"kv_cache_dtype: pa_v1 has no kernel for an {kv_cache_dtype} KV cache (KV-cache dtypes: auto, "
            f"{', '.join(_FP8_KV_CACHE_DTYPES)}, {', '.join(supported)})")
    raise ValueError(f"kv_cache_dtype: expected auto, {', '.join(_FP8_KV_CACHE_DTYPES)} or one of "
                     f"{', '.join(supported)}, got {kv_cache_dtype!r}")


def kernel_specs(layers, archs, dtype: str, kv_cache_dtype: str = "auto") -> list:
    """The distinct :class:`~aiter_swa.ops.pa_v1.spec.PaV1Spec` that serve ``layers`` (from :func:`attention_layers`).

    Args:
        layers: the model's attention layers.
        archs: offload targets (``"gfx942"``, ``"sm_90"``, ...).
        dtype: the dtype the model runs in, ``"bf16"`` or ``"fp16"`` (query and output).
        kv_cache_dtype: ``"auto"`` (the model's dtype), ``"fp8"`` / ``"fp8_e4m3"`` (each arch's fp8
            format) or a KV dtype of the op (``"fp8e4m3fnuz"``, ``"fp8e4m3fn"``).

    The KV-cache block size and the attention sinks (gpt-oss' ``s_aux``, the op's ``sinks``
    argument) are run-time values of the kernels: a layer with sinks needs the kernel of the same
    layer without them, and every spec serves every block size.

    Each layer gets the one-token decode kernel the dispatch picks at a large batch and, where it
    picks another at a small one (``spec.choose_kernel``'s batch rule, sm_90: at most
    ``MMA_ONE_TOKEN_MAX_PAIRS`` (sequence, KV head) pairs), that one too, so that a batch of 1 finds
    its kernel pre-built (the warp-split rule, GQA >= 4 on sm_90 with a 16-bit KV cache, picks that same
    matrix-core kernel at every batch). Multi-token calls (``mtp > 1``) are not covered: their row
    count is a run-time value.

    Returns:
        Specs in a stable order (arch, then layer order), without duplicates.

    Raises:
        ValueError: an unsupported dtype, head size or GQA ratio (message names it and lists what is
            supported).
        NotImplementedError: a KV-cache dtype the op has no kernel for (``fp8_e5m2``).
    """
    dtype = _DTYPE_NAMES.get(dtype, dtype)
    if dtype not in GPU_DTYPES:
        raise ValueError(f"dtype: expected one of {', '.join(GPU_DTYPES)} (the GPU kernels' dtypes), got {dtype!r}")
    specs = {}
    for arch in dict.fromkeys(archs):
        for layer in layers:
            if layer.head_size not in SUPPORTED_HEAD_SIZES:
                raise ValueError(f"head_dim: expected one of {', '.join(map(str, SUPPORTED_HEAD_SIZES))}, got "
                                 f"{layer.head_size} (layer {layer.index})")
            ratio = layer.num_heads // layer.num_kv_heads
            # the decode kernels the dispatch picks (mtp 1): at a large batch and at a small one (pairs 1:
            # the batch rule of spec.choose_kernel, e.g. Mistral at batch 1 on sm_90 takes the matrix-core one)
            for kind in dict.fromkeys(choose_kernel(ratio, 1, False, arch, "auto", pairs) for pairs in (0, 1)):
                mma = kind == "mma"
                values = dict(q_dtype=dtype, kv_dtype=_kv_dtype(kv_cache_dtype, dtype, arch), out_dtype=dtype,
                              head_size=layer.head_size, gqa=1 if mma else gqa_bucket(ratio),
                              sliding_window=layer.sliding_window > 0, soft_cap=layer.soft_cap > 0, alibi=False,
                              mma_rows=mma_rows_for(layer.head_size, ratio) if mma else 0)
                if not OP.supported(values):
                    raise NotImplementedError(f"pa_v1 has no kernel for {values} yet")
                specs.setdefault(OP.spec_type(**values, arch=arch), None)
    return list(specs)


def describe(layers) -> str:
    """One line about ``layers``: counts of windowed and full layers and their shapes."""
    def group(kind):
        ls = [x for x in layers if (x.sliding_window > 0) == (kind == "windowed")]
        if not ls:
            return None
        windows = sorted({x.sliding_window for x in ls})
        w = f" (window {', '.join(map(str, windows))})" if kind == "windowed" else ""
        return f"{len(ls)} {kind}{w}"

    first = layers[0]
    parts = [g for g in (group("windowed"), group("full")) if g]
    ratio = first.num_heads // first.num_kv_heads
    feats = [f for f, on in ((f"soft cap {first.soft_cap:g}", first.soft_cap > 0), ("sinks", first.sinks)) if on]
    return (f"{len(layers)} attention layers: {', '.join(parts)}; {first.num_heads} heads, {first.num_kv_heads} KV heads "
            f"(GQA {ratio}, bucket {gqa_bucket(ratio)}), head size {first.head_size}"
            + (f"; {', '.join(feats)}" if feats else ""))


def from_hf_config(config: dict, *, archs, dtypes=None, kv_cache_dtype: str = "auto") -> ModelKernels:
    """The op table's hook for ``python -m aiter_swa.jit.prebuild --hf-config``: the pa_v1 kernels a model needs.

    Args:
        config: the parsed ``config.json``.
        archs: offload targets.
        dtypes: dtypes the model runs in (``"bf16"``, ``"fp16"``, ``"bfloat16"``, ...); default: the
            config's ``dtype`` / ``torch_dtype``.
        kv_cache_dtype: ``"auto"`` or a KV dtype of the op.

    The kernels serve every KV-cache block size (a run-time value).

    Raises:
        ValueError, NotImplementedError: as :func:`attention_layers` and :func:`kernel_specs`; a
            ValueError also when no dtype is given and the config names none with a GPU kernel.
    """
    layers = attention_layers(config)
    if not dtypes:
        d = model_dtype(config)
        if d is None:
            _, cfg = _text_config(config)
            raise ValueError(f"dtype: the config's dtype is {cfg.get('dtype') or cfg.get('torch_dtype')!r}, which "
                             f"has no GPU kernel; pass --dtype bf16 or --dtype fp16")
        dtypes = [d]
    specs = []
    for d in dtypes:
        specs += [s for s in kernel_specs(layers, archs, d, kv_cache_dtype) if s not in specs]
    names = sorted({_DTYPE_NAMES.get(d, d) for d in dtypes})
    return ModelKernels(specs=specs, summary=f"{_text_config(config)[0]}: {describe(layers)}; dtype {', '.join(names)}, "
                                             f"KV cache {kv_cache_dtype or 'auto'}")
