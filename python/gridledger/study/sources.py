"""Load and solar series for a run, read once per process (issue 15, items 1 and 4).

A study names its data as a file that :func:`gridledger.data.read` reads and
an area in it, or ``"bundled"`` (Austria 2019). Each process (the client, or
a Dask worker) reads a file once and keeps its long frame in a small cache
keyed by the file's path, size and modification time, so frames are never
shipped with tasks.

Choice the spec leaves open, documented here: when the solar series is the
bundled Austrian 2019 shape and the run lies in another year, the 2019 shape
is moved to that year by whole days (1 January onto 1 January; in a leap
year 31 December repeats 30 December). Solar generation depends on the day
of the year far more than on the year, and no whole year of solar data for
other years ships with the library.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from gridledger import data
from gridledger.errors import BadDataError

__all__ = [
    "BUNDLED",
    "check_covers",
    "covered_segments",
    "covered_span",
    "load_series",
    "solar_series",
    "span_of_run",
]

BUNDLED = "bundled"
_CACHE: dict[tuple[str, int, int], pl.DataFrame] = {}
_LOCK = threading.Lock()
_CACHE_FILES = 8


def _read(path: str) -> pl.DataFrame:
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        raise BadDataError(f"{path}: no such data file", "load", path) from None
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    frame = data.read(p)
    with _LOCK:
        if len(_CACHE) >= _CACHE_FILES:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = frame
    return frame


def _series(path: str, area: str, quantity: str, field: str) -> pl.DataFrame:
    frame = _read(path)
    part = frame.filter((pl.col("area") == area) & (pl.col("quantity") == quantity))
    if part.height == 0:
        areas = sorted({str(a) for a in frame.filter(pl.col("quantity") == quantity)["area"].unique()})
        raise BadDataError(
            f"{path}: no {quantity} series for area {area!r} (areas with one: {', '.join(areas) or 'none'})",
            field,
            area,
        )
    return part


def load_series(path: str, area: str) -> pl.DataFrame:
    """Return the ``load_actual`` series of ``area`` in ``path`` (long layout).

    ``"bundled"`` is the Austrian 2019 sample.
    """
    if path == BUNDLED:
        if area != "AT":
            raise BadDataError(f"the bundled load is Austria's, not {area!r}: give a load file", "area", area)
        return data.sample_load()
    return _series(path, area, "load_actual", "area")


def _step_minutes(series: pl.DataFrame) -> int:
    step = data.resolution_minutes(series)
    return min(step.values()) if step else 60


def covered_span(series: pl.DataFrame) -> tuple[datetime, datetime]:
    """First and last+1 interval of the non-null values of a one-series frame (UTC)."""
    valid = series.filter(pl.col("value_mw").is_not_null()).sort("utc_timestamp")
    if valid.height == 0:
        raise BadDataError("the series has no values", "load", None)
    first, last = valid["utc_timestamp"][0], valid["utc_timestamp"][-1]
    return first, last + timedelta(minutes=_step_minutes(series))


def covered_segments(series: pl.DataFrame) -> list[tuple[datetime, datetime]]:
    """Return the spans the series covers without a missing interval (UTC, end exclusive)."""
    valid = series.filter(pl.col("value_mw").is_not_null()).sort("utc_timestamp")["utc_timestamp"]
    if valid.len() == 0:
        return []
    step = timedelta(minutes=_step_minutes(series))
    gaps = (valid.diff() > step).fill_null(False).to_list()
    ts = valid.to_list()
    segments, begin = [], ts[0]
    for i in range(1, len(ts)):
        if gaps[i]:
            segments.append((begin, ts[i - 1] + step))
            begin = ts[i]
    segments.append((begin, ts[-1] + step))
    return segments


def span_of_run(start: str, days: float) -> tuple[datetime, datetime]:
    """Return the UTC span ``[start, start + days)`` of a run."""
    t0 = datetime.fromisoformat(start).replace(tzinfo=UTC)
    return t0, t0 + timedelta(days=days)


def check_covers(series: pl.DataFrame, path: str, area: str, start: str, days: float) -> None:
    """Raise :class:`BadDataError` naming the file, area and covered spans unless one span holds the run."""
    a, b = span_of_run(start, days)
    segments = covered_segments(series)
    if any(lo <= a and b <= hi for lo, hi in segments):
        return
    shown = ", ".join(f"{lo:%Y-%m-%d %H:%M} to {hi:%Y-%m-%d %H:%M}" for lo, hi in segments[:4])
    more = f" and {len(segments) - 4} more spans" if len(segments) > 4 else ""
    raise BadDataError(
        f"{path} ({area}) covers {shown or 'nothing'}{more} UTC without a gap, "
        f"not the run's {a:%Y-%m-%d %H:%M} to {b:%Y-%m-%d %H:%M}",
        "start",
        start,
    )


def _bundled_solar_for(years: range) -> pl.DataFrame:
    base = data.sample_solar()
    parts = []
    for year in years:
        offset = datetime(year, 1, 1, tzinfo=UTC) - datetime(2019, 1, 1, tzinfo=UTC)
        part = base.with_columns(pl.col("utc_timestamp") + offset)
        if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
            last = base.filter(pl.col("utc_timestamp") >= datetime(2019, 12, 30, tzinfo=UTC)).filter(
                pl.col("utc_timestamp") < datetime(2019, 12, 31, tzinfo=UTC)
            )
            part = pl.concat([part, last.with_columns(pl.col("utc_timestamp") + offset + timedelta(days=2))])
        parts.append(part)
    return pl.concat(parts).sort("utc_timestamp")


def solar_series(path: str, area: str, start: str, days: float) -> pl.DataFrame:
    """Return the solar series for a run.

    ``solar_generation_actual`` of ``area`` in ``path``, or the bundled
    Austrian 2019 shape moved to the run's years (see the module's note).
    """
    if path == BUNDLED:
        if area != "AT":
            raise BadDataError(
                f"the bundled solar is Austria's, not {area!r}: give a solar file", "solar_area", area
            )
        a, b = span_of_run(start, days)
        last = (b - timedelta(microseconds=1)).year
        if a.year == last == 2019:
            return data.sample_solar()
        return _bundled_solar_for(range(a.year, last + 1))
    return _series(path, area, "solar_generation_actual", "solar_area")
