"""Load every pre-built causal_conv1d kernel the way the op does, and say where each came from (GPU suite).

For each specialization of the op's default matrix on ``--arch`` (and the tuning variants found in
the pre-built dirs), in one plain process: the pre-built dirs' manifest lookup
(:func:`aiter_swa.jit.manifest.find`: found or not), then :func:`aiter_swa.jit.loader.load_module`,
its origin (``prebuilt``, ``cache``, ``compiled``) and the seconds it took. Run it with
``AITER_SWA_PREBUILT_DIR`` set and ``AITER_SWA_DISABLE_JIT=1`` (then a kernel that is not pre-built
fails with the JIT's message naming the dirs searched) and ``python -W always`` (every JitWarning:
why a pre-built kernel was ignored). Exit status 1 if any kernel did not load from a pre-built dir.

    AITER_SWA_PREBUILT_DIR=/tmp/kernels_conv1d AITER_SWA_DISABLE_JIT=1 python -W always \\
        op_tests/causal_conv1d/check_prebuilt.py --arch sm_90
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", required=True, help="offload target of the pre-built kernels, e.g. sm_90 or gfx942")
    a = ap.parse_args(argv)
    from aiter_swa.jit import loader, manifest
    from aiter_swa.ops.causal_conv1d.spec import OP

    dirs = manifest.prebuilt_dirs()
    print(f"pre-built dirs: {[str(d) for d in dirs] or 'none'} (AITER_SWA_PREBUILT_DIR="
          f"{os.environ.get('AITER_SWA_PREBUILT_DIR', '')!r}, AITER_SWA_DISABLE_JIT="
          f"{os.environ.get('AITER_SWA_DISABLE_JIT', '')!r})")  # fmt: skip
    for d in dirs:
        m = manifest.read_manifest(d) or {}
        print(f"  {d}: {len(m.get('kernels', {}))} kernels, package {m.get('package_version')}, "
              f"abi {m.get('python_abi')}, current {manifest.is_current(m) if m else False}")  # fmt: skip
    specs = OP.matrix([a.arch])
    specs += [s for s in OP.matrix([a.arch], narrow=False) if s not in specs
              and any(manifest.read_manifest(d) and s.to_json() in manifest.read_manifest(d)["kernels"] for d in dirs)]
    counts: dict = {}
    for spec in specs:
        found = [str(d) for d in dirs if (manifest.read_manifest(d) or {}).get("kernels", {}).get(spec.to_json())]
        t0 = time.perf_counter()
        try:
            loader.load_module(spec)
            kind, path = loader.origin(spec)
        except Exception as e:  # noqa: BLE001 - report every kernel
            kind, path = "FAILED", f"{type(e).__name__}: {str(e).replace(chr(10), ' ')[:400]}"
        counts[kind] = counts.get(kind, 0) + 1
        print(f"{spec.name}: {kind} in {time.perf_counter() - t0:.3f} s ({path}); in manifests: {found or 'none'}")
    print(f"check_prebuilt: {len(specs)} kernels: {counts}")
    return 0 if set(counts) <= {"prebuilt"} else 1


if __name__ == "__main__":
    sys.exit(main())
