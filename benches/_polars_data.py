"""The data layer's reading done with polars: the second baseline of test_bench_data.py.

``read(path)`` gives the frame ``gridledger.data.read(path)`` gives (the long
layout: utc_timestamp, area, quantity, value_mw; the same rows, values and
order), built the way a polars user would: ``polars.read_csv`` on the file as
it is (polars inflates the gzip itself), then expressions for the time zone,
the DST rule, wide to long and the trimming of each series. No Python loop
over rows; one over the series (at most 27 a file) to label and trim them
(``unpivot`` with the trimming as a window expression measured 2-3x slower).

``read_csv_only(path)`` is that ``polars.read_csv`` call alone: values parsed
to Float64 with the files' missing markers, the time column left as text. It
is a lower bound on any polars reader of these files, and the part our
hand-written CSV body parser does.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
from _pandas_data import MISSING, OPSD, SIMPLE, _tp_key
from gridledger.data import detect_format

ZONES = {"Time (CET/CEST)": "Europe/Brussels", "Time (CET)": "Etc/GMT-1", "Time (UTC)": "UTC"}


def _header(path: Path) -> list[str]:
    return pl.read_csv(path, n_rows=0).columns


def read_csv_only(path: Path) -> pl.DataFrame:
    fmt = detect_format(path)
    if fmt == "entsoepy":
        return pl.read_csv(
            path, has_header=False, new_columns=["ts", "v"], schema_overrides={"v": pl.Float64}
        )
    header = _header(path)
    keep = [c for c in header if c != "cet_cest_timestamp"]
    schema = {c: pl.Float64 for c in keep[1:]}
    missing = MISSING if fmt == "transparency" else None
    return pl.read_csv(path, columns=keep, schema_overrides=schema, null_values=missing)


def _long(wide: pl.DataFrame, keys: dict[str, tuple[str, str]], trim: bool) -> pl.DataFrame:
    """Wide value columns to the long layout: series by area and quantity, each in time order."""
    parts = []
    for column, (area, quantity) in sorted(keys.items(), key=lambda kv: kv[1]):
        s = wide.select("utc_timestamp", pl.col(column).alias("value_mw"))
        if trim:  # an OPSD series runs from its first to its last value
            valid = s["value_mw"].is_not_null().arg_true()
            if valid.len() == 0:
                continue
            s = s.slice(valid[0], valid[-1] - valid[0] + 1)
        parts.append(s.with_columns(area=pl.lit(area), quantity=pl.lit(quantity)))
    return pl.concat(parts).select(
        "utc_timestamp", pl.col("area", "quantity").cast(pl.Categorical), "value_mw"
    )


def read(path: Path) -> pl.DataFrame:
    fmt = detect_format(path)
    wide = read_csv_only(path)
    if fmt == "transparency":
        tcol = wide.columns[0]
        local = pl.col(tcol).str.slice(0, 16).str.to_datetime("%d.%m.%Y %H:%M", time_unit="us")
        # A repeated local hour is summer time the first time it appears, winter time the second.
        ambiguous = pl.when(local.is_first_distinct()).then(pl.lit("earliest")).otherwise(pl.lit("latest"))
        utc = local.dt.replace_time_zone(ZONES[tcol], ambiguous=ambiguous, non_existent="null")
        wide = wide.with_columns(utc.dt.convert_time_zone("UTC").alias("utc_timestamp")).drop(tcol)
        wide = wide.filter(pl.col("utc_timestamp").is_not_null())
        return _long(wide, {c: _tp_key(c) for c in wide.columns if c != "utc_timestamp"}, trim=False)
    if fmt == "opsd":
        wide = wide.with_columns(
            pl.col("utc_timestamp").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_unit="us", time_zone="UTC")
        )
        keys: dict[str, tuple[str, str]] = {}
        for c in wide.columns:
            if c in SIMPLE:
                keys[c] = (path.name[:2].upper(), SIMPLE[c])
            elif m := OPSD.match(c):
                keys[c] = (m["area"], m["q"]) if m["area"] else (m["garea"], m["g"])
        return _long(wide, keys, trim=True)
    area = re.search(r"load_([A-Z]{2})", path.name)
    wide = wide.select(
        pl.col("ts")
        .str.to_datetime("%Y-%m-%d %H:%M:%S%:z", time_unit="us")
        .dt.convert_time_zone("UTC")
        .alias("utc_timestamp"),
        pl.col("v"),
    )
    return _long(wide, {"v": (area[1] if area else "??", "load_actual")}, trim=False)
