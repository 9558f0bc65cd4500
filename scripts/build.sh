#!/usr/bin/env bash
# Builds the release server binary and copies it to build/bin/verstak-sync-server.
# The build commit is recorded in the binary (VERSTAK_BUILD_COMMIT) when git knows it.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${CARGO_TARGET_DIR:=target}"
export CARGO_TARGET_DIR
if [ -z "${VERSTAK_BUILD_COMMIT:-}" ] && git rev-parse --short=12 HEAD >/dev/null 2>&1; then
  VERSTAK_BUILD_COMMIT="$(git rev-parse --short=12 HEAD)"
  export VERSTAK_BUILD_COMMIT
fi

# The browser merge first: the server embeds merge-web/pkg/ when it is there (the dashboard's
# diff and merge views); wasm-bindgen-cli comes from scripts/setup.sh.
scripts/build-web-merge.sh
cargo build --release --locked -p verstak-sync-server --bin verstak-sync-server
mkdir -p build/bin
install -m 0755 "$CARGO_TARGET_DIR/release/verstak-sync-server" build/bin/verstak-sync-server
build/bin/verstak-sync-server --version
echo "built build/bin/verstak-sync-server"
