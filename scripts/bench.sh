#!/usr/bin/env bash
# Full-scale benchmarks (the figures of BENCHMARKS.md).
#
# Builds the extension in release mode into its own venv, .venv-bench, so the
# developer's .venv and target/ are left alone, then runs every Python
# benchmark at GRIDLEDGER_BENCH_SCALE=full (10^6 records, 2^20 leaves, 10^4
# proofs and signatures; ~10 minutes on 2 cores, pymerkle's 2^20-leaf build
# being the long pole) and prints the markdown report of out/bench.json.
#
# The extension is built as a wheel and installed (not `maturin develop`):
# develop would copy the release .so into python/gridledger/, replacing the
# one the developer's editable .venv imports.
#
#   scripts/bench.sh                         # build, run, report
#   scripts/bench.sh -k merkle               # extra args go to pytest
#   scripts/bench.sh -k "not data"           # only the Rust-core targets
#   BENCH_CRITERION=1 scripts/bench.sh       # also run the criterion benches
#   BENCH_BOOK=1 scripts/bench.sh -k market  # §7 and the order book's criterion bench
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-bench
export CARGO_TARGET_DIR="$PWD/target/bench"

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    echo '*' >"$VENV/.gitignore" # never committed
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -c constraints.txt \
    numpy polars pytest pytest-benchmark hypothesis blake3 pymerkle cryptography maturin rich
# The order books of §7's comparison (benches/_peers.py), pinned in constraints.txt.
"$VENV/bin/pip" install -q --disable-pip-version-check -c constraints.txt \
    nanobook cython-orderbook pyorderbook

# cargo waits by itself if another build holds the lock on target/bench.
rm -rf "$CARGO_TARGET_DIR/wheels"
"$VENV/bin/maturin" build --release -i "$VENV/bin/python" --out "$CARGO_TARGET_DIR/wheels"
WHEEL=$(ls "$CARGO_TARGET_DIR"/wheels/gridledger-*.whl)
"$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$WHEEL"
# The package's own dependencies and [test] extra (other benches need pandas).
"$VENV/bin/pip" install -q --disable-pip-version-check -c constraints.txt "gridledger[test] @ file://$WHEEL"

mkdir -p out
# pyproject's addopts pass --benchmark-disable; --benchmark-enable overrides it.
GRIDLEDGER_BENCH_SCALE=full "$VENV/bin/python" -m pytest benches \
    --benchmark-enable --benchmark-json out/bench.json -p no:cacheprovider "$@"
"$VENV/bin/python" benches/report.py out/bench.json | tee out/report.md

if [ "${BENCH_CRITERION:-0}" = 1 ]; then
    # Pure-Rust hot paths, large batch 10^5 (GRIDLEDGER_BENCH_LARGE overrides).
    cargo bench --no-default-features --bench hot_paths | tee out/criterion.txt
fi
if [ "${BENCH_CRITERION:-0}" = 1 ] || [ "${BENCH_BOOK:-0}" = 1 ]; then
    # The order book per operation (p50/p99) on the streams of test_bench_market.py.
    "$VENV/bin/python" benches/_streams.py out/streams
    GRIDLEDGER_BOOK_STREAMS="$PWD/out/streams" cargo bench --no-default-features --bench book \
        | tee out/criterion_book.txt
fi
