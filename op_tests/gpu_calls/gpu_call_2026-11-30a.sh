#!/usr/bin/env bash
# 2026-11-30 (23:37 UTC session of 11-29), call 1: the matrix-core warp split's loop cut from 588 to 424 sm_90
# instructions per warp and 32-key tile (head 128; SASS: op_tests/pa_v1/sass_counts.py --shape bf16:128:4:swa:mma16):
# each K/V row's address published once per key (mma_kernel.h ring_row), the block of a key by the multiply-shift,
# weights rounded in pairs by cvt.rn.bf16x2 (vec.h pack2) and bf16 by cvt.rn.bf16.f32, e^x by ex2.approx.ftz
# (compat.h fast_exp), the O rescale skipped when no row maximum of the warp grew (a vote), q.k in two k-chains at
# head >= 128. New against old (the tree of d451fd4: .ab_old/csrc/include, carried), new / old / new / old, on the
# matrix-core kernel and on the vector kernel (from_float and fast_exp are shared); the benchmark checks each row
# against the reference before timing it.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30a.sh   carry: .ab_old.  Logs: $OUT/call_30a.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_30a; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
python3 -m pip install --no-deps --no-build-isolation -e . >"$L/install.log" 2>&1 || tail -5 "$L/install.log"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache PYTHONUNBUFFERED=1
I=csrc/include
rm -rf /tmp/inc_new && cp -r $I /tmp/inc_new
use() { rm -rf $I && if [ "$1" = new ]; then cp -r /tmp/inc_new $I; else cp -r .ab_old/csrc/include $I; fi; }
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
build() {  # $1: new|old -> /tmp/kernels_$1: the specs of the rows below (matrix-core 16/32 rows, vector GQA 4)
    use $1
    python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off \
        --alibi off --head-size 64,128 --gqa 1,4 --mma-rows 0,16 --jobs 16 --out /tmp/kernels_$1 \
        >"$L/prebuild_$1.log" 2>&1; grep -E "kernels ready|error|rror:" "$L/prebuild_$1.log" | head -5
}
build new; build old
echo "[+$((SECONDS - t0))s] kernels ready"
MMA=("mistral B32 16K w4096" "mistral B1 32K w4096" "gpt-oss B64 16K w128" "gpt-oss B64 16K w4096" "seed B8 9216 w8192"
     "mistral B32 16K off" "gpt-oss B64 16K w4096 mtp4")
VEC=("mistral B32 16K w4096" "mistral B32 16K off")
for v in new old new old; do
    use $v
    echo "== $v [+$((SECONDS - t0))s]"
    AITER_SWA_PREBUILT_DIR=/tmp/kernels_$v timeout -k 5 100 python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers \
        --reps 5 --kernel mma --rows "${MMA[@]}" 2>&1 | tee -a "$L/bench_mma_$v.log" | grep -E "^ *(mistral|gpt-oss|seed)|mismatch|!|rror"
    AITER_SWA_PREBUILT_DIR=/tmp/kernels_$v timeout -k 5 40 python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers \
        --reps 5 --kernel vector --rows "${VEC[@]}" 2>&1 | tee -a "$L/bench_vec_$v.log" | grep -E "^ *(mistral|gpt-oss|seed)|mismatch|!|rror"
done
use new
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_30a.tgz" -C "$L" .
