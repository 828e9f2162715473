"""The batched power flow: the physics it must respect, failure per period, bad input (docs/grid.md)."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest
from gridledger import _core
from gridledger.errors import InvalidArgumentError, NonConvergenceError, PowerFlowWarning
from gridledger.grid import Bus, Feeder, Line, Transformer, powerflow, radial_feeder
from gridledger.grid.powerflow import _kernel_args
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

TR = Transformer(
    "t",
    "mv",
    "b0",
    sn_kva=400,
    vn_hv_kv=20,
    vn_lv_kv=0.4,
    vk_percent=6,
    vkr_percent=1.425,
)


def two_bus(r: float = 0.05, x: float = 0.02) -> Feeder:
    return Feeder([Bus("b0"), Bus("b1")], [Line("l", "b0", "b1", r, x, 270)], TR)


def test_two_bus_closed_form() -> None:
    """One load behind the transformer and one line: |V|² solves a quadratic (lossless shunts)."""
    f = two_bus()
    p_load, q_load = 60e3, 20e3
    r = powerflow(f, np.array([[0.0, -p_load]]), np.array([[0.0, -q_load]]), tol_pu=1e-13)
    z_base = 400.0**2 / 1e6
    z_sc = 0.06 * 0.16 / 0.4
    r_sc = 0.01425 * 0.16 / 0.4
    rt = (0.05 + r_sc) / z_base
    xt = (0.02 + math.sqrt(z_sc**2 - r_sc**2)) / z_base
    p, q = p_load / 1e6, q_load / 1e6
    a = 1 - 2 * (rt * p + xt * q)
    v2 = (a + math.sqrt(a * a - 4 * (rt * rt + xt * xt) * (p * p + q * q))) / 2
    assert r.vm_pu[0, 1] == pytest.approx(math.sqrt(v2), abs=1e-10)
    i_a = math.hypot(p_load, q_load) / (math.sqrt(3) * 400 * math.sqrt(v2))
    assert r.i_line_a[0, 0] == pytest.approx(i_a, rel=1e-9)
    assert r.line_loading[0, 0] == pytest.approx(i_a / 270, rel=1e-9)
    assert r.line_losses_w[0, 0] == pytest.approx(3 * i_a**2 * 0.05, rel=1e-9)
    assert r.trafo_losses_w[0] == pytest.approx(3 * i_a**2 * r_sc, rel=1e-9)
    assert r.p_slack_w[0] == pytest.approx(p_load + r.losses_w[0], rel=1e-12)
    assert r.converged.tolist() == [True]
    assert r.va_deg[0, 0] < 0.0  # no shift: the LV side lags under load


def test_no_load_is_the_slack_voltage() -> None:
    f = radial_feeder(5)
    r = powerflow(f, np.zeros((2, f.n_buses)))
    # the cables' capacitance and the magnetising branch barely move the voltage
    np.testing.assert_allclose(r.vm_pu, 1.0, atol=1e-4)
    # iron losses: ~pfe at rated voltage
    np.testing.assert_allclose(r.trafo_losses_w, 1350.0, rtol=1e-3)
    np.testing.assert_allclose(r.va_deg[:, 0], -150.0, atol=0.1)  # Dyn5


@settings(max_examples=30, deadline=None)
@given(
    st.integers(min_value=1, max_value=40),
    st.integers(min_value=1, max_value=6),
    st.integers(min_value=0, max_value=2**32 - 1),
)
def test_energy_balance(n: int, legs: int, seed: int) -> None:
    """The slack pays every injection and every loss, period by period."""
    f = radial_feeder(n, n_legs=legs, seed=seed % 1000)
    rng = np.random.default_rng(seed)
    p = rng.uniform(-10e3, 6e3, size=(5, f.n_buses))
    q = rng.uniform(-3e3, 1e3, size=(5, f.n_buses))
    r = powerflow(f, p, q).require_converged()
    np.testing.assert_allclose(r.p_slack_w + p.sum(axis=1), r.losses_w, rtol=1e-7, atol=1e-6)
    np.testing.assert_allclose(r.losses_w, r.line_losses_w.sum(axis=1) + r.trafo_losses_w)
    assert (r.line_losses_w >= 0).all() and (r.trafo_losses_w > 0).all()
    assert r.vm_pu.shape == (5, f.n_buses) and r.i_line_a.shape == (5, f.n_lines)


def test_periods_are_independent_of_batching() -> None:
    f = radial_feeder(30, seed=2)
    rng = np.random.default_rng(7)
    p = rng.uniform(-20e3, 10e3, size=(64, f.n_buses))
    whole = powerflow(f, p)
    for t in (0, 17, 63):
        one = powerflow(f, p[t : t + 1])
        np.testing.assert_array_equal(one.vm_pu[0], whole.vm_pu[t])
        np.testing.assert_array_equal(one.losses_w[0], whole.losses_w[t])


def test_heavier_load_lowers_voltage_and_raises_loading() -> None:
    f = radial_feeder(20, n_legs=2)
    base = np.full((1, f.n_buses), -2e3)
    r = powerflow(f, np.vstack([base, 3 * base]))
    assert (r.vm_pu[1, 1:] < r.vm_pu[0, 1:]).all()
    assert (r.line_loading[1] > r.line_loading[0]).all()
    assert r.trafo_loading[1] > r.trafo_loading[0]
    # down a leg the voltage falls bus by bus
    leg = [b for b in range(1, f.n_buses) if f.distance(1, b) == "feeder"]
    assert np.all(np.diff(r.vm_pu[1, leg]) < 0)


def test_non_convergence_is_reported_per_period() -> None:
    f = radial_feeder(10)
    p = np.full((3, f.n_buses), -1e3)
    p[1, 5] = -1e9  # a gigawatt on a house connection
    with pytest.warns(PowerFlowWarning, match="1 of 3 periods"):
        r = powerflow(f, p)
    assert r.converged.tolist() == [True, False, True]
    assert np.isnan(r.vm_pu[1]).all() and np.isnan(r.losses_w[1]) and np.isnan(r.line_loading[1]).all()
    assert np.isfinite(r.vm_pu[[0, 2]]).all()
    with pytest.raises(NonConvergenceError, match=r"\[1\]") as e:
        r.require_converged()
    assert e.value.value == [1]


def test_max_iter_bounds_the_sweeps() -> None:
    f = radial_feeder(10)
    p = np.full((1, f.n_buses), -5e3)
    with pytest.warns(PowerFlowWarning):
        r = powerflow(f, p, max_iter=1)
    assert not r.converged[0] and r.iterations[0] == 1
    ok = powerflow(f, p, tol_pu=1e-6)
    assert ok.converged[0] and 1 < ok.iterations[0] < powerflow(f, p, tol_pu=1e-12).iterations[0] + 1


def test_bad_input() -> None:
    f = radial_feeder(3)
    ok = np.zeros((2, 4))
    with pytest.raises(InvalidArgumentError, match=r"p_w: shape \(2, 5\), expected \(T, 4\)"):
        powerflow(f, np.zeros((2, 5)))
    with pytest.raises(InvalidArgumentError, match="p_w"):
        powerflow(f, np.zeros(4))
    with pytest.raises(InvalidArgumentError, match=r"q_var: shape \(3, 4\), expected \(2, 4\)"):
        powerflow(f, ok, np.zeros((3, 4)))
    bad = ok.copy()
    bad[1, 2] = np.inf
    with pytest.raises(InvalidArgumentError, match=r"p_w\[1, 2\]") as e:
        powerflow(f, bad)
    assert e.value.field == "p_w[1, 2]"
    with pytest.raises(InvalidArgumentError, match=r"q_var\[1, 2\]"):
        powerflow(f, ok, np.where(bad == np.inf, np.nan, 0.0))
    with pytest.raises(InvalidArgumentError, match="numeric"):
        powerflow(f, np.zeros((2, 4), dtype=bool))
    with pytest.raises(InvalidArgumentError, match="numeric"):
        powerflow(f, [["a", "b", "c", "d"]])  # type: ignore[arg-type]
    for tol in (0.0, -1.0, float("nan"), 2.0):
        with pytest.raises(InvalidArgumentError, match="tol_pu"):
            powerflow(f, ok, tol_pu=tol)
    for it in (0, -3, 1.5, True):
        with pytest.raises(InvalidArgumentError, match="max_iter"):
            powerflow(f, ok, max_iter=it)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="feeder"):
        powerflow("feeder", ok)  # type: ignore[arg-type]


def test_non_contiguous_and_integer_input_is_accepted_as_values() -> None:
    f = radial_feeder(3)
    p = np.arange(-16.0, 0.0).reshape(4, 4)[:, ::1] * 1e3
    r1 = powerflow(f, p)
    r2 = powerflow(f, np.asfortranarray(p))
    r3 = powerflow(f, p.astype(np.int64))
    np.testing.assert_array_equal(r1.vm_pu, r2.vm_pu)
    np.testing.assert_array_equal(r1.vm_pu, r3.vm_pu)


def test_zero_periods() -> None:
    f = radial_feeder(3)
    r = powerflow(f, np.zeros((0, 4)))
    assert r.vm_pu.shape == (0, 4) and r.i_line_a.shape == (0, 3) and r.converged.shape == (0,)


def test_single_bus_feeder() -> None:
    f = Feeder([Bus("b0")], [], TR)
    r = powerflow(f, np.array([[-50e3], [0.0]]))
    assert r.i_line_a.shape == (2, 0) and r.vm_pu[0, 0] < r.vm_pu[1, 0] < 1.0 + 1e-6


def test_the_kernel_names_bad_arrays() -> None:
    """The native call checks what the front end passes (a second line of defence)."""
    f = radial_feeder(3)
    parent, line_bus, r, x, b, trafo, v_src, shift, s_base, i_base = _kernel_args(f)
    p = np.zeros((1, 4))

    def call(
        parent: NDArray[np.int64] = parent,
        r: NDArray[np.float64] = r,
        p_w: NDArray[np.float64] = p,
        q_var: NDArray[np.float64] = p,
    ) -> object:
        return _core.grid_powerflow(
            parent, line_bus, r, x, b, trafo, v_src, shift, s_base, i_base, p_w, q_var, 1e-10, 10
        )

    with pytest.raises(InvalidArgumentError, match="p_w"):
        call(p_w=np.zeros((1, 3)), q_var=np.zeros((1, 3)))
    with pytest.raises(InvalidArgumentError, match="q_var"):
        call(q_var=np.zeros((2, 4)))
    with pytest.raises(InvalidArgumentError, match=r"parent\["):
        call(parent=np.array([-1, 2, 1, 0], dtype=np.int64))
    with pytest.raises(InvalidArgumentError, match=r"r_pu\[1\]"):
        call(r=np.array([0.1, np.nan, 0.1]))
    with pytest.raises(InvalidArgumentError, match="non-contiguous"):
        call(p_w=np.zeros((1, 8))[:, ::2])


def test_the_gil_is_released() -> None:
    """Another Python thread runs while a long batch is solved."""
    f = radial_feeder(99)
    p = np.random.default_rng(0).uniform(-5e3, 2e3, size=(20_000, f.n_buses))
    ticks = 0
    done = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.001)

    th = threading.Thread(target=count)
    th.start()
    try:
        t0 = time.perf_counter()
        powerflow(f, p)
        elapsed = time.perf_counter() - t0
    finally:
        done.set()
        th.join()
    assert elapsed < 0.02 or ticks >= 3
