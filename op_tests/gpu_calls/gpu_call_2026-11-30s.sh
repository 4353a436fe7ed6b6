#!/usr/bin/env bash
# 2026-11-30 (07:28 UTC session), call 4: the matrix-core reduce as a programmatic dependent launch of the
# partition kernel (sm_90: MmaSpec::PDL; the partition kernel a plain launch with no trigger, so the reduce may
# start as its workgroups exit), against plain launches ("off": spec.programmatic_launch -> False, the same
# sources). Calls 2 and 3 put the reduce at 3.5-4.0 us of Mistral batch 32's 133.5 us (2.1-2.6 at batch 1,
# 2.7-2.9 at the seed shape). Rounds pdl, off, pdl, off, pdl, off over the rows with a reduce (window 128: none,
# a control); then the GPU tests of the dependent launch and of graph replay on the "pdl" kernels.
# Not kept (no gain). To re-run: git apply gpu_call_2026-11-30s.patch (the kernel, compat.h and spec.py changes)
# and the two tests of gpu_call_2026-11-30n.patch (test_pa_v1_mma_gpu.py, test_pa_v1_split.py), then:
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30s.sh   (no carry).  Logs: $OUT/call_30s.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_30s
ab_variant pdl .
ab_variant_spec_edit off $'    m = re.fullmatch(r"sm_(\\d+)[a-z]?", arch)\n    return m is not None and int(m.group(1)) >= 90\n' \
    $'    return False\n'  # spec.programmatic_launch: False
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16)
for v in pdl off; do ab_build $v "${B[@]}"; done
ROWS=("mistral B32 16K w4096" "mistral B32 128K w4096" "mistral B1 32K w4096" "seed B8 9216 w8192"
      "mistral B32 16K off" "gpt-oss B64 16K w128")
ab_bench "pdl off pdl off pdl off" --issue8 --no-peers --reps 5 --kernel mma --rows "${ROWS[@]}"
ab_tests pdl op_tests/pa_v1/test_pa_v1_mma_gpu.py -k "programmatic or graph_replay or batch_one"
ab_done
