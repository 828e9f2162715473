"""``simulate`` and ``ev-sim`` on any real data: ``--load FILE --area XX``, any start it covers (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest
from gridledger import cli
from gridledger.ledger.store import ChainStore

ENTSOE = Path(__file__).resolve().parents[3] / "shared" / "data" / "entsoe"
Q15 = ENTSOE / "entsoe_transparency_15min_load.csv.gz"
H60 = ENTSOE / "entsoe_transparency_60min_load.csv.gz"


def test_simulate_on_another_area_and_year(tmp_path: Path) -> None:
    out = tmp_path / "nl.sqlite"
    args = ["simulate", "--load", str(Q15), "--area", "NL", "--start", "2022-06-06", "--days", "0.5"]
    assert cli.main([*args, "--members", "6", "--pv-units", "2", "--out", str(out), "--quiet"]) == 0
    with ChainStore(out) as s:
        assert s.height == 48 and s.verify().ok


def test_ev_sim_on_another_area(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["ev-sim", "--load", str(H60), "--area", "CH", "--start", "2023-03-01", "--scheduler", "greedy"]
    assert cli.main([*args, "--no-bound", "--quiet", "--evs", "20"]) == 0
    assert "from 2023-03-01" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "error", "hint"),
    [
        (
            ["simulate", "--load", str(Q15), "--area", "XX"],
            "no load_actual series for area 'XX'",
            "data inspect",
        ),
        (
            ["simulate", "--load", str(Q15), "--area", "NL", "--start", "2019-06-06"],
            "(NL) covers 2018-12-31 23:00 to 2019-04-30 22:00, 2019-12-31 23:00",
            "move --start",
        ),
        (
            ["simulate", "--start", "2020-01-05"],
            "bundled (AT) covers 2019-01-01 00:00 to 2020-01-01 00:00",
            "--start",
        ),
        (
            ["simulate", "--solar", str(Q15)],
            "no solar_generation_actual series for area 'AT'",
            "data inspect",
        ),
        (
            ["ev-sim", "--load", str(H60), "--area", "AT", "--start", "2019-03-01"],
            "(AT) covers 2021-12-31",
            "--start",
        ),
        (
            ["ev-sim", "--load", str(H60), "--area", "ZZ"],
            "no load_actual series for area 'ZZ'",
            "data inspect",
        ),
    ],
)
def test_data_that_does_not_cover_the_run_is_refused_up_front(
    args: list[str], error: str, hint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = ["--out", str(tmp_path / "x.sqlite")] if args[0] == "simulate" else []
    assert cli.main([*args, *out, "--quiet"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-2].startswith("error: ") and error in err[-2]
    assert err[-1].startswith("hint: ") and hint in err[-1]
    assert not (tmp_path / "x.sqlite").exists()


@pytest.mark.parametrize(("demand", "deferral"), [("per_slot", "within_two"), ("sessions", "one_round")])
def test_ev_sim_demand_model_and_deferral_reading(
    demand: str, deferral: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["ev-sim", "--scheduler", "optimal", "--no-bound", "--quiet", "--evs", "20"]
    assert cli.main([*args, "--demand", demand, "--deferral", deferral]) == 0
    assert f"({demand} demand, deferral {deferral})" in capsys.readouterr().out


def test_ev_sim_unknown_demand_model_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ev-sim", "--demand", "hourly"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'hourly'" in err and "per_slot" in err.splitlines()[-1]
