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
from .build import build, compile_timeout, tail
from .errors import (
    CorruptArtifactError,
    JitBuildError,
    JitConfigError,
    JitDisabledError,
    JitError,
    JitWarning,
    ToolchainError,
    UnsafeDirectoryError,
)
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
            _LAUNCHERS[spec] = getattr(mod, _entry_point(spec))
    return mod


def origin(spec):
    """``(kind, path)`` of a loaded spec: kind ``"prebuilt"``, ``"cache"`` or ``"compiled"``; None if not loaded."""
    o = _ORIGINS.get(spec)
    return o[:2] if o else None


def resources(spec) -> dict:
    """Per-kernel resources of a loaded spec, from its artifact record. Raises KeyError if not loaded."""
    return _ORIGINS[spec][2].resources


_FDS: list = []  # descriptors of loaded libraries: kept open for the process's life (see import_module)
_BY_INODE: dict = {}  # (st_dev, st_ino, module name) -> module: a library loaded twice is initialised once


def import_module(spec, so_path, fd=None):
    """Import the pybind11 module ``spec.name`` and check its ``SPEC_JSON``.

    With ``fd`` (an open, verified descriptor of the library, see :func:`aiter_swa.jit.cache.read_entry`)
    the library is loaded through ``/proc/self/fd/<fd>``: the dynamic loader maps exactly the inode
    that was checked and hashed, whatever happens to ``so_path`` meanwhile. The descriptor is then
    kept open for the life of the process (the loader records the library under that name, so the
    number must never name another file). ``so_path`` is only for messages and ``origin()``.

    Raises:
        CorruptArtifactError: it does not import, has no ``launch`` (a torch extension: no entry point),
            or its SPEC_JSON differs.
        JitError: ``/proc/self/fd`` is not available (Linux without /proc mounted).
    """
    so_path = str(so_path)
    load_path = so_path
    if fd is not None:
        st = os.fstat(fd)
        key = (st.st_dev, st.st_ino, spec.name)
        mod = _BY_INODE.get(key)
        if mod is not None:
            os.close(fd)
            return mod
        load_path = f"/proc/self/fd/{fd}"
        if not os.path.exists(load_path):
            os.close(fd)
            raise JitError(f"aiter_swa: cannot load {so_path} through {load_path}: /proc is not mounted")
        _FDS.append(fd)
    loader = importlib.machinery.ExtensionFileLoader(spec.name, load_path)
    mspec = importlib.util.spec_from_file_location(spec.name, load_path, loader=loader)
    try:
        mod = importlib.util.module_from_spec(mspec)
        loader.exec_module(mod)
    except (ImportError, OSError) as e:
        raise CorruptArtifactError(f"{so_path}: cannot import module {spec.name}: {e}") from e
    got = getattr(mod, "SPEC_JSON", None)
    if got != spec.to_json():
        raise CorruptArtifactError(f"{so_path}: SPEC_JSON is {got!r}, expected {spec.to_json()!r}")
    if not callable(getattr(mod, _entry_point(spec), None)):
        raise CorruptArtifactError(f"{so_path}: module {spec.name} has no {_entry_point(spec)}()")
    if fd is not None:
        _BY_INODE[key] = mod
    return mod


def _entry_point(spec) -> str:
    """The function a loaded module must define: ``launch`` (kernels) or the spec's ``entry_point``."""
    return getattr(spec, "entry_point", "launch")


def prebuild_command(spec, out=None) -> str:
    """The ``python -m aiter_swa.jit.prebuild`` command that builds exactly ``spec``."""
    if hasattr(spec, "prebuild_command"):  # a torch extension (aiter_swa.jit.torch_ext)
        return spec.prebuild_command(out)
    args = ["python", "-m", "aiter_swa.jit.prebuild", "--op", spec.op, "--arch", spec.arch]
    for axis, value in spec.axis_values().items():
        args += [f"--{axis.replace('_', '-')}", ("on" if value else "off") if isinstance(value, bool) else str(value)]
    args += ["--out", str(out) if out else "DIR"]
    return shlex.join(args)


def _load_cached(d, spec, key, kind="cache"):
    """``(module, origin)`` of the cache entry at ``d``, or None when it is absent.

    Raises:
        CorruptArtifactError: the entry is partial, does not match, or its module does not import.
        UnsafeDirectoryError: another user could write the entry, its library or a directory above.
    """
    entry = cache.read_entry(d, spec, key)
    if entry is None:
        return None
    return import_module(spec, entry.so_path, entry.fd), (kind, entry.so_path, entry.artifact)


def _disabled_error(spec, no_cache: str | None):
    out = os.environ.get("AITER_SWA_PREBUILT_DIR", "").split(os.pathsep)[0] or None
    looked = [str(d) for d in manifest.prebuilt_dirs()] or ["none found"]
    cache_note = f" The kernel cache was not used: {no_cache}" if no_cache else ""
    return JitDisabledError(
        f"aiter_swa: kernel {spec.name} ({spec.to_json()}) is not pre-built and AITER_SWA_DISABLE_JIT=1 "
        f"forbids compiling it. Pre-build it with:\n  {prebuild_command(spec, out)}\n"
        f"then set AITER_SWA_PREBUILT_DIR to that --out dir (pre-built dirs searched: {', '.join(looked)}).{cache_note}"
    )


def _find_or_build(spec):
    for d in manifest.prebuilt_dirs():
        found = manifest.find(spec, d)
        if found is not None:
            so, art, fd = found
            try:
                return import_module(spec, so, fd), ("prebuilt", so, art)
            except CorruptArtifactError as e:
                warnings.warn(f"aiter_swa: ignoring pre-built kernel: {e}", JitWarning, stacklevel=4)

    disabled = env_flag("AITER_SWA_DISABLE_JIT")
    toolchain = root = None
    no_cache = None
    try:
        toolchain = find_toolchain(spec.backend)
    except ToolchainError as e:
        if not disabled:
            raise
        no_cache = f"no compiler to compute its key ({e})"  # only pre-built kernels count
    if toolchain is not None:
        try:
            root = cache.ensure_root(create=not disabled)  # with the JIT disabled, nothing is created
        except (JitConfigError, UnsafeDirectoryError) as e:
            if not disabled:
                raise
            no_cache = str(e)
        if root is None and no_cache is None:
            no_cache = f"{cache.cache_setting()} does not exist"
    if root is not None:
        with root:
            try:
                key = cache.cache_key(spec, toolchain, root=root.path)  # runs the compiler's --version (memoized)
            except ToolchainError as e:
                if not disabled:
                    raise
                root, no_cache = None, f"no compiler to compute its key ({e})"
    if root is not None:
        d = cache.entry_dir(root.path, spec, key)
        try:
            found = _load_cached(d, spec, key)
        except CorruptArtifactError:
            found = None  # decided under the lock: another process may be replacing it right now
        except UnsafeDirectoryError as e:
            if not disabled:
                raise
            found, no_cache = None, str(e)
        if found is not None:
            return found
    if disabled:
        raise _disabled_error(spec, no_cache)

    timeout = compile_timeout()
    with cache.locked(d, f"building {spec.name}"):
        try:
            found = _load_cached(d, spec, key)
            if found is not None:
                return found
        except CorruptArtifactError as e:
            warnings.warn(f"aiter_swa: cache entry {d} is corrupt ({e}); rebuilding it", JitWarning, stacklevel=4)
            cache.remove(d)
        toolchain.check_arch(spec.arch)
        cache.ensure_root().close()  # verified again, under the lock, right before building in it
        tmp = cache.start_build(root.path, d)
        try:
            if env_flag("AITER_SWA_VERBOSE"):
                print(f"aiter_swa.jit: building {spec.name} in {tmp}", file=sys.stderr, flush=True)
            artifacts, failures = build([spec], tmp, {spec.arch: toolchain}, lib_name=cache.library_name,
                                        keep_going=False, verbose=env_flag("AITER_SWA_VERBOSE"), timeout=timeout)
            if failures:
                failed = cache.keep_failed(tmp, d)
                log = failed / failures[0].log.name
                raise JitBuildError(spec, failed, log, failures[0].command.replace(str(tmp), str(failed)), tail(log))
            entry = cache.publish(tmp, d, key, artifacts[spec])
        except BaseException:
            cache.remove(tmp)
            raise
        # Load what was just published only through the checks of any cached entry: the whole path
        # verified through descriptors, the library hashed from the descriptor it is loaded from.
        found = _load_cached(d, spec, key, kind="compiled")
    if found is None:
        raise CorruptArtifactError(f"{d}: the entry just published is gone")
    logger.info("compiled %s for %s in %.1f s; cached at %s", spec.name, spec.arch, entry.artifact.seconds, entry.dir)
    return found


def _reset_for_tests() -> None:
    """Forget every loaded module in this process (modules stay imported; tests only)."""
    with _LOCK:
        _LAUNCHERS.clear()
        _MODULES.clear()
        _ORIGINS.clear()
