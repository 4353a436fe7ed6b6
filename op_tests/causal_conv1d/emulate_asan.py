"""The forward kernel's device code on the CPU emulator under AddressSanitizer, at the benchmark's shape.

The emulator of ``test_causal_conv1d_emulated.py`` counts misaligned 16-byte accesses; this adds
address checks: ``emulator/emu.cpp`` built with ``-fsanitize=address`` and run in a Python whose
``LD_PRELOAD`` is the compiler's ``libasan.so``, on inputs made by ``bench_causal_conv1d.make_inputs``
(every tensor in its own allocation, so a read or write past any of them lands in a redzone and
aborts the run with ASan's report), launched with the values ``gpu.run_fwd`` would pass, then
checked against the float64 reference (outputs, written states, every other cache line untouched).
Exit status 0: no ASan report, no misaligned vector access, results match.

    python op_tests/causal_conv1d/emulate_asan.py                          # the long prefill, channel-last, cl_run 8
    python op_tests/causal_conv1d/emulate_asan.py --layout channel_first,channel_last --tuned 0,1
    python op_tests/causal_conv1d/emulate_asan.py --lens 300,40,1,2 --dim 512   # seconds, not minutes

The benchmark's long prefill (7171 tokens x 8192 channels) takes about 4 minutes per layout on one
CPU core (one std::thread per GPU thread, 3600-3700 workgroups). ``--tuned 1``: the benchmark's
tuning variant (bf16, width 4, SiLU only: ``cl_run`` / ``cf_rows`` 8); channel-first also ``2``
(``cf_rows`` 2), ``3`` (``cf_fast`` 0), ``4`` (``cf_fast`` 0 with ``cf_rows`` 2); either layout ``5``
(``walk`` 1: ``fwd_kernel_walk``).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
HEADER = ROOT / "csrc" / "include" / "aiter_swa" / "causal_conv1d" / "kernel.h"
CUT = "// Host launches from the launchers' arguments"
_PRELOADED = "AITER_SWA_EMU_ASAN_PRELOADED"


def compiler() -> str | None:
    """A host C++ compiler whose ASan runtime exists as a file (``-print-file-name=libasan.so``)."""
    for cxx in ("g++", "clang++-19", "clang++"):
        path = shutil.which(cxx)
        if path:
            lib = subprocess.run([path, "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
            if os.path.isabs(lib) and os.path.isfile(lib):
                return path
    return None


def build(cxx: str, out_dir: Path) -> tuple[Path, str]:
    """emu.so with ASan in ``out_dir``, and the ASan runtime to preload."""
    text = HEADER.read_text()
    (out_dir / "kernel_device.h").write_text(
        text[: text.index(CUT)] + "}  // namespace causal_conv1d\n}  // namespace aiter_swa\n")  # fmt: skip
    so = out_dir / "emu_asan.so"
    cmd = [cxx, "-std=c++20", "-O1", "-g", "-fsanitize=address", "-fno-omit-frame-pointer", "-fPIC", "-shared",
           "-D__HIPCC__", "-DAITER_SWA_EMU_BENCH_SPECS_ONLY", f"-I{ROOT / 'op_tests' / 'testlib' / 'emulator'}", f"-I{ROOT / 'csrc' / 'include'}",
           f"-I{out_dir}", str(HERE / "emulator" / "emu.cpp"), "-o", str(so), "-lpthread"]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"emulate_asan: the emulator does not build with {cxx}:\n{r.stderr[-3000:]}")
    lib = subprocess.run([cxx, "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    return so, lib


def run(so: Path, lens, dim: int, layout: str, tuned: int) -> int:
    """In the preloaded process: the inputs, the emulated launch, the comparison. Returns the exit status."""
    sys.path[:0] = [str(HERE), str(ROOT / "op_tests")]
    import torch

    torch.set_num_threads(1)
    import bench_causal_conv1d as bench

    from aiter_swa.ops.causal_conv1d.call import validate_fwd
    from aiter_swa.ops.causal_conv1d.reference import causal_conv1d_fwd_reference

    lib = ctypes.CDLL(str(so))
    lib.emu_fwd.argtypes = [ctypes.c_int] * 4 + [ctypes.c_void_p] * 8 + [ctypes.c_int] * 13
    lib.emu_misaligned_and_reset.restype = ctypes.c_long
    inp = bench.make_inputs(lens, dim, 4, torch.bfloat16, "cpu", layout)
    for k in ("x", "weight", "bias", "query_start_loc", "cache_indices", "has_initial_state"):  # own allocations
        inp[k] = inp[k].clone(memory_format=torch.preserve_format)
    out = torch.full_like(inp["x"], float("nan"))
    c = validate_fwd(out, inp["x"], inp["weight"], inp["bias"], inp["conv_states"], inp["query_start_loc"],
                     inp["cache_indices"], inp["has_initial_state"], "silu", -1, inp["seq_lens_cpu"])  # fmt: skip
    before = c.conv_states.clone()
    ref_out, ref_states = causal_conv1d_fwd_reference(c.x, c.weight, c.bias, before, c.query_start_loc, c.cache_indices,
                                                      c.has_initial_state, "silu", -1)  # fmt: skip
    d, sw, ss = c.dims, c.weight.stride(), c.conv_states.stride()
    print(f"lens {lens} (total {d.total_tokens}), dim {dim}, bf16 w4 SiLU, {layout}, tuned {int(tuned)}; "
          f"x strides {c.x.stride()}, states strides {ss}, {d.num_cache_lines} lines", flush=True)  # fmt: skip
    t0 = time.time()
    lib.emu_fwd(1, 4, 1, int(layout == "channel_last"), out.data_ptr(), c.x.data_ptr(), c.weight.data_ptr(),
                c.bias.data_ptr(), c.conv_states.data_ptr(), c.query_start_loc.data_ptr(), c.cache_indices.data_ptr(),
                c.has_initial_state.data_ptr(), d.num_seqs, d.dim, d.total_tokens, c.pad_slot_id, d.num_cache_lines,
                c.x.stride(0), c.x.stride(1), sw[0], sw[1], *ss, int(tuned))  # fmt: skip
    misaligned = lib.emu_misaligned_and_reset()
    written = ~torch.isnan(ref_out)
    err = (out.double()[written] - ref_out[written]).abs().max().item() if written.any() else 0.0
    untouched_nan = bool(torch.isnan(out.double()[~written]).all())
    states_ok = all(torch.equal(c.conv_states[line], v) for line, v in ref_states.items())
    others = [line for line in range(d.num_cache_lines) if line not in ref_states]
    others_ok = all(torch.equal(c.conv_states[o].view(torch.int16), before[o].view(torch.int16)) for o in others)
    ok = misaligned == 0 and err < 0.05 and untouched_nan and states_ok and others_ok
    print(f"emulated in {time.time() - t0:.0f} s under ASan: no ASan report; misaligned 16-byte accesses {misaligned}; "
          f"max |out - ref| {err:.3g} (bf16); tokens not written still NaN: {untouched_nan}; "
          f"written states exact: {states_ok}; other {len(others)} lines untouched: {others_ok}: "
          f"{'OK' if ok else 'FAILED'}", flush=True)  # fmt: skip
    return 0 if ok else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lens", default="4096,2048,1024,1,1,1")
    ap.add_argument("--dim", type=int, default=8192)
    ap.add_argument("--layout", default="channel_last", help="channel_last, channel_first or both (comma-separated)")
    ap.add_argument("--tuned", default="1", help="0, 1, 5 (walk=1) (and, channel-first only, 2, 3, 4), comma-separated: "
                                                 "every (layout, tuned) pair runs")
    ap.add_argument("--so", default="", help=argparse.SUPPRESS)  # set in the preloaded child
    a = ap.parse_args(argv)
    lens = [int(v) for v in a.lens.split(",") if v]
    layouts, tuned = a.layout.split(","), [int(v) for v in a.tuned.split(",")]
    if (not set(layouts) <= {"channel_last", "channel_first"} or not set(tuned) <= {0, 1, 2, 3, 4, 5}
            or ("channel_last" in layouts and not set(tuned) <= {0, 1, 5})):
        ap.error(f"--layout: expected channel_last and/or channel_first, --tuned 0, 1 and/or 5 (channel_first alone: "
                 f"also 2, 3, 4); got {a.layout!r}, {a.tuned!r}")
    if os.environ.get(_PRELOADED):  # one process for every case: Python and torch start once under ASan
        return max(run(Path(a.so), lens, a.dim, layout, t) for layout in layouts for t in tuned)
    cxx = compiler()
    if cxx is None:
        print("emulate_asan: no host C++ compiler with an ASan runtime (g++, clang++)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="conv1d_asan_") as d:
        so, asan = build(cxx, Path(d))
        env = dict(os.environ, LD_PRELOAD=asan, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0", **{_PRELOADED: "1"})
        argv2 = [sys.executable, __file__, "--lens", a.lens, "--dim", str(a.dim), "--layout", a.layout,
                 "--tuned", str(a.tuned), "--so", str(so)]  # fmt: skip
        return subprocess.run(argv2, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
