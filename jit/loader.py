"""Load kernels: the in-process spec -> launcher dict, and the order in which a kernel is found.

Order on a miss (this module owns it; the cache is storage, :mod:`~aiter_swa.jit.build` builds):

1. pre-built dirs: ``$AITER_SWA_PREBUILT_DIR``, then ``<package>/prebuilt`` (manifest lookup);
2. the on-disk cache, without a lock (published entries never change);
3. the entry's file lock; the cache again (another process may have just built it);
4. compile (one spec through the build pipeline) into a private temp dir;
5. publish (marker last, one rename);
6. import the module and check its ``SPEC_JSON``.

``AITER_SWA_DISABLE_JIT=1`` stops after step 2. A first-call compile logs one INFO line on the
``aiter_swa.jit`` logger.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import os
import shlex
import sys
import threading
import warnings

from . import cache, manifest
from .build import build, tail
from .errors import CorruptArtifactError, JitBuildError, JitDisabledError, JitWarning, ToolchainError
from .toolchain import env_flag, find_toolchain

logger = logging.getLogger("aiter_swa.jit")

_LAUNCHERS: dict = {}  # spec -> module.launch   (the hot path reads only this)
_MODULES: dict = {}  # spec -> module
_ORIGINS: dict = {}  # spec -> (kind, path, Artifact): kind is "prebuilt", "cache" or "compiled"
_LOCK = threading.RLock()


def get_launcher(spec):
    """The ``launch`` function of ``spec``'s kernel module, loading or compiling it on first use.

    Hot path: one dict lookup. ``launch`` takes the op's launch contract (raw device pointers as
    ints, sizes, strides, scalars, the stream handle); it raises RuntimeError with the GPU
    runtime's message.

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
    o = _ORIGINS.get(spec)
    return o[:2] if o else None


def resources(spec) -> dict:
    """Per-kernel resources of a loaded spec, from its artifact record. Raises KeyError if not loaded."""
    return _ORIGINS[spec][2].resources


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
    args = ["python", "-m", "aiter_swa.jit.prebuild", "--op", spec.op, "--arch", spec.arch]
    for axis, value in spec.axis_values().items():
        args += [f"--{axis.replace('_', '-')}", ("on" if value else "off") if isinstance(value, bool) else str(value)]
    args += ["--out", str(out) if out else "DIR"]
    return shlex.join(args)


def _load_cached(d, spec, key):
    """``(module, origin)`` of the cache entry at ``d``, or None when it is absent.

    Raises:
        CorruptArtifactError: the entry is partial, does not match, or its module does not import.
    """
    entry = cache.read_entry(d, spec, key)
    if entry is None:
        return None
    return import_module(spec, entry.so_path), ("cache", entry.so_path, entry.artifact)


def _find_or_build(spec):
    for d in manifest.prebuilt_dirs():
        found = manifest.find(spec, d)
        if found is not None:
            so, art = found
            try:
                return import_module(spec, so), ("prebuilt", so, art)
            except CorruptArtifactError as e:
                warnings.warn(f"aiter_swa: ignoring pre-built kernel: {e}", JitWarning, stacklevel=4)

    disabled = env_flag("AITER_SWA_DISABLE_JIT")
    try:
        toolchain = find_toolchain(spec.backend)
        root = cache.ensure_root(cache.cache_root())
        key = cache.cache_key(spec, toolchain, root=root)  # runs the compiler's --version (memoized)
    except ToolchainError:
        if not disabled:
            raise
        toolchain = None  # no usable compiler: the cache key cannot be computed, only pre-built kernels count
    if toolchain is not None:
        d = cache.entry_dir(root, spec, key)
        try:
            found = _load_cached(d, spec, key)
        except CorruptArtifactError:
            found = None  # decided under the lock: another process may be replacing it right now
        if found is not None:
            return found
    if disabled:
        out = os.environ.get("AITER_SWA_PREBUILT_DIR", "").split(os.pathsep)[0] or None
        looked = [str(d) for d in manifest.prebuilt_dirs()] or ["none found"]
        raise JitDisabledError(
            f"aiter_swa: kernel {spec.name} ({spec.to_json()}) is not pre-built and AITER_SWA_DISABLE_JIT=1 "
            f"forbids compiling it. Pre-build it with:\n  {prebuild_command(spec, out)}\n"
            f"then set AITER_SWA_PREBUILT_DIR to that --out dir (pre-built dirs searched: {', '.join(looked)})."
        )

    with cache.lock(d):
        try:
            found = _load_cached(d, spec, key)
            if found is not None:
                return found
        except CorruptArtifactError as e:
            warnings.warn(f"aiter_swa: cache entry {d} is corrupt ({e}); rebuilding it", JitWarning, stacklevel=4)
            cache.remove(d)
        toolchain.check_arch(spec.arch)
        tmp = cache.start_build(root, d)
        try:
            if env_flag("AITER_SWA_VERBOSE"):
                print(f"aiter_swa.jit: building {spec.name} in {tmp}", file=sys.stderr, flush=True)
            artifacts, failures = build([spec], tmp, {spec.arch: toolchain}, lib_name=cache.library_name,
                                        keep_going=False, verbose=env_flag("AITER_SWA_VERBOSE"))
            if failures:
                failed = cache.keep_failed(tmp, d)
                log = failed / failures[0].log.name
                raise JitBuildError(spec, failed, log, failures[0].command.replace(str(tmp), str(failed)), tail(log))
            entry = cache.publish(tmp, d, key, artifacts[spec])
        except BaseException:
            cache.remove(tmp)
            raise
    logger.info("compiled %s for %s in %.1f s; cached at %s", spec.name, spec.arch, entry.artifact.seconds, entry.dir)
    return import_module(spec, entry.so_path), ("compiled", entry.so_path, entry.artifact)


def _reset_for_tests() -> None:
    """Forget every loaded module in this process (modules stay imported; tests only)."""
    with _LOCK:
        _LAUNCHERS.clear()
        _MODULES.clear()
        _ORIGINS.clear()
