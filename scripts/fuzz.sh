#!/usr/bin/env bash
# Coverage-guided fuzzing of gridledger's decoders and batch entry points with atheris
# (libFuzzer for Python). docs/fuzzing.md says what each target checks.
#
#   scripts/fuzz.sh TARGET [SECONDS]     one target (default 60 s)
#   scripts/fuzz.sh all [SECONDS]        every target, SECONDS each
#   scripts/fuzz.sh all 0                replay the seed corpora once, no mutation (a smoke check)
#
# The seed corpus is fuzz/corpus/TARGET (committed, small); inputs the run finds
# interesting go to .fuzz/TARGET (not committed); a crashing input is written to
# fuzz/crashes/TARGET/ and the run of that target stops. Exit status 1 if any crashed.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(tx header genesis block merkle keys book data powerchain network)
PY=${PYTHON:-.venv/bin/python}

usage() {
    echo "usage: scripts/fuzz.sh TARGET|all [SECONDS]" >&2
    echo "hint: TARGET is one of: ${TARGETS[*]}" >&2
    exit 2
}
[[ $# -ge 1 && $# -le 2 ]] || usage
seconds=${2:-60}
[[ $seconds =~ ^[0-9]+$ ]] || usage
if [[ $1 == all ]]; then
    selected=("${TARGETS[@]}")
elif [[ " ${TARGETS[*]} " == *" $1 "* ]]; then
    selected=("$1")
else
    usage
fi
if ! "$PY" -c "import atheris" 2>/dev/null; then
    echo "error: atheris is not installed in $PY" >&2
    echo "hint: install the test extra: .venv/bin/pip install -c constraints.txt -e '.[test]'" >&2
    exit 2
fi

failed=()
for t in "${selected[@]}"; do
    mkdir -p ".fuzz/$t" "fuzz/crashes/$t"
    max_len=4096
    [[ $t == data ]] && max_len=16384
    opts=(-rss_limit_mb=3072 -timeout=60 -max_len=$max_len -artifact_prefix="fuzz/crashes/$t/"
          -print_final_stats=1)
    if [[ $seconds == 0 ]]; then
        opts+=(-runs=0)
        dirs=("fuzz/corpus/$t")
    else
        opts+=(-max_total_time="$seconds")
        dirs=(".fuzz/$t" "fuzz/corpus/$t")
    fi
    echo "== fuzz $t (${seconds}s)"
    if ! nice -n "${FUZZ_NICE:-15}" "$PY" "fuzz/$t.py" "${opts[@]}" "${dirs[@]}" >".fuzz/$t.log" 2>&1; then
        failed+=("$t")
        tail -n 40 ".fuzz/$t.log" >&2
    fi
    grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|Done [0-9]+ runs" ".fuzz/$t.log" || true
done
rmdir fuzz/crashes/* fuzz/crashes 2>/dev/null || true
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "error: crashed: ${failed[*]} (inputs in fuzz/crashes/, logs in .fuzz/)" >&2
    exit 1
fi
