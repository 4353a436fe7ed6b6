"""Hugging Face transformers' continuous batching with its decode rows on ``paged_attention_v1``.

One call, :func:`enable`, switches it on for one model or for the process::

    from aiter_swa.integrations import transformers as aiter_hf
    aiter_hf.enable(model)  # or aiter_hf.enable() for every model of the process
    out = model.generate_batch(prompts, generation_config=gen_cfg,
                               continuous_batching_config=ContinuousBatchingConfig(block_size=32))

How it hooks in. transformers' continuous batching (``generate_batch``,
``ContinuousBatchingManager``, behind ``transformers serve``) runs a model loaded with
``attn_implementation="sdpa"`` or ``"eager"`` through the attention functions registered in
``AttentionInterface`` as ``"paged|sdpa"`` and ``"paged|eager"`` (it prefixes ``paged|`` itself).
Those two names are the only non-flash names for which it builds the attention masks its own
paged path needs (``continuous_batching.utils.attn_mask_is_needed``), so :func:`enable` registers
a wrapper under each of them through the public ``AttentionInterface.register``, keeping
transformers' function for every row the op does not take.

What goes to the op. A forward step whose batch is decode only (``max_seqlen_q == 1``: one query
token per request) calls ``torch.ops.aiter_swa.paged_attention_v1`` once per layer, reading
transformers' ``PagedAttentionCache`` in place: its per-layer tensor
``[(num_blocks + 2) * block_size, num_kv_heads, head_dim]`` is viewed as the op's NHD layout
``[num_blocks + 2, block_size, num_kv_heads, head_dim]`` (no copy; the layout is
``PagedAttentionCache.cache_shape`` and its ``flash_attn_with_kvcache`` decode path views it the
same way). The new token's K/V is written first, at the slots transformers chose
(``write_index``), exactly as ``PagedAttentionCache.update`` writes it. Block tables are built on
the device from the step's ``read_index`` / ``write_index`` (no host-device synchronisation):

* full-attention layers: entry ``b`` of a request is the block holding its token ``b * block_size``;
* sliding-window layers: transformers keeps a ring of ``ceil(W / block_size)`` blocks per request
  and stores token ``p`` at ring slot ``p % W`` (``SlidingAttentionCacheAllocator``). When
  ``W % block_size == 0`` the ring repeats every ``W / block_size`` blocks, so the table is the ring
  repeated, and the context length given to the op is folded into ``[W, 2W)`` (``W + (L - W) % W``
  for ``L > W``): that keeps every attended token on its slot, bounds the table at
  ``2 W / block_size`` entries and ``max_context_len`` at ``2W - 1`` without reading lengths on the
  host, and changes nothing else, as the op's result depends only on which keys are attended
  (there is no position bias: RoPE is already in the cached keys, and no ALiBi is passed). The op
  reads only the ``W`` keys of the window (its documented contract), so it never touches a ring
  slot outside it.

The window (``sliding_window``, counted as transformers and the op both count it: the current
token included), the scale and the soft cap (``softcap``, Gemma-2) are passed to the op.

What falls back, with one log line per reason (logger ``aiter_swa.integrations.transformers``),
never an error: steps with a multi-token row (prefill chunks; INFO), and at WARNING what the op
cannot take: a head size or dtype the op rejects (its own validation message is logged; every
block size is taken, transformers' default ``block_size=256`` included), a window that is not a
multiple of the block size, a dropout, a missing JIT toolchain. Rows that fall back take transformers'
own function, except on layers with a soft cap or sinks, which take the model's own eager
attention (``eager_attention_forward`` of its ``modeling_*.py``) over the same paged K/V and
masks: transformers' ``paged|eager`` drops the soft cap and ``paged|sdpa`` the soft cap and the
sinks, and mixing a capped decode with an uncapped prefill would match neither.

Attention sinks: ``paged_attention_v1`` has a ``sinks`` argument (issue 9): decode rows with sinks
go to the op with ``sinks=`` the layer's sink logits as float32 ``[num_heads]``
(:data:`OP_TAKES_SINKS`).

Supported transformers versions: :data:`SUPPORTED_TRANSFORMERS` (checked by :func:`enable`).
"""

from __future__ import annotations

import collections
import logging
import sys
import threading

import torch

import aiter_swa  # noqa: F401  (registers torch.ops.aiter_swa.paged_attention_v1)
from aiter_swa.jit.errors import JitError
from aiter_swa.ops.pa_v1.call import ARG_NAMES
from aiter_swa.ops.pa_v1.workspace import get_workspace_size

#: transformers versions this integration is tested with. It reads internals of their continuous
#: batching (the attention kwargs ``cache``, ``read_index``, ``write_index``, ``cu_seq_lens_k``,
#: ``max_seqlen_q``/``max_seqlen_k``, ``position_ids``; the ``PagedAttentionCache`` layout and its
#: sliding-window ring), which change between minor releases: 5.18 moved the cache tensors into
#: per-group allocators, 5.19 replaced ``paged|sdpa`` by ``sdpa``.
SUPPORTED_TRANSFORMERS = (">=5.17", "<5.18")
#: The attention-function names continuous batching uses for sdpa and eager models, wrapped by :func:`enable`.
WRAPPED_NAMES = ("paged|eager", "paged|sdpa")
#: Whether ``paged_attention_v1`` takes attention sinks (a ``sinks`` argument; issue 9).
OP_TAKES_SINKS = "sinks" in ARG_NAMES

log = logging.getLogger(__name__)

_MARK = "_aiter_swa_decode"  # attribute set on a model's attention modules by enable(model)
_originals: dict = {}  # name -> transformers' function, while the wrappers are registered
_process_wide = False
_stats: collections.Counter = collections.Counter()
_logged: set = set()
_refused: dict = {}  # static layer signature -> why the op refused it
_step = threading.local()  # per generation thread: the step's read_index list and its block tables
_unit_scales: dict = {}  # device -> float32 [1] ones (the op's k_scale / v_scale, unused without fp8)
_paged_attention_v1 = torch.ops.aiter_swa.paged_attention_v1.default


def enable(model=None) -> None:
    """Route the decode rows of transformers' continuous batching to ``paged_attention_v1``.

    Args:
        model: a transformers ``PreTrainedModel``: only its attention layers are routed. ``None``:
            every model of the process (loaded before or after this call). The model should be
            loaded with ``attn_implementation="sdpa"`` or ``"eager"`` (continuous batching then uses
            ``"paged|sdpa"`` / ``"paged|eager"``, the names this integration serves); a model set to
            a flash implementation is left to it (a warning says so).

    Idempotent. Any ``ContinuousBatchingConfig(block_size=...)`` runs on the op (the block size is a
    run-time value of its kernels).

    Raises:
        RuntimeError: the installed transformers is not in :data:`SUPPORTED_TRANSFORMERS`.
        ImportError: transformers is not installed (``pip install "aiter_swa[transformers]"``).
    """
    global _process_wide
    _check_version()
    _install()
    if model is None:
        _process_wide = True
        return
    impl = getattr(model.config, "_attn_implementation", None)
    if impl not in ("eager", "sdpa") + WRAPPED_NAMES:
        log.warning(
            "aiter_swa: model %s uses attn_implementation=%r; continuous batching serves it with %r, which this "
            "integration does not wrap (it serves %s): load the model with attn_implementation='sdpa' or 'eager'",
            type(model).__name__, impl, f"paged|{impl}", " and ".join(WRAPPED_NAMES),
        )  # fmt: skip
    for m in model.modules():
        if hasattr(m, "layer_idx"):
            setattr(m, _MARK, True)


def disable(model=None) -> None:
    """Undo :func:`enable`: for ``model`` only, or (``None``) everywhere, restoring transformers'
    ``paged|eager`` and ``paged|sdpa`` functions."""
    global _process_wide
    if model is not None:
        for m in model.modules():
            if hasattr(m, _MARK):
                delattr(m, _MARK)
        return
    _process_wide = False
    if _originals:
        from transformers import AttentionInterface

        for name, fn in _originals.items():
            AttentionInterface.register(name, fn)
        _originals.clear()


def stats() -> dict:
    """Counts since the last :func:`reset_stats`: ``"op"``: attention-layer calls served by
    ``paged_attention_v1``; ``"fallback:<reason>"``: layer calls given to transformers' path."""
    return dict(_stats)


def reset_stats() -> None:
    """Zero the counts of :func:`stats`, and log each fall-back reason again (once) from now on."""
    _stats.clear()
    _logged.clear()


def _check_version() -> None:
    try:
        import transformers
    except ImportError as e:
        raise ImportError(
            'aiter_swa.integrations.transformers needs transformers: pip install "aiter_swa[transformers]"'
        ) from e
    from packaging.version import Version

    v = Version(transformers.__version__)
    lo, hi = (Version(s.lstrip("<>=")) for s in SUPPORTED_TRANSFORMERS)
    if not lo <= v < hi:
        raise RuntimeError(
            f"transformers: expected a version {','.join(SUPPORTED_TRANSFORMERS)} (the versions "
            f"aiter_swa.integrations.transformers is tested with), got {transformers.__version__}"
        )


def _install() -> None:
    if _originals:
        return
    from transformers import AttentionInterface
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    for name in WRAPPED_NAMES:
        _originals[name] = ALL_ATTENTION_FUNCTIONS[name]
        wrapper = _wrapper(name)
        AttentionInterface.register(name, wrapper)
        if ALL_ATTENTION_FUNCTIONS[name] is not wrapper:  # a local override of transformers' instance wins
            _note(f"shadowed:{name}", f"ALL_ATTENTION_FUNCTIONS[{name!r}] is overridden locally: not routed")


def _wrapper(name):
    def attention(module, query, key, value, attention_mask, **kwargs):
        if _process_wide or getattr(module, _MARK, False):
            out = _decode(module, query, key, value, kwargs)
            if out is not None:
                _stats["op"] += 1
                return out, None
            return _transformers_path(name, module, query, key, value, attention_mask, kwargs)
        return _originals[name](module, query, key, value, attention_mask, **kwargs)

    attention.__name__ = attention.__qualname__ = f"aiter_swa_{name.replace('|', '_')}_attention"
    attention.__doc__ = f"transformers' {name!r} attention with decode rows on torch.ops.aiter_swa.paged_attention_v1."
    return attention


def _fall_back(reason: str, message: str, level: int = logging.WARNING) -> None:
    _stats[f"fallback:{reason}"] += 1
    if (reason, message) not in _logged:
        _logged.add((reason, message))
        log.log(level, "aiter_swa: %s -> transformers' attention for these rows", message)


def _sinks(module, kwargs):
    s_aux = kwargs.get("s_aux")
    return s_aux if s_aux is not None else getattr(module, "sinks", None)


@torch.compiler.disable
def _decode(module, query, key, value, kwargs):
    """The op's output ``[1, num_rows, num_heads, head_dim]`` for a decode-only step, else None
    (the reason counted and logged once)."""
    cache = kwargs.get("cache")
    if cache is None or not hasattr(cache, "layer_index_to_group_indices"):
        return None  # not a continuous-batching step: transformers' function handles (or rejects) it
    if kwargs.get("max_seqlen_q") != 1:
        _fall_back("prefill", "a step with multi-token rows (prefill chunks)", logging.INFO)
        return None
    layer_idx = module.layer_idx
    num_rows = query.shape[2]
    read_index, write_index = kwargs.get("read_index"), kwargs.get("write_index")
    cu_q = kwargs.get("cu_seq_lens_q")
    if (
        query.shape[0] != 1 or key.shape[2] != num_rows or read_index is None or write_index is None
        or (cu_q is not None and cu_q.shape[0] != num_rows + 1) or kwargs.get("block_table") is not None
    ):  # fmt: skip
        _fall_back("layout", "a decode step in a layout this integration does not read (padded rows or block tables)")
        return None
    if kwargs.get("dropout", 0.0):
        _fall_back("dropout", "attention dropout (training mode)")
        return None

    cache_window = cache.sliding_windows[layer_idx]  # 1: full-attention cache group
    window = kwargs.get("sliding_window") or 0
    sinks = _sinks(module, kwargs)
    softcap = float(kwargs.get("softcap") or 0.0)
    block_size = cache.block_size
    num_heads, head_dim, num_kv_heads = query.shape[1], query.shape[3], key.shape[1]
    sig = (query.dtype, query.device, num_heads, num_kv_heads, head_dim, block_size, cache_window, window,
           softcap > 0, sinks is not None)  # fmt: skip
    why = _refused.get(sig)
    if why is None:
        if sinks is not None and not OP_TAKES_SINKS:
            why = ("sinks", "attention sinks (s_aux): paged_attention_v1 does not take them yet")
        elif cache_window != 1 and window != cache_window:
            why = ("window", f"sliding_window {window} with a paged cache that keeps a ring of {cache_window} tokens")
        elif cache_window != 1 and cache_window % block_size:
            why = (
                "ring",
                f"sliding window {cache_window} not a multiple of block_size {block_size} (the cache's ring of "
                f"slots p % {cache_window} does not repeat block by block)",
            )
        else:
            why = ()
        _refused[sig] = why
    if why:
        _fall_back(*why)
        return None

    tables = _block_tables(kwargs, cache, layer_idx)
    if tables is None:
        return None
    table, context_lens, max_context_len = tables
    if cache_window != 1:
        window = cache_window

    group, in_group = cache.layer_index_to_group_indices[layer_idx]
    k_cache, v_cache = cache.key_cache[in_group], cache.value_cache[in_group]
    # The new token's K/V at the slots transformers chose, as PagedAttentionCache.update writes them.
    k_cache.index_copy_(0, write_index[group], key[0].transpose(0, 1))
    v_cache.index_copy_(0, write_index[group], value[0].transpose(0, 1))
    shape = (-1, block_size, num_kv_heads, head_dim)  # NHD view of [pages, num_kv_heads, head_dim]

    q = query[0].transpose(0, 1).contiguous()  # [num_rows, num_heads, head_dim]
    out = torch.empty_like(q)
    scale = kwargs.get("scaling")
    if scale is None:
        scale = getattr(module, "scaling", head_dim**-0.5)
    workspace = torch.empty(
        get_workspace_size(num_rows, num_heads, head_dim, max_context_len, q.dtype, window),
        dtype=torch.uint8, device=q.device,
    )  # fmt: skip
    one = _unit_scales.get(q.device)
    if one is None:
        one = _unit_scales[q.device] = torch.ones(1, dtype=torch.float32, device=q.device)
    extra = {} if sinks is None else {"sinks": sinks.detach().float().contiguous()}
    try:
        _paged_attention_v1(
            out, workspace, q, k_cache.view(shape), v_cache.view(shape), float(scale), table, None, context_lens,
            max_context_len, None, "auto", "NHD", softcap, one, one, None, 256, 1, window, **extra,
        )  # fmt: skip
    except (TypeError, ValueError, NotImplementedError, JitError) as e:
        # Raised before anything is written: the K/V writes above are the ones transformers makes too.
        _refused[sig] = ("op", f"paged_attention_v1 refused this layer: {e}")
        _fall_back(*_refused[sig])
        return None
    return out.unsqueeze(0)


def _block_tables(kwargs, cache, layer_idx):
    """``(block_tables int32 [rows, n], context_lens int32 [rows], max_context_len)`` of the layer's
    cache group for this step, built once per step and group on the device; None if not derivable."""
    read_index = kwargs["read_index"]
    memo = getattr(_step, "memo", None)
    if memo is None or memo[0] is not read_index:
        memo = _step.memo = (read_index, {})
    group = cache.layer_index_to_group_indices[layer_idx][0]
    got = memo[1].get(group)
    if got is not None:
        return got
    window = cache.sliding_windows[layer_idx]
    layer_type = "full_attention" if window == 1 else "sliding_attention"
    cu_k, max_k = kwargs.get("cu_seq_lens_k"), kwargs.get("max_seqlen_k")
    if isinstance(cu_k, dict):
        cu_k, max_k = cu_k[layer_type], max_k[layer_type]
    read = read_index[group]
    if read.numel() == 0 or cu_k is None:
        _fall_back("no-cache", "a decode step with no cached tokens to read")
        return None
    bs = cache.block_size
    starts = cu_k[:-1].long()
    lens = (cu_k[1:] - cu_k[:-1]).long()  # tokens read per request, the new one included
    if window == 1:
        # read holds the slots of tokens 0 .. L-1 of each request, in order; block of token b*bs.
        offs = torch.arange(-(-max_k // bs), device=read.device) * bs
        idx = (starts[:, None] + torch.minimum(offs[None, :], lens[:, None] - 1)).clamp_(min=0)
        got = (torch.div(read[idx], bs, rounding_mode="floor").to(torch.int32), lens.to(torch.int32), int(max_k))
    else:
        position_ids = kwargs.get("position_ids")
        if position_ids is None:
            _fall_back("positions", "no position_ids in the attention kwargs (needed for ring tables)")
            return None
        n = window // bs
        L = position_ids.reshape(-1)[: lens.shape[0]].long() + 1  # context length, current token included
        c = lens - 1  # cached tokens read: positions lo .. L-2, then a sentinel for the new token
        lo = L - 1 - c
        # For ring block r, a known position p in [lo, L-1] whose slot p % W is r*bs (clamped to L-1
        # while the ring is not full: those blocks are not read).
        ring_start = torch.arange(n, device=read.device) * bs
        p = lo[:, None] + torch.remainder(ring_start[None, :] - lo[:, None], window)
        p = torch.minimum(p, (L - 1)[:, None])
        slots = torch.where(
            p < (L - 1)[:, None],
            read[(starts[:, None] + p - lo[:, None]).clamp_(min=0)],
            kwargs["write_index"][group][:, None],
        )
        ring = torch.div(slots, bs, rounding_mode="floor").to(torch.int32)
        folded = torch.where(L > window, window + torch.remainder(L - window, window), L)
        got = (ring.repeat(1, 2), folded.to(torch.int32), 2 * window - 1)
    memo[1][group] = got
    return got


def _transformers_path(name, module, query, key, value, attention_mask, kwargs):
    softcap = kwargs.get("softcap") or 0.0
    if (softcap > 0 or _sinks(module, kwargs) is not None) and kwargs.get("cache") is not None:
        modeling = type(module).__module__
        eager = getattr(sys.modules.get(modeling), "eager_attention_forward", None)
        if eager is not None:
            _note(
                "model-eager",
                f"layers with a soft cap or sinks fall back to {modeling}.eager_attention_forward over the paged "
                "K/V (transformers' paged functions drop the soft cap or sinks)",
                logging.INFO,
            )
            return _model_eager(eager, module, query, key, value, attention_mask, kwargs)
        _note(
            "no-eager",
            f"{modeling} has no eager_attention_forward: transformers' {name!r} serves a layer with a soft cap "
            "or sinks (it drops the soft cap, and paged|sdpa the sinks)",
        )
    return _originals[name](module, query, key, value, attention_mask, **kwargs)


def _note(key: str, message: str, level: int = logging.WARNING) -> None:
    """Log ``message`` once (until :func:`reset_stats`)."""
    if key not in _logged:
        _logged.add(key)
        log.log(level, "aiter_swa: %s", message)


def _model_eager(eager, module, query, key, value, attention_mask, kwargs):
    """The model's own eager attention (soft cap, sinks) over transformers' paged K/V and masks."""
    cache = kwargs["cache"]
    k, v = cache.update(
        key_states=key, value_states=value, layer_idx=module.layer_idx,
        read_index=kwargs["read_index"], write_index=kwargs["write_index"],
    )  # fmt: skip  # [kv_len, num_kv_heads, head_dim]
    if isinstance(attention_mask, dict):
        sliding = cache.sliding_windows[module.layer_idx] != 1
        attention_mask = attention_mask["sliding_attention" if sliding else "full_attention"]
    rest = {n: x for n, x in kwargs.items() if n not in ("cache", "read_index", "write_index")}
    return eager(module, query, k.transpose(0, 1).unsqueeze(0), v.transpose(0, 1).unsqueeze(0), attention_mask, **rest)
