"""The data layer's reading done with polars: the second baseline of test_bench_data.py.

``read(path)`` gives the frame ``gridledger.data.read(path)`` gives (the long
layout: utc_timestamp, area, quantity, value_mw; the same rows, values and
order), built the way a polars user would: ``polars.read_csv`` on the file as
it is (polars inflates the gzip itself), then expressions for the time zone,
the DST rule, missing markers, wide to long and the trimming of each series.
No Python loop over rows; one over the value columns to name them.

``read_csv_only(path)`` is ``polars.read_csv`` alone, with the dtypes and
missing markers the file needs: a lower bound on any polars reader of these
files, the part our hand-written CSV body parser replaces.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
from _pandas_data import MISSING, OPSD, SIMPLE, _tp_key
from gridledger.data import detect_format

ZONES = {"Time (CET/CEST)": "Europe/Brussels", "Time (CET)": "Etc/GMT-1", "Time (UTC)": "UTC"}
LAYOUT = {
    "utc_timestamp": pl.Datetime("us", "UTC"),
    "area": pl.Categorical,
    "quantity": pl.Categorical,
    "value_mw": pl.Float64,
}


def read_csv_only(path: Path) -> pl.DataFrame:
    fmt = detect_format(path)
    if fmt == "transparency":
        return pl.read_csv(path, infer_schema=False, null_values=MISSING)
    if fmt == "opsd":
        return pl.read_csv(path, infer_schema_length=0, schema_overrides={"utc_timestamp": pl.String})
    return pl.read_csv(path, has_header=False, new_columns=["ts", "v"], schema_overrides={"v": pl.Float64})


def _long(wide: pl.DataFrame, keys: dict[str, tuple[str, str]], trim: bool) -> pl.DataFrame:
    """Wide value columns to the long layout, series by area and quantity, each in time order."""
    parts = []
    for column, (area, quantity) in sorted(keys.items(), key=lambda kv: kv[1]):
        s = wide.select("utc_timestamp", pl.col(column).cast(pl.Float64).alias("value_mw"))
        if trim:
            valid = s["value_mw"].is_not_null()
            if not valid.any():
                continue
            idx = valid.arg_true()
            s = s.slice(idx[0], idx[-1] - idx[0] + 1)
        parts.append(s.with_columns(pl.lit(area).alias("area"), pl.lit(quantity).alias("quantity")))
    if not parts:
        return pl.DataFrame(schema=LAYOUT)
    return pl.concat(parts).select(
        pl.col("utc_timestamp"),
        pl.col("area").cast(pl.Categorical),
        pl.col("quantity").cast(pl.Categorical),
        pl.col("value_mw"),
    )


def read(path: Path) -> pl.DataFrame:
    fmt = detect_format(path)
    if fmt == "transparency":
        df = pl.read_csv(path, infer_schema=False, null_values=MISSING)
        tcol = df.columns[0]
        local = pl.col(tcol).str.split(" - ").list.first().str.strptime(pl.Datetime("us"), "%d.%m.%Y %H:%M")
        # A repeated local hour is summer time the first time it appears, winter time the second.
        ambiguous = pl.when(local.is_first_distinct()).then(pl.lit("earliest")).otherwise(pl.lit("latest"))
        utc = local.dt.replace_time_zone(ZONES[tcol], ambiguous=ambiguous, non_existent="null")
        wide = df.with_columns(utc.dt.convert_time_zone("UTC").alias("utc_timestamp")).filter(
            pl.col("utc_timestamp").is_not_null()
        )
        return _long(wide, {c: _tp_key(c) for c in df.columns[1:]}, trim=False)
    if fmt == "opsd":
        wide = pl.read_csv(path, infer_schema_length=10_000).with_columns(
            pl.col("utc_timestamp").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_unit="us", time_zone="UTC")
        )
        keys: dict[str, tuple[str, str]] = {}
        for c in wide.columns:
            if c in SIMPLE:
                keys[c] = (path.name[:2].upper(), SIMPLE[c])
            elif m := OPSD.match(c):
                keys[c] = (m["area"], m["q"]) if m["area"] else (m["garea"], m["g"])
        return _long(wide, keys, trim=True)
    raw = pl.read_csv(path, has_header=False, new_columns=["ts", "v"], schema_overrides={"v": pl.Float64})
    area = re.search(r"load_([A-Z]{2})", path.name)
    wide = raw.select(
        pl.col("ts")
        .str.to_datetime("%Y-%m-%d %H:%M:%S%:z", time_unit="us")
        .dt.convert_time_zone("UTC")
        .alias("utc_timestamp"),
        pl.col("v"),
    )
    return _long(wide, {"v": (area[1] if area else "??", "load_actual")}, trim=False)
