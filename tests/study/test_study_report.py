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


def test_plot_labels_leave_out_what_the_design_already_names() -> None:
    """The Europe study's labels spelt each data file's path and start beside its area (zipped
    axes): 44 unreadable bars. Columns the other design columns determine are left out."""
    import polars as pl
    from gridledger.study.report import _label_keys, _short

    table = pl.DataFrame(
        {
            "area": ["AT", "AT", "NL", "NL"],
            "draw": ["argmax_w_over_u", "proportional"] * 2,
            "load": ["/d/a_60min.csv.gz"] * 2 + ["/d/b_15min.csv.gz"] * 2,
            "start": ["2022-01-01"] * 4,
            "members": [50, 50, 50, 50],
            "cells": [1, 1, 1, 1],
            "kwh_shared": [1.0, 2.0, 3.0, 4.0],
        }
    )
    assert _label_keys(table) == ["area", "draw"]
    # a path that is the only thing telling two groups apart stays, by its file name
    two = table.with_columns(area=pl.lit("AT"))
    assert _label_keys(two) == ["draw", "load"]
    assert _short("/d/a_60min.csv.gz") == "a_60min.csv.gz" and _short("AT") == "AT"
