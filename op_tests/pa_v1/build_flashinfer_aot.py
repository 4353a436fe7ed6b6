"""Build, ahead of time, the FlashInfer JIT modules that bench_pa_v1_swa.py's FlashInfer columns load.

FlashInfer (``flashinfer-python``) compiles each attention module with nvcc on first use, minutes
per module; on the GPU machine that is scarce device time. This script asks FlashInfer's own JIT
(``flashinfer.jit.gen_batch_prefill_module`` / ``gen_batch_decode_module``: the same generators,
sources and flags ``BatchDecodeWithPagedKVCacheWrapper.plan`` uses) to build the modules on a CPU
machine with nvcc, without loading them. ``../shared/peers/trim_flashinfer_wheel.py`` then packs
each ``<cache>/cached_ops/<name>/<name>.so`` into the wheel as ``flashinfer/data/aot/<name>/<name>.so``,
which FlashInfer loads instead of compiling (``flashinfer.jit.env.get_aot_artifacts``), so that
``FLASHINFER_DISABLE_JIT=1`` works on the GPU machine (a module left out fails at once there, and
the benchmark shows that column as ``n/a``).

The module set is what the benchmark's rows plan (see ``flashinfer_module_args`` in
bench_pa_v1_swa.py, the one place that maps a row to a module): per head dim and per
window on/off, the tensor-core decode module (FlashInfer's ``fa2`` batch prefill module: decode
with ``use_tensor_cores=True`` plans through it, one query per request, and also causal multi-token
requests with ``q_len_per_req > 1``) and the CUDA-core batch decode module. No soft cap, no
position encoding, int32 page indices, q / kv / out of one dtype.

Run (op_tests/pa_v1/fetch_peers.sh does; nvcc on PATH, FlashInfer and apache-tvm-ffi importable,
a libcuda to link against, e.g. a stub via FLASHINFER_EXTRA_LDFLAGS=-L<dir>):

    FLASHINFER_CUDA_ARCH_LIST=9.0 FLASHINFER_WORKSPACE_BASE=/tmp/fi_ws MAX_JOBS=2 \\
        python op_tests/pa_v1/build_flashinfer_aot.py --head-dims 64 128 256 --dtypes bf16 --windows on off
    # prints each module's name and build time; the .so files land under
    # $FLASHINFER_WORKSPACE_BASE/.cache/flashinfer/<version>/<arch>/cached_ops/
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

# The benchmark's mapping from a row to FlashInfer's module arguments (shared, so the two agree).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import flashinfer_module_args  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--head-dims", nargs="+", type=int, default=[64, 128, 256])
    ap.add_argument("--dtypes", nargs="+", default=["bf16"], choices=["bf16", "fp16"])
    ap.add_argument("--windows", nargs="+", default=["on", "off"], choices=["on", "off"],
                    help="sliding window on (window_left >= 0) and/or off (window_left = -1)")
    ap.add_argument("--kinds", nargs="+", default=["tc", "cuda"], choices=["tc", "cuda"],
                    help="tc: tensor-core decode (fa2 batch prefill module); cuda: CUDA-core batch decode module")
    ap.add_argument("--list", action="store_true", help="print the module names only, build nothing")
    args = ap.parse_args(argv)

    import torch
    from flashinfer.jit import gen_batch_decode_module, gen_batch_prefill_module

    dt = {"bf16": torch.bfloat16, "fp16": torch.float16}
    total = time.perf_counter()
    # the window-on, tensor-core modules first: the issue-8 rows need them most
    for window, kind, d, dts in itertools.product(args.windows, args.kinds, args.head_dims, args.dtypes):
        margs = flashinfer_module_args(kind, dt[dts], d, window_left=0 if window == "on" else -1, soft_cap=0.0)
        spec = gen_batch_prefill_module(*margs) if kind == "tc" else gen_batch_decode_module(*margs)
        if args.list:
            print(spec.name)
            continue
        t0 = time.perf_counter()
        spec.build(verbose=False)
        print(f"built {spec.name} in {time.perf_counter() - t0:.0f} s -> {spec.jit_library_path}", flush=True)
    if not args.list:
        print(f"all modules built in {time.perf_counter() - total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
