# Shared by scripts/run and scripts/test: install what is missing, quickly when nothing is.
# Everything comes from Debian's packages, crates.io or the npm registry; nothing is downloaded
# from anywhere else (see ../shared/docs/toolchain.md).

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Compiled code lives outside the clone so that a fresh clone reuses it.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/moth/target}"
export PATH="$HOME/.cargo/bin:$PATH"

TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_packages PKG...: installs the Debian packages that are not installed yet.
ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "Installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

ensure_rust() {
  if ! command -v cargo >/dev/null; then
    echo "Moth needs Rust 1.88 or newer with cargo (https://rustup.rs); cargo was not found." >&2
    exit 1
  fi
}

# The browser build: the wasm target, Trunk, the wasm-bindgen CLI that matches Cargo.lock, wasm-opt from
# the npm package `binaryen` (Debian's is too old), and brotli for the precompressed assets.
ensure_frontend_tools() {
  ensure_rust
  ensure_packages pkg-config brotli
  command -v node >/dev/null && command -v npm >/dev/null || ensure_packages nodejs npm
  local binaryen="$HOME/.cache/moth/binaryen"
  if [ "$("$binaryen/node_modules/.bin/wasm-opt" --version 2>/dev/null | awk '{print $3}')" != "$BINARYEN_VERSION" ]; then
    log "Installing wasm-opt $BINARYEN_VERSION (npm package binaryen)"
    mkdir -p "$binaryen"
    npm install --prefix "$binaryen" --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION"
  fi
  export PATH="$binaryen/node_modules/.bin:$PATH"
  rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$' \
    || rustup target add wasm32-unknown-unknown
  if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
    log "Installing Trunk $TRUNK_VERSION (takes several minutes once)"
    cargo install trunk --version "$TRUNK_VERSION" --locked
  fi
  local bindgen
  bindgen="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen" ]; then
    log "Installing wasm-bindgen-cli $bindgen"
    # Not --locked: its lock file pins a crate version the registry no longer has.
    cargo install wasm-bindgen-cli --version "$bindgen"
  fi
}

build_frontend() {
  log "Building the front end (Trunk, wasm-opt -Oz)"
  trunk build --release
  # Precompressed once here, so the server never compresses the bundle per request.
  local asset
  for asset in dist/*.wasm dist/*.js dist/*.css; do
    brotli --force --quality=11 --keep "$asset"
    gzip --force --best --keep "$asset"
  done
}
