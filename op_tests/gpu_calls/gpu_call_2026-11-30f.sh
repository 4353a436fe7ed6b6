#!/usr/bin/env bash
# 2026-11-30 (02:24 UTC session), call 2: the warp split with one warp per 16-key slice (MmaSpec::NUM_WARPS =
# KEY_TILE / 16): at head 128 two warps of 64 threads, each owning all 128 columns of O (64 accumulators), the
# query's A fragments in registers, no q.k or softmax computed twice (the two warps of a group did both before);
# sm_90 SASS: 580 instructions per warp and 32-key tile, 2 warps (1160 per tile) against 425 x 4 (1700); 168
# registers, zero spills; 40.6 KiB shared memory, so 5 workgroups per SM (spec.mma_workgroups_per_sm). Head 64
# (gpt-oss) keeps 4 warps of a 64-key tile: its rows are the control. New against old (HEAD's csrc/include and
# spec.py: .ab_old, carried), new / old / new / old, forced matrix-core kernel, each row checked against the
# reference before it is timed; then the matrix-core and multi-token GPU tests on the new tree.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30f.sh   carry: .ab_old.  Logs: $OUT/call_30f.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_30f; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
python3 -m pip install --no-deps --no-build-isolation -e . >"$L/install.log" 2>&1 || tail -5 "$L/install.log"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache PYTHONUNBUFFERED=1
I=csrc/include S=aiter_swa/ops/pa_v1/spec.py
rm -rf /tmp/new && mkdir -p /tmp/new && cp -r $I /tmp/new/include && cp $S /tmp/new/spec.py
use() {
    rm -rf $I
    if [ "$1" = new ]; then cp -r /tmp/new/include $I; cp /tmp/new/spec.py $S
    else cp -r .ab_old/csrc/include $I; cp .ab_old/$S $S; fi
}
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
build() {  # $1: new|old -> /tmp/kernels_$1
    use $1
    python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off \
        --alibi off --head-size 64,128 --gqa 1 --mma-rows 16 --jobs 16 --out /tmp/kernels_$1 \
        >"$L/prebuild_$1.log" 2>&1; grep -E "kernels ready|error|rror:" "$L/prebuild_$1.log" | head -5
}
build new; build old
echo "[+$((SECONDS - t0))s] kernels ready"
MMA=("mistral B32 16K w4096" "mistral B32 128K w4096" "mistral B1 32K w4096" "seed B8 9216 w8192" "mistral B32 16K off"
     "mistral B32 16K w4096 mtp4" "gpt-oss B64 16K w4096")
for v in new old new old; do
    use $v
    echo "== $v [+$((SECONDS - t0))s]"
    AITER_SWA_PREBUILT_DIR=/tmp/kernels_$v timeout -k 5 100 python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers \
        --reps 5 --kernel mma --rows "${MMA[@]}" 2>&1 | tee -a "$L/bench_mma_$v.log" | grep -E "^ *(mistral|gpt-oss|seed)|mismatch|!|rror"
done
use new
echo "[+$((SECONDS - t0))s] bench done"
AITER_SWA_PREBUILT_DIR=/tmp/kernels_new timeout -k 10 $((560 - SECONDS + t0)) python3 -m pytest -q -x \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py op_tests/pa_v1/test_pa_v1_mtp_gpu.py >"$L/tests.log" 2>&1
tail -5 "$L/tests.log"
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_30f.tgz" -C "$L" .
