"""The JIT's op table, the spec protocol, launch contracts and the rendered wavefront size (CPU only,
no compiler needed)."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from aiter_swa.jit import paths, prebuild, registry
from aiter_swa.jit.contract import LaunchContract, Param
from aiter_swa.jit.render import render
from aiter_swa.jit.selftest import SmokeSpec
from aiter_swa.jit.spec import KernelSpec
from aiter_swa.jit.toolchain import wavefront_size
from aiter_swa.ops.pa_v1.spec import LAUNCH, PROGRAMMATIC_REDUCE_MAX_WORKGROUPS_PER_CU, PaV1Spec

REPO = Path(__file__).resolve().parents[2]


def test_catalogue_registers_the_library_ops():
    assert "pa_v1" in registry.ops() and "jit_smoke" not in registry.ops()
    assert "jit_smoke" in registry.ops(include_internal=True)
    op = registry.get_op("pa_v1")
    assert op.spec_type is PaV1Spec and list(op.axes)[:3] == ["q_dtype", "kv_dtype", "out_dtype"]
    with pytest.raises(KeyError, match="op: expected one of .*pa_v1.*, got 'nope'"):
        registry.get_op("nope")


def test_matrix_filters_and_constraints():
    op = registry.get_op("pa_v1")
    specs = op.matrix(["gfx942", "sm_90"], {"head_size": [128], "gqa": [8]})
    # 2 archs x 2 dtypes (query == out) x (KV: the query's or the arch's fp8 format) x 8 flag combinations
    assert len(specs) == 2 * 2 * 2 * 8 and all(s.q_dtype == s.out_dtype for s in specs)
    fp8 = {(s.arch, s.kv_dtype) for s in specs if s.kv_dtype.startswith("fp8")}
    assert fp8 == {("gfx942", "fp8e4m3fnuz"), ("sm_90", "fp8e4m3fn")}  # the default: each arch's own format
    explicit = op.matrix(["gfx942"], {"head_size": [128], "gqa": [8], "kv_dtype": ["fp8e4m3fn", "fp8e4m3fnuz"]})
    assert len(explicit) == 2 * 2 * 8  # an explicit --kv-dtype lifts the default: both formats
    assert not op.matrix(["gfx942"], {"q_dtype": ["fp16"], "kv_dtype": ["bf16"]})  # refused by `supported`
    with pytest.raises(ValueError, match="head_size: 100 not supported by op pa_v1"):
        op.matrix(["gfx942"], {"head_size": [100]})
    with pytest.raises(ValueError, match="op pa_v1 has no axis size"):
        op.matrix(["gfx942"], {"size": [64]})


def test_spec_json_names_the_op_and_round_trips():
    spec = PaV1Spec("bf16", "bf16", "bf16", 128, 8, True, False, True, "gfx942")
    assert json.loads(spec.to_json())["op"] == "pa_v1"
    assert registry.spec_from_json(spec.to_json()) == spec
    assert spec.name == "pa_v1_bf16_hs128_g8_swa_alibi_gfx942"
    other = dataclasses.replace(spec, kv_dtype="fp16", out_dtype="fp16")
    assert other.name == "pa_v1_bf16_kvfp16_ofp16_hs128_g8_swa_alibi_gfx942" and other.to_json() != spec.to_json()
    assert SmokeSpec("fp16", 64, True, "sm_90").name == "jit_smoke_dtypefp16_size64_flag_sm_90"


def test_register_op_checks_axes_against_fields():
    @dataclasses.dataclass(frozen=True)
    class Toy(KernelSpec):
        op = "toy_op"
        template = "smoke.cpp.jinja"
        width: int
        arch: str

    with pytest.raises(ValueError, match="must be the spec's fields"):
        registry.OpDef("toy_op", Toy, {"depth": (1,)})
    with pytest.raises(ValueError, match=r"expected 'gfx…' \(AMD\) or 'sm_…'"):
        Toy(4, "x86")
    with pytest.raises(ValueError, match="spec_type.op is 'toy_op'"):
        registry.OpDef("pa_v1", Toy, {"width": (4,)})

    @dataclasses.dataclass(frozen=True)
    class Impostor(Toy):
        op = "pa_v1"

    with pytest.raises(ValueError, match="'pa_v1' is already registered with spec type PaV1Spec"):
        registry.register_op(registry.OpDef("pa_v1", Impostor, {"width": (4,)}))


@pytest.mark.parametrize("arch,size", [("gfx942", 64), ("gfx90a", 64), ("gfx950", 64), ("gfx1100", 32),
                                       ("gfx1201", 32), ("sm_90", 32), ("sm_80", 32)])
def test_wavefront_size_is_rendered_from_the_arch(arch, size):
    assert wavefront_size(arch) == size
    text = render(PaV1Spec("fp16", "fp16", "fp16", 64, 1, False, False, False, arch))
    assert f"#define AITER_SWA_WAVEFRONT_SIZE {size}\n" in text


@pytest.mark.parametrize("arch,programmatic", [("sm_90", True), ("sm_90a", True), ("sm_100", True), ("sm_89", False),
                                               ("sm_80", False), ("gfx942", False), ("gfx90a", False)])
def test_programmatic_launch_is_rendered_for_sm90_and_later_only(arch, programmatic):
    """griddepcontrol (PTX ISA) is sm_90+: an older NVIDIA arch or AMD gets ordinary launches of both kernels
    (without the define, compat.h's launch_dependent is a plain launch and its device calls are empty)."""
    for rows in (0, 16):
        text = render(PaV1Spec("bf16", "bf16", "bf16", 128, 1, True, False, False, arch, mma_rows=rows))
        assert ("#define AITER_SWA_PROGRAMMATIC_LAUNCH 1" in text) is programmatic
        bound = PROGRAMMATIC_REDUCE_MAX_WORKGROUPS_PER_CU if programmatic else 0
        assert f"/*programmatic_reduce_max_per_cu=*/{bound})" in text


def test_no_source_uses_the_deprecated_wavefront_macro():
    for f in (REPO / "csrc").rglob("*"):
        if f.is_file():
            code = [line for line in f.read_text().splitlines() if not line.lstrip().startswith("//")]
            assert not any("__AMDGCN_WAVEFRONT_SIZE" in line for line in code), f


def test_template_renders_the_launch_contract():
    text = render(PaV1Spec("bf16", "bf16", "bf16", 128, 8, True, True, True, "gfx942"))
    signature = "void launch(" + ", ".join(f"{p.cpp_type} {p.name}" for p in LAUNCH.params) + ")"
    assert signature in text
    assert all(f'pybind11::arg("{p.name}")' in text for p in LAUNCH.params)
    kernels_only = render(PaV1Spec("bf16", "bf16", "bf16", 128, 8, True, True, True, "gfx942"),
                          extra_vars={"kernels_only": True})
    assert "pybind11" not in kernels_only and "partition_kernel<Spec>" in kernels_only


def test_launch_contract_pack_names_what_is_wrong():
    c = LaunchContract((Param("a", "ptr"), Param("n", "int"), Param("s", "stream")))
    assert c.pack(n=3, s=0, a=7) == [7, 3, 0] and c.index("n") == 1
    with pytest.raises(TypeError, match=r"missing \['s'\], unknown \['x'\]"):
        c.pack(a=1, n=2, x=3)
    with pytest.raises(ValueError, match="kind expected one of"):
        Param("a", "pointer")
    c = LaunchContract((Param("a", "ptr", per_call=True), Param("n", "int"), Param("s", "stream", per_call=True)))
    assert c.pack_call(s=0, a=7) == [7, 0] and c.pack_plan(n=3) == [3]
    with pytest.raises(TypeError, match=r"call arguments: missing \['s'\], unknown \['n'\]"):
        c.pack_call(a=1, n=2)  # a per-plan value among the per-call ones


def test_prebuild_filters_per_op_axes(capsys):
    assert prebuild.main(["--op", "jit_smoke", "--arch", "gfx942", "--dtype", "bf16", "--list"]) == 0
    assert capsys.readouterr().out.split() == [
        "jit_smoke_bf16".replace("_bf16", "_dtypebf16") + suffix for suffix in
        ("_size64_noflag_gfx942", "_size64_flag_gfx942", "_size128_noflag_gfx942", "_size128_flag_gfx942")]
    with pytest.raises(SystemExit):
        prebuild.main(["--op", "jit_smoke", "--arch", "gfx942", "--head-size", "64", "--list"])
    assert "--head-size: no selected op (jit_smoke) has that axis" in capsys.readouterr().err


def test_jit_imports_neither_torch_nor_an_op_module_by_path():
    """The JIT loads the op table through the catalogue package, with no torch (the install-time
    pre-build runs without it); no module of the JIT imports an op module or loads a file by path."""
    code = textwrap.dedent(f"""
        import sys, types
        pkg = types.ModuleType("aiter_swa"); pkg.__path__ = [{str(paths.package_dir())!r}]
        sys.modules["aiter_swa"] = pkg
        from aiter_swa.jit import registry
        print(sorted(registry.ops(include_internal=True)), "torch" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"{sorted(registry.ops(include_internal=True))} False"
    assert {"jit_smoke", "pa_v1"} <= set(registry.ops(include_internal=True))
    for f in paths.JIT_DIR.glob("*.py"):
        imports = re.findall(r"^\s*(?:from|import)\s+(\S+)", f.read_text(), re.M)
        assert not [m for m in imports if "ops" in m.split(".") or "_config" in m], (f, imports)
    assert not hasattr(paths, "load_config"), "the JIT no longer loads the op's configuration by file path"
