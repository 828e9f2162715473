"""Readers for the real ENTSO-E formats, all returning the long layout.

Long layout (one row per series and interval), sorted by area, quantity, time:

=============== ======================= ==========================================
column          dtype                   meaning
=============== ======================= ==========================================
utc_timestamp   Datetime("us", "UTC")   start of the interval
area            String                  ``AT``, ``DE_LU``, ``DE_50hertz``, ...
quantity        String                  ``load_actual``, ``load_forecast``,
                                        ``solar_generation_actual``, ...
value_mw        Float64                 mean power over the interval, MW;
                                        null = missing in the source
=============== ======================= ==========================================

Each series keeps the cells the file has between its first and last value;
cells the file marks missing (empty, ``-``, ``n/e``, ``N/A``) stay as nulls,
timestamps the file lacks are gaps (see :func:`gap_report`).
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

import polars as pl

from gridledger.errors import BadDataError

__all__ = [
    "LONG_SCHEMA",
    "detect_format",
    "from_pandas",
    "read",
    "read_entsoepy_csv",
    "read_opsd",
    "read_transparency",
]

LONG_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "utc_timestamp": pl.Datetime("us", "UTC"),
    "area": pl.String,
    "quantity": pl.String,
    "value_mw": pl.Float64,
}
MISSING_TOKENS = ["", "-", "n/e", "N/E", "N/A", "n/a"]

_TP_QUANTITIES = {
    "Actual Total Load": "load_actual",
    "Day-ahead Total Load Forecast": "load_forecast",
}
_TP_TIME_ZONES = {
    "Time (CET/CEST)": "Europe/Brussels",
    "Time (CET)": "Etc/GMT-1",
    "Time (UTC)": "UTC",
}
_OPSD_QUANTITY = re.compile(
    r"^(?P<area>[A-Z]{2}(?:_[A-Za-z0-9]+)?)_(?P<q>load_actual|load_forecast)_entsoe_transparency$"
    r"|^(?P<garea>[A-Z]{2}(?:_[A-Za-z0-9]+)?)_(?P<g>(?:solar|wind|wind_onshore|wind_offshore)_generation_actual)$"
)
# OPSD columns that are not power in MW: skipped, by design.
_OPSD_SKIPPED = re.compile(r"^(cet_cest_timestamp|.+_(price_day_ahead|capacity|profile|share))$")
# gridledger's own two-column files (the bundled samples).
_SIMPLE_COLUMNS = {"load_mw": "load_actual", "solar_mw": "solar_generation_actual"}
_ENTSOEPY_LINE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?(\.\d+)?([+-]\d{2}:?\d{2}|Z),")


def _first_line(path: Path) -> str:
    try:
        opener: Any = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
            return str(fh.readline()).rstrip("\r\n")
    except FileNotFoundError:
        raise BadDataError(f"{path}: no such file", "path", str(path)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise BadDataError(f"{path}:1: cannot read ({e})", "path", str(path)) from None


def detect_format(path: str | Path) -> str:
    """Name the format of ``path``: ``"transparency"``, ``"opsd"`` or ``"entsoepy"``.

    Raises :class:`BadDataError` naming the file and line 1 for anything else.
    """
    p = Path(path)
    head = _first_line(p)
    if head.lstrip('"').startswith("Time ("):
        return "transparency"
    if head.split(",", 1)[0] in ("utc_timestamp", "cet_cest_timestamp"):
        return "opsd"
    if _ENTSOEPY_LINE.match(head):
        return "entsoepy"
    raise BadDataError(
        f"{p}:1: unrecognised format (expected an ENTSO-E Transparency Platform export, "
        f"an OPSD time-series CSV or an entsoe-py dump); line 1 starts {head[:60]!r}",
        "line 1",
        head[:60],
    )


def read(path: str | Path, *, area: str | None = None) -> pl.DataFrame:
    """Read any supported file into the long layout, detecting its format.

    Parameters
    ----------
    path
        A CSV file, optionally gzip-compressed (``.gz``).
    area
        Area code for a file whose header and name do not carry it (an
        entsoe-py dump, a two-column ``utc_timestamp,load_mw`` file).
    """
    return read_with_info(path, area=area)[0]


def read_with_info(path: str | Path, *, area: str | None = None) -> tuple[pl.DataFrame, dict[str, Any]]:
    """:func:`read`, plus what the reader saw of the file: ``format``, data ``rows``
    and, for Transparency exports, the DST lines (``dst_dropped_lines``, ``dst_repeated_lines``)."""
    p = Path(path)
    fmt = detect_format(p)
    if fmt == "transparency":
        frame, info = _transparency(p)
    elif fmt == "opsd":
        frame, info = _opsd(p, area)
    else:
        frame, info = _entsoepy(p, area)
    return frame, {"format": fmt, **info}


def _read_strings(path: Path, *, has_header: bool = True, names: list[str] | None = None) -> pl.DataFrame:
    try:
        frame = pl.read_csv(
            path,
            infer_schema=False,
            has_header=has_header,
            new_columns=names,
        )
    except (pl.exceptions.PolarsError, OSError) as e:
        raise BadDataError(f"{path}: cannot parse as CSV ({e})", "path", str(path)) from None
    return frame


def _values(path: Path, frame: pl.DataFrame, column: str, first_line: int) -> pl.Series:
    """Column as Float64 with missing tokens as null; garbage is an error naming the line."""
    raw = frame[column].str.strip_chars()
    missing = raw.is_null() | raw.is_in(MISSING_TOKENS)
    values = raw.cast(pl.Float64, strict=False)
    bad = values.is_null() & ~missing
    if bad.any():
        i = int(bad.arg_max() or 0)
        raise BadDataError(
            f"{path}:{i + first_line}: column {column!r}: {raw[i]!r} is not a number",
            column,
            raw[i],
        )
    values = pl.Series(column, values).set(missing, None)
    negative = values < 0
    if negative.any():
        i = int(negative.arg_max() or 0)
        raise BadDataError(
            f"{path}:{i + first_line}: column {column!r}: negative power {values[i]} MW",
            column,
            values[i],
        )
    return values


def _read_numeric(
    path: Path, *, has_header: bool = True, names: list[str] | None = None
) -> pl.DataFrame | None:
    """The file with its first column (and any ``*_timestamp``) as String, the rest parsed as Float64
    by the CSV reader itself; ``None`` when a cell is not a number (the caller then locates it)."""
    try:
        header = names or pl.read_csv(path, n_rows=0).columns
        text = {c for i, c in enumerate(header) if i == 0 or c.endswith("_timestamp")}
        return pl.read_csv(
            path,
            has_header=has_header,
            new_columns=names,
            schema_overrides={c: pl.String if c in text else pl.Float64 for c in header},
            null_values=MISSING_TOKENS,
        )
    except (pl.exceptions.PolarsError, OSError):
        return None


def _load(path: Path, *, has_header: bool = True, names: list[str] | None = None) -> pl.DataFrame:
    """The file with numbers parsed by the CSV reader, or all strings if some cell is not a number."""
    numeric = _read_numeric(path, has_header=has_header, names=names)
    return numeric if numeric is not None else _read_strings(path, has_header=has_header, names=names)


def _numeric_values(path: Path, frame: pl.DataFrame, columns: list[str], first_line: int) -> pl.DataFrame:
    """The value columns as Float64, or a :class:`BadDataError` naming the first bad cell."""
    if all(frame.schema[c] == pl.Float64 for c in columns):
        values = frame.select(columns)
        for c, m in zip(columns, values.min().row(0), strict=True):
            if m is not None and m < 0:
                i = int((values[c] < 0).arg_max() or 0)
                raise BadDataError(
                    f"{path}:{i + first_line}: column {c!r}: negative power {values[c][i]} MW",
                    c,
                    values[c][i],
                )
        return values
    return _values_all(path, frame, columns, first_line)


def _values_all(path: Path, frame: pl.DataFrame, columns: list[str], first_line: int) -> pl.DataFrame:
    """Every value column as Float64 in one parallel pass; on bad input, :func:`_values` names it."""
    tokens = pl.lit(MISSING_TOKENS)
    exprs = []
    for c in columns:
        raw = pl.col(c).str.strip_chars()
        exprs.append(pl.when(raw.is_in(tokens)).then(None).otherwise(raw).cast(pl.Float64).alias(c))
    try:
        values = frame.select(exprs)
    except pl.exceptions.PolarsError:
        values = None
    if values is None or any(m is not None and m < 0 for m in values.min().row(0)):
        for c in columns:
            _values(path, frame, c, first_line)  # raises for the first bad column
    assert values is not None
    return values


def _check_increasing(path: Path, ts: pl.Series, lines: pl.Series, what: str) -> None:
    dup = ts.is_duplicated()
    if dup.any():
        i = int(dup.arg_max() or 0)
        raise BadDataError(
            f"{path}:{lines[i]}: duplicated timestamp {ts[i]} ({what})", "utc_timestamp", str(ts[i])
        )
    steps = ts.diff()
    back = steps.dt.total_microseconds() <= 0
    if back.any():
        i = int(back.arg_max() or 0)
        raise BadDataError(
            f"{path}:{lines[i]}: timestamp {ts[i]} does not increase on {ts[i - 1]} ({what})",
            "utc_timestamp",
            str(ts[i]),
        )


def _to_long(wide: pl.DataFrame, series: dict[str, tuple[str, str]], *, trim: bool = True) -> pl.DataFrame:
    """Wide (utc_timestamp + value columns) to long.

    With ``trim`` (multi-area wide files, where an empty cell outside a
    column's coverage is no measurement at all), each series is cut to its
    first..last value; without it (single-source exports, which list every
    interval of the period they cover), every listed cell is kept.
    """
    parts = []
    for column, (area, quantity) in sorted(series.items(), key=lambda kv: kv[1]):
        s = wide.select(
            "utc_timestamp",
            pl.lit(area).alias("area"),
            pl.lit(quantity).alias("quantity"),
            pl.col(column).alias("value_mw"),
        )
        present = s["value_mw"].is_not_null()
        if not trim:
            parts.append(s)
            continue
        if not present.any():
            continue
        first = int(present.arg_max() or 0)
        last = len(present) - 1 - int(present.reverse().arg_max() or 0)
        parts.append(s.slice(first, last - first + 1))
    if not parts:
        return pl.DataFrame(schema=LONG_SCHEMA)
    # Columns were taken in (area, quantity) order and time increases: already sorted.
    return pl.concat(parts)


def _tp_series(path: Path, column: str) -> tuple[str, str]:
    m = re.match(r"^(?P<what>.+?) \[MW\] - (?P<area>.+)$", column)
    if not m or m["what"] not in _TP_QUANTITIES:
        raise BadDataError(f"{path}:1: unknown column {column!r}", "column", column)
    return _tp_area(path, m["area"], column), _TP_QUANTITIES[m["what"]]


def _tp_area(path: Path, label: str, column: str) -> str:
    m = re.match(r"^(?:BZN|CTA|CTY|MBA|SCA)\|(?P<code>[A-Za-z0-9-]+)$", label) or re.match(
        r"^.+ \((?P<code>[A-Z]{2}(?:[-_][A-Z]{2})?)\)$", label
    )
    if not m:
        raise BadDataError(f"{path}:1: unknown area {label!r} in column {column!r}", "area", label)
    return m["code"].replace("-", "_")


def read_transparency(path: str | Path) -> pl.DataFrame:
    """Read an ENTSO-E Transparency Platform "Total Load - Day Ahead / Actual" export.

    The time column is ``Time (CET/CEST)``, ``Time (CET)`` or ``Time (UTC)``
    with intervals ``"dd.mm.yyyy HH:MM - dd.mm.yyyy HH:MM"``. In CET/CEST files
    the autumn hour is listed twice, summer time first, and the non-existent
    spring hour is listed with empty values: it is dropped (a value there is
    an error). ``-``, ``n/e``, ``N/A`` and empty cells are missing. The area
    comes from each column header (``BZN|AT`` → ``AT``, ``BZN|DE-LU`` →
    ``DE_LU``, ``Netherlands (NL)`` → ``NL``).
    """
    return _transparency(Path(path))[0]


def _transparency(p: Path) -> tuple[pl.DataFrame, dict[str, Any]]:
    frame = _load(p)
    time_col = frame.columns[0]
    if time_col not in _TP_TIME_ZONES:
        raise BadDataError(f"{p}:1: unknown time column {time_col!r}", "column", time_col)
    series = {c: _tp_series(p, c) for c in frame.columns[1:]}
    start = frame[time_col].str.split(" - ").list.first()
    local = start.str.to_datetime("%d.%m.%Y %H:%M", time_unit="us", strict=False)
    if local.null_count():
        i = int(local.is_null().arg_max() or 0)
        raise BadDataError(f"{p}:{i + 2}: bad interval {frame[time_col][i]!r}", time_col, frame[time_col][i])
    tz = _TP_TIME_ZONES[time_col]
    ambiguous = (
        pl.when(pl.col("local").is_first_distinct()).then(pl.lit("earliest")).otherwise(pl.lit("latest"))
    )
    utc = (
        pl.DataFrame({"local": local})
        .select(
            pl.col("local")
            .dt.replace_time_zone(tz, ambiguous=ambiguous, non_existent="null")
            .dt.convert_time_zone("UTC")
        )
        .to_series()
    )
    values = _numeric_values(p, frame, list(series), 2)
    wide = pl.DataFrame({"utc_timestamp": utc, "line": pl.int_range(2, frame.height + 2, eager=True)}).hstack(
        values
    )
    gone = wide.filter(pl.col("utc_timestamp").is_null())
    for c in series:
        if gone[c].is_not_null().any():
            i = int(gone[c].is_not_null().arg_max() or 0)
            raise BadDataError(
                f"{p}:{gone['line'][i]}: column {c!r} has a value in a non-existent local hour",
                c,
                gone[c][i],
            )
    wide = wide.filter(pl.col("utc_timestamp").is_not_null())
    _check_increasing(p, wide["utc_timestamp"], wide["line"], "beyond the DST rule")
    repeated = local.is_duplicated()
    info = {
        "rows": frame.height,
        "dst_dropped_lines": gone["line"].to_list(),
        "dst_repeated_lines": pl.int_range(2, frame.height + 2, eager=True).filter(repeated).to_list(),
    }
    return _to_long(wide.drop("line"), series, trim=False), info


def read_opsd(path: str | Path, *, area: str | None = None) -> pl.DataFrame:
    """Read an OPSD time-series CSV (single index), such as ``time_series_60min_singleindex.csv``.

    Power columns ``<AREA>_load_actual_entsoe_transparency``,
    ``<AREA>_load_forecast_entsoe_transparency`` and
    ``<AREA>_{solar,wind,wind_onshore,wind_offshore}_generation_actual`` are
    read; price, capacity, profile and share columns are skipped (they are not
    MW); any other column is an error. Files with only ``cet_cest_timestamp``
    are mapped to UTC through their offsets. gridledger's own two-column
    files (``utc_timestamp,load_mw``, like the bundled sample) read as
    ``load_actual`` of ``area`` or of the area in the file name
    (``at_load_2019_60min.csv`` → ``AT``).
    """
    return _opsd(Path(path), area)[0]


def _opsd(p: Path, area: str | None) -> tuple[pl.DataFrame, dict[str, Any]]:
    frame = _load(p)
    if "utc_timestamp" in frame.columns:
        utc = frame["utc_timestamp"].str.to_datetime(
            "%Y-%m-%dT%H:%M:%SZ", time_unit="us", time_zone="UTC", strict=False
        )
        tcol = "utc_timestamp"
    else:
        utc = (
            frame["cet_cest_timestamp"]
            .str.to_datetime("%Y-%m-%dT%H:%M:%S%z", time_unit="us", strict=False)
            .dt.convert_time_zone("UTC")
        )
        tcol = "cet_cest_timestamp"
    if utc.null_count():
        i = int(utc.is_null().arg_max() or 0)
        raise BadDataError(f"{p}:{i + 2}: bad timestamp {frame[tcol][i]!r}", tcol, frame[tcol][i])
    series: dict[str, tuple[str, str]] = {}
    for c in frame.columns:
        if c == "utc_timestamp" or _OPSD_SKIPPED.match(c):
            continue
        if c in _SIMPLE_COLUMNS:
            code = area or _area_from_name(p)
            if code is None:
                raise BadDataError(f"{p}:1: unknown area for column {c!r}; pass area=...", "area", None)
            series[c] = (code, _SIMPLE_COLUMNS[c])
            continue
        m = _OPSD_QUANTITY.match(c)
        if not m:
            raise BadDataError(f"{p}:1: unknown column {c!r}", "column", c)
        series[c] = (m["area"], m["q"]) if m["area"] else (m["garea"], m["g"])
    values = _numeric_values(p, frame, list(series), 2)
    lines = pl.int_range(2, frame.height + 2, eager=True)
    _check_increasing(p, utc.alias("utc_timestamp"), lines, "timestamps must strictly increase")
    wide = pl.DataFrame({"utc_timestamp": utc.alias("utc_timestamp")}).hstack(values)
    return _to_long(wide, series), {"rows": frame.height}


def _area_from_name(path: Path) -> str | None:
    """``load_AT.csv``, ``query_load_DE-LU_...`` or ``at_load_2019...`` → the area code."""
    m = re.search(r"(?:^|_)load_(?P<code>[A-Z]{2}(?:[-_][A-Z]{2})?)(?:[_.]|$)", path.name) or re.match(
        r"^(?P<code>[a-z]{2}(?:[-_][a-z]{2})?)_(?:load|solar)_", path.name
    )
    return m["code"].replace("-", "_").upper() if m else None


def read_entsoepy_csv(path: str | Path, *, area: str | None = None) -> pl.DataFrame:
    """Read an entsoe-py ``query_load`` result saved by pandas: ``<tz-aware timestamp>,<MW>``, no header.

    The area comes from ``area`` or from the file name (``load_AT.csv``,
    ``..._query_load_AT_...``); the quantity is ``load_actual``.
    """
    return _entsoepy(Path(path), area)[0]


def _entsoepy(p: Path, area: str | None) -> tuple[pl.DataFrame, dict[str, Any]]:
    code = area or _area_from_name(p)
    if code is None:
        raise BadDataError(f"{p}: unknown area: the file name carries none; pass area=...", "area", None)
    frame = _load(p, has_header=False, names=["timestamp", "value"])
    if frame.width != 2:
        raise BadDataError(f"{p}:1: expected 2 columns, found {frame.width}", "line 1", frame.width)
    utc = (
        frame["timestamp"]
        .str.replace(r"T", " ")
        .str.to_datetime("%Y-%m-%d %H:%M:%S%:z", time_unit="us", strict=False)
        .dt.convert_time_zone("UTC")
    )
    if utc.null_count():
        i = int(utc.is_null().arg_max() or 0)
        raise BadDataError(
            f"{p}:{i + 1}: bad timestamp {frame['timestamp'][i]!r}",
            "timestamp",
            frame["timestamp"][i],
        )
    lines = pl.int_range(1, frame.height + 1, eager=True)
    _check_increasing(p, utc.alias("utc_timestamp"), lines, "timestamps must strictly increase")
    wide = pl.DataFrame(
        {"utc_timestamp": utc.alias("utc_timestamp"), "v": _numeric_values(p, frame, ["value"], 1)["value"]}
    )
    return _to_long(wide, {"v": (code, "load_actual")}, trim=False), {"rows": frame.height}


def from_pandas(obj: Any, *, area: str) -> pl.DataFrame:
    """Convert what entsoe-py's ``query_load`` returns (a pandas Series or DataFrame) to the long layout.

    The index must be tz-aware; a DataFrame's ``Actual Load`` and
    ``Forecasted Load`` columns become ``load_actual`` and ``load_forecast``
    (a Series is ``load_actual``). pandas is imported only by the caller.
    """
    import numpy as np

    index = getattr(obj, "index", None)
    if index is None or getattr(index, "tz", None) is None:
        raise BadDataError(
            "a pandas object with a tz-aware DatetimeIndex is required",
            "index",
            type(index).__name__,
        )
    utc = index.tz_convert("UTC")
    utc_ns = np.asarray((utc.as_unit("ns") if hasattr(utc, "as_unit") else utc).asi8, dtype=np.int64)
    ts = pl.Series("utc_timestamp", utc_ns // 1000).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    if hasattr(obj, "columns"):
        names = {"Actual Load": "load_actual", "Forecasted Load": "load_forecast"}
        unknown = [c for c in obj.columns if c not in names]
        if unknown:
            raise BadDataError(f"unknown column {unknown[0]!r}", "column", unknown[0])
        columns = {names[c]: np.asarray(obj[c], dtype=np.float64) for c in obj.columns}
    else:
        columns = {"load_actual": np.asarray(obj, dtype=np.float64)}
    lines = pl.int_range(1, len(ts) + 1, eager=True)
    _check_increasing(Path("<pandas>"), ts, lines, "index must strictly increase")
    wide = pl.DataFrame(
        {"utc_timestamp": ts, **{q: pl.Series(q, v).fill_nan(None) for q, v in columns.items()}}
    )
    _numeric_values(Path("<pandas>"), wide, list(columns), 1)  # raises on negative power
    return _to_long(wide, {q: (area, q) for q in columns}, trim=False)
