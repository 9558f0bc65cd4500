#!/usr/bin/env bash
# Installs what building and testing need, idempotently: the wasm32-wasip2 and
# wasm32-unknown-unknown Rust targets, wasm-bindgen-cli at the version Cargo.toml pins (the
# browser build of the merge, scripts/build-web-merge.sh), the npm packages of frontend/ (and
# e2e/ with --e2e), and Debian's Chromium (with --e2e).
# Never downloads a browser build of its own: Playwright drives /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

want_e2e=false
[ "${1:-}" = "--e2e" ] && want_e2e=true

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  echo "==> rustup target add wasm32-wasip2"
  rustup target add wasm32-wasip2
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "==> rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen-cli must match the wasm-bindgen crate exactly; building it takes a few minutes,
# once per machine (and again only when the pin in Cargo.toml changes).
bindgen_want=$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
bindgen_have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$bindgen_have" != "$bindgen_want" ]; then
  echo "==> cargo install wasm-bindgen-cli $bindgen_want (found: ${bindgen_have:-none})"
  cargo install wasm-bindgen-cli --version "$bindgen_want" --locked
fi

npm_install() {
  # `npm ci` only when package-lock.json changed since the last successful install, which
  # leaves the lock file's hash in node_modules/ (npm's own hidden lock file has another shape).
  local dir=$1 stamp="$1/node_modules/.verstak-lock-sha256" want
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "==> npm ci in $dir"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    echo "$want" > "$stamp"
  fi
}
npm_install frontend

if $want_e2e; then
  npm_install e2e
  if [ ! -x /usr/bin/chromium ]; then
    echo "==> apt-get install chromium"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
  fi
fi
