"""CUDA / ROCm implementation of ``aiter::paged_attention_v1``: pick the specialization, call its launcher.

The call path reads metadata only (dtypes, shapes, strides, pointers, host ints): no device value
is read on the host, so a call never synchronises and can be captured in a CUDA/HIP graph.
"""

from __future__ import annotations

import torch

from . import _config
from .jit import loader, toolchain
from .jit.spec import KernelSpec

_DTYPE_NAMES = {torch.float16: "fp16", torch.bfloat16: "bf16"}
_VEC_BYTES = 16  # every K/V/query row is read as 16-byte vectors

# (dtype, head_size, block_size, gqa bucket, window, soft cap, alibi, device index) -> launcher
_launchers: dict = {}


def _launcher(key: tuple):
    fn = _launchers.get(key)
    if fn is None:
        dtype, head_size, block_size, gqa, swa, cap, alibi, device_index = key
        spec = KernelSpec(
            dtype=dtype,
            head_size=head_size,
            block_size=block_size,
            gqa=gqa,
            sliding_window=swa,
            soft_cap=cap,
            alibi=alibi,
            arch=toolchain.device_arch(device_index),
        )
        fn = _launchers[key] = loader.get_launcher(spec)
    return fn


def _check_vector_aligned(name: str, t: torch.Tensor) -> None:
    """The kernel reads 16-byte vectors: the base pointer and every stride but the last must allow it."""
    elems = _VEC_BYTES // t.element_size()
    if t.data_ptr() % _VEC_BYTES or any(s % elems for s in t.stride()[:-1]):
        raise ValueError(
            f"{name}: the GPU kernel needs a {_VEC_BYTES}-byte aligned base pointer and strides that are "
            f"multiples of {elems} elements (except the last, which must be 1); got pointer offset "
            f"{t.data_ptr() % _VEC_BYTES} bytes and strides {tuple(t.stride())}"
        )


def paged_attention_v1_cuda(
    dims,
    out,
    workspace_buffer,
    query,
    key_cache,
    value_cache,
    scale,
    block_tables,
    context_lens,
    max_context_len,
    alibi_slopes,
    kv_cache_layout,
    logits_soft_cap,
    sliding_window,
):
    """Run the JIT-built HIP/CUDA kernel. ``dims`` is the result of ``_validate.validate_paged_attention_v1``."""
    # dtypes, shapes, devices and unit last strides were checked by _validate; the kernel also
    # needs 16-byte vector alignment (the workspace: aligned float partials).
    for name, t in (
        ("query", query),
        ("key_cache", key_cache),
        ("value_cache", value_cache),
        ("workspace_buffer", workspace_buffer),
    ):
        _check_vector_aligned(name, t)

    if dims.num_seqs == 0:
        return
    key = (
        _DTYPE_NAMES[query.dtype],
        dims.head_size,
        dims.block_size,
        _config.gqa_bucket(dims.gqa_ratio),
        sliding_window > 0,
        logits_soft_cap > 0,
        alibi_slopes is not None,
        query.device.index if query.device.index is not None else torch.cuda.current_device(),
    )
    launch = _launcher(key)

    if kv_cache_layout == "HND":  # [num_blocks, num_kv_heads, block_size, head_size]
        kb, kh, kt = key_cache.stride(0), key_cache.stride(1), key_cache.stride(2)
        vb, vh, vt = value_cache.stride(0), value_cache.stride(1), value_cache.stride(2)
    else:  # NHD: [num_blocks, block_size, num_kv_heads, head_size]
        kb, kt, kh = key_cache.stride(0), key_cache.stride(1), key_cache.stride(2)
        vb, vt, vh = value_cache.stride(0), value_cache.stride(1), value_cache.stride(2)
    launch(
        out.data_ptr(),
        query.data_ptr(),
        key_cache.data_ptr(),
        value_cache.data_ptr(),
        block_tables.data_ptr(),
        context_lens.data_ptr(),
        alibi_slopes.data_ptr() if alibi_slopes is not None else 0,
        workspace_buffer.data_ptr(),
        dims.num_seqs,
        dims.num_heads,
        dims.num_kv_heads,
        max_context_len,
        block_tables.stride(0),
        query.stride(0),
        query.stride(1),
        out.stride(0),
        out.stride(1),
        kb,
        kh,
        kt,
        vb,
        vh,
        vt,
        float(scale),
        float(logits_soft_cap),
        int(sliding_window),
        torch.cuda.current_stream(query.device).cuda_stream,
    )
