"""The first-use self-check's op-agnostic part: the setting, the per-process state, the comparison.

Code that no GPU test has run (the AMD builds: compiled and resource-checked in CI, never run) is
checked at its first use in a process: each op's ``selfcheck`` module runs a small built-in case
through the GPU kernel and through the CPU path and compares them (``aiter_swa.ops.pa_v1.selfcheck``,
``aiter_swa.ops.causal_conv1d.selfcheck``). This module holds what they share:

- :data:`ENV` (``AITER_SWA_SELF_CHECK``): ``1``/``on`` checks on every architecture, ``0``/``off``
  nowhere, unset/``auto`` where the GPU tests have not run (:func:`enabled`);
- :class:`FirstUse`: once per specialization and process, thread-safe; a failure stays failed (every
  later use raises the same :class:`SelfCheckError`); skipped with one warning inside a CUDA/HIP
  graph capture (the check synchronises), and run at the first use outside one;
- :func:`compare`: the tests' tolerances, non-finite values first.
"""

from __future__ import annotations

import logging
import os
import threading

import torch

#: Environment variable: ``1``/``on`` always, ``0``/``off`` never, unset/``auto`` on untested archs.
ENV = "AITER_SWA_SELF_CHECK"
#: Architectures the GPU test suite has run on (docs/results.md): NVIDIA H100/H200 (sm_90). No AMD
#: architecture: the HIP builds for gfx942 and gfx90a are compiled and resource-checked only.
TESTED_ARCHS = ("sm_90",)
#: The sentence that ends every failure message.
HOW_TO_REPORT = (
    "Please report it as an issue of the aiter_swa project with this message and the output of "
    "`python -m aiter_swa.info`."
)

logger = logging.getLogger("aiter_swa")
_ON = ("1", "on", "true", "yes")
_OFF = ("0", "off", "false", "no")


class SelfCheckError(RuntimeError):
    """A GPU kernel disagreed with the CPU path on the self-check's built-in case."""


def enabled(arch: str, tested: bool = True) -> bool:
    """Whether the check runs on ``arch`` under the current :data:`ENV` setting; ``tested``: the GPU
    tests have run the kernel in question (auto checks unless ``arch`` is in :data:`TESTED_ARCHS`
    and ``tested``).

    Raises:
        ValueError: the setting is not one of 1/on/true/yes, 0/off/false/no, auto or empty.
    """
    value = os.environ.get(ENV, "").strip().lower()
    if value in _ON:
        return True
    if value in _OFF:
        return False
    if value not in ("", "auto"):
        raise ValueError(f"{ENV}: expected 1/on, 0/off or auto (unset), got {os.environ[ENV]!r}")
    return arch not in TESTED_ARCHS or not tested


def capturing(device: torch.device) -> bool:
    """Whether the current stream of ``device`` is capturing a CUDA/HIP graph."""
    return device.type == "cuda" and torch.cuda.is_current_stream_capturing()


class FirstUse:
    """The self-check state of one op in this process: keys checked and right, failed (with their
    message), being checked (the check's own calls reach :meth:`ensure` again), warned about."""

    def __init__(self):
        self._lock = threading.RLock()
        self.passed: set = set()
        self.failed: dict = {}
        self.running: set = set()
        self.warned_capture: set = set()

    def ensure(self, key, *, name: str, arch: str, applies, capturing, check, message) -> None:
        """Run ``check()`` once for ``key`` (a specialization, hashable) if ``applies()`` (:func:`enabled`
        under the op's rule), unless it passed, is running, or ``capturing()`` (then warn once per key);
        ``check()`` returns why the kernel is wrong, or None. On a failure raise
        :class:`SelfCheckError` with ``message(why)``, also at every later use of ``key`` (whatever
        the setting then). The callables run only when needed: a key that passed costs a set lookup.

        Raises:
            SelfCheckError: ``key`` failed its check in this process.
            ValueError: from ``applies()`` (:func:`enabled`: a bad :data:`ENV` value).
        """
        if key in self.passed:
            return
        with self._lock:
            if key in self.failed:
                raise SelfCheckError(self.failed[key])
            if key in self.passed or key in self.running or not applies():
                return
            if capturing():
                if key not in self.warned_capture:
                    self.warned_capture.add(key)
                    logger.warning(
                        "aiter_swa: %s on %s is used for the first time inside a CUDA/HIP graph capture: its first-use "
                        "self-check cannot run there and is skipped (run one call before capturing to have it "
                        "checked; %s=0 silences this)", name, arch, ENV,
                    )  # fmt: skip
                return
            self.running.add(key)
            try:
                why = check()
            finally:
                self.running.discard(key)
            if why is None:
                self.passed.add(key)
                return
            self.failed[key] = message(why)
            raise SelfCheckError(self.failed[key])

    def reset(self) -> None:
        """Forget every result (tests)."""
        with self._lock:
            self.passed.clear()
            self.failed.clear()
            self.running.clear()
            self.warned_capture.clear()


def compare(out: torch.Tensor, expected: torch.Tensor, tol: float, rel_bound: float | None = None) -> str | None:
    """Why ``out`` differs from ``expected`` (None: it does not): a non-finite value where ``expected``
    is finite, a relative norm error of ``rel_bound`` or more (when given), or an element beyond
    ``atol = rtol = tol`` (``|out - expected| > tol + tol |expected|``, torch.testing's rule)."""
    got, want = out.detach().cpu().double(), expected.detach().cpu().double()
    finite = torch.isfinite(want)
    if not torch.isfinite(got[finite]).all():
        return f"gives {int((~torch.isfinite(got[finite])).sum())} non-finite values where the CPU path has none"
    diff = torch.where(finite, got - want, torch.zeros_like(got))
    max_abs = diff.abs().max().item() if diff.numel() else 0.0
    if rel_bound is not None:
        norm = want[finite].norm().item()
        rel = diff.norm().item() / norm if norm > 0 else diff.norm().item()
        if not rel < rel_bound:
            return f"has a relative norm error of {rel:.3g} (bound {rel_bound}; max abs error {max_abs:.3g})"
    bad = (diff.abs() > tol + tol * want.abs().nan_to_num()).sum().item()
    if bad:
        return f"has {bad} elements beyond atol = rtol = {tol} (max abs error {max_abs:.3g})"
    return None
