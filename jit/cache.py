"""The on-disk kernel cache: content key, entry layout, locking, atomic publish, safety checks.

It is storage only: it knows nothing about how an entry is built or loaded (the loader decides the
order, :mod:`~aiter_swa.jit.build` builds). Layout (root = ``$AITER_SWA_CACHE_DIR``, else
``$XDG_CACHE_HOME/aiter_swa``, else ``~/.cache/aiter_swa``)::

    <root>/<spec.name>-<key16>/           one published entry (never modified after publish)
        <spec.name>.<nonce>.so            the pybind11 module
        <spec.name>.cpp, build.ninja      the rendered source and its build file
        <spec.name>.log                   compiler output (resource-usage remarks / ptxas -v)
        complete.json                     marker, written last: {"key": ..., "artifact": Artifact}
    <root>/<spec.name>-<key16>.lock       filelock of that entry (0600)
    <root>/<spec.name>-<key16>.lock.pid   its holder's pid, host and start time (for the wait log)
    <root>/.tmp-<spec.name>-<key16>-*/    a build in progress (removed when found stale)
    <root>/<spec.name>-<key16>.failed/    the last failed build, kept for inspection
    <root>/compilers.json                 memo of compiler identities (see toolchain.compiler_identity)

An entry is built in a temp dir inside root, its marker written last, and published with one
``os.replace``; a dir without a valid marker, or whose library's size/sha256 differ from the
marker's, is corrupt. The library's file name carries a random nonce, so a rebuilt library never
reuses a path that a process already dlopened. Directories are created 0700 and files 0600 (libraries
0700) whatever the umask; :func:`read_entry` checks an entry and every directory above it through
descriptors (:mod:`~aiter_swa.jit.safety`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import secrets
import shutil
import socket
import time
from pathlib import Path

from . import safety
from ._version import __version__
from .build import Artifact, new_build_dir, spec_source_hash
from .errors import CorruptArtifactError
from .toolchain import pybind11_version, python_abi

logger = logging.getLogger("aiter_swa.jit")

MARKER = "complete.json"


@dataclasses.dataclass(frozen=True)
class Entry:
    """A published, validated cache entry."""

    dir: Path
    so_path: Path
    key: str
    artifact: Artifact
    fd: int = -1  #: the open, verified library (read_entry); the loader loads through it


def cache_root() -> Path:
    """``$AITER_SWA_CACHE_DIR``, else ``$XDG_CACHE_HOME/aiter_swa``, else ``~/.cache/aiter_swa`` (not created)."""
    env = os.environ.get("AITER_SWA_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "aiter_swa"


def cache_setting() -> str:
    """What names the cache root, for messages: ``AITER_SWA_CACHE_DIR=...`` or the default it fell back to."""
    env = os.environ.get("AITER_SWA_CACHE_DIR")
    if env:
        return f"the cache dir AITER_SWA_CACHE_DIR={env}"
    src = "XDG_CACHE_HOME" if os.environ.get("XDG_CACHE_HOME") else "HOME"
    return f"the cache dir {cache_root()} (AITER_SWA_CACHE_DIR unset; from ${src})"


def ensure_root(root: Path | None = None, create: bool = True) -> "safety.Dir | None":
    """Open (and with ``create`` make, mode 0700, with any missing parent) the cache root and verify
    it and every directory above it. Returns the held :class:`~aiter_swa.jit.safety.Dir` (None if it
    does not exist and ``create`` is False).

    Raises:
        UnsafeDirectoryError: another user could write it or a directory above it.
        JitConfigError: it (or a component) is not a directory or cannot be created.
    """
    root = Path(root) if root is not None else cache_root()
    return safety.open_dir(root, setting=cache_setting(), create_mode=0o700 if create else None)


def key_parts(spec, toolchain, csrc=None, root=None) -> dict:
    """Everything the cache key covers, by name (``root``: cache root holding the compiler-identity memo)."""
    memo = Path(root) / "compilers.json" if root is not None else None
    return {
        "spec": spec.to_json(),
        "source": spec_source_hash(spec, csrc),
        "compiler": toolchain.identity(memo),
        "flags": toolchain.flags(spec.arch),
        "arch": spec.arch,
        "package_version": __version__,
        "python_abi": python_abi(),
        "pybind11": pybind11_version(),
    }


def cache_key(spec, toolchain, csrc=None, root=None) -> str:
    """sha256 (hex) over canonical spec JSON, template + header bytes and rendered values, compiler identity and flags,
    arch, package version, Python ABI tag and pybind11 version."""
    blob = json.dumps(key_parts(spec, toolchain, csrc, root), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def entry_dir(root, spec, key: str) -> Path:
    return Path(root) / f"{spec.name}-{key[:16]}"


#: Seconds between the log lines of a process waiting for another process's entry lock.
LOCK_LOG_INTERVAL = 30.0


def lock(d: Path):
    """The filelock of entry dir ``d`` (``<d>.lock``, mode 0600); the OS releases it when its holder dies."""
    from filelock import FileLock

    return FileLock(f"{d}.lock", mode=0o600)


def _holder(d: Path) -> str:
    """Who holds ``d``'s lock, from ``<d>.lock.pid`` (written by the holder after acquiring)."""
    try:
        info = json.loads(Path(f"{d}.lock.pid").read_text())
        pid, host, since = int(info["pid"]), str(info["host"]), float(info["since"])
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that has not recorded its pid yet"
    alive = ""
    if host == socket.gethostname():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            alive = ", which is no longer running (the record is stale)"
        except PermissionError:
            pass
    return f"pid {pid} on {host} (holding it for {time.time() - since:.0f} s{alive})"


@contextlib.contextmanager
def locked(d: Path, what: str = ""):
    """Hold ``d``'s lock; while another process holds it, log on the ``aiter_swa.jit`` logger who holds
    it and how long this process has waited: INFO when the wait starts, then a WARNING every
    :data:`LOCK_LOG_INTERVAL` seconds. The holder's pid, host and start time are written to
    ``<d>.lock.pid`` (mode 0600)."""
    from filelock import Timeout

    lk = lock(d)
    t0 = time.monotonic()
    try:
        lk.acquire(timeout=0)
    except Timeout:
        level = logging.INFO  # a short wait (another process compiling the same kernel) is normal
        while True:
            logger.log(level, "aiter_swa: waiting for the lock %s.lock%s, held by %s; waited %.0f s so far",
                       d, f" ({what})" if what else "", _holder(d), time.monotonic() - t0)
            level = logging.WARNING
            try:
                lk.acquire(timeout=LOCK_LOG_INTERVAL)
                break
            except Timeout:
                continue
        logger.info("aiter_swa: got the lock %s.lock after %.1f s", d, time.monotonic() - t0)
    try:
        try:
            safety.write_private(f"{d}.lock.pid", json.dumps(
                {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}))
        except OSError:
            pass  # informational only
        yield lk
    finally:
        lk.release()


def library_name(spec) -> str:
    """``<spec.name>.<nonce>.so``: a fresh path for every build (never one a process has dlopened)."""
    return f"{spec.name}.{secrets.token_hex(4)}.so"


def read_entry(d: Path, spec, key: str, setting: str | None = None):
    """Validate a published entry, through descriptors (no window between the checks and the load).

    The entry dir and every directory above it are verified (:func:`aiter_swa.jit.safety.open_dir`,
    the cache root and below must be this user's); the library is opened relative to the entry's
    descriptor, checked with ``fstat`` and hashed from that descriptor.

    Returns:
        An :class:`Entry` whose ``fd`` is the open, verified library (the caller owns it), or None
        when the directory does not exist (a plain miss).

    Raises:
        CorruptArtifactError: the directory exists but is partial or does not match.
        UnsafeDirectoryError: the entry, its library or a directory above them is not private.
    """
    d = Path(d)
    ed = safety.open_dir(d, setting=setting or cache_setting(), own_from=d.parent)
    if ed is None:
        return None
    with ed:
        marker = safety.open_file(ed, MARKER)
        if marker is None:
            raise CorruptArtifactError(f"no {MARKER} marker (partial entry)")
        try:
            with os.fdopen(marker[0], "rb") as f:
                info = json.loads(f.read())
            art = Artifact.from_dict(info["artifact"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise CorruptArtifactError(f"unreadable {MARKER}: {e}") from None
        if art.spec != spec.to_json() or info.get("key") != key:
            raise CorruptArtifactError(f"{MARKER} names another spec or key")
        if not art.file or "/" in art.file or art.file in (".", ".."):
            raise CorruptArtifactError(f"{MARKER} names no library file ({art.file!r})")
        got = safety.open_file(ed, art.file)
        if got is None:
            raise CorruptArtifactError(f"library {art.file!r} is missing")
        fd, st = got
        try:
            if st.st_size != art.size or safety.fd_sha256(fd) != art.sha256:
                raise CorruptArtifactError(
                    f"{art.file} does not match the size/sha256 recorded in {MARKER} (truncated?)")
        except BaseException:
            os.close(fd)
            raise
        return Entry(ed.path, ed.path / art.file, key, art, fd)


def start_build(root: Path, d: Path) -> Path:
    """Under the entry's lock: remove temp dirs of dead builders of ``d``; return a fresh build dir."""
    for stale in root.glob(f".tmp-{d.name}-*"):
        shutil.rmtree(stale, ignore_errors=True)  # the lock is ours: nobody else builds here
    return new_build_dir(root, f".tmp-{d.name}-")


def publish(tmp: Path, d: Path, key: str, artifact: Artifact) -> Entry:
    """Write the marker into the finished build dir ``tmp`` (last), then rename it to entry ``d``."""
    safety.write_private(tmp / MARKER, json.dumps({"key": key, "artifact": artifact.to_dict()}, indent=1))
    os.replace(tmp, d)  # the entry appears complete or not at all
    return Entry(d, d / artifact.file, key, artifact)


def keep_failed(tmp: Path, d: Path) -> Path:
    """Move a failed build dir to ``<d>.failed`` (replacing the previous one); return its path."""
    failed = d.with_name(d.name + ".failed")
    shutil.rmtree(failed, ignore_errors=True)
    os.replace(tmp, failed)
    return failed


def remove(d: Path) -> None:
    shutil.rmtree(d, ignore_errors=True)
