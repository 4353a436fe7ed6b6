#!/usr/bin/env bash
# Places vLLM's unchanged Triton causal_conv1d (vllm/model_executor/layers/mamba/ops/causal_conv1d.py,
# Apache-2.0, from the vllm wheel on PyPI) at .peers/vllm_conv1d/causal_conv1d.py, with stand-in
# modules of our own for its four vllm.* imports, for the benchmark's Triton column
# (op_tests/causal_conv1d/bench_causal_conv1d.py --peer-dir .peers/vllm_conv1d). vLLM's file is not
# ours: it stays in the git-ignored .peers/ folder and is never committed here.
#
# Usage (on a machine with a package index; the GPU machine has none, so carry the folder there):
#   op_tests/causal_conv1d/fetch_vllm_peer.sh [VLLM_WHEEL]
# Without VLLM_WHEEL it runs `pip download --no-deps vllm==$VLLM_VERSION` (default 0.33.0, ~340 MB)
# into a temporary folder. Only the one file is unzipped. The stand-ins (what the file imports):
#   vllm.platforms.current_platform  is_cpu() -> False; is_arch_support_pdl() -> compute capability
#                                    >= 9 (what vLLM's CUDA platform answers)
#   vllm.triton_utils                triton, tl (the installed Triton)
#   vllm.v1.attention.backends.utils PAD_SLOT_ID = -1, NULL_BLOCK_ID = 0 (vLLM's values)
set -euo pipefail

VERSION=${VLLM_VERSION:-0.33.0}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEST="$ROOT/.peers/vllm_conv1d"
SRC=vllm/model_executor/layers/mamba/ops/causal_conv1d.py
PY=${PYTHON:-python3}

wheel=${1:-}
if [ -z "$wheel" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    "$PY" -m pip download -q --no-deps "vllm==$VERSION" -d "$tmp"
    wheel=$(ls "$tmp"/vllm-*.whl)
fi
mkdir -p "$DEST"
unzip -p "$wheel" "$SRC" > "$DEST/causal_conv1d.py"
[ -s "$DEST/causal_conv1d.py" ] || { echo "fetch_vllm_peer: $SRC not in $wheel" >&2; exit 1; }

mkdir -p "$DEST/vllm/platforms" "$DEST/vllm/triton_utils" "$DEST/vllm/v1/attention/backends"
printf '"""Stand-in package (aiter_swa benchmark): only what causal_conv1d.py imports."""\n' > "$DEST/vllm/__init__.py"
for d in v1 v1/attention v1/attention/backends; do : > "$DEST/vllm/$d/__init__.py"; done
cat > "$DEST/vllm/platforms/__init__.py" <<'EOF'
"""Stand-in for vllm.platforms (aiter_swa benchmark): the two questions causal_conv1d.py asks."""
import torch


class _Platform:
    @staticmethod
    def is_cpu() -> bool:
        return False

    @staticmethod
    def is_arch_support_pdl() -> bool:
        # vLLM's CUDA platform: programmatic dependent launch from compute capability 9.0 on
        if not torch.cuda.is_available() or torch.version.hip:
            return False
        return torch.cuda.get_device_capability()[0] >= 9


current_platform = _Platform()
EOF
cat > "$DEST/vllm/triton_utils/__init__.py" <<'EOF'
"""Stand-in for vllm.triton_utils (aiter_swa benchmark): the installed Triton."""
import triton
import triton.language as tl

__all__ = ["tl", "triton"]
EOF
cat > "$DEST/vllm/v1/attention/backends/utils.py" <<'EOF'
"""Stand-in for vllm.v1.attention.backends.utils (aiter_swa benchmark): vLLM's two constants."""
PAD_SLOT_ID = -1
NULL_BLOCK_ID = 0
EOF

sha=$(sha256sum "$wheel" | cut -d' ' -f1)
printf 'package: vllm==%s (PyPI wheel %s, sha256 %s)\npath: %s\nlicense: Apache-2.0\n' \
    "$VERSION" "$(basename "$wheel")" "$sha" "$SRC" > "$DEST/SOURCE"
if [ -d "$ROOT/.git" ]; then  # keep .peers/ out of git in this checkout too (a worktree's .git is a file)
    mkdir -p "$ROOT/.git/info"
    grep -qxF '/.peers/' "$ROOT/.git/info/exclude" 2>/dev/null || echo '/.peers/' >> "$ROOT/.git/info/exclude"
fi
echo "wrote $DEST (vllm $VERSION, $SRC)"
