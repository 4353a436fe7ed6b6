#!/usr/bin/env bash
# Fetches the benchmark's peers (issue 8 item 6) into the git-ignored .peers/ of this checkout, for
# bench_pa_v1_swa.py's FlashInfer and vLLM Triton columns on the GPU machine (which has no package
# index: carry .peers/ there with the working tree; `bash op_tests/run_gpu_suite.sh peers` installs
# and runs). None of it is committed here. Run it on a machine with a package index and nvcc:
#
#   op_tests/pa_v1/fetch_peers.sh            # everything (downloads ~450 MB, builds 8 FlashInfer modules, ~15 min on 2 cores)
#   PEERS_AOT=0 op_tests/pa_v1/fetch_peers.sh   # no pre-built FlashInfer modules (it then JIT-compiles on the GPU)
#
# Writes
#   .peers/wheels/flashinfer_python-0.7.4-py3-none-any.whl   FlashInfer, trimmed below the 64 MiB carry
#       limit by ../shared/peers/trim_flashinfer_wheel.py, with the benchmark's modules pre-built as
#       AOT artifacts (op_tests/pa_v1/build_flashinfer_aot.py: FlashInfer's own JIT, nvcc, sm_90a),
#       so that FLASHINFER_DISABLE_JIT=1 works on the GPU machine
#   .peers/wheels/apache_tvm_ffi-*-cp312-*.whl                FlashInfer's FFI (GPU machine: Python 3.12)
#   .peers/wheels/<small pure-Python wheels>                  what `import flashinfer` needs beyond torch
#       (installed there only where missing)
#   .peers/vllm_attn/vllm/...                                 vLLM's triton_unified_attention.py and
#       triton_attention_helpers.py (unchanged, Apache-2.0, from the vllm wheel) inside our stand-in
#       package op_tests/pa_v1/peer_standins/vllm (what those two files import)
#   .peers/SOURCES                                            versions, sha256s, module list, build time
#
# Environment: PEERS_DL (download cache, default /tmp/aiter_swa_peers_dl), PEERS_AOT (1),
# PEERS_HEAD_DIMS ("128 64 256", window on), PEERS_OFF_HEAD_DIMS ("128", window off), PEERS_DTYPES ("bf16"), PEERS_JOBS (nvcc jobs, default 2, run under
# nice -n 10), FLASHINFER_VERSION (0.7.4), TVM_FFI_VERSION (0.1.15.post2), VLLM_VERSION (0.33.0),
# VLLM_WHEEL (a vllm wheel already on disk), PYTHON (python3).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=${PYTHON:-python3}
DL=${PEERS_DL:-/tmp/aiter_swa_peers_dl}
FI_VERSION=${FLASHINFER_VERSION:-0.7.4}
TVM_VERSION=${TVM_FFI_VERSION:-0.1.15.post2}
VLLM_VERSION=${VLLM_VERSION:-0.33.0}
TRIM=${TRIM_SCRIPT:-$ROOT/../shared/peers/trim_flashinfer_wheel.py}
[ -f "$TRIM" ] || TRIM=/work/shared/peers/trim_flashinfer_wheel.py
DEST=$ROOT/.peers
# what `import flashinfer` (decode / prefill) needs beyond torch and its dependencies; the GPU step
# installs each only where its module is missing
AUX=(nvidia-ml-py requests urllib3 idna certifi packaging tqdm einops tabulate)
AUX_CHARSET="charset-normalizer"  # pure-Python build (py3-none-any), any Python
mkdir -p "$DL" "$DEST/wheels"
pipdl() { "$PY" -m pip download -q --no-deps "$@"; }

echo "== downloads -> $DL"
[ -f "$DL/flashinfer_python-$FI_VERSION-py3-none-any.whl" ] || pipdl "flashinfer-python==$FI_VERSION" -d "$DL"
pipdl --python-version 3.12 --only-binary=:all: --platform manylinux_2_28_x86_64 "apache-tvm-ffi==$TVM_VERSION" -d "$DL/cp312"
pipdl --only-binary=:all: "apache-tvm-ffi==$TVM_VERSION" -d "$DL/local"     # this machine's Python, for the build
pipdl --only-binary=:all: --python-version 3.12 --platform any --implementation py "${AUX[@]}" "$AUX_CHARSET" -d "$DL/aux"
FULL=$DL/flashinfer_python-$FI_VERSION-py3-none-any.whl

rm -f "$DEST"/wheels/*.whl
cp "$DL"/cp312/apache_tvm_ffi-*.whl "$DL"/aux/*.whl "$DEST/wheels/"

OPS=$DL/aot_empty
BUILD_S=0
if [ "${PEERS_AOT:-1}" = 1 ]; then
    echo "== FlashInfer modules, built ahead (FlashInfer's JIT, nvcc, sm_90a)"
    SITE=$DL/fi_site
    [ -d "$SITE/flashinfer" ] || "$PY" -m pip install -q --no-deps --target "$SITE" "$FULL" "$DL"/local/apache_tvm_ffi-*.whl \
        "$DL"/aux/nvidia_ml_py-*.whl
    # FlashInfer links its modules with -lcuda; without a driver here a stub with the driver API's
    # names (from cuda.h) is enough to link: the GPU machine's libcuda.so.1 serves them at load
    cuda_home=
    for d in "${CUDA_HOME:-}" "$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")" /usr/local/cuda; do
        [ -n "$d" ] && [ -f "$d/include/cuda.h" ] && { cuda_home=$d; break; }
    done
    [ -n "$cuda_home" ] || { echo "fetch_peers: no cuda.h (set CUDA_HOME)" >&2; exit 1; }
    STUB=$DL/cuda_stub
    if [ ! -f "$STUB/libcuda.so" ]; then
        mkdir -p "$STUB"
        cuda_inc=$cuda_home/include
        gcc -E -I"$cuda_inc" "$cuda_inc/cuda.h" | grep -oE '\bcu[A-Z][A-Za-z0-9_]*\s*\(' | sed 's/\s*($//' | sort -u \
            | awk '{print "void " $1 "(void) {}"}' > "$STUB/stub.c"
        gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$STUB/libcuda.so" "$STUB/stub.c"
    fi
    WS=$DL/fi_ws
    cuda_lib=$cuda_home/lib64  # libcudart (FlashInfer's -L$cuda_home may miss it when nvcc is linked elsewhere)
    t0=$SECONDS
    build() {  # shellcheck disable=SC2086
        FLASHINFER_CUDA_ARCH_LIST=9.0 FLASHINFER_WORKSPACE_BASE="$WS" MAX_JOBS=${PEERS_JOBS:-2} \
            FLASHINFER_EXTRA_LDFLAGS="-L$STUB -L$cuda_lib" PYTHONPATH="$SITE" nice -n 10 "$PY" \
            "$ROOT/op_tests/pa_v1/build_flashinfer_aot.py" --dtypes ${PEERS_DTYPES:-bf16} "$@"
    }
    # window on: every head dim of the rows; window off: only the Mistral row (d128)
    build --head-dims ${PEERS_HEAD_DIMS:-128 64 256} --windows on
    build --head-dims ${PEERS_OFF_HEAD_DIMS:-128} --windows off
    BUILD_S=$((SECONDS - t0))
    # only the modules the rows load (the cache may hold others from earlier builds)
    built=$(ls -d "$WS"/.cache/flashinfer/"$FI_VERSION"/*/cached_ops | head -1)
    OPS=$DL/aot_ops
    rm -rf "$OPS" && mkdir -p "$OPS"
    for name in $(build --head-dims ${PEERS_HEAD_DIMS:-128 64 256} --windows on --list) \
                $(build --head-dims ${PEERS_OFF_HEAD_DIMS:-128} --windows off --list); do
        mkdir -p "$OPS/$name" && cp "$built/$name/$name.so" "$OPS/$name/"
    done
else
    mkdir -p "$OPS"
fi
echo "== trimmed FlashInfer wheel (+ AOT modules from $OPS)"
"$PY" "$TRIM" "$FULL" "$OPS" "$DEST/wheels/flashinfer_python-$FI_VERSION-py3-none-any.whl"

if [ "${PEERS_AOT:-1}" = 1 ]; then
    echo "== check: every module loads from the trimmed wheel with FLASHINFER_DISABLE_JIT=1 (libcuda stub)"
    VSITE=$DL/verify_site
    rm -rf "$VSITE"
    "$PY" -m pip install -q --no-deps --target "$VSITE" "$DEST/wheels/flashinfer_python-$FI_VERSION-py3-none-any.whl" \
        "$DL"/local/apache_tvm_ffi-*.whl "$DL"/aux/nvidia_ml_py-*.whl
    # shellcheck disable=SC2086
    (cd /tmp && FLASHINFER_DISABLE_JIT=1 FLASHINFER_CUDA_ARCH_LIST=9.0 FLASHINFER_WORKSPACE_BASE="$DL/verify_ws" \
        LD_LIBRARY_PATH="$STUB:$cuda_lib" PYTHONPATH="$VSITE" "$PY" "$ROOT/op_tests/pa_v1/build_flashinfer_aot.py" --verify \
        --head-dims ${PEERS_HEAD_DIMS:-128 64 256} --windows on --dtypes ${PEERS_DTYPES:-bf16} \
     && FLASHINFER_DISABLE_JIT=1 FLASHINFER_CUDA_ARCH_LIST=9.0 FLASHINFER_WORKSPACE_BASE="$DL/verify_ws" \
        LD_LIBRARY_PATH="$STUB:$cuda_lib" PYTHONPATH="$VSITE" "$PY" "$ROOT/op_tests/pa_v1/build_flashinfer_aot.py" --verify \
        --head-dims ${PEERS_OFF_HEAD_DIMS:-128} --windows off --dtypes ${PEERS_DTYPES:-bf16})
fi

echo "== vLLM's Triton unified attention"
wheel=${VLLM_WHEEL:-}
if [ -z "$wheel" ]; then
    [ -n "$(ls "$DL"/vllm/vllm-"$VLLM_VERSION"-*.whl 2>/dev/null)" ] || pipdl "vllm==$VLLM_VERSION" -d "$DL/vllm"
    wheel=$(ls "$DL"/vllm/vllm-"$VLLM_VERSION"-*.whl | head -1)
fi
rm -rf "$DEST/vllm_attn"
mkdir -p "$DEST/vllm_attn"
cp -r "$ROOT/op_tests/pa_v1/peer_standins/vllm" "$DEST/vllm_attn/"
find "$DEST/vllm_attn" -name __pycache__ -prune -exec rm -rf {} +
for f in triton_unified_attention.py triton_attention_helpers.py; do
    unzip -p "$wheel" "vllm/v1/attention/ops/$f" > "$DEST/vllm_attn/vllm/v1/attention/ops/$f"
    [ -s "$DEST/vllm_attn/vllm/v1/attention/ops/$f" ] || { echo "fetch_peers: vllm/v1/attention/ops/$f not in $wheel" >&2; exit 1; }
done

{
    echo "flashinfer-python==$FI_VERSION (PyPI, sha256 $(sha256sum "$FULL" | cut -d' ' -f1)), trimmed; Apache-2.0"
    echo "apache-tvm-ffi==$TVM_VERSION (cp312 manylinux_2_28_x86_64); Apache-2.0"
    echo "vllm==$VLLM_VERSION ($(basename "$wheel"), sha256 $(sha256sum "$wheel" | cut -d' ' -f1)): vllm/v1/attention/ops/{triton_unified_attention,triton_attention_helpers}.py; Apache-2.0"
    echo "aux wheels: $(cd "$DEST/wheels" && ls | grep -v -e flashinfer -e tvm_ffi | tr '\n' ' ')"
    echo "FlashInfer AOT modules ($BUILD_S s to build here, nvcc jobs ${PEERS_JOBS:-2}, FLASHINFER_CUDA_ARCH_LIST=9.0):"
    { unzip -l "$DEST/wheels/flashinfer_python-$FI_VERSION-py3-none-any.whl" | grep -o 'flashinfer/data/aot/[^/]*/' \
        | sed 's/^/  /' | sort -u; } || echo "  (none: FlashInfer JIT-compiles on first use)"
} > "$DEST/SOURCES"
if [ -e "$ROOT/.git" ]; then  # keep .peers/ out of git in this checkout too (a worktree's .git is a file)
    excl=$(git -C "$ROOT" rev-parse --git-path info/exclude)
    mkdir -p "$(dirname "$excl")"
    grep -qxF '/.peers/' "$excl" 2>/dev/null || echo '/.peers/' >> "$excl"
fi
cat "$DEST/SOURCES"
echo "fetch_peers: .peers is $(du -sh "$DEST" | cut -f1) ($(du -sb "$DEST" | cut -f1) bytes); carry it with the working tree (64 MiB in all)"
