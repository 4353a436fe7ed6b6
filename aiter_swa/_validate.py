"""Argument checks of ``paged_attention_v1`` on metadata only, shared by the CPU, GPU and fake impls.

Only dtypes, shapes, strides, devices and host scalars are looked at: no device tensor is read
(no ``.item()``, ``.cpu()`` or tensor comparison), so a GPU call does not synchronise, works under
CUDA/HIP graph capture and traces under torch.compile (the fake impl runs the same checks).

Exception types: ``TypeError`` for a wrong dtype, ``ValueError`` for a wrong shape, stride, device
or value, ``NotImplementedError`` for what a later issue adds (``mtp > 1``, fp8 KV cache, fp8
output). Every message reads ``<argument>: expected <what>, got <what>``.
"""

from __future__ import annotations

import dataclasses

import torch

from ._config import GPU_DTYPES, MAX_GQA_RATIO, SUPPORTED_BLOCK_SIZES, SUPPORTED_HEAD_SIZES
from .workspace import DTYPES, check_mtp, get_workspace_size, num_partitions

LAYOUTS = ("HND", "NHD")
_GPU_DTYPES = tuple({"fp16": torch.float16, "bf16": torch.bfloat16}[d] for d in GPU_DTYPES)


@dataclasses.dataclass(frozen=True)
class PaDims:
    """Sizes of one validated ``paged_attention_v1`` call (host ints, read from shapes only)."""

    num_seqs: int
    num_heads: int
    num_kv_heads: int
    head_size: int
    block_size: int
    max_blocks_per_seq: int
    #: ``num_heads // num_kv_heads``: query heads sharing one KV head.
    gqa_ratio: int
    #: ``"HND"`` or ``"NHD"`` (``kv_cache_layout``).
    layout: str
    #: Split-K partitions per sequence (``workspace.num_partitions``).
    num_partitions: int
    #: Bytes of workspace the call needs (``workspace.get_workspace_size``).
    workspace_bytes: int


def _check_dtype(name, tensor, expected, why=""):
    if tensor.dtype not in expected:
        raise TypeError(f"{name}: expected dtype {' or '.join(map(str, expected))}{why}, got {tensor.dtype}")


def _check_ndim(name, tensor, ndim, shape_doc):
    if tensor.dim() != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D tensor {shape_doc}, got shape {tuple(tensor.shape)}")


def _check_last_stride(name, tensor, what):
    if tensor.stride(-1) != 1:
        raise ValueError(f"{name}: expected stride 1 along {what} (last dimension), got strides {tensor.stride()}")


def validate_paged_attention_v1(
    out,
    workspace_buffer,
    query,
    key_cache,
    value_cache,
    scale,
    block_tables,
    cu_query_lens,
    context_lens,
    max_context_len,
    alibi_slopes,
    kv_cache_dtype,
    kv_cache_layout,
    logits_soft_cap,
    k_scale,
    v_scale,
    fp8_out_scale=None,
    partition_size=256,
    mtp=1,
    sliding_window=0,
) -> PaDims:
    """Check the arguments of ``torch.ops.aiter.paged_attention_v1`` (same order); return their sizes.

    ``cu_query_lens``, ``k_scale`` and ``v_scale`` are accepted and not checked: ``cu_query_lens``
    has no use with one query token per sequence (``mtp == 1``), the scales none without fp8 KV.
    ``scale``, ``logits_soft_cap`` and ``sliding_window`` take any value (``<= 0`` disables the
    soft cap and the window).

    Raises:
        NotImplementedError: ``kv_cache_dtype != "auto"``, ``fp8_out_scale`` given, ``mtp > 1``.
        TypeError: wrong dtype of ``query`` (float16/bfloat16; float32 on the CPU), ``out``,
            ``key_cache``/``value_cache`` (the query's), ``block_tables``/``context_lens`` (int32),
            ``alibi_slopes`` (float32), ``workspace_buffer`` (uint8).
        ValueError: any shape, stride, device or size mismatch, an unsupported head size, block
            size, GQA ratio, layout or partition size, ``mtp < 1``, ``max_context_len < 0``, or a
            workspace smaller than ``get_workspace_size(...)`` bytes.
    """
    if kv_cache_dtype != "auto":
        raise NotImplementedError(
            f"kv_cache_dtype: expected 'auto' (KV cache in the query's dtype; fp8 KV is not supported yet), "
            f"got {kv_cache_dtype!r}"
        )
    if fp8_out_scale is not None:
        raise NotImplementedError("fp8_out_scale: expected None (fp8 output is not supported yet), got a tensor")
    check_mtp(mtp)
    if mtp > 1:
        raise NotImplementedError(f"mtp: expected 1 (multi-token decode is not supported yet), got {mtp}")
    parts = num_partitions(max_context_len, sliding_window, partition_size)
    if kv_cache_layout not in LAYOUTS:
        raise ValueError(f"kv_cache_layout: expected one of {LAYOUTS}, got {kv_cache_layout!r}")

    cache_doc = (
        "[num_blocks, num_kv_heads, block_size, head_size]"
        if kv_cache_layout == "HND"
        else "[num_blocks, block_size, num_kv_heads, head_size]"
    )
    _check_ndim("query", query, 3, "[num_seqs, num_heads, head_size]")
    _check_ndim("out", out, 3, "[num_seqs, num_heads, head_size]")
    _check_ndim("key_cache", key_cache, 4, f"{cache_doc} ({kv_cache_layout})")
    _check_ndim("value_cache", value_cache, 4, f"{cache_doc} ({kv_cache_layout})")
    _check_ndim("block_tables", block_tables, 2, "[num_seqs, max_blocks_per_seq]")
    _check_ndim("context_lens", context_lens, 1, "[num_seqs]")
    if alibi_slopes is not None:
        _check_ndim("alibi_slopes", alibi_slopes, 1, "[num_heads]")

    _check_dtype("query", query, DTYPES if query.device.type == "cpu" else _GPU_DTYPES, f" on {query.device.type}")
    _check_dtype("out", out, (query.dtype,), " (the query's)")
    _check_dtype("key_cache", key_cache, (query.dtype,), " (the query's, as kv_cache_dtype='auto')")
    _check_dtype("value_cache", value_cache, (query.dtype,), " (the query's, as kv_cache_dtype='auto')")
    _check_dtype("block_tables", block_tables, (torch.int32,))
    _check_dtype("context_lens", context_lens, (torch.int32,))
    _check_dtype("workspace_buffer", workspace_buffer, (torch.uint8,))
    if alibi_slopes is not None:
        _check_dtype("alibi_slopes", alibi_slopes, (torch.float32,))

    for name, t in (
        ("out", out),
        ("workspace_buffer", workspace_buffer),
        ("key_cache", key_cache),
        ("value_cache", value_cache),
        ("block_tables", block_tables),
        ("context_lens", context_lens),
        ("alibi_slopes", alibi_slopes),
    ):
        if t is not None and t.device != query.device:
            raise ValueError(f"{name}: expected a tensor on {query.device} (the query's device), got one on {t.device}")

    num_seqs, num_heads, head_size = query.shape
    if kv_cache_layout == "HND":
        _, num_kv_heads, block_size, cache_head_size = key_cache.shape
    else:
        _, block_size, num_kv_heads, cache_head_size = key_cache.shape
    if out.shape != query.shape:
        raise ValueError(f"out: expected the query's shape {tuple(query.shape)}, got {tuple(out.shape)}")
    if value_cache.shape != key_cache.shape:
        raise ValueError(
            f"value_cache: expected the key_cache's shape {tuple(key_cache.shape)}, got {tuple(value_cache.shape)}"
        )
    if cache_head_size != head_size:
        raise ValueError(
            f"key_cache: expected head_size {head_size} (the query's) in the last dimension of {cache_doc}, "
            f"got {cache_head_size}"
        )
    if head_size not in SUPPORTED_HEAD_SIZES:
        raise ValueError(f"query: expected a head_size in {SUPPORTED_HEAD_SIZES}, got {head_size}")
    if block_size not in SUPPORTED_BLOCK_SIZES:
        raise ValueError(
            f"key_cache: expected a block_size in {SUPPORTED_BLOCK_SIZES} ({kv_cache_layout} layout {cache_doc}), "
            f"got {block_size}"
        )
    if num_kv_heads < 1 or num_heads < 1 or num_heads % num_kv_heads != 0:
        raise ValueError(
            f"query: expected num_heads a positive multiple of num_kv_heads={num_kv_heads} (key_cache), got {num_heads}"
        )
    gqa_ratio = num_heads // num_kv_heads
    if gqa_ratio > MAX_GQA_RATIO:
        raise ValueError(
            f"query: expected num_heads / num_kv_heads <= {MAX_GQA_RATIO}, got {num_heads} / {num_kv_heads} = {gqa_ratio}"
        )
    if context_lens.shape[0] != num_seqs:
        raise ValueError(
            f"context_lens: expected num_seqs={num_seqs} entries (query.shape[0]), got {context_lens.shape[0]}"
        )
    max_blocks_per_seq = block_tables.shape[1]
    min_blocks = -(-max_context_len // block_size)
    if block_tables.shape[0] != num_seqs or max_blocks_per_seq < min_blocks:
        raise ValueError(
            f"block_tables: expected shape [num_seqs={num_seqs}, >= ceil(max_context_len={max_context_len} / "
            f"block_size={block_size})={min_blocks}], got {tuple(block_tables.shape)}"
        )
    if alibi_slopes is not None and alibi_slopes.shape[0] != num_heads:
        raise ValueError(f"alibi_slopes: expected shape [num_heads={num_heads}], got {tuple(alibi_slopes.shape)}")

    _check_last_stride("query", query, "head_size")
    _check_last_stride("out", out, "head_size")
    _check_last_stride("key_cache", key_cache, "head_size")
    _check_last_stride("value_cache", value_cache, "head_size")
    _check_last_stride("block_tables", block_tables, "max_blocks_per_seq")
    _check_last_stride("context_lens", context_lens, "num_seqs")
    if alibi_slopes is not None:
        _check_last_stride("alibi_slopes", alibi_slopes, "num_heads")
    if not workspace_buffer.is_contiguous():
        raise ValueError(f"workspace_buffer: expected a contiguous tensor, got strides {workspace_buffer.stride()}")

    workspace_bytes = get_workspace_size(
        num_seqs, num_heads, head_size, max_context_len, query.dtype, sliding_window, partition_size, mtp
    )
    if workspace_buffer.numel() < workspace_bytes:
        raise ValueError(
            f"workspace_buffer: expected >= {workspace_bytes} bytes (aiter_swa.get_workspace_size), "
            f"got {workspace_buffer.numel()}"
        )
    return PaDims(
        num_seqs=num_seqs,
        num_heads=num_heads,
        num_kv_heads=num_kv_heads,
        head_size=head_size,
        block_size=block_size,
        max_blocks_per_seq=max_blocks_per_seq,
        gqa_ratio=gqa_ratio,
        layout=kv_cache_layout,
        num_partitions=parts,
        workspace_bytes=workspace_bytes,
    )
