"""``python -m aiter_swa.info`` (issue 11, item 4): the installation report for bug reports."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aiter_swa import info
from aiter_swa.jit import build, manifest, toolchain
from aiter_swa.jit._version import __version__
from aiter_swa.ops.pa_v1.spec import PaV1Spec
from testlib.jit import JIT_ENV

REPO = Path(__file__).resolve().parents[2]
SPEC = PaV1Spec("bf16", "bf16", "bf16", 128, 8, True, False, False, "gfx942")


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in JIT_ENV and not k.startswith("AITER_SWA_")}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _run(*args, **env):
    """``python -m aiter_swa.info ARGS`` in a subprocess with only ``env``'s aiter_swa variables."""
    proc = subprocess.run([sys.executable, "-m", "aiter_swa.info", *args], capture_output=True, text=True, timeout=300,
                          env=_env(**env))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _report(monkeypatch, **env):
    """``(text report, collected dict)`` in this process with only ``env``'s aiter_swa variables."""
    for name in list(os.environ):
        if name in JIT_ENV or name.startswith("AITER_SWA_"):
            monkeypatch.delenv(name)
    for k, v in env.items():
        monkeypatch.setenv(k, str(v))
    data = info.collect()
    json.dumps(data)  # serialisable, as --json prints it
    return info.format_report(data), data


def _artifact(spec, d: Path, source_hash=None):
    lib = d / f"{spec.name}.so"
    lib.write_bytes(b"not really a library")
    return build.Artifact(spec=spec.to_json(), name=spec.name, arch=spec.arch, file=lib.name,
                          sha256=build.file_sha256(lib), size=lib.stat().st_size,
                          source_hash=source_hash or build.spec_source_hash(spec), compiler="c", compiler_identity="c",
                          flags=[], resources={}, seconds=0.0)  # fmt: skip


@pytest.fixture
def layout(tmp_path):
    """A cache with two published entries, a failed build and a build in progress; two pre-built dirs,
    one current and one with kernels from other sources; nothing is compiled."""
    c = tmp_path / "cache"
    for name in (SPEC.name, "causal_conv1d_fp16_w4_silu_cl_gfx90a", "aiter_swa_fast_path_test"):
        entry = c / f"{name}-0123456789abcdef"
        entry.mkdir(parents=True)
        (entry / "complete.json").write_text("{}")
        (entry / f"{name}.so").write_bytes(b"x" * 1000)
    (c / f"{SPEC.name}-fedcba9876543210.failed").mkdir()
    (c / f".tmp-{SPEC.name}-fedcba9876543210-abc").mkdir()
    c.chmod(0o700)
    good, stale = tmp_path / "good", tmp_path / "stale"
    for d, h in ((good, None), (stale, "0" * 64)):
        d.mkdir()
        manifest.write_manifest(d, [_artifact(SPEC, d, h), _artifact(SPEC.__class__(**{**SPEC.__dict__, "arch": "gfx90a"}), d, h)])
    return tmp_path, c, good, stale


def test_report_counts_the_cache_and_prebuilt_dirs(layout, monkeypatch):
    tmp, c, good, stale = layout
    out, data = _report(monkeypatch, AITER_SWA_CACHE_DIR=c, AITER_SWA_PREBUILT_DIR=f"{good}:{stale}:{tmp / 'nothing'}")
    assert f"aiter_swa {__version__} (" in out
    assert f"kernel cache: the cache dir AITER_SWA_CACHE_DIR={c}: ok" in out
    assert ("2 kernels (causal_conv1d 1, pa_v1 1; gfx90a 1, gfx942 1), 1 host extension (the fast path), "
            "1 failed build kept, 1 build in progress") in out
    assert f"{good} (AITER_SWA_PREBUILT_DIR): 2 kernels (pa_v1 2; gfx90a 1, gfx942 1)" in out
    assert re.search(rf"{re.escape(str(good))} .*; ok$", out, re.M)
    assert f"{stale} (AITER_SWA_PREBUILT_DIR): 2 kernels" in out and "2 of 2 kernels built from other kernel sources" in out
    assert f"{tmp / 'nothing'} (AITER_SWA_PREBUILT_DIR): does not exist" in out
    assert f"AITER_SWA_PREBUILT_DIR={good}:{stale}" in out
    # sizes: the three 1000-byte libraries and three markers of 2 bytes; a host extension is not a kernel
    assert data["cache"]["bytes"] == 3006 and data["cache"]["files"] == 6
    assert data["cache"]["entries"] == 2 and data["cache"]["host_extensions"] == 1


def test_the_command_prints_the_report_and_json(layout):
    _tmp, c, good, _stale = layout
    text = _run(AITER_SWA_CACHE_DIR=c, AITER_SWA_PREBUILT_DIR=good)
    assert text.startswith(f"aiter_swa {__version__} (") and "toolchain:" in text and "environment:" in text
    assert f"{good} (AITER_SWA_PREBUILT_DIR): 2 kernels" in text
    data = json.loads(_run("--json", AITER_SWA_CACHE_DIR=c))
    # (a machine with a GPU build of torch also builds the fast path's extension into this cache: not a kernel)
    assert data["cache"]["entries"] == 2 and data["aiter_swa"]["version"] == __version__


def test_a_manifest_of_another_version_is_reported_as_ignored(layout, monkeypatch):
    _tmp, _c, good, _stale = layout
    m = json.loads((good / "manifest.json").read_text())
    m["package_version"] = "0.0.1"
    (good / "manifest.json").write_text(json.dumps(m))
    out, _ = _report(monkeypatch, AITER_SWA_PREBUILT_DIR=good)
    assert f"ignored: built for aiter_swa 0.0.1 / {toolchain.python_abi()}, this is {__version__}" in out


def test_report_is_read_only(tmp_path, monkeypatch):
    missing = tmp_path / "not" / "there"
    out, _ = _report(monkeypatch, AITER_SWA_CACHE_DIR=missing)
    assert "does not exist yet (created on the first compile)" in out
    assert not (tmp_path / "not").exists()


def test_environment_and_settings_in_effect(tmp_path, monkeypatch):
    out, _ = _report(monkeypatch, AITER_SWA_DISABLE_JIT=1, AITER_SWA_COMPILE_TIMEOUT="soon", AITER_SWA_MAX_JOBS=3,
                     AITER_SWA_ARCHS="gfx90a", AITER_SWA_DISABLE_JITT=1, AITER_SWA_CACHE_DIR=tmp_path / "c")
    assert "AITER_SWA_DISABLE_JIT=1" in out and "AITER_SWA_ARCHS=gfx90a" in out
    assert "warning: AITER_SWA_DISABLE_JITT is set but aiter_swa reads no such variable" in out
    assert "JIT disabled" in out and "max jobs 3" in out and "arch override ['gfx90a']" in out
    assert "compile timeout error: AITER_SWA_COMPILE_TIMEOUT: expected seconds" in out
    # the arch override decides which archs the toolchain section checks
    # (plus the archs of the GPUs present: none on CI; sm_90 on the H200 machine)
    _, data = _report(monkeypatch, AITER_SWA_ARCHS="gfx90a;sm_80")
    gpus = {b: [d["arch_used"] for d in data["torch"]["devices"] if toolchain.backend_of(d["arch_used"]) == b]
            for b in ("hip", "cuda")}
    assert data["toolchain"]["hip"]["archs_checked"] == list(dict.fromkeys(gpus["hip"] + ["gfx90a"]))
    assert data["toolchain"]["cuda"]["archs_checked"] == list(dict.fromkeys(gpus["cuda"] + ["sm_80"]))


def test_torch_backend_and_gpus_match_torch(monkeypatch):
    import torch

    _, data = _report(monkeypatch)
    t = data["torch"]
    assert t["version"] == torch.__version__ and t["gpu_available"] == torch.cuda.is_available()
    assert len(t["devices"]) == (torch.cuda.device_count() if torch.cuda.is_available() else 0)
    expected = "HIP" if getattr(torch.version, "hip", None) else "CUDA" if torch.version.cuda else "CPU only"
    assert t["backend"].startswith(expected)
    assert data["python"]["abi"] == toolchain.python_abi()
    assert set(data["ops"]) >= {"pa_v1", "causal_conv1d"}


def test_missing_compilers_are_reported_with_the_install_line(monkeypatch, tmp_path):
    monkeypatch.setattr(toolchain, "_which", lambda *names: None)
    monkeypatch.setattr(toolchain, "_TOOLCHAINS", {})
    for name in JIT_ENV + ("ROCM_PATH", "HIP_PATH", "CUDA_HOME", "CUDA_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ROCM_PATH", str(tmp_path / "no-rocm"))
    monkeypatch.setenv("CUDA_HOME", str(tmp_path / "no-cuda"))
    tc = info.toolchain_info([])
    for backend, what in (("hip", "no HIP compiler found"), ("cuda", "no CUDA compiler found")):
        assert tc[backend]["found"] is False and what in tc[backend]["missing"]
        assert tc[backend]["install"] == toolchain.INSTALL_HINTS[backend]
    assert "apt-get install clang-19 clang-tools-19 lld-19 llvm-19 libamdhip64-dev rocm-device-libs" in tc["hip"]["install"]
    report = info.format_report(dict(info.collect(), toolchain=tc))
    assert "  hip: missing: no HIP compiler found: " in report and "  cuda: missing: no CUDA compiler found: " in report


def test_the_readme_documents_exactly_the_variables_info_knows():
    readme = (REPO / "README.md").read_text()
    table = readme.split("### Environment variables", 1)[1].split("\n\n", 2)[1]
    documented = re.findall(r"^\| `(AITER_SWA_[A-Z_]+)` \|", table, re.M)
    assert documented == list(info.ENV_VARS)
    for name in info.TEST_ENV_VARS:
        assert name in readme
