"""Resampling, gaps, gap filling, scaling and the wide view of long frames."""

from __future__ import annotations

import re
from datetime import timedelta

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gridledger import _core
from gridledger.data import _long
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
    "area": pl.Categorical,
    "quantity": pl.Categorical,
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
    """Return a market period in whole minutes (``"15m"``, ``"1h"``, ``15``); it must divide a day."""
    minutes = _minutes(every, "every")
    if minutes == 0 or 1440 % minutes:
        raise BadConfigurationError(
            f"every={every!r}: the period must be whole minutes dividing a day", "every", every
        )
    return minutes


class _Grid:
    """Put every series of a long frame on its regular native grid (absent timestamps as NaN).

    Optionally gap-filled, or resampled to ``target`` minutes: the Rust core's
    ``resample_series`` over all series at once.
    """

    def __init__(
        self,
        frame: pl.DataFrame,
        *,
        target: int | None = None,
        method: str = "step",
        fill_limit: int | None = None,
    ) -> None:
        frame, ts, vals, offsets, self.keys = _long.split(frame)
        labels = [f"{a}/{q}" for a, q in self.keys]
        out_ts, out_vals, out_offsets, self.native, changed = _core.resample_series(
            ts, vals, offsets, labels, target_min=target, method=method, fill_limit_min=fill_limit
        )
        self.source = frame
        self.changed = changed
        self.ts, self.vals, self.offsets = (out_ts, out_vals, out_offsets) if changed else (ts, vals, offsets)

    def frame(self) -> pl.DataFrame:
        if not self.changed:
            return self.source.with_columns(pl.col("value_mw").cast(pl.Float64).fill_nan(None))
        return _long.build(self.ts, self.vals, self.keys, np.diff(self.offsets).tolist())


def resolution_minutes(frame: pl.DataFrame) -> dict[tuple[str, str], int]:
    """Return the native resolution (most common step, minutes) of every series."""
    g = _Grid(frame)
    return dict(zip(g.keys, g.native.tolist(), strict=True))


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
    A series of one row (resolution unknown) raises :class:`BadDataError`.
    """
    g = _Grid(frame)
    rows = []
    for s, ((area, quantity), r) in enumerate(zip(g.keys, g.native.tolist(), strict=True)):
        lo, hi = int(g.offsets[s]), int(g.offsets[s + 1])
        ts = g.ts[lo:hi]
        for start, length in _runs(np.isnan(g.vals[lo:hi])):
            t = int(ts[start])
            rows.append((area, quantity, r, t, t + length * r * _US_PER_MIN, length))
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


def fill_gaps(frame: pl.DataFrame, limit: str | int | timedelta = "2h") -> pl.DataFrame:
    """Put every series on its regular grid and fill gaps up to ``limit`` long (``"2h"``, minutes as int).

    Rule: a run of missing periods inside a series is filled by straight-line
    interpolation in time between the last value before it and the first value
    after it (the energy of the gap is the trapezoid between them); a run at
    the start or end of a series holds the nearest value. A longer run raises
    :class:`BadDataError` naming the series, its start and its length.
    """
    return _Grid(frame, fill_limit=_minutes(limit, "limit")).frame()


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
    every complete period. A series already regular at ``every`` is returned
    as it is. The work runs in the Rust core, all series at once.
    """
    if method not in ("step", "linear"):
        raise BadConfigurationError(f"method={method!r}: use 'step' or 'linear'", "method", method)
    target = parse_every(every)
    limit = None if fill_limit is None else _minutes(fill_limit, "fill_limit")
    return _Grid(frame, target=target, method=method, fill_limit=limit).frame()


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
        pl.lit("community", dtype=pl.Categorical).alias("area"),
        pl.col("value_mw") * (target_mean_mw / mean_mw),
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
    return part.with_columns(
        pl.lit("community", dtype=pl.Categorical).alias("area"), pl.col("value_mw") * factor
    )


def wide(frame: pl.DataFrame) -> pl.DataFrame:
    """Return the wide view: one row per timestamp, one column ``<area>_<quantity>`` per series (MW)."""
    labelled = frame.with_columns(pl.concat_str("area", pl.lit("_"), "quantity").alias("series"))
    return labelled.pivot(on="series", index="utc_timestamp", values="value_mw").sort("utc_timestamp")
