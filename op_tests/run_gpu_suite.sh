#!/usr/bin/env bash
# One GPU session in one command: install, correctness on the GPU (the full 792-case grid and every
# other test), then the benchmark. Logs go under $OUT (default ./gpu_logs).
#
#   bash op_tests/run_gpu_suite.sh            # tests + benchmark
#   bash op_tests/run_gpu_suite.sh tests      # or: bench
#
# Kernels compile on first use into $AITER_SWA_CACHE_DIR; pytest-xdist workers share that cache
# (one compile per kernel, under its file lock), so the first run compiles in parallel.
set -uo pipefail
OUT=${OUT:-gpu_logs}
mkdir -p "$OUT"
what=${1:-all}
export AITER_SWA_CACHE_DIR=${AITER_SWA_CACHE_DIR:-/tmp/aiter_swa_cache} PYTHONUNBUFFERED=1

{ python3 -m pip install --no-deps --no-build-isolation -e . || python3 -m pip install --no-deps --no-build-isolation .; } \
    >"$OUT/install.log" 2>&1 || { tail -20 "$OUT/install.log"; exit 1; }
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv 2>/dev/null || rocm-smi --showproductname; \
  python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"; date -u; } | tee "$OUT/device.txt"

rc=0
if [ "$what" = all ] || [ "$what" = tests ]; then
    AITER_SWA_FULL_GRID=1 python3 -m pytest op_tests -q -rs -m "not toolchain" -n "${JOBS:-16}" -p no:cacheprovider \
        >"$OUT/pytest.log" 2>&1 || rc=1
    grep -E "^(FAILED|ERROR)" "$OUT/pytest.log" | head -20
    tail -3 "$OUT/pytest.log"
fi
if [ "$what" = all ] || [ "$what" = bench ]; then
    python3 op_tests/bench_pa_v1_swa.py "${@:2}" 2>&1 | tee "$OUT/bench.log" || rc=1
fi
exit $rc
