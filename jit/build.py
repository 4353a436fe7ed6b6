"""The one build pipeline of the JIT: render, write build.ninja, compile with ninja, record.

Both the first-call compile (:mod:`~aiter_swa.jit.loader`, one spec into a cache entry) and the
pre-build (:mod:`~aiter_swa.jit.prebuild`, many specs into a kernel dir) call :func:`build`. Every
built library is described by one :class:`Artifact` record, which the cache writes as its entry
marker and the pre-build as its manifest entry.

Each compile's output (warnings, resource remarks) goes to its own log ``<name>.log``, so resources
can be parsed per kernel; paths inside the build dir are relative, so the dir can be moved (a cache
entry is published by renaming its build dir). Per-kernel compile seconds come from ninja's own
``.ninja_log``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import paths
from .errors import JitConfigError, JitError
from .render import render
from .resources import add_matrix_counts, find_disassembler, parse_resources
from .toolchain import include_dirs


@dataclasses.dataclass
class Artifact:
    """The record of one built kernel library (cache marker and manifest entry alike).

    Attributes:
        spec: the spec's canonical JSON.
        name: the spec's readable name (the module name).
        arch: offload target.
        file: the library's file name, relative to the directory holding the record.
        sha256, size: of the library file (checked before every load).
        source_hash: :func:`spec_source_hash`: the template, headers and rendered values it was built from.
        compiler: first line of the compiler's ``--version``; ``compiler_identity`` the whole.
        flags: compile flags (without include dirs, source, output).
        resources: per-kernel resources (:func:`aiter_swa.jit.resources.parse_resources`), with each
            kernel's matrix-instruction count (:func:`~aiter_swa.jit.resources.add_matrix_counts`).
        seconds: wall time of the compile.
    """

    spec: str
    name: str
    arch: str
    file: str
    sha256: str
    size: int
    source_hash: str
    compiler: str
    compiler_identity: str
    flags: list
    resources: dict
    seconds: float

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Artifact":
        """Raises ValueError when ``d`` lacks a field or has an unknown one."""
        names = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(d, dict) or set(d) != names:
            raise ValueError(f"artifact record: expected fields {sorted(names)}, got {sorted(d) if isinstance(d, dict) else d!r}")
        return cls(**d)


@dataclasses.dataclass
class Failure:
    """A spec that did not build: its log and a shell command that reproduces the compile."""

    spec: object
    log: Path
    command: str


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def spec_source_hash(spec, csrc=None, template_hash: str | None = None) -> str:
    """sha256 over :func:`source_hash` of ``spec``'s template and the values the template is rendered with
    (``spec.template_vars()``, canonical JSON): a rendered constant that changes without a change of the spec's
    fields (e.g. a tuning constant of the op's spec module) changes it too, so no cache or pre-built kernel of
    the old value passes for the new one. ``template_hash``: that :func:`source_hash`, when the caller has it
    (the builds of many specs read the headers once per template, not once per spec)."""
    if template_hash is None:
        template_hash = source_hash(spec.template, csrc)
    rendered = json.dumps(spec.template_vars(), sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(f"{template_hash}\0vars\0{rendered}".encode()).hexdigest()


def spec_source_hashes(specs, csrc=None) -> dict:
    """:func:`spec_source_hash` of each of ``specs``, by spec, each template's headers read once."""
    by_template = {t: source_hash(t, csrc) for t in {s.template for s in specs}}
    return {s: spec_source_hash(s, template_hash=by_template[s.template]) for s in specs}


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


def ninja_bin() -> str:
    """The ``ninja`` executable of the ``ninja`` pip package (falls back to PATH)."""
    try:
        import ninja

        exe = os.path.join(ninja.BIN_DIR, "ninja")
        if os.access(exe, os.X_OK):
            return exe
    except ImportError:
        pass
    exe = shutil.which("ninja")
    if not exe:
        raise JitError("aiter_swa: ninja not found: pip install ninja")
    return exe


def _esc_path(p) -> str:
    """Escape a path for a ninja build line."""
    return str(p).replace("$", "$$").replace(" ", "$ ").replace(":", "$:")


def _esc_value(v: str) -> str:
    """Escape a ninja variable value (ninja expands ``$``; newlines are not allowed)."""
    if "\n" in v:
        raise ValueError(f"newline in a ninja value: {v!r}")
    return v.replace("$", "$$")


def write_ninja(build_dir: Path, jobs, timeout: float = 0) -> Path:
    """Write ``<build_dir>/build.ninja``; ``jobs``: ``(name, source, output, log, command)`` tuples.

    ``timeout`` > 0: each compile runs under coreutils ``timeout``, which puts it in a process group
    of its own and, after ``timeout`` seconds, sends that group SIGTERM, then SIGKILL 10 s later; the
    log then ends with a line saying so.
    """
    limit = ""
    note = ""
    if timeout and timeout > 0:
        exe = shutil.which("timeout")
        if exe is None:
            raise JitError("aiter_swa: AITER_SWA_COMPILE_TIMEOUT needs coreutils' `timeout` on PATH "
                           "(or set AITER_SWA_COMPILE_TIMEOUT=0)")
        secs = f"{timeout:g}"
        limit = f"{shlex.quote(exe)} -k 10 {secs} "
        note = (f"if [ $$rc = 124 ] || [ $$rc = 137 ]; then echo 'aiter_swa: the compile timed out after {secs} s "
                f"and was killed (AITER_SWA_COMPILE_TIMEOUT={secs})' >> $log; fi; ")
    lines = [
        "ninja_required_version = 1.3",
        "rule compile",
        # The log keeps the whole output; on failure its tail goes to ninja's output too.
        f"  command = {limit}$cmd > $log 2>&1 || {{ rc=$$?; {note}tail -n 40 $log; exit 1; }}",
        "  description = $desc",
        "",
    ]
    for name, source, output, log, cmd in jobs:
        lines += [
            f"build {_esc_path(output)}: compile {_esc_path(source)}",
            f"  cmd = {_esc_value(cmd)}",
            f"  log = {_esc_value(shlex.quote(str(log)))}",
            f"  desc = {_esc_value('compile ' + name)}",
            "",
        ]
    path = Path(build_dir) / "build.ninja"
    write_file(path, "\n".join(lines))
    return path


def write_file(path, text: str, mode: int = 0o600) -> None:
    """Create or overwrite ``path`` with exactly ``mode`` (whatever the umask)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    with os.fdopen(fd, "w") as f:
        os.fchmod(fd, mode)
        f.write(text)


def default_jobs() -> int:
    """Parallel compiles: ``$AITER_SWA_MAX_JOBS``, else the number of CPUs.

    Raises:
        JitConfigError: AITER_SWA_MAX_JOBS is not a positive integer (a ValueError naming it).
    """
    env = os.environ.get("AITER_SWA_MAX_JOBS", "").strip()
    if env:
        try:
            n = int(env)
        except ValueError:
            n = 0
        if n < 1:
            raise JitConfigError(f"AITER_SWA_MAX_JOBS: expected a positive integer, got {env!r}")
        return n
    return os.cpu_count() or 1


#: Default of ``$AITER_SWA_COMPILE_TIMEOUT``: seconds one kernel's compile may take before it is killed.
DEFAULT_COMPILE_TIMEOUT = 900.0


def compile_timeout() -> float:
    """``$AITER_SWA_COMPILE_TIMEOUT`` seconds per compile (default 900; 0: none).

    Raises:
        JitConfigError: not a number >= 0.
    """
    text = os.environ.get("AITER_SWA_COMPILE_TIMEOUT", "").strip()
    if not text:
        return DEFAULT_COMPILE_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise JitConfigError(f"AITER_SWA_COMPILE_TIMEOUT: expected seconds (a number >= 0; 0: no limit), got {text!r}")
    return value


def tail(path, lines: int = 40) -> str:
    """The last ``lines`` lines of a text file ('' if missing)."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _ninja_seconds(build_dir: Path) -> dict:
    """Output file name -> compile seconds, from ninja's ``.ninja_log`` (format v5: start, end in ms)."""
    out = {}
    try:
        for line in (build_dir / ".ninja_log").read_text().splitlines()[1:]:
            start, end, _mtime, output, *_ = line.split("\t")
            out[output] = (int(end) - int(start)) / 1000.0
    except (OSError, ValueError):
        pass
    return out


#: ninja's status line (``$NINJA_STATUS``) while :func:`build` reports progress; printed when a compile
#: finishes (ninja prints it at the end of each edge when its output is not a terminal).
_NINJA_STATUS = "@@aiter_swa %f/%t@@ "
_STATUS_RE = re.compile(r"^@@aiter_swa (\d+)/(\d+)@@ (.*)$")


def _run_ninja(argv, capture: bool, progress) -> int:
    """Run ninja; with ``progress``, call ``progress(done, total, description)`` as each compile
    finishes and pass every other line (a failed compile's log tail, ninja's own messages) to stdout."""
    if progress is None:
        return subprocess.run(argv, capture_output=capture, text=True, umask=0o077).returncode
    env = dict(os.environ, NINJA_STATUS=_NINJA_STATUS)
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                          umask=0o077, env=env) as proc:
        for line in proc.stdout:
            m = _STATUS_RE.match(line)
            if m:
                progress(int(m.group(1)), int(m.group(2)), m.group(3).strip())
            elif not capture:
                sys.stdout.write(line)
                sys.stdout.flush()
    return proc.returncode


def build(specs, build_dir, toolchains: dict, *, jobs: int = 1, lib_name=None, csrc=None, keep_going=True,
          capture=True, verbose=False, device_only=False, timeout: float = 0, progress=None):
    """Render and compile ``specs`` in ``build_dir`` (which must exist) through one ninja.

    Args:
        toolchains: arch -> :class:`~aiter_swa.jit.toolchain.Toolchain` for every spec's arch.
        jobs: parallel compiles (ninja ``-j``).
        lib_name: ``lib_name(spec) -> file name`` of the library (default ``<spec.name>.so``).
        keep_going: build every spec even when some fail.
        capture: capture ninja's output; otherwise it streams (the ``[done/total]`` progress).
        verbose: ninja ``-v``, and each compile's log is echoed to stderr.
        device_only: compile each spec's device code alone (rendered with ``kernels_only=True``, so
            no host binding code), into ``<name>.o``: for checking resources, not for loading.
        timeout: seconds each compile may run before it (its process group) is killed; 0: no limit.
        progress: ``progress(done, total, description)``, called as each compile finishes (ninja's
            count of finished compiles and of those it runs); ninja's other output then goes to
            stdout unless ``capture``.

    Every file of the build is private whatever the umask: sources and logs 0600, libraries 0700
    (ninja and the compilers run with umask 077).

    Returns:
        ``(artifacts, failures)``: ``{spec: Artifact}`` for the libraries now in ``build_dir``
        (``file`` relative to it), and a list of :class:`Failure`.
    """
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs: expected a positive integer, got {jobs!r}")
    build_dir = Path(build_dir)
    lib_name = lib_name or (lambda s: f"{s.name}.o" if device_only else f"{s.name}.so")
    incs = include_dirs(csrc)
    hashes = spec_source_hashes(specs, csrc)
    jobs_, cmds, libs = [], {}, {}
    for s in specs:
        src, lib, log = f"{s.name}.cpp", lib_name(s), f"{s.name}.log"
        libs[s] = lib
        write_file(build_dir / src, render(s, csrc, {"kernels_only": True} if device_only else None))
        # Relative paths: the build dir stays valid after it is moved (published, or kept as .failed).
        cmds[s] = toolchains[s.arch].shell_command(s.arch, src, lib, incs, device_only)
        jobs_.append((s.name, src, lib, log, cmds[s]))
    write_ninja(build_dir, jobs_, timeout)
    argv = [ninja_bin(), "-C", str(build_dir), "-j", str(jobs)] + (["-k", "0"] if keep_going else [])
    if verbose:
        argv.append("-v")
    if not capture:
        sys.stdout.flush()
    returncode = _run_ninja(argv, capture, progress)
    seconds = _ninja_seconds(build_dir)
    artifacts, failures = {}, []
    for s in specs:
        lib, log = build_dir / libs[s], build_dir / f"{s.name}.log"
        if verbose:
            sys.stderr.write(tail(log, 10_000) + "\n")
        if not lib.is_file():
            reproduce = f"cd {shlex.quote(str(build_dir))} && {cmds[s]}"
            failures.append(Failure(s, log, reproduce))
            continue
        tc = toolchains[s.arch]
        artifacts[s] = Artifact(
            spec=s.to_json(), name=s.name, arch=s.arch, file=lib.name, sha256=file_sha256(lib),
            size=lib.stat().st_size, source_hash=hashes[s], compiler=tc.identity().splitlines()[0],
            compiler_identity=tc.identity(), flags=tc.flags(s.arch, device_only),
            resources=add_matrix_counts(parse_resources(log.read_text(errors="replace"), s.backend), lib, s.backend,
                                        find_disassembler(s.backend, tc.compiler)) if s.backend != "host" else {},
            seconds=round(seconds.get(lib.name, 0.0), 3),
        )  # fmt: skip
    if returncode != 0 and not failures:  # ninja itself failed (e.g. a bad build file)
        failures.append(Failure(None, build_dir / "build.ninja", shlex.join(argv)))
    return artifacts, failures


def new_build_dir(parent, prefix: str) -> Path:
    """A fresh private (0700) directory inside ``parent``."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
