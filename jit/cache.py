"""The on-disk kernel cache: content key, entry layout, locking, atomic publish, safety checks.

It is storage only: it knows nothing about how an entry is built or loaded (the loader decides the
order, :mod:`~aiter_swa.jit.build` builds). Layout (root = ``$AITER_SWA_CACHE_DIR``, else
``$XDG_CACHE_HOME/aiter_swa``, else ``~/.cache/aiter_swa``)::

    <root>/<spec.name>-<key16>/           one published entry (never modified after publish)
        <spec.name>.<nonce>.so            the pybind11 module
        <spec.name>.cpp, build.ninja      the rendered source and its build file
        <spec.name>.log                   compiler output (resource-usage remarks / ptxas -v)
        complete.json                     marker, written last: {"key": ..., "artifact": Artifact}
    <root>/<spec.name>-<key16>.lock       filelock of that entry
    <root>/.tmp-<spec.name>-<key16>-*/    a build in progress (removed when found stale)
    <root>/<spec.name>-<key16>.failed/    the last failed build, kept for inspection
    <root>/compilers.json                 memo of compiler identities (see toolchain.compiler_identity)

An entry is built in a temp dir inside root, its marker written last, and published with one
``os.replace``; a dir without a valid marker, or whose library's size/sha256 differ from the
marker's, is corrupt. The library's file name carries a random nonce, so a rebuilt library never
reuses a path that a process already dlopened.
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
from pathlib import Path

from ._version import __version__
from .build import Artifact, file_sha256, new_build_dir, source_hash
from .errors import CorruptArtifactError, UnsafeDirectoryError
from .toolchain import pybind11_version, python_abi

MARKER = "complete.json"


@dataclasses.dataclass(frozen=True)
class Entry:
    """A published, validated cache entry."""

    dir: Path
    so_path: Path
    key: str
    artifact: Artifact


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


def lock(d: Path):
    """The filelock of entry dir ``d`` (``<d>.lock``); the OS releases it when its holder dies."""
    from filelock import FileLock

    return FileLock(f"{d}.lock")


def library_name(spec) -> str:
    """``<spec.name>.<nonce>.so``: a fresh path for every build (never one a process has dlopened)."""
    return f"{spec.name}.{secrets.token_hex(4)}.so"


def read_entry(d: Path, spec, key: str):
    """Validate a published entry.

    Returns:
        An :class:`Entry`, or None when the directory does not exist (a plain miss).

    Raises:
        CorruptArtifactError: the directory exists but is partial or does not match.
        UnsafeDirectoryError: the entry or its library is not private.
    """
    if not d.exists():
        return None
    check_private(d)
    try:
        info = json.loads((d / MARKER).read_text())
        art = Artifact.from_dict(info["artifact"])
    except FileNotFoundError:
        raise CorruptArtifactError(f"no {MARKER} marker (partial entry)") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise CorruptArtifactError(f"unreadable {MARKER}: {e}") from None
    if art.spec != spec.to_json() or info.get("key") != key:
        raise CorruptArtifactError(f"{MARKER} names another spec or key")
    so = d / art.file
    if not art.file or not so.is_file():
        raise CorruptArtifactError(f"library {art.file!r} is missing")
    check_private(so)
    if so.stat().st_size != art.size or file_sha256(so) != art.sha256:
        raise CorruptArtifactError(f"{so.name} does not match the size/sha256 recorded in {MARKER} (truncated?)")
    return Entry(d, so, key, art)


def start_build(root: Path, d: Path) -> Path:
    """Under the entry's lock: remove temp dirs of dead builders of ``d``; return a fresh build dir."""
    for stale in root.glob(f".tmp-{d.name}-*"):
        shutil.rmtree(stale, ignore_errors=True)  # the lock is ours: nobody else builds here
    return new_build_dir(root, f".tmp-{d.name}-")


def publish(tmp: Path, d: Path, key: str, artifact: Artifact) -> Entry:
    """Write the marker into the finished build dir ``tmp`` (last), then rename it to entry ``d``."""
    (tmp / MARKER).write_text(json.dumps({"key": key, "artifact": artifact.to_dict()}, indent=1))
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
