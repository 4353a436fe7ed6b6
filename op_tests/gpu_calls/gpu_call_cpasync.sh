#!/usr/bin/env bash
# One GPU call for branch cpasync (issue 8: the matrix-core kernel's K/V copied global -> shared by
# cp.async into a ring of two stages on NVIDIA sm_80+, docs/design.md "The K/V ring"). About 5 minutes
# on a fresh H200 (install 15 s, A at most 180 s, B at most 90 s). Run from the repository root of the carried working tree, with the branch's tree
# beside it in .cpasync (installed apart with `pip --target`; `python3 -P` keeps .cpasync's own
# aiter_swa/ folder, which lacks aiter_swa.jit, off sys.path):
#   git archive cpasync | tar -x -C .cpasync        (here, before the call; .cpasync is git-ignored or carried)
#   run: bash .cpasync/op_tests/gpu_calls/gpu_call_cpasync.sh   carry: [".cpasync"] (and ".whl" if pytest-timeout /
#        pytest-xdist wheels are needed; installed when present)
#   A (in parallel): the matrix-core GPU tests (test_pa_v1_mma_gpu.py, test_pa_v1_mtp_gpu.py) on the
#     ring kernels; the pre-build of the benchmark's kernels (bf16, window on, head sizes 64/128/256,
#     16 and 32 rows) with their resource table (registers per kernel)
#   B: issue 8's rows on the matrix-core kernel (ours only; same rows as call 2 of 2026-11-29 07:03)
# Logs: $OUT/phase_A.tgz and $OUT/phase_B.tgz (each the whole log folder so far), stdout a summary.
set -uo pipefail
OUT=${OUT:-gpu_logs}
SRC=${CPASYNC_SRC:-.cpasync}
SITE=/tmp/cpasync_site
KERNELS=/tmp/kernels_cpasync
L=/tmp/cpasync_call_logs
mkdir -p "$OUT" "$L"
OUT=$(cd "$OUT" && pwd)
export PYTHONUNBUFFERED=1
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache_cpasync
t0=$SECONDS
stamp() { echo "[+$((SECONDS - t0))s] $*"; }
pack() { tar czf "$OUT/phase_$1.tgz" -C "$L" .; }

# run from inside the branch's tree itself: that tree
[ ! -d "$SRC/op_tests" ] && [ -f op_tests/gpu_calls/gpu_call_cpasync.sh ] && SRC=.
[ -d "$SRC/op_tests" ] || { echo "no $SRC/op_tests: carry the branch's tree as $SRC (git archive cpasync | tar -x -C $SRC)"; exit 2; }
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps .whl/*.whl >"$L/install_whl.log" 2>&1 || tail -3 "$L/install_whl.log"
fi
timeout -k 10 150 python3 -m pip install -q --no-deps --no-build-isolation --target "$SITE" "./$SRC" \
    >"$L/install.log" 2>&1 || { tail -5 "$L/install.log"; pack A; exit 1; }
cd "$SRC" || exit 1
export PYTHONPATH=$SITE
ARCH=$(python3 -P -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
JOBS=$(nproc)
XDIST=(); python3 -P -c "import xdist" 2>/dev/null && XDIST=(-n 12)
PTO=(); python3 -P -c "import pytest_timeout" 2>/dev/null && PTO=(--timeout 160)
stamp "installed ($ARCH, $JOBS CPUs, pytest ${XDIST[*]} ${PTO[*]})"

# ---- A: GPU tests and the benchmark's pre-build, in parallel ----
timeout -k 10 "${A_TIMEOUT:-180}" python3 -P -m pytest "${XDIST[@]}" "${PTO[@]}" -rfEs --tb=short -p no:cacheprovider \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_mtp_gpu.py >"$L/pytest_gpu.log" 2>&1 &
test_pid=$!
(cd /tmp && timeout -k 10 "${A_TIMEOUT:-180}" python3 -P -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 \
    --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --sliding-window on \
    --head-size 64,128,256 --gqa 1 --mma-rows 16,32 --jobs 4 --out "$KERNELS") >"$L/prebuild.log" 2>&1 &
pb_pid=$!
wait $pb_pid; stamp "A: pre-build: $(tail -1 "$L/prebuild.log")"
grep -E "mma_partition_kernel|^spec" "$L/prebuild.log" | head -12
wait $test_pid; stamp "A: GPU tests: $(tail -1 "$L/pytest_gpu.log")"
grep -hE "^(FAILED|ERROR)" "$L/pytest_gpu.log" | head -20
pack A

# ---- B: issue 8's rows, the matrix-core kernel only ----
AITER_SWA_PREBUILT_DIR=$KERNELS timeout -k 10 "${B_TIMEOUT:-90}" python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 \
    --no-peers --kernel mma --reps 10 --rows "mistral B32 16K w4096" "mistral B1 32K w4096" "gpt-oss B64 16K w128" \
    "gpt-oss B64 16K w4096" "gpt-oss B64 16K w4096 mtp4" "gemma3 B16 16K w1024" "seed B8 9216 w8192" \
    >"$L/bench.log" 2>&1
stamp "B: benchmark done (rc $?)"
grep -vE "Warning|warner|sync_debug" "$L/bench.log" | tail -16
pack B
