"""The accuracy report of SPEC §1: chain energy against the MID meters'.

Per period and generation unit, the chain records quanta × V while the MID
meter integrated the energy itself; the difference is the quantum still being
counted at the period boundary, so |chain − MID| < V in every period, and
over many periods the chain's error tends to the meter's own error. Per
member, the allocation on chain is compared with the repartition rule applied
to the MID energy without rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gridledger.meters.cryptometer import Quanta

__all__ = ["AccuracyReport", "accuracy_report"]


@dataclass(frozen=True)
class AccuracyReport:
    """Chain against MID meter, per period and per participant.

    Attributes
    ----------
    per_period
        One row per (period, unit): ``period``, ``unit``, ``true_wh``,
        ``mid_wh``, ``chain_wh``, ``error_wh`` (chain − MID), ``v_wh``.
    per_member
        One row per member: ``member``, ``chain_wh`` (allocated on chain),
        ``ideal_wh`` (the rule on MID energy, unrounded), ``error_wh``.
    """

    per_period: pl.DataFrame
    per_member: pl.DataFrame

    def summary(self) -> dict[str, float | bool]:
        """Headline figures: the worst period error, whether it is below V, totals and relative errors."""
        pp = self.per_period
        err = pp["error_wh"].abs()
        chain = float(pp["chain_wh"].sum())
        mid = float(pp["mid_wh"].sum())
        true = float(pp["true_wh"].sum())
        worst = float(err.max()) if pp.height else 0.0  # type: ignore[arg-type]
        return {
            "max_period_error_wh": worst,
            "within_v": bool(pp.height == 0 or (err < pp["v_wh"]).all()),
            "mean_abs_period_error_wh": float(err.mean()) if pp.height else 0.0,  # type: ignore[arg-type]
            "chain_wh": chain,
            "mid_wh": mid,
            "true_wh": true,
            "chain_vs_mid": (chain - mid) / mid if mid else 0.0,
            "chain_vs_true": (chain - true) / true if true else 0.0,
            "max_member_error_wh": float(self.per_member["error_wh"].abs().max() or 0.0),  # type: ignore[arg-type]
        }


def accuracy_report(
    periods: NDArray[np.int64],
    units: Sequence[str],
    quanta: Sequence[Quanta],
    v_wh: Sequence[int],
    members: Sequence[str],
    allocated_wh: NDArray[np.int64],
    ideal_wh: NDArray[np.float64],
) -> AccuracyReport:
    """Build the report.

    Parameters
    ----------
    periods
        ``(P,)`` period indices.
    units, quanta, v_wh
        Per generation unit: its label, what its cryptometer counted over the
        ``P`` periods, and its V.
    members
        Member labels (``M``).
    allocated_wh
        ``(P, M)`` energy credited on chain to each member's virtual meter.
    ideal_wh
        ``(P, M)`` the repartition rule applied to the MID energy, unrounded; or
        ``(M,)`` its sums over the periods, which is all the report reads (a
        long run of many members need not hold the (P, M) floats).
    """
    p = len(periods)
    frames = [
        pl.DataFrame(
            {
                "period": periods,
                "unit": [label] * p,
                "true_wh": q.true_wh,
                "mid_wh": q.mid_wh,
                "chain_wh": q.chain_wh,
                "error_wh": q.chain_wh - q.mid_wh,
                "v_wh": np.full(p, v, dtype=np.int64),
            }
        )
        for label, q, v in zip(units, quanta, v_wh, strict=True)
    ]
    per_period = (
        pl.concat(frames)
        if frames
        else pl.DataFrame(
            schema={
                "period": pl.Int64,
                "unit": pl.String,
                "true_wh": pl.Float64,
                "mid_wh": pl.Float64,
                "chain_wh": pl.Int64,
                "error_wh": pl.Float64,
                "v_wh": pl.Int64,
            }
        )
    )
    chain = allocated_wh.sum(axis=0) if p else np.zeros(len(members), dtype=np.int64)
    if ideal_wh.ndim == 1:
        ideal = np.asarray(ideal_wh, dtype=np.float64) if p else np.zeros(len(members))
    else:
        ideal = ideal_wh.sum(axis=0) if p else np.zeros(len(members))
    per_member = pl.DataFrame(
        {"member": list(members), "chain_wh": chain, "ideal_wh": ideal, "error_wh": chain - ideal}
    )
    return AccuracyReport(per_period, per_member)
