#!/usr/bin/env bash
# Runs every test: the Rust workspace (engine, host with the real component in wasmtime, server
# against its real binary), the frontend (Vitest + the bundle check) and the end-to-end tests
# (Playwright in Debian's Chromium against the real server and host). Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d)

scripts/setup.sh --e2e

echo "==> build: engine component (wasm32-wasip2), frontend bundle, binaries"
cargo build --release -p verstak-sync-plugin --target wasm32-wasip2
(cd frontend && npm run build)
cargo build -p verstak-sync-host -p verstak-sync-server

echo "==> cargo test"
cargo test --workspace 2>&1 | tee "$logs/cargo.log"

echo "==> frontend tests"
(cd frontend && npm test && npm run check) 2>&1 | tee "$logs/frontend.log"

echo "==> e2e tests"
(cd e2e && npm test) 2>&1 | tee "$logs/e2e.log"

# One closing line for all suites together.
strip() { sed 's/\x1b\[[0-9;]*m//g' "$1"; }
cargo_passed=$(strip "$logs/cargo.log" | grep -oP 'test result: \w+\. \K[0-9]+(?= passed)' | awk '{s+=$1} END {print s+0}')
cargo_failed=$(strip "$logs/cargo.log" | grep -oP 'test result: \w+\. [0-9]+ passed; \K[0-9]+(?= failed)' | awk '{s+=$1} END {print s+0}')
vitest_passed=$(strip "$logs/frontend.log" | grep -oP '^\s*Tests\s+\K[0-9]+(?= passed)' | tail -1)
e2e_passed=$(strip "$logs/e2e.log" | grep -oP '^\s*\K[0-9]+(?= passed)' | tail -1)
e2e_skipped=$(strip "$logs/e2e.log" | grep -oP '^\s*\K[0-9]+(?= skipped)' | tail -1)
passed=$(( ${cargo_passed:-0} + ${vitest_passed:-0} + ${e2e_passed:-0} ))
echo
echo "cargo: ${cargo_passed:-0} passed; vitest: ${vitest_passed:-0} passed; playwright: ${e2e_passed:-0} passed, ${e2e_skipped:-0} skipped"
echo "all: $passed passed, ${cargo_failed:-0} failed"
