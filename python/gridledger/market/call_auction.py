"""The call market (time-discrete double auction, SPEC §4).

Orders are collected over an interval and cleared at one uniform price that
maximises the volume.

Bids are walked from the highest price down and asks from the lowest up,
each in time order (row order) within a price; while the current bid's price
is at least the current ask's, they trade as much as both still have. This
greedy walk gives the largest volume any uniform price can clear. The last
bid and ask it touches are the marginal ones, and the price is

- ``"marginal_bid"``: the lowest accepted bid;
- ``"marginal_ask"``: the highest accepted ask;
- ``"midpoint"`` (default): their mean, rounded down to a whole tick.

Any of these lies between the marginal prices, so every accepted order trades
at a price it accepts. Ties: at one price, earlier rows are served first;
the partially filled marginal order is the last one reached. Quantities are
divisible (integers). With no crossing order there is no price (``None``).

Grid fees (``fees=``, docs/grid.md "Fees"): a ``(owners × owners)`` integer
matrix ``fees[buyer, seller]`` (ticks per unit, e.g. from
:func:`gridledger.grid.fees.fee_matrix`). The seller receives the uniform
price ``p``, the buyer pays ``p + fee`` and the fee goes to the DSO, so a bid
and an ask may trade at ``p`` only when ``ask ≤ p`` and ``p + fee ≤ bid`` —
that is, only when ``bid ≥ ask + fee``: nobody pays more than its limit and
the DSO's revenue never comes out of a trader's surplus. Pair-dependent fees
break the single walk above, so the clearing is then a scan over uniform
prices: for each candidate ``p`` (every ask price and every ``bid − fee``),
the asks at or below ``p`` are eligible, and bids in price–time order each
take from the eligible asks they accept at ``p`` (``fee ≤ bid − p``), lowest
fee first, then lowest ask, then time. The largest volume wins; the prices
that reach it form a set whose lowest and highest members play the marginal
ask's and marginal bid's roles in ``price_rule``. Every comparison and price is
integer, so the result is exact; with no fees (``fees=None``, the default)
the clearing is the walk above, unchanged. The fills gain a ``fee`` column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gridledger.errors import BadConfigurationError, InvalidArgumentError

__all__ = ["CallAuctionResult", "clear_call_auction", "orders_arrays"]

PriceRule = Literal["midpoint", "marginal_bid", "marginal_ask"]
FILL_SCHEMA = {
    "buy": pl.Int64,
    "sell": pl.Int64,
    "buyer": pl.Int64,
    "seller": pl.Int64,
    "quantity": pl.Int64,
    "price": pl.Int64,
}
FEE_FILL_SCHEMA = {**FILL_SCHEMA, "fee": pl.Int64}


@dataclass(frozen=True)
class CallAuctionResult:
    """The clearing: uniform ``price`` (ticks, None if nothing crosses), ``volume`` and the fills.

    ``fills`` has one row per (bid, ask) pair that traded: the rows' indices
    in the inputs, the owners, the quantity and the price.
    """

    price: int | None
    volume: int
    fills: pl.DataFrame


def orders_arrays(
    orders: pl.DataFrame | tuple[object, object, object] | NDArray[np.void], name: str
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """(price, quantity, owner) integer arrays from a frame, a structured array or three sequences."""
    if isinstance(orders, pl.DataFrame):
        cols = [orders[c].to_numpy() for c in ("price", "quantity", "owner")]
    elif isinstance(orders, np.ndarray) and orders.dtype.names is not None:
        cols = [orders[c] for c in ("price", "quantity", "owner")]
    else:
        cols = [np.asarray(c) for c in orders]
        if len(cols) != 3:
            raise InvalidArgumentError(f"{name} must be (price, quantity, owner)", name, len(cols))
    n = len(cols[0])
    out = []
    for field, c in zip(("price", "quantity", "owner"), cols, strict=True):
        a = np.asarray(c)
        if len(a) != n:
            raise InvalidArgumentError(
                f"{name}: {field} has {len(a)} rows, price has {n}", f"{name}.{field}", len(a)
            )
        if a.dtype.kind == "f" and (not np.all(np.isfinite(a)) or np.any(a != np.floor(a))):
            i = int(np.flatnonzero(~np.isfinite(a) | (a != np.floor(a)))[0])
            raise InvalidArgumentError(
                f"{name}[{i}].{field} = {a[i]}: must be a whole number", f"{name}[{i}].{field}", a[i]
            )
        if a.dtype.kind not in "iuf" and n:
            raise InvalidArgumentError(f"{name}.{field} must be numeric", f"{name}.{field}", str(a.dtype))
        out.append(a.astype(np.int64))
    if n and np.any(out[1] <= 0):
        i = int(np.flatnonzero(out[1] <= 0)[0])
        raise InvalidArgumentError(
            f"{name}[{i}].quantity must be positive", f"{name}[{i}].quantity", int(out[1][i])
        )
    return out[0], out[1], out[2]


def clear_call_auction(
    bids: pl.DataFrame | tuple[object, object, object] | NDArray[np.void],
    asks: pl.DataFrame | tuple[object, object, object] | NDArray[np.void],
    price_rule: PriceRule = "midpoint",
    *,
    fees: object = None,
) -> CallAuctionResult:
    """Clear a call market at one uniform price that maximises the traded volume.

    Parameters
    ----------
    bids, asks
        (price, quantity, owner) as a polars frame, a numpy structured array
        or three sequences; row order is time order.
    price_rule
        ``"midpoint"``, ``"marginal_bid"`` or ``"marginal_ask"``.
    fees
        Optional ``(owners × owners)`` grid fee matrix ``fees[buyer, seller]``
        (whole ticks per unit, ≥ 0); see the module's notes.

    Raises
    ------
    InvalidArgumentError
        Malformed orders; a fee matrix that is not square, holds a negative or
        fractional fee, or has no row for some owner.
    """
    if price_rule not in ("midpoint", "marginal_bid", "marginal_ask"):
        raise BadConfigurationError(
            f"unknown price_rule {price_rule!r}: midpoint, marginal_bid or marginal_ask",
            "price_rule",
            price_rule,
        )
    bp, bq, bo = orders_arrays(bids, "bids")
    ap, aq, ao = orders_arrays(asks, "asks")
    if fees is not None:
        from gridledger.grid.fees import check_fee_matrix

        f = check_fee_matrix(fees, np.concatenate([bo, ao]))
        return _clear_with_fees(bp, bq, bo, ap, aq, ao, f, price_rule)
    border = np.lexsort((np.arange(len(bp)), -bp))
    aorder = np.lexsort((np.arange(len(ap)), ap))
    brem, arem = bq.copy(), aq.copy()
    fills: list[tuple[int, int, int, int, int]] = []
    i = j = 0
    last = None
    while i < len(border) and j < len(aorder):
        b, a = int(border[i]), int(aorder[j])
        if bp[b] < ap[a]:
            break
        q = int(min(brem[b], arem[a]))
        fills.append((b, a, int(bo[b]), int(ao[a]), q))
        brem[b] -= q
        arem[a] -= q
        last = (int(bp[b]), int(ap[a]))
        if brem[b] == 0:
            i += 1
        if arem[a] == 0:
            j += 1
    volume = sum(f[4] for f in fills)
    price: int | None = None
    if last is not None:
        low_bid, high_ask = last
        price = {"marginal_bid": low_bid, "marginal_ask": high_ask, "midpoint": (low_bid + high_ask) // 2}[
            price_rule
        ]
    frame = pl.DataFrame([(*f, price) for f in fills], schema=FILL_SCHEMA, orient="row")
    return CallAuctionResult(price, volume, frame)


def _greedy_at(
    p: int,
    bp: NDArray[np.int64],
    bq: NDArray[np.int64],
    bo: NDArray[np.int64],
    ap: NDArray[np.int64],
    aq: NDArray[np.int64],
    ao: NDArray[np.int64],
    fees: NDArray[np.int64],
    border: NDArray[np.int64],
) -> list[tuple[int, int, int, int, int, int]]:
    """Return the fills at uniform price ``p``: (bid, ask, buyer, seller, quantity, fee)."""
    arem = np.where(ap <= p, aq, 0)
    fills = []
    for b in border.tolist():
        if bp[b] < p:
            break
        fee = fees[bo[b], ao]
        ok = np.flatnonzero((arem > 0) & (fee <= bp[b] - p))
        if not len(ok):
            continue
        need = int(bq[b])
        for a in ok[np.lexsort((ok, ap[ok], fee[ok]))].tolist():
            q = min(need, int(arem[a]))
            fills.append((b, a, int(bo[b]), int(ao[a]), q, int(fee[a])))
            arem[a] -= q
            need -= q
            if need == 0:
                break
    return fills


def _clear_with_fees(
    bp: NDArray[np.int64],
    bq: NDArray[np.int64],
    bo: NDArray[np.int64],
    ap: NDArray[np.int64],
    aq: NDArray[np.int64],
    ao: NDArray[np.int64],
    fees: NDArray[np.int64],
    price_rule: PriceRule,
) -> CallAuctionResult:
    """Clear by the uniform-price scan of the module notes (fees charged on top of the price)."""
    border = np.lexsort((np.arange(len(bp)), -bp))
    candidates: set[int] = set(ap.tolist())
    if len(bp) and len(ap):
        candidates |= set((bp[:, None] - fees[bo[:, None], ao[None, :]]).ravel().tolist())
    lo_ask = int(ap.min()) if len(ap) else 0
    hi_bid = int(bp.max()) if len(bp) else -1
    best_volume = 0
    best: list[int] = []
    for p in sorted(c for c in candidates if lo_ask <= c <= hi_bid):
        v = sum(f[4] for f in _greedy_at(p, bp, bq, bo, ap, aq, ao, fees, border))
        if v > best_volume:
            best_volume, best = v, [p]
        elif v == best_volume and v > 0:
            best.append(p)
    if not best:
        return CallAuctionResult(None, 0, pl.DataFrame(schema=FEE_FILL_SCHEMA))
    low, high = best[0], best[-1]
    price = {"marginal_bid": high, "marginal_ask": low, "midpoint": (low + high) // 2}[price_rule]
    fills = _greedy_at(price, bp, bq, bo, ap, aq, ao, fees, border)
    if sum(f[4] for f in fills) != best_volume:
        # The midpoint of the best set may fall in a gap between candidates that reach it
        # (volume is not monotone in p when fees differ): take the best candidate at or below it.
        price = max(c for c in best if c <= price)
        fills = _greedy_at(price, bp, bq, bo, ap, aq, ao, fees, border)
    rows = [(b, a, buyer, seller, q, price, fee) for b, a, buyer, seller, q, fee in fills]
    return CallAuctionResult(price, best_volume, pl.DataFrame(rows, schema=FEE_FILL_SCHEMA, orient="row"))
