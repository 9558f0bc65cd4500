#!/usr/bin/env bash
# Runs every benchmark and prints a table of measured numbers against the targets
# (docs/performance.md). Benchmarks, not tests: nothing here fails on time.
#
#   scripts/bench.sh                  # full size: 10,000 files / 100 MiB, 256 MiB hashing, memory runs
#   scripts/bench.sh --files 1000 --mib 10 --skip-memory    # a quick look
#
# Builds first (release): the server and host binaries, the engine component, the bench-only
# hash guest component and its native software-SHA twin, all into $CARGO_TARGET_DIR (default target/).
# Arguments go to the bench binary (host-shim/benches/sync.rs); host-shim/benches/join.rs runs after it.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p verstak-sync-server -p verstak-sync-host
cargo build --release -p verstak-sync-plugin --target wasm32-wasip2
cargo build --release --target wasm32-wasip2 \
    --manifest-path host-shim/benches/guests/hash/Cargo.toml --target-dir "${CARGO_TARGET_DIR:-target}"
cargo build --release --bin native-soft-hash \
    --manifest-path host-shim/benches/guests/hash/Cargo.toml --target-dir "${CARGO_TARGET_DIR:-target}"
cargo bench -p verstak-sync-host --bench sync -- "$@"
# Issue 17: joins after 1 and 50 edit rounds, server disk once the history windows passed
# (BENCH_JOIN_NOTES, BENCH_JOIN_ROUNDS change the size).
exec cargo bench -p verstak-sync-host --bench join
