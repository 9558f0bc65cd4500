#!/usr/bin/env bash
# Builds everything in release mode and starts the product on this machine:
#   * the sync server on http://127.0.0.1:47732 with its embedded SQLite in demo/server-data,
#     a first admin and a demo sync account (passwords generated once, kept in demo/ with mode 0600);
#   * the settings panel for the demo vault demo/vault, served by verstak-sync-host on
#     http://127.0.0.1:47733/.
# Ctrl-C stops both. Running it again reuses the data, the accounts and the vault.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
server_port=${VERSTAK_PORT:-47732}
panel_port=${VERSTAK_PANEL_PORT:-47733}

scripts/setup.sh

echo "==> build (release): engine component, browser merge, frontend bundle, server, host"
cargo build --release -p verstak-sync-plugin --target wasm32-wasip2
scripts/build-web-merge.sh   # before the server, which embeds it (the dashboard's diff and merge)
(cd frontend && npm run build)
cargo build --release -p verstak-sync-server -p verstak-sync-host

mkdir -p demo/vault
chmod 700 demo
secret() { # a password generated once and kept in demo/<name>
  local file="demo/$1"
  if [ ! -s "$file" ]; then (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$file"); fi
  cat "$file"
}
admin_pass=$(secret admin-password)
demo_pass=$(secret demo-password)
target=${CARGO_TARGET_DIR:-target}
server=$target/release/verstak-sync-server
host=$target/release/verstak-sync-host

if ! "$server" user add --data demo/server-data --username demo --password-file demo/demo-password >/dev/null 2>demo/user-add.err; then
  grep -q "already taken" demo/user-add.err || { cat demo/user-add.err >&2; exit 1; }
fi

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

"$server" --data demo/server-data --port "$server_port" --admin-user admin --admin-pass-file demo/admin-password &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$server_port/api/v1/health" >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "the server did not start" >&2; exit 1; }
  sleep 0.1
done

"$host" --vault demo/vault --component "$target/wasm32-wasip2/release/verstak_sync_plugin.wasm" \
  --manifest manifest.json serve --port "$panel_port" &
pids+=($!)

cat <<INFO

  Verstak Sync is running.

  Settings panel:  http://127.0.0.1:$panel_port/      (vault: $root/demo/vault)
  Sync server:     http://127.0.0.1:$server_port/     (data: $root/demo/server-data)
  Sync account:    demo / $demo_pass
  Server admin:    admin / $admin_pass

  In the panel, enter the server URL http://127.0.0.1:$server_port and the sync account.
  Press Ctrl-C to stop.

INFO
wait -n "${pids[@]}"
