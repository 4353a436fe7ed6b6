#!/usr/bin/env bash
# Call 3 of the 2026-11-29 (07:03 UTC) session, kept as it ran (docs/results.md records its output).
# About 7 minutes on a fresh H200; carry .whl and .peers (the Triton causal_conv1d peer).
#   A (in parallel, correctness and pre-builds): the one-token grid (test_pa_v1_swa.py, test_pa_v1_gpu.py)
#     under the new dispatch (GQA >= 8 on the matrix-core kernel); causal_conv1d's kernels (all 36 and the
#     tuning variants, cf_interior among them: an axis reverted after this call, which measured no gain)
#   B: causal_conv1d alone on the GPU: `run_gpu_suite.sh conv1d` (the seed batch with the Triton peer, the
#     long prefill in both layouts with the tuning variants, then its tests)
set -uo pipefail
OUT=${OUT:-gpu_logs}
L=/tmp/call_logs  # logs, packed into $OUT/phase_*.tgz after each phase (the device tool returns 8 files)
mkdir -p "$OUT" "$L"
export PYTHONUNBUFFERED=1 AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache
t0=$SECONDS
stamp() { echo "[+$((SECONDS - t0))s] $*"; }
pack() { tar czf "$OUT/phase_$1.tgz" -C "$L" .; }

python3 -m pip install -q --no-index --no-deps .whl/*.whl >"$L/install_whl.log" 2>&1
python3 -m pip install -q --no-deps --no-build-isolation -e . >"$L/install.log" 2>&1 || { tail -5 "$L/install.log"; exit 1; }
cp "$L/install.log" "$OUT/install.log"  # run_gpu_suite.sh skips its install when this exists
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
stamp "installed ($ARCH)"

# ---- A ----
timeout -k 10 "${A_TIMEOUT:-180}" python3 -m pytest -n 12 -v -rfEs -p no:cacheprovider --timeout 160 -m "not toolchain" \
    op_tests/pa_v1/test_pa_v1_swa.py op_tests/pa_v1/test_pa_v1_gpu.py >"$L/pytest_pa_auto.log" 2>&1 &
tests_pid=$!
{ python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op causal_conv1d --dtype bf16 --width 4 --activation silu \
      --cl-run 4,8 --cf-rows 2,4,8 --cf-fast 0,1 --cf-interior 0,1 --jobs 4 --out /tmp/kernels_conv1d_tuning
  python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op causal_conv1d --jobs 4 --out /tmp/kernels_conv1d; } \
    >"$L/prebuild_conv1d.log" 2>&1 &
pb1_pid=$!
wait $tests_pid; stamp "A: one-token grid (auto): $(tail -1 "$L/pytest_pa_auto.log")"
grep -E "^(FAILED|ERROR)" "$L/pytest_pa_auto.log" | head -20
wait $pb1_pid
stamp "A: pre-builds: $(tail -1 "$L/prebuild_conv1d.log")"
pack A

# ---- B: causal_conv1d alone (its pre-builds find the kernels of A up to date) ----
mkdir -p "$L/conv1d" && cp "$L/install.log" "$L/conv1d/install.log"
OUT="$L/conv1d" CONV1D_TEST_TIMEOUT=${CONV1D_TEST_TIMEOUT:-120} timeout -k 10 "${B_TIMEOUT:-230}" \
    bash op_tests/run_gpu_suite.sh conv1d 2>&1 | grep -vE "Warning|warner|sync_debug" | tail -60
stamp "B: causal_conv1d done"
pack B

