"""The long layout: its schema, building it from arrays, splitting it into series.

Long layout (one row per series and interval), sorted by area, quantity, time:

=============== ======================= ==========================================
column          dtype                   meaning
=============== ======================= ==========================================
utc_timestamp   Datetime("us", "UTC")   start of the interval
area            Categorical             ``AT``, ``DE_LU``, ``DE_50hertz``, ...
quantity        Categorical             ``load_actual``, ``load_forecast``,
                                        ``solar_generation_actual``, ...
value_mw        Float64                 mean power over the interval, MW;
                                        null = missing in the source
=============== ======================= ==========================================

``area`` and ``quantity`` are categorical: a handful of labels repeated over
millions of rows take 4 bytes a row instead of a 16-byte string view, and
splitting a frame into its series compares integers. They compare equal to
strings (``pl.col("area") == "AT"``) and concatenate across frames; cast them
with ``.cast(pl.String)`` where a plain string is needed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gridledger import _core
from gridledger.errors import BadDataError

LONG_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "utc_timestamp": pl.Datetime("us", "UTC"),
    "area": pl.Categorical,
    "quantity": pl.Categorical,
    "value_mw": pl.Float64,
}

Key = tuple[str, str]


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=LONG_SCHEMA)


def build(
    time_us: NDArray[np.int64], values: NDArray[np.float64], keys: Sequence[Key], lengths: Sequence[int]
) -> pl.DataFrame:
    """Return the long frame of concatenated series: ``keys[s]`` labels the next ``lengths[s]`` rows.

    NaN values become nulls.
    """
    if not keys:
        return empty()

    def labels(i: int) -> pl.Series:
        # One eager repeat per series (new_from_index), no lazy query per call.
        names = pl.Series([k[i] for k in keys], dtype=pl.Categorical)
        return pl.concat([names.new_from_index(s, n) for s, n in enumerate(lengths)], rechunk=False)

    return pl.DataFrame(
        {
            # Int64 µs cast straight to the zoned type: no time-zone expression.
            "utc_timestamp": pl.Series(time_us, dtype=pl.Int64).cast(pl.Datetime("us", "UTC")),
            "area": labels(0),
            "quantity": labels(1),
            # NaN -> null by the numpy constructor, not a fill_nan expression.
            "value_mw": pl.Series(values=values, dtype=pl.Float64, nan_to_null=True),
        }
    )


def from_wide(
    time_us: NDArray[np.int64],
    values: NDArray[np.float64],
    keys: Sequence[Key],
    *,
    trim: bool,
    keep: NDArray[np.bool_] | None = None,
) -> pl.DataFrame:
    """Convert wide arrays (``values[series, row]``, NaN missing) to the long layout.

    Series are keyed by (area, quantity); the rows where ``keep`` is true
    (all by default) are kept.

    With ``trim`` (multi-area wide files, where an empty cell outside a
    column's coverage is no measurement at all) each series is cut to its
    first..last value and an empty one is dropped; without it (single-source
    exports, which list every interval of the period they cover) every listed
    cell is kept.
    """
    order = sorted(range(len(keys)), key=lambda j: keys[j])
    ts, vals, lengths = _core.wide_to_long(time_us, values, order, trim=trim, keep=keep)
    kept = [(keys[j], int(n)) for j, n in zip(order, lengths.tolist(), strict=True) if n]
    if not kept:
        return empty()
    return build(ts, vals, [k for k, _ in kept], [n for _, n in kept])


def split(
    frame: pl.DataFrame,
) -> tuple[pl.DataFrame, NDArray[np.int64], NDArray[np.float64], NDArray[np.int64], list[Key]]:
    """Split a long frame into concatenated series.

    Returns (frame sorted if it had to be, time µs, values with NaN for
    missing, offsets, keys).

    Sorts only when the frame is not already grouped by series with time
    increasing within each, as the readers leave it.
    """
    missing = set(LONG_SCHEMA) - set(frame.columns)
    if missing:
        raise BadDataError(f"not a long frame: missing columns {sorted(missing)}", "frame", sorted(missing))
    # Each polars call costs a query plan; skip the ones that would not change the frame.
    if frame.columns != list(LONG_SCHEMA):
        frame = frame.select(list(LONG_SCHEMA))
    if any(frame.schema[c] != pl.Categorical() for c in ("area", "quantity")):
        frame = frame.with_columns(pl.col("area", "quantity").cast(pl.Categorical))
    if frame.height == 0:
        return frame, np.zeros(0, np.int64), np.zeros(0), np.zeros(1, np.int64), []
    if nulls := frame["utc_timestamp"].null_count():
        row = int(frame["utc_timestamp"].is_null().arg_max() or 0)
        raise BadDataError(
            f"utc_timestamp: {nulls} null timestamp(s), the first in row {row} of the frame",
            "utc_timestamp",
            None,
        )
    for attempt in range(2):
        # Chunk by chunk: a chunked column (as build() leaves the labels) is not copied.
        codes = [[c.to_numpy() for c in frame[c].to_physical().get_chunks()] for c in ("area", "quantity")]
        time = frame["utc_timestamp"]
        # µs UTC is the physical value itself; other units and zones convert.
        us = time.to_physical() if time.dtype == pl.Datetime("us", "UTC") else time.dt.epoch("us")
        ts = np.ascontiguousarray(us.to_numpy(), dtype=np.int64)
        starts, increasing = _core.series_runs(codes[0], codes[1], ts)
        areas, quantities = (frame[c].gather(starts).to_list() for c in ("area", "quantity"))
        keys = list(zip(areas, quantities, strict=True))
        if (len(set(keys)) == len(keys) and increasing) or attempt == 1:
            break
        frame = frame.sort("area", "quantity", "utc_timestamp")
    values = frame["value_mw"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    offsets = np.append(starts, frame.height).astype(np.int64)
    return frame, ts, np.ascontiguousarray(values), offsets, keys
