#!/usr/bin/env bash
# Runs every benchmark and prints a table of measured numbers against the targets
# (docs/performance.md). Benchmarks, not tests: nothing here fails on time.
#
#   scripts/bench.sh                  # full size: 10,000 files / 100 MiB, 256 MiB hashing, memory runs
#   scripts/bench.sh --files 1000 --mib 10 --skip-memory    # a quick look
#   scripts/bench.sh live [--files N] [--edits N] [--idle-seconds S]    # only live sync
#     (host-shim/benches/live.rs: two `watch` hosts, edit → visible, idle CPU, CPU per sync)
#   scripts/bench.sh --upload-scaling   # only: first upload of 10,000 and 20,000 files, time and host bytes written
#   scripts/bench.sh --upload-scaling --component old.wasm  # the same with another engine build
#
# Builds first (release): the server and host binaries, the engine component, the bench-only
# hash guest component and its native software-SHA twin, all into $CARGO_TARGET_DIR (default target/).
# Arguments go to the bench binary (host-shim/benches/sync.rs) and run only it. Without
# arguments, live sync (host-shim/benches/live.rs), joins after 1 and 50 edit rounds with the
# server's disk once the history windows passed (host-shim/benches/join.rs; BENCH_JOIN_NOTES,
# BENCH_JOIN_ROUNDS change the size) and the server's idle event streams (verstak-streams;
# BENCH_STREAMS=0 skips that) are measured too.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p verstak-sync-server -p verstak-sync-host
cargo build --release -p verstak-sync-plugin --target wasm32-wasip2
cargo build --release --target wasm32-wasip2 \
    --manifest-path host-shim/benches/guests/hash/Cargo.toml --target-dir "${CARGO_TARGET_DIR:-target}"
cargo build --release --bin native-soft-hash \
    --manifest-path host-shim/benches/guests/hash/Cargo.toml --target-dir "${CARGO_TARGET_DIR:-target}"
if [ "${1:-}" = "live" ]; then
    shift
    exec cargo bench -p verstak-sync-host --bench live -- "$@"
fi
cargo bench -p verstak-sync-host --bench sync -- "$@"
# With arguments (a quick look, --upload-scaling), that sync bench run is all.
[ $# -gt 0 ] && exit 0
cargo bench -p verstak-sync-host --bench live
cargo bench -p verstak-sync-host --bench join

# The server's idle live event streams (docs/events.md): RSS, CPU and /api/v1/health latency
# with BENCH_STREAMS (default 10,000) streams open; BENCH_STREAMS=0 skips it.
if [ "${BENCH_STREAMS:-10000}" != 0 ]; then
    bin="${CARGO_TARGET_DIR:-target}/release"
    "$bin/verstak-streams" --spawn "$bin/verstak-sync-server" --streams "${BENCH_STREAMS:-10000}"
fi
