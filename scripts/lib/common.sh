# Shared by scripts/test and scripts/demo: package list, installation, build.
# shellcheck shell=bash

HPAN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Every Debian 12 package the build, the tests and the demo need.
HPAN_PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git
  libsodium-dev libyaml-cpp-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev
  libsqlite3-dev sqlite3 libsystemd-dev libboost-dev libboost-system-dev libcurl4-openssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-nacl python3-aiosmtpd openssl curl procps
  systemd util-linux groff-base clang libclang-rt-14-dev
)

hpan_log() { printf '==> %s\n' "$*" >&2; }

# Installs whatever is missing, quietly; does nothing (and says nothing) when all is there.
hpan_install_packages() {
  local missing=() p
  for p in "${HPAN_PACKAGES[@]}" "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run as root, or install them with apt-get)" >&2
    return 1
  fi
  hpan_log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The delivery tests verify webhook signatures with the npm package standardwebhooks
# (an independent implementation), installed into DIR/node without touching the tree.
HPAN_STANDARDWEBHOOKS_VERSION=1.1.1
hpan_install_node_tools() {
  local dir="$1"
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    hpan_install_packages nodejs npm
  fi
  if [ ! -f "$dir/node/node_modules/standardwebhooks/package.json" ]; then
    hpan_log "installing standardwebhooks@$HPAN_STANDARDWEBHOOKS_VERSION (npm) into $dir/node"
    mkdir -p "$dir/node"
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$dir/node" \
      "standardwebhooks@$HPAN_STANDARDWEBHOOKS_VERSION" >/dev/null
  fi
}

# ccache: paths relative to the checkout, so every clone (CI makes a fresh one) shares hits.
export CCACHE_BASEDIR="$HPAN_ROOT" CCACHE_NOHASHDIR=true

# hpan_build DIR [--target T] [cmake args...]: configure (once) and build DIR (all, or T).
hpan_build() {
  local dir="$1"; shift
  local target=()
  if [ "${1:-}" = "--target" ]; then target=(--target "$2"); shift 2; fi
  local jobs; jobs="$(nproc 2>/dev/null || echo 2)"
  cmake -S "$HPAN_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$jobs" "${target[@]}"
}
