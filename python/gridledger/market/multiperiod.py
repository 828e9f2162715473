"""Welfare-maximising clearing over several periods (SPEC §4, beyond the seeds).

A continuous double auction cannot express a bid that only makes sense as a
whole over several periods (a battery that charges at noon and discharges in
the evening, a process that needs three hours). Here every bid has a side, a
price per unit and a quantity in each of its periods:

- a **divisible** bid may be accepted in any share x ∈ [0, 1] (the same share
  in each of its periods; a single-period block bid is the usual case);
- an **all-or-nothing** bid is accepted whole or not at all (x ∈ {0, 1}),
  across all its periods.

The clearing maximises welfare Σ_buys π·q·x − Σ_sells π·q·x subject to supply
meeting demand in every period: a MILP, solved with HiGHS (highspy). The
uniform price of each period is the dual of its balance constraint in the LP
re-solved with the all-or-nothing choices fixed (a standard pricing; with
non-convex bids some accepted bid may then be paid less than it asked, which
``clearing_stats`` reports as a breach of individual rationality).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from gridledger._extras import require
from gridledger.errors import BadConfigurationError, InvalidArgumentError

__all__ = ["MultiPeriodResult", "clear_multi_period"]

BID_COLUMNS = ("bid", "owner", "side", "period", "quantity", "price", "all_or_nothing")


@dataclass(frozen=True)
class MultiPeriodResult:
    """The clearing.

    Attributes
    ----------
    accepted
        Per bid: ``bid``, ``owner``, ``side``, ``share`` (x).
    prices
        Per period: ``period``, ``price`` (the balance constraint's dual).
    welfare
        Σ value of accepted buys − Σ cost of accepted sells.
    volume
        Traded quantity, summed over periods.
    status
        HiGHS's model status.
    """

    accepted: pl.DataFrame
    prices: pl.DataFrame
    welfare: float
    volume: float
    status: str


def _check(bids: pl.DataFrame) -> None:
    missing = [c for c in BID_COLUMNS if c not in bids.columns]
    if missing:
        raise InvalidArgumentError(f"bids lack columns {missing}", "bids", missing)
    if bids.height == 0:
        return
    if not set(bids["side"].unique().to_list()) <= {"buy", "sell"}:
        raise InvalidArgumentError("side must be 'buy' or 'sell'", "bids.side", None)
    if (bids["quantity"] <= 0).any():
        raise InvalidArgumentError("quantities must be positive", "bids.quantity", None)
    prices = bids["price"].cast(pl.Float64)
    if prices.is_nan().any() or prices.is_infinite().any():
        raise InvalidArgumentError("prices must be finite", "bids.price", None)
    per_bid = bids.group_by("bid").agg(
        pl.col("side").n_unique().alias("sides"),
        pl.col("price").n_unique().alias("prices"),
        pl.col("all_or_nothing").n_unique().alias("kinds"),
        pl.col("owner").n_unique().alias("owners"),
    )
    bad = per_bid.filter(
        (pl.col("sides") > 1) | (pl.col("prices") > 1) | (pl.col("kinds") > 1) | (pl.col("owners") > 1)
    )
    if bad.height:
        raise InvalidArgumentError(
            "each bid has one side, price, owner and kind across its periods", "bids.bid", bad["bid"][0]
        )


def clear_multi_period(bids: pl.DataFrame, *, time_limit_s: float = 60.0) -> MultiPeriodResult:
    """Clear ``bids`` for maximum welfare.

    ``bids`` holds one row per bid and period: ``bid``, ``owner``, ``side``,
    ``period``, ``quantity``, ``price``, ``all_or_nothing``.

    Needs the ``milp`` extra (highspy); without it raises :class:`~gridledger.errors.MissingExtraError`.
    """
    require("highspy", "milp")
    import highspy

    _check(bids)
    ids = sorted(bids["bid"].unique().to_list())
    col = {b: i for i, b in enumerate(ids)}
    periods = sorted(bids["period"].unique().to_list())
    row = {p: i for i, p in enumerate(periods)}
    meta = bids.group_by("bid").agg(
        pl.col("owner").first(), pl.col("side").first(), pl.col("price").first(),
        pl.col("all_or_nothing").first(), (pl.col("quantity") * 1.0).sum().alias("total"),
    ).sort("bid")  # fmt: skip
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    sign = {"buy": 1.0, "sell": -1.0}
    for b, side, price, total, aon in meta.select(
        "bid", "side", "price", "total", "all_or_nothing"
    ).iter_rows():
        h.addVar(0.0, 1.0)
        h.changeColCost(col[b], sign[side] * float(price) * float(total))
        if aon:
            h.changeColIntegrality(col[b], highspy.HighsVarType.kInteger)
    for p in periods:
        part = bids.filter(pl.col("period") == p)
        idx = np.array([col[b] for b in part["bid"].to_list()], dtype=np.int32)
        val = np.array(
            [sign[s] * q for s, q in zip(part["side"].to_list(), part["quantity"].to_list(), strict=True)]
        )
        h.addRow(0.0, 0.0, len(idx), idx, val)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise BadConfigurationError(f"the clearing did not solve to optimality: {status}", "bids", status)
    x = np.array(h.getSolution().col_value)
    aon = meta["all_or_nothing"].to_numpy().astype(bool)
    x[aon] = np.round(x[aon])
    # Prices: the LP with the all-or-nothing choices fixed; duals of the balance rows.
    for i in np.flatnonzero(aon):
        h.changeColIntegrality(int(i), highspy.HighsVarType.kContinuous)
        h.changeColBounds(int(i), float(x[i]), float(x[i]))
    h.run()
    duals = (
        np.array(h.getSolution().row_dual)
        if h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        else np.full(len(periods), np.nan)
    )
    cols = (meta["side"].to_list(), meta["price"].to_list(), meta["total"].to_list(), x)
    welfare = float(sum(sign[s] * float(pr) * float(t) * xi for s, pr, t, xi in zip(*cols, strict=True)))
    buys = bids.filter(pl.col("side") == "buy")
    volume = float(
        sum(q * x[col[b]] for b, q in zip(buys["bid"].to_list(), buys["quantity"].to_list(), strict=True))
    )
    accepted = meta.select("bid", "owner", "side").with_columns(pl.Series("share", x))
    prices = pl.DataFrame(
        {"period": periods, "price": [abs(float(d)) if np.isfinite(d) else None for d in duals]}
    )
    del row
    return MultiPeriodResult(accepted, prices, welfare, volume, status)
