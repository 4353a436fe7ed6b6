"""GPU arch detection, compiler discovery, compile flags and compiler identity (docs/design.md, "Toolchains").

HIP (``gfx…`` archs), first found wins:

1. ``$AITER_SWA_HIPCC`` (a hipcc-style wrapper if its name contains ``hipcc``, else a clang driver);
2. ``amdclang++`` / ``hipcc`` of ``$ROCM_PATH`` (default ``/opt/rocm``);
3. ``clang++-19`` (Debian), run as ``clang++-19 -x hip --rocm-path=/usr`` with ``/usr/lib/llvm-19/bin``
   on PATH (for lld). Debian's own ``/usr/bin/hipcc`` is never used: it runs clang-15 (no gfx942)
   and picks the NVIDIA platform when nvcc is installed.

The device-library (bitcode) dir is ``$AITER_SWA_ROCM_DEVICE_LIB_PATH``, else the ROCm install's own.
Debian's device libs lack gfx942's ISA-version file; ``.ci/install_toolchain.sh`` prepares a copy
that has it in ``/opt/aiter_swa_devlibs``, which is used when present.

CUDA (``sm_XX`` archs): ``$AITER_SWA_NVCC``, else ``nvcc`` on PATH, else ``$CUDA_HOME/bin/nvcc``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import shutil
import subprocess
import sysconfig
from pathlib import Path

from . import paths
from .errors import ToolchainError

#: Where .ci/install_toolchain.sh puts Debian's device libraries plus a gfx942 ISA-version file.
CI_DEVICE_LIB_DIR = "/opt/aiter_swa_devlibs"
DEBIAN_DEVICE_LIB_DIR = "/usr/lib/x86_64-linux-gnu/amdgcn/bitcode"
DEBIAN_LLVM_BIN = "/usr/lib/llvm-19/bin"

#: How to get each backend's compiler: the ToolchainError messages and ``python -m aiter_swa.info`` give it.
INSTALL_HINTS = {
    "hip": "set AITER_SWA_HIPCC, install ROCm (ROCM_PATH, default /opt/rocm: amdclang++ or hipcc), or on Debian "
           "`apt-get install clang-19 clang-tools-19 lld-19 llvm-19 libamdhip64-dev rocm-device-libs` "
           "(.ci/install_toolchain.sh does it and prepares the gfx942 device libraries)",
    "cuda": "set AITER_SWA_NVCC, put nvcc on PATH or set CUDA_HOME; to install it: NVIDIA's CUDA toolkit "
            "(on Debian/Ubuntu `apt-get install nvidia-cuda-toolkit`)",
}  # fmt: skip

_ARCH_BY_DEVICE: dict = {}
_IDENTITY: dict = {}
_TOOLCHAINS: dict = {}


def env_flag(name: str) -> bool:
    """True when the environment variable is set to something other than '', '0', 'false', 'no', 'off'."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def parse_archs(text: str, setting: str | None = None) -> list:
    """``"gfx942;gfx90a"`` / ``"gfx942,sm_90"`` / ``"gfx942 gfx90a"`` -> ``["gfx942", "gfx90a"]``.

    ``:feature`` suffixes are dropped (``gfx90a:sramecc+:xnack-`` -> ``gfx90a``). With ``setting``
    (e.g. ``"AITER_SWA_ARCHS"``), every name is validated and a bad one raises a ValueError naming it.
    """
    archs = [a.split(":")[0] for a in text.replace(",", ";").replace(" ", ";").split(";") if a]
    if setting:
        for a in archs:
            try:
                backend_of(a)
            except ValueError as e:
                raise ValueError(f"{setting}={text!r}: {e}") from None
    return archs


_ARCH_RE = {"hip": re.compile(r"gfx[0-9]{2,4}[a-z]?"), "cuda": re.compile(r"sm_[0-9]{2,3}[af]?")}


def backend_of(arch: str) -> str:
    """``"hip"`` for ``gfxNNN[a-z]`` (gfx942, gfx90a, gfx1100), ``"cuda"`` for ``sm_NN[a]`` (sm_90, sm_90a);
    ValueError for anything else (an arch name becomes part of file names)."""
    for backend, pattern in _ARCH_RE.items():
        if isinstance(arch, str) and pattern.fullmatch(arch):
            return backend
    raise ValueError(f"GPU arch: expected 'gfx…' (AMD) or 'sm_…' (NVIDIA), a name like gfx942, gfx90a, gfx1100, "
                     f"sm_90 or sm_90a, got {arch!r}")


def wavefront_size(arch: str) -> int:
    """Lanes per wavefront (warp) of the code built for ``arch``.

    64 on GCN/CDNA (``gfx9…``: gfx90a MI200, gfx942 MI300X, gfx950), 32 on RDNA (``gfx10…`` to
    ``gfx12…``, which clang compiles as wave32 by default) and on NVIDIA (``sm_…``). Sources: AMD's
    CDNA3 ISA reference ("wavefronts of 64 work-items") and RDNA3 ISA reference (wave32 and wave64
    modes, wave32 the compiler default); CUDA C++ Programming Guide (warp size 32).
    """
    if backend_of(arch) == "cuda":
        return 32
    return 64 if arch.startswith("gfx9") else 32


def device_arch(device_index: int = 0) -> str:
    """Offload arch of a GPU, e.g. ``"gfx942"`` (ROCm torch) or ``"sm_90"`` (CUDA torch); cached per device.

    ``$AITER_SWA_ARCHS`` overrides detection: one entry applies to every device, several
    (``"gfx942;gfx90a"``) are taken by device index (the last one repeats). Otherwise the arch comes
    from ``torch.cuda.get_device_properties(device_index)``: ``gcnArchName`` without its
    ``:feature`` suffixes on ROCm, ``sm_{major}{minor}`` on CUDA. torch is imported here, lazily.

    Raises:
        RuntimeError: torch has neither a HIP nor a CUDA backend and no override is set.
    """
    try:
        return _ARCH_BY_DEVICE[device_index]
    except KeyError:
        pass
    override = parse_archs(os.environ.get("AITER_SWA_ARCHS", ""), "AITER_SWA_ARCHS")
    if override:
        arch = override[min(device_index, len(override) - 1)]
    else:
        import torch

        props = torch.cuda.get_device_properties(device_index)
        if getattr(torch.version, "hip", None):
            arch = props.gcnArchName.split(":")[0]
        elif torch.version.cuda:
            arch = f"sm_{props.major}{props.minor}"
        else:
            raise RuntimeError("aiter_swa: torch has no HIP or CUDA backend; set AITER_SWA_ARCHS to name the arch")
    _ARCH_BY_DEVICE[device_index] = arch
    return arch


def compiler_identity(compiler: str, memo_file=None) -> str:
    """``<compiler> --version`` output (stripped): part of every cache key.

    Cached per process; with ``memo_file`` (the cache root's ``compilers.json``) also memoized on disk,
    keyed by the compiler file's real path, size, mtime and inode, which saves a fresh process the
    compiler start-up on a warm load (an upgraded compiler has another size/mtime/inode).
    """
    try:
        return _IDENTITY[compiler]
    except KeyError:
        pass
    stamp = memo = None
    if memo_file is not None:
        try:
            real = os.path.realpath(shutil.which(compiler) or compiler)
            st = os.stat(real)
            stamp = f"{real}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}"
            memo = json.loads(Path(memo_file).read_text())
            if not isinstance(memo, dict):
                memo = {}
        except (OSError, ValueError):
            memo = {}
        if stamp and isinstance(memo.get(stamp), str):
            _IDENTITY[compiler] = memo[stamp]
            return memo[stamp]
    try:
        proc = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=120)
    except OSError as e:
        raise ToolchainError(f"cannot run {compiler} --version: {e}") from e
    if proc.returncode != 0:
        raise ToolchainError(f"{compiler} --version failed ({proc.returncode}): {proc.stderr.strip()}")
    ident = proc.stdout.strip()
    _IDENTITY[compiler] = ident
    if stamp:
        memo = {k: v for k, v in list(memo.items())[-31:] if k.split("|")[0] != stamp.split("|")[0]}
        memo[stamp] = ident
        try:
            from .safety import write_private

            write_private(memo_file, json.dumps(memo, indent=1))
        except OSError:
            pass
    return ident


def python_abi() -> str:
    """The extension-module suffix, e.g. ``.cpython-311-x86_64-linux-gnu.so``: the Python ABI of an artifact."""
    return sysconfig.get_config_var("EXT_SUFFIX") or ".so"


def base_include_dirs() -> list:
    """Python's and pybind11's include dirs (the kernel's own comes from csrc)."""
    import pybind11

    return [sysconfig.get_paths()["include"], pybind11.get_include()]


def pybind11_version() -> str:
    import pybind11

    return pybind11.__version__


@dataclasses.dataclass(frozen=True)
class Toolchain:
    """One compiler and how to drive it.

    Attributes:
        backend: ``"hip"`` or ``"cuda"``.
        kind: ``"clang"`` (any clang driver with ``-x hip``), ``"hipcc"`` or ``"nvcc"``.
        compiler: path of the executable.
        rocm_path: ``--rocm-path`` for clang (HIP only).
        device_lib_path: ``--rocm-device-lib-path`` (HIP only; None lets the compiler find its own).
        path_prefix: directories put first on PATH while compiling (lld for Debian's clang).
    """

    backend: str
    kind: str
    compiler: str
    rocm_path: str | None = None
    device_lib_path: str | None = None
    path_prefix: tuple = ()

    def identity(self, memo_file=None) -> str:
        """The compiler's ``--version`` output (see :func:`compiler_identity`)."""
        return compiler_identity(self.compiler, memo_file)

    def flags(self, arch: str, device_only: bool = False) -> list:
        """Compile flags for one arch, without include dirs, source or output (these are the key's flags).

        ``device_only``: compile the device code alone into an object (no host code, no link): what
        the pre-build's ``--resources-only`` check needs, in a fraction of the time.
        """
        common = ["-O3", "-std=c++17"]
        if self.backend == "hip":
            f = ["-x", "hip", f"--offload-arch={arch}"]
            if self.kind == "clang" and self.rocm_path:
                f.append(f"--rocm-path={self.rocm_path}")
            if self.device_lib_path:
                f.append(f"--rocm-device-lib-path={self.device_lib_path}")
            out = ["--offload-device-only", "-c"] if device_only else ["-fPIC", "-shared"]
            return f + common + out + ["-Rpass-analysis=kernel-resource-usage"]
        sm = arch[len("sm_"):]
        out = ["-cubin"] if device_only else ["-Xcompiler", "-fPIC", "-shared"]
        return ["-x", "cu", f"-gencode=arch=compute_{sm},code=sm_{sm}"] + common + out + ["-Xptxas", "-v"]

    def command(self, arch: str, source, output, include_dirs, device_only: bool = False) -> list:
        """Full argv compiling ``source`` into the shared library (or device object) ``output``."""
        inc = [f"-I{d}" for d in include_dirs]
        return [self.compiler] + self.flags(arch, device_only) + inc + [str(source), "-o", str(output)]

    def shell_command(self, arch: str, source, output, include_dirs, device_only: bool = False) -> str:
        """The compile as one shell command (with the PATH it needs), for build.ninja and error messages."""
        argv = self.command(arch, source, output, include_dirs, device_only)
        if self.path_prefix:
            path = os.pathsep.join(list(self.path_prefix)) + os.pathsep + "$PATH"
            return f'env PATH="{path}" ' + shlex.join(argv)
        return shlex.join(argv)

    def check_arch(self, arch: str) -> None:
        """Raise ToolchainError when the arch cannot be built (e.g. missing gfx ISA-version bitcode)."""
        if backend_of(arch) != self.backend:
            raise ToolchainError(f"arch {arch} needs a {backend_of(arch)} toolchain, this one is {self.backend}")
        if self.backend == "hip" and self.device_lib_path:
            isa = Path(self.device_lib_path) / f"oclc_isa_version_{arch[3:]}.bc"
            if not isa.is_file():
                raise ToolchainError(
                    f"device-library dir {self.device_lib_path} has no {isa.name}, so {arch} cannot be built; "
                    f"point AITER_SWA_ROCM_DEVICE_LIB_PATH at a dir that has it "
                    f"(.ci/install_toolchain.sh prepares one for gfx942 from Debian's rocm-device-libs)"
                )


def _which(*names):
    for n in names:
        p = shutil.which(n) if os.sep not in n else (n if os.access(n, os.X_OK) else None)
        if p:
            return p
    return None


def _rocm_path() -> str:
    env = os.environ.get("ROCM_PATH") or os.environ.get("HIP_PATH")
    if env:
        return env
    if Path("/opt/rocm").is_dir():
        return "/opt/rocm"
    return "/usr"


def _device_lib_path(rocm_path: str) -> str | None:
    env = os.environ.get("AITER_SWA_ROCM_DEVICE_LIB_PATH")
    if env:
        return env
    if rocm_path == "/usr":  # Debian: its own bitcode dir lacks gfx942; prefer the prepared copy
        if (Path(CI_DEVICE_LIB_DIR) / "oclc_isa_version_942.bc").is_file():
            return CI_DEVICE_LIB_DIR
        if Path(DEBIAN_DEVICE_LIB_DIR).is_dir():
            return DEBIAN_DEVICE_LIB_DIR
    return None  # a ROCm install: the compiler finds its own


def _hip_toolchain() -> Toolchain:
    rocm = _rocm_path()
    devlib = _device_lib_path(rocm)
    env = os.environ.get("AITER_SWA_HIPCC")
    if env:
        exe = _which(env)
        if not exe:
            raise ToolchainError(f"AITER_SWA_HIPCC={env!r}: not an executable")
        kind = "hipcc" if "hipcc" in Path(env).name else "clang"
        prefix = tuple(d for d in (str(Path(exe).resolve().parent), DEBIAN_LLVM_BIN) if Path(d).is_dir())
        return Toolchain("hip", kind, exe, rocm, devlib, prefix if kind == "clang" else ())
    if rocm != "/usr":
        for cand, kind in ((f"{rocm}/bin/amdclang++", "clang"), (f"{rocm}/llvm/bin/clang++", "clang"),
                           (f"{rocm}/bin/hipcc", "hipcc")):
            if os.access(cand, os.X_OK):
                prefix = (str(Path(cand).resolve().parent),) if kind == "clang" else ()
                return Toolchain("hip", kind, cand, rocm, devlib, prefix)
    exe = _which("clang++-19", f"{DEBIAN_LLVM_BIN}/clang++")
    if exe:
        # a ROCm dir without a compiler still gives HIP headers; else Debian's (/usr)
        rocm = rocm if Path(rocm, "include/hip").is_dir() else "/usr"
        prefix = (DEBIAN_LLVM_BIN,) if Path(DEBIAN_LLVM_BIN).is_dir() else ()
        return Toolchain("hip", "clang", exe, rocm, _device_lib_path(rocm), prefix)
    raise ToolchainError(f"no HIP compiler found: {INSTALL_HINTS['hip']}")


def _cuda_toolchain() -> Toolchain:
    env = os.environ.get("AITER_SWA_NVCC")
    if env:
        exe = _which(env)
        if not exe:
            raise ToolchainError(f"AITER_SWA_NVCC={env!r}: not an executable")
        return Toolchain("cuda", "nvcc", exe)
    cuda_home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH") or "/usr/local/cuda"
    exe = _which("nvcc", f"{cuda_home}/bin/nvcc")
    if exe:
        return Toolchain("cuda", "nvcc", exe)
    raise ToolchainError(f"no CUDA compiler found: {INSTALL_HINTS['cuda']}")


def _env_key(backend: str) -> tuple:
    names = {"hip": ("AITER_SWA_HIPCC", "ROCM_PATH", "HIP_PATH", "AITER_SWA_ROCM_DEVICE_LIB_PATH"),
             "host": ("CXX",)}.get(backend, ("AITER_SWA_NVCC", "CUDA_HOME", "CUDA_PATH"))
    return (backend, os.environ.get("PATH")) + tuple(os.environ.get(n) for n in names)


def find_toolchain(backend: str) -> Toolchain:
    """The toolchain for ``"hip"`` or ``"cuda"``, or ``"host"`` (torch extensions:
    :func:`aiter_swa.jit.torch_ext.host_toolchain`), cached per process and per relevant env vars.

    Raises:
        ToolchainError: no compiler found; the message says what was looked for.
    """
    key = _env_key(backend)
    tc = _TOOLCHAINS.get(key)
    if tc is None:
        if backend == "hip":
            tc = _hip_toolchain()
        elif backend == "cuda":
            tc = _cuda_toolchain()
        elif backend == "host":
            from .torch_ext import host_toolchain

            tc = host_toolchain()
        else:
            raise ValueError(f"backend: expected 'hip' or 'cuda', got {backend!r}")
        _TOOLCHAINS[key] = tc
    return tc


def include_dirs(csrc=None) -> list:
    """All ``-I`` dirs of a kernel build: csrc/include, Python, pybind11."""
    return [str(paths.include_dir(csrc))] + base_include_dirs()
