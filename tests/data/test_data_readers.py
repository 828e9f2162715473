"""Every real file in shared/data/entsoe reads with the right rows, missing counts, spans and DST rows."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from gridledger import data
from gridledger.errors import BadDataError

ENTSOE = Path(__file__).resolve().parents[3] / "shared" / "data" / "entsoe"
RAW = ENTSOE / "raw"
COVERAGE = json.loads((ENTSOE / "coverage.json").read_text())["files"]
WIDE_FILES = [n for n in COVERAGE if "columns" in COVERAGE[n]]


def _utc(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(UTC)


def _series_key(column: str) -> tuple[str, str]:
    base = column.removesuffix("_entsoe_transparency")
    area, kind = base.rsplit("_load_", 1)
    return area, f"load_{kind}"


def test_every_file_is_covered() -> None:
    on_disk = {p.name for p in ENTSOE.glob("*.csv*")} | {p.name for p in RAW.glob("*.gz")}
    tested = set(COVERAGE) | {p for p in RAW_FACTS}
    assert on_disk == tested


@pytest.mark.parametrize("name", WIDE_FILES)
def test_wide_files_match_the_curators_coverage(name: str) -> None:
    """coverage.json (written when the files were made) is the oracle: rows, spans, non-null counts."""
    cov = COVERAGE[name]
    report = data.inspect(ENTSOE / name)
    assert report.format == "opsd"
    assert report.rows == cov["rows"]
    frame = data.read(ENTSOE / name)
    assert sorted(set(map(tuple, frame.select("area", "quantity").unique().rows()))) == sorted(
        _series_key(c) for c in cov["columns"]
    )
    for column, c in cov["columns"].items():
        area, quantity = _series_key(column)
        s = frame.filter((pl.col("area") == area) & (pl.col("quantity") == quantity))
        segs = c["segments"]
        assert s["value_mw"].is_not_null().sum() == sum(g["non_null"] for g in segs), column
        assert s["utc_timestamp"].min() == _utc(segs[0]["first"]), column
        assert s["utc_timestamp"].max() == _utc(segs[-1]["last"]), column
        if len(segs) == 1:  # one segment: our missing count is exactly the curator's
            row = report.series.filter((pl.col("area") == area) & (pl.col("quantity") == quantity))
            assert row["gap_periods"][0] == segs[0]["missing_in_span"], column
        assert report.series.filter(pl.col("area") == area)["resolution_min"].unique().to_list() == [
            cov["resolution_min"]
        ]


# (format, file rows, {(area, quantity): (rows, missing, first, last)}), checked by hand with
# zcat | awk on the raw files (e.g. AT 2022: 1 234 "-"/empty actual cells, 1 of them the spring hour).
RAW_FACTS = {
    "transparency_export_AT_2022_60min.csv.gz": (
        "transparency",
        8761,
        {
            ("AT", "load_actual"): (8760, 1233, "2021-12-31T23:00Z", "2022-12-31T22:00Z"),
            ("AT", "load_forecast"): (8760, 1176, "2021-12-31T23:00Z", "2022-12-31T22:00Z"),
        },
    ),
    "transparency_export_NL_2022_15min.csv.gz": (
        "transparency",
        35044,
        {
            ("NL", "load_actual"): (35040, 0, "2021-12-31T23:00Z", "2022-12-31T22:45Z"),
            ("NL", "load_forecast"): (35040, 0, "2021-12-31T23:00Z", "2022-12-31T22:45Z"),
        },
    ),
    "opsd_singleindex_subset_AT_2015_2020_60min.csv.gz": (
        "opsd",
        50401,
        {
            ("AT", "load_actual"): (50400, 0, "2015-01-01T00:00Z", "2020-09-30T23:00Z"),
            ("AT", "load_forecast"): (50400, 0, "2015-01-01T00:00Z", "2020-09-30T23:00Z"),
            ("AT", "solar_generation_actual"): (
                50387,
                48,
                "2015-01-01T07:00Z",
                "2020-09-30T17:00Z",
            ),
            ("AT", "wind_onshore_generation_actual"): (
                50400,
                48,
                "2015-01-01T00:00Z",
                "2020-09-30T23:00Z",
            ),
        },
    ),
    "entsoepy_query_load_AT_2019_2020_15min.csv.gz": (
        "entsoepy",
        23128,
        {("AT", "load_actual"): (23128, 0, "2018-12-31T23:00Z", "2020-04-30T21:45Z")},
    ),
}


@pytest.mark.parametrize("name", sorted(RAW_FACTS))
def test_raw_files(name: str) -> None:
    fmt, rows, facts = RAW_FACTS[name]
    report = data.inspect(RAW / name)
    assert (report.format, report.rows) == (fmt, rows)
    got = {
        (r["area"], r["quantity"]): (r["rows"], r["missing"], r["first"], r["last"])
        for r in report.series.iter_rows(named=True)
    }
    want = {k: (n, m, _utc(a), _utc(b)) for k, (n, m, a, b) in facts.items()}
    assert got == want


def test_transparency_dst_rows_hourly() -> None:
    report = data.inspect(RAW / "transparency_export_AT_2022_60min.csv.gz")
    assert report.dst_dropped_lines == [2044]  # 27.03.2022 02:00 - 03:00, listed empty
    assert report.dst_repeated_lines == [7252, 7253]  # 30.10.2022 02:00 - 03:00, twice
    f = data.read(RAW / "transparency_export_AT_2022_60min.csv.gz").filter(
        pl.col("quantity") == "load_actual"
    )
    # Spring: 01:00 CET (00:00Z) is followed directly by 03:00 CEST (01:00Z): no gap in UTC.
    spring = f.filter(
        pl.col("utc_timestamp").is_between(_utc("2022-03-27T00:00Z"), _utc("2022-03-27T01:00Z"))
    )
    assert spring["value_mw"].to_list() == [5252.0, 5180.0]
    # Autumn: the first 02:00 row is summer time (00:00Z), the second winter time (01:00Z).
    autumn = f.filter(
        pl.col("utc_timestamp").is_between(_utc("2022-10-29T23:00Z"), _utc("2022-10-30T02:00Z"))
    )
    assert autumn["value_mw"].to_list() == [4774.0, 4092.0, 4747.0, 4691.0]


def test_transparency_dst_rows_quarter_hourly() -> None:
    report = data.inspect(RAW / "transparency_export_NL_2022_15min.csv.gz")
    assert report.dst_dropped_lines == [8170, 8171, 8172, 8173]
    assert report.dst_repeated_lines == list(range(29002, 29010))
    f = data.read(RAW / "transparency_export_NL_2022_15min.csv.gz").filter(
        pl.col("quantity") == "load_actual"
    )
    autumn = f.filter(
        pl.col("utc_timestamp").is_between(_utc("2022-10-30T00:00Z"), _utc("2022-10-30T01:45Z"))
    )
    assert autumn["value_mw"].to_list() == [9379, 9329, 9278, 9225, 9208, 9164, 9115, 9048]
    ts = f["utc_timestamp"].dt.epoch("s").to_numpy()
    assert set(np.diff(ts).tolist()) == {900}  # a gap-free quarter-hour grid in UTC


def test_entsoepy_pandas_object_equals_its_csv_dump() -> None:
    pd = pytest.importorskip("pandas")
    path = RAW / "entsoepy_query_load_AT_2019_2020_15min.csv.gz"
    with gzip.open(path, "rt") as fh:
        series = pd.read_csv(fh, header=None, index_col=0).iloc[:, 0]
    series.index = pd.to_datetime(series.index, utc=True).tz_convert("Europe/Vienna")
    from_obj = data.from_pandas(series, area="AT")
    assert from_obj.equals(data.read(path))
    frame = pd.DataFrame({"Actual Load": series.to_numpy()}, index=series.index)
    assert data.from_pandas(frame, area="AT").equals(from_obj)


def test_multi_member_gzip_reads_whole(tmp_path: Path) -> None:
    """libdeflate takes single-member files; a concatenation of members falls back to the gzip module."""
    text = (ENTSOE / "at_load_2019_60min.csv").read_bytes()
    lines = text.splitlines(keepends=True)
    p = tmp_path / "at_load_2019_60min.csv.gz"
    p.write_bytes(gzip.compress(b"".join(lines[:4000])) + gzip.compress(b"".join(lines[4000:])))
    assert data.read(p).equals(data.read(ENTSOE / "at_load_2019_60min.csv"))
    (tmp_path / "bad.csv.gz").write_bytes(gzip.compress(text)[:-100])
    with pytest.raises(BadDataError, match=r"bad\.csv\.gz:1: cannot read"):
        data.read(tmp_path / "bad.csv.gz")


def test_samples() -> None:
    load, solar = data.sample_load(), data.sample_solar()
    assert load.height == solar.height == 8760
    assert solar["quantity"].unique().to_list() == ["solar_generation_actual"]
    assert solar["value_mw"].null_count() == 0 and solar["value_mw"].min() == 0
    peak = solar["value_mw"].max()
    assert isinstance(peak, float) and 900 < peak < 1100  # Austria's PV peak in 2019, MW
    night = solar.filter(pl.col("utc_timestamp").dt.hour() == 0)["value_mw"]
    assert night.max() == 0
