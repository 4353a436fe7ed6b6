# A-B helper for the GPU call scripts (source it from the repository root): variants of the kernel sources and
# of spec.py, each built ahead and benchmarked in interleaved rounds on the same GPU, so that every "before" has
# an "after" measured next to it. A variant is a directory holding csrc/include and, when the variant changes
# the dispatch, aiter_swa/ops/pa_v1/spec.py (else the tree's own is used).
#   source op_tests/gpu_calls/ab.sh; ab_init NAME
#   ab_variant new .; ab_variant old .ab_old       # snapshots taken now (the tree may be swapped later)
#   ab_variant_spec_edit off OLD NEW [OLD NEW ...]  # the tree's sources, each OLD replaced by NEW once in spec.py
#   ab_variant_patch new . PATCH                 # a directory's csrc with PATCH applied (git apply; csrc only)
#   ab_build new|old [PREBUILD_ARGS...]          # aiter_swa.jit.prebuild into /tmp/kernels_<variant>
#                                                 # (no args: AB_MMA_KERNELS)
#   ab_bench "new old new old" BENCH_ARGS...      # bench_pa_v1_swa.py per variant, logs bench_<variant>.log
#   ab_split "new old new old" ARGS...           # split_study.py per variant, logs split_<variant>.log
#   ab_kernel_times "new old" ARGS...            # kernel_times.py per variant, logs times_<variant>.log
#   ab_tests new PYTEST_ARGS...                   # GPU tests on a variant's pre-built kernels, tests.log
#   ab_done                                       # the tree's own sources back; logs to $OUT/NAME.tgz
AB_SPEC=aiter_swa/ops/pa_v1/spec.py
ab_init() {
    AB_NAME=$1
    AB_O=${OUT:-gpu_logs}; mkdir -p "$AB_O"; AB_O=$(cd "$AB_O" && pwd)
    AB_L=/tmp/$AB_NAME; rm -rf "$AB_L" /tmp/ab_variants; mkdir -p "$AB_L" /tmp/ab_variants
    AB_T0=$SECONDS
    python3 -m pip install --no-deps --no-build-isolation -e . >"$AB_L/install.log" 2>&1 || tail -5 "$AB_L/install.log"
    export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache PYTHONUNBUFFERED=1
    AB_ARCH=$(python3 -c "from aiter_swa.jit.toolchain import device_arch; print(device_arch(0))")
    ab_variant tree .
}
ab_t() { echo "[+$((SECONDS - AB_T0))s]"; }
ab_variant() {  # NAME DIR: snapshot DIR's csrc/include and spec.py (the tree's where DIR has none)
    local v=/tmp/ab_variants/$1
    mkdir -p "$v/spec" && cp -r "$2/csrc/include" "$v/include"
    if [ -f "$2/$AB_SPEC" ]; then cp "$2/$AB_SPEC" "$v/spec/"; else cp "$AB_SPEC" "$v/spec/"; fi
}
ab_variant_spec_edit() {  # NAME OLD NEW [OLD NEW ...]: the tree's csrc/include, and its spec.py with each OLD
    # (there exactly once) as its NEW
    local d=/tmp/ab_edit_$1
    rm -rf "$d" && mkdir -p "$d/csrc" "$d/$(dirname $AB_SPEC)" && cp -r csrc/include "$d/csrc/" || return 1
    python3 - "$AB_SPEC" "$d/$AB_SPEC" "${@:2}" <<'PY' || return 1
import sys
src, dst, edits = sys.argv[1], sys.argv[2], sys.argv[3:]
assert edits and len(edits) % 2 == 0, "ab_variant_spec_edit: OLD NEW pairs"
s = open(src).read()
for old, new in zip(edits[::2], edits[1::2]):
    assert s.count(old) == 1, f"{src}: {old!r} is not there exactly once"
    s = s.replace(old, new)
open(dst, "w").write(s)
PY
    ab_variant "$1" "$d"
}
ab_variant_patch() {  # NAME BASE PATCH: BASE's csrc (BASE: . or an earlier variant's /tmp/ab_patch_<name>) with PATCH
    local d=/tmp/ab_patch_$1 patch
    patch=$(realpath "$3") || return 1
    rm -rf "$d" && mkdir -p "$d" && cp -r "$2/csrc" "$d/" || return 1
    (cd "$d" && git apply "$patch") || { echo "ab_variant_patch $1: $3 does not apply to $2"; return 1; }
    ab_variant "$1" "$d"
}
ab_use() {
    rm -rf csrc/include && cp -r "/tmp/ab_variants/$1/include" csrc/include && cp "/tmp/ab_variants/$1/spec/spec.py" "$AB_SPEC"
}
# ab_build's default: issue 8's matrix-core kernels (bf16, heads 64 and 128, 16 and 32 rows, every window flag)
AB_MMA_KERNELS=(--q-dtype bf16 --kv-dtype bf16 --out-dtype bf16 --soft-cap off --alibi off --head-size 64,128 --gqa 1
                --mma-rows 16,32)
ab_build() {
    local v=$1; shift
    [ $# -gt 0 ] || set -- "${AB_MMA_KERNELS[@]}"
    ab_use "$v"
    python3 -m aiter_swa.jit.prebuild --arch "$AB_ARCH" --op pa_v1 --jobs 16 --out "/tmp/kernels_$v" "$@" \
        >"$AB_L/prebuild_$v.log" 2>&1
    echo "$(ab_t) $v: $(grep -E "kernels ready|rror" "$AB_L/prebuild_$v.log" | head -3)"
}
ab_each() {  # "V1 V2 ..." TAG LOG TIMEOUT SCRIPT FILTER ARGS...: SCRIPT ARGS on each variant's sources and pre-built
    # kernels, in ORDER (repeat a name for rounds), output to LOG_<variant>.log, the lines matching FILTER shown
    local order=$1 tag=$2 log=$3 limit=$4 script=$5 filter=$6 v; shift 6
    for v in $order; do
        ab_use "$v"
        echo "== $tag$v $(ab_t)"
        AITER_SWA_PREBUILT_DIR=/tmp/kernels_$v timeout -k 5 "$limit" python3 "$script" "$@" 2>&1 \
            | tee -a "$AB_L/${log}_$v.log" | grep -E "$filter"
    done
}
ab_bench() {  # "V1 V2 ..." BENCH_ARGS...: bench_pa_v1_swa.py per variant, logs bench_<variant>.log
    ab_each "$1" "" bench 150 op_tests/pa_v1/bench_pa_v1_swa.py "^(mistral|gpt-oss|seed|gemma)|MISMATCH|!|rror" "${@:2}"
}
ab_split() {  # "V1 V2 ..." SPLIT_STUDY_ARGS...: split_study.py per variant, logs split_<variant>.log
    ab_each "$1" "split " split 60 op_tests/pa_v1/split_study.py "^mma|MISMATCH|rror" "${@:2}"
}
ab_kernel_times() {  # "V1 V2 ..." KERNEL_TIMES_ARGS...: per-kernel times of each variant (kernel_times.py)
    ab_each "$1" "kernel times " times 60 op_tests/pa_v1/kernel_times.py "partition|reduce|memset|Memset|rror" \
        "${@:2}" | cut -c1-60
}
ab_tests() {  # VARIANT PYTEST_ARGS...: pytest on the variant's sources and pre-built kernels (150 s)
    ab_use "$1"
    echo "== tests $(ab_t)"
    AITER_SWA_PREBUILT_DIR=/tmp/kernels_$1 timeout -k 5 150 python3 -m pytest -q -p no:cacheprovider "${@:2}" 2>&1 \
        | tee "$AB_L/tests.log" | tail -4
}
ab_done() {
    ab_use tree
    echo "$(ab_t) done"
    tar czf "$AB_O/$AB_NAME.tgz" -C "$AB_L" .
}
