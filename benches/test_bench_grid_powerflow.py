"""Issue 20: a year of power flow in one call, and pandapower's loop on a slice (BENCHMARKS §11).

The full run and its extrapolation are ``benches/grid_powerflow.py``; these cases keep
the same workload measured under pytest-benchmark (smoke scale: two days, 10 steps).
"""

from __future__ import annotations

import numpy as np
import pytest
from _common import FULL, note
from grid_powerflow import YEAR, workload
from gridledger.grid import powerflow
from gridledger.grid.pandapower_io import to_pandapower
from pytest_benchmark.fixture import BenchmarkFixture

PERIODS = YEAR if FULL else 192
PP_STEPS = 200 if FULL else 10


@pytest.mark.parametrize("buses", [25, 100, 400] if FULL else [25, 100])
def test_grid_year(benchmark: BenchmarkFixture, buses: int) -> None:
    benchmark.group = f"11 grid: {PERIODS} periods in one call"
    note(benchmark, f"grid.powerflow_{buses}", "ours", PERIODS, buses=buses)
    f, p, q = workload(buses, PERIODS)
    r = benchmark.pedantic(lambda: powerflow(f, p, q), rounds=3, iterations=1)
    assert r.converged.all()


def test_grid_pandapower_steps(benchmark: BenchmarkFixture) -> None:
    pp = pytest.importorskip("pandapower")
    benchmark.group = f"11 grid: {PERIODS} periods in one call"
    note(benchmark, "grid.pandapower_steps", "baseline", PP_STEPS, buses=100)
    f, p, q = workload(100, PP_STEPS)
    net, _ = to_pandapower(f)

    def loop() -> None:
        for t in range(PP_STEPS):
            net.load["p_mw"] = -p[t] / 1e6
            net.load["q_mvar"] = -q[t] / 1e6
            pp.runpp(net, numba=False)

    benchmark.pedantic(loop, rounds=1, iterations=1)
    assert np.isfinite(net.res_bus.vm_pu.to_numpy()).all()
