#!/usr/bin/env bash
# 2026-11-30 (04:54 UTC session), call 4: programmatic dependent launch of the matrix-core kernels (sm_90+:
# spec.programmatic_launch, MmaSpec::PDL, compat.h launch_kernel / grid_dependency_wait), measured and not kept:
# the change is gpu_call_2026-11-30n.patch (`git apply` on d532562). Against the same tree with it off
# (spec.programmatic_launch -> False: plain launches; the kernels' griddepcontrol instructions then return at
# once). Issue 8's one-token rows and mtp 4 rows, forced matrix-core where the dispatch would not take it; rounds
# interleaved new, off, new, off. Then matrix-core GPU tests on the PDL kernels that the 8 pre-built kernels
# serve (bf16, heads 64 and 128): graph replay with shorter contexts, a copy kernel writing the query before each
# call in one graph, batch 1's split, the multi-token grid.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30n.sh   (no carry).  Logs: $OUT/call_30n.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_30n
ab_variant new .
ab_variant_spec_edit off $'    m = re.fullmatch(r"sm_(\\d+)[a-z]?", arch)\n    return m is not None and int(m.group(1)) >= 90\n' \
    $'    return False\n'  # spec.programmatic_launch: False
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16,32)
for v in new off; do ab_build $v "${B[@]}"; done
ROWS=("mistral B32 16K w4096" "mistral B1 32K w4096" "gpt-oss B64 16K w128" "gpt-oss B64 16K w4096" "seed B8 9216 w8192"
      "mistral B32 16K off" "mistral B32 16K w4096 mtp4" "gpt-oss B64 16K w4096 mtp4")
ab_bench "new off new off" --issue8 --no-peers --reps 5 --kernel mma --rows "${ROWS[@]}"
ab_use new
OUT=$AB_L/check CHECK_TIMEOUT=150 AITER_SWA_PREBUILT_DIR=/tmp/kernels_new timeout -k 10 165 bash op_tests/run_gpu_suite.sh check \
    op_tests/pa_v1/test_pa_v1_mma_gpu.py -k "graph or batch_one or programmatic or (mtp_grid and not hs256)" -v -s \
    2>&1 | grep -E "programmatic launch on|passed|failed" | tail -4
echo "passed: $(grep -c ' PASSED' $AB_L/check/pytest_check.log) failed: $(grep -c ' FAILED' $AB_L/check/pytest_check.log)"
ab_done
