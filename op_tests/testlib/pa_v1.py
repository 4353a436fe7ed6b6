"""Test helpers for ``paged_attention_v1``: inputs with NaN poisoning, a runner, error metrics.

Shared by the correctness tests, the CLI mode of ``pa_v1/test_pa_v1_swa.py``, the GPU tests and the
benchmark. Import as ``from testlib.pa_v1 import ...`` (``op_tests`` is on ``sys.path`` under pytest
and when running a file of ``op_tests`` as a script).
"""

from __future__ import annotations

import dataclasses
import statistics
import warnings

import torch

import aiter_swa
from aiter_swa.ops.pa_v1.call import ARG_NAMES, PaV1Call, kv_element_dtype
from aiter_swa.ops.pa_v1.reference import paged_attention_reference

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
#: fp8 KV-cache formats by short name (the cache's torch dtype).
FP8 = {"fn": torch.float8_e4m3fn, "fnuz": torch.float8_e4m3fnuz}
#: dtype -> (relative norm error bound, assert_close atol = rtol).
TOLERANCES = {torch.bfloat16: (2e-2, 1e-2), torch.float16: (5e-3, 5e-3), torch.float32: (1e-5, 1e-5)}
#: Block id of the null block: NaN-filled, where out-of-window and unused block-table entries point.
NULL_BLOCK = 0


@dataclasses.dataclass
class PaCase:
    """The inputs of one ``paged_attention_v1`` call (everything but ``out`` and the workspace)."""

    query: torch.Tensor
    key_cache: torch.Tensor
    value_cache: torch.Tensor
    block_tables: torch.Tensor
    context_lens: torch.Tensor
    max_context_len: int
    scale: float
    sliding_window: int = 0
    kv_cache_layout: str = "HND"
    logits_soft_cap: float = 0.0
    alibi_slopes: torch.Tensor | None = None
    sinks: torch.Tensor | None = None
    #: "auto", or "fp8" for an fp8 / uint8 cache, with its float32 one-element scales.
    kv_cache_dtype: str = "auto"
    k_scale: torch.Tensor | None = None
    v_scale: torch.Tensor | None = None
    #: Most query tokens per sequence, and the variable-length layout (None: ``mtp`` rows per sequence).
    mtp: int = 1
    cu_query_lens: torch.Tensor | None = None

    def workspace(self) -> torch.Tensor:
        _, num_heads, head_size = self.query.shape
        size = aiter_swa.get_workspace_size(
            self.context_lens.shape[0], num_heads, head_size, self.max_context_len, self.query.dtype,
            self.sliding_window, mtp=self.mtp,
        )  # fmt: skip
        return torch.empty(size, dtype=torch.uint8, device=self.query.device)

    def op_args(self, out: torch.Tensor, workspace: torch.Tensor) -> tuple:
        """The op's arguments in schema order (built by name through the op's call class)."""
        one = torch.ones(1, dtype=torch.float32, device=self.query.device)
        fields = {f.name for f in dataclasses.fields(self)}
        case = {name: getattr(self, name) for name in ARG_NAMES if name in fields}
        for name in ("k_scale", "v_scale"):
            if case[name] is None:
                case[name] = one
        return PaV1Call(out=out, workspace_buffer=workspace, **case).args()

    def reference(self) -> torch.Tensor:
        """float64 CPU reference output (a uint8 cache read as the fp8 format of its device's arch)."""
        k, v = self.key_cache, self.value_cache
        if k.dtype == torch.uint8:
            k, v = k.view(kv_element_dtype(k)), v.view(kv_element_dtype(v))
        scales = (self.k_scale, self.v_scale) if self.kv_cache_dtype != "auto" else (1.0, 1.0)
        return paged_attention_reference(
            self.query, k, v, self.block_tables, self.context_lens, self.scale, self.sliding_window,
            self.kv_cache_layout, self.logits_soft_cap, self.alibi_slopes, self.sinks, *scales, self.mtp,
            self.cu_query_lens,
        )  # fmt: skip


def attended_range(context_len: int, sliding_window: int, num_tokens: int = 1) -> tuple[int, int]:
    """Positions ``[lo, L)`` of the keys attended by the ``num_tokens`` query tokens at
    ``L - num_tokens .. L - 1`` (``[0, 0)`` for ``num_tokens <= 0``)."""
    if num_tokens <= 0:
        return 0, 0
    lo = max(0, context_len - num_tokens - sliding_window + 1) if sliding_window > 0 else 0
    return min(lo, context_len), context_len


def widen_block_table(case: PaCase, columns: int, fill: int = NULL_BLOCK) -> torch.Tensor:
    """Give ``case`` a block table of ``columns`` columns (an engine sizes it for its longest context):
    the old entries first, ``fill`` after them; returns the new table (``case.block_tables``)."""
    old = case.block_tables
    wide = torch.full((old.shape[0], columns), fill, dtype=old.dtype, device=old.device)
    wide[:, : old.shape[1]] = old
    case.block_tables = wide
    return wide


def make_case(
    *,
    num_seqs: int,
    num_heads: int,
    num_kv_heads: int,
    head_size: int,
    block_size: int,
    context_lens: int | list[int],
    dtype: torch.dtype,
    device: str | torch.device = "cpu",
    sliding_window: int = 0,
    kv_cache_layout: str = "HND",
    logits_soft_cap: float = 0.0,
    alibi: bool = False,
    combined_kv: bool = False,
    scale: float | None = None,
    seed: int = 0,
    poison: bool = True,
    spare_blocks: int = 2,
    sinks: float | str | None = None,
    kv_dtype: torch.dtype | None = None,
    k_scale: float = 1.0,
    v_scale: float = 1.0,
    mtp: int = 1,
    query_lens: list[int] | None = None,
    extra_rows: int = 0,
) -> PaCase:
    """Random inputs (uniform in [-1, 1), drawn on the CPU from ``seed``, then moved to ``device``).

    Each sequence owns shuffled, distinct blocks for the keys it attends; block-table entries
    before the window or past the context point at ``NULL_BLOCK``. With ``poison``, every cache
    slot that is not an attended key (null block, spare blocks, the window's partial first block,
    the context's partial last block) holds NaN, so reading one shows in the output.
    ``combined_kv`` makes K and V strided views ``kv[:, 0]``, ``kv[:, 1]`` of one tensor.
    ``sinks``: None (no sinks), a float (every head's sink logit) or ``"random"`` (uniform in
    [-3, 3), drawn after everything else, so the other inputs equal those of the same seed without
    sinks). ``kv_dtype``: the caches' dtype when it is not ``dtype``: ``torch.float8_e4m3fn`` /
    ``torch.float8_e4m3fnuz`` (then ``kv_cache_dtype="fp8"``, the caches hold the uniform values
    divided by ``k_scale`` / ``v_scale``, rounded to fp8, and NaN codes where poisoned) or
    ``torch.uint8`` (the same, in the fp8 format of ``device``'s arch, as bytes).
    ``mtp``: tokens per sequence; ``query_lens``: per-sequence counts passed as ``cu_query_lens``
    (int32, ``[num_seqs + 1]``; a count above ``mtp`` is a sequence the op skips; ``extra_rows`` rows
    after the last sequence's belong to none). Without ``query_lens`` the query has
    ``num_seqs * mtp`` rows and no ``cu_query_lens``.
    """
    gen = torch.Generator().manual_seed(seed)
    lens = [context_lens] * num_seqs if isinstance(context_lens, int) else list(context_lens)
    assert len(lens) == num_seqs
    max_context_len = max(lens, default=0)
    max_blocks = -(-max_context_len // block_size)
    tokens = [mtp] * num_seqs if query_lens is None else [q if q <= mtp else 0 for q in query_lens]
    ranges = [attended_range(L, sliding_window, n) for L, n in zip(lens, tokens)]
    first_blocks = [lo // block_size for lo, _ in ranges]
    end_blocks = [max(-(-hi // block_size), f) for (_, hi), f in zip(ranges, first_blocks)]
    num_used = sum(e - f for f, e in zip(first_blocks, end_blocks))
    num_blocks = 1 + num_used + spare_blocks
    ids = (1 + torch.randperm(num_used, generator=gen)).tolist()
    block_tables = torch.full((num_seqs, max_blocks), NULL_BLOCK, dtype=torch.int32)
    for i, (f, e) in enumerate(zip(first_blocks, end_blocks)):
        block_tables[i, f:e] = torch.tensor(ids[: e - f], dtype=torch.int32)
        ids = ids[e - f :]

    block_shape = (
        (num_kv_heads, block_size, head_size) if kv_cache_layout == "HND" else (block_size, num_kv_heads, head_size)
    )
    fp8 = kv_dtype is not None and kv_dtype != dtype
    draw_dtype = torch.float32 if fp8 else dtype  # fp8: drawn, poisoned, then quantized
    if combined_kv:
        kv = torch.empty(num_blocks, 2, *block_shape, dtype=draw_dtype).uniform_(-1, 1, generator=gen)
        key_cache, value_cache = kv[:, 0], kv[:, 1]
    else:
        key_cache = torch.empty(num_blocks, *block_shape, dtype=draw_dtype).uniform_(-1, 1, generator=gen)
        value_cache = torch.empty(num_blocks, *block_shape, dtype=draw_dtype).uniform_(-1, 1, generator=gen)
    if poison:
        attended = torch.zeros(num_blocks, block_size, dtype=torch.bool)
        for i, (lo, hi) in enumerate(ranges):
            p = torch.arange(lo, hi)
            attended[block_tables[i].long()[p // block_size], p % block_size] = True
        for cache in (key_cache, value_cache):
            tokens = cache.transpose(1, 2) if kv_cache_layout == "HND" else cache  # [blocks, block_size, kvh, d]
            tokens[~attended] = float("nan")

    if query_lens is None:
        num_rows, cu_query_lens = num_seqs * mtp, None
    else:
        assert len(query_lens) == num_seqs
        cu = [0]
        for q in query_lens:
            cu.append(cu[-1] + q)
        num_rows, cu_query_lens = cu[-1] + extra_rows, torch.tensor(cu, dtype=torch.int32).to(device)
    query = torch.empty(num_rows, num_heads, head_size, dtype=dtype).uniform_(-1, 1, generator=gen)
    alibi_slopes = None
    if alibi:  # the geometric slopes of the ALiBi paper: 2^(-8 h / num_heads), h = 1..num_heads
        alibi_slopes = torch.tensor([2.0 ** (-8.0 * h / num_heads) for h in range(1, num_heads + 1)]).to(device)
    sink_logits = None
    if sinks == "random":
        sink_logits = torch.empty(num_heads).uniform_(-3, 3, generator=gen)
    elif sinks is not None:
        sink_logits = torch.full((num_heads,), float(sinks))
    if sink_logits is not None:
        sink_logits = sink_logits.to(device)
    fp8_fields = {}
    if fp8:
        element = kv_element_dtype(torch.empty(0, dtype=kv_dtype, device=device))  # uint8: the device's format
        if combined_kv:
            kv = torch.stack([kv[:, 0] / k_scale, kv[:, 1] / v_scale], dim=1).to(element)
        else:
            key_cache, value_cache = (key_cache / k_scale).to(element), (value_cache / v_scale).to(element)
        if kv_dtype == torch.uint8:
            if combined_kv:
                kv = kv.view(torch.uint8)
            else:
                key_cache, value_cache = key_cache.view(torch.uint8), value_cache.view(torch.uint8)
        fp8_fields = dict(
            kv_cache_dtype="fp8",
            k_scale=torch.tensor([k_scale], dtype=torch.float32, device=device),
            v_scale=torch.tensor([v_scale], dtype=torch.float32, device=device),
        )
    if combined_kv:
        kv = kv.to(device)
        key_cache, value_cache = kv[:, 0], kv[:, 1]
    else:
        key_cache, value_cache = key_cache.to(device), value_cache.to(device)
    return PaCase(
        query=query.to(device),
        key_cache=key_cache,
        value_cache=value_cache,
        block_tables=block_tables.to(device),
        context_lens=torch.tensor(lens, dtype=torch.int32, device=device),
        max_context_len=max_context_len,
        scale=head_size**-0.5 if scale is None else scale,
        sliding_window=sliding_window,
        kv_cache_layout=kv_cache_layout,
        logits_soft_cap=logits_soft_cap,
        alibi_slopes=alibi_slopes,
        sinks=sink_logits,
        mtp=mtp,
        cu_query_lens=cu_query_lens,
        **fp8_fields,
    )


def run_op(case: PaCase) -> torch.Tensor:
    """Call ``torch.ops.aiter_swa.paged_attention_v1`` on ``case`` with a NaN-poisoned ``out``; return ``out``."""
    out = torch.full_like(case.query, float("nan"))
    torch.ops.aiter_swa.paged_attention_v1(*case.op_args(out, case.workspace()))
    return out


def error_metrics(out: torch.Tensor, ref: torch.Tensor) -> tuple[float, float]:
    """(max absolute error, relative norm error ``||out - ref|| / ||ref||``), in float64 on the CPU."""
    diff = out.detach().cpu().double() - ref.cpu().double()
    max_abs = diff.abs().max().item() if diff.numel() else 0.0
    ref_norm = ref.double().norm().item()
    rel = diff.norm().item() / ref_norm if ref_norm > 0 else diff.norm().item()
    return max_abs, rel


def mismatch(out: torch.Tensor, ref: torch.Tensor) -> str | None:
    """Why ``out`` fails the tolerances of its dtype against ``ref`` (None when it passes).

    Relative norm error below ``TOLERANCES[dtype][0]`` and ``torch.testing.assert_close`` with
    ``atol = rtol = TOLERANCES[dtype][1]`` (the aiter test grid's bounds for bf16/fp16).
    """
    rel_bound, tol = TOLERANCES[out.dtype]
    max_abs, rel = error_metrics(out, ref)
    if not rel < rel_bound:  # also catches NaN
        return f"relative norm error {rel:.3g} >= {rel_bound} (max abs error {max_abs:.3g})"
    try:
        torch.testing.assert_close(out.detach().cpu().double(), ref.double(), atol=tol, rtol=tol)
    except AssertionError as e:
        return str(e)
    return None


def assert_matches_reference(out: torch.Tensor, ref: torch.Tensor, msg: str = "") -> None:
    """Assert :func:`mismatch` finds nothing; ``msg`` names the case."""
    why = mismatch(out, ref)
    assert why is None, f"{msg}: {why}"


#: GPU clock cycles :func:`cuda_median_ms` holds the stream before each timed run (about 1 ms at 2 GHz):
#: longer than the host takes to enqueue the start event, a graph replay or an eager call, and the end event.
HOLD_CYCLES = 2_000_000


def cuda_median_ms(fn, warmup: int, reps: int, hold: bool = True) -> float:
    """Median time of ``fn()`` in ms over ``reps`` runs, timed with CUDA/HIP events after ``warmup`` runs.

    ``hold``: before each run the stream first spins for :data:`HOLD_CYCLES` GPU cycles
    (``torch.cuda._sleep``), so that the host has enqueued the start event, ``fn``'s work and the end event
    before the GPU reaches the start event. Without it the start event is recorded as soon as the host
    submits it to the idle stream, and the time also counts the host's submission of ``fn``'s work (for a
    graph replay, ``cudaGraphLaunch``; on an H200 the hold took 0.3 µs per call off a 20-call batch-1 graph,
    docs/results.md 2026-12-02 16:48 UTC session). NVIDIA's nvbench blocks the stream before its start event for the same reason
    (``nvbench/blocking_kernel.cuh``: the start event "may be recorded a non-trivial amount of time before
    my_kernel is ready to launch due to various work submission latencies"). A run whose start event the
    GPU had already passed when the host recorded the end event (the hold ended first) raises a
    ``RuntimeWarning`` naming how many runs, since those count the submission again."""
    for _ in range(warmup):
        fn()
    times, short = [], 0
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        if hold:
            torch.cuda._sleep(HOLD_CYCLES)
        start.record()
        fn()
        end.record()
        short += hold and start.query()
        end.synchronize()
        times.append(start.elapsed_time(end))
    if short:
        warnings.warn(f"cuda_median_ms: the stream's hold ({HOLD_CYCLES} cycles) ended before the host had enqueued "
                      f"{short} of {reps} runs; their times include the host's submission", RuntimeWarning, stacklevel=2)
    return statistics.median(times)


def null_launch_args(**overrides) -> dict:
    """Every parameter of the pa_v1 launch contract (``spec.LAUNCH``) by name: null pointers, the
    sizes and strides of a small consistent case (1 sequence, 8 heads, 1 KV head, head size 128,
    block 16, 2 partitions of 256 keys, ``key_tile`` 0: the vector kernel's), ``overrides`` last. With
    ``num_seqs=0`` a launcher returns before it touches the GPU runtime."""
    args = dict(
        out=0, query=0, key_cache=0, value_cache=0, block_tables=0, cu_query_lens=0, context_lens=0, alibi_slopes=0,
        sinks=0,
        k_scale=0, v_scale=0, workspace=0, device=0, exp_sums_offset=0, max_logits_offset=64, tmp_out_offset=128,
        num_seqs=1, num_heads=8, num_kv_heads=1, num_partitions=2, bt_stride=32, q_stride_seq=1024,
        q_stride_head=128, o_stride_seq=1024, o_stride_head=128, k_stride_block=2048, k_stride_head=2048,
        k_stride_token=128, v_stride_block=2048, v_stride_head=2048, v_stride_token=128, sliding_window=128,
        max_context_len=512, num_blocks=64, block_size=16, scale=0.1, soft_cap=0.0, stream=0, mtp=1,
        num_query_rows=1, cu_len=0, partition_size=256, key_tile=0, max_blocks_per_seq=32, workspace_bytes=1 << 20,
        num_cus=132,
    )
    unknown = set(overrides) - set(args)
    assert not unknown, f"not launch parameters: {sorted(unknown)}"
    return {**args, **overrides}


def assert_rows_match(out: torch.Tensor, ref: torch.Tensor, msg: str = "") -> None:
    """Multi-token calls: rows the reference leaves NaN (no sequence writes them) must still hold
    ``out``'s NaN poison; the other rows must pass :func:`mismatch`."""
    unwritten = ref.isnan().flatten(1).all(1)
    got = out.detach().cpu()
    assert bool(got[unwritten].isnan().all()), f"{msg}: a row no sequence owns was written"
    if bool((~unwritten).any()):
        assert_matches_reference(got[~unwritten], ref[~unwritten], msg)


def call_raw(prepared, **per_call):
    """Call a prepared launcher through its C entry point (``Prepared.raw()``, what the fast path
    calls): the per-call parameters of ``spec.LAUNCH`` by name, each passed as a 64-bit word (floats
    as the bits of a double). Returns None or the launcher's error message (str)."""
    import ctypes
    import struct

    from aiter_swa.ops.pa_v1.spec import LAUNCH

    words = [struct.unpack("<Q", struct.pack("<d", per_call[p.name]))[0] if p.kind == "float" else per_call[p.name]
             for p in LAUNCH.params if p.per_call]  # fmt: skip
    fn, state = prepared.raw()
    entry = ctypes.CFUNCTYPE(ctypes.c_char_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64))(fn)
    error = entry(state, (ctypes.c_uint64 * len(words))(*words))
    return None if error is None else error.decode()
