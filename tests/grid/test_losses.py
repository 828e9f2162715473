"""Loss allocation (issue 20): exact integer conservation, the documented rounding, typed errors."""

from __future__ import annotations

import numpy as np
import pytest
from gridledger.errors import GridLedgerError, InvalidArgumentError
from gridledger.grid.losses import (
    Custom,
    LossAllocationError,
    LossRule,
    Throughput,
    allocate_losses,
    losses_wh,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray


@st.composite
def runs(draw: st.DrawFn) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], int]:
    p = draw(st.integers(1, 12))
    m = draw(st.integers(1, 9))
    period_s = draw(st.sampled_from([300, 900, 1800, 3600]))
    watts = st.floats(0, 5e6, allow_nan=False, allow_infinity=False)
    losses = draw(arrays(np.float64, p, elements=watts))
    wh = st.integers(0, 10**9)
    cons = draw(arrays(np.int64, (p, m), elements=st.one_of(st.just(0), wh)))
    alloc = draw(arrays(np.int64, (p, m), elements=st.one_of(st.just(0), wh)))
    return losses, cons, alloc, period_s


@settings(max_examples=300, deadline=None)
@given(runs())
def test_allocated_losses_sum_exactly_to_the_computed_losses(
    run: tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], int],
) -> None:
    losses_w, cons, alloc, period_s = run
    total = losses_wh(losses_w, period_s)
    # The documented rounding: half up of W · s / 3600.
    assert total.tolist() == [int(np.floor(x * period_s / 3600 + 0.5)) for x in losses_w.tolist()]
    shares = allocate_losses(total, cons, alloc)
    assert shares.dtype == np.int64 and shares.shape == cons.shape
    assert (shares >= 0).all()
    assert shares.sum(axis=1).tolist() == total.tolist()
    # Pro rata within one Wh of the exact share; a member that moved nothing pays nothing
    # unless nobody moved anything (then equal shares).
    w = (cons + alloc).astype(np.float64)
    for t in range(len(total)):
        if w[t].sum() > 0:
            exact = total[t] * w[t] / w[t].sum()
            assert np.all(np.abs(shares[t] - exact) < 1.0 + 1e-9 * total[t])
            assert (shares[t][w[t] == 0] == 0).all()
        else:
            assert shares[t].max() - shares[t].min() <= 1
    # Deterministic.
    assert np.array_equal(allocate_losses(total, cons, alloc), shares)


def test_rounding_and_ties_are_the_documented_ones() -> None:
    assert losses_wh(np.array([1800.0, 2.0, 1.99, 0.0]), 900).tolist() == [450, 1, 0, 0]
    total = np.array([5], np.int64)
    cons = np.array([[1, 1, 1, 1]], np.int64)
    # 5 Wh over four equal weights: one each, the leftover to the lowest index.
    assert allocate_losses(total, cons).tolist() == [[2, 1, 1, 1]]
    assert allocate_losses(total, np.zeros((1, 3), np.int64)).tolist() == [[2, 2, 1]]


def test_a_nonconverged_or_negative_period_is_named() -> None:
    with pytest.raises(InvalidArgumentError, match="period 7") as e:
        losses_wh(np.array([1.0, np.nan]), 900, periods=np.array([6, 7]))
    assert e.value.field == "losses_w"
    with pytest.raises(InvalidArgumentError, match="period 0"):
        losses_wh(np.array([-1.0]), 900)
    with pytest.raises(InvalidArgumentError, match="period_s"):
        losses_wh(np.array([1.0]), 0)
    with pytest.raises(InvalidArgumentError, match="losses_w"):
        losses_wh(np.ones((2, 2)), 900)


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        (lambda p, c, a: -np.ones(c.shape), "period 10.*weight -1.0"),
        (
            lambda p, c, a: np.where(np.arange(c.shape[0])[:, None] == 1, np.nan, 1.0) * np.ones(c.shape),
            "period 11",
        ),
        (lambda p, c, a: np.ones((c.shape[0], c.shape[1] + 1)), "shape"),
        (lambda p, c, a: np.full(c.shape, "x"), "not numbers"),
    ],
)
def test_a_rule_with_bad_weights_is_a_typed_error_naming_the_rule(weights: object, match: str) -> None:
    rule = Custom(weights, name="dso-rule")  # type: ignore[arg-type]
    total = np.array([3, 4], np.int64)
    cons = np.ones((2, 3), np.int64)
    with pytest.raises(LossAllocationError, match=match) as e:
        allocate_losses(total, cons, rule=rule, periods=np.array([10, 11]))
    assert e.value.field == "dso-rule"
    assert "dso-rule" in str(e.value)
    assert isinstance(e.value, GridLedgerError)


class _Sloppy(LossRule):
    name = "sloppy"

    def __init__(self, how: str) -> None:
        self.how = how

    def shares(
        self,
        total_wh: NDArray[np.int64],
        periods: NDArray[np.int64],
        consumption_wh: NDArray[np.int64],
        allocated_wh: NDArray[np.int64],
    ) -> NDArray[np.generic]:
        s = np.zeros(consumption_wh.shape, np.int64)
        s[:, 0] = total_wh
        if self.how == "short":
            s[-1, 0] -= 1
        elif self.how == "negative":
            s[-1, 1] = -1
            s[-1, 0] += 1
        elif self.how == "wrap":
            s[-1] = [2**62, 2**62, 2**62, 2**62 + total_wh[-1]]  # sums to the total modulo 2^64
        elif self.how == "float":
            return s.astype(np.float64)
        return s


@pytest.mark.parametrize(
    ("how", "match"),
    [("short", "sum to 3 Wh"), ("negative", "-1 Wh"), ("wrap", "exceeds"), ("float", "integer")],
)
def test_a_rule_whose_shares_do_not_conserve_is_refused(how: str, match: str) -> None:
    total = np.array([2, 4], np.int64)
    cons = np.ones((2, 4), np.int64)
    with pytest.raises(LossAllocationError, match=match) as e:
        allocate_losses(total, cons, rule=_Sloppy(how), periods=np.array([40, 41]))
    assert e.value.field == "sloppy"
    assert how == "float" or "period 41" in str(e.value)
    assert allocate_losses(total, cons, rule=_Sloppy("ok")).tolist() == [[2, 0, 0, 0], [4, 0, 0, 0]]


def test_bad_shapes_and_values_are_typed_errors() -> None:
    cons = np.ones((2, 3), np.int64)
    with pytest.raises(InvalidArgumentError, match="total_wh"):
        allocate_losses(np.array([1.5, 2.0]), cons)
    with pytest.raises(InvalidArgumentError, match="total_wh"):
        allocate_losses(np.array([-1, 2]), cons)
    with pytest.raises(InvalidArgumentError, match="consumption_wh"):
        allocate_losses(np.array([1, 2, 3]), cons)
    with pytest.raises(InvalidArgumentError, match="allocated_wh"):
        allocate_losses(np.array([1, 2]), cons, np.ones((2, 4), np.int64))
    with pytest.raises(InvalidArgumentError, match="consumption_wh"):
        allocate_losses(np.array([1, 2]), -cons)
    with pytest.raises(InvalidArgumentError, match="periods"):
        allocate_losses(np.array([1, 2]), cons, periods=np.array([1]))
    with pytest.raises(GridLedgerError, match="loss rule"):
        allocate_losses(np.array([1, 2]), cons, rule="marginal")
    assert Throughput().name == "throughput"
