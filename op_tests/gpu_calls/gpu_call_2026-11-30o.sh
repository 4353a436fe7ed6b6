#!/usr/bin/env bash
# 2026-11-30 (04:54 UTC session), call 5: where the partition kernel lets the next kernel start (programmatic
# dependent launch, sm_90). "start": griddepcontrol.launch_dependents at the kernel's start, as call 4 ran it
# (gpu_call_2026-11-30n.sh: batch 1 and window 128 faster, the full-batch rows about 1 us slower); "late": after
# its key loop, before its writes (.ab_late: csrc/include with that change); "off": plain launches
# (spec.programmatic_launch -> False). One-token rows; rounds start, late, off, late, start, off. On the tree of
# d532562 with gpu_call_2026-11-30n.patch applied; .ab_late: its csrc/include with the partition kernel's
# grid_launch_dependents moved after the key loop. Neither kept.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-30o.sh   carry: .ab_late.  Logs: $OUT/call_30o.tgz
set -uo pipefail
source op_tests/gpu_calls/ab.sh
ab_init call_30o
ab_variant start .
ab_variant late .ab_late
ab_variant_spec_edit off $'    m = re.fullmatch(r"sm_(\\d+)[a-z]?", arch)\n    return m is not None and int(m.group(1)) >= 90\n' \
    $'    return False\n'  # spec.programmatic_launch: False
B=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1 --mma-rows 16)
for v in start late off; do ab_build $v "${B[@]}"; done
ROWS=("mistral B32 16K w4096" "mistral B1 32K w4096" "gpt-oss B64 16K w128" "gpt-oss B64 16K w4096" "seed B8 9216 w8192"
      "mistral B32 16K off")
ab_bench "start late off late start off" --issue8 --no-peers --reps 5 --kernel mma --rows "${ROWS[@]}"
ab_done
