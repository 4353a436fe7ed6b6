#!/usr/bin/env bash
# Install the Debian compilers the tests need (the AMD GPU toolchain, g++) and prepare a
# gfx942-capable device-library dir (docs/design.md §6).
#
# Debian's rocm-device-libs lack oclc_isa_version_942.bc; it is the gfx940 file with the ISA
# version constant 9400 changed to 9402. Idempotent. Writes $DEVLIB_DIR/env.sh, which exports
# AITER_SWA_ROCM_DEVICE_LIB_PATH (source it), and prints the same export line on stdout.
set -euo pipefail

# clang-tools-19 carries clang-offload-bundler, which clang-19 runs to link HIP code.
# g++: the tests' other C++ compiler (torch.compile's CPU backend; nvcc's host compiler for sm_90).
PKGS="clang-19 clang-tools-19 lld-19 llvm-19 libamdhip64-dev rocm-device-libs g++"
SRC=/usr/lib/x86_64-linux-gnu/amdgcn/bitcode
DEVLIB_DIR=${AITER_SWA_DEVLIB_DIR:-/opt/aiter_swa_devlibs}
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo

if ! dpkg -s $PKGS >/dev/null 2>&1; then
    $SUDO apt-get update >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $PKGS >&2
fi

if [ ! -f "$DEVLIB_DIR/oclc_isa_version_942.bc" ]; then
    $SUDO mkdir -p "$DEVLIB_DIR"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    cp "$SRC"/*.bc "$tmp"/
    llvm-dis-19 "$tmp/oclc_isa_version_940.bc" -o "$tmp/isa942.ll"
    grep -q 'i32 9400' "$tmp/isa942.ll"
    sed -i 's/i32 9400/i32 9402/' "$tmp/isa942.ll"
    llvm-as-19 "$tmp/isa942.ll" -o "$tmp/oclc_isa_version_942.bc"
    rm "$tmp/isa942.ll"
    $SUDO cp "$tmp"/*.bc "$DEVLIB_DIR"/
fi

echo "export AITER_SWA_ROCM_DEVICE_LIB_PATH=$DEVLIB_DIR" | $SUDO tee "$DEVLIB_DIR/env.sh" >/dev/null
echo "export AITER_SWA_ROCM_DEVICE_LIB_PATH=$DEVLIB_DIR"
