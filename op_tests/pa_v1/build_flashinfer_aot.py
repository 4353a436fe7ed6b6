"""Build, ahead of time, the FlashInfer JIT modules that bench_pa_v1_swa.py's FlashInfer columns load.

FlashInfer (``flashinfer-python``) compiles each attention module with nvcc on first use, minutes
per module; on the GPU machine that is scarce device time. This script asks FlashInfer's own JIT
(the generators ``BatchDecodeWithPagedKVCacheWrapper.plan`` loads its modules through, see
``module_spec``: same sources and flags) to build the modules on a CPU
machine with nvcc, without loading them. ``../shared/peers/trim_flashinfer_wheel.py`` then packs
each ``<cache>/cached_ops/<name>/<name>.so`` into the wheel as ``flashinfer/data/aot/<name>/<name>.so``,
which FlashInfer loads instead of compiling (``flashinfer.jit.env.get_aot_artifacts``), so that
``FLASHINFER_DISABLE_JIT=1`` works on the GPU machine (a module left out fails at once there, and
the benchmark shows that column as ``n/a``).

The module set is what the benchmark's rows plan (``flashinfer_module_args`` in peers.py maps a
row to a module; ``bench_pa_v1_swa.py --issue8 --dry-run`` lists them): per head dim and per
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
import os
import sys
import time
from pathlib import Path

# The benchmark's mapping from a row to FlashInfer's module arguments (shared, so the two agree).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import flashinfer_module_args  # noqa: E402


def module_spec(kind: str, margs: tuple):
    """FlashInfer's JitSpec for one module, from the generator its decode wrapper loads it through.

    Tensor cores: ``flashinfer.prefill.get_batch_prefill_module("fa2", ...)`` loads
    ``_gen_batch_prefill_primary_module`` (the full module with equal K / V page strides, URI suffix
    ``_kv_stride_equal``; our K and V caches have equal strides, so its lazily loaded
    independent-stride module is never needed); where that private name is missing (another
    FlashInfer version) the public ``gen_batch_prefill_module``. CUDA cores:
    ``get_batch_decode_module`` loads ``gen_batch_decode_module``.
    """
    if kind == "tc":
        try:
            from flashinfer.prefill import _gen_batch_prefill_primary_module as gen  # noqa: PLC0415
        except ImportError:
            from flashinfer.jit import gen_batch_prefill_module as gen  # noqa: PLC0415
        return gen(*margs)
    from flashinfer.jit import gen_batch_decode_module  # noqa: PLC0415

    return gen_batch_decode_module(*margs)


def verify(head_dims, windows, dtypes) -> int:
    """With FLASHINFER_DISABLE_JIT=1, load every module through the wrapper's own getters (AOT only).

    Run against the installed trimmed wheel (a libcuda on the loader path: a stub is enough); prints
    each module and exits 1 if one is missing, so a wrong module set shows before the GPU run.
    """
    import torch
    from flashinfer.decode import get_batch_decode_module  # noqa: PLC0415
    from flashinfer.prefill import get_batch_prefill_module  # noqa: PLC0415

    assert os.environ.get("FLASHINFER_DISABLE_JIT"), "verify: set FLASHINFER_DISABLE_JIT=1"
    dt = {"bf16": torch.bfloat16, "fp16": torch.float16}
    bad = 0
    for window, d, kind, dts in itertools.product(windows, head_dims, ("tc", "cuda"), dtypes):
        margs = flashinfer_module_args(kind, dt[dts], d, window_left=0 if window == "on" else -1, soft_cap=0.0)
        try:
            get_batch_prefill_module(*margs) if kind == "tc" else get_batch_decode_module(*margs)
            print(f"verify: {kind:4} d{d} window {window} {dts}: loads (AOT)")
        except Exception as e:  # noqa: BLE001
            bad += 1
            print(f"verify: {kind:4} d{d} window {window} {dts}: {type(e).__name__}: {str(e)[:120]}")
    return 1 if bad else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--head-dims", nargs="+", type=int, default=[64, 128, 256])
    ap.add_argument("--dtypes", nargs="+", default=["bf16"], choices=["bf16", "fp16"])
    ap.add_argument("--windows", nargs="+", default=["on", "off"], choices=["on", "off"],
                    help="sliding window on (window_left >= 0) and/or off (window_left = -1)")
    ap.add_argument("--kinds", nargs="+", default=["tc", "cuda"], choices=["tc", "cuda"],
                    help="tc: tensor-core decode (fa2 batch prefill module); cuda: CUDA-core batch decode module")
    ap.add_argument("--list", action="store_true", help="print the module names only, build nothing")
    ap.add_argument("--verify", action="store_true",
                    help="build nothing: load each module through FlashInfer's getters with FLASHINFER_DISABLE_JIT=1")
    args = ap.parse_args(argv)
    if args.verify:
        return verify(args.head_dims, args.windows, args.dtypes)

    import torch

    dt = {"bf16": torch.bfloat16, "fp16": torch.float16}
    total = time.perf_counter()
    # in the order given: head dim by head dim, tensor-core then CUDA-core (the first rows first)
    for window, d, kind, dts in itertools.product(args.windows, args.head_dims, args.kinds, args.dtypes):
        spec = module_spec(kind, flashinfer_module_args(kind, dt[dts], d, window_left=0 if window == "on" else -1,
                                                        soft_cap=0.0))  # fmt: skip
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
