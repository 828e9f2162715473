"""The study's grid figures (issue 20 item D): the shipped grid example trades, pays fees, and its
``grid_*`` figures are the DSO report's of the run the cell writes."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from gridledger import cli
from gridledger.grid.feeder import Feeder
from gridledger.study import Scenario, run_scenario

pytest.importorskip("gridledger.grid.powerflow")

from gridledger.grid.report import dso_report, read_injections

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "grid_feeders.toml"


def _params(**over: Any) -> dict[str, Any]:
    base = dict(tomllib.loads(EXAMPLE.read_text())["base"])
    return base | {"days": 1} | over


def test_the_example_trades_and_fees_cut_the_volume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    free = run_scenario(Scenario("community", _params()))
    fee = run_scenario(Scenario("community", _params(fee_feeder=20, fee_transformer=40)), tmp_path)
    # The example's community trades (a market without deals would make its fee sweep empty).
    assert free["market_deals"] > 0 and fee["market_deals"] > 0
    assert fee["grid_fees_eur"] > 0
    assert fee["market_kwh"] <= free["market_kwh"]
    # The row's grid figures are the DSO report's on the files the cell wrote.
    feeder = Feeder.from_dict(json.loads((tmp_path / "feeder.json").read_text()))
    load, pv = read_injections(tmp_path / "injections.parquet", feeder)
    rep = dso_report(feeder, load, pv, period_hours=0.25, hosting=False)
    assert fee["grid_violation_hours"] == rep.violation_hours
    assert fee["grid_losses_kwh"] == pytest.approx(rep.losses_kwh)
    assert fee["grid_vm_max_pu"] == pytest.approx(rep.summary()["vm_max_pu"])
    assert fee["grid_buses"] == feeder.n_buses == 9
    # The run was settled on the feeder: its losses are on chain, and the allocation the chain
    # records (written beside the run) is what the report of the cell's folder shows.
    alloc = pl.read_parquet(tmp_path / "losses.parquet")
    assert alloc["member"].to_list() == list(feeder.members)
    assert int(alloc["loss_wh"].sum()) == round(fee["grid_losses_settled_kwh"] * 1000) > 0
    assert fee["grid_losses_settled_kwh"] == pytest.approx(fee["grid_losses_kwh"], abs=0.05)
    assert cli.main(["grid", "report", str(tmp_path), "--no-hosting"]) == 0
    out = capsys.readouterr().out
    assert "losses:" in out and "loss_wh" in out
