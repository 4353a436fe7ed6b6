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

from aiter_swa.jit import cache, loader, paths, prebuild, registry, resources, toolchain
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
from testlib.jit import JIT_ENV, reachable_dir, toolchain_problem

SMOKE = SmokeSpec("fp16", 64, False, "gfx942")
PA_SPEC = PaV1Spec("bf16", "bf16", "bf16", 128, 8, True, False, True, "gfx942")

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


def test_key_changes_with_a_rendered_value(tmp_path, csrc_copy, monkeypatch):
    """A value the template is rendered with that no spec field carries (an op's tuning constant: here pa_v1's
    smallest partition, which its launcher renders into the split) changes the key, so a cached kernel of the old
    value is not loaded for the new one (a pre-built one neither: the manifest's source_hash is the same hash)."""
    from aiter_swa.ops.pa_v1 import spec as pa_spec

    tc = _fake_toolchain(tmp_path)
    s = pa_spec.PaV1Spec(q_dtype="bf16", kv_dtype="bf16", out_dtype="bf16", head_size=128, gqa=1, sliding_window=True,
                         soft_cap=False, alibi=False, arch="gfx942", mma_rows=16)
    base = cache.cache_key(s, tc, csrc_copy)
    monkeypatch.setattr(pa_spec, "MMA_MIN_PARTITION_KEYS", pa_spec.MMA_MIN_PARTITION_KEYS * 2)
    assert cache.cache_key(s, tc, csrc_copy) != base
    monkeypatch.undo()
    assert cache.cache_key(s, tc, csrc_copy) == base


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
    assert "head_size: 100 not supported by op pa_v1 (supported: 32, 64, 80" in capsys.readouterr().err


def test_prebuild_full_matrix_size(capsys):
    from aiter_swa.ops.pa_v1 import spec as cfg

    assert prebuild.main(["--arch", "gfx942", "--arch", "sm_90", "--list"]) == 0
    names = capsys.readouterr().out.split()
    # query == output dtype; KV: the query's dtype or the arch's one fp8 format (by default); the
    # vector kernel per GQA bucket, the matrix-core kernel per row bucket that fits the head size
    flavours = len(cfg.GPU_DTYPES) * 2 * 8
    mma_buckets = sum(cfg.mma_rows_fit(hs, r) for hs in cfg.SUPPORTED_HEAD_SIZES for r in cfg.MMA_ROWS)
    per_arch = flavours * (len(cfg.SUPPORTED_HEAD_SIZES) * len(cfg.GQA_BUCKETS) + mma_buckets)
    library_ops = registry.ops()  # the catalogue's ops, not the JIT's internal self-test op
    assert "jit_smoke" not in library_ops
    assert sum(n.startswith("pa_v1_") for n in names) == 2 * per_arch
    # every other op contributes its own whole matrix, for both archs
    others = sum(len(op.matrix(["gfx942", "sm_90"])) for name, op in library_ops.items() if name != "pa_v1")
    assert len(names) == len(set(names)) == 2 * per_arch + others
    assert not any(n.startswith("jit_smoke") for n in names)


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


@pytest.fixture
def reachable():
    """A directory that other users can reach (see testlib.jit.reachable_dir)."""
    with reachable_dir() as d:
        yield d


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
def test_cache_dir_writable_by_others_is_refused(seed_cache, reachable, where, monkeypatch):
    # In a directory other users can reach: below pytest's 0700 tmp_path nobody else can write anything.
    root = reachable / "cache"
    monkeypatch.setenv("AITER_SWA_CACHE_DIR", str(root))
    entry = _copy_seed(seed_cache, root)
    root.chmod(0o755)  # others can reach the entry and its library (inside a 0700 root nobody else could)
    entry.chmod(0o755)
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


# --------------------------------------------------------------------------- who can change what is loaded (issue 10)


def _fake_hip_env(tmp_path: Path, monkeypatch, body: str = "exit 1") -> Path:
    """A fake HIP compiler (``--version`` answers; a compile runs ``body``) and a device-lib dir for gfx942."""
    cc = tmp_path / "fakecc"
    cc.write_text(f'#!/bin/sh\nif [ "$1" = "--version" ]; then echo fakecc 1.0; exit 0; fi\n{body}\n')
    cc.chmod(0o755)
    (tmp_path / "oclc_isa_version_942.bc").write_bytes(b"")
    monkeypatch.setenv("AITER_SWA_HIPCC", str(cc))
    monkeypatch.setenv("AITER_SWA_ROCM_DEVICE_LIB_PATH", str(tmp_path))
    return cc


def _as_nobody():
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


@needs_hip
@pytest.mark.toolchain
def test_swap_of_the_cache_root_by_another_user_mid_compile(seed_cache, tmp_path, reachable):
    """Another user (uid 65534) who can write the cache root's parent swaps the root while the victim
    compiles, planting its own library where the victim's build dir was. The victim must not load it."""
    if os.getuid() != 0:
        pytest.skip("needs root to act as a second user")
    parent = reachable / "shared"
    parent.mkdir()
    os.chown(parent, 65534, 65534)  # the other user's directory (mode 0755): the victim's cache root is in it
    root = parent / "cache"
    evil = reachable / "evil.so"  # "the attacker's build" of the same spec: it imports, its bytes differ
    evil.write_bytes(next(seed_cache[1].glob("*.so")).read_bytes() + b"ATTACKER")
    os.chown(evil, 65534, 65534)
    started, go = tmp_path / "compiler-args", tmp_path / "go"
    cc = write_wrapper(tmp_path / "waiting-clang", body=f'echo "$@" > {started}; '
                       f'while [ ! -e {go} ]; do sleep 0.05; done')
    script = tmp_path / "victim.py"
    script.write_text(BOOT + textwrap.dedent(f"""
        import json, os
        from aiter_swa.jit import loader
        from aiter_swa.jit.registry import spec_from_json
        spec = spec_from_json({SMOKE.to_json()!r})
        mod = loader.load_module(spec)
        st = os.stat(mod.__file__)
        print(json.dumps({{"path": str(loader.origin(spec)[1]), "uid": st.st_uid,
                          "attacker": open(mod.__file__, "rb").read().endswith(b"ATTACKER")}}))
    """))
    victim = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=child_env(root, AITER_SWA_HIPCC=cc, AITER_TEST_COMPILE_LOG=tmp_path / "n"))
    try:
        deadline = time.monotonic() + 120
        while not started.exists() and victim.poll() is None:
            assert time.monotonic() < deadline, "the victim neither compiled nor stopped"
            time.sleep(0.05)
        if started.exists():  # the compile is under way: swap the root, as the other user
            args = started.read_text().split()
            lib = args[args.index("-o") + 1]
            (tmp,) = [p.name for p in root.glob(".tmp-*")]
            attack = (f"mv {root} {parent}/cache.victim && mkdir -p {root}/{tmp} && cp {evil} {root}/{tmp}/{lib} && "
                      f"touch {root}/{tmp}/{SMOKE.name}.log")
            subprocess.run(["/bin/sh", "-c", attack], preexec_fn=_as_nobody, check=True, cwd="/")
        go.touch()
        out, err = victim.communicate(timeout=240)
    finally:
        go.touch()
        if victim.poll() is None:
            victim.kill()
    if victim.returncode == 0:
        loaded = json.loads(out.splitlines()[-1])
        assert not loaded["attacker"] and loaded["uid"] != 65534, f"the other user's library was loaded: {loaded}"
    else:
        assert "UnsafeDirectoryError" in err and str(parent) in err and "uid 65534" in err, err
        assert not started.exists(), "refused before compiling anything"


@pytest.mark.parametrize("mode,refused", [(0o777, True), (0o775, True), (0o1777, False), (0o755, False)])
def test_every_directory_above_the_cache_root_is_checked(reachable, mode, refused):
    above = reachable / "above"
    above.mkdir()
    above.chmod(mode)
    root = above / "cache"
    if refused:
        with pytest.raises(UnsafeDirectoryError) as ei:
            cache.ensure_root(root)
        assert f"directory {above} (a directory above it) is writable by" in str(ei.value)
        assert "AITER_SWA_CACHE_DIR" in str(ei.value)
    else:  # sticky (like /tmp): nobody else can rename what is not theirs
        cache.ensure_root(root).close()
        assert stat.S_IMODE(root.stat().st_mode) == 0o700


@needs_hip
@pytest.mark.toolchain
def test_library_is_loaded_through_the_descriptor_it_was_checked_by(seed_cache, tmp_path):
    entry = _copy_seed(seed_cache, tmp_path / "cache")
    so = next(entry.glob("*.so"))
    loader.get_launcher(SMOKE)
    assert loader.origin(SMOKE) == ("cache", so)
    assert loader.load_module(SMOKE).__file__.startswith("/proc/self/fd/"), "loaded by path: a check-then-use window"
    # a library that is a symlink (to a file of the same content) is refused, not followed
    loader._reset_for_tests()
    real = tmp_path / "elsewhere.so"
    shutil.copy2(so, real)
    so.unlink()
    so.symlink_to(real)
    with pytest.raises(UnsafeDirectoryError, match="symbolic links"):
        cache.read_entry(entry, SMOKE, json.loads((entry / cache.MARKER).read_text())["key"])


@needs_hip
@pytest.mark.toolchain
def test_umask_002_every_process_loads_and_files_are_private(tmp_path, reachable):
    """umask 002 (per-user groups): the first process compiles, the next ones load from the cache; the
    cache dirs (and missing parents) are 0700, its files 0600 (libraries 0700), whatever the umask."""
    xdg = reachable / "home" / ".cache"  # AITER_SWA_CACHE_DIR unset: $XDG_CACHE_HOME/aiter_swa, parents missing
    env = {k: v for k, v in child_env(tmp_path / "unused").items() if k != "AITER_SWA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(xdg)
    script = child_script(tmp_path / "c.py", SMOKE)
    origins = []
    for _ in range(2):
        out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=240,
                             preexec_fn=lambda: os.umask(0o002))
        assert out.returncode == 0, out.stderr
        origins.append(json.loads(out.stdout.splitlines()[-1])["origin"])
    assert origins == ["compiled", "cache"]
    root = xdg / "aiter_swa"
    for d in (reachable / "home", xdg, root, *[p for p in root.iterdir() if p.is_dir()]):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    for f in root.rglob("*"):
        if f.is_file():
            want = 0o700 if f.suffix == ".so" else 0o600
            assert stat.S_IMODE(f.stat().st_mode) == want, f


@needs_hip
@pytest.mark.toolchain
def test_umask_002_prebuild_output_is_used(tmp_path):
    out = tmp_path / "kernels" / "gfx942"
    code = BOOT + textwrap.dedent(f"""
        import os, sys
        os.umask(0o002)
        from aiter_swa.jit import prebuild
        sys.exit(prebuild.main(["--op", "jit_smoke", "--arch", "gfx942", "--dtype", "fp16", "--size", "64",
                                "--flag", "off", "--jobs", "1", "--out", {str(out)!r}]))
    """)
    proc = subprocess.run([sys.executable, "-c", code], env=child_env(tmp_path / "c"), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert stat.S_IMODE(out.stat().st_mode) == 0o755 and stat.S_IMODE(out.parent.stat().st_mode) == 0o755
    assert stat.S_IMODE((out / "manifest.json").stat().st_mode) == 0o644
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o755 for p in out.glob("*.so"))
    run = subprocess.run([sys.executable, str(child_script(tmp_path / "c.py", SMOKE))], capture_output=True, text=True,
                         env=child_env(tmp_path / "c", AITER_SWA_PREBUILT_DIR=out, AITER_SWA_DISABLE_JIT=1),
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[-1]) == {"origin": "prebuilt"}


def test_refusal_names_the_directory_and_the_setting(tmp_path, reachable, monkeypatch):
    from aiter_swa.jit import manifest
    from aiter_swa.jit.build import Artifact, spec_source_hash

    # a pre-built dir that its group can write, found through AITER_SWA_PREBUILT_DIR
    pre = reachable / "pre"
    pre.mkdir()
    (pre / "k.so").write_bytes(b"not a library")
    art = Artifact(spec=SMOKE.to_json(), name=SMOKE.name, arch="gfx942", file="k.so", sha256="0" * 64, size=13,
                   source_hash=spec_source_hash(SMOKE), compiler="x", compiler_identity="x", flags=[],
                   resources={}, seconds=0.0)
    manifest.write_manifest(pre, [art])
    pre.chmod(0o775)
    monkeypatch.setenv("AITER_SWA_PREBUILT_DIR", str(pre))
    with pytest.raises(UnsafeDirectoryError) as ei:
        loader.get_launcher(SMOKE)
    msg = str(ei.value)
    assert str(pre) in msg and "AITER_SWA_PREBUILT_DIR" in msg and "AITER_SWA_CACHE_DIR" not in msg
    assert "writable by group (mode 0775)" in msg
    # the cache root, made 0775 by its user in a reachable place
    monkeypatch.delenv("AITER_SWA_PREBUILT_DIR")
    _fake_hip_env(tmp_path, monkeypatch)
    root = reachable / "mycache"
    root.mkdir()
    root.chmod(0o775)
    monkeypatch.setenv("AITER_SWA_CACHE_DIR", str(root))
    with pytest.raises(UnsafeDirectoryError) as ei:
        loader.get_launcher(SMOKE)
    assert f"AITER_SWA_CACHE_DIR={root}" in str(ei.value) and f"directory {root} is writable by group" in str(ei.value)


def test_compile_timeout_kills_the_compiler_and_raises(tmp_path, monkeypatch):
    pidfile = tmp_path / "compiler.pid"
    cc = _fake_hip_env(tmp_path, monkeypatch, body=f"echo $$ > {pidfile}; exec sleep 600")
    script = tmp_path / "c.py"
    script.write_text(BOOT + textwrap.dedent(f"""
        from aiter_swa.jit import loader
        from aiter_swa.jit.errors import JitBuildError
        from aiter_swa.jit.registry import spec_from_json
        try:
            loader.get_launcher(spec_from_json({SMOKE.to_json()!r}))
        except JitBuildError as e:
            print("JitBuildError:", str(e).replace(chr(10), " | "))
    """))
    t0 = time.monotonic()
    try:
        out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=90,
                             env=child_env(tmp_path / "cache", AITER_SWA_HIPCC=cc, AITER_SWA_COMPILE_TIMEOUT=2,
                                           AITER_SWA_ROCM_DEVICE_LIB_PATH=tmp_path))
    finally:
        if pidfile.exists():
            pid = int(pidfile.read_text())
            alive = Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert out.returncode == 0, out.stderr
    assert "JitBuildError:" in out.stdout and "timed out after 2 s" in out.stdout, out.stdout
    assert "AITER_SWA_COMPILE_TIMEOUT" in out.stdout
    assert time.monotonic() - t0 < 60
    assert not alive, "the hung compiler was left running"


def test_waiting_for_a_lock_logs_who_holds_it(tmp_path, monkeypatch, caplog):
    import logging

    d = tmp_path / "cache" / "entry"
    d.parent.mkdir(mode=0o700)
    ready, release = tmp_path / "held", tmp_path / "release"
    holder = subprocess.Popen([sys.executable, "-c", BOOT + textwrap.dedent(f"""
        import os, time
        from aiter_swa.jit import cache
        with cache.locked(__import__("pathlib").Path({str(d)!r})):
            open({str(ready)!r}, "w").close()
            while not os.path.exists({str(release)!r}):
                time.sleep(0.02)
    """)])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert holder.poll() is None and time.monotonic() < deadline, "the holder did not take the lock"
            time.sleep(0.02)
        monkeypatch.setattr(cache, "LOCK_LOG_INTERVAL", 0.3)
        import threading

        threading.Timer(1.2, release.touch).start()
        with caplog.at_level(logging.INFO, logger="aiter_swa.jit"), cache.locked(d, "building x"):
            pass
    finally:
        release.touch()
        holder.wait(timeout=30)
    waits = [r for r in caplog.records if "waiting for the lock" in r.getMessage()]
    assert waits[0].levelno == logging.INFO and all(r.levelno == logging.WARNING for r in waits[1:])
    assert len(waits) >= 3, [r.getMessage() for r in caplog.records]
    assert all(f"pid {holder.pid}" in r.getMessage() and "waited" in r.getMessage() for r in waits)
    assert "building x" in waits[0].getMessage() and str(d) in waits[0].getMessage()


# --------------------------------------------------------------------------- bad settings: one clear line each


def test_disable_jit_with_an_unusable_cache_dir_gives_the_documented_error(tmp_path, monkeypatch):
    _fake_hip_env(tmp_path, monkeypatch)
    monkeypatch.setenv("AITER_SWA_DISABLE_JIT", "1")
    afile = tmp_path / "afile"
    afile.write_text("")
    for root in (afile / "sub", tmp_path / "missing" / "cache"):
        monkeypatch.setenv("AITER_SWA_CACHE_DIR", str(root))
        with pytest.raises(JitDisabledError, match="python -m aiter_swa.jit.prebuild"):
            loader.get_launcher(SMOKE)
    assert not (tmp_path / "missing").exists(), "nothing is created when nothing is compiled"


def test_cache_dir_naming_a_file_is_a_clear_error(tmp_path, monkeypatch):
    from aiter_swa.jit.errors import JitConfigError

    _fake_hip_env(tmp_path, monkeypatch)
    afile = tmp_path / "afile"
    afile.write_text("")
    monkeypatch.setenv("AITER_SWA_CACHE_DIR", str(afile))
    with pytest.raises(JitConfigError, match=f"AITER_SWA_CACHE_DIR={afile}: {afile} is not a directory") as ei:
        loader.get_launcher(SMOKE)
    assert isinstance(ei.value, ValueError)


def _cli_error(capsys, argv, monkeypatch=None) -> str:
    """Run the pre-build CLI expecting a usage error: exit status 2, one ``prog: error:`` line, no traceback."""
    with pytest.raises(SystemExit) as ei:
        prebuild.main(argv)
    err = capsys.readouterr().err
    assert ei.value.code == 2, err
    lines = err.strip().splitlines()
    assert lines[-1].startswith("python -m aiter_swa.jit.prebuild: error: ") and "Traceback" not in err, err
    return lines[-1]


SMOKE_ARGS = ["--op", "jit_smoke", "--arch", "gfx942", "--dtype", "fp16", "--size", "64", "--flag", "off"]


@pytest.mark.parametrize("value", ["0", "-1", "lots"])
def test_max_jobs_must_be_a_positive_integer(tmp_path, monkeypatch, capsys, value):
    _fake_hip_env(tmp_path, monkeypatch)
    monkeypatch.setenv("AITER_SWA_MAX_JOBS", value)
    line = _cli_error(capsys, SMOKE_ARGS + ["--out", str(tmp_path / "out")])
    assert f"AITER_SWA_MAX_JOBS: expected a positive integer, got {value!r}" in line


@pytest.mark.parametrize("value", ["0", "-1", "x"])
def test_jobs_flag_must_be_a_positive_integer(tmp_path, monkeypatch, capsys, value):
    _fake_hip_env(tmp_path, monkeypatch)
    line = _cli_error(capsys, SMOKE_ARGS + ["--jobs", value, "--out", str(tmp_path / "out")])
    assert "--jobs" in line and f"expected a positive integer, got {value!r}" in line
    assert not (tmp_path / "out").exists()


def test_prebuild_args_with_an_unbalanced_quote(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AITER_SWA_PREBUILD_ARGS", "--head-size '128")
    monkeypatch.setattr(sys, "argv", ["prebuild", "--arch", "gfx942", "--list"])
    line = _cli_error(capsys, None)
    assert "AITER_SWA_PREBUILD_ARGS" in line and "No closing quotation" in line


def test_out_naming_a_file(tmp_path, monkeypatch, capsys):
    _fake_hip_env(tmp_path, monkeypatch)
    afile = tmp_path / "afile"
    afile.write_text("")
    line = _cli_error(capsys, SMOKE_ARGS + ["--out", str(afile)])
    assert f"--out {afile}: {afile} is not a directory" in line


@pytest.mark.parametrize("value", ["gfx942/../../evil", "../gfx942", "gfx 942x", "gfx942;sm_9$"])
def test_arch_names_are_validated(monkeypatch, capsys, value):
    monkeypatch.setenv("AITER_SWA_ARCHS", value)
    line = _cli_error(capsys, ["--op", "jit_smoke", "--list"])
    assert "AITER_SWA_ARCHS" in line and "expected 'gfx…' (AMD) or 'sm_…'" in line
    monkeypatch.setattr(toolchain, "_ARCH_BY_DEVICE", {})
    with pytest.raises(ValueError, match="AITER_SWA_ARCHS"):
        toolchain.device_arch(0)
    with pytest.raises(ValueError, match="arch"):
        SmokeSpec("fp16", 64, False, "gfx942/../x")


def test_arch_feature_suffixes_are_stripped(monkeypatch):
    assert toolchain.parse_archs("gfx90a:sramecc+:xnack-;sm_90a", "AITER_SWA_ARCHS") == ["gfx90a", "sm_90a"]
    for good in ("gfx942", "gfx90a", "gfx1100", "gfx1201", "sm_80", "sm_90a", "sm_100"):
        toolchain.backend_of(good)


@pytest.mark.parametrize("value", ["soon", "-5", "nan"])
def test_compile_timeout_setting_is_validated(tmp_path, monkeypatch, value):
    from aiter_swa.jit.errors import JitConfigError

    _fake_hip_env(tmp_path, monkeypatch)
    monkeypatch.setenv("AITER_SWA_COMPILE_TIMEOUT", value)
    with pytest.raises(JitConfigError, match=f"AITER_SWA_COMPILE_TIMEOUT: expected seconds .* got {value!r}"):
        loader.get_launcher(SMOKE)
