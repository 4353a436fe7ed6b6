"""Write a build.ninja for one or many kernel compiles and run it with the ``ninja`` package.

Each compile's output (warnings, resource remarks) goes to its own log file, so resources can be
parsed per kernel; a failing compile prints its log's tail through ninja.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import subprocess
import sys
from pathlib import Path


@dataclasses.dataclass
class BuildJob:
    """One compile: ``command`` (a shell command) turns ``source`` into ``output``, logging to ``log``."""

    name: str
    source: Path
    output: Path
    log: Path
    command: str


def ninja_bin() -> str:
    """The ``ninja`` executable of the ``ninja`` pip package (falls back to PATH)."""
    try:
        import ninja

        exe = os.path.join(ninja.BIN_DIR, "ninja")
        if os.access(exe, os.X_OK):
            return exe
    except ImportError:
        pass
    import shutil

    exe = shutil.which("ninja")
    if not exe:
        raise RuntimeError("aiter_swa: ninja not found: pip install ninja")
    return exe


def _esc_path(p) -> str:
    """Escape a path for a ninja build line."""
    return str(p).replace("$", "$$").replace(" ", "$ ").replace(":", "$:")


def _esc_value(v: str) -> str:
    """Escape a ninja variable value (ninja expands ``$``; newlines are not allowed)."""
    if "\n" in v:
        raise ValueError(f"newline in a ninja value: {v!r}")
    return v.replace("$", "$$")


def write_ninja(build_dir: Path, jobs) -> Path:
    """Write ``<build_dir>/build.ninja`` with one edge per job; returns its path."""
    lines = [
        "ninja_required_version = 1.3",
        "rule compile",
        # The log keeps the whole output; on failure its tail goes to ninja's output too.
        "  command = $cmd > $log 2>&1 || { tail -n 40 $log; exit 1; }",
        "  description = $desc",
        "",
    ]
    for j in jobs:
        lines += [
            f"build {_esc_path(j.output)}: compile {_esc_path(j.source)}",
            f"  cmd = {_esc_value(j.command)}",
            f"  log = {_esc_value(shlex.quote(str(j.log)))}",
            f"  desc = {_esc_value('compile ' + j.name)}",
            "",
        ]
    path = Path(build_dir) / "build.ninja"
    path.write_text("\n".join(lines))
    return path


def run_ninja(build_dir: Path, max_jobs: int | None = None, keep_going: bool = False, verbose: bool = False,
              capture: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ninja in ``build_dir``.

    Args:
        max_jobs: ``-j`` (default ``$AITER_SWA_MAX_JOBS``, else the number of CPUs).
        keep_going: build every edge even when some fail (``-k 0``).
        verbose: ninja ``-v`` (print each full command).
        capture: capture ninja's output (returned); otherwise it streams to this process's stdout,
            showing the ``[done/total]`` progress.
    """
    cmd = [ninja_bin(), "-C", str(build_dir), "-j", str(max_jobs or default_jobs())]
    if keep_going:
        cmd += ["-k", "0"]
    if verbose:
        cmd.append("-v")
    if capture:
        return subprocess.run(cmd, capture_output=True, text=True, env=env)
    sys.stdout.flush()
    return subprocess.run(cmd, env=env)


def default_jobs() -> int:
    """Parallel compiles: ``$AITER_SWA_MAX_JOBS``, else the number of CPUs."""
    env = os.environ.get("AITER_SWA_MAX_JOBS", "").strip()
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(f"AITER_SWA_MAX_JOBS: expected a positive integer, got {env!r}") from None
        if n < 1:
            raise ValueError(f"AITER_SWA_MAX_JOBS: expected a positive integer, got {env!r}")
        return n
    return os.cpu_count() or 1


def tail(path, lines: int = 40) -> str:
    """The last ``lines`` lines of a text file ('' if missing)."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
