"""The congestion rule (issue 20 item 6): a trade across a weak line is curtailed, one within a bus
is not, quantities are conserved, the rule's order and its bad input."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Literal

import numpy as np
import polars as pl
import pytest
from gridledger import community
from gridledger.errors import BadConfigurationError, InvalidArgumentError
from gridledger.grid import radial_feeder
from gridledger.grid.congestion import base_flows, curtail, ratings
from gridledger.grid.feeder import Bus, Feeder, Line, Transformer
from gridledger.grid.fees import Tariff, fee_matrix
from hypothesis import given, settings
from hypothesis import strategies as st

V = 0.4


def _feeder(weak_a: float = 10.0) -> Feeder:
    """lv ─ l_a (weak) ─ a ─ l_a2 ─ a2;  lv ─ l_b ─ b.  Members: m0, m1 on a; m2 on a2; m3 on b."""
    buses = [Bus("lv"), Bus("a"), Bus("a2"), Bus("b")]
    lines = [
        Line("l_a", "lv", "a", 0.01, 0.005, weak_a),
        Line("l_a2", "a", "a2", 0.01, 0.005, 200.0),
        Line("l_b", "lv", "b", 0.01, 0.005, 200.0),
    ]
    trafo = Transformer("t", "mv", "lv", 100.0, 20.0, 0.4, 4.0, 1.0)
    return Feeder(buses, lines, trafo, members={"m0": "a", "m1": "a", "m2": "a2", "m3": "b"})


def _trades(rows: list[tuple[int, int, int, int]]) -> pl.DataFrame:
    schema = dict.fromkeys(("period", "seller", "buyer", "quantity"), pl.Int64)
    return pl.DataFrame(rows, schema=schema, orient="row")


def test_weak_line_curtails_and_same_bus_does_not() -> None:
    f = _feeder(weak_a=10.0)  # √3 · 400 V · 10 A = 6 928.2 W
    rating = math.sqrt(3) * V * 1e3 * 10.0
    assert ratings(f)[0][0] == pytest.approx(rating)
    base = np.zeros((1, 4))
    # Within bus a (m0 → m1): no line, never curtailed, however large.
    # m3 (bus b) → m0 (bus a): 10 kWh in one hour = 10 kW over l_b and l_a; l_a binds at 6 928 W.
    # m2 (a2) → m0 (a): over l_a2 only (strong), whole.
    r = curtail(f, _trades([(0, 0, 1, 50_000), (0, 3, 0, 10_000), (0, 2, 0, 1_000)]), base, period_hours=1.0)
    t = r.trades
    assert t["accepted"].to_list() == [50_000, math.floor(rating), 1_000]
    assert t["binding"].to_list() == [None, "line l_a", None]
    assert (t["accepted"] + t["curtailed"] == t["quantity"]).all()
    # The scheduled flow on l_a is at its rating, never above.
    assert abs(r.line_flow_w[0, 0]) <= rating
    assert r.trafo_flow_w[0] == 0.0  # trades inside the feeder do not pass the transformer


def test_base_flow_direction_and_relief() -> None:
    f = _feeder(weak_a=10.0)
    rating = math.sqrt(3) * V * 1e3 * 10.0
    # Bus a draws 5 kW in the base: l_a carries 5 000 W downstream, headroom 1 928 W.
    base = np.array([[0.0, -5000.0, 0.0, 0.0]])
    lf, tf = base_flows(f, base)
    assert lf[0].tolist() == pytest.approx([5000.0, 0.0, 0.0]) and tf[0] == pytest.approx(5000.0)
    # m3 (b) → m0 (a) adds downstream flow on l_a: 1 928 Wh in the hour.
    r = curtail(f, _trades([(0, 3, 0, 4000)]), base, period_hours=1.0)
    assert r.trades["accepted"][0] == math.floor(rating - 5000.0)
    # m0 (a) → m3 (b) runs against the base flow: up to 5 000 + 6 928 W.
    r = curtail(f, _trades([(0, 0, 3, 20_000)]), base, period_hours=1.0)
    assert r.trades["accepted"][0] == math.floor(5000.0 + rating)
    # Quarter-hour periods: a transfer of q Wh is 4q W.
    r = curtail(f, _trades([(0, 3, 0, 4000)]), base, period_hours=0.25)
    assert r.trades["accepted"][0] == math.floor((rating - 5000.0) * 0.25)


def test_order_is_the_markets_and_flows_accumulate() -> None:
    f = _feeder(weak_a=10.0)
    rating = math.sqrt(3) * V * 1e3 * 10.0
    r = curtail(f, _trades([(0, 3, 0, 5000), (0, 3, 1, 5000)]), np.zeros((1, 4)), period_hours=1.0)
    # The first trade in order takes 5 000 W of l_a, the second the rest.
    assert r.trades["accepted"].to_list() == [5000, math.floor(rating - 5000)]
    # An opposite trade later in the order does not give the earlier one anything back.
    assert r.trades["binding"].to_list() == [None, "line l_a"]


def test_transformer_binds_for_trades_with_the_mv_side() -> None:
    f = _feeder(weak_a=1000.0)
    # 100 kVA transformer; base import 90 kW; a purchase from the MV side (-1) by m3 of 20 kWh in 1 h.
    base = np.array([[0.0, 0.0, 0.0, -90_000.0]])
    r = curtail(f, _trades([(0, -1, 3, 20_000)]), base, period_hours=1.0)
    assert r.trades["accepted"][0] == 10_000
    assert r.trades["binding"][0] == "transformer t"


def test_periods_are_independent() -> None:
    f = _feeder(weak_a=10.0)
    base = np.zeros((2, 4))
    r = curtail(f, _trades([(0, 3, 0, 6000), (1, 3, 0, 6000)]), base, period_hours=1.0)
    assert r.trades["accepted"].to_list() == [6000, 6000]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(-1, 3), st.integers(-1, 3), st.integers(0, 30_000)),
        max_size=12,
    ),
    st.lists(st.floats(-20_000, 20_000), min_size=12, max_size=12),
)
def test_conservation_and_ratings_hold(rows: list[tuple[int, int, int, int]], base: list[float]) -> None:
    rows = [r for r in rows if not (r[1] == -1 and r[2] == -1)]
    f = _feeder(weak_a=20.0)
    p = np.array(base).reshape(3, 4)
    r = curtail(f, _trades(rows), p, period_hours=0.25)
    t = r.trades
    assert (t["accepted"] + t["curtailed"] == t["quantity"]).all()
    assert (t["accepted"] >= 0).all() and (t["curtailed"] >= 0).all()
    assert t.filter(pl.col("curtailed") > 0)["binding"].null_count() == 0
    # No line ends above max(its rating, its base flow) in the direction of the base flow.
    lr, tr = ratings(f)
    lf0, tf0 = base_flows(f, p)
    assert np.all(np.abs(r.line_flow_w) <= np.maximum(lr, np.abs(lf0)) + 1e-6)
    assert np.all(np.abs(r.trafo_flow_w) <= np.maximum(tr, np.abs(tf0)) + 1e-6)


def test_fee_matrix_by_distance() -> None:
    f = _feeder()
    fees = fee_matrix(f, Tariff(bus=1, feeder=4, transformer=9))
    # m0, m1 on a; m2 on a2 (same leg); m3 on b (other leg).
    assert fees.tolist() == [[1, 1, 4, 9], [1, 1, 4, 9], [4, 4, 1, 9], [9, 9, 9, 1]]


def test_bad_input() -> None:
    f = _feeder()
    base = np.zeros((1, 4))
    ok = _trades([(0, 3, 0, 10)])
    with pytest.raises(InvalidArgumentError, match=r"trades\[0\].quantity = -5") as e:
        curtail(f, _trades([(0, 3, 0, -5)]), base, period_hours=1.0)
    assert e.value.field == "trades[0].quantity"
    with pytest.raises(InvalidArgumentError, match=r"trades\[1\].buyer = 4") as e:
        curtail(f, _trades([(0, 3, 0, 1), (0, 3, 4, 1)]), base, period_hours=1.0)
    assert e.value.value == 4
    with pytest.raises(InvalidArgumentError, match=r"trades\[0\].period = 1"):
        curtail(f, _trades([(1, 3, 0, 1)]), base, period_hours=1.0)
    with pytest.raises(InvalidArgumentError, match="MV side cannot trade with itself"):
        curtail(f, _trades([(0, -1, -1, 1)]), base, period_hours=1.0)
    with pytest.raises(InvalidArgumentError, match="p_w must be") as e:
        curtail(f, ok, np.zeros((1, 3)), period_hours=1.0)
    assert e.value.value == (1, 3)
    with pytest.raises(InvalidArgumentError, match=r"p_w\[0, 2\] = nan"):
        curtail(f, ok, np.array([[0.0, 0.0, np.nan, 0.0]]), period_hours=1.0)
    with pytest.raises(InvalidArgumentError, match="period_hours"):
        curtail(f, ok, base, period_hours=0.0)
    with pytest.raises(InvalidArgumentError, match="limit"):
        curtail(f, ok, base, period_hours=1.0, limit=-1.0)
    with pytest.raises(InvalidArgumentError, match="lack columns"):
        curtail(f, ok.drop("buyer"), base, period_hours=1.0)
    with pytest.raises(InvalidArgumentError, match="must be integers"):
        curtail(f, ok.with_columns(pl.col("quantity").cast(pl.Float64)), base, period_hours=1.0)


@pytest.mark.parametrize("market", ["call", "cda", "mcp"])
def test_community_market_on_a_feeder(market: Literal["call", "cda", "mcp"]) -> None:
    from gridledger.community.trading import GridMarket

    c = community.Community.default(10, 2, kwp=4.0, seed=4, repartition="equal")
    labels = [m.label for m in c.members]
    feeder = radial_feeder(10, n_legs=3, members=labels, units=[u.label for u in c.units])
    start = datetime(2019, 6, 3, tzinfo=UTC)
    plain = community.simulate(c, start, days=1, store=None, market=market)
    assert plain.deals is not None and "fee" not in plain.deals.columns
    # A tariff and no congestion rule: the same community, every deal carries its distance's fee.
    tariff = Tariff(bus=0, feeder=5, transformer=20)
    r = community.simulate(c, start, days=1, store=None, market=GridMarket(market, feeder, tariff))
    assert r.deals is not None and r.deals.height > 0
    fees = fee_matrix(feeder, tariff)
    for seller, buyer, fee in r.deals.select("seller", "buyer", "fee").iter_rows():
        assert fee == fees[buyer, seller]
    trader = community.trading.Trader(10, market, c.seed)
    if market in ("call", "cda"):
        # Individually rational with the fee: buyers pay price + fee at most their value.
        for seller, buyer, price, fee in r.deals.select("seller", "buyer", "price", "fee").iter_rows():
            assert trader.sell_value[seller] <= price and price + fee <= trader.buy_value[buyer]
    assert r.traded_wh.sum() == 0
    # A very weak feeder: the congestion rule cuts deals, never more than was dealt.
    weak = Feeder.from_dict(
        {**feeder.to_dict(), "lines": [{**ln, "max_i_a": 0.5} for ln in feeder.to_dict()["lines"]]}
    )
    g = GridMarket(market, weak, congestion=True)
    r2 = community.simulate(c, start, days=1, store=None, market=g)
    assert r2.deals is not None
    assert r2.deals["quantity"].sum() < plain.deals["quantity"].sum()
    assert r2.traded_wh.sum() == 0
    t = community.trading.Trader.create(g, 10, c.seed)
    deals = t.period(0, plain.allocated_wh[40], plain.consumption_wh[40], np.zeros(2, np.int64))
    cuts = t.curtailments()
    assert sum(d.quantity for d in deals) + int((cuts["quantity"] - cuts["accepted"]).sum()) > 0
    assert cuts["binding"].str.starts_with("line ").all()


def test_grid_market_bad_input() -> None:
    from gridledger.community.trading import GridMarket, Trader

    feeder = radial_feeder(4)
    with pytest.raises(InvalidArgumentError, match="places 4 members, the community has 5"):
        Trader.create(GridMarket("call", feeder), 5, 0)
    with pytest.raises(BadConfigurationError, match="differs"):
        Trader(4, "cda", 0, grid=GridMarket("call", feeder))
    t = Trader.create(GridMarket("call", radial_feeder(4, units=2), congestion=True), 4, 0)
    with pytest.raises(InvalidArgumentError, match="pass their generation"):
        t.period(0, np.array([500, 0, 500, 0]), np.array([0, 300, 0, 300]))
