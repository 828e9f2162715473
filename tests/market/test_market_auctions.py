"""Call auction, MCP auction, NRGCoin and multi-period clearing: known answers
worked out by hand here, brute force on small cases, and market statistics."""

from __future__ import annotations

import itertools
import math

import numpy as np
import polars as pl
import pytest
from gridledger.errors import BadConfigurationError, InvalidArgumentError
from gridledger.market import (
    clear_call_auction,
    clear_multi_period,
    market_stats,
    mcp_auction,
    nrgcoin_consumer_price,
    nrgcoin_producer_reward,
)


def test_call_auction_by_hand() -> None:
    # Bids 30×4, 25×3, 20×5; asks 10×2, 18×4, 24×6.
    # Walk: 30/10 → 2; 30/18 → 2 (bid 0 done); 25/18 → 2 (ask 1 done); 25/24 → 1 (bid 1 done);
    # 20 < 24 stops. Volume 7; marginal bid 25, marginal ask 24.
    bids = ([30, 25, 20], [4, 3, 5], [1, 2, 3])
    asks = ([10, 18, 24], [2, 4, 6], [7, 8, 9])
    r = clear_call_auction(bids, asks, "marginal_bid")
    assert (r.price, r.volume) == (25, 7)
    assert r.fills.select("buy", "sell", "quantity").rows() == [(0, 0, 2), (0, 1, 2), (1, 1, 2), (1, 2, 1)]
    assert clear_call_auction(bids, asks, "marginal_ask").price == 24
    assert clear_call_auction(bids, asks).price == 24  # (25 + 24) // 2
    assert (r.fills["price"] == 25).all()


def test_call_auction_ties_serve_earlier_rows_first_and_no_cross() -> None:
    r = clear_call_auction(([20, 20], [3, 3], [1, 2]), ([15], [4], [9]))
    assert r.fills.select("buyer", "quantity").rows() == [(1, 3), (2, 1)]
    none = clear_call_auction(([10], [1], [1]), ([11], [1], [2]))
    assert none.price is None and none.volume == 0 and none.fills.height == 0
    frame = pl.DataFrame({"price": [30], "quantity": [1], "owner": [5]})
    assert clear_call_auction(frame, frame).volume == 1


@pytest.mark.parametrize(
    ("bids", "rule", "error"),
    [
        (([10], [0], [1]), "midpoint", InvalidArgumentError),
        (([10], [1.5], [1]), "midpoint", InvalidArgumentError),
        (([10, 11], [1], [1]), "midpoint", InvalidArgumentError),
        (([float("nan")], [1], [1]), "midpoint", InvalidArgumentError),
        (([10], [1], [1]), "median", BadConfigurationError),
    ],
)
def test_call_auction_bad_input(bids: tuple[list[float], ...], rule: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        clear_call_auction(bids, ([5], [1], [2]), rule)  # type: ignore[arg-type]


def test_mcp_auction_by_hand() -> None:
    # Period 7: buyers (β, kWh) A (10, 2), B (20, 1), C (5, 6); MCP = (20 + 20 + 30) / 9 = 70/9.
    # Values β·kWh: A 20, B 20, C 30 → order C, A (earlier), B. Sellers: X 4, Y 3.
    buys = pl.DataFrame(
        {"period": [7, 7, 7, 8], "owner": [1, 2, 3, 1], "price": [10, 20, 5, 4], "quantity": [2, 1, 6, 5]}
    )
    sells = pl.DataFrame({"period": [7, 7, 8], "owner": [10, 11, 10], "quantity": [4, 3, 2]})
    prices, fills = mcp_auction(buys, sells)
    p7 = prices.filter(pl.col("period") == 7).row(0, named=True)
    assert (p7["mcp_num"], p7["mcp_den"]) == (70, 9) and p7["mcp"] == pytest.approx(70 / 9)
    assert (p7["demand"], p7["supply"], p7["volume"]) == (9, 7, 7)
    assert fills.filter(pl.col("period") == 7).rows() == [(7, 3, 10, 4), (7, 3, 11, 2), (7, 1, 11, 1)]
    p8 = prices.filter(pl.col("period") == 8).row(0, named=True)
    assert p8["mcp"] == 4.0 and p8["volume"] == 2


def test_nrgcoin_by_hand() -> None:
    # g = x·q / exp((tp − tc)²/a): x = 2, q = 3, tp = tc → 6; tp − tc = 2, a = 4 → 6/e.
    assert nrgcoin_producer_reward(2.0, 5.0, 5.0, q=3.0, a=4.0) == pytest.approx(6.0)
    assert nrgcoin_producer_reward(2.0, 7.0, 5.0, q=3.0, a=4.0) == pytest.approx(6.0 / math.e)
    # h = y·r·tc / (tc + tp): y = 4, r = 0.3, tc = 1, tp = 3 → 0.3; tp = 0 → y·r.
    np.testing.assert_allclose(nrgcoin_consumer_price([4.0, 4.0], [3.0, 0.0], [1.0, 1.0], r=0.3), [0.3, 1.2])
    assert nrgcoin_consumer_price(1.0, 0.0, 0.0, r=0.3) == 0.0
    with pytest.raises(BadConfigurationError):
        nrgcoin_producer_reward(1.0, 1.0, 1.0, q=1.0, a=0.0)
    with pytest.raises(InvalidArgumentError):
        nrgcoin_consumer_price(-1.0, 1.0, 1.0, r=0.3)


def bid_rows(spec: list[tuple[int, int, str, dict[int, int], float, bool]]) -> pl.DataFrame:
    rows = [(b, o, s, p, q, price, aon) for b, o, s, per, price, aon in spec for p, q in per.items()]
    return pl.DataFrame(
        rows, schema=["bid", "owner", "side", "period", "quantity", "price", "all_or_nothing"], orient="row"
    )


def brute_force(spec: list[tuple[int, int, str, dict[int, int], float, bool]]) -> float:
    """All bids all-or-nothing: the best balanced subset by enumeration."""
    best = 0.0
    periods = {p for *_, per, _, _ in [(s[0], s[1], s[2], s[3], s[4], s[5]) for s in spec] for p in per}
    for pick in itertools.product([0, 1], repeat=len(spec)):
        net = dict.fromkeys(periods, 0)
        w = 0.0
        for x, (_, _, side, per, price, _) in zip(pick, spec, strict=True):
            if x:
                for p, q in per.items():
                    net[p] += q if side == "buy" else -q
                w += (1 if side == "buy" else -1) * price * sum(per.values())
        if all(v == 0 for v in net.values()):
            best = max(best, w)
    return best


def test_multi_period_matches_brute_force() -> None:
    spec = [
        (1, 1, "buy", {0: 2, 1: 2}, 10.0, True),  # needs both periods
        (2, 2, "sell", {0: 2}, 3.0, True),
        (3, 3, "sell", {1: 2}, 8.0, True),
        (4, 4, "sell", {1: 2}, 11.0, True),
        (5, 5, "buy", {1: 2}, 9.0, True),
        (6, 6, "sell", {0: 2, 1: 2}, 4.0, True),
        (7, 7, "buy", {0: 2}, 6.0, True),
    ]
    r = clear_multi_period(bid_rows(spec))
    assert r.welfare == pytest.approx(brute_force(spec))
    rng = np.random.default_rng(0)
    for _ in range(10):
        spec = []
        for b in range(7):
            periods = sorted(rng.choice(3, size=int(rng.integers(1, 3)), replace=False).tolist())
            qty = {int(p): int(rng.integers(1, 3)) for p in periods}
            spec.append((b, b, str(rng.choice(["buy", "sell"])), qty, float(rng.integers(1, 20)), True))
        assert clear_multi_period(bid_rows(spec)).welfare == pytest.approx(brute_force(spec)), spec


def test_divisible_single_period_bids_give_the_call_auctions_welfare() -> None:
    bids = ([30, 25, 20], [4, 3, 5], [1, 2, 3])
    asks = ([10, 18, 24], [2, 4, 6], [7, 8, 9])
    r = clear_call_auction(bids, asks, "marginal_bid")
    welfare = sum(
        q * (bids[0][b] - asks[0][a]) for b, a, q in r.fills.select("buy", "sell", "quantity").iter_rows()
    )
    spec = [(i, o, "buy", {0: q}, float(p), False) for i, (p, q, o) in enumerate(zip(*bids, strict=True))]
    spec += [
        (10 + i, o, "sell", {0: q}, float(p), False) for i, (p, q, o) in enumerate(zip(*asks, strict=True))
    ]
    m = clear_multi_period(bid_rows(spec))
    assert m.welfare == pytest.approx(welfare) and m.volume == pytest.approx(7)
    price = m.prices["price"][0]
    assert 24 <= price <= 25  # supports the allocation: marginal ask 24, marginal bid 25


def test_multi_period_bad_input() -> None:
    good = bid_rows([(1, 1, "buy", {0: 1}, 5.0, False)])
    with pytest.raises(InvalidArgumentError):
        clear_multi_period(good.drop("side"))
    with pytest.raises(InvalidArgumentError):
        clear_multi_period(good.with_columns(pl.lit("hold").alias("side")))
    with pytest.raises(InvalidArgumentError):
        clear_multi_period(good.with_columns(pl.lit(0).alias("quantity")))
    two_prices = bid_rows([(1, 1, "buy", {0: 1}, 5.0, True), (1, 1, "buy", {1: 1}, 6.0, True)])
    with pytest.raises(InvalidArgumentError):
        clear_multi_period(two_prices)


def test_market_stats() -> None:
    orders = pl.DataFrame(
        {
            "owner": [1, 2, 7, 8],
            "side": ["buy", "buy", "sell", "sell"],
            "quantity": [4, 3, 2, 4],
            "price": [30, 25, 10, 18],
        }
    )
    bids = ([30, 25], [4, 3], [1, 2])
    asks = ([10, 18], [2, 4], [7, 8])
    r = clear_call_auction(bids, asks, "marginal_bid")
    trades = r.fills.select("buyer", "seller", "quantity", "price")
    s = market_stats(trades, orders)
    assert s.volume == 6 and s.budget_balance == 0 and s.ir_violations == []
    assert s.welfare == pytest.approx(s.optimum) and s.efficiency == pytest.approx(1.0)
    bad = pl.DataFrame({"buyer": [2], "seller": [8], "quantity": [1], "price": [40]})
    s2 = market_stats(bad, orders)
    assert s2.ir_violations == [2] and s2.efficiency < 1
