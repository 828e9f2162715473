"""Grid fees by electrical distance in the call auction, the CDA settlement and the multi-period
clearing (issue 20 item 6): worked answers, zero fees change nothing, properties, bad input."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from gridledger.errors import InvalidArgumentError
from gridledger.grid.fees import Tariff, check_fee_matrix, settle_fees
from gridledger.market import clear_call_auction, clear_multi_period
from hypothesis import given, settings
from hypothesis import strategies as st


def test_call_auction_fee_by_hand() -> None:
    # Buyer 0 (bid 30) and buyer 1 (bid 25); seller 2 (ask 20) is on buyer 0's bus (fee 0) and
    # far from buyer 1 (fee 10); seller 3 (ask 12) is far from both (fee 10).
    fees = np.array([[0, 0, 0, 10], [0, 0, 10, 10], [0, 0, 0, 0], [0, 0, 0, 0]])
    bids = ([30, 25], [5, 5], [0, 1])
    asks = ([20, 12], [5, 5], [2, 3])
    # Candidates: asks 12, 20 and bid - fee: 30, 25 (fee 0), 20, 15 (fee 10). Buyer 1 needs
    # p ≤ 25 - 10 = 15 and a seller at or below p: only seller 3, which buyer 0 (first in price
    # priority) takes whole. Buyer 0 trades 5 at every candidate 12 … 30, so the volume is 5, the
    # best set runs from 12 to 30 and the midpoint is 21 (buyer 0 then takes seller 2, fee 0).
    r = clear_call_auction(bids, asks, fees=fees)
    assert r.volume == 5
    assert r.price == 21
    assert r.fills["seller"].to_list() == [2]
    # Fees charged on top: no buyer pays more than its bid, no seller gets less than its ask.
    for row in r.fills.iter_rows(named=True):
        assert row["price"] + row["fee"] <= bids[0][row["buy"]]
        assert row["price"] >= asks[0][row["sell"]]
    # Without fees both buyers trade.
    assert clear_call_auction(bids, asks).volume == 10


def test_call_auction_prefers_the_nearest_seller() -> None:
    # Two sellers at the same ask, one on the buyer's bus (fee 0), one through the transformer (fee 5).
    fees = np.array([[0, 5, 0], [0, 0, 0], [0, 0, 0]])
    r = clear_call_auction(([50], [3], [0]), ([10, 10], [3, 3], [1, 2]), fees=fees)
    assert r.fills["seller"].to_list() == [2]
    assert r.fills["fee"].to_list() == [0]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 40), st.integers(1, 9), st.integers(0, 4)), max_size=6),
    st.lists(st.tuples(st.integers(1, 40), st.integers(1, 9), st.integers(0, 4)), max_size=6),
    st.sampled_from(["midpoint", "marginal_bid", "marginal_ask"]),
)
def test_zero_fees_change_nothing(
    bids: list[tuple[int, int, int]], asks: list[tuple[int, int, int]], rule: str
) -> None:
    b = tuple(map(list, zip(*bids, strict=True))) if bids else ([], [], [])
    a = tuple(map(list, zip(*asks, strict=True))) if asks else ([], [], [])
    plain = clear_call_auction(b, a, rule)  # type: ignore[arg-type]
    zero = clear_call_auction(b, a, rule, fees=np.zeros((5, 5), np.int64))  # type: ignore[arg-type]
    assert (plain.price, plain.volume) == (zero.price, zero.volume)
    assert plain.fills.equals(zero.fills.drop("fee"))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 40), st.integers(1, 9), st.integers(0, 4)), max_size=6),
    st.lists(st.tuples(st.integers(1, 40), st.integers(1, 9), st.integers(0, 4)), max_size=6),
    st.lists(st.integers(0, 12), min_size=25, max_size=25),
)
def test_fee_clearing_is_individually_rational_and_conserves(
    bids: list[tuple[int, int, int]], asks: list[tuple[int, int, int]], cells: list[int]
) -> None:
    fees = np.array(cells, np.int64).reshape(5, 5)
    b = tuple(map(list, zip(*bids, strict=True))) if bids else ([], [], [])
    a = tuple(map(list, zip(*asks, strict=True))) if asks else ([], [], [])
    r = clear_call_auction(b, a, fees=fees)  # type: ignore[arg-type]
    assert r.volume == int(r.fills["quantity"].sum())
    for row in r.fills.iter_rows(named=True):
        assert row["fee"] == fees[row["buyer"], row["seller"]]
        assert b[0][row["buy"]] >= row["price"] + row["fee"]  # the matching rule bid ≥ ask + fee
        assert a[0][row["sell"]] <= row["price"]
    # No order trades more than it offered.
    for side, key, orders in (("buy", "buy", b), ("sell", "sell", a)):
        per = r.fills.group_by(key).agg(pl.col("quantity").sum())
        for i, q in per.iter_rows():
            assert q <= orders[1][i], side
    settled = settle_fees(r.fills, fees)
    assert (settled["buyer_pays"] == settled["seller_gets"] + settled["dso_gets"]).all()


def test_settle_fees_cda_tape() -> None:
    trades = pl.DataFrame({"buyer": [0, 1], "seller": [2, 2], "quantity": [1000, 500], "price": [120, 130]})
    fees = np.array([[0, 0, 7, 0], [0, 0, 15, 0], [0] * 4, [0] * 4])
    s = settle_fees(trades, fees)
    assert s["fee"].to_list() == [7, 15]
    assert s["buyer_pays"].to_list() == [127_000, 72_500]
    assert s["dso_gets"].to_list() == [7_000, 7_500]


def _bids(rows: list[tuple[int, int, str, int, int, int, bool]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema=["bid", "owner", "side", "period", "quantity", "price", "all_or_nothing"], orient="row"
    )


def test_multi_period_fee_by_hand() -> None:
    pytest.importorskip("highspy")
    # Seller 0 (ask 10, 4 units) and seller 1 (ask 14, 4 units); buyer 2 (bid 20, 4 units).
    # Fee 8 from seller 0 to buyer 2 (through the transformer), 0 from seller 1 (same bus):
    # 20 - 10 - 8 = 2 < 20 - 14 - 0 = 6, so buyer 2 buys from seller 1; welfare 4 × 6 = 24.
    bids = _bids(
        [(0, 0, "sell", 0, 4, 10, False), (1, 1, "sell", 0, 4, 14, False), (2, 2, "buy", 0, 4, 20, False)]
    )
    fees = np.zeros((3, 3), np.int64)
    fees[2, 0] = 8
    r = clear_multi_period(bids, fees=fees)
    assert r.welfare == pytest.approx(24.0)
    assert r.fee_total == pytest.approx(0.0)
    assert r.flows is not None and r.flows["seller"].to_list() == [1]
    assert r.flows["quantity"].to_list() == pytest.approx([4.0])
    # A fee of 8 on both: buying from seller 0 nets 2 a unit, seller 1 nets -2: seller 0, fee 32 to the DSO.
    fees[2, 1] = 8
    r = clear_multi_period(bids, fees=fees)
    assert r.flows is not None and r.flows["seller"].to_list() == [0]
    assert r.welfare == pytest.approx(8.0) and r.fee_total == pytest.approx(32.0)
    # Both sides fully accepted: any seller price in [ask, bid - fee] = [10, 12] supports it.
    assert 10.0 - 1e-9 <= r.prices["price"][0] <= 12.0 + 1e-9


def test_multi_period_zero_fees_same_welfare() -> None:
    pytest.importorskip("highspy")
    rng = np.random.default_rng(7)
    for _ in range(15):
        rows = []
        for b in range(8):
            side = "buy" if b % 2 else "sell"
            price, owner = int(rng.integers(1, 50)), int(rng.integers(0, 4))
            for period in sorted(set(rng.integers(0, 3, int(rng.integers(1, 3))).tolist())):
                rows.append((b, owner, side, period, int(rng.integers(1, 10)), price, False))
        bids = _bids(rows)
        plain = clear_multi_period(bids)
        zero = clear_multi_period(bids, fees=np.zeros((4, 4), np.int64))
        assert zero.welfare == pytest.approx(plain.welfare)
        assert zero.volume == pytest.approx(plain.volume)


def test_bad_fees() -> None:
    bids, asks = ([30], [5], [0]), ([10], [5], [1])
    with pytest.raises(InvalidArgumentError, match=r"fees\[0, 1\] = -1") as e:
        clear_call_auction(bids, asks, fees=np.array([[0, -1], [0, 0]]))
    assert e.value.field == "fees[0, 1]"
    with pytest.raises(InvalidArgumentError, match="square") as e:
        clear_call_auction(bids, asks, fees=np.zeros((2, 3), np.int64))
    assert e.value.value == (2, 3)
    with pytest.raises(InvalidArgumentError, match="owner 1 has no row") as e:
        clear_call_auction(bids, asks, fees=np.zeros((1, 1), np.int64))
    assert (e.value.field, e.value.value) == ("fees.owner", 1)
    with pytest.raises(InvalidArgumentError, match="whole number"):
        clear_call_auction(bids, asks, fees=np.array([[0, 0.5], [0, 0]]))
    with pytest.raises(InvalidArgumentError, match="owner -1"):
        check_fee_matrix(np.zeros((2, 2)), np.array([0, -1]))
    with pytest.raises(InvalidArgumentError, match=r"tariff.feeder = -3"):
        Tariff(feeder=-3)
    with pytest.raises(InvalidArgumentError, match=r"tariff\.bus"):
        Tariff(bus=1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="unknown tariff key 'line'"):
        Tariff.from_dict({"line": 3})
    with pytest.raises(InvalidArgumentError, match="distance 'mv'"):
        Tariff().fee("mv")
    pytest.importorskip("highspy")
    mp = _bids([(0, 0, "sell", 0, 4, 10, False), (1, 5, "buy", 0, 4, 20, False)])
    with pytest.raises(InvalidArgumentError, match="owner 5 has no row"):
        clear_multi_period(mp, fees=np.zeros((3, 3), np.int64))
