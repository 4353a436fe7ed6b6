"""Pre-build kernels for deployment: ``python -m aiter_swa.jit.prebuild --arch gfx942 --out DIR``.

Builds every supported specialization (``aiter_swa/_config.py``: head sizes x block sizes x GQA
buckets, x dtypes {fp16, bf16} x 8 flag combos of sliding window, soft cap and ALiBi), or the
filtered subset, for each ``--arch``, through one ninja (``--jobs`` parallel compiles, progress
``[done/total]``). No GPU is needed. Writes ``<name>.so`` files and ``manifest.json`` into DIR, then
prints a table of each kernel's resources (AMD: VGPRs, SGPRs, AGPRs, scratch, spills, LDS,
occupancy; NVIDIA: registers, spills, stack, shared memory). Exit status 1 if any kernel failed
(its log is kept in DIR/.build-*/). Kernels already in DIR's manifest with the same sources,
compiler and flags are not rebuilt (``--force`` rebuilds them).

At run time, set ``AITER_SWA_PREBUILT_DIR=DIR`` (or install with ``AITER_SWA_PREBUILD_ARCHS``,
which pre-builds into the package's own ``prebuilt`` dir); these kernels are then loaded without
compiling. ``$AITER_SWA_PREBUILD_ARGS`` (shell-split) is appended to the command line, e.g. to
filter the install-time pre-build: ``AITER_SWA_PREBUILD_ARGS="--dtype bf16 --head-size 128"``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import manifest, paths
from .build import BuildJob, default_jobs, run_ninja, write_ninja
from .cache import file_sha256, source_hash
from .errors import ToolchainError
from .render import render
from .resources import format_table, parse_resources, spill_problems
from .spec import PA_V1_TEMPLATE, KernelSpec
from ._version import __version__
from .toolchain import backend_of, env_flag, find_toolchain, include_dirs, parse_archs, python_abi

_ONOFF = {"on": (True,), "off": (False,), "both": (False, True)}


def build_matrix(archs, dtypes=None, head_sizes=None, block_sizes=None, gqas=None, sliding_window="both",
                 soft_cap="both", alibi="both", template=PA_V1_TEMPLATE) -> list:
    """The KernelSpecs to pre-build: the supported lists of ``aiter_swa._config`` (or the given subsets).

    Raises:
        ValueError: a value outside the supported lists (the message lists the supported ones).
    """
    cfg = paths.load_config()

    def pick(name, given, supported):
        if not given:
            return list(supported)
        bad = [g for g in given if g not in supported]
        if bad:
            raise ValueError(f"--{name} {', '.join(map(str, bad))}: not supported (supported: "
                             f"{', '.join(map(str, supported))})")
        return list(dict.fromkeys(given))

    for a in archs:
        backend_of(a)
    dt = pick("dtype", dtypes, cfg.GPU_DTYPES)
    hs = pick("head-size", head_sizes, cfg.SUPPORTED_HEAD_SIZES)
    bs = pick("block-size", block_sizes, cfg.SUPPORTED_BLOCK_SIZES)
    gq = pick("gqa", gqas, cfg.GQA_BUCKETS)
    specs = []
    for arch, d, h, b, g, w, c, al in itertools.product(
            list(dict.fromkeys(archs)), dt, hs, bs, gq, _ONOFF[sliding_window], _ONOFF[soft_cap], _ONOFF[alibi]):
        specs.append(KernelSpec(dtype=d, head_size=h, block_size=b, gqa=g, sliding_window=w, soft_cap=c,
                                alibi=al, arch=arch, template=template))
    return specs


def _up_to_date(rec, spec, out: Path, src_hash: str, ident: str, flags: list) -> bool:
    so = out / rec.get("file", "")
    return (rec.get("source_hash") == src_hash and rec.get("compiler_identity") == ident
            and rec.get("flags") == flags and so.is_file() and so.stat().st_size == rec.get("size")
            and file_sha256(so) == rec.get("sha256"))


def prebuild(specs, out, jobs=None, force=False, csrc=None, verbose=False, capture=False):
    """Build ``specs`` into ``out`` with one ninja; write the manifest.

    Returns:
        ``(rows, failed)``: rows ``(spec_name, backend, resources)`` for the resource table, and
        a list of ``(spec, log_path)`` that failed.

    Raises:
        ToolchainError: no compiler for one of the archs (checked before anything is built).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    toolchains = {}
    for arch in sorted({s.arch for s in specs}):
        tc = find_toolchain(backend_of(arch))
        tc.check_arch(arch)
        toolchains[arch] = tc
    old = manifest.read_manifest(out) if (out / manifest.MANIFEST).is_file() else None
    same_build = bool(old) and old.get("format") == manifest.FORMAT and \
        old.get("package_version") == __version__ and old.get("python_abi") == python_abi()
    old_kernels = old["kernels"] if same_build else {}
    src_hashes = {t: source_hash(t, csrc) for t in {s.template for s in specs}}
    incs = include_dirs(csrc)

    rows, todo = {}, []
    for s in specs:
        tc = toolchains[s.arch]
        rec = old_kernels.get(s.to_json())
        if not force and rec and _up_to_date(rec, s, out, src_hashes[s.template], tc.identity(), tc.flags(s.arch)):
            rows[s] = (s.name, s.backend, rec.get("resources", {}))
        else:
            todo.append(s)

    failed, records = [], {}
    print(f"aiter_swa.jit.prebuild: {len(specs)} kernels for {', '.join(toolchains)} "
          f"({len(specs) - len(todo)} up to date, {len(todo)} to build) into {out}", flush=True)
    if todo:
        build_dir = Path(tempfile.mkdtemp(prefix=".build-", dir=out))
        jobs_ = []
        for s in todo:
            (build_dir / f"{s.name}.cpp").write_text(render(s, csrc))
            cmd = toolchains[s.arch].shell_command(s.arch, f"{s.name}.cpp", f"{s.name}.so", incs)
            jobs_.append(BuildJob(s.name, Path(f"{s.name}.cpp"), Path(f"{s.name}.so"), Path(f"{s.name}.log"), cmd))
        write_ninja(build_dir, jobs_)
        n = jobs or default_jobs()
        print(f"aiter_swa.jit.prebuild: ninja -C {build_dir} -j {n}", flush=True)
        t0 = time.perf_counter()
        proc = run_ninja(build_dir, max_jobs=n, keep_going=True, verbose=verbose, capture=capture)
        print(f"aiter_swa.jit.prebuild: compiled in {time.perf_counter() - t0:.1f} s", flush=True)
        for s in todo:
            so, log = build_dir / f"{s.name}.so", build_dir / f"{s.name}.log"
            if not so.is_file():
                failed.append((s, log))
                continue
            tc = toolchains[s.arch]
            res = parse_resources(log.read_text(errors="replace"), s.backend)
            os.replace(so, out / so.name)
            records[s.to_json()] = {
                "file": so.name, "name": s.name, "arch": s.arch, "template": s.template,
                "source_hash": src_hashes[s.template], "sha256": file_sha256(out / so.name),
                "size": (out / so.name).stat().st_size, "compiler": tc.identity().splitlines()[0],
                "compiler_identity": tc.identity(), "flags": tc.flags(s.arch), "resources": res,
            }
            rows[s] = (s.name, s.backend, res)
        if records:
            manifest.write_manifest(out, records)
        if failed:
            print(f"aiter_swa.jit.prebuild: build dir kept for the failed logs: {build_dir}", file=sys.stderr)
        else:
            shutil.rmtree(build_dir, ignore_errors=True)
        if proc.returncode != 0 and not failed:
            failed.append((None, build_dir / "build.ninja"))
    return [rows[s] for s in specs if s in rows], failed


def _ints(text):
    return [int(x) for x in str(text).replace(",", " ").split()]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m aiter_swa.jit.prebuild",
        description="Pre-build aiter_swa kernels (no GPU needed) into DIR; use them with AITER_SWA_PREBUILT_DIR=DIR.")
    p.add_argument("--arch", action="append", default=[],
                   help="offload target, repeatable: gfx942, gfx90a, sm_90 ... (default: $AITER_SWA_ARCHS)")
    p.add_argument("--dtype", action="append", choices=("fp16", "bf16"), help="repeatable (default: all)")
    p.add_argument("--head-size", action="append", type=_ints, help="repeatable or comma-separated (default: all)")
    p.add_argument("--block-size", action="append", type=_ints, help="repeatable or comma-separated (default: all)")
    p.add_argument("--gqa", action="append", type=_ints, help="GQA bucket(s) (default: all)")
    for flag in ("sliding-window", "soft-cap", "alibi"):
        p.add_argument(f"--{flag}", choices=("on", "off", "both"), default="both", help="default: both")
    p.add_argument("--template", default=PA_V1_TEMPLATE, help=f"template under csrc/templates (default {PA_V1_TEMPLATE})")
    p.add_argument("--jobs", "-j", type=int, help="parallel compiles (default: $AITER_SWA_MAX_JOBS, else CPUs)")
    p.add_argument("--out", required=True, help="output dir (manifest.json + one .so per kernel)")
    p.add_argument("--force", action="store_true", help="rebuild kernels that are up to date in DIR")
    p.add_argument("--list", action="store_true", help="print the selected specs and exit")
    if argv is None:
        argv = sys.argv[1:]
        extra = shlex.split(os.environ.get("AITER_SWA_PREBUILD_ARGS", ""))
        if extra:  # e.g. filters for the install-time pre-build, which setup.py runs with --arch/--out only
            print(f"aiter_swa.jit.prebuild: adding AITER_SWA_PREBUILD_ARGS: {shlex.join(extra)}", flush=True)
            argv = list(argv) + extra
    a = p.parse_args(argv)

    archs = [x for arch in a.arch for x in parse_archs(arch)] or parse_archs(os.environ.get("AITER_SWA_ARCHS", ""))
    if not archs:
        p.error("give at least one --arch (e.g. --arch gfx942) or set AITER_SWA_ARCHS")
    flat = lambda xs: [x for l in xs for x in l] if xs else None  # noqa: E731,E741
    try:
        specs = build_matrix(archs, a.dtype, flat(a.head_size), flat(a.block_size), flat(a.gqa),
                             a.sliding_window, a.soft_cap, a.alibi, a.template)
    except ValueError as e:
        p.error(str(e))
    if a.list:
        for s in specs:
            print(s.name)
        return 0
    t0 = time.perf_counter()
    try:
        rows, failed = prebuild(specs, a.out, jobs=a.jobs, force=a.force, verbose=env_flag("AITER_SWA_VERBOSE"))
    except ToolchainError as e:
        print(f"aiter_swa.jit.prebuild: {e}", file=sys.stderr)
        return 1
    print()
    print(format_table(rows))
    problems = [(name, pr) for name, b, res in rows for pr in spill_problems(res, b)]
    for name, pr in problems:
        print(f"warning: {name}: {pr}")
    ok = len(specs) - len(failed)
    print(f"aiter_swa.jit.prebuild: {ok}/{len(specs)} kernels ready in {a.out} "
          f"({time.perf_counter() - t0:.1f} s); {len(problems)} spill/scratch warnings")
    if failed:
        for s, log in failed:
            print(f"FAILED: {s.name if s else 'ninja'}: see {log}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
