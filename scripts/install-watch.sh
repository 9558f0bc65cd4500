#!/usr/bin/env bash
# Installs live sync of one vault as a systemd user service (`verstak-sync-host watch`), logging
# to the journal, and starts it. Idempotent: run it again after an upgrade.
#
#   scripts/install-watch.sh ~/Notes              # install, enable and start
#   scripts/install-watch.sh --no-start ~/Notes   # only write the unit files
#
# The vault must be paired first (`verstak-sync-host --vault DIR configure …`). The binary, the
# engine component and the manifest are taken from this checkout's release build (build them
# with `cargo build --release -p verstak-sync-host` and
# `cargo build --release -p verstak-sync-plugin --target wasm32-wasip2`), or from $HOST_BIN,
# $VERSTAK_SYNC_COMPONENT and $VERSTAK_SYNC_MANIFEST. The unit goes to
# ${XDG_CONFIG_HOME:-~/.config}/systemd/user/ ($UNIT_DIR overrides).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

start=1
if [ "${1:-}" = "--no-start" ]; then
    start=0
    shift
fi
if [ $# -ne 1 ]; then
    echo "usage: $0 [--no-start] VAULT_DIR" >&2
    exit 2
fi
vault="$(cd "$1" && pwd)" || { echo "error: $1 is not a directory" >&2; exit 2; }

host_bin="${HOST_BIN:-$root/target/release/verstak-sync-host}"
component="${VERSTAK_SYNC_COMPONENT:-$root/target/wasm32-wasip2/release/verstak_sync_plugin.wasm}"
manifest="${VERSTAK_SYNC_MANIFEST:-$root/manifest.json}"
for f in "$host_bin" "$component" "$manifest"; do
    [ -f "$f" ] || { echo "error: $f is missing; build it first (see the comment at the top)" >&2; exit 1; }
done
if [ ! -f "$vault/.verstak/plugin-data/verstak.sync/host/paired-server" ]; then
    echo "warning: $vault is not paired yet; run: $host_bin --vault $vault configure --server URL --username NAME --password-stdin" >&2
fi

unit_dir="${UNIT_DIR:-${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user}"
mkdir -p "$unit_dir"
template="$unit_dir/verstak-sync-watch@.service"
# `|` as the sed separator: the paths may hold `/` but never `|` (checked).
for p in "$host_bin" "$component" "$manifest"; do
    case "$p" in *'|'*|*'&'*) echo "error: unsupported character in $p" >&2; exit 1 ;; esac
done
sed -e "s|@HOST_BIN@|$host_bin|" -e "s|@COMPONENT@|$component|" -e "s|@MANIFEST@|$manifest|" \
    "$root/host-shim/systemd/verstak-sync-watch@.service" > "$template.tmp"
mv "$template.tmp" "$template"
echo "wrote $template"

if ! command -v systemd-escape >/dev/null 2>&1; then
    echo "systemd is not installed here: run \`$host_bin --vault '$vault' watch\` under your own supervisor" >&2
    exit 0
fi
instance="$(systemd-escape --path "$vault")"
unit="verstak-sync-watch@$instance.service"

if [ "$start" = 1 ] && command -v systemctl >/dev/null 2>&1 && systemctl --user show-environment >/dev/null 2>&1; then
    systemctl --user daemon-reload
    systemctl --user enable --now "$unit"
    echo "enabled and started $unit"
    echo "logs:   journalctl --user -u '$unit' -f"
    echo "status: systemctl --user status '$unit'"
    echo "(to keep it running while you are logged out: loginctl enable-linger $USER)"
else
    echo "not started (no systemd user session here, or --no-start); to start it later:"
    echo "  systemctl --user daemon-reload && systemctl --user enable --now '$unit'"
fi
