"""The simulation's (P, M) arrays stay small: int32 results, block-wise allocation (issue 15, item 10)."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest
from gridledger.community import Community, CommunityInputs, allocate, simulate
from gridledger.community import repartition as rp
from gridledger.community.repartition import ideal_shares
from gridledger.errors import BadDataError, InvalidArgumentError
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

sim = importlib.import_module("gridledger.community.simulate")  # the module, not the function
FIRST = int(datetime(2019, 6, 3, tzinfo=UTC).timestamp()) // 900


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda m: hnp.arrays(
            np.int64, st.tuples(st.integers(1, 30), st.just(m)), elements=st.integers(0, 10**6)
        )
    ),
    st.data(),
    st.sampled_from([1, 2, 7, 64]),
    st.booleans(),
)
def test_allocation_in_blocks_of_periods_is_the_allocation_in_one(
    w: np.ndarray, data: st.DataObject, block: int, floats: bool
) -> None:
    w[:, 0] += 1
    big = data.draw(st.booleans())
    top = 2**40 if big else 10**7  # 2**40 takes the exact (object) path
    e = np.array(data.draw(st.lists(st.integers(0, top), min_size=len(w), max_size=len(w))), dtype=np.int64)
    weights = w / 7.0 if floats else w
    whole = allocate(e, weights)
    old = rp._BLOCK
    try:
        rp._BLOCK = block * w.shape[1]  # `block` periods a block
        blocked = allocate(e, weights)
    finally:
        rp._BLOCK = old
    assert whole.dtype == blocked.dtype == np.int64
    assert np.array_equal(whole, blocked)
    assert np.array_equal(whole.sum(axis=1), e)
    if not big:
        narrow = allocate(e, weights, dtype=np.int32)
        assert narrow.dtype == np.int32 and np.array_equal(narrow, whole)


def test_int32_allocation_refuses_energy_beyond_its_range() -> None:
    w = np.ones((3, 2), np.int64)
    e = np.array([5, 2**31, 7], np.int64)
    with pytest.raises(InvalidArgumentError, match="period 102") as ex:
        allocate(e, w, np.array([101, 102, 103]), dtype=np.int32)
    assert ex.value.field == "energy_wh" and ex.value.value == 2**31
    assert allocate(e, w).tolist() == [[3, 2], [2**30, 2**30], [4, 3]]  # int64 takes it
    assert allocate(e - np.array([0, 1, 0]), w, dtype=np.int32)[1].tolist() == [2**30, 2**30 - 1]
    with pytest.raises(InvalidArgumentError) as ex2:
        allocate(e, w, dtype=np.float64)  # type: ignore[arg-type]
    assert ex2.value.field == "dtype"


def test_ideal_totals_are_the_sums_of_the_ideal_shares_to_the_bit() -> None:
    rng = np.random.default_rng(3)
    for m in (1, 3, 40):
        w = rng.integers(0, 4000, (5000, m))
        e = rng.random(5000) * 1e5
        want = ideal_shares(e, w).sum(axis=0)
        assert np.array_equal(sim._ideal_totals(e, w), want)
        assert np.array_equal(sim._ideal_totals(e, w / 3.0), ideal_shares(e, w / 3.0).sum(axis=0))


def _inputs(periods: int, members: int, units: int, cons_top: int = 3000) -> CommunityInputs:
    rng = np.random.default_rng(7)
    gen = rng.random((periods, units)) * 1500
    cons = rng.integers(0, cons_top, (periods, members)).astype(np.int64)
    return CommunityInputs(np.arange(FIRST, FIRST + periods), cons, gen)


def test_the_result_arrays_are_int32_and_equal_the_int64_computation() -> None:
    c = Community.default(6, 2)
    inp = _inputs(20, 6, 2)
    r = simulate(c, periods=20, store=None, inputs=inp, market="call")
    for a in (r.allocated_wh, r.allocated_votes, r.consumption_wh, r.traded_wh):
        assert a.dtype == np.int32 and a.shape == (20, 6)
    assert np.array_equal(r.consumption_wh, inp.consumption_wh)
    assert inp.consumption_wh.dtype == np.int64  # the caller's inputs are left alone
    assert r.distributed_wh == int(r.allocated_wh.astype(np.int64).sum())
    mf = r.market_face()
    assert all(mf[k].dtype == pl.Int64 for k in ("consumption_wh", "traded_wh", "market_face_wh"))
    assert (
        mf["consumption_wh"] - mf["virtual_generation_wh"] - mf["traded_wh"] == mf["market_face_wh"]
    ).all()


def test_consumption_beyond_int32_is_a_typed_error_before_any_block(tmp_path: object) -> None:
    c = Community.default(3, 1)
    inp = _inputs(4, 3, 1)
    inp.consumption_wh[2, 1] = 2**31
    with pytest.raises(BadDataError, match=r"consumption_wh\[2, 1\]") as ex:
        simulate(c, periods=4, store=None, inputs=inp)
    assert ex.value.field == "consumption_wh" and ex.value.value == 2**31
