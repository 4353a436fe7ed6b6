"""Pre-build kernels for deployment: ``python -m aiter_swa.jit.prebuild [--op NAME] --arch gfx942 --out DIR``.

Builds the supported matrix of every op in the JIT's op table (:mod:`~aiter_swa.jit.registry`; the
ops of the library by default, ``--op`` to choose), or the subset that the axis filters select, for
each ``--arch``, through one ninja (``--jobs`` parallel compiles, progress ``[done/total]``). No GPU is
needed. Every axis of every registered op gets a filter flag (``--head-size 64,128``; boolean axes
take ``on``, ``off`` or ``both``); a filter applies to the selected ops that have that axis.
Writes ``<name>.so`` files and ``manifest.json`` into DIR, then prints a table of each kernel's
resources (AMD: VGPRs, SGPRs, AGPRs, scratch, spills, LDS, occupancy; NVIDIA: registers, spills,
stack, shared memory). Exit status 1 if any kernel failed (its log is kept in DIR/.build-*/).
Kernels already in DIR's manifest with the same sources, compiler and flags are not rebuilt
(``--force`` rebuilds them). ``--resources-only`` compiles the device code alone, without the
Python binding and without writing anything, and prints the same table: the quick check that a
whole matrix is free of scratch and spills (exit status 1 if not).

At run time, set ``AITER_SWA_PREBUILT_DIR=DIR`` (or install with ``AITER_SWA_PREBUILD_ARCHS``,
which pre-builds into the package's own ``prebuilt`` dir); these kernels are then loaded without
compiling. ``$AITER_SWA_PREBUILD_ARGS`` (shell-split) is appended to the command line, e.g. to
filter the install-time pre-build: ``AITER_SWA_PREBUILD_ARGS="--q-dtype bf16 --head-size 128"``.

``--hf-config PATH/config.json`` builds exactly the kernels that model's layers need: each op with
a model hook in the op table (``OpDef.from_hf_config``) maps the config to its specs (the JIT
itself knows no model); ``--dtype`` (the dtype the model runs in; default the config's) and
``--kv-cache-dtype`` are passed to the hook, and the axis filters (``--head-size 128``) narrow the
result. Progress: a tqdm bar with rate and ETA on a terminal, else one line per finished kernel
with the same numbers.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import manifest, registry, safety
from .build import build, compile_timeout, default_jobs, file_sha256, new_build_dir, spec_source_hashes
from .errors import JitConfigError, JitError, ToolchainError, UnsafeDirectoryError
from .resources import format_table, spill_problems
from .toolchain import backend_of, env_flag, find_toolchain, parse_archs


class Progress:
    """Progress of one ninja run, from :func:`aiter_swa.jit.build.build`'s ``progress`` callback.

    On a terminal (``stream.isatty()``): a tqdm bar with the count, rate and ETA, the last finished
    kernel as its postfix. Elsewhere (CI logs, ``pip install -v``): one line per finished kernel on
    stdout, ``[done/total] elapsed, ETA remaining  <kernel>``, formatted by tqdm from the same state.
    """

    def __init__(self, total: int, label: str = "aiter_swa.jit.prebuild", stream=None):
        from tqdm import tqdm

        stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        if self.tty:
            self.bar = tqdm(total=total, desc=label, unit="kernel", file=stream, dynamic_ncols=True, smoothing=0.1)
        else:
            self.bar = tqdm(total=total, desc=label, unit="kernel", file=io.StringIO(), smoothing=0.1,
                            bar_format="{desc} [{n_fmt}/{total_fmt}] {elapsed} elapsed, ETA {remaining}")

    def __call__(self, done: int, total: int, description: str) -> None:
        if total != self.bar.total:
            self.bar.total = total
        self.bar.update(max(0, done - self.bar.n))
        name = description[len("compile "):] if description.startswith("compile ") else description
        if self.tty:
            self.bar.set_postfix_str(name)
        else:
            print(f"{self.bar}  {name}", flush=True)

    def close(self) -> None:
        self.bar.close()


def _up_to_date(rec: dict, out: Path, src_hash: str, tc, arch: str) -> bool:
    so = out / rec.get("file", "")
    return (rec.get("source_hash") == src_hash and rec.get("compiler_identity") == tc.identity()
            and rec.get("flags") == tc.flags(arch) and so.is_file() and so.stat().st_size == rec.get("size")
            and file_sha256(so) == rec.get("sha256"))


def prune(out, specs) -> list:
    """Remove from pre-built dir ``out`` every kernel its manifest lists that is not one of ``specs``
    (and every kernel of a manifest written by another package version or Python ABI), so that it
    holds exactly ``specs``. Only files that the manifest names are deleted. Returns their names."""
    out = Path(out)
    try:
        old = json.loads((out / manifest.MANIFEST).read_text())
        records = old["kernels"] if isinstance(old, dict) and isinstance(old.get("kernels"), dict) else {}
    except (OSError, ValueError):
        return []
    keep = {s.to_json() for s in specs} if manifest.is_current(old) else set()
    removed = []
    for key, rec in records.items():
        name = rec.get("file", "") if isinstance(rec, dict) else ""
        if key in keep or not name or "/" in name or name in (".", ".."):
            continue
        try:
            (out / name).unlink()
            removed.append(name)
        except FileNotFoundError:
            pass
    manifest.write_manifest(out, [], keep=keep)
    return removed


def prebuild(specs, out, jobs=None, force=False, csrc=None, verbose=False, capture=False, progress=False,
             prune_others=False):
    """Build ``specs`` into ``out`` with one ninja; write the manifest.

    ``progress``: show a :class:`Progress` bar (else ninja's own ``[done/total]`` lines, unless ``capture``).
    ``prune_others``: first remove every other kernel from ``out`` (:func:`prune`).

    Returns:
        ``(rows, failures)``: rows ``(spec_name, backend, resources)`` for the resource table (in
        ``specs`` order), and a list of :class:`~aiter_swa.jit.build.Failure`.

    Raises:
        ToolchainError: no compiler for one of the archs (checked before anything is built).
    """
    out = Path(out)
    safety.open_dir(out, setting=f"the pre-build output dir --out {out}", allow_root_owner=True,
                    create_mode=0o755).close()  # 0755 whatever the umask: other users load these kernels
    toolchains = {}
    for arch in sorted({s.arch for s in specs}):
        tc = find_toolchain(backend_of(arch))
        tc.check_arch(arch)
        toolchains[arch] = tc
    if prune_others:
        removed = prune(out, specs)
        if removed:
            print(f"aiter_swa.jit.prebuild: --prune removed {len(removed)} kernels that are not selected from {out}",
                  flush=True)
    old = manifest.read_manifest(out)
    old_kernels = old["kernels"] if old and manifest.is_current(old) else {}
    src_hashes = spec_source_hashes(specs, csrc)

    rows, todo = {}, []
    for s in specs:
        rec = old_kernels.get(s.to_json())
        if not force and rec and _up_to_date(rec, out, src_hashes[s], toolchains[s.arch], s.arch):
            rows[s] = (s.name, s.backend, rec.get("resources", {}))
        else:
            todo.append(s)

    print(f"aiter_swa.jit.prebuild: {len(specs)} kernels for {', '.join(toolchains)} "
          f"({len(specs) - len(todo)} up to date, {len(todo)} to build) into {out}", flush=True)
    failures = []
    if todo:
        build_dir = new_build_dir(out, ".build-")
        n = jobs or default_jobs()
        print(f"aiter_swa.jit.prebuild: ninja -C {build_dir} -j {n}", flush=True)
        t0 = time.perf_counter()
        bar = Progress(len(todo)) if progress else None
        try:
            artifacts, failures = build(todo, build_dir, toolchains, jobs=n, csrc=csrc, capture=capture,
                                        verbose=verbose, timeout=compile_timeout(), progress=bar)
        finally:
            if bar is not None:
                bar.close()
        print(f"aiter_swa.jit.prebuild: compiled in {time.perf_counter() - t0:.1f} s", flush=True)
        for s, art in artifacts.items():
            os.chmod(build_dir / art.file, 0o755)  # readable by the users of the kernels, writable by no other
            os.replace(build_dir / art.file, out / art.file)
            rows[s] = (s.name, s.backend, art.resources)
        if artifacts:
            manifest.write_manifest(out, artifacts.values())
        if failures:
            print(f"aiter_swa.jit.prebuild: build dir kept for the failed logs: {build_dir}", file=sys.stderr)
        else:
            shutil.rmtree(build_dir, ignore_errors=True)
    return [rows[s] for s in specs if s in rows], failures


def check_resources(specs, jobs=None, csrc=None, verbose=False, progress=False):
    """Compile only the device code of ``specs`` (no bindings, nothing loadable, nothing kept) to read
    their resources: the fast whole-matrix check of registers, scratch and spills.

    Returns:
        ``(rows, failures)`` as :func:`prebuild`.
    """
    toolchains = {}
    for arch in sorted({s.arch for s in specs}):
        toolchains[arch] = tc = find_toolchain(backend_of(arch))
        tc.check_arch(arch)
    with tempfile.TemporaryDirectory(prefix="aiter_swa-resources-") as tmp:
        n = jobs or default_jobs()
        print(f"aiter_swa.jit.prebuild: device code of {len(specs)} kernels, {n} jobs (--resources-only)", flush=True)
        bar = Progress(len(specs)) if progress else None
        try:
            artifacts, failures = build(specs, Path(tmp), toolchains, jobs=n, csrc=csrc, capture=False,
                                        verbose=verbose, device_only=True, timeout=compile_timeout(), progress=bar)
        finally:
            if bar is not None:
                bar.close()
        for f in failures:  # the build dir goes away: keep the failure's log text in the report
            f.log = Path(f"{f.log.name} (removed; rerun with AITER_SWA_VERBOSE=1 to see it)")
    return [(s.name, s.backend, artifacts[s].resources) for s in specs if s in artifacts], failures


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return n


def _axis_flag(axis: str) -> str:
    return "--" + axis.replace("_", "-")


def _parse_filter(text: str, supported: tuple):
    """Comma- or space-separated values of one axis, typed like the axis's supported values."""
    kind = type(supported[0])
    values = []
    for item in str(text).replace(",", " ").split():
        if kind is bool:
            if item not in ("on", "off", "both"):
                raise ValueError(f"expected on, off or both, got {item!r}")
            values += [False, True] if item == "both" else [item == "on"]
        else:
            try:
                values.append(kind(item))
            except ValueError:
                raise ValueError(f"expected {kind.__name__} values, got {item!r}") from None
    return values


#: Options that an ``--hf-config`` hook takes (the model's dtypes and KV-cache dtype), not axis filters.
_MODEL_DTYPE_FLAG = "dtype"


def _read_config(path: str) -> dict:
    """The parsed JSON object in ``path``; ValueError naming the file otherwise."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise ValueError(f"--hf-config {path}: cannot read it: {e.strerror or e}") from None
    except ValueError as e:
        raise ValueError(f"--hf-config {path}: not JSON: {e}") from None
    if not isinstance(data, dict):
        raise ValueError(f"--hf-config {path}: expected a JSON object (a model's config.json), got {type(data).__name__}")
    return data


def _model_specs(path: str, ops: list, archs: list, dtypes: list, kv_cache_dtype: str, filters: dict) -> tuple:
    """``(specs, summary lines)``: each op's ``from_hf_config`` specs for the config at ``path``,
    restricted to the axis ``filters`` (axis -> texts). Raises ValueError (bad config, option or filter)."""
    config = _read_config(path)
    specs, lines = [], []
    for op in ops:
        try:
            found = op.from_hf_config(config, archs=archs, dtypes=dtypes or None, kv_cache_dtype=kv_cache_dtype)
        except (ValueError, NotImplementedError) as e:
            raise ValueError(f"--hf-config {path}: op {op.name}: {e}") from None
        op_filters = {x: [v for t in texts for v in _parse_filter(t, op.axes[x])]
                      for x, texts in filters.items() if x in op.axes}
        allowed = set(op.matrix(archs, op_filters, narrow=False)) if op_filters else None  # the model chose
        kept = [s for s in found.specs if allowed is None or s in allowed]
        note = f" ({len(found.specs) - len(kept)} left out by the filters)" if len(kept) < len(found.specs) else ""
        lines.append(f"{op.name}: {found.summary} -> {len(kept)} kernels for {', '.join(archs)}{note}")
        specs += kept
    return specs, lines


def main(argv=None) -> int:
    all_ops = registry.ops(include_internal=True)
    model_ops = [n for n, o in registry.ops().items() if o.from_hf_config is not None]
    axes = {}  # axis -> supported values of the first op that has it (the type of its values)
    for op in all_ops.values():
        for axis, supported in op.axes.items():
            axes.setdefault(axis, supported)
    p = argparse.ArgumentParser(
        prog="python -m aiter_swa.jit.prebuild",
        description="Pre-build aiter_swa kernels (no GPU needed) into DIR; use them with AITER_SWA_PREBUILT_DIR=DIR.",
        epilog="ops: " + "; ".join(f"{n} ({o.description}; axes: {', '.join(o.axes)})" for n, o in all_ops.items()))
    p.add_argument("--op", action="append", choices=sorted(all_ops),
                   help="op to build, repeatable (default: every op of the library, "
                        f"{', '.join(registry.ops())}; with --hf-config: every op with a model mapping, "
                        f"{', '.join(model_ops)})")
    p.add_argument("--arch", action="append", default=[],
                   help="offload target, repeatable: gfx942, gfx90a, sm_90 ... (default: $AITER_SWA_ARCHS)")
    p.add_argument("--hf-config", metavar="PATH",
                   help="a Hugging Face model's config.json: build exactly the kernels its attention layers need "
                        "(heads, KV heads, head size, windowed layers, soft cap); the axis filters narrow it")
    p.add_argument("--kv-cache-dtype", metavar="DTYPE",
                   help="with --hf-config: the KV cache's dtype, auto (the model's dtype; default) or a KV dtype "
                        "of the op")
    for axis, supported in axes.items():
        values = "on/off/both" if isinstance(supported[0], bool) else ",".join(map(str, supported))
        help_ = f"filter on axis {axis} (repeatable or comma-separated; e.g. {values})"
        if axis == _MODEL_DTYPE_FLAG:
            help_ = ("with --hf-config: the dtype the model runs in, bf16 or fp16 (default: the config's dtype); "
                     "otherwise " + help_)
        p.add_argument(_axis_flag(axis), action="append", metavar="VALUES", help=help_)
    p.add_argument("--jobs", "-j", type=_positive_int, help="parallel compiles (default: $AITER_SWA_MAX_JOBS, else CPUs)")
    p.add_argument("--out", help="output dir (manifest.json + one .so per kernel); required unless --list")
    p.add_argument("--force", action="store_true", help="rebuild kernels that are up to date in DIR")
    p.add_argument("--prune", action="store_true",
                   help="remove the kernels in DIR that are not selected, so DIR holds exactly the selection "
                        "(the install-time pre-build uses it)")
    p.add_argument("--list", action="store_true", help="print the selected specs and exit")
    p.add_argument("--resources-only", action="store_true",
                   help="compile only the device code (a few times faster; nothing is written) and print the "
                        "resource table; exit 1 on any scratch or spill")
    p.add_argument("--fast-path", action="store_true",
                   help="build the fast path's torch extension for the torch of this Python (host C++ compiler, no "
                        "GPU needed) into the kernel cache ($AITER_SWA_CACHE_DIR), where the first import would build "
                        "it, and exit (it is bound to this torch, so it is never written to --out)")
    if argv is None:
        argv = sys.argv[1:]
        try:
            extra = shlex.split(os.environ.get("AITER_SWA_PREBUILD_ARGS", ""))
        except ValueError as e:
            p.error(f"AITER_SWA_PREBUILD_ARGS: cannot split {os.environ['AITER_SWA_PREBUILD_ARGS']!r}: {e}")
        if extra:  # e.g. filters for the install-time pre-build, which setup.py runs with --arch/--out only
            print(f"aiter_swa.jit.prebuild: adding AITER_SWA_PREBUILD_ARGS: {shlex.join(extra)}", flush=True)
            argv = list(argv) + extra
    a = p.parse_args(argv)

    if a.fast_path:
        return _build_fast_path()
    try:
        archs = ([x for arch in a.arch for x in parse_archs(arch, "--arch")]
                 or parse_archs(os.environ.get("AITER_SWA_ARCHS", ""), "AITER_SWA_ARCHS"))
        if a.jobs is None:
            a.jobs = default_jobs()
        compile_timeout()
    except ValueError as e:
        p.error(str(e))
    if not archs:
        p.error("give at least one --arch (e.g. --arch gfx942) or set AITER_SWA_ARCHS")
    given = {axis: getattr(a, axis) for axis in axes if getattr(a, axis)}
    if a.hf_config:
        names = list(dict.fromkeys(a.op)) if a.op else model_ops
        no_hook = [n for n in names if all_ops[n].from_hf_config is None]
        if no_hook:
            p.error(f"--op {', '.join(no_hook)}: no model mapping for --hf-config (ops that have one: "
                    f"{', '.join(model_ops) or 'none'})")
        selected = [all_ops[n] for n in names]
        model_dtypes = [v for t in given.pop(_MODEL_DTYPE_FLAG, []) for v in t.replace(",", " ").split()]
    else:
        if a.kv_cache_dtype:
            p.error("--kv-cache-dtype: only with --hf-config (to filter the KV dtype axis use --kv-dtype)")
        selected = [all_ops[n] for n in dict.fromkeys(a.op)] if a.op else list(registry.ops().values())
    unused = [_axis_flag(x) for x in given if not any(x in op.axes for op in selected)]
    if unused:
        p.error(f"{', '.join(unused)}: no selected op ({', '.join(op.name for op in selected)}) has that axis")
    specs, summary = [], []
    try:
        for arch in archs:
            backend_of(arch)
        if a.hf_config:
            specs, summary = _model_specs(a.hf_config, selected, archs, model_dtypes, a.kv_cache_dtype or "auto", given)
        else:
            for op in selected:
                filters = {x: [v for t in texts for v in _parse_filter(t, op.axes[x])]
                           for x, texts in given.items() if x in op.axes}
                specs += op.matrix(archs, filters)
    except ValueError as e:
        p.error(str(e))
    for line in summary:
        print(f"aiter_swa.jit.prebuild: {line}", file=sys.stderr if a.list else sys.stdout, flush=True)
    if a.list:
        for s in specs:
            print(s.name)
        return 0
    if not a.out and not a.resources_only:
        p.error("--out DIR is required (or --list, --resources-only)")
    if not a.resources_only:
        try:
            safety.open_dir(a.out, setting=f"the pre-build output dir --out {a.out}", allow_root_owner=True,
                            create_mode=0o755).close()
        except (JitConfigError, UnsafeDirectoryError) as e:
            p.error(str(e))
    t0 = time.perf_counter()
    verbose = env_flag("AITER_SWA_VERBOSE")
    try:
        if a.resources_only:
            rows, failures = check_resources(specs, jobs=a.jobs, verbose=verbose, progress=not verbose)
        else:
            rows, failures = prebuild(specs, a.out, jobs=a.jobs, force=a.force, verbose=verbose, progress=not verbose,
                                      prune_others=a.prune)
    except ToolchainError as e:
        print(f"aiter_swa.jit.prebuild: {e}", file=sys.stderr)
        return 1
    print()
    print(format_table(rows))
    problems = [(name, pr) for name, b, res in rows for pr in spill_problems(res, b)]
    for name, pr in problems:
        print(f"warning: {name}: {pr}")
    where = "checked (device code only)" if a.resources_only else f"ready in {a.out}"
    model = f" for {a.hf_config}" if a.hf_config else ""
    print(f"aiter_swa.jit.prebuild: {len(specs) - len(failures)}/{len(specs)} kernels{model} {where} "
          f"({time.perf_counter() - t0:.1f} s); {len(failures)} failed; {len(problems)} spill/scratch warnings")
    for f in failures:
        print(f"FAILED: {f.spec.name if f.spec else 'ninja'}: see {f.log}", file=sys.stderr)
    return 1 if failures or (a.resources_only and problems) else 0


def _build_fast_path() -> int:
    """``--fast-path``: load (building it if needed) the fast path's torch extension through the loader."""
    from . import loader, torch_ext

    t0 = time.perf_counter()
    try:
        spec = torch_ext.fast_path_spec()
        loader.load_module(spec)
    except (JitError, ImportError) as e:
        print(f"aiter_swa.jit.prebuild: the fast path did not build: {e}", file=sys.stderr)
        return 1
    kind, path = loader.origin(spec)
    print(f"aiter_swa.jit.prebuild: fast path {spec.name} for torch {spec.torch_version}: {kind} {path} "
          f"({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
