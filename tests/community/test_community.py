"""Cryptometers, the VPP's repartition and a community run (SPEC §1, issue: community ledger)."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import numpy as np
import pytest
from gridledger.community import (
    Community,
    CommunityInputs,
    Custom,
    Fixed,
    GenerationUnit,
    Member,
    ProRata,
    allocate,
    community_inputs,
    simulate,
)
from gridledger.errors import BadConfigurationError, BadDataError, InvalidArgumentError
from gridledger.meters import Cryptometer, MeterSpec, mid_bound_wh
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# -- the MID bound and pulse counting --------------------------------------------


def test_mid_bound_is_pmin_mpe_dt_exactly() -> None:
    assert mid_bound_wh(25_000, 0.02, 900) == 125  # exact: parameters are taken as written
    assert float(mid_bound_wh(25_000, 0.02, 900)) == pytest.approx(125.0)
    assert float(mid_bound_wh(57.5, 0.02, 900)) == pytest.approx(0.2875)


def test_v_above_the_mid_bound_is_refused() -> None:
    spec = MeterSpec(pmin_w=25_000, mpe=0.02)
    Cryptometer(124, 900, spec)
    with pytest.raises(BadConfigurationError) as e:
        Cryptometer(125, 900, spec)  # V must be strictly below 125 Wh
    assert e.value.field == "v_wh"
    with pytest.raises(BadConfigurationError):
        Cryptometer(100, 300, spec)  # 5-minute periods: bound 41.7 Wh
    with pytest.raises(BadConfigurationError):
        GenerationUnit("pv", v_wh=200)  # built fine; the community checks it
        Community([Member("a")], [GenerationUnit("pv", v_wh=200)])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"imp_per_kwh": 500}, "imp_per_kwh"), ({"mpe": 1.5}, "mpe"), ({"pmin_w": -1.0}, "pmin_w")],
)
def test_meter_spec_checks(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(BadConfigurationError) as e:
        MeterSpec(**kwargs)  # type: ignore[arg-type]
    assert e.value.field == field


def test_v_must_be_whole_pulses_and_whole_wh() -> None:
    with pytest.raises(BadConfigurationError):
        Cryptometer(0, 900)
    Cryptometer(3, 900, MeterSpec(imp_per_kwh=1000))
    with pytest.raises(BadConfigurationError):
        Cryptometer(3, 900, MeterSpec(imp_per_kwh=1500))  # 4.5 pulses


@settings(max_examples=150, deadline=None)
@given(
    hnp.arrays(np.float64, st.integers(1, 60), elements=st.floats(0, 5_000)),
    st.integers(1, 120),
    st.sampled_from([1000, 2000, 10_000]),
)
def test_chain_stays_within_v_of_the_mid_meter(energy: np.ndarray, v: int, imp: int) -> None:
    m = Cryptometer(v, 900, MeterSpec(pmin_w=1e9, mpe=0.02, imp_per_kwh=imp))
    q = m.count(energy)
    err = q.chain_wh - q.mid_wh
    assert np.all(np.abs(err) < v + 1e-6)
    cum = np.cumsum(q.mid_wh)
    assert np.all(np.cumsum(q.chain_wh) <= cum + 1e-6)
    assert np.all(np.cumsum(q.chain_wh) > cum - v - 1e-6)
    assert np.all(q.quanta >= 0) and q.first_seq == 1 and m.seq == int(q.quanta.sum())


def test_counting_carries_over_between_calls() -> None:
    series = np.full(10, 37.0)
    whole = Cryptometer(100, 900).count(series).quanta
    m = Cryptometer(100, 900)
    a, b = m.count(series[:3]), m.count(series[3:])
    assert np.array_equal(np.concatenate([a.quanta, b.quanta]), whole)
    assert b.first_seq == int(a.quanta.sum()) + 1


def test_meter_error_shows_in_the_long_run() -> None:
    energy = np.full(5000, 250.0)
    q = Cryptometer(100, 900).count(energy, meter_error=0.01)
    assert q.chain_wh.sum() / energy.sum() - 1 == pytest.approx(0.01, abs=1e-4)
    with pytest.raises(BadConfigurationError):
        Cryptometer(100, 900).count(energy, meter_error=0.05)


def test_bad_generation_series() -> None:
    m = Cryptometer(100, 900)
    for bad in (np.array([1.0, -2.0]), np.array([np.nan]), np.ones((2, 2))):
        with pytest.raises(BadDataError):
            m.count(bad)


# -- repartition ------------------------------------------------------------------

weights_st = st.integers(1, 6).flatmap(
    lambda m: hnp.arrays(np.int64, st.tuples(st.integers(1, 8), st.just(m)), elements=st.integers(0, 10**6))
)


@settings(max_examples=200, deadline=None)
@given(weights_st, st.data())
def test_largest_remainder_is_exact_and_fair(w: np.ndarray, data: st.DataObject) -> None:
    w[:, 0] += 1  # every period can be shared
    e = np.array(data.draw(st.lists(st.integers(0, 10**7), min_size=len(w), max_size=len(w))), dtype=np.int64)
    a = allocate(e, w)
    assert a.dtype == np.int64 and np.all(a >= 0)
    assert np.array_equal(a.sum(axis=1), e)
    for p in range(len(w)):
        exact = [Fraction(int(e[p]) * int(x), int(w[p].sum())) for x in w[p]]
        assert all(abs(int(a[p, m]) - exact[m]) < 1 for m in range(w.shape[1]))
        # Every floor is given; extras go to the largest remainders.
        floors = [int(x) for x in exact]
        extra = [m for m in range(w.shape[1]) if int(a[p, m]) > floors[m]]
        rest = [exact[m] - floors[m] for m in range(w.shape[1])]
        if extra:
            assert min(rest[m] for m in extra) >= max(
                (rest[m] for m in range(w.shape[1]) if m not in extra), default=Fraction(0)
            )


def test_ties_go_to_the_lower_member_and_big_numbers_stay_exact() -> None:
    assert allocate(np.array([1]), np.array([[1, 1, 1]])).tolist() == [[1, 0, 0]]
    assert allocate(np.array([2]), np.array([[1, 1, 1]])).tolist() == [[1, 1, 0]]
    big = np.array([2**40 + 3])
    w = np.array([[2**30, 3, 2**29 + 1]])
    a = allocate(big, w)
    assert int(a.sum()) == 2**40 + 3
    exact = [Fraction(int(big[0]) * int(x), int(w.sum())) for x in w[0]]
    assert all(abs(int(a[0, m]) - exact[m]) < 1 for m in range(3))


def test_rules() -> None:
    periods = np.arange(3)
    energy = np.array([100, 0, 7])
    cons = np.array([[1, 3], [0, 0], [0, 0]])
    w = ProRata().weights(periods, energy, cons)
    assert allocate(energy, w).tolist() == [[25, 75], [0, 0], [4, 3]]  # idle period: equal
    assert allocate(energy, Fixed([1, 4]).weights(periods, energy, cons)).tolist() == [
        [20, 80],
        [0, 0],
        [1, 6],
    ]
    floats = Fixed([0.3, 0.7]).weights(periods, energy, cons)
    assert allocate(energy, floats).tolist() == [[30, 70], [0, 0], [2, 5]]
    custom = Custom(lambda p, e, c: np.tile([0, 1], (len(p), 1)))
    assert allocate(energy, custom.weights(periods, energy, cons)).tolist() == [[0, 100], [0, 0], [0, 7]]
    with pytest.raises(BadConfigurationError):
        Fixed([0, 0])
    with pytest.raises(BadConfigurationError):
        Fixed([1, 2, 3]).weights(periods, energy, cons)
    with pytest.raises(BadConfigurationError) as e:
        allocate(energy, np.zeros((3, 2), np.int64), periods + 40)
    assert e.value.value == 40
    with pytest.raises(InvalidArgumentError):
        allocate(np.array([-1]), np.ones((1, 2), np.int64))


# -- a community on a chain -----------------------------------------------------------


def small(units: int = 2, members: int = 4, **kw: object) -> Community:
    return Community.default(members, units, **kw)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 3),
    st.integers(1, 5),
    st.data(),
    st.sampled_from(["pro_rata", "equal", "fixed", "custom"]),
)
def test_energy_is_conserved_from_cryptometer_to_virtual_meters(
    units: int, members: int, data: st.DataObject, rule: str
) -> None:
    periods = data.draw(st.integers(1, 12))
    gen = data.draw(hnp.arrays(np.float64, (periods, units), elements=st.floats(0, 1_500)))
    cons = data.draw(hnp.arrays(np.int64, (periods, members), elements=st.integers(0, 3_000)))
    repartition: object = rule
    if rule == "fixed":
        repartition = data.draw(st.lists(st.integers(1, 9), min_size=members, max_size=members))
    if rule == "custom":
        repartition = Custom(lambda p, e, c: (c + 1) ** 2)
    c = small(units, members, repartition=repartition)
    first = int(datetime(2019, 6, 3, tzinfo=UTC).timestamp()) // 900
    inputs = CommunityInputs(np.arange(first, first + periods), cons, gen)
    r = simulate(c, periods=periods, store=None, inputs=inputs)
    chain = r.chain
    assert chain.height == periods
    per_period = sum(
        Cryptometer(u.v_wh, 900, u.meter).count(gen[:, j]).chain_wh for j, u in enumerate(c.units)
    )
    counted = int(np.sum(per_period))
    assert r.distributed_wh == counted
    assert np.array_equal(r.allocated_wh.sum(axis=1), per_period)  # every period's quanta, no more
    on_chain = [chain.balance(c.key(c.member_key_id(i)))[0] for i in range(members)]
    assert on_chain == r.allocated_wh.sum(axis=0).tolist()
    assert sum(on_chain) == counted
    assert chain.balance(c.key(0)) == (0, 0)  # the VPP keeps nothing
    assert all(chain.balance(c.key(c.device_key_id(j)))[0] == 0 for j in range(units))
    assert r.accuracy is not None and r.accuracy.summary()["within_v"]


def test_a_week_on_real_data(tmp_path: object) -> None:
    c = small(2, 5, seed=3)
    r = simulate(c, datetime(2019, 6, 3, tzinfo=UTC), days=1, store=None)
    assert r.blocks == 96 and r.chain.height == 96
    assert r.creates > 0 and r.transfers > 0
    s = r.accuracy.summary()  # type: ignore[union-attr]
    assert s["within_v"] and s["max_period_error_wh"] < 100
    assert r.signatures_verified == r.signatures_made
    mf = r.market_face()
    assert mf.height == 96 * 5
    assert (mf["consumption_wh"] - mf["virtual_generation_wh"] == mf["market_face_wh"]).all()
    assert mf["virtual_generation_wh"].sum() == r.distributed_wh


def test_inputs_from_the_bundled_data() -> None:
    c = Community([Member("a", 3650.0), Member("b", 7300.0)], [GenerationUnit("pv", kwp=5.0)], seed=1)
    start = datetime(2019, 1, 1, tzinfo=UTC)
    inp = community_inputs(c, start, 96 * 365)
    assert inp.consumption_wh.dtype == np.int64 and inp.consumption_wh.shape == (35040, 2)
    # A year of the national shape scaled to each member's annual kWh (noise has mean 1).
    assert inp.consumption_wh[:, 0].sum() / 1000 == pytest.approx(3650, rel=0.01)
    assert inp.consumption_wh[:, 1].sum() / 1000 == pytest.approx(7300, rel=0.01)
    assert inp.generation_wh.sum() / 1000 == pytest.approx(5 * 1050, rel=0.01)
    assert inp.generation_wh.min() >= 0 and inp.periods[0] == int(start.timestamp()) // 900
    with pytest.raises(BadDataError):
        community_inputs(c, datetime(2019, 12, 31, tzinfo=UTC), 200)  # runs past the data
    with pytest.raises(BadDataError):
        community_inputs(c, datetime(2019, 1, 1, 0, 7, tzinfo=UTC), 4)  # not on a period boundary


def test_community_configuration_errors() -> None:
    with pytest.raises(BadConfigurationError):
        Community([Member("a")], [], period_minutes=10)
    with pytest.raises(BadConfigurationError):
        Community([Member("a"), Member("a")], [])
    with pytest.raises(BadConfigurationError):
        Community([], [])
    with pytest.raises(BadConfigurationError):
        Community([Member("a", -5.0)], [])
    with pytest.raises(BadConfigurationError):
        Community([Member("a")], [], repartition="lottery")


def test_keys_are_deterministic_per_seed() -> None:
    a, b, c = small(seed=1), small(seed=1), small(seed=2)
    assert np.array_equal(a.public_keys, b.public_keys)
    assert not np.array_equal(a.public_keys, c.public_keys)
    assert a.genesis(100).chain_id == b.genesis(100).chain_id
