#!/usr/bin/env bash
# GPU run of the transformers integration (one command; see docs/results.md for the recorded run):
#   bash op_tests/integrations/run_gpu.sh [gpu_transformers.py args...]
# Installs the package, pre-builds the kernels the run needs with every CPU (bf16, head sizes 128
# and 256, block size 32, GQA buckets 2 and 4, window and soft cap on and off), then runs
# op_tests/integrations/gpu_transformers.py (bf16 log-probability check, tokens/s against
# transformers' own continuous batching). Logs and a JSON of every number go under $OUT.
set -uo pipefail
OUT=${OUT:-gpu_logs}
mkdir -p "$OUT"
export AITER_SWA_CACHE_DIR=${AITER_SWA_CACHE_DIR:-/tmp/aiter_swa_cache} PYTHONUNBUFFERED=1
{ python3 -m pip install --no-deps --no-build-isolation -e . || python3 -m pip install --no-deps --no-build-isolation .; } \
    >"$OUT/install.log" 2>&1 || { tail -20 "$OUT/install.log"; exit 1; }
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null || rocm-smi --showproductname; \
  python3 -c "import torch, transformers; print('torch', torch.__version__, torch.cuda.get_device_name(), 'transformers', transformers.__version__)"; \
  date -u; } | tee "$OUT/device.txt"
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
t0=$(date +%s)
python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 \
    --head-size 128,256 --block-size 32 --gqa 2,4 --sliding-window both --soft-cap both --alibi off \
    --jobs "$(nproc)" --out /tmp/kernels_hf >"$OUT/prebuild.log" 2>&1 || tail -5 "$OUT/prebuild.log"
echo "prebuild: $(( $(date +%s) - t0 )) s"
AITER_SWA_PREBUILT_DIR=/tmp/kernels_hf python3 op_tests/integrations/gpu_transformers.py --json "$OUT/hf.json" "$@" \
    2>&1 | grep -v "ContinuousBatchingLogger" | tee "$OUT/hf.log"
