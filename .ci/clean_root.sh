#!/usr/bin/env bash
# Run .ci/run "from nothing": in a clean Debian bookworm chroot that has only what a CI machine of
# this kind has from its image, never anything the project (or a person) installed on this host.
#
# Usage (as root, on a Debian/Ubuntu host like the CI machines; debootstrap is apt-installed if absent):
#   nice -n 10 .ci/clean_root.sh [--commit REV] [--worktree | --worktree-path PATH...] [--repo DIR]
#                                [--dir DIR] [--rebuild] [--reuse] [--no-cuda] [--cmd 'COMMAND']
#     --commit REV  test commit REV of the repo (default: HEAD)
#     --worktree    test the working tree as it is now: tracked changes, deletions and untracked,
#                   non-ignored files, snapshotted as one commit on top of REV *in the clone*
#                   (nothing is written to the source repo: not its index, refs or objects)
#     --worktree-path PATH  the same for PATH only (repeatable), e.g. `--worktree-path .ci` tests
#                   the committed code with the uncommitted CI scripts
#     --repo DIR    the repo to test (default: the one holding this script)
#     --dir DIR     cache/work dir, outside the repo (default: $AITER_SWA_CLEAN_ROOT or
#                   /var/tmp/aiter_swa_clean_root)
#     --rebuild     rebuild the cached pristine root tarball (DIR/pristine.tar.zst)
#     --reuse       keep the root of the previous run as it is (toolchain, pip installs and clone
#                   included) and only run the command in it; for follow-up checks
#     --no-cuda     leave the image's CUDA toolkit out (the sm_90 compile tests then skip)
#     --cmd CMD     run CMD (bash -c, in the clone) instead of `bash .ci/run`
#   Prints the output, then "clean_root: rc=N ... in Ns" and the pytest summary; exits with rc.
#   Output also goes to DIR/last_run.log; the root of the last run stays in DIR/root (unmounted).
#
# Policy: the root gets from the machine image only what CI relies on and apt cannot provide (the
# pyenv Python, the pip configuration and its local wheels, the CUDA toolkit); every Debian package
# the run needs beyond debootstrap's minbase must be installed by .ci/ itself (the image's g++, git,
# ... are deliberately absent), so .ci/run is proven to work on a bare Debian of this kind.
#
# The pristine root (built once with debootstrap, cached as DIR/pristine.tar.zst; delete it or pass
# --rebuild after the image changes) holds exactly this, all of it from the machine image:
#   - Debian bookworm `debootstrap --variant=minbase` from deb.debian.org (Debian packages only),
#     apt sources bookworm + bookworm-updates + bookworm-security, as the image has them;
#   - ca-certificates, plus the host's locally added CA files (the regular *.pem files in
#     /etc/ssl/certs: this machine reaches PyPI through a TLS-inspecting egress proxy) installed
#     via /usr/local/share/ca-certificates so they survive any update-ca-certificates;
#   - the image's Python: the pyenv tree (/root/.pyenv: pyenv itself, the global `version` file,
#     and the interpreter `python3` resolves to, CPython 3.11.7) *copied*, not bind-mounted, since
#     pip installs into it. Its site-packages is NOT copied: on a used host it is mixed with what
#     the project installed (torch, aiter_swa, ninja, pybind11, ...), and .ci/run must not depend
#     on the image's extra pip packages anyway. It is reset to what `pyenv install` leaves
#     (`python -m ensurepip`: the bundled pip + setuptools), and non-CPython bin/ scripts are dropped;
#   - the Debian shared libraries that interpreter links against (found with ldd + dpkg -S on the
#     host: libssl3, libffi8, libsqlite3-0, ...), since on the image they come with it;
#   - the pip configuration: /etc/pip.conf, /etc/xdg/pip/ (constraints), /root/.config/pip/pip.conf.
# Per run, the script adds: /etc/resolv.conf and /etc/hosts (copies), /proc, /sys (ro), /dev (rbind),
# the local wheel/index dirs named by the pip configuration (find-links and file:// index URLs, e.g.
# /opt/wheels with the torch CPU wheel, /opt/pypi*) bind-mounted read-only, the image's CUDA toolkit
# (the dir /usr/local/cuda points to, bind-mounted read-only, plus that symlink and the image's
# /usr/local/bin/nvcc wrapper; not a Debian package, and it gives the sm_90 compile tests their nvcc),
# and the host's PIP_* and CA-bundle environment variables; all mounts are undone on exit (trap).
# Not there, and checked before .ci/run starts: clang-19, clang-tools-19, lld, llvm, HIP headers,
# rocm-device-libs, /opt/aiter_swa_devlibs, git, a C/C++ compiler, torch -- .ci/run installs them.
set -euo pipefail
{  # parsed whole before it runs: editing or checking out this file during a run is safe

SCRIPT_REPO=$(cd "$(dirname "$0")/.." && pwd)
REPO=$SCRIPT_REPO
DIR=${AITER_SWA_CLEAN_ROOT:-/var/tmp/aiter_swa_clean_root}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
REV=HEAD; WT_PATHS=(); REBUILD=0; REUSE=0; CUDA=1; CMD="bash .ci/run"
while [ $# -gt 0 ]; do
    case $1 in
        --commit) REV=$2; shift 2 ;;
        --worktree) WT_PATHS+=(.); shift ;;
        --worktree-path) WT_PATHS+=("$2"); shift 2 ;;
        --repo) REPO=$(cd "$2" && pwd); shift 2 ;;
        --dir) DIR=$2; shift 2 ;;
        --rebuild) REBUILD=1; shift ;;
        --reuse) REUSE=1; shift ;;
        --no-cuda) CUDA=0; shift ;;
        --cmd) CMD=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
        *) echo "clean_root: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" -eq 0 ] || { echo "clean_root: needs root (debootstrap, chroot, mounts)" >&2; exit 2; }
mkdir -p "$DIR"; DIR=$(cd "$DIR" && pwd)
case "$DIR/" in "$REPO"/*) echo "clean_root: --dir must be outside the repo" >&2; exit 2 ;; esac
ROOT=$DIR/root
TARBALL=$DIR/pristine.tar.zst
CLONE=/ci/aiter_swa  # where the repo is cloned, inside the root
log() { echo "clean_root: $*" >&2; }

# The image's Python: the interpreter `python3` resolves to on this host, under pyenv.
PYENV_ROOT=${PYENV_ROOT:-/root/.pyenv}
PYPREFIX=$(python3 -c 'import sys; print(sys.base_prefix)')
PYMM=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
case $PYPREFIX in "$PYENV_ROOT"/versions/*) ;; *) log "python3 ($PYPREFIX) is not a pyenv one"; exit 2 ;; esac
CHROOT_PATH=$PYENV_ROOT/plugins/pyenv-virtualenv/shims:$PYENV_ROOT/shims:$PYENV_ROOT/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Local dirs the pip configuration points at (find-links dirs; file:// index URLs -> the dir above
# "simple/", where their relative file links point): bind-mounted read-only into the root.
pip_local_dirs() {
    { python3 -m pip config list 2>/dev/null | sed -n "s/^[a-z]*\.\(find-links\|extra-index-url\|index-url\)='\(.*\)'$/\2/p"
      echo "${PIP_FIND_LINKS:-} ${PIP_EXTRA_INDEX_URL:-} ${PIP_INDEX_URL:-}"; } |
        tr ' ' '\n' | sed -n 's#^\(file://\)\?\(/[^ ]*\)$#\2#p' | sed 's#/simple/\?$##' | sort -u
}

# Debian packages that ship the shared libraries the image's interpreter and its extension modules use.
python_runtime_pkgs() {
    { ldd "$PYPREFIX/bin/python$PYMM"; ldd "$PYPREFIX"/lib/python"$PYMM"/lib-dynload/*.so; } 2>/dev/null |
        awk '/=> \//{print $3}' | sort -u | while read -r lib; do
            case $lib in "$PYPREFIX"/*) continue ;; esac
            dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib"
        done | cut -d: -f1 | sort -u | grep -vx libc6 | paste -sd, -
}

in_root() {  # run a command in the root with the CI machine's environment
    local envs=() v
    for v in $(compgen -e); do
        case $v in PIP_*|SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|GIT_SSL_CAINFO) envs+=("$v=${!v}") ;; esac
    done
    chroot "$ROOT" /usr/bin/env -i HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
        PATH="$CHROOT_PATH" PYENV_ROOT="$PYENV_ROOT" "${envs[@]}" CI=true "$@"
}

build_pristine() {
    command -v debootstrap >/dev/null || { apt-get update -q >&2; apt-get install -y --no-install-recommends debootstrap >&2; }
    local b=$DIR/pristine.build pkgs f v
    rm -rf "$b"
    pkgs=$(python_runtime_pkgs)
    log "debootstrap bookworm (minbase + ca-certificates + the Python runtime libs: $pkgs)"
    debootstrap --variant=minbase --include="ca-certificates,$pkgs" bookworm "$b" "$MIRROR" >&2
    rm -f "$b/etc/apt/sources.list"
    cat >"$b/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    # Locally added CAs of the image (regular files; Debian's are symlinks), kept across CA updates.
    for f in /etc/ssl/certs/*.pem; do
        [ -f "$f" ] && [ ! -L "$f" ] && cp "$f" "$b/usr/local/share/ca-certificates/$(basename "$f" .pem).crt"
    done
    chroot "$b" update-ca-certificates >&2
    # The pyenv tree with the one interpreter, minus its site-packages and non-CPython scripts.
    v=${PYPREFIX#"$PYENV_ROOT"/versions/}
    mkdir -p "$b$PYENV_ROOT"
    tar -C "$PYENV_ROOT" --exclude=./versions --exclude='./shims/*' --exclude=./cache -cf - . | tar -C "$b$PYENV_ROOT" -xf -
    mkdir -p "$b$PYENV_ROOT/versions"
    tar -C "$PYENV_ROOT/versions" --exclude="./$v/lib/python$PYMM/site-packages/*" -cf - "./$v" | tar -C "$b$PYENV_ROOT/versions" -xf -
    cp "$PYPREFIX/lib/python$PYMM/site-packages/README.txt" "$b$PYPREFIX/lib/python$PYMM/site-packages/" 2>/dev/null || true
    find "$b$PYPREFIX/bin" -mindepth 1 -maxdepth 1 ! -name 'python*' ! -name 'pydoc*' ! -name 'idle*' ! -name '2to3*' -exec rm -rf {} +
    chroot "$b" "$PYPREFIX/bin/python$PYMM" -m ensurepip >&2
    chroot "$b" /usr/bin/env -i HOME=/root PATH="$CHROOT_PATH" PYENV_ROOT="$PYENV_ROOT" pyenv rehash
    # pip configuration of the image.
    [ -f /etc/pip.conf ] && cp /etc/pip.conf "$b/etc/"
    [ -d /etc/xdg/pip ] && mkdir -p "$b/etc/xdg" && cp -r /etc/xdg/pip "$b/etc/xdg/"
    [ -f /root/.config/pip/pip.conf ] && mkdir -p "$b/root/.config/pip" && cp /root/.config/pip/pip.conf "$b/root/.config/pip/"
    chroot "$b" apt-get clean
    log "packing $TARBALL"
    tar -C "$b" --numeric-owner -I 'zstd -T0 -3' -cpf "$TARBALL.tmp" .
    mv "$TARBALL.tmp" "$TARBALL"
    rm -rf "$b"
}

unmount_root() {
    local m
    findmnt -rn -o TARGET | awk -v r="$ROOT" 'index($0, r "/") == 1' | sort -r | while read -r m; do
        umount -R "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
}

cleanup() {
    local p
    for p in /proc/[0-9]*; do  # processes still running in the root (started by this script)
        [ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ] && kill -9 "${p#/proc/}" 2>/dev/null || true
    done
    unmount_root
}

start=$(date +%s)
if [ "$REUSE" -eq 0 ]; then
    if [ "$REBUILD" -eq 1 ] || [ ! -f "$TARBALL" ]; then build_pristine; fi
    unmount_root
    if findmnt -rn -o TARGET | grep -q "^$ROOT/"; then log "mounts left under $ROOT; not deleting it"; exit 1; fi
    rm -rf "$ROOT"; mkdir -p "$ROOT"
    tar -C "$ROOT" -I zstd -xpf "$TARBALL"
    rm -f "$ROOT/etc/resolv.conf"; cp /etc/resolv.conf "$ROOT/etc/resolv.conf"; cp /etc/hosts "$ROOT/etc/hosts"

    # The fresh clone, as CI makes it.
    git clone -q --no-hardlinks "$REPO" "$ROOT$CLONE"
    base=$(git -C "$REPO" rev-parse --verify "$REV^{commit}")
    git -C "$ROOT$CLONE" cat-file -e "$base^{commit}" 2>/dev/null || git -C "$REPO" push -q "$ROOT$CLONE" "$base:refs/heads/clean-root-target"
    target=$base
    if [ ${#WT_PATHS[@]} -gt 0 ]; then
        idx=$(mktemp); rm -f "$idx"
        tree=$(export GIT_INDEX_FILE=$idx GIT_DIR=$ROOT$CLONE/.git GIT_WORK_TREE=$REPO
               cd "$REPO" && git read-tree "$base" && git add -A -- "${WT_PATHS[@]}" && git write-tree)
        rm -f "$idx"
        target=$(GIT_AUTHOR_NAME=clean_root GIT_AUTHOR_EMAIL=ci@localhost GIT_COMMITTER_NAME=clean_root \
                 GIT_COMMITTER_EMAIL=ci@localhost git -C "$ROOT$CLONE" commit-tree "$tree" -p "$base" -m "working tree of $REPO: ${WT_PATHS[*]}")
        log "working tree snapshot (${WT_PATHS[*]}): $(git -C "$ROOT$CLONE" diff --stat "$base" "$target" | tail -1 || true)"
    fi
    git -C "$ROOT$CLONE" checkout -q --detach "$target"
    log "testing $(git -C "$REPO" rev-parse --short "$base")$([ ${#WT_PATHS[@]} -gt 0 ] && echo " + working tree (${WT_PATHS[*]})") in $ROOT$CLONE"
fi
[ -d "$ROOT$CLONE" ] || { log "no root at $ROOT (run once without --reuse)"; exit 2; }

trap cleanup EXIT INT TERM
mount -t proc proc "$ROOT/proc"
mount -t sysfs -o ro sysfs "$ROOT/sys" 2>/dev/null || { mount --rbind /sys "$ROOT/sys"; mount --make-rslave "$ROOT/sys"; }
mount --rbind /dev "$ROOT/dev"; mount --make-rslave "$ROOT/dev"
for d in $(pip_local_dirs); do
    [ -d "$d" ] || continue
    mkdir -p "$ROOT$d"; mount --bind "$d" "$ROOT$d"; mount -o remount,bind,ro "$ROOT$d"
done
if [ "$CUDA" -eq 1 ] && [ -L /usr/local/cuda ] && [ -d /usr/local/cuda/bin ]; then  # the image's CUDA toolkit
    cuda=$(readlink -f /usr/local/cuda)
    mkdir -p "$ROOT$cuda"; mount --bind "$cuda" "$ROOT$cuda"; mount -o remount,bind,ro "$ROOT$cuda"
    ln -sfn "$(readlink /usr/local/cuda)" "$ROOT/usr/local/cuda"
    [ -f /usr/local/bin/nvcc ] && cp -P /usr/local/bin/nvcc "$ROOT/usr/local/bin/nvcc"
fi

if [ "$REUSE" -eq 0 ]; then  # nothing of the toolchain may come from the host
    in_root bash -c 'for c in clang-19 clang++-19 clang-offload-bundler ld.lld-19 llvm-dis-19 git gcc cc c++; do
                         ! command -v $c >/dev/null || { echo "leaked: $c"; exit 1; }; done
                     for p in clang-19 clang-tools-19 lld-19 llvm-19 libamdhip64-dev rocm-device-libs git; do
                         ! dpkg -s $p >/dev/null 2>&1 || { echo "leaked: package $p"; exit 1; }; done
                     for f in /usr/lib/llvm-19 /usr/include/hip /usr/lib/x86_64-linux-gnu/amdgcn /opt/aiter_swa_devlibs; do
                         [ ! -e $f ] || { echo "leaked: $f"; exit 1; }; done
                     python3 -c "import torch" 2>/dev/null && { echo "leaked: torch"; exit 1; }
                     echo "clean_root: no toolchain, git, compiler or torch in the root: ok ($(python3 -V), pip $(python3 -m pip -V | cut -d" " -f2))"' >&2
fi

log "running in the root: $CMD"
set +e
in_root bash -c "cd $CLONE && $CMD" 2>&1 | tee "$DIR/last_run.log"
rc=${PIPESTATUS[0]}
set -e
secs=$(($(date +%s) - start))
echo "clean_root: rc=$rc ($([ "$rc" -eq 0 ] && echo PASS || echo FAIL)) in ${secs}s; log: $DIR/last_run.log"
grep -E '^=*.* (passed|failed|error|errors|skipped)\b.* in [0-9.]+s' "$DIR/last_run.log" | tail -1 | sed 's/^/clean_root: pytest: /' || true
exit "$rc"
}
