#!/usr/bin/env bash
# 2026-11-30 (07:28 UTC session), call 6: the in-kernel merge again (gpu_call_2026-11-30u.patch, csrc/include),
# now counted by one atomic add with acquire-release ordering by thread 0 after a barrier. Call 5's version
# (gpu_call_2026-11-30t.sh) had every thread run __threadfence() (fence.sc.gpu, MEMBAR.SC.GPU in the SASS) before
# the count and again in the merging workgroup: its partition kernel took 48.8 us at batch 1 (11.6 with the
# reduce kernel), 141.6 at Mistral batch 32 (129.5). A-B against HEAD's sources (.ab_old), two rounds each, then
# issue 8's table with FlashInfer and vLLM on this tree (run_gpu_suite.sh peers).
# Not kept (as slow as call 5). To re-run: git apply gpu_call_2026-11-30u.patch (the kernel, the emulator's launch
# and its test test_emulated_merge_in_kernel), .ab_old = HEAD's csrc/include, then:
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30u.sh   carry: .ab_old .peers.  Logs: $OUT/call_30u.tgz, $OUT/peers
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_30u
ab_variant merge .
ab_variant reduce .ab_old
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 128 --gqa 1 --mma-rows 16)
for v in merge reduce; do ab_build $v "${B[@]}"; done
ROWS=("mistral B32 16K w4096" "mistral B1 32K w4096" "seed B8 9216 w8192" "mistral B32 16K off")
ab_bench "merge reduce merge reduce" --issue8 --no-peers --reps 5 --kernel mma --rows "${ROWS[@]}"
ab_done
OUT=$AB_O/peers timeout -k 10 220 bash op_tests/run_gpu_suite.sh peers --reps 5 2>&1 | tail -32
echo "$(ab_t) all done"
