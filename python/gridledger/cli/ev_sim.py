"""``gridledger ev-sim``: EV charging by proof of benefit (seed 003), PF per scheduler and the bound."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from gridledger.cli.common import (
    ANY_FIRST_DAY,
    ANY_LAST_DAY,
    INT_MAX,
    Command,
    Day,
    Float,
    Int,
    Kind,
    OutDir,
    OutFile,
    UsageError,
    add_data_options,
    add_overwrite,
    check_outputs,
    run_data,
)
from gridledger.errors import GridLedgerError

#: The bundled load's first day (UTC).
FIRST_DAY = date(2019, 1, 1)
#: Most EVs × days one run may simulate (the fleet's sessions are drawn up front).
MAX_EV_DAYS = 10_000_000
#: The figures ``--plots DIR`` receives.
PLOTS = ("ev_demand_hourly.png", "ev_load_profile.png", "ev_pf_window.png")
MINERS = ("none", "greedy", "optimal")


@dataclass(frozen=True)
class Rivals(Kind):
    """A comma-separated list of competing miners, each one of none, greedy, optimal."""

    def __call__(self, text: str) -> tuple[str, ...]:
        """Return the rival miner names in ``text``; :class:`UsageError` naming the first unknown one."""
        names = tuple(r.strip() for r in text.split(",") if r.strip())
        for i, name in enumerate(names):
            if name not in MINERS:
                raise UsageError(
                    f"{self.option}: rivals[{i}] must be one of {', '.join(MINERS)}, got {name!r}",
                    self.hint,
                )
        return names


def _check(args: argparse.Namespace) -> None:
    """Everything that spans several arguments, before any work."""
    if args.evs * args.days > MAX_EV_DAYS:
        raise UsageError(
            f"--evs {args.evs:,} over --days {args.days} is {args.evs * args.days:,} EV-days, "
            f"more than the {MAX_EV_DAYS:,} one run may hold",
            f"run fewer days or EVs: over {args.days} day(s) at most {MAX_EV_DAYS // args.days:,} EVs",
        )
    if args.rivals and args.scheduler in ("none", "receding_horizon"):
        # Rivals join only the greedy and optimal runs; receding_horizon plans in Python, one miner.
        raise UsageError(
            f"--rivals would join no run of --scheduler {args.scheduler} (only greedy and optimal compete)",
            "drop --rivals, or use --scheduler greedy, optimal or all",
        )
    if args.plots:
        check_outputs("--plots", [args.plots / name for name in PLOTS], args.overwrite)
    if args.rounds:
        check_outputs("--rounds", [args.rounds], args.overwrite)
    if args.start is None:
        args.start = _first_day(args)
    args.load_frame, _ = run_data(args, args.start, args.days, solar=False)


def _first_day(args: argparse.Namespace) -> date:
    """Return the load's first whole UTC day (2019-01-01 for the bundled load)."""
    if args.load is None:
        return FIRST_DAY
    from datetime import timedelta

    from gridledger.study import sources

    try:
        lo, _ = sources.covered_span(sources.load_series(str(args.load), args.area))
    except GridLedgerError as e:
        raise UsageError(
            str(e), "use an area the file has: `gridledger data inspect FILE` lists its series"
        ) from None
    day = lo.date()
    return day if (lo.hour, lo.minute) == (0, 0) else day + timedelta(days=1)


def run(args: argparse.Namespace) -> int:
    """``gridledger ev-sim``: the seed-003 microgrid under each scheduler, PF and the bound."""
    _check(args)
    import os
    import shutil
    import time

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from gridledger import ev

    names = list(ev.SCHEDULERS) if args.scheduler == "all" else [args.scheduler]
    if "none" not in names:
        names = ["none", *names]
    # Competing miners join the greedy and optimal runs (none stays the unscheduled baseline).
    rivals: tuple[str, ...] = args.rivals or ()
    console = Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")))
    results: dict[str, ev.SimResult] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        disable=args.quiet,
    ) as bar:
        rh_days = args.days if "receding_horizon" in names else 0
        task = bar.add_task("ev-sim", total=len(names) + rh_days + (0 if args.no_bound else args.days))
        for i, name in enumerate(names):
            bar.update(task, description=f"scheduler {name}")
            t0 = time.perf_counter()
            want_bound = i == 0 and not args.no_bound

            def tick(stage: str, done: int, total: int, name: str = name) -> None:
                what = "offline bound" if stage == "bound" else f"scheduler {name}"
                bar.update(task, description=f"{what}, day {done}/{total}", advance=1)

            results[name] = ev.simulate(
                households=args.households,
                capacity_kw=args.capacity_kw,
                evs=args.evs,
                round_minutes=args.round_minutes,
                days=args.days,
                scheduler=name,
                seed=args.seed,
                start=args.start,
                load=args.load_frame,
                demand=args.demand,
                deferral=args.deferral,
                bound=want_bound,
                horizon=args.horizon,
                rivals=rivals if name in ("greedy", "optimal") else (),
                progress=tick,
            )
            print(f"{name}: {time.perf_counter() - t0:.2f} s", file=sys.stderr)
            bar.update(task, advance=1)
    base = results["none"]
    bound, bound_c = base.pf_bound, base.pf_bound_cuberoot
    sc = base.scenario
    t = Table(
        title=f"gridledger ev-sim: {args.households} households, {args.capacity_kw:g} kW, {args.evs} EVs, "
        f"{args.round_minutes}-min rounds, {args.days} day(s) from {sc.start.date()}, "
        f"{len(sc.published):,} transactions ({args.demand} demand, deferral {args.deferral})"
    )
    for col in ("scheduler", "PF (kW²)", "PF^(1/3)", "vs none", "PF^(1/3) − bound", "schedule s"):
        t.add_column(col, justify="left" if col == "scheduler" else "right")
    c0 = base.pf_cuberoot
    for name, r in results.items():
        gap = "" if np.isnan(bound_c) else f"{r.pf_cuberoot - bound_c:.2f}"
        t.add_row(
            name,
            f"{r.pf:,.1f}",
            f"{r.pf_cuberoot:.2f}",
            f"{100 * (r.pf_cuberoot / c0 - 1):+.1f} %" if name != "none" else "",
            gap,
            f"{r.seconds:.2f}",
        )
    if not np.isnan(bound):
        t.add_row(
            "offline bound (QP)",
            f"{bound:,.1f}",
            f"{bound_c:.2f}",
            f"{100 * (bound_c / c0 - 1):+.1f} %",
            "0",
            "",
        )
    width = max(100, shutil.get_terminal_size((100, 24)).columns)
    Console(no_color=bool(os.environ.get("NO_COLOR")), width=width).print(t)
    for name, r in results.items():
        if len(r.wins) > 1:
            won = ", ".join(f"{k} {v}" for k, v in r.wins.items())
            print(f"{name} against rivals, rounds won per miner: {won}")
    if args.plots:
        shown = results[names[-1]]
        for path in ev.plot_result(shown, args.plots):
            print(f"wrote {path}", file=sys.stderr)
    if args.rounds:
        frames = [r.rounds.with_columns(pl.lit(n).alias("scheduler")) for n, r in results.items()]
        pl.concat(frames).write_parquet(args.rounds)
        print(f"per-round frames written to {args.rounds}", file=sys.stderr)
    return 0


def configure(p: argparse.ArgumentParser) -> None:
    """Add the options of ``gridledger ev-sim`` to ``p``."""
    p.add_argument(
        "--households",
        type=Int("give 1 … 10,000,000 households, e.g. --households 200", lo=1, hi=10**7),
        default=200,
        help="households, 1 … 10^7 (default 200)",
    )
    p.add_argument(
        "--capacity-kw",
        type=Float("give the feeder's capacity in kW, > 0 and ≤ 10^7, e.g. --capacity-kw 800", hi=1e7),
        default=800.0,
        help="feeder capacity in kW, > 0 and ≤ 10^7 (default 800)",
    )
    p.add_argument(
        "--evs",
        type=Int("give 1 … 1,000,000 EVs, e.g. --evs 100", lo=1, hi=10**6),
        default=100,
        help=f"EVs, 1 … 10^6; EVs × days ≤ {MAX_EV_DAYS:,} (default 100)",
    )
    p.add_argument(
        "--round-minutes",
        type=Int("give one of 1, 2, 3, 5, 10, 15, 30, 60, e.g. --round-minutes 5", lo=1, hi=60),
        choices=[1, 2, 3, 5, 10, 15, 30, 60],
        default=5,
        help="round (block) length in minutes (default 5)",
    )
    p.add_argument(
        "--days",
        type=Int("give 1 … 365 days, e.g. --days 1", lo=1, hi=365),
        default=1,
        help="days to run, 1 … 365; the run must end inside 2019 (default 1)",
    )
    p.add_argument(
        "--start",
        type=Day("give a day YYYY-MM-DD that the load data covers", lo=ANY_FIRST_DAY, hi=ANY_LAST_DAY),
        default=None,
        help="first day, UTC (default the load's first whole day: 2019-01-01 for the bundled load)",
    )
    add_data_options(p, solar=False)
    p.add_argument(
        "--demand",
        default="per_slot",
        choices=["per_slot", "sessions"],
        help="EV demand: per_slot (each round every EV connects with the profile's probability, "
        "as seed 003 reads; default) or sessions (persistent charging sessions)",
    )
    p.add_argument(
        "--deferral",
        default="within_two",
        choices=["within_two", "one_round"],
        help="rounds a transaction may execute in: within_two (p … p+2, default) or one_round (p, p+1)",
    )
    p.add_argument(
        "--scheduler",
        default="all",
        choices=["all", "none", "greedy", "optimal", "receding_horizon"],
        help="the scheduler to run besides none (default all)",
    )
    p.add_argument(
        "--horizon",
        type=Int("give 1 … 288 look-ahead rounds, e.g. --horizon 12", lo=1, hi=288),
        default=12,
        help="look-ahead rounds of receding_horizon, 1 … 288 (default 12)",
    )
    p.add_argument(
        "--rivals",
        type=Rivals("list rivals from none, greedy, optimal, comma-separated, e.g. --rivals greedy,none"),
        metavar="LIST",
        help="competing miners for the greedy and optimal runs, comma-separated (none, greedy, optimal): "
        "each round the block of highest λ wins",
    )
    p.add_argument(
        "--seed",
        type=Int("give a seed 0 … 2^63 − 1, e.g. --seed 7", hi=INT_MAX),
        default=0,
        help="seed of the fleet and its transactions, 0 … 2^63 − 1 (default 0)",
    )
    p.add_argument("--no-bound", action="store_true", help="skip the offline QP bound")
    p.add_argument(
        "--plots",
        type=OutDir("give --plots a folder (new or existing) in an existing folder"),
        metavar="DIR",
        help="write the seed's figures (PNG) for the last scheduler here",
    )
    p.add_argument(
        "--rounds",
        type=OutFile("give --rounds a Parquet file in an existing folder"),
        metavar="PARQUET",
        help="write every scheduler's per-round frame here",
    )
    add_overwrite(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")


COMMAND = Command(
    "ev-sim",
    "EV charging by proof of benefit (seed 003): PF per scheduler and the offline bound",
    configure,
    run,
    {
        "load": "start earlier or run fewer days: the load data must cover the run",
        "*": "`gridledger ev-sim --help` gives each option's range",
    },
)
