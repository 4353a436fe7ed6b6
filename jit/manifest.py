"""Pre-built kernel directories: their manifest, and finding a spec's library in them.

A pre-built dir (written by ``python -m aiter_swa.jit.prebuild --out DIR``) holds ``<spec.name>.so``
files and ``manifest.json``::

    {"format": 2, "package_version": "0.2.0", "python_abi": ".cpython-311-x86_64-linux-gnu.so",
     "kernels": {"<spec JSON>": <Artifact record, aiter_swa.jit.build.Artifact>}}

Lookup is by spec JSON, not by compiler identity (a deployment machine may have no compiler). An
entry is used only if the package version, Python ABI and template+header hash match this install
and the library's sha256 matches; otherwise it is ignored with a JitWarning.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

from . import paths, safety
from ._version import __version__
from .build import Artifact, spec_source_hash
from .errors import JitWarning
from .toolchain import python_abi

MANIFEST = "manifest.json"
FORMAT = 2

_MANIFESTS: dict = {}
_WARNED: set = set()


def prebuilt_dirs() -> list:
    """Existing pre-built dirs in lookup order: ``$AITER_SWA_PREBUILT_DIR`` (``:``-separated), then ``<package>/prebuilt``."""
    dirs = [Path(p).expanduser() for p in os.environ.get("AITER_SWA_PREBUILT_DIR", "").split(os.pathsep) if p]
    dirs.append(paths.package_prebuilt_dir())
    return [d for d in dirs if (d / MANIFEST).is_file()]


def _warn_once(msg: str) -> None:
    if msg not in _WARNED:
        _WARNED.add(msg)
        warnings.warn(msg, JitWarning, stacklevel=4)


def read_manifest(d) -> dict | None:
    """The parsed manifest of dir ``d`` (cached while the file is unchanged), or None if absent/unreadable."""
    path = Path(d) / MANIFEST
    try:
        st = path.stat()
    except OSError:
        return None
    stamp = (st.st_mtime_ns, st.st_size)
    hit = _MANIFESTS.get(str(path))
    if hit and hit[0] == stamp:
        return hit[1]
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or not isinstance(data.get("kernels"), dict):
            raise ValueError("no 'kernels' table")
    except (OSError, ValueError) as e:
        _warn_once(f"aiter_swa: ignoring pre-built dir {d}: unreadable {MANIFEST} ({e})")
        return None
    _MANIFESTS[str(path)] = (stamp, data)
    return data


def is_current(m: dict) -> bool:
    """The manifest was written by this package version and Python ABI, in this format."""
    return m.get("format") == FORMAT and m.get("package_version") == __version__ and m.get("python_abi") == python_abi()


def setting_of(d) -> str:
    """What named pre-built dir ``d``, for messages."""
    env = [Path(p).expanduser() for p in os.environ.get("AITER_SWA_PREBUILT_DIR", "").split(os.pathsep) if p]
    if Path(d) in env:
        return f"the pre-built dir {d} (AITER_SWA_PREBUILT_DIR)"
    return f"the package's pre-built dir {d}"


def find(spec, d, csrc=None):
    """``(library path, Artifact, fd)`` of ``spec`` in pre-built dir ``d``, or None (absent, stale or
    corrupt: warned). ``fd`` is the library, opened and verified (owner, mode, size, sha256) through
    descriptors (:mod:`~aiter_swa.jit.safety`); the caller owns it.

    Raises:
        UnsafeDirectoryError: the dir, a directory above it or the library could be written by
            another user, or is owned by a user other than this one or root.
    """
    m = read_manifest(d)
    if m is None:
        return None
    rec = m["kernels"].get(spec.to_json())
    if rec is None:
        return None
    if not is_current(m):
        _warn_once(
            f"aiter_swa: ignoring pre-built kernels in {d}: built for aiter_swa {m.get('package_version')} / "
            f"{m.get('python_abi')} (format {m.get('format')}), this is aiter_swa {__version__} / {python_abi()} "
            f"(format {FORMAT})"
        )
        return None
    try:
        art = Artifact.from_dict(rec)
        if not art.file or "/" in art.file or art.file in (".", ".."):
            raise ValueError(f"bad library file name {art.file!r}")
    except ValueError as e:
        _warn_once(f"aiter_swa: ignoring pre-built {spec.name} in {d}: {e}")
        return None
    if art.source_hash != spec_source_hash(spec, csrc):
        _warn_once(
            f"aiter_swa: ignoring pre-built {spec.name} in {d}: it was built from other kernel sources "
            f"(template, headers or rendered values changed since); it will be compiled instead"
        )
        return None
    vd = safety.open_dir(d, setting=setting_of(d), allow_root_owner=True)
    if vd is None:
        return None
    with vd:
        so = vd.path / art.file
        got = safety.open_file(vd, art.file)
    if got is None:
        _warn_once(f"aiter_swa: ignoring pre-built {spec.name}: {so} is missing")
        return None
    fd, st = got
    if st.st_size != art.size or safety.fd_sha256(fd) != art.sha256:
        os.close(fd)
        _warn_once(f"aiter_swa: ignoring pre-built {so}: its size/sha256 differ from {MANIFEST} (corrupt?)")
        return None
    return so, art, fd


def write_manifest(d, artifacts, keep=None) -> Path:
    """Merge ``artifacts`` (Artifact records) into ``d``'s manifest and write it atomically.

    Records of another package version / Python ABI / format are dropped (they would be ignored
    anyway); with ``keep`` (a set of spec JSONs), so are the old records of any other spec.
    """
    d = Path(d)
    path = d / MANIFEST
    old = {}
    try:
        prev = json.loads(path.read_text())
        if is_current(prev):
            old = {k: v for k, v in prev.get("kernels", {}).items() if keep is None or k in keep}
    except (OSError, ValueError):
        pass
    old.update({a.spec: a.to_dict() for a in artifacts})
    data = {"format": FORMAT, "package_version": __version__, "python_abi": python_abi(),
            "kernels": dict(sorted(old.items()))}
    safety.write_private(path, json.dumps(data, indent=1), mode=0o644)  # read by the users of the kernels
    return path
