"""JIT tests (CPU only): cache key, rendering, locking, crash recovery, corruption, directory safety,
AITER_SWA_DISABLE_JIT, resource parsing.

Tests marked ``toolchain`` compile the JIT's self-test kernel (op ``jit_smoke``, csrc/templates/smoke.cpp.jinja) with the
real gfx942 compiler (clang++-19 or ROCm); they skip with a reason when it is absent.
Subprocesses import ``aiter_swa.jit`` without executing ``aiter_swa/__init__.py`` (no torch), as the
install-time pre-build does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from unittest import mock

import pytest

from aiter_swa.jit import cache, loader, paths, prebuild, resources, toolchain
from aiter_swa.jit.build import file_sha256
from aiter_swa.jit.errors import (
    CorruptArtifactError,
    JitDisabledError,
    JitWarning,
    TemplateRenderError,
    UnsafeDirectoryError,
)
from aiter_swa.jit.render import render
from aiter_swa.jit.selftest import SmokeSpec
from aiter_swa.ops.pa_v1.spec import PaV1Spec
from testlib.jit import JIT_ENV, toolchain_problem

SMOKE = SmokeSpec("fp16", 64, False, "gfx942")
PA_SPEC = PaV1Spec("bf16", "bf16", "bf16", 128, 32, 8, True, False, True, "gfx942")

# Imports aiter_swa.jit from this checkout/install without running aiter_swa/__init__.py (torch).
BOOT = textwrap.dedent(f"""
    import importlib.util, sys, types
    _pkg = types.ModuleType("aiter_swa"); _pkg.__path__ = [{str(paths.package_dir())!r}]
    sys.modules["aiter_swa"] = _pkg
    _s = importlib.util.spec_from_file_location("aiter_swa.jit", {str(paths.JIT_DIR / "__init__.py")!r},
                                                submodule_search_locations=[{str(paths.JIT_DIR)!r}])
    _m = importlib.util.module_from_spec(_s); sys.modules["aiter_swa.jit"] = _m; _s.loader.exec_module(_m)
""")

needs_hip = pytest.mark.skipif(toolchain_problem("gfx942") is not None, reason=str(toolchain_problem("gfx942")))


def gpu_visible(backend: str) -> bool:
    """A GPU of this backend is visible: launching with dummy pointers would really run."""
    try:
        import torch
    except ImportError:
        return False
    if not torch.cuda.is_available():
        return False
    return backend == ("hip" if getattr(torch.version, "hip", None) else "cuda")


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Every test gets its own cache root and a clean JIT environment and loader."""
    for name in JIT_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AITER_SWA_CACHE_DIR", str(tmp_path / "cache"))
    loader._reset_for_tests()
    yield
    loader._reset_for_tests()


def _real_hip_compiler() -> str:
    return toolchain.find_toolchain("hip").compiler


def write_wrapper(path: Path, body: str = "") -> Path:
    """A compiler wrapper around the real HIP compiler: counts compiles in $AITER_TEST_COMPILE_LOG,
    runs ``body`` (shell) before compiling; ``--version`` passes straight through."""
    path.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        if [ "$1" = "--version" ]; then exec {shlex.quote(_real_hip_compiler())} "$@"; fi
        echo compile >> "$AITER_TEST_COMPILE_LOG"
        {body}
        exec {shlex.quote(_real_hip_compiler())} "$@"
    """))
    path.chmod(0o755)
    return path


def child_script(path: Path, spec, wait_for: Path | None = None, ready: Path | None = None) -> Path:
    """A python script that loads ``spec`` (optionally after a start signal) and prints its origin."""
    path.write_text(BOOT + textwrap.dedent(f"""
        import json, os, time
        from aiter_swa.jit import loader
        from aiter_swa.jit.registry import spec_from_json
        spec = spec_from_json({spec.to_json()!r})
        ready, go = {str(ready) if ready else None!r}, {str(wait_for) if wait_for else None!r}
        if ready:
            open(ready, "w").close()
        while go and not os.path.exists(go):
            time.sleep(0.005)
        launch = loader.get_launcher(spec)
        assert launch(0, 0, 0, 1.0, 0) is None  # n == 0: returns before touching the runtime
        assert "torch" not in sys.modules, "aiter_swa.jit imported torch"
        print(json.dumps({{"origin": loader.origin(spec)[0]}}))
    """))
    return path


def child_env(root: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in JIT_ENV}
    env["AITER_SWA_CACHE_DIR"] = str(root)
    env.update({k: str(v) for k, v in extra.items()})
    return env


# --------------------------------------------------------------------------- cache key


def _fake_toolchain(tmp_path: Path, version: str = "fakecc 1.0", name: str = "fakecc", **kw) -> toolchain.Toolchain:
    exe = tmp_path / name
    exe.write_text(f"#!/bin/sh\necho {shlex.quote(version)}\n")
    exe.chmod(0o755)
    args = dict(backend="hip", kind="clang", compiler=str(exe), rocm_path="/usr", device_lib_path=None)
    args.update(kw)
    return toolchain.Toolchain(**args)


@pytest.fixture
def csrc_copy(tmp_path):
    dst = tmp_path / "csrc"
    shutil.copytree(paths.csrc_root(), dst)
    return dst


def test_key_is_stable_across_processes(tmp_path, csrc_copy):
    tc = _fake_toolchain(tmp_path)
    here = cache.cache_key(SMOKE, tc, csrc_copy)
    code = BOOT + textwrap.dedent(f"""
        from aiter_swa.jit import cache, toolchain
        from aiter_swa.jit.registry import spec_from_json
        tc = toolchain.Toolchain(backend="hip", kind="clang", compiler={tc.compiler!r}, rocm_path="/usr")
        print(cache.cache_key(spec_from_json({SMOKE.to_json()!r}), tc, {str(csrc_copy)!r}))
    """)
    keys = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
            for _ in range(2)}
    assert keys == {here}
    assert len(here) == 64 and cache.entry_dir("/r", SMOKE, here).name == f"{SMOKE.name}-{here[:16]}"


@pytest.mark.parametrize("field,value", [("dtype", "bf16"), ("size", 128), ("flag", True), ("arch", "gfx90a")])
def test_key_changes_with_each_spec_field(tmp_path, csrc_copy, field, value):
    tc = _fake_toolchain(tmp_path)
    changed = dataclasses.replace(SMOKE, **{field: value})
    assert changed != SMOKE
    assert cache.cache_key(changed, tc, csrc_copy) != cache.cache_key(SMOKE, tc, csrc_copy)


def _flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("what", ["template", "header", "new_header"])
def test_key_changes_with_any_source_byte(tmp_path, csrc_copy, what):
    tc = _fake_toolchain(tmp_path)
    before = cache.cache_key(SMOKE, tc, csrc_copy)
    if what == "template":
        _flip_last_byte(csrc_copy / "templates" / SMOKE.template)
    elif what == "header":
        headers = sorted((csrc_copy / "include").rglob("*.h"))
        assert headers, "csrc/include has no headers"
        _flip_last_byte(headers[0])
    else:
        (csrc_copy / "include" / "aiter_swa" / "zz_new.h").write_text("#pragma once\n")
    assert cache.cache_key(SMOKE, tc, csrc_copy) != before


def test_key_changes_with_compiler_flags_identity_version_and_abi(tmp_path, csrc_copy, monkeypatch):
    tc = _fake_toolchain(tmp_path)
    base = cache.cache_key(SMOKE, tc, csrc_copy)
    # a flag: another device-library dir, another driver style
    assert cache.cache_key(SMOKE, _fake_toolchain(tmp_path, device_lib_path="/elsewhere"), csrc_copy) != base
    assert cache.cache_key(SMOKE, _fake_toolchain(tmp_path, rocm_path="/opt/rocm"), csrc_copy) != base
    # the compiler identity (--version output)
    assert cache.cache_key(SMOKE, _fake_toolchain(tmp_path, "fakecc 2.0", "fakecc2"), csrc_copy) != base
    # package version and Python ABI
    with monkeypatch.context() as m:
        m.setattr(cache, "__version__", "9.9.9")
        assert cache.cache_key(SMOKE, tc, csrc_copy) != base
    with monkeypatch.context() as m:
        m.setattr(cache, "python_abi", lambda: ".cpython-399-x.so")
        assert cache.cache_key(SMOKE, tc, csrc_copy) != base
    assert cache.cache_key(SMOKE, tc, csrc_copy) == base


def test_hip_flags_follow_design():
    tc = toolchain.Toolchain("hip", "clang", "/usr/bin/clang++-19", "/usr", "/opt/devlibs", ("/usr/lib/llvm-19/bin",))
    f = tc.flags("gfx942")
    for flag in ("-x", "hip", "--offload-arch=gfx942", "--rocm-path=/usr", "--rocm-device-lib-path=/opt/devlibs",
                 "-O3", "-std=c++17", "-fPIC", "-shared", "-Rpass-analysis=kernel-resource-usage"):
        assert flag in f
    nv = toolchain.Toolchain("cuda", "nvcc", "nvcc").flags("sm_90")
    for flag in ("-x", "cu", "-gencode=arch=compute_90,code=sm_90", "-O3", "-std=c++17", "-fPIC", "-shared", "-v"):
        assert flag in nv
    assert "/usr/lib/llvm-19/bin" in tc.shell_command("gfx942", "a.cpp", "a.so", ["/inc"])


def test_device_arch_env_override(monkeypatch):
    monkeypatch.setattr(toolchain, "_ARCH_BY_DEVICE", {})
    monkeypatch.setenv("AITER_SWA_ARCHS", "gfx942;gfx90a")
    assert [toolchain.device_arch(i) for i in (0, 1, 5)] == ["gfx942", "gfx90a", "gfx90a"]
    monkeypatch.setattr(toolchain, "_ARCH_BY_DEVICE", {})
    monkeypatch.setenv("AITER_SWA_ARCHS", "sm_90")
    assert toolchain.device_arch(3) == "sm_90"
    assert toolchain.backend_of("gfx942") == "hip" and toolchain.backend_of("sm_90") == "cuda"


# --------------------------------------------------------------------------- rendering


def test_missing_template_variable_raises_naming_it(csrc_copy):
    (csrc_copy / "templates" / "broken.cpp.jinja").write_text("int x = {{ size }} + {{ no_such_variable }};\n")

    @dataclasses.dataclass(frozen=True)
    class BrokenSpec(SmokeSpec):
        template = "broken.cpp.jinja"

    with pytest.raises(TemplateRenderError, match="no_such_variable"):
        render(BrokenSpec("fp16", 64, False, "gfx942"), csrc_copy)


def test_missing_spec_variable_in_real_templates_raises(csrc_copy, monkeypatch):
    """Dropping any variable that the real templates use makes rendering fail and names it."""
    cases = {SMOKE: ("size", "flag", "module_name", "spec_json", "wavefront_size"),
             PA_SPEC: ("head_size", "kv_type", "module_name", "spec_json", "wavefront_size", "launch_params")}
    for spec, used in cases.items():
        text = render(spec, csrc_copy)
        assert spec.name in text and spec.to_json() in text
        for var in used:
            full = spec.template_vars()
            full.pop(var)
            with monkeypatch.context() as m:
                m.setattr(type(spec), "template_vars", lambda self, full=full: dict(full))
                with pytest.raises(TemplateRenderError, match=var):
                    render(spec, csrc_copy)


# --------------------------------------------------------------------------- AITER_SWA_DISABLE_JIT


def test_disable_jit_error_names_the_prebuild_command(monkeypatch, capsys):
    monkeypatch.setenv("AITER_SWA_DISABLE_JIT", "1")
    spec = PA_SPEC
    with pytest.raises(JitDisabledError) as ei:
        loader.get_launcher(spec)
    msg = str(ei.value)
    assert "AITER_SWA_DISABLE_JIT" in msg and "python -m aiter_swa.jit.prebuild" in msg
    cmd = next(line.strip() for line in msg.splitlines() if "python -m aiter_swa.jit.prebuild" in line)
    # the command selects exactly this spec
    argv = shlex.split(cmd)[3:]
    assert prebuild.main(argv + ["--list"]) == 0
    assert capsys.readouterr().out.split() == [spec.name]


# --------------------------------------------------------------------------- resource parsing

AMD_LOG = """\
k.h:1:1: remark: Function Name: _ZN9aiter_swa22pa_v1_partition_kernelINS_6PaSpecEEEvNS_8PaParamsE [-Rpass-analysis=kernel-resource-usage]
k.h:1:1: remark:     SGPRs: 79 [-Rpass-analysis=kernel-resource-usage]
k.h:1:1: remark:     VGPRs: 132 [-Rpass-analysis=kernel-resource-usage]
k.h:1:1: remark:     AGPRs: 0 [-Rpass-analysis=kernel-resource-usage]
k.h:1:1: remark:     ScratchSize [bytes/lane]: {scratch} [-Rpass-analysis=kernel-resource-usage]
k.h:1:1: remark:     Dynamic Stack: False [-Rpass-analysis=kernel-resource-usage]
k.h:1:1: remark:     Occupancy [waves/SIMD]: 3 [-Rpass-analysis=kernel-resource-usage]
k.h:1:1: remark:     SGPRs Spill: 0 [-Rpass-analysis=kernel-resource-usage]
k.h:1:1: remark:     VGPRs Spill: {spill} [-Rpass-analysis=kernel-resource-usage]
k.h:1:1: remark:     LDS Size [bytes/block]: 8496 [-Rpass-analysis=kernel-resource-usage]
"""
NV_LOG = """\
ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function '_ZN9aiter_swa19pa_v1_reduce_kernelINS_6PaSpecEEEvNS_8PaParamsE' for 'sm_90'
ptxas info    : Function properties for _ZN9aiter_swa19pa_v1_reduce_kernelINS_6PaSpecEEEvNS_8PaParamsE
    {stack} bytes stack frame, {spill} bytes spill stores, {spill} bytes spill loads
ptxas info    : Used 32 registers, used 1 barriers, 8612 bytes smem
"""


def test_parse_amd_resources():
    res = resources.parse_resources(AMD_LOG.format(scratch=0, spill=0), "hip")
    (name, r), = res.items()
    assert resources.short_name(name) == "pa_v1_partition_kernel"
    assert r == dict(sgpr=79, vgpr=132, agpr=0, scratch=0, dynamic_stack=False, occupancy=3, sgpr_spill=0,
                     vgpr_spill=0, lds=8496)
    assert resources.spill_problems(res, "hip") == []
    bad = resources.parse_resources(AMD_LOG.format(scratch=16, spill=4), "hip")
    assert len(resources.spill_problems(bad, "hip")) == 2
    assert "pa_v1_partition_kernel" in resources.format_table([("spec_a", "hip", res)])


def test_parse_nvidia_resources():
    res = resources.parse_resources(NV_LOG.format(stack=0, spill=0), "cuda")
    (r,) = res.values()
    assert r == dict(registers=32, smem=8612, stack=0, spill_stores=0, spill_loads=0)
    assert resources.spill_problems(res, "cuda") == []
    assert resources.spill_problems(resources.parse_resources(NV_LOG.format(stack=8, spill=8), "cuda"), "cuda")
    assert resources.spill_problems({}, "cuda") == ["no kernel resource report found in the compile log"]


# --------------------------------------------------------------------------- pre-build failures


def test_prebuild_exits_nonzero_when_a_kernel_fails(tmp_path, capfd, monkeypatch):
    bad = tmp_path / "badcc"
    bad.write_text('#!/bin/sh\nif [ "$1" = "--version" ]; then echo badcc 1.0; exit 0; fi\n'
                   'echo "error: this compiler always fails" >&2; exit 1\n')
    bad.chmod(0o755)
    monkeypatch.setenv("AITER_SWA_HIPCC", str(bad))
    monkeypatch.setenv("AITER_SWA_ROCM_DEVICE_LIB_PATH", str(tmp_path))  # check_arch wants the gfx942 file
    (tmp_path / "oclc_isa_version_942.bc").write_bytes(b"")
    out = tmp_path / "pb"
    rc = prebuild.main(["--op", "jit_smoke", "--arch", "gfx942", "--dtype", "fp16", "--size", "64", "--flag", "both",
                        "--jobs", "2", "--out", str(out)])
    cap = capfd.readouterr()
    assert rc == 1
    assert "0/2 kernels ready" in cap.out
    assert cap.err.count("FAILED:") == 2 and "always fails" in cap.out + cap.err
    assert not (out / "manifest.json").exists()


def test_prebuild_rejects_unsupported_values(capsys):
    with pytest.raises(SystemExit):
        prebuild.main(["--arch", "gfx942", "--head-size", "100", "--out", "/nonexistent"])
    assert "head_size: 100 not supported by op pa_v1 (supported: 64, 80" in capsys.readouterr().err


def test_prebuild_full_matrix_size(capsys):
    from aiter_swa.ops.pa_v1 import spec as cfg

    assert prebuild.main(["--arch", "gfx942", "--arch", "sm_90", "--list"]) == 0
    names = capsys.readouterr().out.split()
    # one element type for query, KV cache and output: len(GPU_DTYPES) combinations, not its cube
    per_arch = (len(cfg.GPU_DTYPES) * len(cfg.SUPPORTED_HEAD_SIZES) * len(cfg.SUPPORTED_BLOCK_SIZES)
                * len(cfg.GQA_BUCKETS) * 8)
    assert all(n.startswith("pa_v1_") for n in names), "the default pre-build is the library's ops only"
    assert len(names) == len(set(names)) == 2 * per_arch


# --------------------------------------------------------------------------- real compiles (smoke kernel)


@pytest.fixture(scope="module")
def seed_cache(tmp_path_factory):
    """A cache root holding one built smoke entry (compiled once for the module)."""
    if toolchain_problem("gfx942"):
        pytest.skip(toolchain_problem("gfx942"))
    root = tmp_path_factory.mktemp("seed") / "cache"
    with mock.patch.dict(os.environ, {"AITER_SWA_CACHE_DIR": str(root)}):
        loader._reset_for_tests()
        loader.get_launcher(SMOKE)
        kind, so = loader.origin(SMOKE)
        loader._reset_for_tests()
    assert kind == "compiled"
    return root, so.parent


def _copy_seed(seed_cache, dst: Path):
    root, entry = seed_cache
    shutil.copytree(root, dst, symlinks=True)
    return dst / entry.name


@needs_hip
@pytest.mark.toolchain
def test_jit_compiles_caches_and_logs(tmp_path, monkeypatch, caplog):
    import logging

    root = tmp_path / "cache"
    with caplog.at_level(logging.INFO, logger="aiter_swa.jit"):
        launch = loader.get_launcher(SMOKE)
    assert loader.get_launcher(SMOKE) is launch  # in-process dict
    kind, so = loader.origin(SMOKE)
    assert kind == "compiled" and so.parent.parent == root
    lines = [r.getMessage() for r in caplog.records if r.name == "aiter_swa.jit"]
    assert len(lines) == 1 and SMOKE.name in lines[0] and "gfx942" in lines[0] and str(so.parent) in lines[0]
    assert stat.S_IMODE(root.stat().st_mode) == 0o700 and stat.S_IMODE(so.parent.stat().st_mode) == 0o700
    marker = json.loads((so.parent / cache.MARKER).read_text())
    assert marker["artifact"]["spec"] == SMOKE.to_json() and so.parent.name.endswith(marker["key"][:16])
    assert marker["artifact"]["file"] == so.name and marker["artifact"]["seconds"] > 0
    assert loader.load_module(SMOKE).SPEC_JSON == SMOKE.to_json()
    assert resources.spill_problems(loader.resources(SMOKE), "hip") == []
    assert launch(0, 0, 0, 1.0, 0) is None
    if not gpu_visible("hip"):
        with pytest.raises(RuntimeError, match="hipError|no ROCm|device"):
            launch(0, 0, 1, 1.0, 0)
    # a fresh process loads it from the cache without compiling
    out = subprocess.run([sys.executable, str(child_script(tmp_path / "c.py", SMOKE))], env=child_env(root),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1]) == {"origin": "cache"}


@needs_hip
@pytest.mark.toolchain
@pytest.mark.parametrize("damage", ["truncated_library", "missing_marker", "garbage_library"])
def test_corrupt_artifact_is_rebuilt_with_a_warning(seed_cache, tmp_path, monkeypatch, damage):
    entry = _copy_seed(seed_cache, tmp_path / "cache")
    so = next(entry.glob("*.so"))
    if damage == "truncated_library":
        so.write_bytes(so.read_bytes()[: so.stat().st_size // 2])
    elif damage == "missing_marker":
        (entry / cache.MARKER).unlink()
    else:  # same size, marker updated to match: only the import can tell
        so.write_bytes(b"\0" * so.stat().st_size)
        info = json.loads((entry / cache.MARKER).read_text())
        info["artifact"]["sha256"] = file_sha256(so)
        (entry / cache.MARKER).write_text(json.dumps(info))
    with pytest.warns(JitWarning, match="corrupt"):
        launch = loader.get_launcher(SMOKE)
    assert loader.origin(SMOKE)[0] == "compiled"
    assert launch(0, 0, 0, 1.0, 0) is None
    assert cache.read_entry(entry, SMOKE, json.loads((entry / cache.MARKER).read_text())["key"]) is not None


@needs_hip
@pytest.mark.toolchain
def test_read_entry_detects_damage(seed_cache, tmp_path):
    root, good = seed_cache
    entry = _copy_seed(seed_cache, tmp_path / "cache")
    key = json.loads((entry / cache.MARKER).read_text())["key"]
    assert cache.read_entry(entry, SMOKE, key).so_path.name == next(good.glob("*.so")).name
    with pytest.raises(CorruptArtifactError, match="another spec or key"):
        cache.read_entry(entry, SMOKE, "0" * 64)
    (entry / cache.MARKER).write_text("{not json")
    with pytest.raises(CorruptArtifactError, match="unreadable"):
        cache.read_entry(entry, SMOKE, key)
    assert cache.read_entry(tmp_path / "absent", SMOKE, key) is None


@needs_hip
@pytest.mark.toolchain
@pytest.mark.parametrize("where", ["root", "entry", "library", "owner"])
def test_cache_dir_writable_by_others_is_refused(seed_cache, tmp_path, where):
    root = tmp_path / "cache"
    entry = _copy_seed(seed_cache, root)
    target = {"root": root, "entry": entry, "library": next(entry.glob("*.so")), "owner": entry}[where]
    if where == "owner":
        if os.getuid() != 0:
            pytest.skip("changing a directory's owner needs root")
        os.chown(target, 65534, 65534)
        expected = "owned by uid 65534"
    else:
        target.chmod(stat.S_IMODE(target.stat().st_mode) | stat.S_IWGRP | stat.S_IWOTH)
        expected = "writable by group and others"
    with pytest.raises(UnsafeDirectoryError, match=expected) as ei:
        loader.get_launcher(SMOKE)
    assert str(target) in str(ei.value)


@needs_hip
@pytest.mark.toolchain
def test_eight_processes_one_compile(tmp_path):
    root = tmp_path / "cache"
    count = tmp_path / "compiles.log"
    cc = write_wrapper(tmp_path / "counting-clang")
    go = tmp_path / "go"
    env = child_env(root, AITER_SWA_HIPCC=cc, AITER_TEST_COMPILE_LOG=count)
    procs = []
    for i in range(8):
        script = child_script(tmp_path / f"child{i}.py", SMOKE, wait_for=go, ready=tmp_path / f"ready{i}")
        procs.append(subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready{i}").exists() for i in range(8)):
        assert time.monotonic() < deadline, "children did not start"
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs if p.poll() is not None]
        time.sleep(0.02)
    go.touch()  # all 8 ask for the same uncached spec at the same moment
    origins = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        origins.append(json.loads(out.splitlines()[-1])["origin"])
    assert count.read_text().split() == ["compile"], "expected exactly one compile"
    assert sorted(origins) == ["cache"] * 7 + ["compiled"]
    assert not list(root.glob(".tmp-*"))


@needs_hip
@pytest.mark.toolchain
def test_builder_killed_by_sigkill_mid_compile(tmp_path):
    root = tmp_path / "cache"
    count = tmp_path / "compiles.log"
    started = tmp_path / "compiler-started"
    cc = write_wrapper(tmp_path / "hanging-clang",
                       body='if [ -n "$AITER_TEST_HANG" ]; then echo $$ > "$AITER_TEST_HANG"; exec sleep 600; fi')
    script = child_script(tmp_path / "child.py", SMOKE)
    env = child_env(root, AITER_SWA_HIPCC=cc, AITER_TEST_COMPILE_LOG=count)
    victim = subprocess.Popen([sys.executable, str(script)], env={**env, "AITER_TEST_HANG": str(started)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not started.exists():
            assert victim.poll() is None and time.monotonic() < deadline, "the builder did not start compiling"
            time.sleep(0.02)
        assert list(root.glob(".tmp-*")), "expected a build in progress"
        os.kill(victim.pid, signal.SIGKILL)  # the builder dies holding the lock, mid-compile
        victim.wait(timeout=30)
        t0 = time.monotonic()
        out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=240)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout.splitlines()[-1]) == {"origin": "compiled"}
        assert time.monotonic() - t0 < 200
        assert count.read_text().split() == ["compile", "compile"]
        assert not list(root.glob(".tmp-*")), "the dead builder's temp dir should have been removed"
        assert list(root.glob("*.lock")), "the lock file stays; it is not stale (the OS released the lock)"
    finally:
        # The killed builder's orphans: ninja, in the builder's session, and the hanging compiler,
        # which ninja started in a process group of its own and which wrote its pid.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(victim.pid, signal.SIGKILL)
        if started.exists() and started.read_text().strip():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(started.read_text()), signal.SIGKILL)


def test_build_failure_raises_jit_build_error(tmp_path, monkeypatch):
    bad = tmp_path / "badcc"
    bad.write_text('#!/bin/sh\nif [ "$1" = "--version" ]; then echo badcc 1.0; exit 0; fi\n'
                   'echo "error: this compiler always fails" >&2; exit 1\n')
    bad.chmod(0o755)
    (tmp_path / "oclc_isa_version_942.bc").write_bytes(b"")
    monkeypatch.setenv("AITER_SWA_HIPCC", str(bad))
    monkeypatch.setenv("AITER_SWA_ROCM_DEVICE_LIB_PATH", str(tmp_path))
    from aiter_swa.jit.errors import JitBuildError

    with pytest.raises(JitBuildError) as ei:
        loader.get_launcher(SMOKE)
    e = ei.value
    assert e.spec == SMOKE and Path(e.build_dir).name.endswith(".failed")
    assert "always fails" in Path(e.log_path).read_text() and "always fails" in e.log_tail
    assert str(bad) in e.command and str(e.build_dir) in str(e)
    rerun = subprocess.run(e.command, shell=True, capture_output=True, text=True)
    assert rerun.returncode != 0 and "always fails" in rerun.stderr  # the command reproduces the failure
    assert not list((tmp_path / "cache").glob(".tmp-*"))
