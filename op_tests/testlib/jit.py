"""Helpers shared by the JIT tests (no tests here)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

from aiter_swa.jit import toolchain
from aiter_swa.jit.errors import ToolchainError

#: Environment variables of the JIT, cleared for subprocesses so each test sets its own.
JIT_ENV = ("AITER_SWA_CACHE_DIR", "AITER_SWA_PREBUILT_DIR", "AITER_SWA_DISABLE_JIT", "AITER_SWA_HIPCC",
           "AITER_SWA_NVCC", "AITER_SWA_ARCHS", "AITER_SWA_VERBOSE", "AITER_SWA_PREBUILD_ARGS",
           "AITER_SWA_MAX_JOBS", "AITER_SWA_COMPILE_TIMEOUT", "XDG_CACHE_HOME")  # fmt: skip


def toolchain_problem(arch: str) -> str | None:
    """None if a compiler for ``arch`` (``gfx942``, ``sm_90``, ...) is usable here, else why not (a skip reason)."""
    try:
        tc = toolchain.find_toolchain(toolchain.backend_of(arch))
        tc.check_arch(arch)
        tc.identity()
    except ToolchainError as e:
        return f"no {arch} toolchain: {e}"
    return None



@contextlib.contextmanager
def reachable_dir():
    """A fresh directory that other users can reach (0755, in /tmp), unlike pytest's tmp_path (below a
    0700 dir, where nobody else can reach anything, so write bits there do not matter); removed after."""
    d = Path(tempfile.mkdtemp(prefix="aiter_swa-test-", dir="/tmp"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)
