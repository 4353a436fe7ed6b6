"""Who can change the code this process loads: directory and file checks held through file descriptors.

Loading a shared library runs its code, so the JIT loads a library only when no other user could
have written it or replaced it. :func:`open_dir` walks a directory's real path from ``/`` down,
one ``openat(O_PATH | O_NOFOLLOW)`` per component, and checks each directory through the descriptor
it holds (``fstat``), so no component can be swapped between the check and the use:

- every directory above the kernel dir must be owned by this user or by root, and not writable by
  another user, unless it is sticky (``/tmp``: others cannot rename or remove what they do not own);
- the kernel dir and everything in it must be owned by this user (pre-built dirs: or by root);
- a group/other write bit counts only while another user can reach the object at all: below a
  directory of this user (or root) without search permission for group and others (``0700``),
  nobody else can open, rename or replace anything, so a file there made ``0664`` by umask 002 is
  fine.

:func:`open_file` opens a file relative to a verified directory's descriptor (``O_NOFOLLOW``) and
checks it through ``fstat``; the loader hashes it from that descriptor and loads it through
``/proc/self/fd/N`` (see :func:`aiter_swa.jit.loader.import_module`).
"""

from __future__ import annotations

import dataclasses
import errno
import os
import shlex
import stat
from pathlib import Path

from .errors import JitConfigError, UnsafeDirectoryError

_DIR_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_WRITE = stat.S_IWGRP | stat.S_IWOTH
_SEARCH = stat.S_IXGRP | stat.S_IXOTH


@dataclasses.dataclass
class Dir:
    """A verified directory, held open (``fd``, an ``O_PATH`` descriptor; :meth:`close` it).

    Attributes:
        path: its real path (no symlinks).
        reachable: another user can reach it (search every directory down to it).
        setting: what named it, for messages (e.g. ``AITER_SWA_CACHE_DIR``).
    """

    path: Path
    fd: int
    reachable: bool
    setting: str
    allow_root_owner: bool

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _who_writes(st) -> str:
    bits = (("group", stat.S_IWGRP), ("others", stat.S_IWOTH))
    return " and ".join(w for w, b in bits if st.st_mode & b)


def check_stat(st, path, *, own: bool, reachable: bool, setting: str, allow_root_owner: bool = False) -> None:
    """Raise UnsafeDirectoryError if another user could write or replace ``path`` (its ``fstat``).

    Args:
        own: ``path`` is the kernel dir or inside it (owner must be this user, or root if
            ``allow_root_owner``); else it is a directory above it (owner this user or root; a
            sticky world-writable directory is fine).
        reachable: another user can reach ``path`` (otherwise its write bits do not matter).
    """
    uid = os.getuid()
    what = "directory" if stat.S_ISDIR(st.st_mode) else "file"
    role = "" if own else " (a directory above it)"
    where = f"{what} {path}{role}"
    owner_ok = st.st_uid == uid or (st.st_uid == 0 and (allow_root_owner or not own))
    if not owner_ok:
        raise UnsafeDirectoryError(
            f"aiter_swa: refusing to load kernels from {setting}: {where} is owned by uid {st.st_uid}, not by this "
            f"user (uid {uid}) or root, and loading a shared library runs its code. Use a directory of your own.")
    if reachable and st.st_mode & _WRITE and not (not own and st.st_mode & stat.S_ISVTX):
        raise UnsafeDirectoryError(
            f"aiter_swa: refusing to load kernels from {setting}: {where} is writable by {_who_writes(st)} "
            f"(mode {stat.S_IMODE(st.st_mode):04o}), so another user could replace the code this process would "
            f"run. Fix: `chmod go-w {shlex.quote(str(path))}`, or use a private directory.")


def _still_reachable(st, reachable: bool) -> bool:
    """Can another user reach what is inside a directory with this ``fstat``?"""
    if not reachable:
        return False
    trusted = st.st_uid in (os.getuid(), 0)
    return not (trusted and not st.st_mode & _SEARCH)


def _open_component(parent_fd: int, name: str, path: Path, setting: str, create_mode) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except FileNotFoundError:
        if create_mode is None:
            raise
    except OSError as e:
        if e.errno in (errno.ENOTDIR, errno.ELOOP):
            raise JitConfigError(f"{setting}: {path} is not a directory") from None
        raise JitConfigError(f"{setting}: cannot open directory {path}: {e.strerror}") from None
    try:
        os.mkdir(name, create_mode, dir_fd=parent_fd)
    except FileExistsError:
        pass  # created by another process just now: checked below like any other
    except OSError as e:
        raise JitConfigError(f"{setting}: cannot create directory {path}: {e.strerror}") from None
    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent_fd)
    try:
        st = os.fstat(fd)
        if st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) != create_mode:
            os.fchmod(fd, create_mode)  # explicit mode, whatever the umask
    finally:
        os.close(fd)
    return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)


def open_dir(path, *, setting: str, own_from=None, allow_root_owner: bool = False, create_mode=None) -> Dir | None:
    """Open and verify directory ``path`` and every directory above it (see the module docstring).

    Args:
        setting: what named the directory, for messages (``"AITER_SWA_CACHE_DIR=/x"``).
        own_from: the first directory (``path`` or one above it) from which on everything must be
            this user's (or root's, with ``allow_root_owner``); default ``path`` itself.
        create_mode: create missing directories with this mode (e.g. ``0o700``), whatever the umask;
            None: a missing directory gives None.

    Returns:
        A :class:`Dir` (caller closes it), or None when ``path`` does not exist and ``create_mode`` is None.

    Raises:
        UnsafeDirectoryError: a directory another user could write (names it and the setting).
        JitConfigError: a component is not a directory, or cannot be opened or created.
    """
    real = Path(os.path.realpath(os.path.abspath(os.path.expanduser(str(path)))))
    own_from = Path(os.path.realpath(os.path.abspath(os.path.expanduser(str(own_from))))) if own_from else real
    fd = os.open("/", _DIR_FLAGS)
    reachable = True
    cur = Path("/")
    try:
        st = os.fstat(fd)
        check_stat(st, cur, own=cur == own_from, reachable=reachable, setting=setting,
                   allow_root_owner=allow_root_owner)
        reachable = _still_reachable(st, reachable)
        for name in real.parts[1:]:
            cur = cur / name
            try:
                nfd = _open_component(fd, name, cur, setting, create_mode)
            except FileNotFoundError:
                os.close(fd)
                return None
            os.close(fd)
            fd = nfd
            st = os.fstat(fd)
            if not stat.S_ISDIR(st.st_mode):  # O_PATH | O_NOFOLLOW opened a symlink swapped in after realpath
                raise JitConfigError(f"{setting}: {cur} is not a directory (it changed while it was checked)")
            own = cur == own_from or own_from in cur.parents
            check_stat(st, cur, own=own, reachable=reachable, setting=setting, allow_root_owner=allow_root_owner)
            reachable = _still_reachable(st, reachable)
    except BaseException:
        os.close(fd)
        raise
    return Dir(real, fd, reachable, setting, allow_root_owner)


def _open_verified(parent: Dir, name: str, flags: int, is_kind, kind: str):
    """Open ``name`` in the verified ``parent`` with ``flags``, check its type (``is_kind(st.st_mode)``)
    and that no other user could write it; ``(fd, stat)`` (the caller owns ``fd``), or None if absent."""
    path = parent.path / name
    try:
        fd = os.open(name, flags, dir_fd=parent.fd)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise UnsafeDirectoryError(f"aiter_swa: refusing {path} ({parent.setting}): {e.strerror}") from None
    try:
        st = os.fstat(fd)
        if not is_kind(st.st_mode):
            raise UnsafeDirectoryError(f"aiter_swa: refusing {path} ({parent.setting}): not a {kind}")
        check_stat(st, path, own=True, reachable=parent.reachable, setting=parent.setting,
                   allow_root_owner=parent.allow_root_owner)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def open_child(parent: Dir, name: str) -> Dir | None:
    """Open and verify directory ``name`` inside the verified ``parent`` (None if absent)."""
    opened = _open_verified(parent, name, _DIR_FLAGS, stat.S_ISDIR, "directory")
    if opened is None:
        return None
    fd, st = opened
    return Dir(parent.path / name, fd, _still_reachable(st, parent.reachable), parent.setting, parent.allow_root_owner)


def open_file(parent: Dir, name: str):
    """Open regular file ``name`` in the verified ``parent`` for reading (``O_NOFOLLOW``) and verify it.

    Returns:
        ``(fd, stat)``; the caller owns ``fd``. None when the file does not exist.

    Raises:
        UnsafeDirectoryError: it is a symlink or not a regular file, or another user could write it.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    return _open_verified(parent, name, flags, stat.S_ISREG, "regular file")


def fd_sha256(fd: int) -> str:
    """sha256 of the whole file behind ``fd`` (read with ``pread``: the offset is left alone)."""
    import hashlib

    h = hashlib.sha256()
    off = 0
    while True:
        chunk = os.pread(fd, 1 << 20, off)
        if not chunk:
            return h.hexdigest()
        h.update(chunk)
        off += len(chunk)


def write_private(path, data, mode: int = 0o600) -> None:
    """Write ``data`` (str or bytes) to a new file at ``path`` with exactly ``mode`` (umask ignored), atomically."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    raw = data.encode() if isinstance(data, str) else data
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        os.fchmod(fd, mode)
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    os.replace(tmp, path)
