#!/usr/bin/env bash
# Places AMD aiter's unchanged op_tests/test_pa_v1.py at .peers/aiter/test_pa_v1.py, where
# op_tests/aiter_suite/run_aiter_pa_v1.py expects it. The file is aiter's (MIT), not ours: it stays in
# the git-ignored .peers/ folder and is never committed here.
#
# Usage:
#   op_tests/aiter_suite/fetch_aiter_test.sh AITER_GIT_DIR [COMMIT]
#
# AITER_GIT_DIR is a git directory of github.com/ROCm/aiter (a bare mirror or a clone's .git) that
# holds COMMIT (default: the commit the runner was written against). For example:
#   git clone --bare https://github.com/ROCm/aiter /tmp/aiter.git
#   op_tests/aiter_suite/fetch_aiter_test.sh /tmp/aiter.git
# which runs, in effect:
#   git --git-dir=/tmp/aiter.git show e4048607a535ace3a2b51ded31b1c8c2d45c0879:op_tests/test_pa_v1.py \
#       > .peers/aiter/test_pa_v1.py
set -euo pipefail

GIT_DIR_ARG=${1:?usage: $0 AITER_GIT_DIR [COMMIT]}
COMMIT=${2:-e4048607a535ace3a2b51ded31b1c8c2d45c0879}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEST="$ROOT/.peers/aiter"

full=$(git --git-dir="$GIT_DIR_ARG" rev-parse --verify "$COMMIT^{commit}")
mkdir -p "$DEST"
git --git-dir="$GIT_DIR_ARG" show "$full:op_tests/test_pa_v1.py" > "$DEST/test_pa_v1.py"
blob=$(git --git-dir="$GIT_DIR_ARG" rev-parse "$full:op_tests/test_pa_v1.py")
printf 'repo: ROCm/aiter\ncommit: %s\npath: op_tests/test_pa_v1.py\nblob: %s\n' "$full" "$blob" > "$DEST/SOURCE"

# Keep .peers/ out of git in this checkout (local, untracked setting).
if [ -d "$ROOT/.git" ]; then
    mkdir -p "$ROOT/.git/info"
    grep -qxF '/.peers/' "$ROOT/.git/info/exclude" 2>/dev/null || echo '/.peers/' >> "$ROOT/.git/info/exclude"
fi
echo "wrote $DEST/test_pa_v1.py (aiter $full, blob $blob)"
