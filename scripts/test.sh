#!/usr/bin/env bash
# Install everything the test suite needs, from this repository's own files,
# and run it all: the static checks (scripts/lint.sh), cargo test on the pure
# Rust core (vectors included), a one-shot run of the criterion benches, a
# smoke run of every Python benchmark at small sizes (so none of them rots),
# pytest over tests/ (the hypothesis fuzz targets in tests/fuzz included) and
# one pass of every atheris harness over its seed corpus (docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
    echo "error: cargo not found" >&2
    echo "hint: install Rust with rustup, then re-run" >&2
    exit 2
fi

python3 -m venv .venv
# The package with every optional extra and the test tools ([test] pulls in
# [all]: plot, ev, milp, study), pinned by constraints.txt. The extension
# is built in the dev profile (dependencies optimised, our code debuggable),
# which keeps the CI build lean.
MATURIN_PEP517_ARGS="--profile dev" .venv/bin/pip install -q --disable-pip-version-check \
    -c constraints.txt -e ".[test]"

bash scripts/lint.sh

cargo test --no-default-features --all-targets
GRIDLEDGER_BENCH_LARGE=2000 cargo test --no-default-features --benches --quiet

GRIDLEDGER_BENCH_SCALE=smoke .venv/bin/python -m pytest -q benches
# The performance gate (instruction counts under callgrind; installs valgrind
# if missing) and a smoke run of `gridledger bench` (docs/bench.md).
bash scripts/gate.sh
mkdir -p out && .venv/bin/gridledger bench --size smoke --quiet --json out/bench-smoke.json --overwrite
.venv/bin/python -m pytest -q tests
bash scripts/fuzz.sh all 0
