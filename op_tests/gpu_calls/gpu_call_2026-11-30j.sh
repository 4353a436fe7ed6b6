#!/usr/bin/env bash
# 2026-11-30 (04:54 UTC session), call 1 (prepared by the session before as gpu_call_next_x4.sh): the warp split's
# K and V B fragments two per ldmatrix (.x4; mma.h load_b_nk2 / load_b_kn2 with the swizzled layout; the change of
# 662d35f) against the tree before it. sm_90 SASS: the loop 488 -> 430 instructions per warp and 32-key tile at
# head 128, 443 -> 403 at head 64; zero spills. The benchmark checks each row against the reference first.
# Before the call (on the tree of 7766651): `rm -rf .ab_old && mkdir .ab_old && git archive HEAD csrc/include |
# tar -x -C .ab_old`, then `git apply` of the change (`git show 662d35f`). New against old, new / old / new / old.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30j.sh   carry: .ab_old.  Logs: $OUT/call_x4.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_x4; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
python3 -m pip install --no-deps --no-build-isolation -e . >"$L/install.log" 2>&1 || tail -5 "$L/install.log"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache PYTHONUNBUFFERED=1
I=csrc/include
rm -rf /tmp/inc_new && cp -r $I /tmp/inc_new
use() { rm -rf $I && if [ "$1" = new ]; then cp -r /tmp/inc_new $I; else cp -r .ab_old/csrc/include $I; fi; }
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
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_x4.tgz" -C "$L" .
