#!/usr/bin/env bash
# Installs what building and testing need, idempotently: the wasm32-wasip2 Rust target, the npm
# packages of frontend/ (and e2e/ with --e2e), and Debian's Chromium (with --e2e).
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

npm_install() {
  # `npm ci` only when package-lock.json changed since the last install.
  local dir=$1
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || ! cmp -s <(sed -n '/"packages"/,$p' "$dir/package-lock.json") <(sed -n '/"packages"/,$p' "$dir/node_modules/.package-lock.json" 2>/dev/null) >/dev/null 2>&1; then
    echo "==> npm ci in $dir"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
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
