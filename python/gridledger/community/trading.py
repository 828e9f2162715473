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

On a feeder (a :class:`GridMarket` as ``market``, docs/grid.md "Fees" and
"Congestion"):

- **fees**: with a :class:`~gridledger.grid.fees.Tariff`, every deal carries
  the DSO's fee for the distance between the two members' buses (``fee``,
  m€/kWh on top of the price: the buyer pays price + fee). The call auction
  matches only ``bid ≥ ask + fee``. An order book has no counterparty before it
  matches, so in the CDA (and the MCP auction) each buyer's limit is its value
  less the largest fee it could owe to any of the period's sellers: every deal
  it makes is then worth its price + fee to it;
- **congestion**: the period's deals, in the order the market made them, pass
  :func:`~gridledger.grid.congestion.curtail` over the base flows of the
  members' consumption and the PV units' generation (W at their buses): a deal
  that would overload a line or the transformer is cut to what fits, one cut
  to zero is dropped, and every cut is kept in :meth:`Trader.curtailments`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gridledger.errors import BadConfigurationError, InvalidArgumentError
from gridledger.market.book import OrderBook
from gridledger.market.call_auction import clear_call_auction
from gridledger.market.pricing import mcp_auction

if TYPE_CHECKING:
    from gridledger.grid.feeder import Feeder
    from gridledger.grid.fees import Tariff

__all__ = ["MECHANISMS", "GridMarket", "Mechanism", "Trader"]

Mechanism = Literal["call", "cda", "mcp"]
MECHANISMS = ("call", "cda", "mcp")


@dataclass(frozen=True)
class Deal:
    seller: int
    buyer: int
    quantity: int
    price: int
    fee: int = 0


@dataclass(frozen=True)
class GridMarket:
    """A local market on a feeder: the mechanism, the DSO's tariff and the congestion rule.

    Parameters
    ----------
    mechanism
        ``"call"``, ``"cda"`` or ``"mcp"``.
    feeder
        The :class:`~gridledger.grid.feeder.Feeder`; its ``members`` are the
        community's, in order (and its ``units`` the community's PV units).
    tariff
        The fees by distance (m€/kWh), or None for no fees.
    congestion
        Apply the congestion rule to each period's deals.
    limit
        Loading the congestion rule allows (fraction of the ratings).
    """

    mechanism: Mechanism
    feeder: Feeder
    tariff: Tariff | None = None
    congestion: bool = False
    limit: float = 1.0


class Trader:
    """Forms each period's orders from the members' positions and clears them.

    Parameters
    ----------
    members
        Number of members.
    mechanism
        ``"call"``, ``"cda"`` or ``"mcp"``.
    seed
        Seeds the members' unit values and the CDA's arrival order.
    grid
        A :class:`GridMarket` (its mechanism must be ``mechanism``) for fees and
        congestion on a feeder; None for the plain market.
    period_minutes
        Length of a period (the congestion rule turns Wh into W with it).
    """

    def __init__(
        self,
        members: int,
        mechanism: Mechanism,
        seed: int,
        *,
        grid: GridMarket | None = None,
        period_minutes: int = 15,
    ) -> None:
        if mechanism not in MECHANISMS:
            raise BadConfigurationError(
                f"unknown market {mechanism!r}: use one of {MECHANISMS}", "market", mechanism
            )
        self.mechanism = mechanism
        rng = np.random.default_rng([seed, 0x6D61726B])
        self.buy_value = rng.integers(120, 301, size=members)
        self.sell_value = rng.integers(40, 151, size=members)
        self.order_rng = random.Random(seed * 31 + 7)
        self.deals: list[tuple[int, ...]] = []  # period, seller, buyer, quantity, price[, fee]
        self.grid = grid
        self.fees: NDArray[np.int64] | None = None
        self.cuts: list[tuple[int, int, int, int, int, str | None]] = []
        self.period_hours = period_minutes / 60
        if grid is not None:
            if grid.mechanism != mechanism:
                raise BadConfigurationError(
                    f"grid.mechanism {grid.mechanism!r} differs from mechanism {mechanism!r}",
                    "market.mechanism",
                    grid.mechanism,
                )
            if len(grid.feeder.members) != members:
                raise InvalidArgumentError(
                    f"the feeder places {len(grid.feeder.members)} members, the community has {members}",
                    "grid.feeder.members",
                    len(grid.feeder.members),
                )
            if grid.tariff is not None:
                from gridledger.grid.fees import fee_matrix

                self.fees = fee_matrix(grid.feeder, grid.tariff)

    @classmethod
    def create(
        cls, market: Mechanism | GridMarket, members: int, seed: int, period_minutes: int = 15
    ) -> Trader:
        """Return the trader of ``market``: a mechanism's name or a :class:`GridMarket`."""
        if isinstance(market, GridMarket):
            return cls(members, market.mechanism, seed, grid=market, period_minutes=period_minutes)
        return cls(members, market, seed, period_minutes=period_minutes)

    def period(
        self,
        period: int,
        alloc: NDArray[np.int64],
        consumption: NDArray[np.int64],
        generation: NDArray[np.int64] | None = None,
    ) -> list[Deal]:
        """Return the period's deals, given each member's allocation and consumption (Wh).

        ``generation`` is the PV units' output of the period (Wh), the base flows of the
        congestion rule (with the members' consumption); only used on a :class:`GridMarket`.
        """
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
        if self.grid is not None and self.grid.congestion and deals:
            deals = self._curtail(period, deals, consumption, generation)
        if self.fees is not None:
            deals = [
                Deal(d.seller, d.buyer, d.quantity, d.price, int(self.fees[d.buyer, d.seller])) for d in deals
            ]
            self.deals += [(period, d.seller, d.buyer, d.quantity, d.price, d.fee) for d in deals]
        else:
            self.deals += [(period, d.seller, d.buyer, d.quantity, d.price) for d in deals]
        return deals

    def _curtail(
        self,
        period: int,
        deals: list[Deal],
        consumption: NDArray[np.int64],
        generation: NDArray[np.int64] | None,
    ) -> list[Deal]:
        from gridledger.grid.congestion import curtail

        assert self.grid is not None
        feeder = self.grid.feeder
        h = self.period_hours
        unit_w = None
        if len(feeder.units):
            if generation is None or len(generation) != len(feeder.units):
                raise InvalidArgumentError(
                    f"the feeder places {len(feeder.units)} PV units: pass their generation of the period",
                    "generation",
                    None if generation is None else len(generation),
                )
            unit_w = np.asarray(generation, np.float64)[None, :] / h
        member_w = -np.asarray(consumption, np.float64)[None, :] / h
        p_w, _q = feeder.injections(
            member_w, unit_w, np.zeros((1, len(feeder.chargers))) if len(feeder.chargers) else None
        )
        trades = pl.DataFrame(
            {
                "period": np.zeros(len(deals), np.int64),
                "seller": np.array([d.seller for d in deals], np.int64),
                "buyer": np.array([d.buyer for d in deals], np.int64),
                "quantity": np.array([d.quantity for d in deals], np.int64),
            }
        )
        r = curtail(feeder, trades, p_w, period_hours=h, limit=self.grid.limit).trades
        out = []
        for d, ok, why in zip(deals, r["accepted"].to_list(), r["binding"].to_list(), strict=True):
            if ok < d.quantity:
                self.cuts.append((period, d.seller, d.buyer, d.quantity, ok, why))
            if ok > 0:
                out.append(Deal(d.seller, d.buyer, ok, d.price, d.fee))
        return out

    def curtailments(self) -> pl.DataFrame:
        """Every deal the congestion rule cut: period, seller, buyer, quantity, accepted (Wh), binding."""
        return pl.DataFrame(
            self.cuts,
            schema={
                "period": pl.Int64,
                "seller": pl.Int64,
                "buyer": pl.Int64,
                "quantity": pl.Int64,
                "accepted": pl.Int64,
                "binding": pl.String,
            },
            orient="row",
        )

    def _limit(self, buyers: NDArray[np.int64], sellers: NDArray[np.int64]) -> NDArray[np.int64]:
        """Return the buyers' limits: value, less the largest fee each could owe to the period's sellers."""
        value: NDArray[np.int64] = self.buy_value[buyers]
        if self.fees is None:
            return value
        return np.asarray(value - self.fees[np.ix_(buyers, sellers)].max(axis=1), np.int64)

    def _call(
        self, net: NDArray[np.int64], sellers: NDArray[np.int64], buyers: NDArray[np.int64]
    ) -> list[Deal]:
        r = clear_call_auction(
            (self.buy_value[buyers], -net[buyers], buyers),
            (self.sell_value[sellers], net[sellers], sellers),
            fees=self.fees,
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
        limit = dict(zip(buyers.tolist(), self._limit(buyers, sellers).tolist(), strict=True))
        deals = []
        for m, side in arrivals:
            price = int(self.sell_value[m] if side == "sell" else limit[m])
            if price < 1:
                continue  # the fees leave this buyer nothing to bid (the book's lowest tick is 1)
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
            {
                "period": period,
                "owner": buyers,
                "price": self._limit(buyers, sellers),
                "quantity": -net[buyers],
            }
        )
        sells = pl.DataFrame({"period": period, "owner": sellers, "quantity": net[sellers]})
        prices, fills = mcp_auction(buys, sells)
        mcp = prices["mcp"][0]
        price = int(mcp) if mcp is not None else 0
        return [Deal(s, b, q, price) for _, b, s, q in fills.iter_rows()]

    def frame(self) -> pl.DataFrame:
        """Every deal of the run: period, seller, buyer, quantity (Wh), price, with a tariff fee (m€/kWh)."""
        schema = {
            "period": pl.Int64,
            "seller": pl.Int64,
            "buyer": pl.Int64,
            "quantity": pl.Int64,
            "price": pl.Int64,
        }
        if self.fees is not None:
            schema["fee"] = pl.Int64
        return pl.DataFrame(self.deals, schema=schema, orient="row")
