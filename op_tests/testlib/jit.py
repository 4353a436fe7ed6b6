"""Helpers shared by the JIT tests (no tests here)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

import pytest

from aiter_swa.jit import loader, paths, prebuild, resources, toolchain
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


def gpu_visible(backend: str) -> bool:
    """A GPU of this backend (``"hip"`` or ``"cuda"``) is visible: a launch would really run."""
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available() and backend == ("hip" if getattr(torch.version, "hip", None) else "cuda")


def prebuild_for_tests(specs, out: Path):
    """Compile every spec whose toolchain is usable here with one ninja (the pre-build) into ``out``.

    Returns:
        ``(out, {spec: resources}, failures)``; skips the calling test when no spec's toolchain exists.
    """
    buildable = [s for s in specs if toolchain_problem(s.arch) is None]
    if not buildable:
        pytest.skip("; ".join(sorted({toolchain_problem(s.arch) for s in specs})))
    rows, failures = prebuild.prebuild(buildable, out, capture=False)
    by_name = {name: res for name, _backend, res in rows}
    return out, {s: by_name[s.name] for s in buildable if s.name in by_name}, failures


def use_prebuilt(monkeypatch, tmp_path: Path, prebuilt_dir: Path) -> None:
    """Point the JIT at ``prebuilt_dir`` and an empty cache, with a fresh loader."""
    for name in JIT_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AITER_SWA_PREBUILT_DIR", str(prebuilt_dir))
    monkeypatch.setenv("AITER_SWA_CACHE_DIR", str(tmp_path / "cache"))
    loader._reset_for_tests()


def assert_all_built(built) -> None:
    """The result of :func:`prebuild_for_tests` has no failure; prints the resource table."""
    _, res, failures = built
    print("\n" + resources.format_table([(s.name, s.backend, r) for s, r in res.items()]))
    assert not failures, "failed to compile: " + ", ".join(
        f"{f.spec.name if f.spec else 'ninja'} (log {f.log})" for f in failures)


#: The checkout's root (where setup.py is, in a source checkout; an installed package has none).
CHECKOUT = paths.JIT_DIR.parent


def copy_checkout(dst: Path) -> Path:
    """Copy what pip builds the package from (setup.py, pyproject.toml, aiter_swa, jit, csrc; no
    caches or pre-built kernels) into ``dst``; returns ``dst``."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("setup.py", "pyproject.toml", "aiter_swa", "jit", "csrc"):
        p = CHECKOUT / name
        if p.is_dir():
            shutil.copytree(p, dst / name, ignore=shutil.ignore_patterns("__pycache__", "prebuilt"))
        else:
            shutil.copy2(p, dst / name)
    return dst


def torch_blocker(root: Path, why: str) -> Path:
    """A folder to put first on PYTHONPATH in which ``import torch`` raises ImportError(``why``)."""
    (root / "torch").mkdir(parents=True, exist_ok=True)
    (root / "torch" / "__init__.py").write_text(f"raise ImportError({why!r})\n")
    return root
