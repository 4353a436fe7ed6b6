"""SASS instruction counts of causal_conv1d forward kernels for sm_90 (a script, not a test; needs nvcc
and cuobjdump, no GPU).

Renders the device code of bf16 / fp16 / fp32 specializations and their tuning variants
(``kernels_only``, as the pre-build's ``--resources-only`` does), compiles each with the JIT's nvcc
flags and prints, per ``fwd_kernel``: instructions (NOP excluded), registers, shared memory, a few
opcode counts, the loops (first..last instruction index: length) and the barriers' positions; the
same counting as ``op_tests/pa_v1/sass_counts.py``, whose helpers it uses.

    python op_tests/causal_conv1d/sass_counts.py                       # the benchmark's channel-first variants
    python op_tests/causal_conv1d/sass_counts.py --variant default --variant cf_fast=0,cf_rows=2 \\
        --dtype fp32 --layout channel_first

``--variant``: ``default`` or the benchmark's ``--variants`` spelling of one variant (``cf_rows=2``,
``cf_fast=0,cf_rows=2``, ``cl_run=8`` with ``--layout channel_last``). cuobjdump: ``--cuobjdump``, else
``$AITER_SWA_CUOBJDUMP``, else on PATH (Triton's wheel ships one in ``triton/backends/nvidia/bin``).
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pa_v1"))
import sass_counts as pa_sass  # noqa: E402

OPCODES = ["LDG", "STG", "LDS", "STS", "SHFL", "MUFU", "FFMA", "BAR", "BRA"]
DEFAULT_VARIANTS = ["default", "cf_rows=2", "cf_fast=0", "cf_fast=0,cf_rows=2"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", action="append", help="default, or e.g. cf_rows=2 / cf_fast=0,cf_rows=2 (repeatable)")
    ap.add_argument("--dtype", default="bf16", choices=["fp16", "bf16", "fp32"])
    ap.add_argument("--width", type=int, default=4)
    ap.add_argument("--activation", default="silu")
    ap.add_argument("--layout", default="channel_first", choices=["channel_first", "channel_last"])
    pa_sass.add_cuobjdump_arg(ap)
    a = ap.parse_args(argv)
    if pa_sass.tools_missing(a.cuobjdump):
        return 2
    from aiter_swa.jit.paths import include_dir
    from aiter_swa.jit.render import render
    from aiter_swa.ops.causal_conv1d.spec import CausalConv1dSpec

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for v in a.variant or DEFAULT_VARIANTS:
            tuning = {} if v == "default" else {k: int(x) for k, x in (kv.split("=") for kv in v.split(","))}
            spec = CausalConv1dSpec(dtype=a.dtype, width=a.width, activation=a.activation, layout=a.layout,
                                    arch="sm_90", **tuning)  # fmt: skip
            src = work / f"{spec.name}.cu"
            src.write_text(render(spec, None, {"kernels_only": True}))
            for f in pa_sass.compile_and_count(src, include_dir(), work, a.cuobjdump):
                if "fwd_kernel" not in f["name"]:
                    continue
                c = collections.Counter(o.split(".")[0] for o in f["ops"])
                print(f"{spec.name}: {len(f['ops'])} instructions, {f['regs']} registers, {f['smem']} B smem; "
                      + " ".join(f"{k} {c[k]}" for k in OPCODES))  # fmt: skip
                print("   loops:", ", ".join(f"{b}..{e}: {e - b}" for b, e in f["loops"]), "| barriers at", f["bars"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
