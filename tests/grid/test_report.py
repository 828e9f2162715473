"""The DSO report (issue 20 item 7): tables, hosting capacity, plots rendered to PNG, run files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from gridledger.errors import BadDataError, InvalidArgumentError
from gridledger.grid import radial_feeder
from gridledger.grid.feeder import Feeder
from numpy.typing import NDArray

pytest.importorskip("gridledger.grid.powerflow")  # gridcore's power flow (merged from branch gridcore)

from gridledger.grid.report import dso_report, hosting_capacity, read_injections, write_injections

T = 24


def _run(feeder: Feeder, pv_kw: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A day of hourly load (1 kW per member bus) and PV (a noon bell, pv_kw peak on every member bus)."""
    load = np.zeros((T, feeder.n_buses))
    pv = np.zeros((T, feeder.n_buses))
    bell = np.clip(np.sin((np.arange(T) - 6) / 12 * np.pi), 0, None)
    for b in feeder.member_bus:
        load[:, b] -= 1000.0
        pv[:, b] += pv_kw * 1000.0 * bell
    return load, pv


def test_report_tables_and_hosting() -> None:
    f = radial_feeder(12, n_legs=2, line_type="NAYY 4x50 SE", span_m=60.0)
    load, pv = _run(f, 3.0)
    rep = dso_report(f, load, pv, period_hours=1.0)
    # A lightly loaded feeder: no violation, losses positive, the whole PV hosted and more.
    assert rep.violation_hours == 0.0
    assert rep.losses_kwh > 0
    assert rep.buses.height == f.n_buses and rep.lines.height == f.n_lines
    assert set(rep.buses["bus"].to_list()) == {b.name for b in f.buses}
    assert rep.hosting_scale is not None and rep.hosting_scale > 1.0
    # At the hosting scale nothing violates; a little above it something does.
    k = rep.hosting_scale
    assert hosting_capacity(f, load, pv * k * 0.999, max_scale=1.0) == pytest.approx(1.0)
    over = dso_report(f, load, pv * (k + 0.05), period_hours=1.0, hosting=False)
    assert over.violation_hours > 0
    worst = over.buses.row(0, named=True)
    assert worst["hours_outside"] > 0 or over.lines["hours_overloaded"][0] > 0
    assert rep.hosting_extra_kwh == pytest.approx((k - 1) * pv.sum() / 1000)
    tables = rep.tables()
    assert set(tables) == {"summary", "buses", "lines"}
    s = dict(tables["summary"].iter_rows())
    assert s["losses_kwh"] == pytest.approx(rep.losses_kwh)


def test_violation_hours_count_periods_times_length() -> None:
    f = radial_feeder(6, n_legs=1, line_type="NAYY 4x50 SE", span_m=150.0)
    load, pv = _run(f, 0.0)
    load[5:9] *= 60.0  # four heavy periods
    rep = dso_report(f, load, pv, period_hours=0.25, hosting=False)
    assert rep.violation_hours == pytest.approx(4 * 0.25)
    assert rep.hosting_scale is None
    # Even without PV the run violates: the hosting capacity is 0.
    assert hosting_capacity(f, load, pv + 1.0) == 0.0


def test_plots_render(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from gridledger.grid.plot import plot_report

    f = radial_feeder(8, n_legs=2)
    load, pv = _run(f, 4.0)
    rep = dso_report(f, load, pv, period_hours=1.0, hosting=False)
    paths = plot_report(rep, f, tmp_path / "plots")
    assert [p.name for p in paths] == ["voltage_heatmap.png", "loading_duration.png"]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000


def test_injections_round_trip_and_bad_files(tmp_path: Path) -> None:
    f = radial_feeder(5)
    load, pv = _run(f, 2.0)
    path = write_injections(tmp_path / "inj.parquet", f, load, pv)
    back = read_injections(path, f)
    assert np.array_equal(back[0], load) and np.array_equal(back[1], pv)
    frame = pl.read_parquet(path)
    frame.with_columns(pl.col("bus").str.replace("b001", "zz")).write_parquet(tmp_path / "bad.parquet")
    with pytest.raises(BadDataError, match="bus 'zz' is not on the feeder"):
        read_injections(tmp_path / "bad.parquet", f)
    frame.head(frame.height - 1).write_parquet(tmp_path / "short.parquet")
    with pytest.raises(BadDataError, match="one row per bus"):
        read_injections(tmp_path / "short.parquet", f)
    (tmp_path / "x.parquet").write_text("not parquet")
    with pytest.raises(BadDataError, match="not a Parquet file"):
        read_injections(tmp_path / "x.parquet", f)
    (tmp_path / "f.json").write_text(json.dumps(f.to_dict()))


def test_bad_input() -> None:
    f = radial_feeder(3)
    load = np.zeros((4, f.n_buses))
    with pytest.raises(InvalidArgumentError, match="load_w must be") as e:
        dso_report(f, np.zeros((4, 2)))
    assert e.value.value == (4, 2)
    with pytest.raises(InvalidArgumentError, match="pv_w must be"):
        dso_report(f, load, np.zeros((3, f.n_buses)))
    with pytest.raises(InvalidArgumentError, match=r"load_w\[1, 2\] = nan"):
        bad = load.copy()
        bad[1, 2] = np.nan
        dso_report(f, bad)
    with pytest.raises(InvalidArgumentError, match="period_hours"):
        dso_report(f, load, period_hours=-1.0)
    with pytest.raises(InvalidArgumentError, match="max_scale"):
        hosting_capacity(f, load, load, max_scale=0.0)
    with pytest.raises(InvalidArgumentError, match="allocation needs"):
        dso_report(f, load, allocation=pl.DataFrame({"member": ["a"]}))
