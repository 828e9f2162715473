"""The report: one table per workload grouped by the design that varies, and its PNG plots."""

from __future__ import annotations

from pathlib import Path

import pytest
from gridledger.errors import BadConfigurationError
from gridledger.study import Study, results, run_cell, tables
from gridledger.study import plot as plot_study


def fill(out: Path) -> Study:
    study = Study.build(
        "bidding",
        name="r",
        base={"turns": 200},
        sweep={"rule": ["argmax_w_over_u", "proportional"]},
        seeds=3,
        out=out,
    )
    results.open_folder(out, study.name, study.workload, [c.id for c in study])
    for c in study:
        results.write_row(out, run_cell(c.canonical()))
    return study


def test_tables_group_by_the_design_and_average_replicates(tmp_path: Path) -> None:
    fill(tmp_path / "out")
    t = tables(tmp_path / "out")["bidding"]
    assert t["rule"].to_list() == ["argmax_w_over_u", "proportional"]
    assert t["cells"].to_list() == [3, 3]
    assert {"survivors", "top_wins_share", "gini", "seconds_per_cell"} <= set(t.columns)
    assert ((t["top_wins_share"] > 0) & (t["top_wins_share"] <= 1)).all()


def test_plots_are_written(tmp_path: Path) -> None:
    fill(tmp_path / "out")
    paths = plot_study(tmp_path / "out", tmp_path / "plots")
    assert [p.name for p in paths] == ["bidding.png"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[0].stat().st_size > 5000


def test_report_of_an_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    results.open_folder(tmp_path / "out", "e", "bidding", ["x"])
    with pytest.raises(BadConfigurationError, match="no finished cell"):
        tables(tmp_path / "out")
