"""Peer columns of bench_pa_v1_swa.py: FlashInfer's batch decode and vLLM's Triton unified attention.

Each peer is fed the benchmark's own inputs (an ``Inputs`` set: the same query, the same paged K/V
cache in the HND layout ``[num_blocks, num_kv_heads, block_size, head_size]``, the same block table
with its null block 0 before the window, the same context lengths, scale, window and soft cap) and
is timed by the benchmark the way ours is (a CUDA graph of back-to-back calls over the rotating
sets). Columns:

* ``fi_tc``: FlashInfer ``BatchDecodeWithPagedKVCacheWrapper(use_tensor_cores=True)`` (its ``fa2``
  tensor-core path; ``q_len_per_req = mtp`` for multi-token rows, causal within each request);
* ``fi_cuda``: the same wrapper with ``use_tensor_cores=False`` (single-token only);
* ``vllm``: vLLM 0.33's ``unified_attention`` (what its TRITON_ATTN backend runs on CUDA and ROCm),
  called as that backend's decode does: one query block per sequence (``mtp`` tokens),
  ``window_size = (w - 1, 0)``, ``causal=True``, its split-K (3D) scratch for
  ``seq_threshold_3D = 128 // num_kv_heads`` sequences of 16 segments; its own heuristic picks 2D or
  3D, :func:`vllm_uses_3d` mirrors that choice for the printout.

Window semantics (all three agree with ours): the query at position ``p`` attends keys
``p - w + 1 .. p``; FlashInfer's ``window_left = w - 1`` and vLLM's ``window_size[0] = w - 1`` count
the keys left of the query (sources: FlashInfer's ``plan`` docstring, "window_left: the left
(inclusive) window size"; vLLM's ``sliding_window_val = 1 + window_size[0]``).

The peers' code is not in this repository: ``op_tests/pa_v1/fetch_peers.sh`` puts them under
``.peers/`` (``AITER_SWA_PEERS_DIR``), and ``run_gpu_suite.sh peers`` installs the wheels. A peer
that is not importable is a column shown as ``n/a (reason)``.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ("fi_tc", "fi_cuda", "vllm")
# vLLM 0.33 TRITON_ATTN backend constants (vllm/v1/attention/backends/triton_attn.py,
# vllm/v1/attention/ops/triton_unified_attention.py)
VLLM_MIN_LAUNCH_GRID_SIZE_2D = 128
VLLM_NUM_PAR_SOFTMAX_SEGMENTS = 16
VLLM_MAX_3D_QUERY_LEN = 8
FLASHINFER_WORKSPACE_BYTES = 128 << 20  # FlashInfer's recommended float workspace


def peers_dir() -> Path:
    return Path(os.environ.get("AITER_SWA_PEERS_DIR", str(ROOT / ".peers")))


def flashinfer_module_args(kind: str, dtype: torch.dtype, head_dim: int, window_left: int, soft_cap: float) -> tuple:
    """Arguments of FlashInfer's module generator for one row, as its decode wrapper's ``plan`` builds them.

    ``kind="tc"``: ``gen_batch_prefill_module(backend="fa2", dtype_q, dtype_kv, dtype_o, dtype_idx,
    head_dim_qk, head_dim_vo, pos_encoding_mode=0, use_sliding_window, use_logits_soft_cap,
    use_fp16_qk_reduction=False)``; ``kind="cuda"``: ``gen_batch_decode_module(dtype_q, dtype_kv,
    dtype_o, dtype_idx, head_dim_qk, head_dim_vo, pos_encoding_mode=0, use_sliding_window,
    use_logits_soft_cap)``. Page indices are int32; ``use_sliding_window`` is ``window_left != -1``.
    """
    swa, cap = window_left >= 0, soft_cap > 0
    if kind == "tc":
        return ("fa2", dtype, dtype, dtype, torch.int32, head_dim, head_dim, 0, swa, cap, False)
    if kind == "cuda":
        return (dtype, dtype, dtype, torch.int32, head_dim, head_dim, 0, swa, cap)
    raise ValueError(f"kind: expected 'tc' or 'cuda', got {kind!r}")


def flashinfer_modules_needed(rows, soft_cap: float = 0.0) -> set:
    """``{(kind, head_dim, window_on, soft_cap_on)}`` that ``rows`` (``(heads, kv_heads, head_dim, window, mtp)``) plan."""
    need = set()
    for _h, _kvh, d, window, mtp in rows:
        need.add(("tc", d, window > 0, soft_cap > 0))
        if mtp == 1:
            need.add(("cuda", d, window > 0, soft_cap > 0))
    return need


def flashinfer_page_table(block_tables: torch.Tensor, context_lens: list[int], block_size: int):
    """FlashInfer's CSR page table for our block table: every page of each sequence's context.

    Sequence ``s`` with ``L = context_lens[s]`` tokens has ``n = ceil(L / block_size)`` pages: its
    page list is ``block_tables[s, :n]`` (pages before the window are our null block 0, so that
    FlashInfer's own window skipping is what gets measured), and its last page holds
    ``L - (n - 1) * block_size`` tokens. Token ``p`` of sequence ``s`` is then at page
    ``indices[indptr[s] + p // block_size]``, slot ``p % block_size``, as in ours.

    Returns int32 ``indptr`` ``[num_seqs + 1]``, ``indices`` ``[indptr[-1]]`` and ``last_page_len``
    ``[num_seqs]`` on ``block_tables``' device. A sequence with ``L == 0`` gets no pages and
    ``last_page_len`` 0.
    """
    dev = block_tables.device
    pages = [-(-int(L) // block_size) for L in context_lens]
    if max(pages, default=0) > block_tables.shape[1]:
        raise ValueError(f"block_tables: {block_tables.shape[1]} columns, a context needs {max(pages)} pages")
    indptr = torch.tensor([0, *itertools_accumulate(pages)], dtype=torch.int32, device=dev)
    indices = torch.cat([block_tables[s, :n] for s, n in enumerate(pages)]).to(torch.int32).contiguous()
    last = torch.tensor([int(L) - (n - 1) * block_size if n else 0 for L, n in zip(context_lens, pages)],
                        dtype=torch.int32, device=dev)  # fmt: skip
    return indptr, indices, last


def itertools_accumulate(xs):
    total = 0
    for x in xs:
        total += x
        yield total


def vllm_uses_3d(num_seqs: int, num_heads: int, num_kv_heads: int, mtp: int, scratch_rows: int,
                 batch_invariant: bool = False) -> bool:  # fmt: skip
    """Whether vLLM 0.33's ``unified_attention`` takes its split-K (3D) path for this decode call.

    Mirrors its launcher (``triton_unified_attention.py``): ``BLOCK_M = 16`` for GQA <= 16 (else the
    next power of two of the GQA ratio), ``BLOCK_Q = BLOCK_M // GQA``; 3D when the scratch is given,
    ``mtp <= 8`` (causal), ``num_seqs * ceil(mtp / BLOCK_Q) <= seq_threshold_3D`` (``128 //
    num_kv_heads``), the scratch has a row per query token, and batch invariance is off.
    """
    gqa = num_heads // num_kv_heads
    block_m = 16 if gqa <= 16 else 1 << (gqa - 1).bit_length()
    block_q = block_m // gqa
    threshold = VLLM_MIN_LAUNCH_GRID_SIZE_2D // num_kv_heads
    if mtp > VLLM_MAX_3D_QUERY_LEN or batch_invariant:
        return False
    if num_seqs * -(-mtp // block_q) > threshold:
        return False
    return scratch_rows >= num_seqs * mtp


def import_flashinfer():
    """``(flashinfer module, None)`` or ``(None, reason)``."""
    try:
        import flashinfer  # noqa: PLC0415
    except Exception as e:  # noqa: BLE001  (any import failure is a column shown as n/a)
        return None, f"flashinfer not importable: {type(e).__name__}: {str(e)[:80]}"
    return flashinfer, None


def import_vllm_unified(peer_dir: Path | None = None):
    """``(unified_attention, None)`` or ``(None, reason)``; vLLM's file lives in ``<peers>/vllm_attn``."""
    d = Path(peer_dir) if peer_dir is not None else peers_dir() / "vllm_attn"
    if not (d / "vllm/v1/attention/ops/triton_unified_attention.py").is_file():
        return None, f"not fetched ({d}; op_tests/pa_v1/fetch_peers.sh)"
    if str(d) not in sys.path:
        sys.path.insert(0, str(d))
    try:
        from vllm.v1.attention.ops.triton_unified_attention import unified_attention  # noqa: PLC0415
    except Exception as e:  # noqa: BLE001
        return None, f"vLLM Triton not importable: {type(e).__name__}: {str(e)[:80]}"
    return unified_attention, None


class FlashInferDecode:
    """FlashInfer's batch decode on one ``Inputs`` set, planned once (outside any graph capture).

    ``tensor_cores``: ``use_tensor_cores``; ``mtp``: query tokens per sequence (``q_len_per_req``,
    tensor cores only). ``use_cuda_graph=True`` with the page table in the wrapper's own buffers, as
    a serving engine replays it. Calling the object runs one decode into ``self.out``.
    """

    def __init__(self, fi, inp, *, tensor_cores: bool, mtp: int, window: int, soft_cap: float):
        if mtp > 1 and not tensor_cores:
            raise NotImplementedError("FlashInfer's CUDA-core decode is single-token")
        num_kv_heads, block_size = inp.k.shape[1], inp.k.shape[2]
        num_seqs = inp.bt.shape[0]
        indptr, indices, last = flashinfer_page_table(inp.bt, [inp.ctx] * num_seqs, block_size)
        self.wrapper = fi.BatchDecodeWithPagedKVCacheWrapper(
            torch.zeros(FLASHINFER_WORKSPACE_BYTES, dtype=torch.uint8, device=inp.q.device), "HND",
            use_cuda_graph=True, use_tensor_cores=tensor_cores, paged_kv_indptr_buffer=torch.empty_like(indptr),
            paged_kv_indices_buffer=torch.empty_like(indices), paged_kv_last_page_len_buffer=torch.empty_like(last),
        )  # fmt: skip
        kw = dict(window_left=window - 1 if window > 0 else -1, logits_soft_cap=soft_cap, q_data_type=inp.q.dtype,
                  kv_data_type=inp.k.dtype, sm_scale=inp.scale)  # fmt: skip
        if mtp > 1:
            kw["q_len_per_req"] = mtp
        self.wrapper.plan(indptr, indices, last, inp.q.shape[1], num_kv_heads, inp.q.shape[2], block_size, **kw)
        self.q, self.kv, self.out = inp.q, (inp.k, inp.v), torch.empty_like(inp.q)
        self.backend = getattr(self.wrapper, "resolved_backend", "?")

    def __call__(self):
        self.wrapper.run(self.q, self.kv, out=self.out)


class VllmUnified:
    """vLLM's ``unified_attention`` on one ``Inputs`` set, called as vLLM's TRITON_ATTN decode does.

    vLLM's cache is ``[num_blocks, block_size, num_kv_heads, head_size]``; the kernel takes strides,
    so it gets a permuted view of our HND cache (the same memory, no copy). The split-K scratch is
    sized as the backend sizes it: ``min(seq_threshold_3D, max_num_seqs) * min(mtp, 8)`` rows.
    """

    def __init__(self, fn, inp, *, mtp: int, window: int, soft_cap: float, max_num_seqs: int = 256):
        num_blocks, num_kv_heads, block_size, head = inp.k.shape
        num_seqs, num_heads = inp.bt.shape[0], inp.q.shape[1]
        dev = inp.q.device
        self.fn, self.inp, self.mtp, self.window, self.soft_cap = fn, inp, mtp, window, soft_cap
        self.k, self.v = inp.k.permute(0, 2, 1, 3), inp.v.permute(0, 2, 1, 3)
        self.cu_q = torch.arange(num_seqs + 1, dtype=torch.int32, device=dev) * mtp
        self.threshold = VLLM_MIN_LAUNCH_GRID_SIZE_2D // num_kv_heads
        rows = min(self.threshold, max_num_seqs) * min(mtp, VLLM_MAX_3D_QUERY_LEN)
        segs, dpad = VLLM_NUM_PAR_SOFTMAX_SEGMENTS, 1 << (head - 1).bit_length()
        self.segm_out = torch.empty(rows, num_heads, segs, dpad, dtype=torch.float32, device=dev)
        self.segm_max = torch.empty(rows, num_heads, segs, dtype=torch.float32, device=dev)
        self.segm_sum = torch.empty(rows, num_heads, segs, dtype=torch.float32, device=dev)
        self.descale = torch.ones(1, dtype=torch.float32, device=dev).expand(num_seqs, num_kv_heads)
        self.out = torch.empty_like(inp.q)
        self.mode = "3D" if vllm_uses_3d(num_seqs, num_heads, num_kv_heads, mtp, rows) else "2D"

    def __call__(self):
        i = self.inp
        self.fn(
            q=i.q, k=self.k, v=self.v, out=self.out, cu_seqlens_q=self.cu_q, max_seqlen_q=self.mtp, seqused_k=i.cl,
            max_seqlen_k=i.ctx, softmax_scale=i.scale, causal=True,
            window_size=(self.window - 1, 0) if self.window > 0 else (-1, -1), block_table=i.bt, softcap=self.soft_cap,
            q_descale=None, k_descale=self.descale, v_descale=self.descale, seq_threshold_3D=self.threshold,
            num_par_softmax_segments=VLLM_NUM_PAR_SOFTMAX_SEGMENTS, softmax_segm_output=self.segm_out,
            softmax_segm_max=self.segm_max, softmax_segm_expsum=self.segm_sum,
        )  # fmt: skip


def reference_fp32(inp, mtp: int, window: int, soft_cap: float) -> torch.Tensor:
    """float32 attention for the multi-token rows (ours may not run them), on ``inp``'s device.

    Query row ``i`` of sequence ``s`` (row ``s * mtp + i``) sits at position ``p = L - mtp + i`` and
    attends keys ``max(0, p - w + 1) <= j <= p`` (no window: ``0 <= j <= p``), the issue-8
    semantics; logits are ``scale * q.k``, then ``cap * tanh(x / cap)`` when ``soft_cap > 0``.
    Returns ``[num_seqs * mtp, num_heads, head_size]`` float32.
    """
    ctx, bs = inp.ctx, inp.k.shape[2]
    num_seqs, num_kv_heads = inp.bt.shape[0], inp.k.shape[1]
    num_heads, head = inp.q.shape[1], inp.q.shape[2]
    g = num_heads // num_kv_heads
    lo = max(0, ctx - mtp + 1 - window) if window > 0 else 0
    pos = torch.arange(lo, ctx, device=inp.q.device)
    k = inp.k[inp.bt[:, pos // bs].long(), :, pos % bs].float()  # [num_seqs, n, kvh, d]
    v = inp.v[inp.bt[:, pos // bs].long(), :, pos % bs].float()
    q = inp.q.float().view(num_seqs, mtp, num_kv_heads, g, head)
    s = torch.einsum("bqkgd,bnkd->bkgqn", q, k) * inp.scale
    if soft_cap > 0:
        s = soft_cap * torch.tanh(s / soft_cap)
    qpos = ctx - mtp + torch.arange(mtp, device=pos.device)
    keep = pos[None, :] <= qpos[:, None]
    if window > 0:
        keep &= pos[None, :] >= qpos[:, None] - window + 1
    p = torch.softmax(s.masked_fill(~keep, float("-inf")), dim=-1)
    out = torch.einsum("bkgqn,bnkd->bqkgd", p, v)
    return out.reshape(num_seqs * mtp, num_heads, head)


def compare(out: torch.Tensor, ref: torch.Tensor, atol: float = 2e-3, rtol: float = 1e-2) -> tuple[bool, float]:
    """``(ok, max abs error)``: ``|out - ref| <= atol + rtol * |ref|`` everywhere, no NaN / inf in ``out``.

    The tolerance is a few bf16 ulps of the output (ulp 2^-8 relative); a window off by one key moves
    some outputs by ``softmax weight * v``, about 1e-2 at these shapes, and fails it.
    """
    o, r = out.float(), ref.float()
    err = (o - r).abs()
    finite = bool(torch.isfinite(o).all())
    max_err = float(err.max()) if finite and err.numel() else math.inf
    return finite and bool((err <= atol + rtol * r.abs()).all()), max_err
