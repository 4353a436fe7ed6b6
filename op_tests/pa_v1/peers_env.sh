# Sourced (bash) on the GPU machine before bench_pa_v1_swa.py --issue8 runs with its peer columns: by
# run_gpu_suite.sh's peers step and by the GPU call scripts that time the peers in rounds of their own.
#   source op_tests/pa_v1/peers_env.sh; peers_install LOG; peers_env
# .peers/ is what op_tests/pa_v1/fetch_peers.sh wrote on a machine with a package index (carry it).

# peers_install LOG: the carried wheels (.peers/wheels, --no-index), each only where its module is missing;
# FlashInfer and its FFI always. pip's output to LOG; a failure is reported, not fatal (the bench then shows
# those columns as n/a).
peers_install() {
    local log=$1 w mod inst=()
    for w in .peers/wheels/*.whl; do
        [ -f "$w" ] || continue
        mod=$(basename "$w" | cut -d- -f1)
        case $mod in
            flashinfer_python|apache_tvm_ffi) inst+=("$w"); continue ;;
            nvidia_ml_py) mod=pynvml ;;
        esac
        python3 -c "import $mod" 2>/dev/null || inst+=("$w")
    done
    if [ ${#inst[@]} -gt 0 ]; then
        python3 -m pip install --no-deps --no-index "${inst[@]}" >"$log" 2>&1 \
            || { echo "peers: wheel install failed (the bench shows their columns as n/a)"; tail -5 "$log"; }
    else
        echo "peers: no .peers/wheels (op_tests/pa_v1/fetch_peers.sh; carry .peers): FlashInfer columns n/a"
    fi
}

# peers_env: FlashInfer's modules from its wheel only (FLASHINFER_DISABLE_JIT=1: a missing one is an n/a
# column, not minutes of nvcc; PEERS_JIT=1 lets it compile instead), its workspace and Triton's cache.
peers_env() {
    [ "${PEERS_JIT:-0}" = 1 ] || export FLASHINFER_DISABLE_JIT=1
    export FLASHINFER_WORKSPACE_BASE=${FLASHINFER_WORKSPACE_BASE:-/tmp/flashinfer_ws}
    export TRITON_CACHE_DIR=${TRITON_CACHE_DIR:-/tmp/triton_cache_peers}
}
