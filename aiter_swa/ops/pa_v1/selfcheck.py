"""First-use self-check of ``paged_attention_v1``'s GPU kernels on architectures no GPU test has run on.

The GPU tests (``op_tests/run_gpu_suite.sh``) run on the machines listed in :data:`TESTED_ARCHS`; on
every other architecture — every AMD gfx, since the AMD code paths (MFMA, wave64) compile in CI but
have never run — the first use of each specialization (``PaV1Spec``) in a process first runs a small
built-in case (:func:`build_case`: a few sequences of 0 to 700 keys, split-K and its reduce, the
specialization's dtypes, head size, GQA bucket, window, soft cap and ALiBi, with sinks, the call's
``mtp`` and layout) through that kernel and compares it with the CPU path (``cpu.py``) at the tests'
tolerances. On a mismatch the op raises :class:`SelfCheckError`, naming the specialization, the
architecture, the setting that switches to the vector kernel (``AITER_SWA_PA_KERNEL=vector``) and
how to report it; the specialization stays failed for the process (every later call raises too).

Settings (read at the first use of each specialization):

- ``AITER_SWA_SELF_CHECK``: ``1`` / ``on`` runs it on every architecture, ``0`` / ``off`` never;
  unset or ``auto``: on for architectures not in :data:`TESTED_ARCHS` (on by default on ROCm), and
  for a kernel family not in :data:`TESTED_KERNELS`.

Cost and synchronisation: the check synchronises (it reads results on the host) and allocates a few
MB, once per specialization and process, inside the first call that builds a launch plan for it
(``gpu._plan``, which runs once per metadata key). Later calls never reach it: the hot path is
unchanged. Under CUDA/HIP graph capture it cannot run (a sync would invalidate the capture): the
call then runs unchecked and a warning is logged once on the ``aiter_swa`` logger; the check runs at
the specialization's first plan built outside a capture. Serving engines warm up eagerly before
they capture, which is where the check then happens. It also synchronises under
``torch.cuda.set_sync_debug_mode("error")`` on a first use: warm up outside such regions.
"""

from __future__ import annotations

import torch

from aiter_swa import _selfcheck
from aiter_swa._selfcheck import ENV, HOW_TO_REPORT, TESTED_ARCHS, SelfCheckError  # noqa: F401 (this module's API)

from .spec import MMA_ONE_TOKEN_MAX_PAIRS

#: Environment variable of the GPU dispatch that picks the kernel family (``vector``, ``mma``, ``auto``;
#: the matrix-core build's ``spec.KERNEL_ENV``). ``vector`` serves one query token per sequence.
KERNEL_ENV = "AITER_SWA_PA_KERNEL"
#: Kernel families the GPU test suite has run on :data:`TESTED_ARCHS`: the vector kernel and, since the
#: whole tree's run of 2026-11-29 (11:28 UTC session, call 5, docs/results.md), the matrix-core kernel
#: (``mma``; on AMD it has run in the CPU emulator only, so it is checked there).
TESTED_KERNELS = ("vector", "mma")
#: query dtype -> (relative norm error bound, atol = rtol): the GPU tests' bounds (op_tests/testlib/pa_v1.py).
TOLERANCES = {torch.bfloat16: (2e-2, 1e-2), torch.float16: (5e-3, 5e-3), torch.float32: (1e-5, 1e-5)}

_first_use = _selfcheck.FirstUse()
#: Specializations checked and found right (the tests read it).
_passed = _first_use.passed


def enabled(arch: str, kernel: str = "vector") -> bool:
    """Whether the check runs for ``kernel`` (``"vector"`` / ``"mma"``) on ``arch`` under the current
    ``AITER_SWA_SELF_CHECK`` setting (auto: unless both are among the tested ones).

    Raises:
        ValueError: the setting is not one of 1/on/true/yes, 0/off/false/no, auto or empty.
    """
    return _selfcheck.enabled(arch, kernel in TESTED_KERNELS)


def _capturing(device: torch.device) -> bool:
    return _selfcheck.capturing(device)


def ensure(spec, call) -> None:
    """Run the self-check of ``spec`` once per process if it applies (:func:`enabled`); a no-op after.

    ``call``: the validated ``PaV1Call`` whose first use this is (its device, ``mtp``, layout and
    whether it passes ``cu_query_lens`` shape the built-in case).

    Raises:
        SelfCheckError: this specialization failed its check in this process.
    """
    device = call.query.device

    def message(why: str) -> str:
        return (
            f"aiter_swa paged_attention_v1 self-check failed: specialization {spec.name} on {spec.arch} {why}, "
            f"against the CPU path on the built-in case (the first use of this specialization in this process; "
            f"the GPU tests have run the {TESTED_KERNELS} kernel(s) on {TESTED_ARCHS} only). "
            f"Set {KERNEL_ENV}=vector to run the vector kernel instead (one query token per sequence; {ENV}=0 "
            f"skips this check: results may be wrong). {HOW_TO_REPORT}"
        )

    _first_use.ensure(
        spec, name=spec.name, arch=spec.arch, message=message, capturing=lambda: _capturing(device),
        applies=lambda: enabled(spec.arch, "mma" if spec.mma_rows else "vector"),
        check=lambda: check(spec, device, mtp=call.mtp, varlen=call.cu_query_lens is not None,
                            kv_cache_layout=call.kv_cache_layout, gqa_ratio=call.dims.gqa_ratio),
    )  # fmt: skip


def _reset_for_tests() -> None:
    _first_use.reset()


_TORCH_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp8e4m3fn": torch.float8_e4m3fn,
                 "fp8e4m3fnuz": torch.float8_e4m3fnuz}  # fmt: skip
#: The built-in case: context lengths (empty, one key, within one partition, three partitions).
CASE_CONTEXT_LENS = (0, 1, 37, 700)
CASE_WINDOW = 300
CASE_SOFT_CAP = 8.0
CASE_BLOCK_SIZE = 16
#: KV heads of the built-in case, from the one-token dispatch's batch rule (spec.MMA_ONE_TOKEN_MAX_PAIRS,
#: which counts (sequence, KV head) pairs on sm_90): a matrix-core spec's case has at most that many pairs
#: (4 sequences x 2), a vector spec's more (4 x 3), so that a one-token case selects the first call's kernel.
CASE_NUM_KV_HEADS_MMA = max(1, MMA_ONE_TOKEN_MAX_PAIRS // len(CASE_CONTEXT_LENS))
CASE_NUM_KV_HEADS = CASE_NUM_KV_HEADS_MMA + 1


def build_case(spec, device, mtp: int = 1, varlen: bool = False, kv_cache_layout: str = "HND",
               gqa_ratio: int | None = None) -> tuple:
    """The op's arguments (schema order) of the built-in case for ``spec`` on ``device``; ``out`` NaN.

    Deterministic (seeded on the CPU, then moved), finite inputs; ``num_heads = gqa_ratio * kv_heads``
    over :data:`CASE_NUM_KV_HEADS` (matrix-core specs :data:`CASE_NUM_KV_HEADS_MMA`) KV heads
    (``gqa_ratio``: the first call's, so that the dispatch picks the same
    specialization; default ``spec.gqa``); window 300 when ``spec.sliding_window`` (700 keys: two partitions of the
    window, and the reduce), soft cap 8 when ``spec.soft_cap``, the ALiBi paper's slopes when
    ``spec.alibi``, random sinks always. ``mtp`` tokens per sequence; with ``varlen`` a
    ``cu_query_lens`` of counts ``(mtp, 1, mtp, mtp - 1)``; with ``mtp == 1`` all 1 for the vector
    kernel, ``(1, 0, 1, 1)`` for the matrix-core one (fewer rows than sequences: what sends a
    one-token call there, ``gpu._multi_row``). fp8 caches
    (``spec.kv_dtype``) hold quantized values with scales 0.5 and 2.
    """
    from .call import PaV1Call  # call imports torch-heavy modules; keep this module light to import
    from .workspace import get_workspace_size

    gen = torch.Generator().manual_seed(20261128)
    q_dtype = _TORCH_DTYPES[spec.q_dtype]
    kv_dtype = _TORCH_DTYPES[spec.kv_dtype]
    fp8 = spec.kv_dtype.startswith("fp8")
    lens = list(CASE_CONTEXT_LENS)
    num_seqs, bs, d = len(lens), CASE_BLOCK_SIZE, spec.head_size
    kvh = CASE_NUM_KV_HEADS_MMA if spec.mma_rows else CASE_NUM_KV_HEADS
    num_heads = (gqa_ratio or spec.gqa) * kvh
    max_len = max(lens)
    blocks_per_seq = -(-max_len // bs)
    num_blocks = num_seqs * blocks_per_seq
    block_tables = torch.randperm(num_blocks, generator=gen).to(torch.int32).view(num_seqs, blocks_per_seq)
    shape = (num_blocks, kvh, bs, d) if kv_cache_layout == "HND" else (num_blocks, bs, kvh, d)
    k_scale, v_scale = (0.5, 2.0) if fp8 else (1.0, 1.0)
    key_cache = (torch.rand(shape, generator=gen) * 2 - 1) / k_scale
    value_cache = (torch.rand(shape, generator=gen) * 2 - 1) / v_scale
    if varlen:
        if mtp > 1:
            counts = [mtp, 1, mtp, mtp - 1]
        else:
            counts = [1, 0] + [1] * (num_seqs - 2) if spec.mma_rows else [1] * num_seqs
        cu = torch.tensor([0] + list(torch.tensor(counts).cumsum(0).tolist()), dtype=torch.int32)
        num_rows = int(cu[-1])
    else:
        cu, num_rows = None, num_seqs * mtp
    query = torch.rand((num_rows, num_heads, d), generator=gen) * 2 - 1
    alibi = None
    if spec.alibi:
        alibi = torch.tensor([2.0 ** (-8.0 * h / num_heads) for h in range(1, num_heads + 1)], dtype=torch.float32)
    sinks = torch.rand(num_heads, generator=gen) * 6 - 3
    window = CASE_WINDOW if spec.sliding_window else 0
    ws = get_workspace_size(num_seqs, num_heads, d, max_len, q_dtype, window, 256, mtp)
    to = lambda t, dtype=None: None if t is None else t.to(device=device, dtype=dtype)  # noqa: E731
    call = PaV1Call(
        out=torch.full((num_rows, num_heads, d), float("nan"), dtype=q_dtype, device=device),
        workspace_buffer=torch.empty(ws, dtype=torch.uint8, device=device),
        query=to(query, q_dtype), key_cache=to(key_cache, kv_dtype), value_cache=to(value_cache, kv_dtype),
        scale=d**-0.5, block_tables=to(block_tables), cu_query_lens=to(cu),
        context_lens=to(torch.tensor(lens, dtype=torch.int32)), max_context_len=max_len, alibi_slopes=to(alibi),
        kv_cache_dtype="fp8" if fp8 else "auto", kv_cache_layout=kv_cache_layout,
        logits_soft_cap=CASE_SOFT_CAP if spec.soft_cap else 0.0,
        k_scale=to(torch.tensor([k_scale])), v_scale=to(torch.tensor([v_scale])), mtp=mtp, sliding_window=window,
        sinks=to(sinks),
    )  # fmt: skip
    return call.args()


def run_kernel(args: tuple) -> None:
    """Run the op on ``args`` (on a GPU: the kernel under check; the tests replace this)."""
    torch.ops.aiter_swa.paged_attention_v1(*args)


def compare(out: torch.Tensor, expected: torch.Tensor) -> str | None:
    """Why ``out`` differs from ``expected`` beyond the tolerances of ``expected``'s dtype (None: it does not)."""
    rel_bound, tol = TOLERANCES[expected.dtype]
    return _selfcheck.compare(out, expected, tol, rel_bound)


def check(spec, device, mtp: int = 1, varlen: bool = False, kv_cache_layout: str = "HND",
          gqa_ratio: int | None = None) -> str | None:
    """Run the built-in case of ``spec`` through :func:`run_kernel` on ``device`` and through the CPU
    path; return why they differ, or None. Synchronises.

    Raises:
        RuntimeError: the built-in case would not select ``spec`` (a bug of this module).
    """
    from . import cpu, gpu
    from .call import validate

    args = build_case(spec, device, mtp, varlen, kv_cache_layout, gqa_ratio)
    chosen = gpu.spec_for(validate(*args), spec.arch)
    if chosen != spec:
        raise RuntimeError(f"aiter_swa self-check: the built-in case selects {chosen.name}, not {spec.name}")
    host_args = tuple(a.to('cpu', copy=True) if isinstance(a, torch.Tensor) else a for a in args)  # never aliased
    cpu.run(validate(*host_args))
    run_kernel(args)
    out, expected = args[0], host_args[0]
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return compare(out, expected)
