#!/usr/bin/env bash
# 2026-11-30 (02:24 UTC session), call 3: the warp split's K/V ring with 3 stages (MMA_WARP_KV_STAGES: two key
# tiles in flight per workgroup over a tile's math, against one) at 4 workgroups per SM: to fit (55.6 KiB at head
# 128, in dynamic shared memory) the K and V tiles are unpadded and swizzled (mma.h swizzled: 16-byte chunk c of
# row r at c ^ (r % 8)); sm_90 SASS 488 instructions per warp and 32-key tile (424 before: the swizzled ldmatrix
# addresses), 128 registers, zero spills. (The deeper ring of the 17:15 UTC session of 11-29 fitted only 3
# workgroups per SM, padded, and was slower.) New against old (HEAD's csrc/include and spec.py: .ab_old,
# carried), new / old / new / old, forced matrix-core kernel, each row checked against the reference first.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30g.sh   carry: .ab_old.  Logs: $OUT/call_30g.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_30g; rm -rf "$L"; mkdir -p "$L"
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
MMA=("mistral B32 16K w4096" "mistral B1 32K w4096" "gpt-oss B64 16K w128" "gpt-oss B64 16K w4096" "seed B8 9216 w8192"
     "mistral B32 16K off" "mistral B32 16K w4096 mtp4" "gpt-oss B64 16K w4096 mtp4")
for v in new old new old; do
    use $v
    echo "== $v [+$((SECONDS - t0))s]"
    AITER_SWA_PREBUILT_DIR=/tmp/kernels_$v timeout -k 5 100 python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers \
        --reps 5 --kernel mma --rows "${MMA[@]}" 2>&1 | tee -a "$L/bench_mma_$v.log" | grep -E "^(mistral|gpt-oss|seed)|mismatch|!|rror"
done
use new
echo "[+$((SECONDS - t0))s] bench done"
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_30g.tgz" -C "$L" .
