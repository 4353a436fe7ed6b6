"""Where the JIT's inputs live: csrc/ (templates, headers) and the package's prebuilt dir.

Two layouts are supported with the same code:

- installed: ``<site-packages>/aiter_swa/{jit,csrc,prebuilt}`` (setup.py copies csrc/);
- source tree / editable install: ``<repo>/{jit,csrc,aiter_swa}`` (jit/ and csrc/ are siblings).
"""

from __future__ import annotations

from pathlib import Path

JIT_DIR = Path(__file__).resolve().parent


def package_dir() -> Path:
    """Directory of the ``aiter_swa`` package (holds, when installed, csrc/ and prebuilt/)."""
    parent = JIT_DIR.parent
    if parent.name == "aiter_swa" and (parent / "__init__.py").is_file():  # installed: aiter_swa/jit
        return parent
    return parent / "aiter_swa"  # source tree: <repo>/jit next to <repo>/aiter_swa


def csrc_root() -> Path:
    """``<package>/csrc`` if it exists (installed), else ``<repo>/csrc`` (source tree)."""
    installed = package_dir() / "csrc"
    return installed if installed.is_dir() else JIT_DIR.parent / "csrc"


def templates_dir(csrc: Path | None = None) -> Path:
    return Path(csrc or csrc_root()) / "templates"


def include_dir(csrc: Path | None = None) -> Path:
    """The ``-I`` directory; kernels include ``"aiter_swa/<header>.h"`` from it."""
    return Path(csrc or csrc_root()) / "include"


def package_prebuilt_dir() -> Path:
    """``<package>/prebuilt``: where an install-time pre-build puts its kernels."""
    return package_dir() / "prebuilt"
