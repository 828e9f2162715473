"""``gridledger study run | status | report`` as a user types them, on the shipped example studies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GRIDLEDGER = Path(sys.executable).parent / "gridledger"


def gl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GRIDLEDGER, *args], capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.parametrize("example", sorted(p.name for p in (ROOT / "examples").glob("*.toml")))
def test_every_example_study_runs_and_reports(example: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = gl("study", "run", str(ROOT / "examples" / example), "--out", str(out), "--workers", "2", "--quiet")
    assert r.returncode == 0, r.stderr
    assert "0 failed" in r.stdout
    s = gl("study", "status", str(out))
    assert s.returncode == 0 and "0 failed, 0 missing" in s.stdout
    rep = gl("study", "report", str(out), "--plots", str(tmp_path / "plots"))
    assert rep.returncode == 0, rep.stderr
    assert "cells" in rep.stdout and list((tmp_path / "plots").glob("*.png"))
    again = gl("study", "run", str(ROOT / "examples" / example), "--out", str(out), "--quiet")
    assert again.returncode == 0 and "0 ran ok" in again.stdout


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["study", "run", "missing.toml"], "does not exist"),
        (["study", "run", "{bad}"], "unknown workload"),
        (["study", "run", "{ok}", "--workers", "0"], "--workers must be an integer in 1"),
        (
            ["study", "run", "{ok}", "--scheduler", "tcp://127.0.0.1:9", "--workers", "2"],
            "local cluster only",
        ),
        (["study", "status", "{tmp}"], "holds no study"),
        (["study", "report", "{tmp}"], "holds no study"),
        (["study", "frobnicate"], "invalid choice"),
    ],
)
def test_misuse_is_an_error_with_a_hint(args: list[str], error: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('workload = "grid"\n')
    ok = tmp_path / "ok.toml"
    ok.write_text('workload = "bidding"\n')
    args = [a.format(bad=bad, ok=ok, tmp=tmp_path) for a in args]
    r = gl(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines[-2].startswith("error: ") and error in lines[-2]
    assert lines[-1].startswith("hint: ")


def test_unreachable_scheduler_says_how_to_start_one(tmp_path: Path) -> None:
    ok = tmp_path / "ok.toml"
    ok.write_text('workload = "bidding"\n[base]\nturns = 10\n')
    from gridledger import cli

    r = gl("study", "run", str(ok), "--scheduler", "tcp://127.0.0.1:9")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "cannot reach the Dask scheduler" in r.stderr and "dask scheduler" in r.stderr.splitlines()[-1]
    assert "study" in cli.COMMANDS
