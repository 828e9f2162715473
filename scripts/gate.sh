#!/usr/bin/env bash
# The performance gate: instruction counts of each hot path under callgrind,
# single-threaded, compared with benches/gate/baseline.json (tolerance 3 %).
#
#   bash scripts/gate.sh            check; exit 1 on a regression (prints old, new, ratio)
#   bash scripts/gate.sh --record   re-record the baseline after an intended change
#
# valgrind comes from Debian's packages: when it is missing and we are root,
# this script installs it (apt-get update && apt-get install -y valgrind);
# otherwise it stops with an error saying so. It never passes without measuring.
# Expects the project's .venv (scripts/test.sh makes it). docs/bench.md explains the gate.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "gate: valgrind missing, installing it: apt-get update && apt-get install -y valgrind" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >&2
    else
        echo "error: valgrind is not installed; the performance gate counts instructions with callgrind" >&2
        echo "hint: run this script as root on Debian/Ubuntu (it runs apt-get update && apt-get install -y valgrind)," \
             "or install valgrind so" >&2
        exit 2
    fi
fi

if [ "${1:-}" = "--record" ]; then
    exec .venv/bin/python -m gridledger.bench.gate record --baseline benches/gate/baseline.json
fi
exec .venv/bin/python -m gridledger.bench.gate check --baseline benches/gate/baseline.json "$@"
