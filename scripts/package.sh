#!/usr/bin/env bash
# Assembles the installable plugin package dist/verstak.sync/ (plugin.json, the frontend bundle
# and style, the catalogs, backend/verstak_sync_plugin.wasm, checksums.txt) and checks it:
# manifest and catalog rules, checksums, and the bundle executed with a stub registry.
# Install it by copying dist/verstak.sync/ into ~/.config/verstak/plugins/ after removing or
# disabling the desktop's official sync plugin (same id and capabilities).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release -p verstak-sync-plugin --target wasm32-wasip2
(cd frontend && npm run build)
cargo run --quiet --release -p verstak-sync-host --bin verstak-sync-package -- \
  --root . --component "${CARGO_TARGET_DIR:-target}/wasm32-wasip2/release/verstak_sync_plugin.wasm" --out dist/verstak.sync
node frontend/scripts/check-bundle.mjs dist/verstak.sync/frontend/dist
