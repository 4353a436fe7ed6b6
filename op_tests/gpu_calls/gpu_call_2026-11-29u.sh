#!/usr/bin/env bash
# 2026-11-29 (20:38 UTC session), call 2: the long-span dispatch rule again (the pa_v1 part of
# op_tests/gpu_calls/gpu_call_2026-11-29r.patch applied to the tree: GQA >= 4 with a block table of >= 16384 tokens on
# sm_90 takes the matrix-core kernel). The session before measured auto 579-626 us against a forced mma
# 554-584 at Mistral B32 without a window (calls 5, 6), unexplained; call 1 of this session found auto and
# mma equal where auto already picks mma (GQA 8). Here: auto, mma, vector interleaved, three rounds, with
# the plan each process launches printed (spec, partitions); then issue 8's no-window row and the w4096 row
# under auto, vector, auto, vector (the table's rows, to see the rule's effect on the default dispatch).
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29u.sh   carry: none.  Logs: $OUT/call_u.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_u; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
python3 -m pip install --no-deps --no-build-isolation -e . >"$L/install.log" 2>&1 || tail -5 "$L/install.log"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache PYTHONUNBUFFERED=1
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off \
    --alibi off --head-size 128 --gqa 1,4 --mma-rows 0,16 --jobs 16 --out /tmp/kernels >"$L/prebuild_pa.log" 2>&1
tail -2 "$L/prebuild_pa.log"
echo "[+$((SECONDS - t0))s] kernels ready"
export AITER_SWA_PREBUILT_DIR=/tmp/kernels
python3 - <<'PY' 2>&1 | tee "$L/plans.txt"
import sys, torch
sys.path.insert(0, "op_tests"); sys.path.insert(0, "op_tests/pa_v1")
import bench_pa_v1_swa as b
from aiter_swa.ops.pa_v1 import gpu
from aiter_swa.ops.pa_v1.call import validate
from aiter_swa.jit import toolchain
dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
arch = toolchain.device_arch(0) if dev.type == "cuda" else "sm_90"
cus = torch.cuda.get_device_properties(0).multi_processor_count if dev.type == "cuda" else 132
print("arch", arch, "SMs", cus)
for ctx, window in ((16384, 0), (16384, 4096)):
    inp = b.Inputs(32, 8, 128, 32, ctx, window, 16, torch.bfloat16, dev)
    call = validate(*inp.args)
    for k in ("auto", "mma", "vector"):
        spec, v = gpu.launch_values(call, arch, cus, k)
        print(ctx, window, k, spec.name if hasattr(spec, "name") else spec,
              {x: v[x] for x in v if "part" in x or "chunk" in x or x == "workspace_bytes"})
PY
for round in 1 2 3; do
    for kernel in auto mma vector; do
        timeout -k 5 60 python3 op_tests/pa_v1/bench_pa_v1_swa.py --models mistral --ctx 16384 --windows 0 --flex-ctx \
            --reps 9 --kernel $kernel 2>&1 | tee -a "$L/bench_rule.log" | grep -E "^mistral" | sed "s/^/$kernel: /"
    done
done
echo "[+$((SECONDS - t0))s] issue 8 rows"
for kernel in auto vector auto vector; do
    echo "== $kernel"
    timeout -k 5 90 python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers --reps 7 --kernel $kernel \
        --rows "mistral B32 16K w4096" "mistral B32 16K off" 2>&1 | tee -a "$L/bench_issue8.log" | grep -E "^mistral"
done
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_u.tgz" -C "$L" .
