"""The on-disk kernel cache: content key, entry layout, locking, atomic publish, safety checks.

Layout (root = ``$AITER_SWA_CACHE_DIR``, else ``$XDG_CACHE_HOME/aiter_swa``, else ``~/.cache/aiter_swa``)::

    <root>/<spec.name>-<key16>/           one published entry (never modified after publish)
        <spec.name>.<nonce>.so            the pybind11 module
        <spec.name>.cpp, build.ninja      the rendered source and its build file
        build.log                         compiler output (resource-usage remarks / ptxas -v)
        complete.json                     marker, written last: spec JSON, key, file, sha256, size
    <root>/<spec.name>-<key16>.lock       filelock of that entry
    <root>/.tmp-<spec.name>-<key16>-*/    a build in progress (removed when found stale)
    <root>/<spec.name>-<key16>.failed/    the last failed build, kept for inspection

An entry is built in a temp dir inside root, its marker written last, and published with one
``os.replace``; a dir without a valid marker, or whose library's size/sha256 differ from the
marker's, is corrupt: a miss that is warned about and rebuilt. The .so file name carries a random
nonce, so a rebuilt library never reuses a path that a process already dlopened.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import secrets
import shlex
import shutil
import stat
import sys
import tempfile
import time
import warnings
from pathlib import Path

from . import paths
from ._version import __version__
from .build import BuildJob, run_ninja, tail, write_ninja
from .errors import CorruptArtifactError, JitBuildError, JitWarning, UnsafeDirectoryError
from .render import render
from .toolchain import env_flag, include_dirs, pybind11_version, python_abi

MARKER = "complete.json"


@dataclasses.dataclass(frozen=True)
class Entry:
    """A published, validated cache entry."""

    dir: Path
    so_path: Path
    key: str

    @property
    def log_path(self) -> Path:
        return self.dir / "build.log"


def cache_root() -> Path:
    """``$AITER_SWA_CACHE_DIR``, else ``$XDG_CACHE_HOME/aiter_swa``, else ``~/.cache/aiter_swa`` (not created)."""
    env = os.environ.get("AITER_SWA_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "aiter_swa"


def check_private(path, allow_root_owner: bool = False) -> None:
    """Refuse a directory or file that another user owns or that group/others can write.

    Loading a shared library runs its code: anyone who can write the file or the directory holding
    it (replace the file) can run code in this process.

    Args:
        allow_root_owner: also accept files owned by root (a system-wide install's pre-built dir).

    Raises:
        UnsafeDirectoryError: with the path, the reason and the fix.
    """
    st = os.stat(path)
    uid = os.getuid()
    what = "directory" if stat.S_ISDIR(st.st_mode) else "file"
    if st.st_uid != uid and not (allow_root_owner and st.st_uid == 0):
        raise UnsafeDirectoryError(
            f"aiter_swa: refusing to load kernels from {what} {path}: it is owned by uid {st.st_uid}, "
            f"not by this user (uid {uid}), and loading a shared library runs its code. "
            f"Use a cache dir of your own (AITER_SWA_CACHE_DIR)."
        )
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        who = " and ".join(w for w, bit in (("group", stat.S_IWGRP), ("others", stat.S_IWOTH)) if st.st_mode & bit)
        raise UnsafeDirectoryError(
            f"aiter_swa: refusing to load kernels from {what} {path}: it is writable by {who} "
            f"(mode {stat.S_IMODE(st.st_mode):04o}), so another user could replace the code this process "
            f"would run. Fix: `chmod go-w {shlex.quote(str(path))}`, or point AITER_SWA_CACHE_DIR at a private "
            f"directory."
        )


def ensure_root(root: Path) -> Path:
    """Create the cache root (mode 0700) if missing; check that it is private."""
    root = Path(root)
    if not root.exists():
        os.makedirs(root, mode=0o700, exist_ok=True)
    check_private(root)
    return root


def source_hash(template: str, csrc=None) -> str:
    """sha256 over the template's bytes and every file under csrc/include (relative path + bytes)."""
    h = hashlib.sha256()
    tpl = paths.templates_dir(csrc) / template
    h.update(b"template\0" + template.encode() + b"\0")
    h.update(tpl.read_bytes())
    inc = paths.include_dir(csrc)
    files = sorted(p for p in inc.rglob("*") if p.is_file()) if inc.is_dir() else []
    for p in files:
        data = p.read_bytes()
        h.update(b"\0header\0" + p.relative_to(inc).as_posix().encode() + b"\0" + str(len(data)).encode() + b"\0")
        h.update(data)
    return h.hexdigest()


def key_parts(spec, toolchain, csrc=None, root=None) -> dict:
    """Everything the cache key covers, by name (``root``: cache root holding the compiler-identity memo)."""
    memo = Path(root) / "compilers.json" if root is not None else None
    return {
        "spec": spec.to_json(),
        "source": source_hash(spec.template, csrc),
        "compiler": toolchain.identity(memo),
        "flags": toolchain.flags(spec.arch),
        "arch": spec.arch,
        "package_version": __version__,
        "python_abi": python_abi(),
        "pybind11": pybind11_version(),
    }


def cache_key(spec, toolchain, csrc=None, root=None) -> str:
    """sha256 (hex) over canonical spec JSON, template + header bytes, compiler identity and flags,
    arch, package version, Python ABI tag and pybind11 version."""
    blob = json.dumps(key_parts(spec, toolchain, csrc, root), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def entry_dir(root, spec, key: str) -> Path:
    return Path(root) / f"{spec.name}-{key[:16]}"


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_entry(d: Path, spec, key: str):
    """Validate a published entry.

    Returns:
        An :class:`Entry`, or None when the directory does not exist (a plain miss).

    Raises:
        CorruptArtifactError: the directory exists but is partial or does not match (a miss to rebuild).
        UnsafeDirectoryError: the entry or its library is not private.
    """
    if not d.exists():
        return None
    check_private(d)
    marker = d / MARKER
    try:
        info = json.loads(marker.read_text())
    except FileNotFoundError:
        raise CorruptArtifactError(f"no {MARKER} marker (partial entry)") from None
    except (OSError, ValueError) as e:
        raise CorruptArtifactError(f"unreadable {MARKER}: {e}") from None
    if not isinstance(info, dict) or info.get("spec") != spec.to_json() or info.get("key") != key:
        raise CorruptArtifactError(f"{MARKER} names another spec or key")
    so = d / str(info.get("file", ""))
    if not info.get("file") or not so.is_file():
        raise CorruptArtifactError(f"library {info.get('file')!r} is missing")
    check_private(so)
    if so.stat().st_size != info.get("size") or file_sha256(so) != info.get("sha256"):
        raise CorruptArtifactError(f"{so.name} does not match the size/sha256 recorded in {MARKER} (truncated?)")
    return Entry(d, so, key)


def _rmtree(p: Path) -> None:
    shutil.rmtree(p, ignore_errors=True)


def build_entry(spec, toolchain, key: str, root: Path, csrc=None) -> Entry:
    """Render and compile ``spec`` in a temp dir inside ``root``, then publish it as its entry dir.

    The caller holds the entry's lock. Raises JitBuildError (the build dir is kept as
    ``<entry>.failed``) or ToolchainError.
    """
    d = entry_dir(root, spec, key)
    toolchain.check_arch(spec.arch)
    source = render(spec, csrc)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{d.name}-", dir=root))  # mode 0700
    try:
        src = f"{spec.name}.cpp"
        so = f"{spec.name}.{secrets.token_hex(4)}.so"
        (tmp / src).write_text(source)
        # Relative paths: the build dir stays valid after it is moved (published, or kept as .failed).
        cmd = toolchain.shell_command(spec.arch, src, so, include_dirs(csrc))
        write_ninja(tmp, [BuildJob(spec.name, Path(src), Path(so), Path("build.log"), cmd)])
        verbose = env_flag("AITER_SWA_VERBOSE")
        if verbose:
            print(f"aiter_swa.jit: (cd {tmp} && {cmd})", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        proc = run_ninja(tmp, max_jobs=1)
        seconds = time.perf_counter() - t0
        if verbose:
            sys.stderr.write(tail(tmp / "build.log", 10_000) + "\n")
        if proc.returncode != 0 or not (tmp / so).is_file():
            failed = root / f"{d.name}.failed"
            _rmtree(failed)
            os.replace(tmp, failed)
            log_tail = tail(failed / "build.log") or (proc.stdout + proc.stderr)[-4000:]
            raise JitBuildError(spec, failed, failed / "build.log", f"cd {shlex.quote(str(failed))} && {cmd}",
                                log_tail)
        info = {
            "spec": spec.to_json(),
            "key": key,
            "file": so,
            "size": (tmp / so).stat().st_size,
            "sha256": file_sha256(tmp / so),
            "compiler": toolchain.identity().splitlines()[0] if toolchain.identity() else "",
            "compile_seconds": round(seconds, 3),
        }
        (tmp / MARKER).write_text(json.dumps(info, indent=1))  # the marker is written last
        os.replace(tmp, d)  # publish: the entry appears complete or not at all
    except BaseException:
        _rmtree(tmp)
        raise
    return Entry(d, d / so, key)


def obtain(spec, toolchain, load, *, root=None, csrc=None, allow_build: bool = True):
    """Load ``spec``'s cache entry with ``load(entry)``, building it first if it is missing or corrupt.

    A valid entry is loaded without taking the lock (published entries never change). Otherwise,
    under the entry's filelock: check again, remove a corrupt entry (with a JitWarning) and stale
    temp dirs of dead builders, build, publish, load. A lock held by a process that died (even by
    SIGKILL) is released by the OS, so there is never a stale lock to delete by hand.

    Args:
        load: callable(Entry) -> result; it raises CorruptArtifactError for an entry that cannot be
            used (e.g. the module does not import, or its SPEC_JSON differs), which is rebuilt once.
        allow_build: False: return None instead of building (``AITER_SWA_DISABLE_JIT``).

    Returns:
        ``(result, compile_seconds or None if it was cached, entry)``, or None (see allow_build).
    """
    root = ensure_root(Path(root) if root else cache_root())
    key = cache_key(spec, toolchain, csrc, root)
    d = entry_dir(root, spec, key)
    try:
        entry = read_entry(d, spec, key)
        if entry is not None:
            return load(entry), None, entry
    except CorruptArtifactError:
        pass  # decided under the lock (another process may be replacing it right now)
    if not allow_build:
        return None
    from filelock import FileLock

    with FileLock(str(root / f"{d.name}.lock")):
        try:
            entry = read_entry(d, spec, key)
            if entry is not None:
                return load(entry), None, entry
        except CorruptArtifactError as e:
            warnings.warn(f"aiter_swa: cache entry {d} is corrupt ({e}); rebuilding it", JitWarning, stacklevel=3)
            _rmtree(d)
        for stale in root.glob(f".tmp-{d.name}-*"):
            _rmtree(stale)  # left by a builder that died: we hold the lock, so nobody else builds here
        t0 = time.perf_counter()
        entry = build_entry(spec, toolchain, key, root, csrc)
        return load(entry), time.perf_counter() - t0, entry
