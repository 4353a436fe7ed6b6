"""The hostile-metadata cases (``testlib.pa_v1_hostile``) on the GPU, for compute-sanitizer memcheck.

Runs every case twice, with ``AITER_SWA_DEBUG_CHECKS`` off (the kernel's own guards: NaN rows,
clamped lengths) and on (a ValueError naming the argument), checks the contract of each and prints
one line per case; exit status 1 on any problem. Under memcheck (the proof that no access leaves
the tensors), with torch's caching allocator off so each tensor is its own allocation::

    PYTORCH_NO_CUDA_MEMORY_CACHING=1 compute-sanitizer --tool memcheck --error-exitcode 3 \\
        python op_tests/pa_v1/sanitize_pa_v1.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # testlib
import aiter_swa  # noqa: E402,F401
from testlib.pa_v1_hostile import hostile_cases, run_hostile  # noqa: E402


def main() -> int:
    if not torch.cuda.is_available():
        print("sanitize_pa_v1: no GPU visible to torch")
        return 2
    bad = 0
    cases = hostile_cases("cuda")
    for h in cases:
        for debug in (False, True):
            problems = run_hostile(h, debug=debug)
            bad += bool(problems)
            print(f"{'FAIL' if problems else 'ok  '} {h.name} (debug checks {'on' if debug else 'off'})"
                  + "".join(f"\n     {p}" for p in problems), flush=True)  # fmt: skip
    print(f"sanitize_pa_v1: {2 * len(cases)} runs, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
