#!/usr/bin/env bash
# 2026-11-30 (23:37 UTC session of 11-29), call 2: three builds of the matrix-core warp split, interleaved:
#   old: the tree of d451fd4 (.ab_old, carried);
#   mid: call 1's change (.ab_mid, carried: published row addresses, pack2, ex2.ftz, skipped rescale, two k-chains);
#   new: the working tree: mid + each thread copying one key row's chunks at fixed offsets (one address read per
#        row; loop 424 -> 342 sm_90 instructions at head 128), scores in log2 units (fast_exp2) and the masks
#        skipped on slices inside every written row's window.
# Then, on the new tree, `--kernel vector` against `--kernel mma` over GQA-4 rows of the project benchmark (Mistral),
# for the dispatch rule. The benchmark checks each row against the reference before timing it.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30b.sh   carry: .ab_old .ab_mid.  Logs: $OUT/call_30b.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_30b; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
python3 -m pip install --no-deps --no-build-isolation -e . >"$L/install.log" 2>&1 || tail -5 "$L/install.log"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache PYTHONUNBUFFERED=1
I=csrc/include
rm -rf /tmp/inc_new && cp -r $I /tmp/inc_new
use() { rm -rf $I && case $1 in new) cp -r /tmp/inc_new $I ;; *) cp -r .ab_$1/csrc/include $I ;; esac; }
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
build() {  # $1: old|mid|new -> /tmp/kernels_$1 (matrix-core 16 rows, vector GQA 4; heads 64, 128; bf16)
    use $1
    python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off \
        --alibi off --head-size 64,128 --gqa 1,4 --mma-rows 0,16 --jobs 16 --out /tmp/kernels_$1 \
        >"$L/prebuild_$1.log" 2>&1; grep -E "kernels ready|rror:" "$L/prebuild_$1.log" | head -5
}
build new; build mid; build old
echo "[+$((SECONDS - t0))s] kernels ready"
MMA=("mistral B32 16K w4096" "mistral B1 32K w4096" "gpt-oss B64 16K w128" "gpt-oss B64 16K w4096" "seed B8 9216 w8192"
     "mistral B32 16K off" "gpt-oss B64 16K w4096 mtp4" "mistral B32 16K w4096 mtp4")
for v in new mid old new mid old; do
    use $v
    echo "== $v [+$((SECONDS - t0))s]"
    AITER_SWA_PREBUILT_DIR=/tmp/kernels_$v timeout -k 5 100 python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers \
        --reps 5 --kernel mma --rows "${MMA[@]}" 2>&1 | tee -a "$L/bench_mma_$v.log" | grep -E "^(mistral|gpt-oss|seed)|mismatch|!|rror"
done
use new
echo "== GQA 4, new tree: vector / mma / vector / mma [+$((SECONDS - t0))s]"
for k in vector mma vector mma; do
    echo "-- $k"
    AITER_SWA_PREBUILT_DIR=/tmp/kernels_new timeout -k 5 80 python3 op_tests/pa_v1/bench_pa_v1_swa.py --models mistral \
        --ctx 1024 4096 16384 --windows 0 1024 4096 --flex-ctx --reps 5 --kernel $k 2>&1 | tee -a "$L/gqa4_$k.log" \
        | grep -E "^ *mistral|mismatch|rror" | head -20
done
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_30b.tgz" -C "$L" .
