#!/usr/bin/env bash
# The last GPU call of the 2026-11-29 (04:25 UTC) session, kept as it ran (docs/results.md records
# its output). About 5 minutes on a fresh H200; carry .whl, .peers and .mmafast
# (`git archive mmafast | tar -x -C .mmafast`: branch mmafast's tree, installed apart from this one
# with `pip --target`; `python3 -P` keeps the checkout's own aiter_swa/ folder off sys.path there).
#   A (in parallel, correctness only): this tree's re-checks (the tests fixed after calls 1-3, the three
#     that call 1's time limit cut, the vector emulator's block sizes with 16 workers busy); the
#     mmafast tree's matrix-core GPU tests; the pre-build of mmafast's benchmark kernels
#   B: causal_conv1d's channel-first long prefill with its tuning variants (cf_rows=2, cf_fast=1, both)
#   C: issue 8's rows on mmafast's matrix-core kernel (ours only; the peers ran in earlier calls)
set -uo pipefail
OUT=${OUT:-gpu_logs}
L=/tmp/call_logs  # the logs, packed into $OUT/phase_*.tgz after each phase (the device tool returns 8 files)
mkdir -p "$OUT" "$L"
export PYTHONUNBUFFERED=1
t0=$SECONDS
stamp() { echo "[+$((SECONDS - t0))s] $*"; }
pack() { tar czf "$OUT/phase_$1.tgz" -C "$L" .; }

python3 -m pip install -q --no-index --no-deps .whl/*.whl >"$L/install_whl.log" 2>&1
python3 -m pip install -q --no-deps --no-build-isolation -e . >"$L/install.log" 2>&1 || { tail -5 "$L/install.log"; exit 1; }
MF_SITE=/tmp/mmafast_site
python3 -m pip install -q --no-deps --no-build-isolation --target "$MF_SITE" ./.mmafast >"$L/install_mmafast.log" 2>&1 \
    || { tail -5 "$L/install_mmafast.log"; exit 1; }
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
stamp "installed ($ARCH)"

# ---- A ----
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache
timeout -k 10 "${A_TIMEOUT:-150}" python3 -m pytest -n 6 -rfEs --tb=long -p no:cacheprovider --timeout 140 \
    op_tests/pa_v1/test_pa_v1_fast_path.py op_tests/pa_v1/test_pa_v1_mma_gpu.py::test_mtp_cu_query_lens_flags \
    op_tests/pa_v1/test_pa_v1_vector_emulated.py::test_vector_block_sizes \
    op_tests/causal_conv1d/test_causal_conv1d_emulated.py::test_emulated_fwd_under_asan \
    "op_tests/pa_v1/test_pa_v1_swa.py::test_head_sizes" \
    "op_tests/pa_v1/test_pa_v1_mtp_gpu.py::test_gpu_multi_token_grid[mtp2-w1-varlen-g8-d512-cap-bf16-HND-b16]" \
    "op_tests/pa_v1/test_pa_v1_mtp_gpu.py::test_gpu_multi_token_grid[mtp4-w257-fixed-g8-d80-alibi_cap_sinks-fp16-NHD-b16]" \
    >"$L/pytest_main.log" 2>&1 &
main_pid=$!
(cd .mmafast && AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache_mmafast PYTHONPATH="$MF_SITE" timeout -k 10 "${A_TIMEOUT:-150}" \
    python3 -P -m pytest -n 8 -rfEs --tb=long -p no:cacheprovider --timeout 140 op_tests/pa_v1/test_pa_v1_mma_gpu.py) \
    >"$L/pytest_mmafast.log" 2>&1 &
mf_pid=$!
# the benchmark kernels of B (channel-first bf16 w4 SiLU: default, cf_rows 2, cf_fast, both) and of C
# (mmafast's matrix-core kernels, window on, head sizes 64/128/256, 16 and 32 rows)
python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op causal_conv1d --dtype bf16 --width 4 --activation silu \
    --layout channel_first --cf-rows 2,4 --cf-fast 0,1 --jobs 2 --out /tmp/kernels_conv1d_tuning >"$L/prebuild_conv1d.log" 2>&1 &
pb1_pid=$!
(cd /tmp && AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache_mmafast PYTHONPATH="$MF_SITE" python3 -m aiter_swa.jit.prebuild \
    --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off \
    --sliding-window on --head-size 64,128,256 --gqa 1 --mma-rows 16,32 --jobs 2 --out /tmp/kernels_mmafast) \
    >"$L/prebuild_mmafast.log" 2>&1 &
pb2_pid=$!
wait $main_pid; stamp "A: this tree's re-checks: $(tail -1 "$L/pytest_main.log")"
wait $mf_pid; stamp "A: mmafast's matrix-core GPU tests: $(tail -1 "$L/pytest_mmafast.log")"
wait $pb1_pid $pb2_pid; stamp "A: pre-builds: $(tail -1 "$L/prebuild_conv1d.log"); $(tail -1 "$L/prebuild_mmafast.log")"
grep -hE "^(FAILED|ERROR)" "$L/pytest_main.log" "$L/pytest_mmafast.log" | head -20
pack A

# ---- B: the channel-first long prefill (run_gpu_suite.sh conv1d's third row), default and variants ----
[ -f .peers/vllm_conv1d/causal_conv1d.py ] && export AITER_SWA_CONV1D_PEER_DIR=.peers/vllm_conv1d
AITER_SWA_PREBUILT_DIR=/tmp/kernels_conv1d_tuning timeout -k 10 "${B_TIMEOUT:-80}" python3 op_tests/causal_conv1d/bench_causal_conv1d.py \
    --lens 4096,2048,1024,1,1,1 --layout channel_first --variants "cf_rows=2;cf_fast=1;cf_fast=1,cf_rows=2" \
    >"$L/bench_conv1d_cf.log" 2>&1
stamp "B: causal_conv1d benchmark done"
grep -vE "Warning|warner|sync_debug" "$L/bench_conv1d_cf.log" | tail -22
pack B

# ---- C ----
(cd .mmafast && AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache_mmafast AITER_SWA_PREBUILT_DIR=/tmp/kernels_mmafast \
    PYTHONPATH="$MF_SITE" timeout -k 10 "${C_TIMEOUT:-70}" python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers \
    --kernel mma --reps 10 --rows "mistral B32 16K w4096" "mistral B1 32K w4096" "gpt-oss B64 16K w128" \
    "gpt-oss B64 16K w4096" "gemma3 B16 16K w1024" "seed B8 9216 w8192" "mistral B32 16K w4096 mtp4") \
    >"$L/bench_mmafast.log" 2>&1
stamp "C: mmafast benchmark done"
tail -15 "$L/bench_mmafast.log"
pack C
