"""Pre-built kernels: install-time pre-build into the package, and loading pre-built kernels without
compiling (proved with compilers that fail, and record it, if they are ever called).

One real compile (the JIT's self-test kernel for gfx942), done by ``pip install`` of a copy of this checkout with
``AITER_SWA_PREBUILD_ARCHS=gfx942`` while ``import torch`` is made to fail (the pre-build needs none).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from aiter_swa.jit import toolchain
from aiter_swa.jit.selftest import SmokeSpec
from testlib.jit import CHECKOUT, JIT_ENV, copy_checkout, toolchain_problem, torch_blocker

SMOKE = SmokeSpec("fp16", 64, True, "gfx942")
FILTER = "--op jit_smoke --dtype fp16 --size 64 --flag on"
JIT_ENV = JIT_ENV + ("AITER_SWA_PREBUILD_ARCHS", "PYTHONPATH")


def _hip_problem():
    if not (CHECKOUT / "setup.py").is_file():
        return "needs the source checkout (setup.py) to pip-install a copy"
    return toolchain_problem("gfx942")


pytestmark = [pytest.mark.toolchain, pytest.mark.skipif(_hip_problem() is not None, reason=str(_hip_problem()))]


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in JIT_ENV}
    env.update({k: str(v) for k, v in extra.items()})
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``AITER_SWA_PREBUILD_ARCHS=gfx942 pip install <copy of the checkout> --target SITE`` (1 kernel)."""
    tmp = tmp_path_factory.mktemp("install")
    src = copy_checkout(tmp / "src")
    no_torch = torch_blocker(tmp / "no_torch", "the pre-build must not import torch")
    site = tmp / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", str(src), "--no-build-isolation", "--no-deps", "--no-cache-dir",
         "--target", str(site), "-v"],
        env=_env(AITER_SWA_PREBUILD_ARCHS="gfx942", AITER_SWA_PREBUILD_ARGS=FILTER, PYTHONPATH=no_torch,
                 AITER_SWA_CACHE_DIR=tmp / "unused-cache"),
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return site


def _failing_compiler(path: Path, called: Path) -> Path:
    path.write_text(f"#!/bin/sh\necho \"$0 $*\" >> {called}\nexit 1\n")
    path.chmod(0o755)
    return path


def _load_in_site(site: Path, tmp_path: Path, **env):
    """Load SMOKE in a fresh process that imports the installed package; return (origin, compiler calls)."""
    called = tmp_path / "compiler-called"
    fail = _failing_compiler(tmp_path / "failcc", called)
    code = textwrap.dedent(f"""
        import json, aiter_swa
        assert aiter_swa.__file__.startswith({str(site)!r}), aiter_swa.__file__
        from aiter_swa.jit import loader
        from aiter_swa.jit.registry import spec_from_json
        spec = spec_from_json({SMOKE.to_json()!r})
        launch = loader.get_launcher(spec)
        assert launch(0, 0, 0, 1.0, 0) is None
        kind, path = loader.origin(spec)
        print(json.dumps({{"origin": kind, "path": str(path)}}))
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=_env(PYTHONPATH=site, AITER_SWA_HIPCC=fail, AITER_SWA_NVCC=fail,
                                   AITER_SWA_CACHE_DIR=tmp_path / "empty-cache", **env))
    calls = called.read_text() if called.exists() else ""
    return proc, calls


def test_install_time_prebuild_puts_kernels_in_the_package(installed):
    pre = installed / "aiter_swa" / "prebuilt"
    m = json.loads((pre / "manifest.json").read_text())
    (rec,) = m["kernels"].values()
    assert rec["name"] == SMOKE.name and (pre / rec["file"]).is_file()
    assert m["python_abi"] == toolchain.python_abi()
    assert rec["resources"], "the manifest records the kernel's resources"
    assert not list(pre.glob(".build-*")), "no build leftovers are installed"
    assert (installed / "aiter_swa" / "csrc" / "templates" / "pa_v1.cpp.jinja").is_file()


def test_package_prebuilt_dir_is_used_without_compiling(installed, tmp_path):
    proc, calls = _load_in_site(installed, tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.splitlines()[-1])
    assert out["origin"] == "prebuilt" and out["path"].startswith(str(installed / "aiter_swa" / "prebuilt"))
    assert calls == "", f"a compiler was called: {calls}"


def test_env_prebuilt_dir_is_used_without_compiling(installed, tmp_path):
    own = installed / "aiter_swa" / "prebuilt"
    elsewhere = tmp_path / "kernels"
    shutil.copytree(own, elsewhere)
    hidden = own.with_name("prebuilt.hidden")
    own.rename(hidden)  # only $AITER_SWA_PREBUILT_DIR can provide it now
    try:
        proc, calls = _load_in_site(installed, tmp_path, AITER_SWA_PREBUILT_DIR=elsewhere, AITER_SWA_DISABLE_JIT=1)
    finally:
        hidden.rename(own)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.splitlines()[-1])
    assert out["origin"] == "prebuilt" and out["path"].startswith(str(elsewhere))
    assert calls == "", f"a compiler was called: {calls}"


def test_stale_prebuilt_kernel_is_ignored_with_a_warning(installed, tmp_path):
    stale = tmp_path / "stale"
    shutil.copytree(installed / "aiter_swa" / "prebuilt", stale)
    m = json.loads((stale / "manifest.json").read_text())
    for rec in m["kernels"].values():
        rec["source_hash"] = "0" * 64  # as if built from other headers
    (stale / "manifest.json").write_text(json.dumps(m))
    own = installed / "aiter_swa" / "prebuilt"
    hidden = own.with_name("prebuilt.hidden")
    own.rename(hidden)
    try:
        proc, calls = _load_in_site(installed, tmp_path, AITER_SWA_PREBUILT_DIR=stale, AITER_SWA_DISABLE_JIT=1)
    finally:
        hidden.rename(own)
    assert proc.returncode != 0
    assert "other kernel sources" in proc.stderr and "JitDisabledError" in proc.stderr
    assert "python -m aiter_swa.jit.prebuild --op jit_smoke --arch gfx942" in proc.stderr
