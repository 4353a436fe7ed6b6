"""The JIT's torch-extension flavour: a host-only C++ module built against the torch it runs with.

A kernel module talks to torch only through integers (pointers, the stream), so it is built once
per GPU arch and works with any torch. A *torch extension* links against torch's own libraries
(its dispatcher, ``torch::Library``) and must match, byte for byte, the torch that loads it: its
spec (:class:`TorchExtensionSpec`) therefore carries torch's version and C++ ABI, and its
toolchain (:class:`HostToolchain`) the include and library dirs of that torch
(``torch.utils.cpp_extension.include_paths()`` / ``library_paths()``), so both are in the cache key.
It compiles with the host C++ compiler only (``$CXX``, else ``c++``, ``g++``, ``clang++``), no
device code, and goes through the same pipeline as a kernel (:func:`aiter_swa.jit.build.build`,
the cache's content key, file lock, owner and mode checks, :mod:`~aiter_swa.jit.loader`'s order).

torch is imported here lazily, when a torch extension is asked for; the rest of the JIT stays
torch-free. The one torch extension of the library is the fast path (:func:`fast_path_spec`).
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import shutil
import os

from .errors import ToolchainError
from .toolchain import compiler_identity

#: Host compilers tried in order after ``$CXX``.
HOST_COMPILERS = ("c++", "g++", "clang++")
#: torch's libraries the extensions link against (the dispatcher and c10).
TORCH_LIBS = ("c10", "torch_cpu", "torch")
#: The C++ standard of the extensions (torch's own ``cpp_extension`` default).
CXX_STANDARD = "c++20"


@dataclasses.dataclass(frozen=True)
class TorchExtensionSpec:
    """One torch extension: the spec protocol of :mod:`aiter_swa.jit.spec` for a host-only module.

    Fields:
        module: the Python module name (and :attr:`name`).
        template: its Jinja template under ``csrc/templates``.
        torch_version: ``torch.__version__`` it is built for.
        cxx11_abi: torch's ``_GLIBCXX_USE_CXX11_ABI``.
    """

    module: str
    template: str
    torch_version: str
    cxx11_abi: bool
    arch: str = "host"

    op = "torch_ext"
    #: The attribute a loaded module must have (:func:`aiter_swa.jit.loader.import_module`).
    entry_point = "register_kernel"

    @classmethod
    def for_this_torch(cls, module: str, template: str) -> "TorchExtensionSpec":
        import torch

        return cls(module, template, torch.__version__, bool(torch._C._GLIBCXX_USE_CXX11_ABI))

    @property
    def backend(self) -> str:
        return "host"

    @property
    def name(self) -> str:
        return self.module

    def axis_values(self) -> dict:
        return {}

    def to_json(self) -> str:
        return json.dumps({"op": self.op, **dataclasses.asdict(self)}, sort_keys=True, separators=(",", ":"))

    def template_vars(self) -> dict:
        return {**dataclasses.asdict(self), "backend": "host", "module_name": self.name, "spec_json": self.to_json()}

    def prebuild_command(self, out=None) -> str:
        """The command that builds it into the kernel cache (``out`` is not used: it is torch-bound)."""
        return "python -m aiter_swa.jit.prebuild --fast-path"


def fast_path_spec() -> TorchExtensionSpec:
    """The fast path's extension for the torch of this process (``csrc/templates/fast_path.cpp.jinja``)."""
    return TorchExtensionSpec.for_this_torch("aiter_swa_fast_path", "fast_path.cpp.jinja")


@dataclasses.dataclass(frozen=True)
class HostToolchain:
    """The host C++ compiler with torch's include and library dirs (the Toolchain interface of
    :mod:`aiter_swa.jit.toolchain` for :class:`TorchExtensionSpec`)."""

    compiler: str
    torch_include: tuple
    torch_lib: tuple
    cxx11_abi: bool
    backend: str = "host"
    kind: str = "c++"

    def identity(self, memo_file=None) -> str:
        return compiler_identity(self.compiler, memo_file)

    def flags(self, arch: str = "host", device_only: bool = False) -> list:
        """Compile and link flags (torch's dirs included, so the cache key covers which torch)."""
        return (["-O2", f"-std={CXX_STANDARD}", "-fPIC", "-shared", "-fvisibility=hidden",
                 f"-D_GLIBCXX_USE_CXX11_ABI={int(self.cxx11_abi)}"]
                + [f"-I{d}" for d in self.torch_include] + [f"-L{d}" for d in self.torch_lib]
                + [f"-Wl,-rpath,{d}" for d in self.torch_lib])  # fmt: skip

    def command(self, arch: str, source, output, include_dirs, device_only: bool = False) -> list:
        """argv compiling ``source`` into the module ``output`` (libraries after the source, as GNU ld wants)."""
        if device_only:
            raise ToolchainError("a torch extension has no device code to check")
        inc = [f"-I{d}" for d in include_dirs]
        return ([self.compiler] + self.flags(arch) + inc + [str(source), "-o", str(output)]
                + [f"-l{lib}" for lib in TORCH_LIBS])  # fmt: skip

    def shell_command(self, arch: str, source, output, include_dirs, device_only: bool = False) -> str:
        return shlex.join(self.command(arch, source, output, include_dirs, device_only))

    def check_arch(self, arch: str) -> None:
        if arch != "host":
            raise ToolchainError(f"the host toolchain builds arch 'host', not {arch!r}")


def host_toolchain() -> HostToolchain:
    """The host toolchain for the torch of this process.

    Raises:
        ToolchainError: no host C++ compiler (``$CXX``, ``c++``, ``g++``, ``clang++``), or torch has
            no ``torch.utils.cpp_extension`` (its headers).
    """
    env = os.environ.get("CXX")
    exe = shutil.which(env) if env else next((p for p in map(shutil.which, HOST_COMPILERS) if p), None)
    if not exe:
        raise ToolchainError(f"no host C++ compiler: set CXX or install one of {', '.join(HOST_COMPILERS)} "
                             "(Debian: `apt-get install g++`)")  # fmt: skip
    try:
        import torch
        from torch.utils import cpp_extension
    except ImportError as e:
        raise ToolchainError(f"torch extensions need torch with its C++ headers: {e}") from e
    return HostToolchain(exe, tuple(cpp_extension.include_paths()), tuple(cpp_extension.library_paths()),
                         bool(torch._C._GLIBCXX_USE_CXX11_ABI))  # fmt: skip
