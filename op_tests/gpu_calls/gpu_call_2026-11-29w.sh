#!/usr/bin/env bash
# 2026-11-29 (20:38 UTC session), call 4: causal_conv1d's forward with one workgroup barrier (the commit after
# 08786d1: phase 0's head counter reset ordered by wavefront 0 alone, ConvSpec::HEADS_IN_WAVE0; channel-first
# taps loaded by the last warp, none of phase 0's threads), against the kernel before it (the reverse of
# op_tests/gpu_calls/gpu_call_2026-11-29w.patch), long prefill, A-B-A-B per layout, then the 7232-token
# control and the seed batch on the new kernel, then causal_conv1d's GPU tests on the new tree.
# run: bash op_tests/gpu_calls/gpu_call_2026-11-29w.sh   carry: none.  Logs: $OUT/call_w.tgz
set -uo pipefail
O=${OUT:-gpu_logs}; mkdir -p "$O"; O=$(cd "$O" && pwd)
L=/tmp/call_w; rm -rf "$L"; mkdir -p "$L"
t0=$SECONDS
python3 -m pip install --no-deps --no-build-isolation -e . >"$L/install.log" 2>&1 || tail -5 "$L/install.log"
nvidia-smi --query-gpu=name,driver_version,clocks.sm --format=csv,noheader | tee "$L/device.txt"
export AITER_SWA_CACHE_DIR=/tmp/aiter_swa_cache PYTHONUNBUFFERED=1
K=csrc/include/aiter_swa/causal_conv1d/kernel.h
cp $K /tmp/kernel_new.h
if command -v patch >/dev/null; then patch -s -R -p1 -o /tmp/kernel_old.h $K < op_tests/gpu_calls/gpu_call_2026-11-29w.patch
else python3 - <<'PY'
import re, pathlib
# a minimal reverse apply of a unified diff of one file: '-' lines back in, '+' lines out
new = pathlib.Path("csrc/include/aiter_swa/causal_conv1d/kernel.h").read_text().split("\n")
out, i = [], 0
hunks = re.split(r"^@@ -(\d+),?\d* \+(\d+),?\d* @@.*$", pathlib.Path("op_tests/gpu_calls/gpu_call_2026-11-29w.patch").read_text(), flags=re.M)
for k in range(1, len(hunks), 3):
    start = int(hunks[k + 1]) - 1
    out += new[i:start]; i = start
    for line in hunks[k + 2].split("\n")[1:]:
        if line.startswith("+"): i += 1
        elif line.startswith("-"): out.append(line[1:])
        elif line.startswith(" "): out.append(line[1:]); i += 1
out += new[i:]
pathlib.Path("/tmp/kernel_old.h").write_text("\n".join(out))
PY
fi
grep -c HEADS_IN_WAVE0 /tmp/kernel_old.h /tmp/kernel_new.h
bench() {  # $1: new|old, $2: layout, $3: lens
    cp /tmp/kernel_$1.h $K
    echo "== $1 $2 $3 [+$((SECONDS - t0))s]"
    timeout -k 5 120 python3 op_tests/causal_conv1d/bench_causal_conv1d.py --lens $3 --layout $2 --peer-dir "" \
        --iters 200 2>&1 | tee -a "$L/bench_$1.log" | grep -E "^aiter_swa|long prefill|p50 .* seed"
}
LONG=4096,2048,1024,1,1,1
for round in 1 2; do
    for v in new old; do bench $v channel_first $LONG; bench $v channel_last $LONG; done
done
bench new channel_first 4096,2048,1024,64
bench old channel_first 4096,2048,1024,64
bench new channel_last 5,13,8,20,3
cp /tmp/kernel_new.h $K
echo "[+$((SECONDS - t0))s] GPU tests"
OUT=$L/check CHECK_TIMEOUT=200 timeout -k 10 260 bash op_tests/run_gpu_suite.sh check \
    op_tests/causal_conv1d/test_causal_conv1d_gpu.py op_tests/causal_conv1d/test_causal_conv1d.py 2>&1 | tail -4
echo "[+$((SECONDS - t0))s] done"
tar czf "$O/call_w.tgz" -C "$L" .
