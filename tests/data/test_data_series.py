"""Resampling conserves energy; gaps are found and filled by the documented rule."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from gridledger import cli, data
from gridledger.errors import BadDataError
from hypothesis import given
from hypothesis import strategies as st

T0 = datetime(2021, 3, 1, tzinfo=UTC)


def _series(values: Sequence[float | None], minutes: int, start: datetime = T0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "utc_timestamp": [start + timedelta(minutes=minutes * i) for i in range(len(values))],
            "area": ["XX"] * len(values),
            "quantity": ["load_actual"] * len(values),
            "value_mw": values,
        },
        schema=data.LONG_SCHEMA,
    )


def _energy_mwh(frame: pl.DataFrame) -> float:
    minutes = next(iter(data.resolution_minutes(frame).values()))
    return float(frame["value_mw"].sum()) * minutes / 60


@given(
    st.sampled_from([5, 15, 30, 60]),
    st.sampled_from([5, 15, 30, 60]),
    st.sampled_from(["step", "linear"]),
    st.integers(2, 12),
    st.data(),
)
def test_resampling_conserves_energy(
    native: int, target: int, method: str, blocks: int, draw: st.DataObject
) -> None:
    # Whole target periods (and whole native ones), aligned to the UTC grid: every period is complete.
    span = max(native, target) * blocks
    values = draw.draw(
        st.lists(st.floats(0, 5000, allow_nan=False), min_size=span // native, max_size=span // native)
    )
    frame = _series(values, native)
    out = data.resample(frame, f"{target}m", method=method)
    assert out["value_mw"].null_count() == 0
    assert out.height == span // target
    assert _energy_mwh(out) == pytest.approx(_energy_mwh(frame), rel=1e-9, abs=1e-9)
    assert (out["value_mw"] >= 0).all()


def test_step_upsampling_splits_each_hour_in_quarters() -> None:
    out = data.resample(_series([4.0, 8.0], 60), "15m")
    assert out["value_mw"].to_list() == [4.0] * 4 + [8.0] * 4
    assert out["utc_timestamp"][1] == T0 + timedelta(minutes=15)


def test_linear_upsampling_preserves_each_hour_mean() -> None:
    out = data.resample(_series([4.0, 8.0, 6.0], 60), "15m", method="linear")
    v = np.array(out["value_mw"].to_list()).reshape(3, 4)
    assert v.mean(axis=1).tolist() == pytest.approx([4.0, 8.0, 6.0])
    assert len(set(v[1].round(9))) > 1  # not a step


def test_downsampling_averages_and_marks_incomplete_periods_missing() -> None:
    start = T0 + timedelta(minutes=15)  # starts mid-hour
    out = data.resample(_series([1, 2, 3, 4, 5, 6, 7], 15, start), "1h")
    assert out["utc_timestamp"].to_list() == [T0, T0 + timedelta(hours=1)]
    assert out["value_mw"].to_list() == [None, 5.5]  # first hour lacks 00:00; second has 4..7
    holed = data.resample(_series([1.0, None, 3.0, 4.0], 15), "1h")
    assert holed["value_mw"].to_list() == [None]


def test_gap_report_and_fill_rule() -> None:
    f = _series([10.0, None, None, 40.0, 50.0], 15).filter(
        pl.col("value_mw").is_not_null() | (pl.int_range(pl.len()) == 1)
    )
    # Row 2 is absent, row 1 is null: one gap of 2 periods either way.
    gaps = data.gap_report(f)
    assert gaps.select("periods", "resolution_min").rows() == [(2, 15)]
    assert gaps["gap_start"][0] == T0 + timedelta(minutes=15)
    assert gaps["gap_end"][0] == T0 + timedelta(minutes=45)
    filled = data.fill_gaps(f, limit="30m")
    assert filled["value_mw"].to_list() == [10.0, 20.0, 30.0, 40.0, 50.0]


def test_fill_holds_the_nearest_value_at_the_ends_and_accepts_string_labels() -> None:
    f = _series([None, 10.0, None, None, 40.0, None], 15).with_columns(
        pl.col("area", "quantity").cast(pl.String)  # frames users build may use plain strings
    )
    filled = data.fill_gaps(f, limit="30m")
    assert filled["value_mw"].to_list() == [10.0, 10.0, 20.0, 30.0, 40.0, 40.0]
    assert filled["area"].dtype == pl.Categorical and filled["area"].to_list() == ["XX"] * 6
    with pytest.raises(BadDataError, match=r"XX/load_actual: gap of 2 periods \(30 min\)"):
        data.fill_gaps(f, limit="15m")


def test_unsorted_frames_are_sorted_and_duplicates_named() -> None:
    a = _series([1.0, 2.0, 3.0], 60)
    b = a.with_columns(pl.lit("YY").cast(pl.Categorical).alias("area"))
    shuffled = pl.concat([b, a]).sample(fraction=1.0, shuffle=True, seed=1)
    out = data.resample(shuffled, "30m")
    assert out["area"].to_list() == ["XX"] * 6 + ["YY"] * 6
    assert out["value_mw"].to_list() == [1.0, 1.0, 2.0, 2.0, 3.0, 3.0] * 2
    with pytest.raises(BadDataError, match=r"XX/load_actual: timestamp .* does not increase") as e:
        data.resample(pl.concat([a, a.head(1)]), "30m")
    assert e.value.field == "utc_timestamp"


def test_real_file_to_quarter_hours() -> None:
    load = data.sample_load()
    q = data.resample(load, "15m")
    assert q.height == 4 * 8760
    assert _energy_mwh(q) == pytest.approx(_energy_mwh(load), rel=1e-12)


def test_scaling_to_a_community() -> None:
    load = data.sample_load()
    c = data.scale_to_community(load, households=200, annual_kwh_per_household=3500)
    assert c["area"].unique().to_list() == ["community"]
    assert _energy_mwh(c) == pytest.approx(200 * 3.5, rel=1e-9)  # MWh over the year
    ratio = (c["value_mw"] / load["value_mw"]).to_numpy()
    assert np.allclose(ratio, ratio[0])  # the shape is kept
    pv = data.scale_solar_to_kwp(data.sample_solar(), kwp=100)
    assert _energy_mwh(pv) == pytest.approx(100 * 1050 / 1000, rel=1e-9)
    pv2 = data.scale_solar_to_kwp(data.sample_solar(), kwp=100, capacity_mw=1400)
    peak, sample_peak = pv2["value_mw"].max(), data.sample_solar()["value_mw"].max()
    assert isinstance(peak, float) and isinstance(sample_peak, float)
    assert peak == pytest.approx(sample_peak * 0.1 / 1400)


def test_wide_view() -> None:
    both = pl.concat([data.sample_load(), data.sample_solar()])
    w = data.wide(both)
    assert w.columns == ["utc_timestamp", "AT_load_actual", "AT_solar_generation_actual"]
    assert w.height == 8760


def test_cli_inspect_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = (
        Path(__file__).resolve().parents[3]
        / "shared/data/entsoe/raw/transparency_export_AT_2022_60min.csv.gz"
    )
    png = tmp_path / "week.png"
    assert cli.main(["data", "inspect", str(src), "--plot", str(png), "--week", "2022-10-27"]) == 0
    out = capsys.readouterr().out
    assert "spring lines dropped [2044]" in out and "missing   1233" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
