"""Wheels that carry kernels (issue 11, item 3): the README's deployment recipe, end to end.

``AITER_SWA_PREBUILD_ARCHS=gfx942 AITER_SWA_PREBUILD_ARGS="--hf-config config.json --dtype ..."
pip wheel`` on this CPU machine (with ``import torch`` made to fail: the build needs none), twice in
the same source copy (the second build reuses the first's kernels and keeps only its own
selection), then the wheel is installed into a fresh venv and, with ``AITER_SWA_DISABLE_JIT=1``, no
compiler on PATH and the toolchain lookup made to fail, the op's kernel for that model is resolved
from the wheel: found in the package's ``prebuilt`` dir, its sha256 verified, its module imported
(its SPEC_JSON checked) and its launcher called on an empty batch, which returns before touching a
GPU. Loading needs the HIP runtime library (``libamdhip64``, which a ROCm host has and the CI
toolchain installs); without it that one test skips with the reason.
"""

from __future__ import annotations

import ctypes.util
import json
import os
import site
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

from aiter_swa.ops.pa_v1.spec import PaV1Spec
from testlib.jit import CHECKOUT, JIT_ENV, copy_checkout, toolchain_problem, torch_blocker

# A tiny Mistral-style model: every layer windowed, head size 64, GQA 2, fp16.
CONFIG = {"model_type": "mistral", "hidden_size": 256, "num_attention_heads": 4, "num_key_value_heads": 2,
          "head_dim": 64, "num_hidden_layers": 2, "sliding_window": 1024, "dtype": "float16"}
SPECS = {d: PaV1Spec(d, d, d, 64, 2, True, False, False, "gfx942") for d in ("fp16", "bf16")}
WHEEL_TAG = f"cp{sys.version_info.major}{sys.version_info.minor}"


def _problem():
    if not (CHECKOUT / "setup.py").is_file():
        return "needs the source checkout (setup.py) to build a wheel"
    return toolchain_problem("gfx942")


pytestmark = [pytest.mark.toolchain, pytest.mark.skipif(_problem() is not None, reason=str(_problem()))]


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in JIT_ENV + ("AITER_SWA_PREBUILD_ARCHS", "PYTHONPATH") and not k.startswith("AITER_SWA_")}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _pip_wheel(src: Path, dist: Path, args: str, no_torch: Path, cache: Path):
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "--no-cache-dir",
         "-w", str(dist), "-v"],
        env=_env(AITER_SWA_PREBUILD_ARCHS="gfx942", AITER_SWA_PREBUILD_ARGS=args, PYTHONPATH=no_torch,
                 AITER_SWA_CACHE_DIR=cache, AITER_SWA_ROCM_DEVICE_LIB_PATH=os.environ.get(
                     "AITER_SWA_ROCM_DEVICE_LIB_PATH", "")),
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    (wheel,) = dist.glob("aiter_swa-*.whl")
    return wheel, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
    """Two wheels built from one source copy: A for the model in fp16 and bf16, then B in fp16 only."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = copy_checkout(tmp / "src")
    cfg = tmp / "config.json"
    cfg.write_text(json.dumps(CONFIG))
    no_torch = torch_blocker(tmp / "no_torch", "building the wheel must not import torch")
    cache = tmp / "unused-cache"
    a, log_a = _pip_wheel(src, tmp / "dist-a", f"--hf-config {cfg} --dtype fp16,bf16", no_torch, cache)
    b, log_b = _pip_wheel(src, tmp / "dist-b", f"--hf-config {cfg} --dtype fp16", no_torch, cache)
    assert not cache.exists(), "the pre-build wrote into the kernel cache"
    return {"a": a, "log_a": log_a, "b": b, "log_b": log_b, "config": cfg, "tmp": tmp}


def _prebuilt(wheel: Path) -> dict:
    with zipfile.ZipFile(wheel) as z:
        names = [n for n in z.namelist() if n.startswith("aiter_swa/prebuilt/")]
        m = json.loads(z.read("aiter_swa/prebuilt/manifest.json"))
    return {"files": sorted(n.rsplit("/", 1)[1] for n in names), "manifest": m}


def test_wheel_is_a_platform_wheel_with_the_models_kernels(wheels):
    a = wheels["a"]
    assert a.name.endswith(f"-{WHEEL_TAG}-{WHEEL_TAG}-linux_x86_64.whl"), a.name  # not py3-none-any
    got = _prebuilt(a)
    assert got["files"] == sorted(["manifest.json"] + [f"{s.name}.so" for s in SPECS.values()])
    assert set(got["manifest"]["kernels"]) == {s.to_json() for s in SPECS.values()}
    assert "mistral: 2 attention layers: 2 windowed (window 1024)" in wheels["log_a"]
    assert "aiter_swa.jit.prebuild [2/2] " in wheels["log_a"] and "ETA" in wheels["log_a"]  # progress lines
    with zipfile.ZipFile(a) as z:
        assert "aiter_swa/csrc/templates/pa_v1.cpp.jinja" in z.namelist()
        assert not [n for n in z.namelist() if "/.build-" in n], "no build leftovers"
        meta = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    assert "Requires-Dist: numpy" in meta and "Requires-Dist: torch" in meta


def test_a_second_build_reuses_kernels_and_keeps_only_its_selection(wheels):
    got = _prebuilt(wheels["b"])
    assert got["files"] == ["manifest.json", f"{SPECS['fp16'].name}.so"]
    assert list(got["manifest"]["kernels"]) == [SPECS["fp16"].to_json()]
    assert "(1 up to date, 0 to build)" in wheels["log_b"]
    assert "--prune removed 1 kernels that are not selected" in wheels["log_b"]


@pytest.fixture(scope="module")
def venv(wheels):
    """A fresh venv with wheel B installed (no dependencies from an index: torch and the rest come
    from this interpreter's site-packages through a .pth file, after the venv's own)."""
    root = wheels["tmp"] / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=300)
    py = root / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "-q",
                    str(wheels["b"])], check=True, timeout=300, env=_env())
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['platlib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    deps = [p for p in site.getsitepackages() + [sysconfig.get_paths()["platlib"]] if Path(p).is_dir()]
    (Path(purelib) / "_test_deps.pth").write_text("\n".join(dict.fromkeys(deps)) + "\n")
    return root, Path(purelib)


_RESOLVE = textwrap.dedent("""
    import json, sys
    from aiter_swa.jit import loader, manifest, toolchain
    from aiter_swa.jit.errors import JitDisabledError, ToolchainError

    calls = []

    def no_compiler(backend):  # as if no compiler were installed at all, and counted
        calls.append(backend)
        raise ToolchainError(f"no {backend} compiler (test)")

    toolchain.find_toolchain = loader.find_toolchain = no_compiler
    import aiter_swa
    from aiter_swa.ops.pa_v1 import models
    from aiter_swa.ops.pa_v1.spec import LAUNCH

    config = json.load(open(sys.argv[1]))
    specs = models.from_hf_config(config, archs=["gfx942"], dtypes=["fp16", "bf16"]).specs
    res = {"package": aiter_swa.__file__, "dirs": [str(d) for d in manifest.prebuilt_dirs()],
           "specs": [s.to_json() for s in specs]}
    have, missing = specs
    found = manifest.find(have, manifest.prebuilt_dirs()[0])  # the manifest entry, sha256 verified
    res["verified"] = None if found is None else str(found[0])
    if sys.argv[2] == "load":
        mod = loader.load_module(have)  # imports the module and checks its SPEC_JSON
        res["origin"] = [str(x) for x in loader.origin(have)]
        args = {p.name: 0.0 if p.kind == "float" else 0 for p in LAUNCH.params}
        res["launch"] = repr(mod.launch(**args))  # num_seqs == 0: returns before any GPU call
    res["compiler_lookups"] = list(calls)
    try:
        loader.load_module(missing)
    except JitDisabledError as e:
        res["missing_error"] = str(e)
    print(json.dumps(res))
""")


def _resolve(venv, wheels, mode: str):
    root, purelib = venv
    script = wheels["tmp"] / "resolve.py"
    script.write_text(_RESOLVE)
    home = wheels["tmp"] / f"home-{mode}"
    home.mkdir()
    cache = wheels["tmp"] / f"cache-{mode}"
    proc = subprocess.run(
        [str(root / "bin" / "python"), str(script), str(wheels["config"]), mode], cwd=home, capture_output=True,
        text=True, timeout=300,
        env=_env(PATH=root / "bin", HOME=home, AITER_SWA_DISABLE_JIT=1, AITER_SWA_CACHE_DIR=cache,
                 ROCM_PATH=home / "no-rocm", CUDA_HOME=home / "no-cuda"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert not cache.exists(), "the kernel cache was created"
    res = json.loads(proc.stdout.splitlines()[-1])
    assert res["package"].startswith(str(purelib)), res["package"]  # the wheel's copy, not the checkout
    return res, purelib / "aiter_swa" / "prebuilt"


def test_installed_wheel_resolves_the_kernel_without_a_compiler(venv, wheels):
    res, prebuilt = _resolve(venv, wheels, "find")
    assert res["dirs"] == [str(prebuilt)]
    assert res["specs"] == [SPECS["fp16"].to_json(), SPECS["bf16"].to_json()]
    assert res["verified"] == str(prebuilt / f"{SPECS['fp16'].name}.so")
    assert res["compiler_lookups"] == []
    # a kernel the wheel does not carry: the JIT is off, so a clear error with the pre-build command
    assert "is not pre-built and AITER_SWA_DISABLE_JIT=1 forbids compiling it" in res["missing_error"]
    assert "--q-dtype bf16" in res["missing_error"] and "--arch gfx942" in res["missing_error"]


@pytest.mark.skipif(ctypes.util.find_library("amdhip64") is None,
                    reason="no HIP runtime library (libamdhip64) to load a gfx942 kernel library with")
def test_installed_wheel_loads_the_kernel_and_calls_its_launcher(venv, wheels):
    res, prebuilt = _resolve(venv, wheels, "load")
    assert res["origin"] == ["prebuilt", str(prebuilt / f"{SPECS['fp16'].name}.so")]
    assert res["launch"] == "None"
    assert res["compiler_lookups"] == [], "loading a pre-built kernel looked for a compiler"
