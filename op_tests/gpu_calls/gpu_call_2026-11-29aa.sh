#!/usr/bin/env bash
# 2026-11-29 (20:38 UTC session), call 8: the matrix-core ring with each key's K/V element offsets published
# once (mma_kernel.h s_koff / s_voff; call 6 counted ~30 address instructions before each cp.async), against
# the kernel before it (the reverse of op_tests/gpu_calls/gpu_call_2026-11-29aa.patch), issue 8's matrix-core
# rows, new / old / new / old (the benchmark checks each row against the reference before timing it).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29aa.sh   carry: none.  Logs: $OUT/call_aa.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_aa; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
python3 -m pip install --no-deps --no-build-isolation -e . >"$L/install.log" 2>&1 || tail -5 "$L/install.log"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache PYTHONUNBUFFERED=1
K=csrc/include/aiter_swa/pa_v1/mma_kernel.h
cp $K /tmp/mma_new.h
python3 op_tests/gpu_calls/unpatch.py $K op_tests/gpu_calls/gpu_call_2026-11-29aa.patch /tmp/mma_old.h
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
build() {  # $1: new|old -> /tmp/kernels_$1 (the two warp-split specs of the rows below)
    cp /tmp/mma_$1.h $K
    python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off \
        --alibi off --sliding-window on --head-size 64,128 --gqa 1 --mma-rows 16 --jobs 16 --out /tmp/kernels_$1 \
        >"$L/prebuild_$1.log" 2>&1; grep -E "mma_partition_kernel|kernels ready" "$L/prebuild_$1.log"
}
build new; build old
echo "[+$((SECONDS - t0))s] kernels ready"
ROWS=("mistral B32 16K w4096" "gpt-oss B64 16K w4096" "seed B8 9216 w8192" "gpt-oss B64 16K w4096 mtp4")
for v in new old new old; do
    cp /tmp/mma_$v.h $K
    echo "== $v [+$((SECONDS - t0))s]"
    AITER_SWA_PREBUILT_DIR=/tmp/kernels_$v timeout -k 5 60 python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers \
        --reps 5 --kernel mma --rows "${ROWS[@]}" 2>&1 | tee -a "$L/bench_$v.log" | grep -E "^(mistral|gpt-oss|seed)|mismatch|!"
done
cp /tmp/mma_new.h $K
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_aa.tgz" -C "$L" .
