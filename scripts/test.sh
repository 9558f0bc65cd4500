#!/usr/bin/env bash
# Runs every test: the Rust workspace (engine, host with the real component in wasmtime, server
# against its real binary), the server suite again on two nodes over PostgreSQL and Garage
# (scripts/test-scaleout.sh; installs postgresql and Garage when missing), the frontend (Vitest + the bundle check) and the end-to-end tests
# (Playwright in Debian's Chromium against the real server and host). Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d)

scripts/setup.sh --e2e

echo "==> build: engine component (wasm32-wasip2), browser merge (wasm-bindgen), frontend bundle, binaries"
cargo build --release -p verstak-sync-plugin --target wasm32-wasip2
scripts/build-web-merge.sh   # before the server, which embeds it
(cd frontend && npm run build)
cargo build -p verstak-sync-host -p verstak-sync-server

if cargo fmt --version >/dev/null 2>&1; then
  echo "==> cargo fmt --check"
  cargo fmt --all --check
  # fuzz/ is its own workspace; rustfmt alone needs none of its (nightly) dependencies.
  git ls-files -z 'fuzz/*.rs' | xargs -0 rustfmt --edition 2024 --check
else
  echo "==> rustfmt is not installed: formatting not checked"
fi

echo "==> cargo test"
cargo test --workspace 2>&1 | tee "$logs/cargo.log"

echo "==> server suite, scaled out: two nodes, PostgreSQL, Garage"
scripts/test-scaleout.sh 2>&1 | tee "$logs/scaleout.log"

echo "==> frontend tests"
(cd frontend && npm test && npm run check) 2>&1 | tee "$logs/frontend.log"

echo "==> e2e tests"
(cd e2e && npm test) 2>&1 | tee "$logs/e2e.log"

# One closing line for all suites together. `count` never fails: a suite may print no
# "skipped" line at all.
strip() { sed 's/\x1b\[[0-9;]*m//g' "$1"; }
count() { strip "$1" | { grep -oP "$2" || true; } | awk '{s+=$1} END {print s+0}'; }
last() { strip "$1" | { grep -oP "$2" || true; } | tail -1; }
cargo_passed=$(count "$logs/cargo.log" 'test result: \w+\. \K[0-9]+(?= passed)')
cargo_failed=$(count "$logs/cargo.log" 'test result: \w+\. [0-9]+ passed; \K[0-9]+(?= failed)')
scaleout_passed=$(last "$logs/scaleout.log" '^scale-out .*: \K[0-9]+(?= passed)')
scaleout_failed=$(last "$logs/scaleout.log" '^scale-out .*: [0-9]+ passed, \K[0-9]+(?= failed)')
vitest_passed=$(last "$logs/frontend.log" '^\s*Tests\s+\K[0-9]+(?= passed)')
e2e_passed=$(last "$logs/e2e.log" '^\s*\K[0-9]+(?= passed)')
e2e_flaky=$(last "$logs/e2e.log" '^\s*\K[0-9]+(?= flaky)')
e2e_skipped=$(last "$logs/e2e.log" '^\s*\K[0-9]+(?= skipped)')
passed=$(( cargo_passed + ${scaleout_passed:-0} + ${vitest_passed:-0} + ${e2e_passed:-0} + ${e2e_flaky:-0} ))
cargo_failed=$(( cargo_failed + ${scaleout_failed:-0} ))
echo
echo "cargo: $cargo_passed passed; server scaled out (PostgreSQL, Garage, 2 nodes): ${scaleout_passed:-0} passed; vitest: ${vitest_passed:-0} passed; playwright: ${e2e_passed:-0} passed, ${e2e_flaky:-0} flaky (passed on retry), ${e2e_skipped:-0} skipped"
echo "all: $passed passed, $cargo_failed failed"
