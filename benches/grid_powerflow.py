"""A year of power flow in one call against pandapower's per-step loop (issue 20, performance).

The target: a year of 15-minute periods (35 040) on a 100-bus feeder, solved by
``gridledger.grid.powerflow`` in one call, at least 100x faster than pandapower's
per-step loop on the same network and profiles, measured side by side in one run.

Workload: ``radial_feeder(99, units=30)`` (100 buses, NAYY 4x150 SE, 0.4 MVA 20/0.4 kV),
its 99 members' and 30 PV units' 2019 profiles from the bundled Austrian load and
solar shapes (``gridledger.community.community_inputs``, seeded member variation),
net injections per bus at power factor 0.95 for the loads.

pandapower's loop is timed over a slice of ``--pp-steps`` periods (the first ones of
the year, plus as many from the evening peak of a winter day), a step being "set the
loads, ``runpp``"; the year is extrapolated as the mean time per step x 35 040. Its
voltages are compared with ours on the slice. Then the cost of one call against the
number of buses (25, 100, 400) and of periods.

Usage::

    python benches/grid_powerflow.py                  # the whole run, JSON lines on stdout
    python benches/grid_powerflow.py --pp-steps 50 --periods 2976
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from datetime import UTC, datetime
from typing import Any

import numpy as np
from gridledger.community import Community
from gridledger.community.inputs import community_inputs
from gridledger.grid import Feeder, powerflow, radial_feeder
from gridledger.grid.pandapower_io import to_pandapower
from numpy.typing import NDArray

YEAR = 35_040
START = datetime(2019, 1, 1, tzinfo=UTC)


def workload(n_buses: int, periods: int) -> tuple[Feeder, NDArray[np.float64], NDArray[np.float64]]:
    """The feeder of ``n_buses`` and its members' and PV units' net injections (W, var)."""
    n_members = n_buses - 1
    n_units = max(1, n_members * 30 // 99)
    community = Community.default(n_members, n_units, kwp=8.0)
    inputs = community_inputs(community, START, periods)
    dt_h = community.period_minutes / 60
    member_w = -inputs.consumption_wh.astype(np.float64) / dt_h
    unit_w = inputs.generation_wh / dt_h
    legs = max(4, n_buses // 25)
    sn = "0.4 MVA 20/0.4 kV" if n_buses <= 100 else "0.63 MVA 20/0.4 kV"
    feeder = radial_feeder(
        n_members,
        n_legs=legs,
        members=[m.label for m in community.members],
        units=[u.label for u in community.units],
        transformer=sn,
    )
    p, q = feeder.injections(member_w, unit_w, power_factor=0.95)
    return feeder, p, q


def best_of(rounds: int, fn: Any) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def pandapower_loop(
    f: Feeder, p: NDArray[np.float64], q: NDArray[np.float64], steps: list[int]
) -> dict[str, Any]:
    """pandapower's per-step loop over ``steps``: seconds per step and the largest |Δvm| against ours."""
    import pandapower as pp

    net, idx = to_pandapower(f)
    ours = powerflow(f, p[steps], q[steps])
    worst = 0.0
    t0 = time.perf_counter()
    vms = []
    for t in steps:
        net.load["p_mw"] = -p[t] / 1e6
        net.load["q_mvar"] = -q[t] / 1e6
        pp.runpp(net, numba=False)
        vms.append(net.res_bus.vm_pu.loc[idx].to_numpy())
    elapsed = time.perf_counter() - t0
    worst = float(np.abs(np.array(vms) - ours.vm_pu).max())
    return {"steps": len(steps), "s": elapsed, "s_per_step": elapsed / len(steps), "max_dvm_pu": worst}


def single_thread(n_buses: int, periods: int) -> float:
    """One call's time with rayon on one thread (a child process: the pool is per process)."""
    env = dict(os.environ, RAYON_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, __file__, "--one", f"{n_buses}:{periods}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["s"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--periods", type=int, default=YEAR)
    ap.add_argument("--pp-steps", type=int, default=200)
    ap.add_argument("--buses", default="25,100,400")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore")  # pandapower's "numba not installed" notice, once per run
    if a.one:
        n, t = (int(x) for x in a.one.split(":"))
        f, p, q = workload(n, t)
        s, _ = best_of(a.rounds, lambda: powerflow(f, p, q))
        print(json.dumps({"s": s}))
        return 0
    env = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_avg_1m": os.getloadavg()[0],
        "note": "shared 2-core machine; every figure is a ratio measured in this one run",
    }
    print(json.dumps({"machine": env}), flush=True)
    f, p, q = workload(100, a.periods)
    s_ours, r = best_of(a.rounds, lambda: powerflow(f, p, q))
    row: dict[str, Any] = {
        "case": "year, 100 buses",
        "periods": a.periods,
        "gridledger_s": s_ours,
        "gridledger_us_per_period": s_ours / a.periods * 1e6,
        "gridledger_1thread_s": single_thread(100, a.periods),
        "converged": int(r.converged.sum()),
        "mean_iterations": float(r.iterations.mean()),
        "min_vm_pu": float(np.nanmin(r.vm_pu)),
        "max_line_loading": float(np.nanmax(r.line_loading)),
        "max_trafo_loading": float(np.nanmax(r.trafo_loading)),
        "energy_losses_kwh": float(np.nansum(r.losses_w) * 0.25 / 1e3),
    }
    half = a.pp_steps // 2
    peak = int(np.argmin(p.sum(axis=1)))  # the year's heaviest net draw
    steps = sorted(set(range(half)) | set(range(max(0, peak - half + 1), peak + 1)))[: a.pp_steps]
    pp_row = pandapower_loop(f, p, q, steps)
    pp_year = pp_row["s_per_step"] * a.periods
    row |= {
        "pandapower": pp_row,
        "pandapower_year_s_extrapolated": pp_year,
        "ratio": pp_year / s_ours,
        "ratio_1thread": pp_year / row["gridledger_1thread_s"],
    }
    print(json.dumps(row), flush=True)
    for n in (int(x) for x in a.buses.split(",")):
        f, p, q = workload(n, a.periods)
        s, r = best_of(a.rounds, lambda f=f, p=p, q=q: powerflow(f, p, q))
        print(
            json.dumps(
                {
                    "case": "buses",
                    "buses": n,
                    "periods": a.periods,
                    "s": s,
                    "us_per_period": s / a.periods * 1e6,
                    "ns_per_bus_period": s / a.periods / n * 1e9,
                    "mean_iterations": float(r.iterations.mean()),
                    "converged": int(r.converged.sum()),
                }
            ),
            flush=True,
        )
    f, p, q = workload(100, a.periods)
    for t in (96, 2_976, a.periods):
        s, _ = best_of(a.rounds, lambda t=t: powerflow(f, p[:t], q[:t]))
        print(
            json.dumps({"case": "periods", "buses": 100, "periods": t, "s": s, "us_per_period": s / t * 1e6})
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
