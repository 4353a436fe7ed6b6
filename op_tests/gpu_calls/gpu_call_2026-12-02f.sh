#!/usr/bin/env bash
# 2026-12-02 (12:48 UTC session), call 1: the warp split's key groups merged into group 0's registers ("tree": group
# 0 keeps its O in registers, takes the other groups' O, maxima and exp sums from the ring after one barrier and
# writes the output or partials from its C fragments, two columns per store; the rows 8 .. 15 of a 16-row group
# skipped when the chunk has none, as batch 1 at GQA 4) against "old" (carry .ab_old = 1de5ea6's csrc and
# spec.py: every group's O through the ring, a merge of the weights by R threads and a write by all threads, one
# more barrier). Rounds of split_study.py on the batch-1 rows, then issue 8's rows.
# Not kept: slower (docs/results.md, 2026-12-02 12:48 UTC session). To run this again: on the commit that holds
# this script, `git apply op_tests/gpu_calls/gpu_call_2026-12-02f_regmerge.patch` (the kernel change, with the
# emulator's 2-element vector stores and its alignment test) and `rm -rf .ab_old && mkdir .ab_old && git archive
# 1de5ea6 csrc aiter_swa/ops/pa_v1/spec.py | tar -x -C .ab_old`.
# run: bash op_tests/gpu_calls/gpu_call_2026-12-02f.sh   carry: .ab_old   Logs: $OUT/call_rm.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_rm
ab_variant old .ab_old
ab_build tree
ab_build old
ab_split "tree old old tree tree old old tree" --caps 0 --no-vector --rows "mistral B1 32K w4096" "gpt-oss B1 32K w4096"
ROWS=("mistral B1 32K w4096" "gpt-oss B64 16K w128" "mistral B32 16K w4096" "gpt-oss B64 16K w4096"
      "seed B8 9216 w8192" "mistral B32 16K off" "mistral B32 16K w4096 mtp4" "gpt-oss B64 16K w4096 mtp4")
ab_bench "tree old old tree tree old" --issue8 --no-peers --reps 5 --rows "${ROWS[@]}"
ab_done
echo "$(ab_t) all done"
