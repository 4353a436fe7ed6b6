#!/usr/bin/env bash
# 2026-11-30 (04:54 UTC session), call 2: the warp split with 32 rows (two row groups of 4 warps sharing one
# K/V ring, 2 workgroups of 8 warps per SM) against HEAD 662d35f (32 rows as two 16-row chunks, each copying
# every key tile), and the 32-row ring with 5 stages instead of 3 (spec.MMA_WARP_KV_MAX_STAGES: 2 workgroups of
# 5 stages fit the H200's 228 KiB); controls at 16 rows (gpt-oss mtp 1 and 2, Mistral mtp 4), which neither
# change touches. Rounds interleaved: new, five, old, new, five, old.
# Before the call: `rm -rf .ab_old && mkdir .ab_old && git archive 662d35f csrc/include aiter_swa/ops/pa_v1/spec.py | tar -x -C .ab_old`
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30k.sh   carry: .ab_old.  Logs: $OUT/call_30k.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_30k
ab_variant new .
ab_variant old .ab_old
rm -rf /tmp/five && mkdir -p /tmp/five/csrc /tmp/five/$(dirname $AB_SPEC) && cp -r csrc/include /tmp/five/csrc/ \
    && sed 's/^MMA_WARP_KV_MAX_STAGES = 3$/MMA_WARP_KV_MAX_STAGES = 5/' $AB_SPEC >/tmp/five/$AB_SPEC
grep -c "MMA_WARP_KV_MAX_STAGES = 5" /tmp/five/$AB_SPEC
ab_variant five /tmp/five
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16,32)
for v in new five old; do ab_build $v "${B[@]}"; done
ROWS=("gpt-oss B64 16K w4096 mtp4" "gpt-oss B64 16K w128 mtp4" "mistral B32 16K w4096 mtp8" "gpt-oss B64 16K w4096"
      "gpt-oss B64 16K w4096 mtp2" "mistral B32 16K w4096 mtp4")
ab_bench "new five old new five old" --issue8 --no-peers --reps 5 --kernel mma --rows "${ROWS[@]}"
ab_done
