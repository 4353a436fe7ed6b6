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


def _misaligned(name: str, t: torch.Tensor) -> ValueError:
    elems = _VEC_BYTES // t.element_size()
    return ValueError(
        f"{name}: the GPU kernel needs a {_VEC_BYTES}-byte aligned base pointer and strides that are "
        f"multiples of {elems} elements (except the last, which must be 1); got pointer offset "
        f"{t.data_ptr() % _VEC_BYTES} bytes and strides {tuple(t.stride())}"
    )


# The raw cudaStream_t / hipStream_t of the current stream: torch's internal accessor where it
# exists (a few hundred ns; what TorchInductor's generated code calls), else the public API.
if hasattr(torch._C, "_cuda_getCurrentRawStream"):
    _raw_stream = torch._C._cuda_getCurrentRawStream
else:  # pragma: no cover - CPU-only builds of torch

    def _raw_stream(device_index: int) -> int:
        return torch.cuda.current_stream(device_index).cuda_stream


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
    """Run the JIT-built HIP/CUDA kernel. ``dims`` is the result of ``_validate.validate_paged_attention_v1``.

    Beyond ``_validate`` (dtypes, shapes, devices, unit last strides), the kernel reads 16-byte
    vectors: query, caches and workspace need 16-byte aligned pointers and leading strides that are
    multiples of 8 elements, else ValueError naming the tensor.
    """
    q_ptr, k_ptr, v_ptr = query.data_ptr(), key_cache.data_ptr(), value_cache.data_ptr()
    ws_ptr = workspace_buffer.data_ptr()
    qs, ks, vs = query.stride(), key_cache.stride(), value_cache.stride()
    elems = _VEC_BYTES // query.element_size()
    if (q_ptr | k_ptr | v_ptr | ws_ptr) % _VEC_BYTES or any(x % elems for x in qs[:-1] + ks[:-1] + vs[:-1]):
        for name, t in (("query", query), ("key_cache", key_cache), ("value_cache", value_cache)):
            if t.data_ptr() % _VEC_BYTES or any(x % elems for x in t.stride()[:-1]):
                raise _misaligned(name, t)
        raise _misaligned("workspace_buffer", workspace_buffer)  # its pointer is what failed (a byte buffer)
    if dims.num_seqs == 0:
        return
    device_index = query.get_device()
    key = (
        _DTYPE_NAMES[query.dtype],
        dims.head_size,
        dims.block_size,
        _config.gqa_bucket(dims.gqa_ratio),
        sliding_window > 0,
        logits_soft_cap > 0,
        alibi_slopes is not None,
        device_index,
    )
    launch = _launcher(key)
    if kv_cache_layout == "HND":  # [num_blocks, num_kv_heads, block_size, head_size]
        kb, kh, kt = ks[0], ks[1], ks[2]
        vb, vh, vt = vs[0], vs[1], vs[2]
    else:  # NHD: [num_blocks, block_size, num_kv_heads, head_size]
        kb, kt, kh = ks[0], ks[1], ks[2]
        vb, vt, vh = vs[0], vs[1], vs[2]
    os_ = out.stride()
    launch(
        out.data_ptr(), q_ptr, k_ptr, v_ptr, block_tables.data_ptr(), context_lens.data_ptr(),
        alibi_slopes.data_ptr() if alibi_slopes is not None else 0, ws_ptr,
        dims.num_seqs, dims.num_heads, dims.num_kv_heads, max_context_len, block_tables.stride(0),
        qs[0], qs[1], os_[0], os_[1], kb, kh, kt, vb, vh, vt,
        float(scale), float(logits_soft_cap), int(sliding_window), _raw_stream(device_index),
    )  # fmt: skip
