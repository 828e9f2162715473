"""``gridledger grid report`` as a user types it: a run's files, a run folder, a study folder, misuse."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from gridledger import cli
from gridledger.grid import radial_feeder

pytest.importorskip("gridledger.grid.powerflow")  # gridcore's power flow (merged from branch gridcore)

from gridledger.grid.report import write_injections


def _files(tmp_path: Path) -> tuple[Path, Path]:
    f = radial_feeder(6, n_legs=2)
    t = 8
    load = np.zeros((t, f.n_buses))
    load[:, f.member_bus] = -1500.0
    pv = np.zeros_like(load)
    pv[:, f.member_bus] = np.linspace(0, 4000, t)[:, None]
    (tmp_path / "run").mkdir()
    feeder = tmp_path / "run" / "feeder.json"
    feeder.write_text(json.dumps(f.to_dict()))
    return feeder, write_injections(tmp_path / "run" / "injections.parquet", f, load, pv)


def test_report_of_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feeder, inj = _files(tmp_path)
    assert cli.main(["grid", "report", str(feeder), str(inj), "--plots", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    for word in (
        "summary",
        "violation_hours",
        "losses_kwh",
        "hosting_scale",
        "buses",
        "lines",
        "b001",
        "l001",
    ):
        assert word in out
    assert sorted(p.name for p in (tmp_path / "p").glob("*.png")) == [
        "loading_duration.png",
        "voltage_heatmap.png",
    ]
    # The run folder the study runner writes (feeder.json + injections.parquet) reads the same.
    assert cli.main(["grid", "report", str(tmp_path / "run"), "--no-hosting"]) == 0
    assert "violation_hours" in capsys.readouterr().out


def test_misuse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feeder, inj = _files(tmp_path)
    assert cli.main(["grid", "report", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli.main(["grid", "report", str(feeder)]) == 2
    assert "needs the run's injections" in capsys.readouterr().err
    assert cli.main(["grid", "report", str(tmp_path)]) == 2
    assert "neither a study's results nor a run folder" in capsys.readouterr().err
    assert cli.main(["grid", "report", str(feeder), str(inj), "--period-minutes", "0"]) == 2
    assert "--period-minutes" in capsys.readouterr().err
