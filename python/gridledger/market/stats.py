"""How good a market's outcome is (SPEC §4).

Welfare against the optimum, volume, budget balance, individual rationality
and surplus per participant.

Each participant has a side and a unit value: a buyer's willingness to pay or
a seller's cost. Given the trades any mechanism produced (buyer, seller,
quantity, price), the statistics compare it with the welfare-maximising
allocation of the same orders (the LP of :mod:`multi-period clearing
<gridledger.market.multiperiod>` with divisible single-period bids).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from gridledger.errors import InvalidArgumentError
from gridledger.market.multiperiod import clear_multi_period

__all__ = ["MarketStats", "market_stats", "optimal_welfare"]


@dataclass(frozen=True)
class MarketStats:
    """A market outcome's statistics.

    Welfare (Σ q·(value − cost)), its share of the optimum, volume, budget
    balance (Σ paid − Σ received; 0 when every trade is bilateral), the
    participants with negative surplus (individual rationality breached), and
    each participant's surplus.
    """

    welfare: float
    optimum: float
    efficiency: float
    volume: int
    budget_balance: float
    ir_violations: list[int]
    surplus: pl.DataFrame


def optimal_welfare(orders: pl.DataFrame) -> float:
    """Return the largest welfare the orders allow (``owner``, ``side``, ``quantity``, ``price``).

    Solved by :func:`~gridledger.market.clear_multi_period`: needs the ``milp`` extra (highspy).
    """
    if orders.height == 0:
        return 0.0
    bids = orders.with_row_index("bid").with_columns(
        pl.col("bid").cast(pl.Int64), pl.lit(0).alias("period"), pl.lit(False).alias("all_or_nothing")
    )
    return clear_multi_period(bids).welfare


def market_stats(trades: pl.DataFrame, orders: pl.DataFrame) -> MarketStats:
    """Compute the statistics of ``trades`` given the ``orders`` they came from.

    ``trades`` has ``buyer``, ``seller``, ``quantity``, ``price``; ``orders``
    has ``owner``, ``side``, ``quantity``, ``price`` (one order per owner, its
    price the owner's unit value).

    The optimum comes from :func:`optimal_welfare`: needs the ``milp`` extra (highspy).
    """
    for name, frame, cols in (
        ("trades", trades, ("buyer", "seller", "quantity", "price")),
        ("orders", orders, ("owner", "side", "quantity", "price")),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise InvalidArgumentError(f"{name} lacks columns {missing}", name, missing)
    if orders["owner"].n_unique() != orders.height:
        raise InvalidArgumentError(
            "one order per owner (its price is the owner's value)", "orders.owner", None
        )
    value = dict(zip(orders["owner"].to_list(), orders["price"].to_list(), strict=True))
    surplus: dict[int, float] = dict.fromkeys(value, 0.0)
    paid = received = welfare = 0.0
    volume = 0
    for b, s, q, p in trades.select("buyer", "seller", "quantity", "price").iter_rows():
        if b not in value or s not in value:
            raise InvalidArgumentError("a trade names an owner without an order", "trades", (b, s))
        surplus[b] += q * (value[b] - p)
        surplus[s] += q * (p - value[s])
        welfare += q * (value[b] - value[s])
        paid += q * p
        received += q * p
        volume += q
    optimum = optimal_welfare(orders)
    frame = pl.DataFrame({"owner": list(surplus), "surplus": list(surplus.values())})
    return MarketStats(
        welfare=welfare,
        optimum=optimum,
        efficiency=welfare / optimum if optimum > 0 else 1.0,
        volume=volume,
        budget_balance=paid - received,
        ir_violations=[o for o, v in surplus.items() if v < -1e-9],
        surplus=frame,
    )
