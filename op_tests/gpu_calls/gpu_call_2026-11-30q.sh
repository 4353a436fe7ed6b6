#!/usr/bin/env bash
# 2026-11-30 (07:28 UTC session), call 2: the reduce kernels' first loads issued with the context length's load
# (lse.h lse_merge_block's count callback; the matrix-core reduce batches 32 partials, not 16), A-B against the
# tree before (.ab_old: HEAD's csrc/include, `git archive HEAD csrc/include | tar -x -C .ab_old`). Rounds new, old,
# new, old of the split rows of issue 8 (and window 128, one partition: a control), then each variant's per-kernel
# times (kernel_times.py, torch.profiler) at batch 1 (aiter's workspace: 32 partitions), Mistral B32 and the seed
# shape; then the seed shape's split study (4 to 32 partitions; the last session's prepared step).
# The change ran from the working tree, then was reverted (no gain: not kept); gpu_call_2026-11-30q.patch re-makes it
# (its comments shortened). To re-run: git apply that patch, then the command below.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30q.sh   carry: .ab_old.  Logs: $OUT/call_30q.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_30q
ab_variant new .
ab_variant old .ab_old
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16)
for v in new old; do ab_build $v "${B[@]}"; done
ROWS=("mistral B32 16K w4096" "mistral B1 32K w4096" "gpt-oss B64 16K w128" "seed B8 9216 w8192" "mistral B32 16K off")
ab_bench "new old new old" --issue8 --no-peers --reps 5 --kernel mma --rows "${ROWS[@]}"
for v in new old; do
    ab_use $v
    echo "== kernel times $v $(ab_t)"
    for ws in aiter window; do
        AITER_SWA_PREBUILT_DIR=/tmp/kernels_$v timeout -k 5 60 python3 op_tests/pa_v1/kernel_times.py --calls 100 \
            --workspace $ws --shapes "mistral B1 w4096" "mistral w4096" "seed w8192" 2>&1 | tee -a "$AB_L/times_$v.log" \
            | grep -E "partition|reduce|rror"
    done
done
ab_done
OUT=/tmp/call_30q_split SPLIT_TIMEOUT=120 timeout -k 10 170 bash op_tests/run_gpu_suite.sh split \
    --rows "seed B8 9216 w8192" --caps 4 8 12 16 24 32 2>&1 | grep -E "^summary|MISMATCH|seed"
tar czf "${OUT:-gpu_logs}/call_30q_split.tgz" -C /tmp/call_30q_split . 2>/dev/null
echo "$(ab_t) all done"
