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

Grid fees (``fees=``, docs/grid.md "Fees"): with an ``(owners × owners)``
integer matrix ``fees[buyer, seller]`` (ticks per unit) the single balance
row of each period is replaced by bilateral flows: a variable for each pair
of a buy bid and a sell bid present in the same period, one row per bid and
period saying its flows add up to its accepted quantity, and the fee counted
against welfare (welfare is net of fees: the DSO's revenue ``fee_total`` is
Σ fee·flow). The matching rule of the call auction, ``buy price ≥ sell price
+ fee``, is not imposed pair by pair but follows from optimality for
single-period divisible bids (a flow on a pair below it would lower welfare;
complementary slackness); a multi-period or all-or-nothing bid may, as
without fees, accept one period below it when the whole bid gains. So zero
fees clear exactly as no fees (tested). The clearing is then locational;
each period's ``price`` is what the sellers are paid: the largest dual of an
accepted sell bid's row in that period (its marginal value), and a buyer pays
that price plus its pair's fee. Flows are returned in ``flows``. Quantities
and fees are exact integers in; the LP's shares are floats, as without fees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

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
    flows
        With ``fees``: per period and pair of bids that trade, ``period``,
        ``buy_bid``, ``sell_bid``, ``buyer``, ``seller``, ``quantity`` and
        ``fee`` (ticks per unit); None without fees.
    fee_total
        Σ fee × quantity over the flows (the DSO's revenue; 0 without fees).
    """

    accepted: pl.DataFrame
    prices: pl.DataFrame
    welfare: float
    volume: float
    status: str
    flows: pl.DataFrame | None = None
    fee_total: float = 0.0


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


def clear_multi_period(
    bids: pl.DataFrame, *, time_limit_s: float = 60.0, fees: object = None
) -> MultiPeriodResult:
    """Clear ``bids`` for maximum welfare.

    ``bids`` holds one row per bid and period: ``bid``, ``owner``, ``side``,
    ``period``, ``quantity``, ``price``, ``all_or_nothing``. ``fees`` is an
    optional ``(owners × owners)`` grid fee matrix ``fees[buyer, seller]``
    (whole ticks per unit, ≥ 0; see the module's notes); a malformed one, or an
    owner without a row in it, raises :class:`~gridledger.errors.InvalidArgumentError`.

    Needs the ``milp`` extra (highspy); without it raises :class:`~gridledger.errors.MissingExtraError`.
    """
    require("highspy", "milp")
    import highspy

    _check(bids)
    if fees is not None:
        from gridledger.grid.fees import check_fee_matrix

        owners = bids["owner"].cast(pl.Int64).to_numpy() if bids.height else np.zeros(0, np.int64)
        return _clear_with_fees(bids, check_fee_matrix(fees, owners), time_limit_s)
    ids = sorted(bids["bid"].unique().to_list())
    col = {b: i for i, b in enumerate(ids)}
    periods = sorted(bids["period"].unique().to_list())
    row = {p: i for i, p in enumerate(periods)}
    meta, h = _bid_model(bids, col, time_limit_s)
    for p in periods:
        part = bids.filter(pl.col("period") == p)
        idx = np.array([col[b] for b in part["bid"].to_list()], dtype=np.int32)
        val = np.array(
            [_SIGN[s] * q for s, q in zip(part["side"].to_list(), part["quantity"].to_list(), strict=True)]
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
    welfare = float(sum(_SIGN[s] * float(pr) * float(t) * xi for s, pr, t, xi in zip(*cols, strict=True)))
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


_SIGN = {"buy": 1.0, "sell": -1.0}


def _bid_model(bids: pl.DataFrame, col: dict[Any, int], time_limit_s: float) -> tuple[pl.DataFrame, Any]:
    """Return each bid's row (owner, side, price, all_or_nothing, total) and its HiGHS model.

    The model has one share variable per bid in ``[0, 1]`` (integer when
    all-or-nothing) whose cost is the bid's welfare.
    """
    import highspy

    meta = bids.group_by("bid").agg(
        pl.col("owner").first(), pl.col("side").first(), pl.col("price").first(),
        pl.col("all_or_nothing").first(), (pl.col("quantity") * 1.0).sum().alias("total"),
    ).sort("bid")  # fmt: skip
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    for b, side, price, total, aon in meta.select(
        "bid", "side", "price", "total", "all_or_nothing"
    ).iter_rows():
        h.addVar(0.0, 1.0)
        h.changeColCost(col[b], _SIGN[side] * float(price) * float(total))
        if aon:
            h.changeColIntegrality(col[b], highspy.HighsVarType.kInteger)
    return meta, h


def _clear_with_fees(bids: pl.DataFrame, fees: NDArray[np.int64], time_limit_s: float) -> MultiPeriodResult:
    """Clear by the bilateral-flow MILP of the module notes."""
    import highspy

    ids = sorted(bids["bid"].unique().to_list())
    col = {b: i for i, b in enumerate(ids)}
    meta, h = _bid_model(bids, col, time_limit_s)
    # Flow variables: (period, buy bid, sell bid, buyer, seller, fee) for every admissible pair.
    flows: list[tuple[int, int, int, int, int, int]] = []
    rows: dict[tuple[int, int], list[int]] = {}  # (bid, period) -> its flow columns
    quantity: dict[tuple[int, int], float] = {}
    n_x = len(ids)
    for (period,), part in bids.sort("period").group_by(["period"], maintain_order=True):
        buys = part.filter(pl.col("side") == "buy").select("bid", "owner", "price", "quantity").rows()
        sells = part.filter(pl.col("side") == "sell").select("bid", "owner", "price", "quantity").rows()
        for b, _o, _p, q in buys + sells:
            rows.setdefault((b, int(period)), [])
            quantity[(b, int(period))] = quantity.get((b, int(period)), 0.0) + float(q)
        for bb, bo, _bp, _bq in buys:
            for sb, so, _sp, _sq in sells:
                fee = int(fees[int(bo), int(so)])
                k = n_x + len(flows)
                h.addVar(0.0, highspy.kHighsInf)
                h.changeColCost(k, -float(fee))
                flows.append((int(period), bb, sb, int(bo), int(so), fee))
                rows[(bb, int(period))].append(k)
                rows[(sb, int(period))].append(k)
    row_keys = list(rows)
    for key in row_keys:
        b, _period = key
        idx = np.array([col[b], *rows[key]], dtype=np.int32)
        val = np.array([-quantity[key]] + [1.0] * len(rows[key]))
        h.addRow(0.0, 0.0, len(idx), idx, val)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise BadConfigurationError(f"the clearing did not solve to optimality: {status}", "bids", status)
    sol = np.array(h.getSolution().col_value)
    x = sol[:n_x].copy()
    aon = meta["all_or_nothing"].to_numpy().astype(bool)
    x[aon] = np.round(x[aon])
    for i in np.flatnonzero(aon):
        h.changeColIntegrality(int(i), highspy.HighsVarType.kContinuous)
        h.changeColBounds(int(i), float(x[i]), float(x[i]))
    h.run()
    ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    duals = np.array(h.getSolution().row_dual) if ok else np.full(len(row_keys), np.nan)
    f = np.array(h.getSolution().col_value)[n_x:] if ok else sol[n_x:]
    f = np.where(f > 1e-9, f, 0.0)
    side_of = dict(zip(meta["bid"].to_list(), meta["side"].to_list(), strict=True))
    periods = sorted(bids["period"].unique().to_list())
    seller_price: dict[int, float | None] = dict.fromkeys(int(p) for p in periods)
    for r, (b, period) in enumerate(row_keys):
        if side_of[b] == "sell" and x[col[b]] > 1e-9 and np.isfinite(duals[r]):
            d = abs(float(duals[r]))
            cur = seller_price[period]
            seller_price[period] = d if cur is None else max(cur, d)
    cols = (meta["side"].to_list(), meta["price"].to_list(), meta["total"].to_list(), x)
    gross = float(sum(_SIGN[s] * float(pr) * float(t) * xi for s, pr, t, xi in zip(*cols, strict=True)))
    fee_total = float(sum(fl[5] * q for fl, q in zip(flows, f.tolist(), strict=True)))
    volume = float(f.sum())
    accepted = meta.select("bid", "owner", "side").with_columns(pl.Series("share", x))
    used = [(*fl[:5], q, fl[5]) for fl, q in zip(flows, f.tolist(), strict=True) if q > 0]
    flow_frame = pl.DataFrame(
        used,
        schema={"period": pl.Int64, "buy_bid": pl.Int64, "sell_bid": pl.Int64, "buyer": pl.Int64,
                "seller": pl.Int64, "quantity": pl.Float64, "fee": pl.Int64},
        orient="row",
    )  # fmt: skip
    prices = pl.DataFrame({"period": periods, "price": [seller_price[int(p)] for p in periods]})
    return MultiPeriodResult(accepted, prices, gross - fee_total, volume, status, flow_frame, fee_total)
