from __future__ import annotations

import subprocess
import sys

import pytest
from gridledger import cli


def test_demo_proves_and_verifies(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "24/24 verify" in out
    assert "proof verifies     True" in out
    assert "forged reading (+1 Wh) verifies  False" in out
    assert "ENTSO-E" in out


@pytest.mark.parametrize("alg", ["sha256", "blake3"])
def test_demo_is_deterministic_per_algorithm(alg: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--algorithm", alg, "--date", "2019-01-15", "--index", "0"]) == 0
    first = capsys.readouterr().out
    assert cli.main(["demo", "--algorithm", alg, "--date", "2019-01-15", "--index", "0"]) == 0
    assert capsys.readouterr().out == first


def test_bad_input_exits_2_with_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--date", "2021-05-01"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "hint:" in err
    assert cli.main(["demo", "--index", "24"]) == 2


def test_console_script_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gridledger.cli", "demo"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Merkle root" in done.stdout and done.stderr == ""
