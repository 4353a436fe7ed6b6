"""Exceptions and warnings of the JIT."""

from __future__ import annotations


class JitError(RuntimeError):
    """Base class of the JIT's errors (a RuntimeError)."""


class ToolchainError(JitError):
    """No usable compiler for a backend/arch, with what was looked for and how to fix it."""


class TemplateRenderError(JitError):
    """A template could not be rendered (missing file, or a variable the spec does not provide)."""


class JitBuildError(JitError):
    """A kernel failed to compile.

    Attributes:
        spec: the :class:`~aiter_swa.jit.spec.KernelSpec` being built.
        build_dir: directory kept for inspection (rendered source, build.ninja, log).
        log_path: the compiler's full output.
        command: a shell command that reproduces the compile.
        log_tail: the last lines of the log.
    """

    def __init__(self, spec, build_dir, log_path, command: str, log_tail: str):
        self.spec = spec
        self.build_dir = build_dir
        self.log_path = log_path
        self.command = command
        self.log_tail = log_tail
        super().__init__(
            f"aiter_swa: failed to compile kernel {spec.name} for {spec.arch}\n"
            f"  build dir: {build_dir}\n"
            f"  log:       {log_path}\n"
            f"  reproduce: {command}\n"
            f"--- last lines of the log ---\n{log_tail}"
        )


class JitDisabledError(JitError):
    """``AITER_SWA_DISABLE_JIT=1`` and no pre-built or cached kernel exists for a spec."""


class CorruptArtifactError(JitError):
    """A cached or pre-built artifact is incomplete or does not match its spec (treated as a miss)."""


class UnsafeDirectoryError(PermissionError):
    """A kernel directory (or file) is writable by another user or owned by one.

    Loading a shared library runs its code, so such a directory is refused.
    """


class JitWarning(UserWarning):
    """Something was ignored or rebuilt (a corrupt cache entry, a stale pre-built kernel)."""


class JitConfigError(JitError, ValueError):
    """A JIT setting (an environment variable, or a directory it names) is unusable; the message names it."""
