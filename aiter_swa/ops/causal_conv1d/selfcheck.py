"""First-use self-check of the causal_conv1d GPU kernels on architectures no GPU test has run on.

The GPU tests have run these kernels on NVIDIA sm_90 only (:data:`aiter_swa._selfcheck.TESTED_ARCHS`);
the AMD builds (gfx942, gfx90a) are compiled and resource-checked in CI but have never run. So on
every other architecture the first use in a process of each kernel (the forward or the update of one
``CausalConv1dSpec``: dtype, width, activation, layout, arch) first runs a small built-in case
(:func:`build_fwd_case`, :func:`build_update_case`) through that kernel and through the CPU path
(``cpu.py``), and compares the outputs and the states at the tests' tolerances (``TOLERANCES``). On a
mismatch the op raises :class:`~aiter_swa._selfcheck.SelfCheckError` naming the kernel, the
specialization and the architecture, and how to report it. The kernel stays failed for the process:
every later call raises too.

Settings: ``AITER_SWA_SELF_CHECK`` as for ``paged_attention_v1`` (``aiter_swa._selfcheck``): ``1``/``on``
everywhere, ``0``/``off`` nowhere, unset/``auto`` on untested architectures (on by default on ROCm).

Cost and synchronisation: the check synchronises and allocates well under 1 MB. It runs once per kernel
and process, inside the first call that builds a launch plan for it (``gpu._fwd_plan`` /
``gpu._update_plan``, once per metadata key); later calls never reach it. Inside a CUDA/HIP graph
capture it cannot run: the call runs unchecked, a warning is logged once, and the check runs at the
kernel's first plan built outside a capture (warm up eagerly before capturing).
"""

from __future__ import annotations

import torch

from aiter_swa import _selfcheck
from aiter_swa._selfcheck import ENV, HOW_TO_REPORT, TESTED_ARCHS, SelfCheckError  # noqa: F401 (this module's API)

#: dtype -> atol = rtol against the CPU path (the tests' bounds against the float64 reference,
#: op_tests/testlib/causal_conv1d.py: output rounding dominates).
TOLERANCES = {torch.bfloat16: 1.6e-2, torch.float16: 2e-3, torch.float32: 1e-5}
_TORCH_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}
#: The built-in forward case: sequences of 0, 1, 2 (< width), 5 and 301 tokens (two channel-first token
#: tiles of 16-bit rows; many channel-last ones), the 2-token one padded; 264 channels (a partial last
#: channel group in both layouts); odd total token count (channel-first rows off 16-byte boundaries).
CASE_LENS = (0, 1, 2, 5, 301)
CASE_INITIAL = (True, False, True, True, False)
CASE_DIM = 264
CASE_PAD = 2  # index into CASE_LENS of the padded sequence
PAD_SLOT_ID = -1
#: The built-in update case: 3 sequences of 2 new tokens (spec decode), the second padded.
CASE_UPDATE_BATCH, CASE_UPDATE_SEQLEN = 3, 2

_first_use = _selfcheck.FirstUse()
#: (kernel, specialization) pairs checked and found right (the tests read it).
_passed = _first_use.passed


def _capturing(device: torch.device) -> bool:
    return _selfcheck.capturing(device)


def ensure(kernel: str, spec, device: torch.device) -> None:
    """Run the self-check of ``kernel`` (``"fwd"`` or ``"update"``) of ``spec`` on ``device`` once per
    process if it applies (``AITER_SWA_SELF_CHECK``, :data:`TESTED_ARCHS`); a no-op after.

    Raises:
        SelfCheckError: this kernel failed its check in this process.
        ValueError: ``AITER_SWA_SELF_CHECK`` has a value other than 1/on, 0/off or auto.
    """
    op = f"causal_conv1d_{kernel}"

    def message(why: str) -> str:
        return (
            f"aiter_swa {op} self-check failed: specialization {spec.name} on {spec.arch} {why}, against the CPU "
            f"path on the built-in case (the first use of this kernel in this process; the GPU tests have run it on "
            f"{TESTED_ARCHS} only). Until it is fixed, run this op on the CPU or another implementation of it "
            f"(vLLM's and SGLang's Triton causal_conv1d have the same arguments); {ENV}=0 skips this check: "
            f"results may be wrong. {HOW_TO_REPORT}"
        )

    _first_use.ensure((kernel, spec), name=f"{op} {spec.name}", arch=spec.arch, message=message,
                      applies=lambda: _selfcheck.enabled(spec.arch), capturing=lambda: _capturing(device),
                      check=lambda: check(kernel, spec, device))  # fmt: skip


def _reset_for_tests() -> None:
    _first_use.reset()


def _gen() -> torch.Generator:
    return torch.Generator().manual_seed(20261129)


def build_fwd_case(spec, device) -> tuple:
    """``causal_conv1d_fwd``'s arguments (schema order) of the built-in case for ``spec`` on ``device``.

    Deterministic (seeded on the CPU, then moved), finite inputs in ``spec``'s dtype, width,
    activation and layout (channel-last: ``x`` a ``[dim, tokens]`` view of a ``[tokens, dim]`` tensor);
    bias; sequences :data:`CASE_LENS` with initial states :data:`CASE_INITIAL`, cache lines in reverse
    order with one spare line, sequence :data:`CASE_PAD` padded; ``out`` NaN (a padded sequence's
    outputs are left as they are, by both paths).
    """
    gen, dtype = _gen(), _TORCH_DTYPES[spec.dtype]
    n, total, dim, width = len(CASE_LENS), sum(CASE_LENS), CASE_DIM, spec.width
    rand = lambda *shape: torch.rand(shape, generator=gen) * 2 - 1  # noqa: E731
    x = rand(total, dim).t() if spec.layout == "channel_last" else rand(dim, total)
    lines = n + 1
    cache_indices = torch.arange(n - 1, -1, -1, dtype=torch.int32)
    cache_indices[CASE_PAD] = PAD_SLOT_ID
    qsl = torch.tensor([0, *torch.tensor(CASE_LENS).cumsum(0).tolist()], dtype=torch.int32)
    to = lambda t: t.to(device=device, dtype=dtype if t.is_floating_point() else t.dtype)  # noqa: E731
    out = torch.full((total, dim), float("nan")).t() if spec.layout == "channel_last" else torch.full((dim, total), float("nan"))
    return (to(out), to(x), to(rand(dim, width)), to(rand(dim)), to(rand(lines, dim, width - 1)), to(qsl),
            to(cache_indices), to(torch.tensor(CASE_INITIAL)), spec.activation, PAD_SLOT_ID, list(CASE_LENS))  # fmt: skip


def build_update_case(spec, device) -> tuple:
    """``causal_conv1d_update``'s arguments (schema order) of the built-in case for ``spec`` on
    ``device``: :data:`CASE_UPDATE_BATCH` sequences of :data:`CASE_UPDATE_SEQLEN` tokens and
    :data:`CASE_DIM` channels, cache lines in reverse order with one spare, the second sequence padded;
    ``out`` NaN."""
    gen, dtype = _gen(), _TORCH_DTYPES[spec.dtype]
    b, d, w, sl = CASE_UPDATE_BATCH, CASE_DIM, spec.width, CASE_UPDATE_SEQLEN
    rand = lambda *shape: torch.rand(shape, generator=gen) * 2 - 1  # noqa: E731
    indices = torch.arange(b - 1, -1, -1, dtype=torch.int32)
    indices[1] = PAD_SLOT_ID
    to = lambda t: t.to(device=device, dtype=dtype if t.is_floating_point() else t.dtype)  # noqa: E731
    return (to(torch.full((b, d, sl), float("nan"))), to(rand(b, d, sl)), to(rand(b + 1, d, w - 1)), to(rand(d, w)),
            to(rand(d)), spec.activation, to(indices), PAD_SLOT_ID)  # fmt: skip


def run_kernel(kernel: str, args: tuple) -> None:
    """Run the op on ``args`` (on a GPU: the kernel under check; the tests replace this)."""
    getattr(torch.ops.aiter_swa, f"causal_conv1d_{kernel}")(*args)


def check(kernel: str, spec, device: torch.device) -> str | None:
    """Run the built-in case of ``kernel`` (``"fwd"``, ``"update"``) of ``spec`` through
    :func:`run_kernel` on ``device`` and through the CPU path; return why the outputs or the states
    differ, or None. Synchronises."""
    from . import cpu
    from .call import validate_fwd, validate_update

    fwd = kernel == "fwd"
    args = build_fwd_case(spec, device) if fwd else build_update_case(spec, device)
    # the CPU path on copies with the same strides (never aliased)
    host = tuple(a.to("cpu", copy=True) if isinstance(a, torch.Tensor) else a for a in args)
    (cpu.run_fwd(validate_fwd(*host)) if fwd else cpu.run_update(validate_update(*host)))
    run_kernel(kernel, args)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    tol = TOLERANCES[args[1].dtype]
    states = 4 if fwd else 2
    why = _selfcheck.compare(args[0], host[0], tol)
    if why is None:
        why = _selfcheck.compare(args[states], host[states], tol)
        return None if why is None else f"(its new conv states) {why}"
    return why
