"""Helpers shared by the JIT tests (no tests here)."""

from __future__ import annotations

from aiter_swa.jit import toolchain
from aiter_swa.jit.errors import ToolchainError

#: Environment variables of the JIT, cleared for subprocesses so each test sets its own.
JIT_ENV = ("AITER_SWA_CACHE_DIR", "AITER_SWA_PREBUILT_DIR", "AITER_SWA_DISABLE_JIT", "AITER_SWA_HIPCC",
           "AITER_SWA_NVCC", "AITER_SWA_ARCHS", "AITER_SWA_VERBOSE", "AITER_SWA_PREBUILD_ARGS")  # fmt: skip


def toolchain_problem(arch: str) -> str | None:
    """None if a compiler for ``arch`` (``gfx942``, ``sm_90``, ...) is usable here, else why not (a skip reason)."""
    try:
        tc = toolchain.find_toolchain(toolchain.backend_of(arch))
        tc.check_arch(arch)
        tc.identity()
    except ToolchainError as e:
        return f"no {arch} toolchain: {e}"
    return None

