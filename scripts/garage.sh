#!/usr/bin/env bash
# One throw-away Garage node (an S3-compatible object store) for the server's S3 blob tests.
#
#   eval "$(scripts/garage.sh start)"   # starts it; prints `export …` lines for the tests
#   CARGO_INCREMENTAL=0 cargo test -p verstak-sync-server --test blobs
#   scripts/garage.sh stop "$GARAGE_DIR"  # kills the node, removes its folder
#
# Or source it and call `garage_start` / `garage_stop` (the variables are then exported in the
# calling shell). `start` installs Garage first when it is not on PATH
# (`cargo install garage --locked`, about 8 minutes on 2 cores; ~/.cargo/bin is searched too).
#
# The node lives in a temp folder: sqlite metadata, replication factor 1, RPC and the S3 API on
# free loopback ports, a fresh rpc_secret. The script assigns a one-node layout (zone dc1, 1G),
# creates the key `verstak-test` and the bucket `verstak-test`, allows the key on the bucket, and
# exports:
#   VERSTAK_S3_ENDPOINT      http://127.0.0.1:<port>
#   VERSTAK_S3_REGION        garage
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
#   VERSTAK_TEST_BLOB_STORE  s3://verstak-test/t (the tests add a fresh sub-prefix per server)
#   GARAGE_DIR, GARAGE_PID   for `stop`
# Checked against Garage 2.5 (the CLI changed between 0.9, 1.x and 2.x).

GARAGE_VERSION=2.5.0

garage_log() { echo "garage.sh: $*" >&2; }

# A TCP port on 127.0.0.1 that nothing listens on.
garage_free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  garage_log "no free port found"
  return 1
}

garage_install() {
  if command -v garage >/dev/null 2>&1; then return 0; fi
  if [ -x "$HOME/.cargo/bin/garage" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
    return 0
  fi
  garage_log "installing Garage $GARAGE_VERSION (cargo install, several minutes)"
  cargo install garage --locked --version "$GARAGE_VERSION" >&2
  export PATH="$HOME/.cargo/bin:$PATH"
}

# Retries a command for up to $1 seconds (0.5 s apart); its output is kept for the last try.
garage_retry() {
  local secs=$1
  shift
  local end=$((SECONDS + secs))
  until "$@" 2>/dev/null; do
    if [ "$SECONDS" -ge "$end" ]; then
      "$@"
      return $?
    fi
    sleep 0.5
  done
}

garage_start() {
  garage_install
  local dir rpc s3 secret
  dir=$(mktemp -d "${TMPDIR:-/tmp}/verstak-garage.XXXXXX")
  rpc=$(garage_free_port)
  s3=$(garage_free_port)
  while [ "$s3" = "$rpc" ]; do s3=$(garage_free_port); done
  secret=$(openssl rand -hex 32 2>/dev/null || od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
  mkdir -p "$dir/meta" "$dir/data"
  cat >"$dir/garage.toml" <<EOF
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc"
rpc_public_addr = "127.0.0.1:$rpc"
rpc_secret = "$secret"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3"
EOF
  chmod 0600 "$dir/garage.toml"
  local g=(garage -c "$dir/garage.toml")
  RUST_LOG=warn "${g[@]}" server >"$dir/garage.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/pid"
  if ! garage_retry 30 "${g[@]}" status >/dev/null; then
    garage_log "the node did not answer; log:"
    cat "$dir/garage.log" >&2
    garage_stop "$dir"
    return 1
  fi
  local node
  node=$("${g[@]}" node id -q 2>/dev/null | cut -d@ -f1)
  "${g[@]}" layout assign -z dc1 -c 1G "$node" >/dev/null
  "${g[@]}" layout apply --version 1 >/dev/null
  garage_retry 30 "${g[@]}" bucket create verstak-test >/dev/null
  local info key_id key_secret
  info=$("${g[@]}" key create verstak-test)
  key_id=$(printf '%s\n' "$info" | awk '/^Key ID:/ {print $3}')
  key_secret=$(printf '%s\n' "$info" | awk '/^Secret key:/ {print $3}')
  if [ -z "$key_id" ] || [ -z "$key_secret" ]; then
    garage_log "cannot read the key from the output of 'garage key create'"
    garage_stop "$dir"
    return 1
  fi
  "${g[@]}" bucket allow --read --write --owner verstak-test --key verstak-test >/dev/null
  # The S3 API answers (any HTTP status) once the layout is live.
  garage_retry 30 curl -s -o /dev/null "http://127.0.0.1:$s3/" >/dev/null
  export GARAGE_DIR=$dir GARAGE_PID=$pid
  export VERSTAK_S3_ENDPOINT="http://127.0.0.1:$s3" VERSTAK_S3_REGION=garage
  export AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=$key_secret
  export VERSTAK_TEST_BLOB_STORE=s3://verstak-test/t
  cat >"$dir/env" <<EOF
export GARAGE_DIR=$dir GARAGE_PID=$pid
export VERSTAK_S3_ENDPOINT=$VERSTAK_S3_ENDPOINT VERSTAK_S3_REGION=garage
export AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=$key_secret
export VERSTAK_TEST_BLOB_STORE=$VERSTAK_TEST_BLOB_STORE
EOF
  garage_log "node $node up in $dir (S3 on 127.0.0.1:$s3)"
}

# Stops the node of folder $1 (default $GARAGE_DIR) and removes the folder.
garage_stop() {
  local dir=${1:-${GARAGE_DIR:-}}
  if [ -z "$dir" ] || [ ! -f "$dir/garage.toml" ]; then
    garage_log "no Garage folder to stop: ${dir:-(none)}"
    return 1
  fi
  if [ -f "$dir/pid" ]; then
    local pid
    pid=$(cat "$dir/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    start)
      garage_start
      cat "$GARAGE_DIR/env"
      ;;
    stop) garage_stop "${2:-}" ;;
    *)
      echo "usage: $0 start | stop DIR" >&2
      exit 2
      ;;
  esac
fi
