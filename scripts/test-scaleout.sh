#!/usr/bin/env bash
# The server's integration suite in the scaled-out deployment (issue 16): every test server is
# two processes on one throwaway PostgreSQL (scripts/pg.sh) and, when scripts/garage.sh is
# there, keeps its blobs in one Garage bucket (a prefix per server); the tests' requests
# alternate between the two nodes.
#
#   scripts/test-scaleout.sh                   the whole server suite
#   scripts/test-scaleout.sh --no-garage       PostgreSQL only (Garage takes ~8 min to install)
#   scripts/test-scaleout.sh -- --test sync    extra arguments for `cargo test`
#
# Works as root (CI): pg.sh runs PostgreSQL as the `postgres` user. Everything it starts is
# stopped and its temp folder removed on exit, also on failure or Ctrl-C. Ends with one line:
# `scale-out: N passed, M failed, K ignored (…)`; the exit status is cargo's.
set -euo pipefail
cd "$(dirname "$0")/.."

garage=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-garage) garage=0; shift ;;
    --) shift; break ;;
    *) echo "usage: scripts/test-scaleout.sh [--no-garage] [-- CARGO_TEST_ARGS…]" >&2; exit 2 ;;
  esac
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/verstak-scaleout.XXXXXX")
# The postgres user (as root) must reach its data folder inside.
chmod 0755 "$tmp"
GARAGE_DIR=
cleanup() {
  local rc=$?
  scripts/pg.sh stop "$tmp/pg" >/dev/null 2>&1 || true
  if [[ -n "$GARAGE_DIR" ]]; then scripts/garage.sh stop "$GARAGE_DIR" >/dev/null 2>&1 || true; fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> PostgreSQL (scripts/pg.sh) in $tmp/pg"
url=$(scripts/pg.sh start "$tmp/pg")
what="PostgreSQL, 2 nodes"
if [[ $garage == 1 && -x scripts/garage.sh ]]; then
  echo "==> Garage (scripts/garage.sh)"
  # Prints `export …` lines: VERSTAK_TEST_BLOB_STORE, the S3 endpoint and key, GARAGE_DIR.
  eval "$(scripts/garage.sh start)"
  # Every test server keeps its blobs in the bucket, not only the blob tests' S3 runs.
  export VERSTAK_TEST_S3_EVERYWHERE=1
  what="$what, Garage"
fi

echo "==> cargo test -p verstak-sync-server ($what)"
set +e
VERSTAK_TEST_DATABASE_URL=$url VERSTAK_TEST_NODES=2 \
  cargo test -p verstak-sync-server --no-fail-fast "$@" 2>&1 | tee "$tmp/cargo.log"
rc=${PIPESTATUS[0]}
set -e

count() { { grep -oP "$1" "$tmp/cargo.log" || true; } | awk '{s+=$1} END {print s+0}'; }
passed=$(count 'test result: \w+\. \K[0-9]+(?= passed)')
failed=$(count 'test result: \w+\. [0-9]+ passed; \K[0-9]+(?= failed)')
ignored=$(count 'test result: \w+\. [0-9]+ passed; [0-9]+ failed; \K[0-9]+(?= ignored)')
if [[ $failed != 0 || $rc != 0 ]]; then
  echo
  echo "==> failed tests"
  grep -E '^test .* FAILED$' "$tmp/cargo.log" | sed 's/^test /  /; s/ \.\.\. FAILED$//' || true
  # The database's own words for a failed statement, which the server log may shorten.
  pg_errors=$({ grep -h ' ERROR: ' "$tmp/pg/server.log" 2>/dev/null || true; } |
    sed -E 's/^.* ERROR: +//' | { grep -v '^database ".*" already exists' || true; } |
    sort | uniq -c | sort -rn | head -20)
  if [[ -n "$pg_errors" ]]; then
    echo "==> PostgreSQL errors (server.log, most frequent first)"
    echo "$pg_errors"
  fi
fi
echo
if [[ $rc != 0 && $passed == 0 && $failed == 0 ]]; then
  echo "scale-out ($what): the tests did not run (cargo exited with $rc)"
else
  echo "scale-out ($what): $passed passed, $failed failed, $ignored ignored"
fi
exit "$rc"
