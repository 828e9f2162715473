"""Violations counted per period and bus / line (issue 20 item 4): EN 50160's ±10 %, overloads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from gridledger.errors import InvalidArgumentError
from gridledger.grid.violations import EN50160_BAND, count_violations
from numpy.typing import NDArray


@dataclass
class Flow:
    vm_pu: NDArray[np.float64]
    line_loading: NDArray[np.float64]
    trafo_loading: NDArray[np.float64]
    converged: NDArray[np.bool_]


def flow() -> Flow:
    vm = np.array(
        [
            [1.00, 0.95, 0.91, 0.90],  # 0.90 is on the band's edge: not a violation
            [1.00, 0.89, 0.85, 1.11],  # two under, one over
            [np.nan, np.nan, np.nan, np.nan],  # not converged
            [1.00, 1.05, 1.10, 1.1001],
        ]
    )
    ll = np.array([[0.5, 1.0], [1.2, 0.3], [np.nan, np.nan], [1.01, 1.5]])
    tl = np.array([0.9, 1.3, np.nan, 1.0])
    return Flow(vm, ll, tl, np.array([True, True, False, True]))


def test_counts_per_period_bus_and_line() -> None:
    v = count_violations(flow())
    assert v.band == EN50160_BAND == 0.10
    assert v.undervoltage.tolist() == [0, 2, 0, 0]
    assert v.overvoltage.tolist() == [0, 1, 0, 1]
    assert v.overloaded_lines.tolist() == [0, 1, 0, 2]
    assert v.trafo_overload.tolist() == [False, True, False, False]
    assert v.bus_periods.tolist() == [0, 1, 1, 2]
    assert v.line_periods.tolist() == [2, 1]
    assert v.nonconverged.tolist() == [False, False, True, False]
    assert v.per_period.tolist() == [0, 5, 0, 3]
    assert v.periods_with_violations == 2
    assert v.vm_min_pu[[0, 1, 3]].tolist() == [0.90, 0.85, 1.00]
    assert np.isnan(v.vm_min_pu[2]) and np.isnan(v.vm_max_pu[2])
    assert v.summary() == {
        "periods_with_violations": 2,
        "undervoltage_bus_periods": 2,
        "overvoltage_bus_periods": 2,
        "line_overload_periods": 3,
        "trafo_overload_periods": 1,
        "nonconverged_periods": 1,
    }
    # A narrower band counts more.
    assert count_violations(flow(), band=0.04).bus_periods.tolist() == [0, 3, 3, 3]


def test_bad_shapes_and_band_are_typed_errors() -> None:
    f = flow()
    with pytest.raises(InvalidArgumentError, match="band"):
        count_violations(f, band=0.0)
    with pytest.raises(InvalidArgumentError, match="band"):
        count_violations(f, band=True)
    with pytest.raises(InvalidArgumentError, match="vm_pu"):
        count_violations(Flow(f.vm_pu[0], f.line_loading, f.trafo_loading, f.converged))
    with pytest.raises(InvalidArgumentError, match="periods"):
        count_violations(Flow(f.vm_pu, f.line_loading[:2], f.trafo_loading, f.converged))
    with pytest.raises(InvalidArgumentError, match="periods"):
        count_violations(Flow(f.vm_pu, f.line_loading, f.trafo_loading, f.converged.astype(int)))
