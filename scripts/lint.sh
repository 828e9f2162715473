#!/usr/bin/env bash
# Static checks: rustfmt, the Rust and Python module graphs (no cycles), clippy
# (deny warnings), ruff (numpy docstrings on the public API), mypy --strict
# (library, tests, benchmarks) and stubtest of the native module's stub.
# Expects the .venv made by test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --check
python3 scripts/rust_modules.py >/dev/null
python3 scripts/py_modules.py
cargo clippy --quiet --all-targets -- -D warnings
cargo clippy --quiet --no-default-features --all-targets -- -D warnings
.venv/bin/ruff check python tests benches fuzz
.venv/bin/ruff format --check python tests benches fuzz
.venv/bin/mypy
# The benchmarks apart: their conftest.py would share the module name "conftest"
# with the tests' (both folders are import roots for bare-name helpers).
.venv/bin/mypy benches
.venv/bin/python -m mypy.stubtest gridledger._core
