"""``python -m aiter_swa.info``: what a bug report needs about this installation.

Prints the package version and where it is installed, Python, torch and its backend, the GPUs torch
sees and their offload arch, the compilers the JIT finds for each backend (or what is missing and
how to install it), the HIP/CUDA runtime library that a kernel needs to load, the kernel cache and
the pre-built kernel dirs (size, entry counts, whether they are usable), the ops and their matrix
sizes, and the environment variables in effect. ``--json`` prints the same as one JSON object.

Read-only: it compiles nothing, creates no directory and loads no kernel. Everything comes from the
JIT's own modules (:mod:`aiter_swa.jit.toolchain`, :mod:`~aiter_swa.jit.cache`,
:mod:`~aiter_swa.jit.manifest`, :mod:`~aiter_swa.jit.registry`), so it reports what the library
itself would use.
"""

from __future__ import annotations

import argparse
import ctypes.util
import importlib.metadata
import json
import os
import platform
import re
import shutil
import sys
from pathlib import Path

from aiter_swa.jit import build, cache, manifest, paths, registry, toolchain
from aiter_swa.jit._version import __version__
from aiter_swa.jit.errors import JitConfigError, ToolchainError, UnsafeDirectoryError

#: Every environment variable aiter_swa reads (README, "Environment variables"), in its order.
ENV_VARS = (
    "AITER_SWA_CACHE_DIR", "AITER_SWA_PREBUILT_DIR", "AITER_SWA_ARCHS", "AITER_SWA_HIPCC", "AITER_SWA_NVCC",
    "AITER_SWA_ROCM_DEVICE_LIB_PATH", "AITER_SWA_DISABLE_JIT", "AITER_SWA_COMPILE_TIMEOUT",
    "AITER_SWA_DEBUG_CHECKS", "AITER_SWA_SELF_CHECK", "AITER_SWA_LLVM_OBJDUMP", "AITER_SWA_CUOBJDUMP",
    "AITER_SWA_FAST_PATH", "AITER_SWA_PA_KERNEL", "AITER_SWA_VERBOSE", "AITER_SWA_MAX_JOBS", "AITER_SWA_PREBUILD_ARCHS", "AITER_SWA_PREBUILD_ARGS",
)  # fmt: skip
#: Read by the tests only (README, "Tests").
TEST_ENV_VARS = ("AITER_SWA_FULL_GRID",)
#: Other variables that change what the JIT or torch finds.
OTHER_ENV_VARS = ("CXX", "ROCM_PATH", "HIP_PATH", "CUDA_HOME", "CUDA_PATH", "XDG_CACHE_HOME", "HIP_VISIBLE_DEVICES",
                  "ROCR_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES", "PYTORCH_ROCM_ARCH")
#: Archs whose build is checked when no GPU is seen and AITER_SWA_ARCHS is unset, per backend.
DEFAULT_ARCHS = {"hip": ("gfx942", "gfx90a"), "cuda": ("sm_90",)}
#: Shared library of each backend's runtime: a kernel library links it, so it must be there to load one.
RUNTIME_LIBS = {"hip": "amdhip64", "cuda": "cudart"}

_ENTRY_RE = re.compile(r"^(?P<name>.+)-[0-9a-f]{16}$")


def _dir_size(path: Path) -> tuple:
    """``(bytes, files)`` under ``path`` (symlinks not followed); (0, 0) if it cannot be read."""
    total = files = 0
    for root, _dirs, names in os.walk(path):
        for n in names:
            try:
                total += os.lstat(os.path.join(root, n)).st_size
                files += 1
            except OSError:
                pass
    return total, files


def _op_and_arch(name: str, op_names) -> tuple:
    """``(op, arch)`` of a spec name such as ``pa_v1_bf16_hs128_g8_swa_gfx942``."""
    op = max((o for o in op_names if name.startswith(o + "_")), key=len, default="?")
    return op, name.rsplit("_", 1)[-1] if "_" in name else "?"


def _count(items) -> dict:
    out: dict = {}
    for k in items:
        out[k] = out.get(k, 0) + 1
    return dict(sorted(out.items()))


def package_info() -> dict:
    info = {"version": __version__, "package_dir": str(paths.package_dir()), "install": "unknown"}
    try:
        dist = importlib.metadata.distribution("aiter_swa")
        direct = json.loads(dist.read_text("direct_url.json") or "{}")
        if direct.get("dir_info", {}).get("editable"):
            info["install"] = f"editable, from {direct.get('url', '?')}"
        else:
            info["install"] = f"installed ({dist.version})" + (f" from {direct['url']}" if direct.get("url") else "")
    except (importlib.metadata.PackageNotFoundError, ValueError):
        info["install"] = "not installed (running from the source tree)"
    return info


def torch_info() -> dict:
    """torch's version and backend, and each GPU it sees with its arch."""
    import torch

    hip, cuda = getattr(torch.version, "hip", None), torch.version.cuda
    backend = f"HIP {hip}" if hip else f"CUDA {cuda}" if cuda else "CPU only (no HIP or CUDA build)"
    devices = []
    available = torch.cuda.is_available()
    if available:
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            seen = props.gcnArchName.split(":")[0] if hip else f"sm_{props.major}{props.minor}"
            try:
                used = toolchain.device_arch(i)
            except (ValueError, RuntimeError) as e:
                used = f"error: {e}"
            devices.append({"index": i, "name": props.name, "arch": seen, "arch_used": used})
    try:
        import numpy

        np_version = numpy.__version__
    except ImportError:
        np_version = None
    return {"version": torch.__version__, "backend": backend, "gpu_available": available, "devices": devices,
            "numpy": np_version}


def _archs_of_interest(devices) -> dict:
    """backend -> archs to check: the GPUs' archs and AITER_SWA_ARCHS, else :data:`DEFAULT_ARCHS`."""
    archs = [d["arch_used"] for d in devices if not d["arch_used"].startswith("error")]
    try:
        archs += toolchain.parse_archs(os.environ.get("AITER_SWA_ARCHS", ""), "AITER_SWA_ARCHS")
    except ValueError:
        pass
    out = {"hip": [], "cuda": []}
    for a in dict.fromkeys(archs):
        try:
            out[toolchain.backend_of(a)].append(a)
        except ValueError:
            pass
    return {b: v or list(DEFAULT_ARCHS[b]) for b, v in out.items()}


def toolchain_info(devices) -> dict:
    """Per backend: the compiler found (kind, path, version, ROCm and device-library paths) and the
    archs it can build, or what is missing with the install line; plus ninja, pybind11, timeout."""
    out = {}
    for backend, archs in _archs_of_interest(devices).items():
        entry: dict = {"archs_checked": archs}
        try:
            tc = toolchain.find_toolchain(backend)
            entry.update(found=True, kind=tc.kind, compiler=tc.compiler, rocm_path=tc.rocm_path,
                         device_lib_path=tc.device_lib_path)
            try:
                entry["version"] = tc.identity().splitlines()[0]
            except ToolchainError as e:
                entry["version"] = f"error: {e}"
            entry["archs"] = {}
            for a in archs:
                try:
                    tc.check_arch(a)
                    entry["archs"][a] = "ok"
                except ToolchainError as e:
                    entry["archs"][a] = str(e)
        except ToolchainError as e:
            entry.update(found=False, missing=str(e), install=toolchain.INSTALL_HINTS[backend])
        lib = ctypes.util.find_library(RUNTIME_LIBS[backend])
        entry["runtime_library"] = lib
        out[backend] = entry
    try:
        ninja = build.ninja_bin()
    except Exception as e:  # noqa: BLE001  (report whatever went wrong)
        ninja = f"missing: {e}"
    tools = {"ninja": ninja, "timeout": shutil.which("timeout") or "missing (needed by AITER_SWA_COMPILE_TIMEOUT)"}
    for mod in ("pybind11", "jinja2", "filelock", "tqdm"):
        try:
            tools[mod] = importlib.metadata.version(mod)
        except importlib.metadata.PackageNotFoundError:
            tools[mod] = "missing"
    out["tools"] = tools
    return out


def cache_info(op_names) -> dict:
    """The kernel cache root: where, which setting chose it, whether it is usable, and what it holds."""
    root = cache.cache_root()
    info = {"path": str(root), "setting": cache.cache_setting(), "exists": root.is_dir()}
    if not root.exists():
        info["status"] = "does not exist yet (created on the first compile)"
        return info
    try:
        d = cache.ensure_root(create=False)
        if d is not None:
            d.close()
        info["status"] = "ok"
    except (JitConfigError, UnsafeDirectoryError) as e:
        info["status"] = f"not usable: {e}"
    if not root.is_dir():
        return info
    entries, failed, building = [], 0, 0
    for p in sorted(root.iterdir()):
        if p.name.startswith(".tmp-"):
            building += 1
        elif p.name.endswith(".failed"):
            failed += 1
        elif p.is_dir() and _ENTRY_RE.match(p.name) and (p / cache.MARKER).is_file():
            entries.append(_ENTRY_RE.match(p.name).group("name"))
    size, files = _dir_size(root)
    # kernels are named after their op; other entries are host extensions (the fast path, jit/torch_ext.py)
    kernels = [n for n in entries if any(n.startswith(o + "_") for o in op_names)]
    pairs = [_op_and_arch(n, op_names) for n in kernels]
    info.update(bytes=size, files=files, entries=len(kernels), host_extensions=len(entries) - len(kernels),
                failed_builds=failed, builds_in_progress=building,
                by_op=_count(o for o, _ in pairs), by_arch=_count(a for _, a in pairs))
    return info


def prebuilt_info(op_names) -> list:
    """Every pre-built dir the loader would search (``$AITER_SWA_PREBUILT_DIR``, then the package's):
    its manifest's kernels by op and arch, and whether this installation can use them."""
    env = [Path(p).expanduser() for p in os.environ.get("AITER_SWA_PREBUILT_DIR", "").split(os.pathsep) if p]
    out = []
    for d in list(dict.fromkeys(env + [paths.package_prebuilt_dir()])):
        info = {"path": str(d), "setting": "AITER_SWA_PREBUILT_DIR" if d in env else "the package's own"}
        if not (d / manifest.MANIFEST).is_file():
            info["status"] = "no manifest.json" if d.is_dir() else "does not exist"
            out.append(info)
            continue
        m = manifest.read_manifest(d)
        if m is None:
            info["status"] = "unreadable manifest.json"
            out.append(info)
            continue
        names = [rec.get("name", "?") for rec in m["kernels"].values()]
        pairs = [_op_and_arch(n, op_names) for n in names]
        stale = 0
        for spec_json, rec in m["kernels"].items():
            try:
                spec = registry.spec_from_json(spec_json)
                if rec.get("source_hash") != build.spec_source_hash(spec):
                    stale += 1
            except (KeyError, TypeError, ValueError, OSError):
                stale += 1
        size, files = _dir_size(d)
        current = manifest.is_current(m)
        info.update(kernels=len(names), by_op=_count(o for o, _ in pairs), by_arch=_count(a for _, a in pairs),
                    bytes=size, files=files, built_for=f"aiter_swa {m.get('package_version')} / {m.get('python_abi')}",
                    other_sources=stale,
                    status="ok" if current and not stale else
                    f"ignored: built for aiter_swa {m.get('package_version')} / {m.get('python_abi')}, this is "
                    f"{__version__} / {toolchain.python_abi()}" if not current else
                    f"{stale} of {len(names)} kernels built from other kernel sources (ignored)")
        out.append(info)
    return out


def settings_info() -> dict:
    """The environment variables in effect and the JIT settings they resolve to (or the error)."""
    env = {n: os.environ[n] for n in ENV_VARS + TEST_ENV_VARS + OTHER_ENV_VARS if n in os.environ}
    known = set(ENV_VARS + TEST_ENV_VARS)
    unknown = sorted(n for n in os.environ if n.startswith("AITER_SWA_") and n not in known)
    resolved = {"jit_disabled": toolchain.env_flag("AITER_SWA_DISABLE_JIT"),
                "verbose": toolchain.env_flag("AITER_SWA_VERBOSE")}
    for key, fn in (("compile_timeout_s", build.compile_timeout), ("max_jobs", build.default_jobs),
                    ("archs_override", lambda: toolchain.parse_archs(os.environ.get("AITER_SWA_ARCHS", ""),
                                                                     "AITER_SWA_ARCHS"))):
        try:
            resolved[key] = fn()
        except ValueError as e:
            resolved[key] = f"error: {e}"
    return {"set": env, "unknown": unknown, "resolved": resolved}


def collect() -> dict:
    """Everything :func:`main` prints, as one JSON-serialisable dict."""
    ops = registry.ops()
    t = torch_info()
    return {
        "aiter_swa": package_info(),
        "python": {"version": platform.python_version(), "executable": sys.executable, "abi": toolchain.python_abi(),
                   "platform": platform.platform()},
        "torch": t,
        "toolchain": toolchain_info(t["devices"]),
        "cache": cache_info(ops),
        "prebuilt": prebuilt_info(ops),
        "ops": {n: len(o.matrix(["gfx942"])) for n, o in ops.items()},
        "environment": settings_info(),
    }


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _counts(d: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items()) or "none"


def format_report(r: dict) -> str:
    """The human-readable report of :func:`collect`'s dict."""
    p, t, tc, c = r["aiter_swa"], r["torch"], r["toolchain"], r["cache"]
    lines = [f"aiter_swa {p['version']} ({p['install']}; package dir {p['package_dir']})",
             f"python {r['python']['version']} ({r['python']['executable']}, ABI {r['python']['abi']}); "
             f"{r['python']['platform']}",
             f"torch {t['version']}: {t['backend']}; numpy {t['numpy'] or 'missing'}"]
    if t["devices"]:
        for d in t["devices"]:
            used = "" if d["arch_used"] == d["arch"] else f" (aiter_swa uses {d['arch_used']}: AITER_SWA_ARCHS)"
            lines.append(f"  GPU {d['index']}: {d['name']}, arch {d['arch']}{used}")
    else:
        lines.append("  GPU: none visible to torch (the op runs on its CPU path; pre-building needs no GPU)")
    lines.append("toolchain:")
    for backend in ("hip", "cuda"):
        e = tc[backend]
        if e["found"]:
            extra = "".join(f"; {k.replace('_', ' ')} {e[k]}" for k in ("rocm_path", "device_lib_path") if e.get(k))
            lines.append(f"  {backend}: {e['kind']} {e['compiler']} ({e['version']}){extra}")
            for a, status in e["archs"].items():
                lines.append(f"    {a}: {'can build' if status == 'ok' else status}")
        else:
            lines.append(f"  {backend}: missing: {e['missing']}")
        lib = e["runtime_library"]
        lines.append(f"    runtime library lib{RUNTIME_LIBS[backend]}: "
                     + (f"{lib} (pre-built {backend} kernels can load)" if lib else
                        "not found (needed to load a kernel of this backend, not to build one)"))
    lines.append("  " + ", ".join(f"{k} {v}" for k, v in tc["tools"].items()))
    lines.append(f"kernel cache: {c['setting']}: {c['status']}")
    if "entries" in c:
        lines.append(f"  {_n(c['entries'], 'kernel')} ({_counts(c['by_op'])}; {_counts(c['by_arch'])}), "
                     + (f"{_n(c['host_extensions'], 'host extension')} (the fast path), " if c["host_extensions"] else "")
                     + f"{_n(c['failed_builds'], 'failed build')} kept, {_n(c['builds_in_progress'], 'build')} in "
                     f"progress; {_size(c['bytes'])} in {_n(c['files'], 'file')}")
    lines.append("pre-built kernel dirs (searched in this order):")
    for d in r["prebuilt"]:
        if "kernels" in d:
            lines.append(f"  {d['path']} ({d['setting']}): {_n(d['kernels'], 'kernel')} ({_counts(d['by_op'])}; "
                         f"{_counts(d['by_arch'])}), {_size(d['bytes'])}; {d['status']}")
        else:
            lines.append(f"  {d['path']} ({d['setting']}): {d['status']}")
    lines.append("ops (kernels per arch in the full matrix): " + ", ".join(f"{n} {k}" for n, k in r["ops"].items()))
    env = r["environment"]
    lines.append("environment:")
    for n in ENV_VARS + TEST_ENV_VARS + OTHER_ENV_VARS:
        if n in env["set"]:
            lines.append(f"  {n}={env['set'][n]}")
    if not env["set"]:
        lines.append("  (no variable that aiter_swa reads is set)")
    for n in env["unknown"]:
        lines.append(f"  warning: {n} is set but aiter_swa reads no such variable (a typo?)")
    res = env["resolved"]
    lines.append(f"  in effect: JIT {'disabled' if res['jit_disabled'] else 'enabled'}, compile timeout "
                 f"{res['compile_timeout_s']}, max jobs {res['max_jobs']}, arch override "
                 f"{res['archs_override'] or 'none'}, verbose {'on' if res['verbose'] else 'off'}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m aiter_swa.info",
                                 description="Report the aiter_swa installation (paste it into a bug report).")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the text report")
    a = ap.parse_args(argv)
    r = collect()
    print(json.dumps(r, indent=1) if a.json else format_report(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
