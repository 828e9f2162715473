"""Issue: EV charging and proof of benefit (BENCHMARKS §8).

* The year 2019 of 5-minute rounds (105 120 rounds, ~10^6 transactions) for
  100 EVs: ``greedy`` (target ≤ 60 s) and ``optimal`` (target ≤ 10 min), the
  whole ``simulate`` call (data, fleet, schedule, validation of every block
  by the PoB validator, per-day PF), the offline bound excluded.
* Scaling of the ``optimal`` schedule with 100, 1 000 and 10 000 EVs (a week
  at full scale; households and capacity grow with the fleet).
* Validation of many competing blocks on one parent (λ recomputed, every
  rule checked) in one batch call.

Smoke scale: two days and a small fleet, so none of it rots.
"""

from __future__ import annotations

import numpy as np
import pytest
from _common import FULL, note
from gridledger import _core
from gridledger.ev import simulate
from pytest_benchmark.fixture import BenchmarkFixture

YEAR_DAYS = 365 if FULL else 2
SCALE_DAYS = 7 if FULL else 1
SCALE_EVS = (100, 1000, 10_000) if FULL else (100, 1000)
CANDIDATES = 10_000 if FULL else 100


@pytest.mark.parametrize("scheduler", ["greedy", "optimal"])
def test_ev_year(benchmark: BenchmarkFixture, scheduler: str) -> None:
    benchmark.group = f"8 ev: {YEAR_DAYS} days of 5-min rounds, 100 EVs"
    note(benchmark, f"ev.year_{scheduler}", "ours", YEAR_DAYS * 288)
    r = benchmark.pedantic(
        lambda: simulate(days=YEAR_DAYS, scheduler=scheduler, start="2019-01-01", bound=False),
        rounds=1,
        iterations=1,
    )
    benchmark.extra_info.update(
        pf_cuberoot=r.pf_cuberoot,
        pf_unscheduled_cuberoot=float(r.days_frame["pf_unscheduled_cuberoot"].mean()),
        transactions=len(r.executed_round),
        schedule_s=r.seconds,
    )
    assert r.pf < r.pf_unscheduled


@pytest.mark.parametrize("evs", SCALE_EVS)
def test_ev_scaling(benchmark: BenchmarkFixture, evs: int) -> None:
    benchmark.group = f"8 ev: optimal, {SCALE_DAYS} day(s), scaling"
    note(benchmark, f"ev.scale_{evs}", "ours", SCALE_DAYS * 288)
    f = evs / 100
    r = benchmark.pedantic(
        lambda: simulate(
            households=round(200 * f),
            capacity_kw=800 * f,
            evs=evs,
            days=SCALE_DAYS,
            scheduler="optimal",
            start="2019-01-07",
            bound=False,
        ),
        rounds=1,
        iterations=1,
    )
    benchmark.extra_info.update(
        transactions=len(r.executed_round), schedule_s=r.seconds, unproven=r.unproven_rounds
    )


def test_pob_candidates(benchmark: BenchmarkFixture) -> None:
    """λ of CANDIDATES competing blocks on one parent, one call."""
    benchmark.group = f"8 ev: PoB validation of {CANDIDATES} competing blocks"
    note(benchmark, "ev.pob_candidates", "ours", CANDIDATES)
    r = simulate(days=1, scheduler="optimal", start="2019-01-07", bound=False)
    sc = r.scenario
    rel = 200
    pending = np.flatnonzero((sc.published <= rel) & (r.executed_round >= rel))
    due = pending[sc.published[pending] <= rel - sc.max_defer]
    optional = pending[sc.published[pending] > rel - sc.max_defer]
    rng = np.random.default_rng(0)
    sets = [np.concatenate([due, optional[rng.random(len(optional)) < 0.5]]) for _ in range(CANDIDATES)]
    offsets = np.zeros(CANDIDATES + 1, np.int64)
    np.cumsum([len(s) for s in sets], out=offsets[1:])
    executed = (r.executed_round >= 0) & (r.executed_round < rel)
    theta = (r.rounds["theta_kw"].to_numpy() * 1000 / 12).round().astype(np.int64)
    slopes = np.diff(np.concatenate([[sc.theta_prev_wh], theta[:rel]])).astype(np.int64)

    parent = _core.PobParent(
        sc.published,
        sc.transactions.grid_wh,
        cap_wh=sc.cap_wh,
        max_defer=sc.max_defer,
        window=sc.rounds_per_day,
        round_minutes=sc.round_minutes,
        executed=executed,
        theta_prev=int(theta[rel - 1]),
        slopes=slopes,
    )

    def run() -> np.ndarray:
        _, _, ok = parent.evaluate(
            np.full(CANDIDATES, rel, np.int64),
            np.full(CANDIDATES, sc.base_wh[rel], np.int64),
            offsets,
            np.concatenate(sets).astype(np.int64),
        )
        return ok

    ok = benchmark(run)
    assert ok.mean() > 0.5
