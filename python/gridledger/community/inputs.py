"""A community's consumption and generation from real ENTSO-E data (SPEC §7).

Consumption: the national load shape (bundled Austria 2019 by default),
resampled to the market period with energy preserved, scaled to each
member's annual kWh, times a seeded member-level variation (lognormal,
σ = 0.25, mean 1, drawn per member and period) so that members do not all
move in lockstep; read in integer Wh as a meter would. Generation: the
national solar shape, scaled to each unit's kWp (1 050 kWh/kWp a year).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gridledger import data
from gridledger.community.model import Community
from gridledger.errors import BadDataError

__all__ = ["CommunityInputs", "community_inputs"]

NOISE_SIGMA = 0.25


class CommunityInputs:
    """Per-period inputs of a run.

    Attributes
    ----------
    periods
        ``(P,)`` period indices (Unix time // period length).
    consumption_wh
        ``(P, M)`` int64 member consumption per period (Wh).
    generation_wh
        ``(P, U)`` float unit generation per period (Wh).
    """

    def __init__(
        self,
        periods: NDArray[np.int64],
        consumption_wh: NDArray[np.int64],
        generation_wh: NDArray[np.float64],
    ) -> None:
        self.periods = periods
        self.consumption_wh = consumption_wh
        self.generation_wh = generation_wh


def _window(
    frame: pl.DataFrame, start: datetime, periods: int, period_min: int, what: str
) -> NDArray[np.float64]:
    end = start + timedelta(minutes=period_min * periods)
    part = frame.filter((pl.col("utc_timestamp") >= start) & (pl.col("utc_timestamp") < end)).sort(
        "utc_timestamp"
    )
    mw = part["value_mw"]
    if part.height != periods or mw.null_count():
        raise BadDataError(
            f"the {what} series has {part.height - mw.null_count()} of the {periods} periods needed "
            f"from {start:%Y-%m-%d %H:%M} UTC (too short for the horizon, or gaps)",
            "start",
            start.isoformat(),
        )
    return mw.to_numpy().astype(np.float64)


def community_inputs(
    community: Community,
    start: datetime,
    periods: int,
    *,
    load: pl.DataFrame | None = None,
    solar: pl.DataFrame | None = None,
) -> CommunityInputs:
    """Consumption and generation of ``community`` for ``periods`` periods from ``start``.

    Parameters
    ----------
    load, solar
        Long-layout frames (any resolution) with one load series and one
        solar series; the bundled Austrian 2019 samples by default.
    """
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    pm = community.period_minutes
    if (start.timestamp() % community.period_s) != 0:
        raise BadDataError(f"start {start} is not on a {pm}-minute boundary", "start", start.isoformat())
    if periods < 1:
        raise BadDataError("a run needs at least one period", "periods", periods)
    dt_h = pm / 60
    load_frame = data.resample(data.sample_load() if load is None else load, f"{pm}m")
    unit_load = data.scale_to_community(load_frame, 1, 1000.0)  # one 1 000 kWh/yr household, MW
    shape = _window(unit_load, start, periods, pm, "load") * 1e6 * dt_h  # Wh per period
    annual = np.array([m.annual_kwh / 1000.0 for m in community.members])
    rng = np.random.default_rng([community.seed, 0x6C6F6164])
    noise = rng.lognormal(-(NOISE_SIGMA**2) / 2, NOISE_SIGMA, size=(periods, len(annual)))
    consumption = np.rint(shape[:, None] * annual[None, :] * noise).astype(np.int64)
    if community.units:
        solar_frame = data.resample(data.sample_solar() if solar is None else solar, f"{pm}m")
        one_kwp = data.scale_solar_to_kwp(solar_frame, 1.0)
        sshape = np.clip(_window(one_kwp, start, periods, pm, "solar") * 1e6 * dt_h, 0, None)
        kwp = np.array([u.kwp for u in community.units])
        generation = sshape[:, None] * kwp[None, :]
    else:
        generation = np.zeros((periods, 0))
    first = int(start.timestamp()) // community.period_s
    return CommunityInputs(np.arange(first, first + periods, dtype=np.int64), consumption, generation)
