"""Resampling, gaps, gap filling, scaling and the wide view of long frames."""

from __future__ import annotations

import re
from datetime import timedelta

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gridledger.data._formats import LONG_SCHEMA
from gridledger.errors import BadConfigurationError, BadDataError

__all__ = [
    "fill_gaps",
    "gap_report",
    "parse_every",
    "resample",
    "resolution_minutes",
    "scale_solar_to_kwp",
    "scale_to_community",
    "wide",
]

_US_PER_MIN = 60_000_000
_GAP_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "area": pl.String,
    "quantity": pl.String,
    "resolution_min": pl.Int64,
    "gap_start": pl.Datetime("us", "UTC"),
    "gap_end": pl.Datetime("us", "UTC"),
    "periods": pl.Int64,
}


def _minutes(value: str | int | timedelta, field: str) -> int:
    """Whole minutes from ``"15m"``, ``"2h"``, ``15`` or a timedelta."""
    if isinstance(value, timedelta):
        minutes = value.total_seconds() / 60
    elif isinstance(value, int) and not isinstance(value, bool):
        minutes = value
    elif isinstance(value, str) and (m := re.fullmatch(r"\s*(\d+)\s*(m|min|h)\s*", value)):
        minutes = int(m[1]) * (60 if m[2] == "h" else 1)
    else:
        raise BadConfigurationError(
            f"{field}={value!r}: use e.g. '15m', '1h' or minutes as an int", field, value
        )
    if minutes < 0 or minutes != int(minutes):
        raise BadConfigurationError(f"{field}={value!r}: must be whole, non-negative minutes", field, value)
    return int(minutes)


def parse_every(every: str | int | timedelta) -> int:
    """A market period in whole minutes (``"15m"``, ``"1h"``, ``15``); it must divide a day."""
    minutes = _minutes(every, "every")
    if minutes == 0 or 1440 % minutes:
        raise BadConfigurationError(
            f"every={every!r}: the period must be whole minutes dividing a day", "every", every
        )
    return minutes


Series = tuple[str, str, NDArray[np.int64], NDArray[np.float64]]


def _series(frame: pl.DataFrame) -> list[Series]:
    """Split a long frame into (area, quantity, timestamps µs, values with NaN) per series.

    Works on whole columns (one numpy view each) and sorts only when the frame
    is not already ordered by area, quantity and time, as the readers leave it.
    """
    missing = set(LONG_SCHEMA) - set(frame.columns)
    if missing:
        raise BadDataError(f"not a long frame: missing columns {sorted(missing)}", "frame", sorted(missing))
    if frame.height == 0:
        return []
    for _ in range(2):
        rid = frame.select(pl.struct("area", "quantity").rle_id()).to_series().to_numpy()
        ts = frame["utc_timestamp"].dt.epoch("us").to_numpy()
        starts = np.concatenate(([0], np.flatnonzero(np.diff(rid)) + 1))
        runs_sorted = len(starts) == frame.select(pl.struct("area", "quantity").n_unique()).item()
        steps = np.diff(ts)
        steps[starts[1:] - 1] = 1  # a new series may start earlier in time
        if runs_sorted and bool(np.all(steps > 0)):
            break
        frame = frame.sort("area", "quantity", "utc_timestamp")
    vals = frame["value_mw"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    ends = np.concatenate((starts[1:], [frame.height]))
    areas = frame["area"].gather(starts).to_list()
    quantities = frame["quantity"].gather(starts).to_list()
    return [
        (str(a), str(q), ts[i:j], vals[i:j])
        for a, q, i, j in zip(areas, quantities, starts.tolist(), ends.tolist(), strict=True)
    ]


def _native_minutes(ts: NDArray[np.int64], area: str, quantity: str) -> int:
    if len(ts) < 2:
        raise BadDataError(
            f"{area}/{quantity}: one row only, the resolution is unknown", "utc_timestamp", len(ts)
        )
    steps, counts = np.unique(np.diff(ts), return_counts=True)
    step = int(steps[np.argmax(counts)])
    if step % _US_PER_MIN:
        raise BadDataError(
            f"{area}/{quantity}: resolution {step} µs is not whole minutes", "utc_timestamp", step
        )
    return step // _US_PER_MIN


def resolution_minutes(frame: pl.DataFrame) -> dict[tuple[str, str], int]:
    """The native resolution (most common step, minutes) of every series."""
    return {(a, q): _native_minutes(ts, a, q) for a, q, ts, _ in _series(frame)}


def _grid(
    ts: NDArray[np.int64], vals: NDArray[np.float64], area: str, quantity: str
) -> tuple[NDArray[np.int64], NDArray[np.float64], int]:
    """The series on its regular grid: (timestamps µs, values with NaN for missing, step minutes)."""
    r = _native_minutes(ts, area, quantity)
    step = r * _US_PER_MIN
    off = ts - ts[0]
    if np.any(off % step):
        i = int(np.flatnonzero(off % step)[0])
        when = f"{np.datetime64(int(ts[i]), 'us')}Z"
        raise BadDataError(
            f"{area}/{quantity}: timestamp {when} is off the {r}-minute grid", "utc_timestamp", when
        )
    if len(ts) == int(off[-1] // step) + 1:
        return ts, vals, r  # already regular: no copy
    n = int(off[-1] // step) + 1
    grid_vals = np.full(n, np.nan)
    grid_vals[off // step] = vals
    return ts[0] + np.arange(n, dtype=np.int64) * step, grid_vals, r


def _runs(missing: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(start, length) of each run of True."""
    if not missing.any():
        return []
    edges = np.diff(np.concatenate(([0], missing.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), (ends - starts).tolist(), strict=True))


def gap_report(frame: pl.DataFrame) -> pl.DataFrame:
    """Every run of missing periods (null values or absent timestamps) per series.

    Returns a frame with ``area, quantity, resolution_min, gap_start, gap_end``
    (exclusive) and ``periods`` (the run's length in the series' resolution).
    """
    rows = []
    for area, quantity, ts0, vals0 in _series(frame):
        if len(ts0) < 2:
            continue
        ts, vals, r = _grid(ts0, vals0, area, quantity)
        for start, length in _runs(np.isnan(vals)):
            rows.append(
                (
                    area,
                    quantity,
                    r,
                    int(ts[start]),
                    int(ts[start]) + length * r * _US_PER_MIN,
                    length,
                )
            )
    cols: list[tuple[object, ...]] = list(zip(*rows, strict=True)) if rows else [() for _ in _GAP_SCHEMA]
    data = dict(zip(_GAP_SCHEMA, cols, strict=True))
    out = pl.DataFrame(
        {k: data[k] for k in ("area", "quantity", "resolution_min", "periods")},
        schema={k: _GAP_SCHEMA[k] for k in ("area", "quantity", "resolution_min", "periods")},
    )
    for k in ("gap_start", "gap_end"):
        out = out.with_columns(
            pl.Series(k, data[k], dtype=pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        )
    return out.select(list(_GAP_SCHEMA))


def _fill(
    vals: NDArray[np.float64], limit: int, area: str, quantity: str, ts: NDArray[np.int64], r: int
) -> NDArray[np.float64]:
    out = vals.copy()
    for start, length in _runs(np.isnan(vals)):
        if length > limit:
            when = np.datetime64(int(ts[start]), "us")
            raise BadDataError(
                f"{area}/{quantity}: gap of {length} periods ({length * r} min) from {when}Z "
                f"exceeds the fill limit of {limit} periods",
                "gap",
                f"{when}Z+{length * r}min",
            )
        left, right = out[start - 1], out[start + length]
        out[start : start + length] = left + (right - left) * np.arange(1, length + 1) / (length + 1)
    return out


def fill_gaps(frame: pl.DataFrame, limit: str | int | timedelta = "2h") -> pl.DataFrame:
    """Put every series on its regular grid and fill gaps up to ``limit`` long (``"2h"``, minutes as int).

    Rule: a run of missing periods is filled by straight-line interpolation in
    time between the last value before it and the first value after it (the
    energy of the gap is the trapezoid between them). A longer gap raises
    :class:`BadDataError` naming the series, its start and its length.
    """
    limit_min = _minutes(limit, "limit")
    parts = []
    for area, quantity, ts0, vals0 in _series(frame):
        ts, vals, r = _grid(ts0, vals0, area, quantity)
        parts.append(_long(area, quantity, ts, _fill(vals, limit_min // r, area, quantity, ts, r)))
    return _concat(parts)


def _long(area: str, quantity: str, ts: NDArray[np.int64], vals: NDArray[np.float64]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "utc_timestamp": pl.Series(ts, dtype=pl.Int64)
            .cast(pl.Datetime("us"))
            .dt.replace_time_zone("UTC"),
            "area": pl.repeat(area, len(ts), dtype=pl.String, eager=True),
            "quantity": pl.repeat(quantity, len(ts), dtype=pl.String, eager=True),
            "value_mw": pl.Series(vals, dtype=pl.Float64).fill_nan(None),
        }
    )


def _concat(parts: list[pl.DataFrame]) -> pl.DataFrame:
    if not parts:
        return pl.DataFrame(schema=LONG_SCHEMA)
    return pl.concat(parts, rechunk=False)


def _upsample(vals: NDArray[np.float64], k: int, method: str) -> NDArray[np.float64]:
    step = np.repeat(vals, k)
    if method == "step" or len(vals) < 2:
        return step
    # Mean-preserving linear: interpolate between interval centres, then shift
    # each coarse interval so its fine values average to the coarse value.
    centres = np.arange(len(vals)) * k + (k - 1) / 2
    fine = np.interp(np.arange(len(vals) * k), centres[~np.isnan(vals)], vals[~np.isnan(vals)])
    blocks = fine.reshape(-1, k)
    blocks += (vals - blocks.mean(axis=1))[:, None]
    bad = (blocks < 0).any(axis=1) | np.isnan(vals)
    blocks[bad] = vals[bad][:, None]  # fall back to the step rule where the shift went negative
    return blocks.reshape(-1)


def resample(
    frame: pl.DataFrame,
    every: str | int | timedelta = "15m",
    *,
    method: str = "step",
    fill_limit: str | int | timedelta | None = None,
) -> pl.DataFrame:
    """Resample every series to the market period, preserving energy.

    Parameters
    ----------
    frame
        Long layout (see :mod:`gridledger.data`), any native resolutions.
    every
        The market period: ``"5m"``, ``"15m"`` (default), ``"30m"``, ``"1h"``...
    method
        Upsampling rule. ``"step"`` (default): each fine period keeps the
        coarse period's mean power, so each quarter of an hour gets a quarter
        of its energy, exactly. ``"linear"``: mean-preserving linear — a line
        through the coarse periods' centres, shifted per coarse period so the
        fine periods average exactly to it (falls back to ``"step"`` for a
        period where the shift would give negative power).
    fill_limit
        Fill gaps up to this long first (see :func:`fill_gaps`); a longer gap
        raises :class:`BadDataError`. ``None`` leaves gaps missing.

    Notes
    -----
    Downsampling averages the fine periods of each coarse period (aligned to
    UTC multiples of ``every``); a coarse period with any missing or absent
    fine period is missing. Energy (Σ power × duration) is conserved for
    every complete period.
    """
    if method not in ("step", "linear"):
        raise BadConfigurationError(f"method={method!r}: use 'step' or 'linear'", "method", method)
    target = parse_every(every)
    limit = None if fill_limit is None else _minutes(fill_limit, "fill_limit")
    parts = []
    for area, quantity, ts0, vals0 in _series(frame):
        ts, vals, r = _grid(ts0, vals0, area, quantity)
        if limit is not None:
            vals = _fill(vals, limit // r, area, quantity, ts, r)
        if target == r:
            parts.append(_long(area, quantity, ts, vals))
        elif target < r:
            if r % target:
                raise BadConfigurationError(
                    f"{area}/{quantity}: {r}-minute data cannot be cut into {target}-minute periods",
                    "every",
                    every,
                )
            k = r // target
            fine_ts = (ts[:, None] + np.arange(k) * target * _US_PER_MIN).reshape(-1)
            parts.append(_long(area, quantity, fine_ts, _upsample(vals, k, method)))
        else:
            if target % r:
                raise BadConfigurationError(
                    f"{area}/{quantity}: {r}-minute data does not tile {target}-minute periods",
                    "every",
                    every,
                )
            k = target // r
            span = target * _US_PER_MIN
            first_bin = ts[0] - ts[0] % span
            lead = int((ts[0] - first_bin) // (r * _US_PER_MIN))
            padded = np.concatenate((np.full(lead, np.nan), vals))
            padded = np.concatenate((padded, np.full((-len(padded)) % k, np.nan)))
            coarse = padded.reshape(-1, k).mean(axis=1)  # NaN if any fine period is missing
            parts.append(_long(area, quantity, first_bin + np.arange(len(coarse)) * span, coarse))
    return _concat(parts)


def _mean(part: pl.DataFrame) -> float:
    m = part["value_mw"].mean()
    return float(m) if isinstance(m, int | float) else 0.0


def _pick(frame: pl.DataFrame, quantity: str | None, area: str | None) -> pl.DataFrame:
    sel = frame
    if quantity is not None:
        sel = sel.filter(pl.col("quantity") == quantity)
    if area is not None:
        sel = sel.filter(pl.col("area") == area)
    keys = sel.select("area", "quantity").unique()
    if keys.height != 1:
        raise BadDataError(
            f"expected exactly one series (area={area!r}, quantity={quantity!r}), found {keys.height}",
            "area",
            area,
        )
    return sel


def scale_to_community(
    frame: pl.DataFrame,
    households: int,
    annual_kwh_per_household: float = 3500.0,
    *,
    area: str | None = None,
    quantity: str | None = "load_actual",
) -> pl.DataFrame:
    """Scale a national load series to a community of ``households``.

    The shape is kept; the level is set so that the series' mean power equals
    ``households × annual_kwh_per_household`` spread over a year of 8 760 h.
    Returns the long layout with ``area="community"`` and values in MW.
    """
    if households <= 0 or annual_kwh_per_household <= 0:
        raise BadConfigurationError(
            "households and annual_kwh_per_household must be positive",
            "households",
            (households, annual_kwh_per_household),
        )
    part = _pick(frame, quantity, area)
    mean_mw = _mean(part)
    if mean_mw <= 0:
        raise BadDataError("the series has no positive mean load to scale", "value_mw", mean_mw)
    target_mean_mw = households * annual_kwh_per_household / 8760 / 1000
    return part.with_columns(
        pl.lit("community").alias("area"), pl.col("value_mw") * (target_mean_mw / mean_mw)
    )


def scale_solar_to_kwp(
    frame: pl.DataFrame,
    kwp: float,
    *,
    specific_yield_kwh_per_kwp: float = 1050.0,
    capacity_mw: float | None = None,
    area: str | None = None,
    quantity: str | None = "solar_generation_actual",
) -> pl.DataFrame:
    """Scale a national solar generation series to ``kwp`` of installed PV.

    With ``capacity_mw`` (the area's installed PV capacity), power scales by
    ``kwp / 1000 / capacity_mw``. Otherwise the series is scaled so that its
    mean power gives ``kwp × specific_yield_kwh_per_kwp`` per 8 760 h (default
    1 050 kWh/kWp, typical of Austria). Returns ``area="community"``, MW.
    """
    if kwp <= 0:
        raise BadConfigurationError(f"kwp must be positive, got {kwp}", "kwp", kwp)
    part = _pick(frame, quantity, area)
    if capacity_mw is not None:
        if capacity_mw <= 0:
            raise BadConfigurationError("capacity_mw must be positive", "capacity_mw", capacity_mw)
        factor = kwp / 1000 / capacity_mw
    else:
        mean_mw = _mean(part)
        if mean_mw <= 0:
            raise BadDataError("the series has no positive mean generation to scale", "value_mw", mean_mw)
        factor = kwp * specific_yield_kwh_per_kwp / 8760 / 1000 / mean_mw
    return part.with_columns(pl.lit("community").alias("area"), pl.col("value_mw") * factor)


def wide(frame: pl.DataFrame) -> pl.DataFrame:
    """The wide view: one row per timestamp, one column ``<area>_<quantity>`` per series (MW)."""
    labelled = frame.with_columns(pl.concat_str("area", pl.lit("_"), "quantity").alias("series"))
    return labelled.pivot(on="series", index="utc_timestamp", values="value_mw").sort("utc_timestamp")
