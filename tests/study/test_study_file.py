"""Study files: the sweep's cells, zipped axes, validation before any task, the output folder."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from gridledger.errors import BadConfigurationError, BadDataError
from gridledger.study import load_study, results, run_scenario, status
from gridledger.study.sources import load_series, solar_series

ROOT = Path(__file__).resolve().parents[2]
ENTSOE = ROOT.parent / "shared" / "data" / "entsoe"
H60 = ENTSOE / "entsoe_transparency_60min_load.csv.gz"


def write(tmp: Path, text: str, name: str = "s.toml") -> Path:
    p = tmp / name
    p.write_text(text)
    return p


def test_sweep_is_the_product_of_axes_times_seeds(tmp_path: Path) -> None:
    s = load_study(
        write(
            tmp_path,
            'workload = "bidding"\nseeds = 3\n[base]\nturns = 50\n'
            '[sweep]\nscenario = ["sc1", "sc2"]\nrule = ["argmax_w_over_u", "proportional"]\n',
        )
    )
    assert len(s) == 2 * 2 * 3
    assert len({c.id for c in s}) == len(s)
    assert {c.params["turns"] for c in s} == {50}
    assert s.out == tmp_path / "s-results"


def test_zipped_axes_vary_together(tmp_path: Path) -> None:
    s = load_study(
        write(
            tmp_path,
            f'workload = "community"\n[base]\ndays = 1\n[sweep]\nmembers = [5, 6]\n'
            f'[[zip]]\nload = ["{H60}", "{H60}"]\narea = ["CH", "AT"]\n'
            'start = ["2023-06-05", "2022-06-06"]\n',
        )
    )
    assert len(s) == 4
    assert {(c.params["area"], c.params["start"]) for c in s} == {("CH", "2023-06-05"), ("AT", "2022-06-06")}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('workload = "grid"\n', "unknown workload 'grid'"),
        ('workload = "bidding"\nfoo = 1\n', "unknown key 'foo'"),
        ("[base]\nturns = 5\n", "missing 'workload'"),
        ('workload = "bidding"\n[sweep]\nturn = [1, 2]\n', r"\[sweep\] unknown bidding parameter 'turn'"),
        ('workload = "bidding"\n[sweep]\nturns = 5\n', "non-empty list"),
        ('workload = "bidding"\n[sweep]\nturns = []\n', "non-empty list"),
        ('workload = "bidding"\n[[zip]]\nturns = [1, 2]\nrule = ["proportional"]\n', "same length"),
        ('workload = "bidding"\n[sweep]\nturns = [1]\n[[zip]]\nturns = [2]\n', "swept twice"),
        ('workload = "bidding"\n[sweep]\nturns = [10, 0]\n', r"cell \(turns=0\)"),
        ('workload = "bidding"\nseeds = 0\n', "seeds must be"),
        ('workload = "bidding"\n[base\n', "not a readable TOML"),
    ],
)
def test_bad_study_files_are_refused_before_any_task(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(BadConfigurationError, match=match):
        load_study(write(tmp_path, text))


def test_missing_study_file(tmp_path: Path) -> None:
    with pytest.raises(BadConfigurationError, match="no such study file"):
        load_study(tmp_path / "nope.toml")


def test_data_problems_name_the_file_area_and_span(tmp_path: Path) -> None:
    with pytest.raises(BadDataError, match="no such data file"):
        load_study(write(tmp_path, 'workload = "community"\n[base]\nload = "missing.csv"\n'))
    with pytest.raises(BadDataError, match=r"no load_actual series for area 'XX'.*AT, BG, CH") as e:
        load_study(write(tmp_path, f'workload = "community"\n[base]\nload = "{H60}"\narea = "XX"\n'))
    assert e.value.field == "area"
    with pytest.raises(
        BadDataError,
        match=r"\(AT\) covers 2021-12-31 23:00 to 2023-01-01 00:00 UTC without a gap, not the run's 2019",
    ):
        load_study(write(tmp_path, f'workload = "community"\n[base]\nload = "{H60}"\narea = "AT"\n'))
    with pytest.raises(BadDataError, match="bundled load is Austria's"):
        load_study(write(tmp_path, 'workload = "community"\n[base]\narea = "DE"\n'))


def test_bundled_solar_moves_to_the_run_year() -> None:
    s = solar_series("bundled", "AT", "2024-12-30", 2)  # a leap year: 31 December exists
    days = s["utc_timestamp"].dt.date().unique()
    assert str(days.min()) == "2024-01-01" and str(days.max()) == "2024-12-31"
    assert s.height == 8760 + 24


def test_a_community_cell_on_another_area_runs(tmp_path: Path) -> None:
    s = load_study(
        write(
            tmp_path,
            f'workload = "community"\n[base]\nmembers = 4\npv_units = 2\ndays = 0.25\n'
            f'load = "{H60}"\narea = "CH"\nstart = "2023-06-05"\n',
        )
    )
    row = run_scenario(s.cells[0])
    assert row["blocks"] == 24 and row["kwh_consumed"] > 0
    assert load_series(str(H60), "CH").height > 8000


def test_output_folder_of_another_study_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    results.open_folder(out, "first", "bidding", ["a"])
    with pytest.raises(BadConfigurationError, match="another study"):
        results.open_folder(out, "second", "bidding", ["b"])
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(BadConfigurationError, match="not empty and holds no study"):
        results.open_folder(other, "first", "bidding", ["a"])
    st = status(out)
    assert (st.cells, st.done, st.failed, st.missing) == (1, 0, 0, 1)
    with pytest.raises(BadConfigurationError, match="holds no study"):
        status(tmp_path)


def test_rows_are_written_whole_and_once(tmp_path: Path) -> None:
    out = tmp_path / "out"
    results.open_folder(out, "s", "bidding", ["c1"])
    row = {
        "cell_id": "c1",
        "workload": "bidding",
        "status": "failed",
        "error_type": "X",
        "error_message": "m",
    }
    results.write_row(out, row)
    results.write_row(out, {**row, "status": "ok", "error_type": None, "error_message": None, "gini": 0.5})
    df = results.read_results(out)
    assert df.height == 1 and df["status"][0] == "ok"
    assert not list(out.rglob("*.tmp"))
    assert pl.scan_parquet(out / "results", hive_partitioning=True).collect().height == 1


def test_the_europe_benchmark_study_is_valid() -> None:
    """benches/study_europe.toml: 11 areas with a whole year × 2 sizes × 2 draw rules, every span covered."""
    s = load_study(ROOT / "benches" / "study_europe.toml")
    assert len(s) == 44
    assert len({c.params["area"] for c in s}) == 11
    assert {c.params["days"] for c in s} == {365.0}
