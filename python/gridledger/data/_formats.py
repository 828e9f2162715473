"""Readers for the real ENTSO-E formats, all returning the long layout (see ``_long.py``).

Each series keeps the cells the file has between its first and last value;
cells the file marks missing (empty, ``-``, ``n/e``, ``N/A``) stay as nulls,
timestamps the file lacks are gaps (see :func:`gap_report`). The header is
read here; the body is parsed in one parallel pass by the Rust core
(``gridledger._core.parse_table``), which names the line and column of any
bad cell.
"""

from __future__ import annotations

import csv
import gzip
import re
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gridledger import _core
from gridledger.data._long import LONG_SCHEMA, Key, empty, from_wide
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
# Format detection reads line 1 only, and at most this many characters of it, so a gzip
# file whose first "line" inflates without end costs no more (docs/data.md, "Limits").
_MAX_HEADER_CHARS = 1 << 20


def _bytes(path: Path) -> bytes:
    """Return the file's bytes, gunzipped when it is gzip (by its magic number), without a UTF-8 BOM."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            # Every member, memory bounded by the content (docs/data.md, "Limits").
            raw = _core.gunzip(raw, source=str(path))
    except FileNotFoundError:
        raise BadDataError(f"{path}: no such file", "path", str(path)) from None
    except OSError as e:
        raise BadDataError(f"{path}:1: cannot read ({e})", "path", str(path)) from None
    return raw.removeprefix(b"\xef\xbb\xbf")


def _split_first_line(path: Path, raw: bytes) -> tuple[str, int]:
    """(line 1 as text, where the body starts)."""
    end = raw.find(b"\n")
    end = len(raw) if end < 0 else end
    if b"\r" in raw[:end].rstrip(b"\r"):  # CR-only line endings: the whole file is "line 1"
        raise BadDataError(
            f"{path}:1: lines end in a bare CR (\\r); only LF or CRLF line endings are read",
            "line endings",
            "CR",
        )
    try:
        return raw[:end].decode("utf-8").rstrip("\r"), end + 1
    except UnicodeDecodeError as e:
        raise BadDataError(f"{path}:1: cannot read ({e})", "path", str(path)) from None


def _first_line(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            magic = fh.read(2)
        opener: Any = gzip.open if magic == b"\x1f\x8b" else open
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
            return str(fh.readline(_MAX_HEADER_CHARS)).rstrip("\r\n")
    except FileNotFoundError:
        raise BadDataError(f"{path}: no such file", "path", str(path)) from None
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as e:
        raise BadDataError(f"{path}:1: cannot read ({e})", "path", str(path)) from None


def _detect(path: Path, head: str) -> str:
    if head.lstrip('"').startswith("Time ("):
        return "transparency"
    if head.split(",", 1)[0] in ("utc_timestamp", "cet_cest_timestamp"):
        return "opsd"
    if _ENTSOEPY_LINE.match(head):
        return "entsoepy"
    raise BadDataError(
        f"{path}:1: unrecognised format (expected an ENTSO-E Transparency Platform export, "
        f"an OPSD time-series CSV or an entsoe-py dump); line 1 starts {head[:60]!r}",
        "line 1",
        head[:60],
    )


def detect_format(path: str | Path) -> str:
    """Name the format of ``path``: ``"transparency"``, ``"opsd"`` or ``"entsoepy"``.

    Raises :class:`BadDataError` naming the file and line 1 for anything else.
    """
    p = Path(path)
    return _detect(p, _first_line(p))


def read(path: str | Path, *, area: str | None = None) -> pl.DataFrame:
    """Read any supported file into the long layout, detecting its format.

    Parameters
    ----------
    path
        A CSV file, optionally gzip-compressed.
    area
        Area code for a file whose header and name do not carry it (an
        entsoe-py dump, a two-column ``utc_timestamp,load_mw`` file).
    """
    return read_with_info(path, area=area)[0]


def read_with_info(path: str | Path, *, area: str | None = None) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Read like :func:`read`, plus what the reader saw of the file.

    The report holds ``format``, data ``rows`` and, for Transparency exports,
    the DST lines (``dst_dropped_lines``, ``dst_repeated_lines``).
    """
    p = Path(path)
    raw = _bytes(p)
    head, skip = _split_first_line(p, raw)
    fmt = _detect(p, head)
    if fmt == "transparency":
        frame, info = _transparency(p, raw, head, skip)
    elif fmt == "opsd":
        frame, info = _opsd(p, raw, head, skip, area)
    else:
        frame, info = _entsoepy(p, raw, area)
    return frame, {"format": fmt, **info}


def _header(path: Path, line: str) -> list[str]:
    try:
        names = next(csv.reader([line]))
    except csv.Error as e:
        raise BadDataError(f"{path}:1: cannot read the header ({e})", "header", line[:80]) from None
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise BadDataError(f"{path}:1: column {dup!r} appears twice", "column", dup)
    return names


def _parse(
    path: Path,
    raw: bytes,
    columns: list[str],
    value_columns: list[int],
    *,
    time_format: str,
    first_line: int,
    skip: int = 0,
) -> tuple[NDArray[np.int64], NDArray[np.float64], bool, bool]:
    """Parse ``raw[skip:]`` by the Rust core.

    Returns (time µs, values (value column, row), NaN missing, some value
    negative, time strictly increasing); the two flags spare the checks below
    a pass over the table when there is nothing to report.
    """
    return _core.parse_table(
        raw,
        source=str(path),
        first_line=first_line,
        columns=columns,
        time_column=0,
        time_format=time_format,
        value_columns=value_columns,
        skip=skip,
    )


def _check_non_negative(
    path: Path, values: NDArray[np.float64], names: list[str], lines: NDArray[np.int64]
) -> None:
    """Power is never negative: name the first negative cell of the first column that has one."""
    if values.size == 0:
        return
    with np.errstate(invalid="ignore"):
        negative = values < 0
    columns = np.flatnonzero(negative.any(axis=1))
    if len(columns):
        j = int(columns[0])
        i = int(np.argmax(negative[j]))
        raise BadDataError(
            f"{path}:{lines[i]}: column {names[j]!r}: negative power {values[j, i]} MW",
            names[j],
            float(values[j, i]),
        )


def _check_increasing(path: Path, ts: NDArray[np.int64], lines: NDArray[np.int64], what: str) -> None:
    steps = np.diff(ts)
    bad = np.flatnonzero(steps <= 0)
    if len(bad):
        i = int(bad[0]) + 1
        when = f"{np.datetime64(int(ts[i]), 'us')}Z"
        if steps[i - 1] == 0:
            raise BadDataError(
                f"{path}:{lines[i]}: duplicated timestamp {when} ({what})", "utc_timestamp", when
            )
        before = f"{np.datetime64(int(ts[i - 1]), 'us')}Z"
        raise BadDataError(
            f"{path}:{lines[i]}: timestamp {when} does not increase on {before} ({what})",
            "utc_timestamp",
            when,
        )


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
    p = Path(path)
    raw = _bytes(p)
    return _transparency(p, raw, *_split_first_line(p, raw))[0]


def _transparency(p: Path, raw: bytes, head: str, skip: int) -> tuple[pl.DataFrame, dict[str, Any]]:
    columns = _header(p, head)
    time_col = columns[0]
    if time_col not in _TP_TIME_ZONES:
        raise BadDataError(f"{p}:1: unknown time column {time_col!r}", "column", time_col)
    keys = [_tp_series(p, c) for c in columns[1:]]
    local_us, values, negative, _ = _parse(
        p, raw, columns, list(range(1, len(columns))), time_format="dmy-interval", first_line=2, skip=skip
    )
    if len(local_us) == 0:  # a header alone (polars' replace_time_zone panics on no rows)
        return empty(), {"rows": 0, "dst_dropped_lines": [], "dst_repeated_lines": []}
    lines = np.arange(2, len(local_us) + 2, dtype=np.int64)
    local = pl.Series("local", local_us, dtype=pl.Int64).cast(pl.Datetime("us"))
    ambiguous = (
        pl.when(pl.col("local").is_first_distinct()).then(pl.lit("earliest")).otherwise(pl.lit("latest"))
    )
    utc = (
        pl.DataFrame({"local": local})
        .select(
            pl.col("local")
            .dt.replace_time_zone(_TP_TIME_ZONES[time_col], ambiguous=ambiguous, non_existent="null")
            .dt.convert_time_zone("UTC")
        )
        .to_series()
    )
    gone = utc.is_null().to_numpy()
    if gone.any():
        valued = ~np.isnan(values[:, gone].T)
        if valued.any():
            i, j = (int(x[0]) for x in np.nonzero(valued))
            raise BadDataError(
                f"{p}:{lines[gone][i]}: column {columns[j + 1]!r} has a value in a non-existent local hour",
                columns[j + 1],
                float(values[j, gone][i]),
            )
    keep = ~gone
    ts = utc.dt.epoch("us").fill_null(0).to_numpy().astype(np.int64)
    _check_increasing(p, ts[keep], lines[keep], "beyond the DST rule")
    if negative:
        _check_non_negative(p, values, columns[1:], lines)
    info = {
        "rows": len(local_us),
        "dst_dropped_lines": lines[gone].tolist(),
        "dst_repeated_lines": lines[local.is_duplicated().to_numpy()].tolist(),
    }
    return from_wide(ts, values, keys, trim=False, keep=keep), info


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
    p = Path(path)
    raw = _bytes(p)
    return _opsd(p, raw, *_split_first_line(p, raw), area)[0]


def _opsd(p: Path, raw: bytes, head: str, skip: int, area: str | None) -> tuple[pl.DataFrame, dict[str, Any]]:
    columns = _header(p, head)
    tcol = "utc_timestamp" if "utc_timestamp" in columns else "cet_cest_timestamp"
    if columns[0] != tcol:
        raise BadDataError(f"{p}:1: the first column must be {tcol!r}", "column", columns[0])
    keys: list[Key] = []
    value_columns: list[int] = []
    for i, c in enumerate(columns):
        if i == 0 or _OPSD_SKIPPED.match(c):
            continue
        if c in _SIMPLE_COLUMNS:
            code = area or _area_from_name(p)
            if code is None:
                raise BadDataError(f"{p}:1: unknown area for column {c!r}; pass area=...", "area", None)
            keys.append((code, _SIMPLE_COLUMNS[c]))
        elif m := _OPSD_QUANTITY.match(c):
            keys.append((m["area"], m["q"]) if m["area"] else (m["garea"], m["g"]))
        else:
            raise BadDataError(f"{p}:1: unknown column {c!r}", "column", c)
        value_columns.append(i)
    ts, values, negative, increasing = _parse(
        p, raw, columns, value_columns, time_format="iso-offset", first_line=2, skip=skip
    )
    if negative or not increasing:
        lines = np.arange(2, len(ts) + 2, dtype=np.int64)
        _check_increasing(p, ts, lines, "timestamps must strictly increase")
        _check_non_negative(p, values, [columns[i] for i in value_columns], lines)
    return from_wide(ts, values, keys, trim=True), {"rows": len(ts)}


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
    p = Path(path)
    return _entsoepy(p, _bytes(p), area)[0]


def _entsoepy(p: Path, raw: bytes, area: str | None) -> tuple[pl.DataFrame, dict[str, Any]]:
    code = area or _area_from_name(p)
    if code is None:
        raise BadDataError(f"{p}: unknown area: the file name carries none; pass area=...", "area", None)
    columns = ["timestamp", "value"]
    ts, values, negative, increasing = _parse(p, raw, columns, [1], time_format="iso-offset", first_line=1)
    if negative or not increasing:
        lines = np.arange(1, len(ts) + 1, dtype=np.int64)
        _check_increasing(p, ts, lines, "timestamps must strictly increase")
        _check_non_negative(p, values, columns[1:], lines)
    return from_wide(ts, values, [(code, "load_actual")], trim=False), {"rows": len(ts)}


def from_pandas(obj: Any, *, area: str) -> pl.DataFrame:
    """Convert what entsoe-py's ``query_load`` returns (a pandas Series or DataFrame) to the long layout.

    The index must be tz-aware; a DataFrame's ``Actual Load`` and
    ``Forecasted Load`` columns become ``load_actual`` and ``load_forecast``
    (a Series is ``load_actual``). pandas is imported only by the caller.
    """
    index = getattr(obj, "index", None)
    if index is None or getattr(index, "tz", None) is None:
        raise BadDataError(
            "a pandas object with a tz-aware DatetimeIndex is required",
            "index",
            type(index).__name__,
        )
    utc = index.tz_convert("UTC")
    utc_ns = np.asarray((utc.as_unit("ns") if hasattr(utc, "as_unit") else utc).asi8, dtype=np.int64)
    ts = utc_ns // 1000
    if hasattr(obj, "columns"):
        names = {"Actual Load": "load_actual", "Forecasted Load": "load_forecast"}
        unknown = [c for c in obj.columns if c not in names]
        if unknown:
            raise BadDataError(f"unknown column {unknown[0]!r}", "column", unknown[0])
        quantities = [names[c] for c in obj.columns]
        values = np.vstack([np.asarray(obj[c], dtype=np.float64) for c in obj.columns])
    else:
        quantities = ["load_actual"]
        values = np.asarray(obj, dtype=np.float64).reshape(1, -1)
    lines = np.arange(1, len(ts) + 1, dtype=np.int64)
    source = Path("<pandas>")
    _check_increasing(source, ts, lines, "index must strictly increase")
    _check_non_negative(source, values, quantities, lines)
    return from_wide(ts, values, [(area, q) for q in quantities], trim=False)
