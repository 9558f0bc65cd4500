#!/usr/bin/env bash
# Installs the sync server as a hardened systemd service (server-api.md §1.9). Run as root.
#
#   scripts/install.sh [--binary PATH] [--port N] [--public-url URL] [--trusted-proxies LIST]
#                      [--admin-user NAME --admin-pass-file FILE] [--no-start]
#
# Layout: binary /opt/verstak-sync-server/verstak-sync-server, user and group `verstak`,
# data /var/lib/verstak-sync-server (0750), environment /etc/verstak-server/env (root, 0640),
# unit /etc/systemd/system/verstak-server.service. Re-running it upgrades the binary in place
# (the service is restarted; the data directory is never touched). The first admin is created
# with --admin-pass-file: the password never appears on a command line.
set -euo pipefail

BINARY="build/bin/verstak-sync-server"
PORT=47732
PUBLIC_URL=""
TRUSTED_PROXIES=""
ADMIN_USER=""
ADMIN_PASS_FILE=""
START=1

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) BINARY="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --public-url) PUBLIC_URL="$2"; shift 2 ;;
    --trusted-proxies) TRUSTED_PROXIES="$2"; shift 2 ;;
    --admin-user) ADMIN_USER="$2"; shift 2 ;;
    --admin-pass-file) ADMIN_PASS_FILE="$2"; shift 2 ;;
    --no-start) START=0; shift ;;
    -h|--help) usage ;;
    *) echo "unknown option: $1" >&2; usage ;;
  esac
done

[ "$(id -u)" -eq 0 ] || { echo "install.sh must run as root" >&2; exit 1; }
[ -x "$BINARY" ] || { echo "no binary at $BINARY (run scripts/build.sh first)" >&2; exit 1; }
if [ -n "$ADMIN_USER" ] && [ ! -r "$ADMIN_PASS_FILE" ]; then
  echo "--admin-user needs a readable --admin-pass-file" >&2; exit 1
fi

PREFIX=/opt/verstak-sync-server
DATA=/var/lib/verstak-sync-server
ETC=/etc/verstak-server
UNIT=/etc/systemd/system/verstak-server.service

if ! getent group verstak >/dev/null; then groupadd --system verstak; fi
if ! id verstak >/dev/null 2>&1; then
  useradd --system --gid verstak --home-dir "$DATA" --no-create-home --shell /usr/sbin/nologin verstak
fi

install -d -m 0755 "$PREFIX"
install -m 0755 "$BINARY" "$PREFIX/verstak-sync-server.new"
mv -f "$PREFIX/verstak-sync-server.new" "$PREFIX/verstak-sync-server"
install -d -m 0750 -o verstak -g verstak "$DATA"
install -d -m 0750 -o root -g verstak "$ETC"

if [ ! -f "$ETC/env" ]; then
  umask 027
  {
    echo "VERSTAK_PORT=$PORT"
    [ -n "$PUBLIC_URL" ] && echo "VERSTAK_PUBLIC_URL=$PUBLIC_URL"
    [ -n "$TRUSTED_PROXIES" ] && echo "VERSTAK_TRUSTED_PROXIES=$TRUSTED_PROXIES"
    true
  } > "$ETC/env"
  chown root:verstak "$ETC/env"
  chmod 0640 "$ETC/env"
fi

cat > "$UNIT" <<UNIT
[Unit]
Description=Verstak Sync Server
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=verstak
Group=verstak
EnvironmentFile=-$ETC/env
ExecStart=$PREFIX/verstak-sync-server --data $DATA
Restart=on-failure
RestartSec=5s
TimeoutStopSec=30s
# Every client connection holds a descriptor; the server also raises its soft limit to this.
LimitNOFILE=65536
UMask=0027
StateDirectory=verstak-sync-server
StateDirectoryMode=0750
NoNewPrivileges=true
ProtectSystem=strict
ReadWritePaths=$DATA
ProtectHome=true
PrivateTmp=true
PrivateDevices=true
ProtectKernelTunables=true
ProtectKernelModules=true
ProtectKernelLogs=true
ProtectControlGroups=true
ProtectClock=true
ProtectHostname=true
LockPersonality=true
RestrictRealtime=true
RestrictSUIDSGID=true
RestrictNamespaces=true
MemoryDenyWriteExecute=true
SystemCallArchitectures=native
CapabilityBoundingSet=
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6

[Install]
WantedBy=multi-user.target
UNIT
chmod 0644 "$UNIT"

if [ -n "$ADMIN_USER" ]; then
  # Upserts the admin into config.yml and exits once the server is ready: start it on an
  # ephemeral loopback port as the service user, wait for the ready line, stop it.
  tmp_log="$(mktemp)"
  pass_copy="$(mktemp)"
  install -m 0400 -o verstak -g verstak "$ADMIN_PASS_FILE" "$pass_copy"
  runuser -u verstak -- "$PREFIX/verstak-sync-server" --data "$DATA" --listen 127.0.0.1:0 \
    --admin-user "$ADMIN_USER" --admin-pass-file "$pass_copy" 2> "$tmp_log" &
  pid=$!
  for _ in $(seq 1 100); do
    grep -q "listening on" "$tmp_log" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || true
  rm -f "$pass_copy"
  grep -q "initial admin user" "$tmp_log" || { cat "$tmp_log" >&2; rm -f "$tmp_log"; exit 1; }
  rm -f "$tmp_log"
  echo "admin \"$ADMIN_USER\" configured"
fi

if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable verstak-server.service >/dev/null
  if [ "$START" -eq 1 ]; then
    systemctl restart verstak-server.service
    systemctl --no-pager --lines=0 status verstak-server.service || true
  fi
else
  echo "systemd is not running here; the unit was written to $UNIT"
fi
echo "installed: $PREFIX/verstak-sync-server, data $DATA, env $ETC/env"
