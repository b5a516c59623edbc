#!/usr/bin/env bash
# Installs the Debian packages LLAMA for LLVM needs, and only those missing.
# Called by `make demo` and `make check`; safe to run again (does nothing when
# everything is present). Runs apt-get as root, or through sudo when available.
set -euo pipefail

PACKAGES=(
  cmake make python3 pkg-config
  llvm-19-dev clang-19 llvm-19-tools lld-19 libclang-rt-19-dev
  libunwind-dev
  libjemalloc-dev libgoogle-perftools-dev libmimalloc-dev
  gnuplot-nox
  # test/build-systems: the compiler wrappers under each build system
  autoconf automake libtool meson ninja-build
  # test/tools: renders `llama-profdata show --html` headless (the one heavy
  # package, for tests only; the test is UNSUPPORTED without it)
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "llama: installing missing Debian packages: ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "llama: error: not root and no sudo; install these packages: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
