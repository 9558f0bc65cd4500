#!/usr/bin/env bash
# Builds the browser build of the text merge (merge-web/, wasm-bindgen) into merge-web/pkg/:
# merge_web.js (an ES module) and merge_web_bg.wasm. The server embeds these when it is built
# after this step and serves them under /static/merge/ (server/build.rs); the frontend's Vitest
# loads them. Needs the wasm32-unknown-unknown target and wasm-bindgen-cli at the version pinned
# in Cargo.toml (scripts/setup.sh installs both).
set -euo pipefail
cd "$(dirname "$0")/.."

want=$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  echo "wasm-bindgen-cli $want is needed (found: ${have:-none}); run scripts/setup.sh" >&2
  exit 1
fi

target=${CARGO_TARGET_DIR:-target}
cargo build --release -p verstak-sync-merge-web --target wasm32-unknown-unknown
out=merge-web/pkg
mkdir -p "$out.tmp"
wasm-bindgen --target web --no-typescript --out-name merge_web --out-dir "$out.tmp" \
  "$target/wasm32-unknown-unknown/release/verstak_sync_merge_web.wasm"
# Replace the whole directory at once, so a server build never embeds half an output.
rm -rf "$out.old"
[ -d "$out" ] && mv "$out" "$out.old"
mv "$out.tmp" "$out"
rm -rf "$out.old"
echo "built $out/merge_web.js and $out/merge_web_bg.wasm ($(stat -c %s "$out/merge_web_bg.wasm") bytes)"
