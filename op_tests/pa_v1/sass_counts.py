"""SASS instruction counts of pa_v1 kernels (a script, not a test; needs nvcc and cuobjdump, no GPU).

Renders the device code of a few specializations (``kernels_only``, as the pre-build's
``--resources-only`` does), compiles each with the JIT's own nvcc flags into a cubin, disassembles it
with ``cuobjdump -sass`` and prints, per kernel: instructions (NOP excluded), a few opcode counts,
registers and shared memory from ptxas, and the length of each loop (a backward branch) and the
position of each barrier, which is how the per-section comparisons of docs/results.md were made.

    python op_tests/pa_v1/sass_counts.py [--shape bf16:64:8] [--cuobjdump PATH]
    python op_tests/pa_v1/sass_counts.py --source old.cu --include OLD/csrc/include   # any translation unit

``--shape q_dtype:head_size:gqa[:flags]`` (flags: any of ``swa``, ``cap``, ``alibi``, and ``mma16`` /
``mma32`` / ``mma64`` for the matrix-core kernel with that many rows, its GQA a run-time value; default
``swa``),
repeatable; the default is the three shapes of kernel_times.py (gpt-oss, Mistral, the seed).
cuobjdump: ``--cuobjdump``, else ``$AITER_SWA_CUOBJDUMP``, else on PATH (Triton's wheel ships one in
``triton/backends/nvidia/bin``).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT_SHAPES = ["bf16:64:8:swa", "bf16:128:4:swa", "bf16:128:8:swa"]
OPCODES = ["IMAD", "LDC", "LDG", "LDS", "STS", "SHFL", "I2F", "F2I", "BAR", "BRA"]


def count(sass: str) -> list[dict]:
    """Per function of a ``cuobjdump -sass`` listing: name, instruction list (NOP excluded), loops, barriers."""
    out = []
    for fn in re.split(r"\n\s*Function : ", sass)[1:]:
        name = fn.split("\n")[0].strip()
        rows = []
        for line in fn.split("\n"):
            m = re.search(r"/\*([0-9a-f]{4,})\*/\s+(.*?);", line)
            if m:
                rows.append((int(m.group(1), 16), m.group(2).strip()))
        addrs = [a for a, _ in rows]
        ops = [re.sub(r"^@!?U?P\w+\s+", "", text).split(" ")[0] for _, text in rows]
        loops, bars = [], []
        for i, (a, text) in enumerate(rows):
            if ops[i].startswith("BAR"):
                bars.append(i)
            m = re.search(r"\bBRA\b.*?0x([0-9a-f]+)", text)
            if m and int(m.group(1), 16) <= a and int(m.group(1), 16) in addrs:
                loops.append((addrs.index(int(m.group(1), 16)), i))
        keep = [o for o in ops if o != "NOP"]
        out.append({"name": name, "ops": keep, "loops": loops, "bars": bars})
    return out


def compile_and_count(source: Path, include: Path, workdir: Path, cuobjdump: str, dump: Path | None = None) -> list[dict]:
    cubin = workdir / (source.stem + ".cubin")
    cmd = ["nvcc", "-x", "cu", "-gencode=arch=compute_90,code=sm_90", "-O3", "-std=c++17", "-cubin", "-Xptxas", "-v",
           f"-I{include}", str(source), "-o", str(cubin)]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"nvcc failed: {r.stderr[-2000:]}")
    res = re.findall(r"Compiling entry function '(\S+)'.*?Used (\d+) registers[^\n]*?(?:, (\d+) bytes smem)?\n",
                     r.stderr, re.S)  # fmt: skip
    regs = {n: (int(g), int(s or 0)) for n, g, s in res}
    sass = subprocess.run([cuobjdump, "-sass", str(cubin)], capture_output=True, text=True, check=True).stdout
    if dump is not None:
        dump.mkdir(parents=True, exist_ok=True)
        (dump / (source.stem + ".sass")).write_text(sass)
    funcs = count(sass)
    for f in funcs:
        f["regs"], f["smem"] = regs.get(f["name"], (None, None))
    return funcs


def render_shape(shape: str, workdir: Path) -> Path:
    from aiter_swa.jit.render import render
    from aiter_swa.ops.pa_v1.spec import PaV1Spec

    q, hs, gqa, *flags = shape.split(":")
    flags = set(flags or ["swa"])
    rows = [int(f[3:]) for f in flags if f.startswith("mma")]
    spec = PaV1Spec(q, q, q, int(hs), 1 if rows else int(gqa), "swa" in flags, "cap" in flags, "alibi" in flags,
                    "sm_90", rows[0] if rows else 0)
    path = workdir / f"{spec.name}.cu"
    path.write_text(render(spec, None, {"kernels_only": True}))
    return path


def add_cuobjdump_arg(ap: argparse.ArgumentParser) -> None:
    """``--cuobjdump``: default ``$AITER_SWA_CUOBJDUMP``, else cuobjdump on PATH."""
    ap.add_argument("--cuobjdump", default=os.environ.get("AITER_SWA_CUOBJDUMP") or shutil.which("cuobjdump"))


def tools_missing(cuobjdump: str | None) -> bool:
    """True (and a message on stderr) when nvcc is not on PATH or no cuobjdump was found."""
    if cuobjdump and shutil.which("nvcc"):
        return False
    print("sass_counts: needs nvcc on PATH and cuobjdump (--cuobjdump or $AITER_SWA_CUOBJDUMP)", file=sys.stderr)
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", action="append", help="q_dtype:head_size:gqa[:swa][:cap][:alibi]")
    ap.add_argument("--source", type=Path, help="a translation unit to compile instead of rendered shapes")
    ap.add_argument("--include", type=Path, help="include dir for --source")
    add_cuobjdump_arg(ap)
    ap.add_argument("--loops", action="store_true", help="also print loop lengths and barrier positions")
    ap.add_argument("--dump", type=Path, help="also write each unit's whole SASS listing into this folder")
    a = ap.parse_args(argv)
    if tools_missing(a.cuobjdump):
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if a.source:
            units = [(a.source, a.include or Path("."))]
        else:
            from aiter_swa.jit.paths import include_dir

            units = [(render_shape(s, work), include_dir()) for s in (a.shape or DEFAULT_SHAPES)]
        for src, inc in units:
            for f in compile_and_count(src, inc, work, a.cuobjdump, a.dump):
                c = collections.Counter(o.split(".")[0] for o in f["ops"])
                short = re.sub(r"^_ZN9aiter_swa\d*", "", f["name"])[:80]
                extra = " ".join(f"{k} {c[k]}" for k in OPCODES)
                print(f"{short}: {len(f['ops'])} instructions, {f['regs']} registers, {f['smem']} B smem; {extra}")
                if a.loops:
                    print("   loops (first..last index: length):",
                          ", ".join(f"{b}..{e}: {e - b}" for b, e in f["loops"]), "| barriers at", f["bars"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
