"""The hourly market-clearing-price auction and NRGCoin's pricing (SPEC §4, seed 004 §3.1, §3.3).

MCP auction: each period (an hour in the seed) the price is the buyers' mean
bid weighted by quantity, MCP_t = Σ β_n·kWh_n / Σ kWh_n; buyers are served in
order of their bid's value β·kWh (highest first, then first-in), sellers
first-in first-out, until supply or demand runs out; everything trades at
MCP_t. Quantities are integers (Wh); the price is exact as a fraction and
reported as a float for analysis.

NRGCoin: a producer injecting x is paid g(x, t_p, t_c) = x·q / exp((t_p − t_c)²/a)
and a consumer taking y pays h(y, t_p, t_c) = y·r·t_c / (t_c + t_p), with t_p and
t_c the substation's total production and consumption in the slot.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import polars as pl
from numpy.typing import ArrayLike, NDArray

from gridledger.errors import BadConfigurationError, InvalidArgumentError

__all__ = ["mcp_auction", "nrgcoin_consumer_price", "nrgcoin_producer_reward"]


def _float(name: str, x: ArrayLike) -> NDArray[np.float64]:
    a = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise InvalidArgumentError(f"{name} must be finite", name, None)
    return a


def nrgcoin_producer_reward(
    x: ArrayLike, tp: ArrayLike, tc: ArrayLike, q: float, a: float
) -> NDArray[np.float64]:
    """g(x, t_p, t_c) = x·q / exp((t_p − t_c)² / a), element-wise (energy ≥ 0, a > 0)."""
    if not (np.isfinite(a) and a > 0):
        raise BadConfigurationError("a must be positive", "a", a)
    xa, tpa, tca = _float("x", x), _float("tp", tp), _float("tc", tc)
    if np.any(xa < 0):
        raise InvalidArgumentError("x must be ≥ 0", "x", None)
    return xa * q / np.exp((tpa - tca) ** 2 / a)


def nrgcoin_consumer_price(y: ArrayLike, tp: ArrayLike, tc: ArrayLike, r: float) -> NDArray[np.float64]:
    """h(y, t_p, t_c) = y·r·t_c / (t_c + t_p), element-wise (0 when t_c + t_p = 0)."""
    ya, tpa, tca = _float("y", y), _float("tp", tp), _float("tc", tc)
    if np.any(ya < 0) or np.any(tpa < 0) or np.any(tca < 0):
        raise InvalidArgumentError("y, tp and tc must be ≥ 0", "y", None)
    total = tca + tpa
    return np.divide(ya * r * tca, total, out=np.zeros(np.broadcast(ya, total).shape), where=total > 0)


def mcp_auction(buys: pl.DataFrame, sells: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Clear every period's MCP auction.

    Parameters
    ----------
    buys
        ``period``, ``owner``, ``price`` (β, per unit), ``quantity`` (integer); row order is arrival order.
    sells
        ``period``, ``owner``, ``quantity``.

    Returns
    -------
    (prices, fills)
        ``prices``: period, mcp (float), mcp_num / mcp_den (the exact fraction),
        demand, supply, volume. ``fills``: period, buyer, seller, quantity.
    """
    for name, frame, cols in (
        ("buys", buys, ("period", "owner", "price", "quantity")),
        ("sells", sells, ("period", "owner", "quantity")),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise InvalidArgumentError(f"{name} lacks columns {missing}", name, missing)
        if frame.height and (frame["quantity"] <= 0).any():
            raise InvalidArgumentError(f"{name}: quantities must be positive", f"{name}.quantity", None)
    if buys.height and (buys["price"] < 0).any():
        raise InvalidArgumentError("buys: prices must be ≥ 0", "buys.price", None)
    b = buys.with_row_index("_t")
    s = sells.with_row_index("_t")
    periods = sorted(set(b["period"].to_list()) | set(s["period"].to_list()))
    price_rows, fills = [], []
    for p in periods:
        bp = b.filter(pl.col("period") == p)
        sp = s.filter(pl.col("period") == p)
        num = sum(
            Fraction(pr) * q for pr, q in zip(bp["price"].to_list(), bp["quantity"].to_list(), strict=True)
        )
        den = int(bp["quantity"].sum()) if bp.height else 0
        mcp = Fraction(num) / den if den else None
        order = bp.with_columns((pl.col("price") * pl.col("quantity")).alias("_v")).sort(
            ["_v", "_t"], descending=[True, False]
        )
        demand = [[o, q] for o, q in zip(order["owner"].to_list(), order["quantity"].to_list(), strict=True)]
        supply = [[o, q] for o, q in zip(sp["owner"].to_list(), sp["quantity"].to_list(), strict=True)]
        i = j = 0
        volume = 0
        while i < len(demand) and j < len(supply):
            q = min(demand[i][1], supply[j][1])
            fills.append((p, demand[i][0], supply[j][0], q))
            volume += q
            demand[i][1] -= q
            supply[j][1] -= q
            i += demand[i][1] == 0
            j += supply[j][1] == 0
        price_rows.append(
            (p, float(mcp) if mcp is not None else None, mcp.numerator if mcp else None,
             mcp.denominator if mcp else None, den, int(sp["quantity"].sum()) if sp.height else 0, volume)
        )  # fmt: skip
    prices = pl.DataFrame(
        price_rows,
        schema={"period": pl.Int64, "mcp": pl.Float64, "mcp_num": pl.Int64, "mcp_den": pl.Int64,
                "demand": pl.Int64, "supply": pl.Int64, "volume": pl.Int64},
        orient="row",
    )  # fmt: skip
    fill = pl.DataFrame(
        fills,
        schema={"period": pl.Int64, "buyer": pl.Int64, "seller": pl.Int64, "quantity": pl.Int64},
        orient="row",
    )
    return prices, fill
