"""``prebuild --prune``: a pre-built dir keeps exactly the selected kernels (no compiler needed)."""

from __future__ import annotations

import json

from aiter_swa.jit import build, manifest, prebuild
from aiter_swa.jit.selftest import SmokeSpec

A, B, C = SmokeSpec("fp16", 64, False, "gfx942"), SmokeSpec("fp16", 64, True, "gfx942"), SmokeSpec("bf16", 64, True, "gfx90a")


def _artifact(spec, d):
    lib = d / f"{spec.name}.so"
    lib.write_bytes(spec.name.encode())
    return build.Artifact(spec=spec.to_json(), name=spec.name, arch=spec.arch, file=lib.name,
                          sha256=build.file_sha256(lib), size=lib.stat().st_size,
                          source_hash=build.spec_source_hash(spec), compiler="c", compiler_identity="c", flags=[],
                          resources={}, seconds=0.0)  # fmt: skip


def test_prune_removes_only_unselected_kernels_of_the_manifest(tmp_path):
    manifest.write_manifest(tmp_path, [_artifact(s, tmp_path) for s in (A, B, C)])
    (tmp_path / "notes.so").write_text("not in the manifest")
    removed = prebuild.prune(tmp_path, [A, C])
    assert removed == [f"{B.name}.so"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["manifest.json", "notes.so", f"{A.name}.so",
                                                                  f"{C.name}.so"])
    assert set(json.loads((tmp_path / "manifest.json").read_text())["kernels"]) == {A.to_json(), C.to_json()}
    assert prebuild.prune(tmp_path, [A, C]) == []  # nothing left to remove


def test_prune_drops_every_kernel_of_another_version(tmp_path):
    manifest.write_manifest(tmp_path, [_artifact(s, tmp_path) for s in (A, B)])
    m = json.loads((tmp_path / "manifest.json").read_text())
    m["package_version"] = "0.0.1"
    (tmp_path / "manifest.json").write_text(json.dumps(m))
    assert sorted(prebuild.prune(tmp_path, [A])) == sorted([f"{A.name}.so", f"{B.name}.so"])
    assert json.loads((tmp_path / "manifest.json").read_text())["kernels"] == {}


def test_prune_of_a_dir_without_manifest_does_nothing(tmp_path):
    (tmp_path / "x.so").write_text("x")
    assert prebuild.prune(tmp_path, [A]) == [] and [p.name for p in tmp_path.iterdir()] == ["x.so"]
