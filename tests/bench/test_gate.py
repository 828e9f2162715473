"""The performance gate fails on a regression, passes without one, and never passes without valgrind.

``GRIDLEDGER_GATE_SLOWDOWN=1`` (a test-only switch read by the gate's driver)
makes ``hash_many`` hash every record twice: the gate must see the count
double against the committed baseline and fail, printing old, new, ratio and
the command that re-records the baseline. scripts/test.sh runs scripts/gate.sh
first, which installs valgrind when it is missing, so these run in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gridledger.bench import gate

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "benches" / "gate" / "baseline.json"

needs_valgrind = pytest.mark.skipif(
    shutil.which("valgrind") is None,
    reason="valgrind is not installed; `bash scripts/gate.sh` installs it (apt-get install -y valgrind), "
    "and scripts/test.sh runs the gate before pytest",
)


def _gate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gridledger.bench.gate", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=600,
    )


@needs_valgrind
def test_gate_fails_on_a_deliberate_slowdown_and_passes_without() -> None:
    ok = _gate("check", "--baseline", str(BASELINE), "--workloads", "hash_many", env={gate.SLOWDOWN: "0"})
    assert ok.returncode == 0, ok.stderr
    assert "performance gate passed" in ok.stdout
    slow = _gate("check", "--baseline", str(BASELINE), "--workloads", "hash_many", env={gate.SLOWDOWN: "1"})
    assert slow.returncode == 1, slow.stdout + slow.stderr
    assert "performance gate FAILED" in slow.stderr
    line = next(x for x in slow.stderr.splitlines() if "hash_many:" in x)
    assert "old " in line and "new " in line and "ratio " in line
    ratio = float(line.split("ratio ")[1].split()[0])
    assert 1.5 < ratio < 2.5  # one extra hash per record: about twice the instructions
    assert "bash scripts/gate.sh --record" in slow.stderr


def test_check_compares_with_the_tolerance() -> None:
    base = {"a": 1_000_000, "b": 1_000_000}
    assert gate.check(base, {"a": 1_030_000, "b": 900_000}) == []
    bad = gate.check(base, {"a": 1_030_001, "b": 1_000_000})
    assert len(bad) == 1 and bad[0].startswith("a: old 1,000,000 new 1,030,001")
    assert "no baseline" in gate.check(base, {"c": 1})[0]


def test_missing_valgrind_is_an_error_that_says_how_to_install(tmp_path: Path) -> None:
    r = _gate("check", "--baseline", str(BASELINE), "--workloads", "hash_many", env={"PATH": str(tmp_path)})
    assert r.returncode == 2
    err = r.stderr.strip().splitlines()
    assert (
        err[0] == "error: valgrind is not installed: the performance gate counts instructions with callgrind"
    )
    assert (
        err[1].startswith("hint:") and "apt-get install -y valgrind" in err[1] and "scripts/gate.sh" in err[1]
    )


def test_unknown_gate_workload_lists_the_gated_ones() -> None:
    r = _gate("check", "--workloads", "nope")
    assert r.returncode == 2 and "nope" in r.stderr and all(n in r.stderr for n in gate.GATED)


def test_other_architecture_baseline_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "baseline.json"
    other.write_text(BASELINE.read_text().replace('"arch": "x86_64"', '"arch": "riscv64"'))
    r = _gate("check", "--baseline", str(other), "--workloads", "order_book_replay")
    assert r.returncode == 2 and "recorded on riscv64" in r.stderr


@needs_valgrind
def test_bench_instructions_fill_the_gated_rows(tmp_path: Path) -> None:
    from gridledger import cli

    out = tmp_path / "i.json"
    argv = ["bench", "--size", "smoke", "--workloads", "hash_many,ev_day", "--instructions", "--quiet"]
    assert cli.main([*argv, "--json", str(out)]) == 0
    rows = {w["name"]: w for w in json.loads(out.read_text())["workloads"]}
    base = json.loads(BASELINE.read_text())["counts"]["hash_many"]
    assert rows["hash_many"]["instructions_n"] == gate.GATE_N["hash_many"]
    assert abs(rows["hash_many"]["instructions"] / base - 1) < gate.TOLERANCE
    assert rows["ev_day"]["instructions"] is None  # not a gated hot path
