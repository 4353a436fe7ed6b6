"""Where the JIT's inputs live: csrc/ (templates, headers), the package's prebuilt dir, ``_config.py``.

Two layouts are supported with the same code:

- installed: ``<site-packages>/aiter_swa/{jit,csrc,prebuilt,_config.py}`` (setup.py copies csrc/);
- source tree / editable install: ``<repo>/{jit,csrc,aiter_swa/_config.py}`` (jit/ and csrc/ are siblings).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

JIT_DIR = Path(__file__).resolve().parent


def package_dir() -> Path:
    """Directory of the ``aiter_swa`` package (holds ``_config.py`` and, when installed, csrc/ and prebuilt/)."""
    parent = JIT_DIR.parent
    if (parent / "_config.py").is_file():  # installed: aiter_swa/jit
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


def load_config():
    """The ``aiter_swa._config`` module (supported head sizes, block sizes, GQA buckets, dtypes).

    Loaded by file path when ``aiter_swa`` is not imported yet, so the pre-build runs without
    executing ``aiter_swa/__init__.py`` (which imports torch).
    """
    mod = sys.modules.get("aiter_swa._config")
    if mod is not None:
        return mod
    path = package_dir() / "_config.py"
    spec = importlib.util.spec_from_file_location("_aiter_swa_jit_config", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
