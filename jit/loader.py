"""Load kernels: the in-process spec -> launcher dict, in front of the pre-built dirs and the cache.

Order on a miss: ``$AITER_SWA_PREBUILT_DIR`` and ``<package>/prebuilt`` (manifest), then the on-disk
cache (compiling on a miss unless ``AITER_SWA_DISABLE_JIT=1``). A first-call compile logs one INFO
line on the ``aiter_swa.jit`` logger.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import os
import shlex
import threading
import warnings
from pathlib import Path

from . import cache, manifest
from .errors import CorruptArtifactError, JitDisabledError, JitWarning, ToolchainError
from .toolchain import env_flag, find_toolchain

logger = logging.getLogger("aiter_swa.jit")

_LAUNCHERS: dict = {}  # KernelSpec -> module.launch   (the hot path reads only this)
_MODULES: dict = {}  # KernelSpec -> module
_ORIGINS: dict = {}  # KernelSpec -> (kind, path): kind is "prebuilt", "cache" or "compiled"
_LOCK = threading.RLock()


def get_launcher(spec):
    """The ``launch`` function of ``spec``'s kernel module, loading or compiling it on first use.

    Hot path: one dict lookup. ``launch`` takes raw device pointers (ints), sizes, strides, scalars
    and the stream handle (int); it raises RuntimeError with the GPU runtime's message.

    Raises:
        JitBuildError, JitDisabledError, ToolchainError, UnsafeDirectoryError (see load_module).
    """
    try:
        return _LAUNCHERS[spec]
    except KeyError:
        return load_module(spec).launch


def load_module(spec):
    """The loaded pybind11 module of ``spec`` (``SPEC_JSON``, ``launch``, ...); loads it on first use.

    Raises:
        JitDisabledError: ``AITER_SWA_DISABLE_JIT=1`` and the kernel is neither pre-built nor cached;
            the message gives the pre-build command for exactly this spec.
        JitBuildError: the compile failed (build dir, log, reproduce command, log tail).
        ToolchainError: no compiler for the spec's arch.
        UnsafeDirectoryError: the cache or pre-built dir could be written by another user.
    """
    mod = _MODULES.get(spec)
    if mod is not None:
        return mod
    with _LOCK:
        mod = _MODULES.get(spec)
        if mod is None:
            mod, origin = _find_or_build(spec)
            _MODULES[spec] = mod
            _ORIGINS[spec] = origin
            _LAUNCHERS[spec] = mod.launch
    return mod


def origin(spec):
    """``(kind, path)`` of a loaded spec: kind ``"prebuilt"``, ``"cache"`` or ``"compiled"``; None if not loaded."""
    return _ORIGINS.get(spec)


def resources(spec) -> dict:
    """Per-kernel resources of a loaded spec (see :func:`aiter_swa.jit.resources.parse_resources`).

    From the cache entry's build.log, or from the pre-built manifest. Raises KeyError if not loaded.
    """
    from .resources import parse_resources

    kind, so = _ORIGINS[spec]
    if kind == "prebuilt":
        m = manifest.read_manifest(Path(so).parent) or {"kernels": {}}
        return m["kernels"].get(spec.to_json(), {}).get("resources", {})
    return parse_resources((Path(so).parent / "build.log").read_text(errors="replace"), spec.backend)


def import_module(spec, so_path):
    """Import the pybind11 module ``spec.name`` from ``so_path`` and check its ``SPEC_JSON``.

    Raises:
        CorruptArtifactError: it does not import, has no ``launch``, or its SPEC_JSON differs.
    """
    so_path = str(so_path)
    loader = importlib.machinery.ExtensionFileLoader(spec.name, so_path)
    mspec = importlib.util.spec_from_file_location(spec.name, so_path, loader=loader)
    try:
        mod = importlib.util.module_from_spec(mspec)
        loader.exec_module(mod)
    except (ImportError, OSError) as e:
        raise CorruptArtifactError(f"{so_path}: cannot import module {spec.name}: {e}") from e
    got = getattr(mod, "SPEC_JSON", None)
    if got != spec.to_json():
        raise CorruptArtifactError(f"{so_path}: SPEC_JSON is {got!r}, expected {spec.to_json()!r}")
    if not callable(getattr(mod, "launch", None)):
        raise CorruptArtifactError(f"{so_path}: module {spec.name} has no launch()")
    return mod


def prebuild_command(spec, out=None) -> str:
    """The ``python -m aiter_swa.jit.prebuild`` command that builds exactly ``spec``."""
    onoff = lambda b: "on" if b else "off"  # noqa: E731
    args = ["python", "-m", "aiter_swa.jit.prebuild", "--arch", spec.arch, "--dtype", spec.dtype,
            "--head-size", str(spec.head_size), "--block-size", str(spec.block_size), "--gqa", str(spec.gqa),
            "--sliding-window", onoff(spec.sliding_window), "--soft-cap", onoff(spec.soft_cap),
            "--alibi", onoff(spec.alibi)]
    from .spec import PA_V1_TEMPLATE

    if spec.template != PA_V1_TEMPLATE:
        args += ["--template", spec.template]
    args += ["--out", str(out) if out else "DIR"]
    return shlex.join(args)


def _find_or_build(spec):
    for d in manifest.prebuilt_dirs():
        so = manifest.find(spec, d)
        if so is not None:
            try:
                return import_module(spec, so), ("prebuilt", so)
            except CorruptArtifactError as e:
                warnings.warn(f"aiter_swa: ignoring pre-built kernel: {e}", JitWarning, stacklevel=4)

    load = lambda entry: import_module(spec, entry.so_path)  # noqa: E731
    if env_flag("AITER_SWA_DISABLE_JIT"):
        try:
            found = cache.obtain(spec, find_toolchain(spec.backend), load, allow_build=False)
        except ToolchainError:
            found = None  # no compiler: the cache key cannot be computed, only pre-built kernels count
        if found is not None:
            return found[0], ("cache", found[2].so_path)
        out = os.environ.get("AITER_SWA_PREBUILT_DIR", "").split(os.pathsep)[0] or None
        looked = [str(d) for d in manifest.prebuilt_dirs()] or ["none found"]
        raise JitDisabledError(
            f"aiter_swa: kernel {spec.name} ({spec.to_json()}) is not pre-built and AITER_SWA_DISABLE_JIT=1 "
            f"forbids compiling it. Pre-build it with:\n  {prebuild_command(spec, out)}\n"
            f"then set AITER_SWA_PREBUILT_DIR to that --out dir (pre-built dirs searched: {', '.join(looked)})."
        )
    toolchain = find_toolchain(spec.backend)
    mod, seconds, entry = cache.obtain(spec, toolchain, load)
    if seconds is None:
        return mod, ("cache", entry.so_path)
    logger.info("compiled %s for %s in %.1f s; cached at %s", spec.name, spec.arch, seconds, entry.dir)
    return mod, ("compiled", entry.so_path)


def _reset_for_tests() -> None:
    """Forget every loaded module in this process (modules stay imported; tests only)."""
    with _LOCK:
        _LAUNCHERS.clear()
        _MODULES.clear()
        _ORIGINS.clear()
