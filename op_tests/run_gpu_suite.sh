#!/usr/bin/env bash
# GPU sessions, one command each (see docs/results.md for the recorded runs). Logs go under $OUT
# (default ./gpu_logs).
#
#   bash op_tests/run_gpu_suite.sh tests [pytest args...]
#       # install, the whole pytest tree with the full grid on the GPU (FULL_GRID=0: default grid)
#   bash op_tests/run_gpu_suite.sh check TESTS... [pytest args...]
#       # install, then only the given tests (-n $JOBS, full tracebacks, a summary line per failure;
#       # CHECK_TIMEOUT s in all, default 300): pytest_check.log
#   bash op_tests/run_gpu_suite.sh aiter    # AMD aiter's own op_tests/test_pa_v1.py against the op
#   bash op_tests/run_gpu_suite.sh host     # host cost per call (this checkout; and .baseline/ if present)
#   bash op_tests/run_gpu_suite.sh bench [bench args...]
#       # the kernel benchmark; with a .baseline/ checkout (an older commit: `git archive <commit> | tar -x
#       # -C .baseline`) it runs this checkout, the baseline, this checkout again (A-B-A: the two A runs
#       # give the run-to-run noise)
#   bash op_tests/run_gpu_suite.sh kernels  # per-kernel GPU time (partition / reduce): this checkout, .baseline/, this again
#   bash op_tests/run_gpu_suite.sh all      # tests, aiter, host, bench, kernels
#   bash op_tests/run_gpu_suite.sh serve
#       # the serving features (issue 9) in one call: their GPU tests (block sizes, head sizes 32/512,
#       # sinks, fp8 KV, test_pa_v1_gpu.py), then the benchmark at block sizes 16 and 32 A-B-A against
#       # .baseline/ (`git archive main | tar -x -C .baseline`), and fp8 KV rows next to bf16
#   bash op_tests/run_gpu_suite.sh conv1d [bench args...]
#       # causal_conv1d: its kernels pre-built (and the benchmark's tuning variants), a load check of
#       # them (load_check_conv1d.log), its benchmark on the seed's batch and on a long prefill, both
#       # layouts of the latter with a tuning variant beside each (Triton peer columns from
#       # $AITER_SWA_CONV1D_PEER_DIR, default .peers/vllm_conv1d: op_tests/causal_conv1d/fetch_vllm_peer.sh),
#       # then its GPU tests (op_tests/causal_conv1d; each test's kernel loads in load_log_conv1d.log);
#       # CONV1D_CF_VARIANTS: the channel-first variants benchmarked (';' between them);
#       # CONV1D_NCU=1: Nsight Compute DRAM/L2 bytes and time of each kernel of a short long-prefill run per
#       # layout, variants included (ncu_conv1d_*.csv, summarised by ncu_summary.py in ncu_conv1d.log);
#       # CONV1D_KEEP_KERNELS=1: the pre-built kernels as $OUT/kernels_conv1d.tgz
#   bash op_tests/run_gpu_suite.sh peers [bench args...]
#       # issue 8: bench_pa_v1_swa.py --issue8 with the FlashInfer (tensor-core, CUDA-core) and vLLM Triton
#       # columns; carry .peers (op_tests/pa_v1/fetch_peers.sh; its wheels install here with --no-index);
#       # bench_peers.log. PEERS_JIT=1: let FlashInfer JIT-compile a module missing from its wheel
#   bash op_tests/run_gpu_suite.sh robust
#       # issue 10: the robustness tests on the GPU; the hostile-metadata cases under compute-sanitizer
#       # memcheck (op_tests/pa_v1/sanitize_pa_v1.py); the differential fuzz (fuzz_pa_v1.py: FUZZ_COUNT
#       # configurations, at most FUZZ_BUDGET_S seconds) and its first FUZZ_SANITIZE ones under memcheck;
#       # the soak (soak_pa_v1.py: SOAK_PROCS processes, SOAK_SECONDS, cold cache); SANITIZE_TIMEOUT_S bounds
#       # each memcheck run
#   bash op_tests/run_gpu_suite.sh soak     # issue 10's soak alone (robust's last step; SOAK_PROCS, SOAK_SECONDS)
#   bash op_tests/run_gpu_suite.sh mtp
#       # issue 8 (multi-token queries, self-check, matrix-instruction column): the multi-token GPU tests
#       # (GPU against the CPU path on the multi-token grid, sync-debug "error", graph replay with new
#       # cu_query_lens; they skip with a reason while gpu.MULTI_TOKEN is False), the self-check through a
#       # real kernel, the CPU multi-token, self-check and validation tests, test_pa_v1_gpu.py; then the
#       # resource table of a few pa_v1 kernels with the hmma column (cuobjdump from $AITER_SWA_CUOBJDUMP,
#       # else Triton's wheel) and the matrix-count test's NVIDIA compile (pytest_mtp.log, resources_mtp.log)
#   bash op_tests/run_gpu_suite.sh fast [host-bench args...]
#       # the fast path (aiter_swa/_fast_path.py): its torch extension built (timed; the first import of
#       # aiter_swa builds it otherwise), its CPU tests and the op's GPU tests through it (pytest_fast.log),
#       # then the host cost per call with the fast path on and off (host_cost.log)
#   bash op_tests/run_gpu_suite.sh split [split_study args...]
#       # issue 8, how the matrix-core kernel should split a small batch (op_tests/pa_v1/split_study.py): its 6
#       # kernels pre-built (prebuild_split_{vector,mma}.log), then per row the vector kernel and the matrix-core kernel at
#       # forced partition counts (the workspace buffer's size, the SM count given to the plan), graph-replay
#       # time, partition / reduce kernel times and the output against the default split (split_study.log);
#       # SPLIT_TIMEOUT (default 300 s) bounds the script: about 1 minute after the pre-build
#   bash op_tests/run_gpu_suite.sh mma
#       # issue 8, the matrix-core kernel: its benchmark kernels pre-built (the table's hmma column:
#       # prebuild_mma.log), its GPU tests (test_pa_v1_mma_gpu.py: multi-token, split, graph), the
#       # multi-token tests (test_pa_v1_mtp_gpu.py) and the one-token grid (test_pa_v1_swa.py,
#       # test_pa_v1_gpu.py) on the mma kernel (AITER_SWA_PA_KERNEL=mma),
#       # then issue 8's benchmark rows (bench --issue8 --no-peers) with the vector and the mma kernel
#       # (bench_mma_vector.log, bench_mma_mma.log);
#       # MMA_NCU=1: Nsight Compute counters of one mma_partition_kernel launch at four rows (ncu_mma.log);
#       # MMA_TESTS=0 skips the tests (MMA_TESTS=grid: only the one-token grid), MMA_BENCH=0 the benchmark; each step is bounded (MMA_TEST_TIMEOUT=240,
#       # MMA_GRID_TIMEOUT=150, MMA_BENCH_TIMEOUT=120 s per kernel): about 11 minutes with every step on, more than one device call allows: turn steps off (MMA_BENCH=0 with the tests ran in 5 minutes)
#
# Kernels compile on first use into $AITER_SWA_CACHE_DIR (pytest-xdist workers share it: one compile
# per kernel, under its file lock); the benchmarks' kernels are pre-built first with all CPUs.
set -uo pipefail
OUT=${OUT:-gpu_logs}
mkdir -p "$OUT"
what=${1:-all}
[ $# -gt 0 ] && shift
export AITER_SWA_CACHE_DIR=${AITER_SWA_CACHE_DIR:-/tmp/aiter_swa_cache} PYTHONUNBUFFERED=1
JOBS=${JOBS:-$(nproc)}
# the benchmarks' kernels (BENCH_HEADS / BENCH_GQA narrow them, e.g. to what kernel_times.py runs: 64,128 / 4,8)
BENCH_HEADS=${BENCH_HEADS:-64,128,256} BENCH_GQA=${BENCH_GQA:-2,4,8}
# the baseline's install and kernels (a machine may be warm from another checkout's run: own names)
# BASELINE: the baseline checkout's folder (default .baseline; e.g. BASELINE=.baseline9 for a second one)
BASELINE=${BASELINE:-.baseline}
BASELINE_SITE=${BASELINE_SITE:-/tmp/baseline_site_$(basename "$PWD")_${BASELINE#.}}
BASELINE_KERNELS=${BASELINE_KERNELS:-/tmp/baseline_kernels_$(basename "$PWD")_${BASELINE#.}}
BENCH_KERNELS=(--op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off
               --head-size "$BENCH_HEADS" --gqa "$BENCH_GQA")

install_here() {
    [ -f "$OUT/install.log" ] && return 0
    # wheels carried in the git-ignored .whl/ (the GPU machine has no package index), e.g. pytest-timeout
    compgen -G ".whl/*.whl" >/dev/null && python3 -m pip install -q --no-index --no-deps .whl/*.whl >"$OUT/install_whl.log" 2>&1
    { python3 -m pip install --no-deps --no-build-isolation -e . || python3 -m pip install --no-deps --no-build-isolation .; } \
        >"$OUT/install.log" 2>&1 || { tail -20 "$OUT/install.log"; exit 1; }
    { nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv 2>/dev/null || rocm-smi --showproductname; \
      python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"; date -u; \
      if [ -e .git ]; then git log -1 --format='%H %s'; else echo "commit ${AITER_SWA_COMMIT:-unknown (not a git checkout; set AITER_SWA_COMMIT)}"; fi; } \
        | tee "$OUT/device.txt"
}

baseline_prebuild() {  # the baseline's own pre-build of its bench kernels (its flags: --dtype or --q-dtype; --block-size)
    local flags=(--dtype bf16)
    (cd /tmp && PYTHONPATH="$BASELINE_SITE" python3 -m aiter_swa.jit.prebuild --help) | grep -q -- --q-dtype \
        && flags=(--op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16)
    (cd /tmp && PYTHONPATH="$BASELINE_SITE" python3 -m aiter_swa.jit.prebuild --help) | grep -q -- --block-size \
        && flags+=(--block-size "${BASELINE_BLOCK_SIZES:-16}")
    (cd /tmp && AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache_baseline PYTHONPATH="$BASELINE_SITE" python3 -m aiter_swa.jit.prebuild \
        --arch "$ARCH" "${flags[@]}" --soft-cap off --alibi off ${BENCH_SWA:+--sliding-window $BENCH_SWA} \
        --head-size "$BENCH_HEADS" --gqa "$BENCH_GQA" --jobs "$JOBS" --out "$BASELINE_KERNELS") >"$OUT/prebuild_baseline.log" 2>&1 \
        || tail -5 "$OUT/prebuild_baseline.log"
}

install_baseline() {  # the $BASELINE/ checkout into its own site dir, its bench kernels pre-built
    [ -d "$BASELINE" ] || return 1
    [ -d "$BASELINE_SITE" ] && return 0
    python3 -m pip install --no-deps --no-build-isolation --target "$BASELINE_SITE" "./$BASELINE" >"$OUT/install_baseline.log" 2>&1 \
        || { tail -20 "$OUT/install_baseline.log"; return 1; }
    baseline_prebuild
}

run_bench() {  # $1: label; the rest: bench args
    local label=$1; shift
    if [ "$label" = baseline ]; then
        local bench=$BASELINE/op_tests/pa_v1/bench_pa_v1_swa.py  # the layout of the baseline's commit
        [ -f "$bench" ] || bench=$BASELINE/op_tests/bench_pa_v1_swa.py
        (cd /tmp && AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache_baseline AITER_SWA_PREBUILT_DIR="$BASELINE_KERNELS" \
            PYTHONPATH="$BASELINE_SITE" python3 "$OLDPWD/$bench" "$@")
    else
        AITER_SWA_PREBUILT_DIR=/tmp/kernels python3 op_tests/pa_v1/bench_pa_v1_swa.py "$@"
    fi
}

install_here
if [ "$what" = fast ]; then  # before anything imports aiter_swa: the extension's build time, alone
    t0=$SECONDS
    (cd /tmp && python3 -m aiter_swa.jit.prebuild --fast-path) 2>&1 | tee "$OUT/fast_path_build.log"
    echo "fast: extension ready in $((SECONDS - t0)) s"
fi
ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
rc=0
if [ "$what" = all ] || [ "$what" = tests ]; then
    # extra arguments go to pytest (e.g. --ignore op_tests/causal_conv1d); 300 s per test where pytest-timeout is installed
    per_test=(); python3 -c "import pytest_timeout" 2>/dev/null && per_test=(--timeout "${TEST_TIMEOUT_S:-300}")
    # -v: one line per test as it ends, so a step stopped by a time limit still names its failures
    AITER_SWA_FULL_GRID=${FULL_GRID:-1} python3 -m pytest op_tests -v -rfEs -m "not toolchain" -n "$JOBS" -p no:cacheprovider \
        --durations 15 "${per_test[@]}" "$@" >"$OUT/pytest.log" 2>&1 || rc=1
    grep -E "(FAILED|ERROR) op_tests" "$OUT/pytest.log" | sort -u | head -20
    tail -3 "$OUT/pytest.log"
fi
if [ "$what" = check ]; then
    per_test=(); python3 -c "import pytest_timeout" 2>/dev/null && per_test=(--timeout "${TEST_TIMEOUT_S:-300}")
    timeout -k 10 "${CHECK_TIMEOUT:-300}" python3 -m pytest "$@" -rfEs --tb=long -n "$JOBS" -p no:cacheprovider \
        "${per_test[@]}" >"$OUT/pytest_check.log" 2>&1 || rc=1
    grep -E "^(FAILED|ERROR)" "$OUT/pytest_check.log" | head -20
    tail -1 "$OUT/pytest_check.log"
fi
if [ "$what" = all ] || [ "$what" = aiter ]; then
    # the kernels of aiter's main test (window off; its sliding-window test adds two, compiled on first use)
    python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --head-size 64,128 --gqa 2,8 \
        --sliding-window off --jobs "$JOBS" --out /tmp/kernels_aiter >"$OUT/prebuild_aiter.log" 2>&1 || tail -5 "$OUT/prebuild_aiter.log"
    AITER_SWA_PREBUILT_DIR=/tmp/kernels_aiter python3 op_tests/aiter_suite/run_aiter_pa_v1.py --log "$OUT/${AITER_LOG:-aiter_suite}.log" "$@" \
        2>&1 | tail -40 || rc=1
fi
if [ "$what" = all ] || [ "$what" = host ]; then
    # this checkout, the baseline, this checkout again (A-B-A: the host's speed drifts)
    python3 op_tests/pa_v1/bench_host_cost.py "$@" 2>&1 | tee "$OUT/host_cost.log" || rc=1
    if install_baseline; then
        (cd /tmp && AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache_baseline PYTHONPATH="$BASELINE_SITE" \
            python3 "$OLDPWD/op_tests/pa_v1/bench_host_cost.py" "$@") 2>&1 | tee "$OUT/host_cost_baseline.log"
        python3 op_tests/pa_v1/bench_host_cost.py "$@" 2>&1 | tee "$OUT/host_cost_again.log" || rc=1
    fi
fi
if [ "$what" = all ] || [ "$what" = bench ]; then
    python3 -m aiter_swa.jit.prebuild --arch "$ARCH" "${BENCH_KERNELS[@]}" --jobs "$JOBS" --out /tmp/kernels \
        >"$OUT/prebuild.log" 2>&1 || tail -5 "$OUT/prebuild.log"
    run_bench current "$@" 2>&1 | tee "$OUT/bench.log" || rc=1
    if install_baseline; then
        run_bench baseline "$@" 2>&1 | tee "$OUT/bench_baseline.log"
        run_bench current "$@" 2>&1 | tee "$OUT/bench_again.log"
    fi
fi
if [ "$what" = all ] || [ "$what" = kernels ]; then
    [ -d /tmp/kernels ] || python3 -m aiter_swa.jit.prebuild --arch "$ARCH" "${BENCH_KERNELS[@]}" --jobs "$JOBS" \
        --out /tmp/kernels >"$OUT/prebuild.log" 2>&1 || tail -5 "$OUT/prebuild.log"
    AITER_SWA_PREBUILT_DIR=/tmp/kernels python3 op_tests/pa_v1/kernel_times.py "$@" 2>&1 | tee "$OUT/kernel_times.log" || rc=1
    if install_baseline; then
        (cd /tmp && AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache_baseline AITER_SWA_PREBUILT_DIR="$BASELINE_KERNELS" \
            PYTHONPATH="$BASELINE_SITE" python3 "$OLDPWD/op_tests/pa_v1/kernel_times.py" "$@") 2>&1 \
            | tee "$OUT/kernel_times_baseline.log"
        AITER_SWA_PREBUILT_DIR=/tmp/kernels python3 op_tests/pa_v1/kernel_times.py "$@" 2>&1 | tee "$OUT/kernel_times_again.log"
    fi
fi
if [ "$what" = fast ]; then
    t0=$SECONDS
    python3 -m pytest op_tests/package/test_fast_path.py op_tests/pa_v1/test_pa_v1_fast_path.py \
        op_tests/pa_v1/test_pa_v1_gpu.py op_tests/pa_v1/test_pa_v1_robustness.py -q -rs -n "${FAST_TEST_JOBS:-8}" \
        -p no:cacheprovider >"$OUT/pytest_fast.log" 2>&1 || rc=1
    grep -E "^(FAILED|ERROR|SKIPPED)" "$OUT/pytest_fast.log" | head -20
    tail -3 "$OUT/pytest_fast.log"
    echo "fast: tests $((SECONDS - t0)) s"
    python3 op_tests/pa_v1/bench_host_cost.py "$@" 2>&1 | tee "$OUT/host_cost.log" || rc=1
fi
if [ "$what" = serve ]; then
    SERVE_BENCH=(--models mistral gpt-oss --ctx 16384 --windows 128 4096 --flex-ctx --reps 10)
    export BASELINE_BLOCK_SIZES=16,32 BENCH_SWA=on; BENCH_HEADS=64,128 BENCH_GQA=4,8
    python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --out-dtype bf16 --soft-cap off \
        --alibi off --sliding-window on --kv-dtype bf16,fp8e4m3fn,fp8e4m3fnuz --head-size 64,128 --gqa 4,8 --jobs "$JOBS" --out /tmp/kernels \
        >"$OUT/prebuild.log" 2>&1 &
    prebuild_pid=$!
    install_baseline &
    baseline_pid=$!
    if [ "${SERVE_TESTS:-1}" = 1 ]; then
        { python3 -m pytest op_tests/pa_v1/test_pa_v1_gpu.py op_tests/pa_v1/test_pa_v1_swa.py -q -rs -n "$JOBS" \
            -p no:cacheprovider -k "gpu or block_sizes or head_size or sink or fp8" >"$OUT/pytest_serve.log" 2>&1; } || rc=1
        grep -E "^(FAILED|ERROR)" "$OUT/pytest_serve.log" | head -20
        tail -3 "$OUT/pytest_serve.log"
    fi
    wait $prebuild_pid; tail -2 "$OUT/prebuild.log"
    wait $baseline_pid; tail -2 "$OUT/prebuild_baseline.log"
    # this checkout (with fp8 rows), the baseline at both block sizes, this checkout again (SERVE_A2=0: not)
    run_bench current "${SERVE_BENCH[@]}" --block-size 16 32 --kv-dtype auto fp8e4m3fn fp8e4m3fnuz 2>&1 \
        | tee "$OUT/bench.log" || rc=1
    for bs in 16 32; do
        run_bench baseline "${SERVE_BENCH[@]}" --block-size $bs 2>&1 | tee -a "$OUT/bench_baseline.log"
    done
    if [ "${SERVE_A2:-1}" = 1 ]; then
        run_bench current "${SERVE_BENCH[@]}" --block-size 16 32 --kv-dtype auto 2>&1 | tee "$OUT/bench_again.log" || rc=1
    fi
fi
if [ "$what" = conv1d ]; then
    # the Triton peer (op_tests/causal_conv1d/fetch_vllm_peer.sh writes it; carry .peers/ to the GPU machine)
    [ -f .peers/vllm_conv1d/causal_conv1d.py ] && export AITER_SWA_CONV1D_PEER_DIR=${AITER_SWA_CONV1D_PEER_DIR:-.peers/vllm_conv1d}
    t0=$SECONDS
    # CONV1D_STEPS: which of "bench gputests tests" run (default "bench tests"; without "tests" only the
    # benchmark's 10 kernels (default and tuning) are pre-built, not 36, and the load check is skipped)
    steps=" ${CONV1D_STEPS:-bench tests} "
    # the channel-first tuning variants benchmarked beside the op's kernel (spec.py's axes)
    CF_VARIANTS=${CONV1D_CF_VARIANTS:-cf_rows=2;cf_fast=0;walk=1}
    # the benchmark's kernels (bf16 w4 SiLU, both layouts) with their tuning variants (8 tokens per thread
    # channel-last; channel-first 2, 4 or 8 rows, each with and without cf_fast; the walking kernel, walk=1,
    # in both layouts: 10 kernels) into their own
    # dir; with the tests, every specialization (36) beside, and the fp32 variants (the GPU tests'
    # bit-identity cases)
    tuning_jobs=$JOBS; tuning_dtypes=bf16; [[ $steps == *" tests "* || $steps == *" gputests "* ]] && tuning_dtypes=bf16,fp32
    [[ $steps == *" tests "* ]] && tuning_jobs=4
    python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op causal_conv1d --dtype $tuning_dtypes --width 4 --activation silu \
        --cl-run 4,8 --cf-rows 2,4,8 --cf-fast 0,1 --walk 0,1 --jobs "$tuning_jobs" --out /tmp/kernels_conv1d_tuning \
        >"$OUT/prebuild_conv1d_tuning.log" 2>&1 &
    tuning_pid=$!
    if [[ $steps == *" tests "* ]]; then
        python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op causal_conv1d --jobs "$JOBS" --out /tmp/kernels_conv1d \
            >"$OUT/prebuild_conv1d.log" 2>&1 || { tail -5 "$OUT/prebuild_conv1d.log"; rc=1; }
    fi
    wait $tuning_pid || { tail -5 "$OUT/prebuild_conv1d_tuning.log"; rc=1; }
    grep -E "fwd_kernel" "$OUT/prebuild_conv1d_tuning.log" | head -10
    echo "conv1d: pre-build $((SECONDS - t0)) s"; t0=$SECONDS
    export AITER_SWA_PREBUILT_DIR=/tmp/kernels_conv1d:/tmp/kernels_conv1d_tuning
    # every pre-built kernel loads from the pre-built dirs in a plain process, the JIT off (a miss says why)
    # (and then the tests run with the JIT off too: a kernel they fail to find fails at once, with the
    # JIT's message naming the dirs searched, instead of compiling for half a minute; CONV1D_TESTS_JIT=1: on)
    tests_jit_off=0
    if [[ $steps == *" tests "* ]]; then
        if AITER_SWA_DISABLE_JIT=1 python3 -W always op_tests/causal_conv1d/check_prebuilt.py --arch "$ARCH" \
            >"$OUT/load_check_conv1d.log" 2>&1; then
            [ "${CONV1D_TESTS_JIT:-0}" = 1 ] || tests_jit_off=1
        else
            rc=1
        fi
        tail -1 "$OUT/load_check_conv1d.log"
    fi
    # the benchmark first (a minute): its numbers come back even if a test hangs
  if [[ $steps == *" bench "* ]]; then
    # four processes, each run whatever the one before did (a CUDA error is sticky for its process);
    # each prints the op's rows and targets before its tuning-variant rows (channel-first: 2 rows per
    # thread at 6 workgroups per SM, phase 0 one token per search with the taps in registers (cf_fast=0);
    # spec.py)
    { python3 op_tests/causal_conv1d/bench_causal_conv1d.py "$@" || echo "BENCH FAILED: seed batch"
      python3 op_tests/causal_conv1d/bench_causal_conv1d.py --lens 4096,2048,1024,1,1,1 \
            --variants "cl_run=8;walk=1" "$@" || echo "BENCH FAILED: long prefill, channel-last"
      python3 op_tests/causal_conv1d/bench_causal_conv1d.py --lens 4096,2048,1024,1,1,1 \
            --layout channel_first --variants "$CF_VARIANTS" "$@" \
            || echo "BENCH FAILED: long prefill, channel-first"
      # control: 7232 tokens (4096,2048,1024,64), every channel-first row on a 128-byte line
      python3 op_tests/causal_conv1d/bench_causal_conv1d.py --lens 4096,2048,1024,64 --peer-dir "" \
            --layout channel_first --variants "$CF_VARIANTS" "$@" \
            || echo "BENCH FAILED: long prefill, channel-first, 128-byte rows"
    } 2>&1 | tee "$OUT/bench_conv1d.log"
    grep -q "^BENCH FAILED" "$OUT/bench_conv1d.log" && rc=1
    echo "conv1d: benchmark $((SECONDS - t0)) s"; t0=$SECONDS
  fi
    if [[ $steps == *" bench "* ]] && [ "${CONV1D_NCU:-0}" = 1 ] && command -v ncu >/dev/null; then
        # DRAM bytes and time of every fwd_kernel launch of a short long-prefill run per layout (the op's
        # kernel and, channel-first, the variants of $CF_VARIANTS), summarised per kernel by ncu_summary.py
        for layout in channel_last channel_first; do
            timeout 120 ncu --clock-control none --kernel-name regex:fwd_kernel --launch-count 60 --csv \
                --metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,lts__t_sectors_srcunit_tex_op_read.sum,lts__t_sectors_srcunit_tex_op_write.sum,smsp__inst_executed.sum,sm__warps_active.avg.pct_of_peak_sustained_active \
                python3 op_tests/causal_conv1d/bench_causal_conv1d.py --lens 4096,2048,1024,1,1,1 --layout $layout \
                --peer-dir "" --iters 2 --repeats 1 --graph-calls 1 --variants "$CF_VARIANTS" >"$OUT/ncu_conv1d_$layout.csv" 2>&1
        done || true
        python3 op_tests/causal_conv1d/ncu_summary.py "$OUT"/ncu_conv1d_channel_last.csv "$OUT"/ncu_conv1d_channel_first.csv \
            2>&1 | tee "$OUT/ncu_conv1d.log"
        echo "conv1d: ncu $((SECONDS - t0)) s"; t0=$SECONDS
    fi
    # "gputests": the GPU-only file alone (sync-free calls, graph replay, the long prefill, the misaligned x,
    # the tuning variants launched directly in a graph): bf16 w4 SiLU throughout, so the benchmark's 4
    # pre-built kernels serve it with the JIT off; at most 150 s
  if [[ $steps == *" gputests "* ]]; then
    AITER_SWA_DISABLE_JIT=1 timeout -k 10 150 python3 -m pytest op_tests/causal_conv1d/test_causal_conv1d_gpu.py -v -rfEs \
        -p no:cacheprovider >"$OUT/pytest_conv1d_gpu.log" 2>&1 || rc=1
    grep -E "^(FAILED|ERROR)" "$OUT/pytest_conv1d_gpu.log" | head -20
    tail -1 "$OUT/pytest_conv1d_gpu.log"
    echo "conv1d: GPU-only tests $((SECONDS - t0)) s"; t0=$SECONDS
  fi
    # Tests: one line per test as it ends (-v), the 25 slowest (--durations), each test's kernel loads
    # and their origin (prebuilt / cache / compiled) with seconds in load_log_conv1d.log
    # (op_tests/causal_conv1d/conftest.py); every thread's stack after 20 s in one test (faulthandler,
    # works while a thread waits on the GPU), and pytest-timeout (where installed) ends a test's worker
    # after 60 s, its stack printed (thread method: also a worker blocked in a CUDA call); the whole
    # step at most CONV1D_TEST_TIMEOUT s. The emulated kernel tests are CPU tests (.ci/run).
  if [[ $steps == *" tests "* ]]; then
    per_test=(); python3 -c "import pytest_timeout" 2>/dev/null && per_test=(--timeout 60 --timeout-method thread)
    echo "conv1d: tests with AITER_SWA_DISABLE_JIT=$tests_jit_off"
    load_log="$(cd "$OUT" && pwd)/load_log_conv1d.log"; rm -f "$load_log"
    AITER_SWA_DISABLE_JIT=$tests_jit_off AITER_SWA_LOAD_LOG="$load_log" timeout -k 10 "${CONV1D_TEST_TIMEOUT:-120}" python3 -m pytest \
        op_tests/causal_conv1d -v -rfEs -m "not toolchain" --ignore op_tests/causal_conv1d/test_causal_conv1d_emulated.py \
        --durations 25 -o faulthandler_timeout=20 "${per_test[@]}" -n "${CONV1D_TEST_JOBS:-8}" -p no:cacheprovider \
        >"$OUT/pytest_conv1d.log" 2>&1 || rc=1
    grep -E "^(FAILED|ERROR)|Timeout" "$OUT/pytest_conv1d.log" | head -20
    tail -3 "$OUT/pytest_conv1d.log"
    echo "kernel loads by origin: $(grep -oE '=(prebuilt|cache|compiled|FAILED)' "$load_log" 2>/dev/null | sort | uniq -c | tr '\n' ' ')"
    echo "slowest tests (load_log_conv1d.log):"; sort -k3 -g -r "$load_log" 2>/dev/null | head -5 | cut -c1-300
    echo "conv1d: tests $((SECONDS - t0)) s"
  fi
    unset AITER_SWA_PREBUILT_DIR
    [ "${CONV1D_KEEP_KERNELS:-0}" = 1 ] && tar -czf "$OUT/kernels_conv1d.tgz" -C /tmp kernels_conv1d
fi
if [ "$what" = mtp ]; then
    t0=$SECONDS
    if [ -z "${AITER_SWA_CUOBJDUMP:-}" ]; then  # CUDA 13 pip layouts lack cuobjdump; Triton's wheel carries one
        tri=$(python3 -c "import os, triton; print(os.path.join(os.path.dirname(triton.__file__), 'backends/nvidia/bin/cuobjdump'))" 2>/dev/null)
        [ -n "$tri" ] && [ -x "$tri" ] && export AITER_SWA_CUOBJDUMP=$tri
    fi
    echo "mtp: cuobjdump ${AITER_SWA_CUOBJDUMP:-(none: the hmma column reads n/a)}"
    per_test=(); python3 -c "import pytest_timeout" 2>/dev/null && per_test=(--timeout "${TEST_TIMEOUT_S:-300}")
    timeout -k 10 "${MTP_TEST_TIMEOUT:-900}" python3 -m pytest op_tests/pa_v1/test_pa_v1_mtp_gpu.py op_tests/pa_v1/test_pa_v1_mtp.py \
        op_tests/pa_v1/test_pa_v1_selfcheck.py op_tests/pa_v1/test_pa_v1_gpu.py op_tests/pa_v1/test_pa_v1_validation.py \
        op_tests/jit/test_jit_matrix_count.py -q -rs -n "$JOBS" -p no:cacheprovider "${per_test[@]}" "$@" \
        >"$OUT/pytest_mtp.log" 2>&1 || rc=1
    grep -E "^(FAILED|ERROR)" "$OUT/pytest_mtp.log" | head -20
    grep -E "^SKIPPED" "$OUT/pytest_mtp.log" | cut -c1-160 | sort | uniq -c | head -10
    tail -1 "$OUT/pytest_mtp.log"
    echo "mtp: tests $((SECONDS - t0)) s"; t0=$SECONDS
    python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 \
        --head-size 64,128 --gqa 1,8 --soft-cap off --alibi off --sliding-window on --resources-only --jobs "$JOBS" \
        >"$OUT/resources_mtp.log" 2>&1 || rc=1
    grep -A12 -E "^(AMD|NVIDIA)" "$OUT/resources_mtp.log" | head -30
    echo "mtp: resource table $((SECONDS - t0)) s"
fi
if [ "$what" = peers ]; then
    # issue 8's table with the peer columns (bench_pa_v1_swa.py --issue8): FlashInfer and vLLM's Triton
    # unified_attention from .peers/ (op_tests/pa_v1/fetch_peers.sh wrote it on a machine with an index;
    # carry .peers). FlashInfer's modules come pre-built in its wheel (op_tests/pa_v1/peers_env.sh: its wheels and
    # environment).
    t0=$SECONDS
    # the vector kernels, then the matrix-core ones (16 and 32 rows; the dispatch's one-token choice at GQA 8
    # and at batch 1, and the multi-token rows) into the same folder
    { python3 -m aiter_swa.jit.prebuild --arch "$ARCH" "${BENCH_KERNELS[@]}" --mma-rows 0 --jobs "$JOBS" --out /tmp/kernels \
      && python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 \
        --soft-cap off --alibi off --head-size "$BENCH_HEADS" --gqa 1 --mma-rows 16,32 --jobs "$JOBS" --out /tmp/kernels; } \
        >"$OUT/prebuild.log" 2>&1 &
    prebuild_pid=$!
    source op_tests/pa_v1/peers_env.sh
    peers_install "$OUT/install_peers.log"
    python3 -c "import flashinfer, sys; print('flashinfer', flashinfer.__version__, 'AOT modules:', \
        len(list(__import__('pathlib').Path(flashinfer.__file__).parent.glob('data/aot/*/*.so'))))" 2>&1 | tail -1
    echo "peers: installs $((SECONDS - t0)) s"
    wait $prebuild_pid || { tail -5 "$OUT/prebuild.log"; rc=1; }
    echo "peers: our kernels pre-built at $((SECONDS - t0)) s"
    peers_env
    export MAX_JOBS=$JOBS
    run_bench current --issue8 "$@" 2>&1 | tee "$OUT/bench_peers.log" || rc=1
    echo "peers: done at $((SECONDS - t0)) s"
fi
if [ "$what" = robust ]; then
    FUZZ_COUNT=${FUZZ_COUNT:-3000} FUZZ_BUDGET_S=${FUZZ_BUDGET_S:-0} FUZZ_SANITIZE=${FUZZ_SANITIZE:-25}
    SOAK_PROCS=${SOAK_PROCS:-8} SOAK_SECONDS=${SOAK_SECONDS:-120} SANITIZE_TIMEOUT_S=${SANITIZE_TIMEOUT_S:-1800}
    SANITIZE=(timeout "$SANITIZE_TIMEOUT_S" env PYTORCH_NO_CUDA_MEMORY_CACHING=1 compute-sanitizer --tool memcheck
              --error-exitcode 3)
    t0=$SECONDS
    stamp() { echo "[robust +$((SECONDS - t0)) s] $*"; }
    # the tests' kernels (bf16, head 64, GQA 4, every flag; any block size) and the fuzz's, each through one ninja
    python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 \
        --head-size 64 --gqa 4 --jobs "$JOBS" --out /tmp/kernels_robust >"$OUT/prebuild_robust.log" 2>&1 \
        || { tail -5 "$OUT/prebuild_robust.log"; rc=1; }
    python3 op_tests/pa_v1/fuzz_pa_v1.py --count "$FUZZ_COUNT" --prebuild --prebuild-only --kernels-dir /tmp/kernels_fuzz \
        --jobs "$JOBS" >"$OUT/prebuild_fuzz.log" 2>&1 || { tail -5 "$OUT/prebuild_fuzz.log"; rc=1; }
    export AITER_SWA_PREBUILT_DIR=/tmp/kernels_robust:/tmp/kernels_fuzz
    stamp "kernels pre-built"
    # memcheck runs (slow) beside the tests and the fuzz
    "${SANITIZE[@]}" python3 op_tests/pa_v1/sanitize_pa_v1.py >"$OUT/sanitize_hostile.log" 2>&1 &
    san_hostile=$!
    "${SANITIZE[@]}" python3 op_tests/pa_v1/fuzz_pa_v1.py --count "$FUZZ_SANITIZE" >"$OUT/sanitize_fuzz.log" 2>&1 &
    san_fuzz=$!
    python3 -m pytest op_tests/pa_v1/test_pa_v1_robustness.py op_tests/pa_v1/test_pa_v1_validation.py \
        op_tests/pa_v1/test_pa_v1_fuzz.py -q -rs -n 6 -p no:cacheprovider >"$OUT/pytest_robust.log" 2>&1 || rc=1
    grep -E "^(FAILED|ERROR)" "$OUT/pytest_robust.log" | head -20; tail -1 "$OUT/pytest_robust.log"
    stamp "pytest done"
    python3 op_tests/pa_v1/fuzz_pa_v1.py --count "$FUZZ_COUNT" --budget-s "$FUZZ_BUDGET_S" --log "$OUT/fuzz.jsonl" \
        >"$OUT/fuzz.log" 2>&1 || rc=1
    grep -E "MISMATCH|^fuzz: \{" "$OUT/fuzz.log" | tail -8
    stamp "fuzz done"
    wait $san_hostile || { echo "memcheck of the hostile cases: exit $?"; rc=1; }
    grep -E "^FAIL|ERROR SUMMARY|sanitize_pa_v1:" "$OUT/sanitize_hostile.log" | head -20
    wait $san_fuzz || { echo "memcheck of the fuzz: exit $?"; rc=1; }
    grep -E "MISMATCH|ERROR SUMMARY|^fuzz: \{" "$OUT/sanitize_fuzz.log" | tail -5
    stamp "memcheck runs done"
    unset AITER_SWA_PREBUILT_DIR
    python3 op_tests/pa_v1/soak_pa_v1.py --procs "$SOAK_PROCS" --seconds "$SOAK_SECONDS" >"$OUT/soak.log" 2>&1 || rc=1
    grep -E "^soak" "$OUT/soak.log" | tail -5
    stamp "soak done"
fi
if [ "$what" = soak ]; then  # the soak alone (robust's last step): SOAK_PROCS processes, SOAK_SECONDS, cold cache
    python3 op_tests/pa_v1/soak_pa_v1.py --procs "${SOAK_PROCS:-8}" --seconds "${SOAK_SECONDS:-120}" >"$OUT/soak.log" 2>&1 || rc=1
    grep -E "^soak" "$OUT/soak.log" | tail -5
fi
if [ "$what" = split ]; then
    t0=$SECONDS
    # its kernels (bf16, window on), head sizes 64 and 128: vector GQA 4 / 8 and matrix-core 16 rows, both
    # builds at once, each into its own folder (a manifest each)
    pids=()
    for kind in vector mma; do
        sel=(--gqa 4,8 --mma-rows 0); [ $kind = mma ] && sel=(--gqa 1 --mma-rows 16)
        python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 \
            --head-size 64,128 "${sel[@]}" --sliding-window on --soft-cap off --alibi off --jobs "$JOBS" \
            --out /tmp/kernels_split_$kind >"$OUT/prebuild_split_$kind.log" 2>&1 &
        pids+=($!)
    done
    for p in "${pids[@]}"; do
        wait "$p" || { echo "split: a pre-build failed (its kernels compile on first use):"; tail -5 "$OUT"/prebuild_split_*.log; }
    done
    echo "split: kernels pre-built in $((SECONDS - t0)) s"
    AITER_SWA_PREBUILT_DIR=/tmp/kernels_split_vector:/tmp/kernels_split_mma timeout -k 10 "${SPLIT_TIMEOUT:-300}" \
        python3 op_tests/pa_v1/split_study.py "$@" 2>&1 | tee "$OUT/split_study.log" || rc=1
    echo "split: done at $((SECONDS - t0)) s"
fi
if [ "$what" = mma ]; then
    mma_start=$(date +%s)
    mstamp() { echo "[mma +$(( $(date +%s) - mma_start ))s] $*"; }
    # the benchmark's kernels: vector (GQA 2/4/8) and mma (16 and 32 rows), bf16, head sizes 64/128/256, window on/off;
    # cuobjdump for the table's hmma column (Triton's wheel has one)
    [ -n "${AITER_SWA_CUOBJDUMP:-}" ] || export AITER_SWA_CUOBJDUMP=$(python3 -c "import triton, pathlib; print(pathlib.Path(triton.__file__).parent / 'backends/nvidia/bin/cuobjdump')" 2>/dev/null)
    { python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 \
        --soft-cap off --alibi off --head-size 64,128,256 --gqa 2,4,8 --mma-rows 0 --jobs "$JOBS" --out /tmp/kernels \
      && python3 -m aiter_swa.jit.prebuild --arch "$ARCH" --op pa_v1 --q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 \
        --soft-cap off --alibi off --head-size 64,128,256 --gqa 1 --mma-rows 16,32 --jobs "$JOBS" --out /tmp/kernels; } \
        >"$OUT/prebuild_mma.log" 2>&1 &
    prebuild_pid=$!
    per_test=(); python3 -c "import pytest_timeout" 2>/dev/null && per_test=(--timeout 180)
    if [ "${MMA_TESTS:-1}" != 0 ]; then
      if [ "${MMA_TESTS:-1}" != grid ]; then
        # 240 s: on a fresh machine the two files' JIT compiles share the CPUs with the pre-build above (150 s
        # stopped them at 186 of 214 tests on 2026-11-30)
        timeout -k 10 "${MMA_TEST_TIMEOUT:-240}" python3 -m pytest op_tests/pa_v1/test_pa_v1_mma_gpu.py \
            op_tests/pa_v1/test_pa_v1_mtp_gpu.py -q -rs -n "$JOBS" \
            -p no:cacheprovider "${per_test[@]}" >"$OUT/pytest_mma.log" 2>&1
        test_rc=$?; [ $test_rc = 0 ] || rc=1
        [ $test_rc -ge 124 ] && echo "pytest_mma: stopped by MMA_TEST_TIMEOUT (${MMA_TEST_TIMEOUT:-240} s) before its summary"
        grep -E "^(FAILED|ERROR)" "$OUT/pytest_mma.log" | head -20; tail -1 "$OUT/pytest_mma.log"
        mstamp "multi-token tests done"
      fi
        AITER_SWA_PA_KERNEL=mma timeout -k 10 "${MMA_GRID_TIMEOUT:-150}" python3 -m pytest op_tests/pa_v1/test_pa_v1_swa.py \
            op_tests/pa_v1/test_pa_v1_gpu.py -q -rs -m "not toolchain" -n "$JOBS" -p no:cacheprovider "${per_test[@]}" \
            >"$OUT/pytest_mma_grid.log" 2>&1 || rc=1
        grep -E "^(FAILED|ERROR)" "$OUT/pytest_mma_grid.log" | head -20; tail -1 "$OUT/pytest_mma_grid.log"
        mstamp "one-token grid on the mma kernel done"
    fi
    wait $prebuild_pid || { echo "pre-build failed:"; tail -5 "$OUT/prebuild_mma.log"; rc=1; }
    tail -3 "$OUT/prebuild_mma.log"
    # the resource table's hmma / mfma column counts matrix instructions per kernel (0: a scalar fallback)
    grep -E "mma_partition_kernel|^spec" "$OUT/prebuild_mma.log" | head -8
    if [ "${MMA_BENCH:-1}" = 1 ]; then
        # issue 8's table (bench --issue8: its rows, mtp 2/4 included), ours only, the vector kernel then the mma one
        # (mtp > 1 rows: n/a with the vector kernel); the peers' columns: the peers' own GPU step
        for kernel in vector mma; do
            AITER_SWA_PREBUILT_DIR=/tmp/kernels timeout -k 10 "${MMA_BENCH_TIMEOUT:-120}" python3 op_tests/pa_v1/bench_pa_v1_swa.py \
                --issue8 --no-peers --kernel "$kernel" --reps 10 2>&1 | tee "$OUT/bench_mma_$kernel.log" || rc=1
        done
        mstamp "benchmark done"
    fi
    if [ "${MMA_NCU:-0}" = 1 ] && command -v ncu >/dev/null; then
        # Nsight Compute counters of one mma_partition_kernel launch per row (DRAM throughput vs peak,
        # occupancy, warp stalls: what still limits the matrix-core kernel)
        for row in "mistral B32 16K w4096" "gpt-oss B64 16K w4096" "seed B8 9216 w8192" "mistral B1 32K w4096"; do
            echo "=== $row"
            AITER_SWA_PREBUILT_DIR=/tmp/kernels timeout 90 ncu --clock-control none --kernel-name regex:mma_partition_kernel \
                --launch-skip 2 --launch-count 1 --section SpeedOfLight --section MemoryWorkloadAnalysis \
                --section WarpStateStats --section SchedulerStats --section Occupancy --section LaunchStats \
                python3 op_tests/pa_v1/bench_pa_v1_swa.py --issue8 --no-peers --kernel mma --rows "$row" --reps 1 --calls 1
        done >"$OUT/ncu_mma.log" 2>&1 || true
        grep -E "^===|DRAM Throughput|Memory Throughput|Duration|Achieved Occupancy|Theoretical Occ|Registers Per|Block Limit|Waves Per SM|Warp Cycles Per Issued|Issue Slots Busy|Eligible Warps|Stall" \
            "$OUT/ncu_mma.log" | head -60
        mstamp "ncu done"
    fi
fi
exit $rc
