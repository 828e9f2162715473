"""The data layer's work done with pandas: the baseline of test_bench_data.py.

Same inputs, same outputs as ``gridledger.data.read`` followed by
``gridledger.data.resample(frame, "15m")``: a long frame (utc_timestamp, area,
quantity, value_mw) on a regular 15-minute grid, step rule for upsampling.
Written the way a pandas user would: vectorised, no Python loop over rows.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from gridledger.data import detect_format

MISSING = ["-", "n/e", "N/E", "N/A", "n/a", ""]
TP_QUANTITY = {"Actual Total Load": "load_actual", "Day-ahead Total Load Forecast": "load_forecast"}
OPSD = re.compile(
    r"^(?P<area>[A-Z]{2}(?:_[A-Za-z0-9]+)?)_(?P<q>load_actual|load_forecast)_entsoe_transparency$"
    r"|^(?P<garea>[A-Z]{2}(?:_[A-Za-z0-9]+)?)_(?P<g>(?:solar|wind|wind_onshore|wind_offshore)_generation_actual)$"
)
SIMPLE = {"load_mw": "load_actual", "solar_mw": "solar_generation_actual"}


def _tp_key(column: str) -> tuple[str, str]:
    what, label = column.split(" [MW] - ")
    code = label.split("|")[1] if "|" in label else label.rsplit("(", 1)[1].rstrip(")")
    return code.replace("-", "_"), TP_QUANTITY[what]


def _series_from_wide(
    wide: pd.DataFrame, keys: dict[str, tuple[str, str]], trim: bool
) -> list[tuple[str, str, pd.Series]]:
    out = []
    for column, (area, quantity) in keys.items():
        s = wide[column]
        if trim:
            first, last = s.first_valid_index(), s.last_valid_index()
            if first is None:
                continue
            s = s.loc[first:last]
        out.append((area, quantity, s))
    return out


def read_series(path: Path) -> list[tuple[str, str, pd.Series]]:
    fmt = detect_format(path)
    if fmt == "transparency":
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        tcol = df.columns[0]
        local = pd.to_datetime(df[tcol].str.split(" - ").str[0], format="%d.%m.%Y %H:%M")
        first_seen = (~local.duplicated(keep="first")).to_numpy()
        zone = {"Time (CET/CEST)": "Europe/Brussels", "Time (CET)": "Etc/GMT-1", "Time (UTC)": "UTC"}[tcol]
        utc = local.dt.tz_localize(zone, ambiguous=first_seen, nonexistent="NaT").dt.tz_convert("UTC")
        values = df.iloc[:, 1:].replace(MISSING, np.nan).astype(float)
        keep = utc.notna().to_numpy()
        wide = values[keep].set_index(pd.DatetimeIndex(utc[keep]))
        return _series_from_wide(wide, {c: _tp_key(c) for c in wide.columns}, trim=False)
    if fmt == "opsd":
        wide = pd.read_csv(path, index_col="utc_timestamp")
        wide.index = pd.to_datetime(wide.index, utc=True)
        keys: dict[str, tuple[str, str]] = {}
        for c in wide.columns:
            if c in SIMPLE:
                keys[c] = (path.name[:2].upper(), SIMPLE[c])
            elif m := OPSD.match(c):
                keys[c] = (m["area"], m["q"]) if m["area"] else (m["garea"], m["g"])
        return _series_from_wide(wide[list(keys)].astype(float), keys, trim=True)
    raw = pd.read_csv(path, header=None, names=["ts", "v"])
    idx = pd.to_datetime(raw["ts"], utc=True)
    area = re.search(r"load_([A-Z]{2})", path.name)
    return [(area[1] if area else "??", "load_actual", pd.Series(raw["v"].to_numpy(float), index=idx))]


def to_quarter_hours(s: pd.Series) -> pd.Series:
    step = s.index.to_series().diff().mode().iloc[0]
    regular = s.asfreq(step)
    k = int(step / pd.Timedelta(minutes=15))
    if k == 1:
        return regular
    fine = pd.date_range(regular.index[0], regular.index[-1] + step - pd.Timedelta(minutes=15), freq="15min")
    return regular.reindex(fine).ffill(limit=k - 1)


def read_and_resample(path: Path) -> pd.DataFrame:
    parts = []
    for area, quantity, s in read_series(path):
        q = to_quarter_hours(s)
        parts.append(
            pd.DataFrame(
                {"utc_timestamp": q.index, "area": area, "quantity": quantity, "value_mw": q.to_numpy()}
            )
        )
    return pd.concat(parts, ignore_index=True)
