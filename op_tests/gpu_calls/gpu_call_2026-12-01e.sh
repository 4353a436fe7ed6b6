#!/usr/bin/env bash
# 2026-12-01 (00:06 UTC session), call 5 (the session's last device seconds): batch 1's key loop with the query's A
# fragments held in registers at head 128 too. Call 4's profile has half of batch 1's partition kernel in the key
# loop's own dependency chains; at head 128 each warp reloads its 8 query fragments from shared memory for each tile
# (ldmatrix before each k-step's HMMA), because 32 more registers spilled at the launch bound of 4 workgroups per SM
# (128 registers). "qregs": kQRegs at head <= 128 (gpu_call_2026-12-01e_qregs.patch) and the warp split's launch
# bound at 2 workgroups per SM (spec.py mma_workgroups_per_sm: up to 255 registers; batch 1's 256 workgroups take 2
# per SM anyway, and the split stays 32 x 128). A measurement for the next change, not a candidate as it is (2
# workgroups per SM would cost the large batches their occupancy). Rounds tree, qregs, qregs, tree of split_study.py
# on Mistral batch 1.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-01e.sh   Logs: $OUT/call_qregs.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_qregs
ab_variant_spec_edit q2s "        return 4 * MMA_WARP_KV_ROWS[0] // rows" "        return 2" || exit 1
ab_variant_patch qregs /tmp/ab_edit_q2s op_tests/gpu_calls/gpu_call_2026-12-01e_qregs.patch || exit 1
cp /tmp/ab_variants/q2s/spec/spec.py /tmp/ab_variants/qregs/spec/spec.py
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 128 --gqa 1 --mma-rows 16
   --sliding-window on)
for v in tree qregs; do ab_build $v "${B[@]}"; done
grep -hiE "spill|registers|regs" "$AB_L"/prebuild_*.log | head -6
ab_split "tree qregs qregs tree" --caps 0 --no-vector --rows "mistral B1 32K w4096"
ab_done
