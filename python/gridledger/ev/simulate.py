"""The seed-003 microgrid, round by round, under a chosen scheduler (SPEC §6).

:func:`simulate` scales a national ENTSO-E load to the households, draws the
fleet and its transactions, runs the scheduler, recomputes every round's
block through the proof-of-benefit validator (exact integer λ, Rust batch),
and reports PF, PF^(1/3) and the offline bound per day.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gridledger import _core, data
from gridledger.errors import BadConfigurationError, BadDataError
from gridledger.ev.fleet import Fleet, FleetConfig, Transactions, make_fleet, make_transactions
from gridledger.ev.pf import kw_to_wh, lambda_from_sums, wh_to_kw
from gridledger.ev.qp import day_bound, plan_round, solvers

__all__ = ["SCHEDULERS", "Scenario", "SimResult", "community_load_kw", "simulate"]

#: The per-round schedulers, and the look-ahead one beyond the seed.
SCHEDULERS = ("none", "greedy", "optimal", "receding_horizon")


@dataclass(frozen=True)
class Scenario:
    """The microgrid's inputs after preparation (all per round, Wh where hashed).

    Attributes
    ----------
    start
        First round's start (UTC).
    round_minutes, rounds_per_day, days
        Round length (minutes), rounds in a day, days simulated.
    first_round
        Absolute round index of the first round (Unix time // round length).
    base_wh
        ``(days·R,)`` base load P per round (Wh per round), the households' load.
    theta_prev_wh
        Θ of the round before the first (base only).
    history_wh
        Slopes of the base load over the day before the start (Wh per round), as many as exist.
    cap_wh
        Feeder capacity per round (Wh per round).
    max_defer
        The deferral d (rounds): a transaction published in round p executes in p … p + d.
    config
        The fleet's parameters, ``evs``, ``seed``, ``demand`` and ``deferral`` applied.
    fleet, transactions
        The EVs and the transactions they publish (pool order: round, then EV).
    published
        Publication round of each transaction, relative to the first round.
    """

    start: datetime
    round_minutes: int
    rounds_per_day: int
    days: int
    first_round: int
    base_wh: NDArray[np.int64]
    theta_prev_wh: int
    history_wh: NDArray[np.int64]
    cap_wh: int
    max_defer: int
    config: FleetConfig
    fleet: Fleet
    transactions: Transactions
    published: NDArray[np.int64]

    def kw(self, wh: NDArray[np.int64] | NDArray[np.float64] | float) -> NDArray[np.float64]:
        """Wh per round to mean kW over the round."""
        return wh_to_kw(wh, self.round_minutes)


@dataclass(frozen=True)
class SimResult:
    """The outcome of :func:`simulate`.

    Attributes
    ----------
    scheduler
        The scheduler that ran.
    pf
        Mean over the days of each day's PF (kW²; the population variance of
        the day's slopes of Θ in kW per round).
    pf_cuberoot
        Mean over the days of PF^(1/3) (kW^(2/3)), the seed's scale.
    pf_bound, pf_bound_cuberoot
        The same for the offline optimum of each day (a convex QP): no
        round-by-round scheduler can do better. NaN when ``bound=False``.
    rounds
        One row per round: ``utc_timestamp``, ``base_kw``, ``theta_kw`` (Θ
        after scheduling), ``theta_unscheduled_kw`` (every transaction on
        arrival), requested and executed ``charge``/``discharge`` (kW at the
        battery), ``published``, ``executed``, ``deferred`` (executed after
        their round), ``lambda`` (the block's benefit, 10⁻¹² kW⁻²) and
        ``miner`` (index of the miner whose block won; 0 is ``scheduler``'s).
    days_frame
        One row per day: ``date``, ``pf``, ``pf_cuberoot``, ``pf_unscheduled``,
        ``pf_bound``.
    executed_round
        Round (relative) in which each transaction executed, −1 if pending at the end.
    unproven_rounds
        Rounds whose choice the exact search did not prove optimal (0 for
        ``optimal``); for ``receding_horizon``, rounds whose QP failed and fell
        back to the per-round optimum.
    seconds
        Wall time of the schedule (s), the bound excluded.
    wins
        Rounds won by each miner, keyed ``"index:scheduler"`` (index 0 is
        ``scheduler``'s); the per-round winner is the ``miner`` column.
    """

    scheduler: str
    pf: float
    pf_cuberoot: float
    pf_bound: float
    pf_bound_cuberoot: float
    rounds: pl.DataFrame
    days_frame: pl.DataFrame
    executed_round: NDArray[np.int64]
    unproven_rounds: int
    seconds: float
    scenario: Scenario = field(repr=False)
    wins: dict[str, int] = field(default_factory=dict)

    @property
    def pf_unscheduled(self) -> float:
        """Mean daily PF with every transaction executed on arrival (kW²)."""
        return float(self.days_frame["pf_unscheduled"].mean())  # type: ignore[arg-type]


def _check(ok: bool, name: str, value: object, expected: str) -> None:
    if not ok:
        raise BadConfigurationError(f"{name} = {value!r}: expected {expected}", name, value)


def community_load_kw(load: pl.DataFrame | None, households: int, round_minutes: int) -> pl.DataFrame:
    """Return the households' base load per round: ``utc_timestamp``, ``base_kw``.

    ``load`` is a long-layout frame of :mod:`gridledger.data` (a national
    ``load_actual`` series; default: the bundled Austrian 2019 load). It is
    scaled to ``households`` × 3 500 kWh/year and resampled to the round with
    the mean-preserving linear rule (a step rule would put every hour's change
    into one round).
    """
    frame = data.sample_load() if load is None else load
    if not isinstance(frame, pl.DataFrame) or "value_mw" not in frame.columns:
        raise BadDataError("load must be a long-layout polars frame with value_mw", "load", type(frame))
    scaled = data.scale_to_community(frame, households)
    fine = data.resample(scaled, f"{round_minutes}m", method="linear", fill_limit="3h")
    return fine.select("utc_timestamp", (pl.col("value_mw") * 1000.0).alias("base_kw")).sort("utc_timestamp")


def _prepare(
    households: int,
    capacity_kw: float,
    evs: int,
    round_minutes: int,
    days: int,
    seed: int,
    load: pl.DataFrame | None,
    start: date | datetime | str | None,
    fleet_config: FleetConfig | None,
    demand: str | None = None,
    deferral: str | None = None,
) -> Scenario:
    _check(isinstance(households, int) and 1 <= households <= 10**7, "households", households, "1 … 10^7")
    _check(0 < capacity_kw <= 1e7, "capacity_kw", capacity_kw, "0 < kW ≤ 10^7")
    _check(
        isinstance(round_minutes, int) and round_minutes in (1, 2, 3, 5, 10, 15, 30, 60),
        "round_minutes",
        round_minutes,
        "one of 1, 2, 3, 5, 10, 15, 30, 60",
    )
    _check(isinstance(days, int) and 1 <= days <= 3660, "days", days, "1 … 3660")
    cfg = fleet_config or FleetConfig()
    over: dict[str, object] = {"evs": evs, "seed": seed}
    if demand is not None:
        over["demand"] = demand
    if deferral is not None:
        over["deferral"] = deferral
    cfg = FleetConfig(**{**cfg.__dict__, **over})
    cfg.validate()
    per_day = 1440 // round_minutes
    frame = community_load_kw(load, households, round_minutes)
    ts = frame["utc_timestamp"]
    first_ts: datetime = ts[0]
    if start is None:
        day0 = first_ts.date() if first_ts.time() == datetime.min.time() else first_ts.date() + timedelta(1)
    elif isinstance(start, str):
        day0 = date.fromisoformat(start)
    else:
        day0 = start if not isinstance(start, datetime) else start.date()
    t0 = datetime(day0.year, day0.month, day0.day, tzinfo=UTC)
    kw = frame["base_kw"].to_numpy()
    secs = np.asarray(ts.dt.epoch("s").to_numpy(), dtype=np.int64)
    i0 = int(np.searchsorted(secs, int(t0.timestamp())))
    need = days * per_day
    have = len(kw) - i0 if i0 < len(kw) and secs[i0] == int(t0.timestamp()) else 0
    if have < need:
        raise BadDataError(
            f"load has {max(have, 0)} rounds of {round_minutes} min from {day0}, {days} day(s) need {need}",
            "load",
            f"{len(kw)} rounds from {first_ts}",
        )
    window = kw[i0 : i0 + need]
    if np.isnan(window).any():
        bad = int(np.flatnonzero(np.isnan(window))[0])
        raise BadDataError(f"load is missing at round {bad} of the horizon", "load", f"round {bad}")
    base_wh = kw_to_wh(window, round_minutes)
    hist = kw[max(i0 - per_day - 1, 0) : i0]
    hist_wh = kw_to_wh(hist, round_minutes)
    theta_prev = int(hist_wh[-1]) if len(hist_wh) else int(base_wh[0])
    first_round = int(t0.timestamp()) // (round_minutes * 60)
    fleet = make_fleet(cfg)
    txs = make_transactions(fleet, cfg, first_round, need, round_minutes)
    return Scenario(
        start=t0,
        round_minutes=round_minutes,
        rounds_per_day=per_day,
        days=days,
        first_round=first_round,
        base_wh=base_wh,
        theta_prev_wh=theta_prev,
        history_wh=np.diff(hist_wh).astype(np.int64),
        cap_wh=int(kw_to_wh(capacity_kw, round_minutes)),
        max_defer=cfg.defer_rounds,
        config=cfg,
        fleet=fleet,
        transactions=txs,
        published=(txs.round - first_round).astype(np.int64),
    )


def _receding_horizon(
    sc: Scenario, horizon: int, progress: Callable[[str, int, int], None] | None = None
) -> tuple[NDArray[np.int64], int]:
    """Run the look-ahead scheduler over the scenario's rounds.

    Per round, a QP plans the next ``horizon`` rounds; the exact subset search
    then executes now the set nearest the plan's amount.
    """
    n = len(sc.published)
    grid = sc.transactions.grid_wh
    executed = np.full(n, -1, dtype=np.int64)
    window = sc.rounds_per_day
    slopes: deque[int] = deque(sc.history_wh[-(window - 1) :].tolist() if window > 1 else [])
    s1 = sum(slopes)
    theta_prev = sc.theta_prev_wh
    pending: list[int] = []
    nxt = 0
    d = sc.max_defer
    rounds = len(sc.base_wh)
    fallbacks = 0
    for r in range(rounds):
        while nxt < n and sc.published[nxt] <= r:
            pending.append(nxt)
            nxt += 1
        forced = [i for i in pending if sc.published[i] <= r - d]
        optional = [i for i in pending if sc.published[i] > r - d]
        base = int(sc.base_wh[r]) + int(grid[forced].sum()) if forced else int(sc.base_wh[r])
        executed[forced] = r
        hi = max(sc.cap_wh - base, 0)
        if optional:
            opt = np.asarray(optional, dtype=np.int64)
            ahead = sc.base_wh[r : r + horizon].astype(np.float64)
            ahead[0] = base
            mean_slope = s1 / len(slopes) if slopes else 0.0
            w = np.ascontiguousarray(grid[opt])
            try:
                frac = plan_round(
                    sc.published[opt] - r,
                    sc.kw(grid[opt]),
                    sc.kw(ahead),
                    float(sc.kw(theta_prev)),
                    float(sc.kw(mean_slope)),
                    d,
                )
            except BadDataError:
                # The solver failed (rare): this round falls back to the per-round optimum.
                fallbacks += 1
                k = max(len(slopes), 1)
                b = s1 - k * (base - theta_prev) if slopes else theta_prev - base
                flags, total, _ = _core.ev_choose("optimal", w, k, b, -(1 << 60), hi)
            else:
                target = round(float(frac @ grid[opt]))
                flags, total, _ = _core.ev_choose("optimal", w, 1, target, -(1 << 60), hi)
            executed[opt[flags]] = r
        else:
            total = 0
        pending = [i for i in pending if executed[i] < 0]
        theta = base + int(total)
        slopes.append(theta - theta_prev)
        s1 += theta - theta_prev
        while len(slopes) > window - 1:
            s1 -= slopes.popleft()
        theta_prev = theta
        if progress is not None and (r + 1) % sc.rounds_per_day == 0:
            progress("schedule", (r + 1) // sc.rounds_per_day, sc.days)
    return executed, fallbacks


def _blocks(sc: Scenario, executed_round: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """CSR of the executed pool indices per round."""
    rounds = len(sc.base_wh)
    done = np.flatnonzero(executed_round >= 0)
    order = done[np.argsort(executed_round[done], kind="stable")]
    counts = np.bincount(executed_round[order], minlength=rounds)
    offsets = np.zeros(rounds + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets, order.astype(np.int64)


def _validate(
    sc: Scenario, executed_round: NDArray[np.int64]
) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    """Every round's block through the PoB validator: (λ, Θ Wh) per round."""
    offsets, indices = _blocks(sc, executed_round)
    rounds = len(sc.base_wh)
    # The validator recomputes each claimed λ; the claims are the miners' own computation.
    claimed = _claimed_lambdas(sc, offsets, indices)
    parent = _core.PobParent(
        sc.published,
        sc.transactions.grid_wh,
        cap_wh=sc.cap_wh,
        max_defer=sc.max_defer,
        window=sc.rounds_per_day,
        round_minutes=sc.round_minutes,
        theta_prev=sc.theta_prev_wh,
        slopes=sc.history_wh,
    )
    return parent.validate_chain(np.arange(rounds, dtype=np.int64), sc.base_wh, offsets, indices, claimed)


def _claimed_lambdas(
    sc: Scenario, offsets: NDArray[np.int64], indices: NDArray[np.int64]
) -> NDArray[np.uint64]:
    """Return the λ each miner claims: computed in Python from the block's Θ (exact integers)."""
    grid = sc.transactions.grid_wh
    per_round = np.add.reduceat(np.append(grid[indices], 0), offsets[:-1]) if len(indices) else None
    counts = np.diff(offsets)
    theta = sc.base_wh.copy()
    if per_round is not None:
        theta = theta + np.where(counts > 0, per_round[: len(counts)], 0)
    slopes = np.diff(np.concatenate([[sc.theta_prev_wh], theta]))
    w = sc.rounds_per_day
    hist = sc.history_wh[-(w - 1) :] if w > 1 else sc.history_wh[:0]
    full = np.concatenate([hist, slopes]).astype(object)
    out = np.zeros(len(theta), dtype=np.uint64)
    s1 = sum(int(x) for x in full[: len(hist)])
    s2 = sum(int(x) * int(x) for x in full[: len(hist)])
    t = len(hist)
    for r in range(len(theta)):
        x = int(full[len(hist) + r])
        s1 += x
        s2 += x * x
        t += 1
        if t > w:
            old = int(full[len(hist) + r - w])
            s1 -= old
            s2 -= old * old
            t -= 1
        out[r] = lambda_from_sums(t, s1, s2, sc.round_minutes)
    return out


def simulate(
    households: int = 200,
    capacity_kw: float = 800.0,
    evs: int = 100,
    round_minutes: int = 5,
    days: int = 1,
    scheduler: str = "optimal",
    seed: int = 0,
    load: pl.DataFrame | None = None,
    *,
    start: date | datetime | str | None = None,
    fleet: FleetConfig | None = None,
    demand: str | None = None,
    deferral: str | None = None,
    bound: bool = True,
    horizon: int = 12,
    rivals: Sequence[str] = (),
    progress: Callable[[str, int, int], None] | None = None,
) -> SimResult:
    """Run the seed-003 microgrid under one scheduler.

    Parameters
    ----------
    households
        Households whose load (3 500 kWh/year each) has the shape of ``load``.
    capacity_kw
        Feeder capacity (kW): optional executions never push Θ above it.
    evs
        Number of EVs.
    round_minutes
        Round (block) length in minutes; PF windows are whole UTC days.
    days
        Days simulated from ``start``.
    scheduler
        ``"none"`` (execute on arrival), ``"greedy"`` (a heuristic: one pass,
        oldest first), ``"optimal"`` (the exact best subset each round, the
        seed's per-round optimum, eq. 11) or
        ``"receding_horizon"`` (a convex QP over ``horizon`` rounds ahead).
    seed
        Seed of the fleet and its transactions (the same for every scheduler).
    load
        A national load series (long layout of :mod:`gridledger.data`);
        default the bundled Austrian 2019 load.
    start
        First day (UTC); default the first whole day of ``load``.
    fleet
        Fleet parameters (``evs`` and ``seed`` above override its own). Default
        :class:`FleetConfig`: the seed's case, ``per_slot`` demand, ``within_two`` deferral.
    demand
        The demand model, overriding ``fleet.demand`` when given: ``"per_slot"`` (the seed's
        text: every round, each EV connects with the profile's probability and publishes one
        transaction of rating × round) or ``"sessions"`` (persistent charging sessions).
    deferral
        The deferral reading, overriding ``fleet.deferral`` when given: ``"within_two"`` (a
        transaction published in round p executes in p, p + 1 or p + 2) or ``"one_round"``
        (p or p + 1).
    bound
        Also solve each day's offline QP bound.
    horizon
        Look-ahead rounds of ``receding_horizon``.
    rivals
        Schedulers of competing miners (``"none"``, ``"greedy"``,
        ``"optimal"``): each round every miner proposes a block on the current
        chain and the block of highest λ wins (proof of benefit; ties go to
        ``scheduler``'s miner). ``SimResult.wins`` counts the rounds each won.
    progress
        Called as ``progress(stage, done, total)``: ``stage`` is
        ``"schedule"`` (``receding_horizon``, per day scheduled) or
        ``"bound"`` (per day of the offline bound solved).

    Returns
    -------
    SimResult

    Raises
    ------
    MissingExtraError
        ``bound`` or ``scheduler="receding_horizon"`` without the ``ev``
        extra (clarabel, scipy): ``pip install 'gridledger[ev]'``.
    """
    _check(scheduler in SCHEDULERS, "scheduler", scheduler, f"one of {', '.join(SCHEDULERS)}")
    _check(isinstance(horizon, int) and 1 <= horizon <= 288, "horizon", horizon, "1 … 288")
    rivals = tuple(rivals)
    for i, name in enumerate(rivals):
        _check(name in SCHEDULERS[:3], f"rivals[{i}]", name, "one of none, greedy, optimal")
    _check(
        not (rivals and scheduler == "receding_horizon"),
        "rivals",
        rivals,
        "no rivals with receding_horizon (its plan runs in Python, one miner)",
    )
    if bound or scheduler == "receding_horizon":
        solvers()  # the QPs' extra, missing: say so now rather than after the simulation
    sc = _prepare(
        households, capacity_kw, evs, round_minutes, days, seed, load, start, fleet, demand, deferral
    )
    t0 = time.perf_counter()
    miners = (scheduler, *rivals)
    if scheduler == "receding_horizon":
        executed, unproven = _receding_horizon(sc, horizon, progress)
        winner = np.zeros(len(sc.base_wh), dtype=np.uint32)
    else:
        executed, _, _, winner, unproven = _core.ev_simulate(
            ",".join(miners),
            sc.published,
            sc.transactions.grid_wh,
            sc.base_wh,
            sc.theta_prev_wh,
            sc.history_wh,
            sc.cap_wh,
            sc.max_defer,
            sc.rounds_per_day,
            sc.round_minutes,
        )
    seconds = time.perf_counter() - t0
    lam, theta = _validate(sc, executed)
    res = _result(sc, scheduler, executed, lam, theta, int(unproven), seconds, bound, progress)
    counts = np.bincount(winner, minlength=len(miners))
    wins = {f"{i}:{m}": int(c) for i, (m, c) in enumerate(zip(miners, counts, strict=True))}
    frame = res.rounds.with_columns(pl.Series("miner", winner.astype(np.int64)))
    return replace(res, rounds=frame, wins=wins)


def _daily_pf(sc: Scenario, theta_wh: NDArray[np.int64]) -> NDArray[np.float64]:
    th = sc.kw(np.concatenate([[sc.theta_prev_wh], theta_wh]))
    return np.asarray(np.diff(th).reshape(sc.days, sc.rounds_per_day).var(axis=1))


def _bounds(sc: Scenario, progress: Callable[[str, int, int], None] | None) -> NDArray[np.float64]:
    r = sc.rounds_per_day
    d = sc.max_defer
    grid_kw = sc.kw(sc.transactions.grid_wh)
    base = np.concatenate([[sc.theta_prev_wh], sc.base_wh])  # index j = round j − 1
    out = np.empty(sc.days)
    for day in range(sc.days):
        a = day * r  # first round of the day; window rounds a−1 … a+r−1
        lo, hi = np.searchsorted(sc.published, [a - 1 - d, a + r], side="left")
        out[day] = day_bound(sc.published[lo:hi] - (a - 1), grid_kw[lo:hi], sc.kw(base[a : a + r + 1]), d)
        if progress is not None:
            progress("bound", day + 1, sc.days)
    return out


def _result(
    sc: Scenario,
    scheduler: str,
    executed: NDArray[np.int64],
    lam: NDArray[np.uint64],
    theta: NDArray[np.int64],
    unproven: int,
    seconds: float,
    bound: bool,
    progress: Callable[[str, int, int], None] | None,
) -> SimResult:
    txs = sc.transactions
    rounds = len(sc.base_wh)
    pub = sc.published
    charge = txs.kind > 0
    q = txs.quantity_wh

    def per_round(mask: NDArray[np.bool_], at: NDArray[np.int64]) -> NDArray[np.float64]:
        ok = mask & (at >= 0)
        return sc.kw(np.bincount(at[ok], weights=q[ok], minlength=rounds)[:rounds])

    unsched = sc.base_wh + np.bincount(pub, weights=txs.grid_wh, minlength=rounds)[:rounds].astype(np.int64)
    ts = [sc.start + timedelta(minutes=sc.round_minutes * i) for i in range(rounds)]
    frame = pl.DataFrame(
        {
            "utc_timestamp": pl.Series(ts, dtype=pl.Datetime("us", "UTC")),
            "base_kw": sc.kw(sc.base_wh),
            "theta_kw": sc.kw(theta),
            "theta_unscheduled_kw": sc.kw(unsched),
            "charge_requested_kw": per_round(charge, pub),
            "discharge_requested_kw": per_round(~charge, pub),
            "charge_kw": per_round(charge, executed),
            "discharge_kw": per_round(~charge, executed),
            "published": np.bincount(pub, minlength=rounds)[:rounds],
            "executed": np.bincount(executed[executed >= 0], minlength=rounds)[:rounds],
            "deferred": np.bincount(executed[executed > pub], minlength=rounds)[:rounds],
            "lambda": lam,
        }
    )
    pf_days = _daily_pf(sc, theta)
    pf_none = _daily_pf(sc, unsched)
    pf_b = _bounds(sc, progress) if bound else np.full(sc.days, np.nan)
    days_frame = pl.DataFrame(
        {
            "date": [(sc.start + timedelta(days=i)).date() for i in range(sc.days)],
            "pf": pf_days,
            "pf_cuberoot": np.cbrt(pf_days),
            "pf_unscheduled": pf_none,
            "pf_unscheduled_cuberoot": np.cbrt(pf_none),
            "pf_bound": pf_b,
            "pf_bound_cuberoot": np.cbrt(pf_b),
        }
    )
    return SimResult(
        scheduler=scheduler,
        pf=float(pf_days.mean()),
        pf_cuberoot=float(np.cbrt(pf_days).mean()),
        pf_bound=float(pf_b.mean()),
        pf_bound_cuberoot=float(np.cbrt(pf_b).mean()),
        rounds=frame,
        days_frame=days_frame,
        executed_round=executed,
        unproven_rounds=unproven,
        seconds=seconds,
        scenario=sc,
    )
