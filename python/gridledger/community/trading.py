"""Members trading their surplus virtual generation each period (issue: markets, item 7).

After the VPP's distribution, a member whose virtual meter received more than
it consumed in the period can sell the difference, and a member who received
less can buy. Each member has a seeded unit value (what a buyer would pay at
most, what a seller accepts at least, in milli-euro per kWh: buyers 120–300,
sellers 40–150, below the retail price and above the feed-in tariff). The
orders clear through the chosen mechanism:

- ``"call"``: one call auction per period at a uniform midpoint price;
- ``"cda"``: members arrive in a seeded random order and trade on the Rust order
  book as they arrive; what is left is cancelled at the end of the period;
- ``"mcp"``: the hourly market-clearing-price auction of seed 004 §3.1, per period.

Energy is settled on the ledger: each seller spends its distribution output of
the period in one Transfer paying its buyers (and the change back to itself),
signed by the seller, in the same block. Payments are recorded with the trades
(the ledger carries energy; euro settlement is the PowerChain's, issue 7).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gridledger.errors import BadConfigurationError
from gridledger.market.book import OrderBook
from gridledger.market.call_auction import clear_call_auction
from gridledger.market.pricing import mcp_auction

__all__ = ["MECHANISMS", "Mechanism", "Trader"]

Mechanism = Literal["call", "cda", "mcp"]
MECHANISMS = ("call", "cda", "mcp")


@dataclass(frozen=True)
class Deal:
    seller: int
    buyer: int
    quantity: int
    price: int


class Trader:
    """Forms each period's orders from the members' positions and clears them."""

    def __init__(self, members: int, mechanism: Mechanism, seed: int) -> None:
        if mechanism not in MECHANISMS:
            raise BadConfigurationError(
                f"unknown market {mechanism!r}: use one of {MECHANISMS}", "market", mechanism
            )
        self.mechanism = mechanism
        rng = np.random.default_rng([seed, 0x6D61726B])
        self.buy_value = rng.integers(120, 301, size=members)
        self.sell_value = rng.integers(40, 151, size=members)
        self.order_rng = random.Random(seed * 31 + 7)
        self.deals: list[tuple[int, int, int, int, int]] = []  # period, seller, buyer, quantity, price

    def period(self, period: int, alloc: NDArray[np.int64], consumption: NDArray[np.int64]) -> list[Deal]:
        """Return the period's deals, given each member's allocation and consumption (Wh)."""
        net = alloc - consumption
        sellers = np.flatnonzero(net > 0)
        buyers = np.flatnonzero(net < 0)
        if not len(sellers) or not len(buyers):
            return []
        if self.mechanism == "call":
            deals = self._call(net, sellers, buyers)
        elif self.mechanism == "cda":
            deals = self._cda(net, sellers, buyers)
        else:
            deals = self._mcp(period, net, sellers, buyers)
        self.deals += [(period, d.seller, d.buyer, d.quantity, d.price) for d in deals]
        return deals

    def _call(
        self, net: NDArray[np.int64], sellers: NDArray[np.int64], buyers: NDArray[np.int64]
    ) -> list[Deal]:
        r = clear_call_auction(
            (self.buy_value[buyers], -net[buyers], buyers), (self.sell_value[sellers], net[sellers], sellers)
        )
        return [
            Deal(s, b, q, p)
            for b, s, q, p in r.fills.select("buyer", "seller", "quantity", "price").iter_rows()
        ]

    def _cda(
        self, net: NDArray[np.int64], sellers: NDArray[np.int64], buyers: NDArray[np.int64]
    ) -> list[Deal]:
        book = OrderBook()
        arrivals = [(int(m), "sell") for m in sellers] + [(int(m), "buy") for m in buyers]
        self.order_rng.shuffle(arrivals)
        deals = []
        for m, side in arrivals:
            price = int(self.sell_value[m] if side == "sell" else self.buy_value[m])
            s = book.submit(side, price, int(abs(net[m])), owner=m)  # type: ignore[arg-type]
            for t in s.trades:
                seller, buyer = (
                    (t.maker_owner, t.taker_owner) if side == "buy" else (t.taker_owner, t.maker_owner)
                )
                deals.append(Deal(seller, buyer, t.quantity, t.price))
        return deals

    def _mcp(
        self, period: int, net: NDArray[np.int64], sellers: NDArray[np.int64], buyers: NDArray[np.int64]
    ) -> list[Deal]:
        buys = pl.DataFrame(
            {"period": period, "owner": buyers, "price": self.buy_value[buyers], "quantity": -net[buyers]}
        )
        sells = pl.DataFrame({"period": period, "owner": sellers, "quantity": net[sellers]})
        prices, fills = mcp_auction(buys, sells)
        mcp = prices["mcp"][0]
        price = int(mcp) if mcp is not None else 0
        return [Deal(s, b, q, price) for _, b, s, q in fills.iter_rows()]

    def frame(self) -> pl.DataFrame:
        """Every deal of the run: period, seller, buyer, quantity (Wh), price (m€/kWh)."""
        return pl.DataFrame(
            self.deals,
            schema={
                "period": pl.Int64,
                "seller": pl.Int64,
                "buyer": pl.Int64,
                "quantity": pl.Int64,
                "price": pl.Int64,
            },
            orient="row",
        )
