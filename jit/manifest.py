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

from . import paths
from ._version import __version__
from .build import Artifact, file_sha256, source_hash
from .cache import check_private
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


def find(spec, d, csrc=None):
    """``(library path, Artifact)`` of ``spec`` in pre-built dir ``d``, or None (absent, stale or corrupt: warned).

    Raises:
        UnsafeDirectoryError: the dir or library is writable by group/others or owned by another
            user other than root.
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
    except ValueError as e:
        _warn_once(f"aiter_swa: ignoring pre-built {spec.name} in {d}: {e}")
        return None
    if art.source_hash != source_hash(spec.template, csrc):
        _warn_once(
            f"aiter_swa: ignoring pre-built {spec.name} in {d}: it was built from other kernel sources "
            f"(template/headers changed since); it will be compiled instead"
        )
        return None
    so = Path(d) / art.file
    check_private(d, allow_root_owner=True)
    if not so.is_file():
        _warn_once(f"aiter_swa: ignoring pre-built {spec.name}: {so} is missing")
        return None
    check_private(so, allow_root_owner=True)
    if so.stat().st_size != art.size or file_sha256(so) != art.sha256:
        _warn_once(f"aiter_swa: ignoring pre-built {so}: its size/sha256 differ from {MANIFEST} (corrupt?)")
        return None
    return so, art


def write_manifest(d, artifacts) -> Path:
    """Merge ``artifacts`` (Artifact records) into ``d``'s manifest and write it atomically.

    Records of another package version / Python ABI / format are dropped (they would be ignored anyway).
    """
    d = Path(d)
    path = d / MANIFEST
    old = {}
    try:
        prev = json.loads(path.read_text())
        if is_current(prev):
            old = prev.get("kernels", {})
    except (OSError, ValueError):
        pass
    old.update({a.spec: a.to_dict() for a in artifacts})
    data = {"format": FORMAT, "package_version": __version__, "python_abi": python_abi(),
            "kernels": dict(sorted(old.items()))}
    tmp = d / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)
    return path
