"""``gridledger ev-sim``: EV charging by proof of benefit (seed 003), PF per scheduler and the bound."""

from __future__ import annotations

import argparse
import sys

import numpy as np
import polars as pl

from gridledger.cli.common import Command


def run(args: argparse.Namespace) -> int:
    """``gridledger ev-sim``: the seed-003 microgrid under each scheduler, PF and the bound."""
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
    rivals = tuple(r for r in (args.rivals or "").split(",") if r)
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
        f"{len(sc.published):,} transactions"
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
    p.add_argument("--households", type=int, default=200, help="households (default 200)")
    p.add_argument("--capacity-kw", type=float, default=800.0, help="feeder capacity in kW (default 800)")
    p.add_argument("--evs", type=int, default=100, help="EVs (default 100)")
    p.add_argument("--round-minutes", type=int, default=5, help="round (block) length (default 5)")
    p.add_argument("--days", type=int, default=1, help="days to run (default 1)")
    p.add_argument("--start", default=None, help="first day, UTC (default the load's first day: 2019-01-01)")
    p.add_argument(
        "--scheduler",
        default="all",
        choices=["all", "none", "greedy", "optimal", "receding_horizon"],
        help="the scheduler to run besides none (default all)",
    )
    p.add_argument(
        "--horizon", type=int, default=12, help="look-ahead rounds of receding_horizon (default 12)"
    )
    p.add_argument(
        "--rivals",
        metavar="LIST",
        help="competing miners for the greedy and optimal runs, comma-separated (none, greedy, optimal): "
        "each round the block of highest λ wins",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the fleet and its transactions (default 0)")
    p.add_argument("--no-bound", action="store_true", help="skip the offline QP bound")
    p.add_argument(
        "--plots", metavar="DIR", help="write the seed's figures (PNG) for the last scheduler here"
    )
    p.add_argument("--rounds", metavar="PARQUET", help="write every scheduler's per-round frame here")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


COMMAND = Command(
    "ev-sim",
    "EV charging by proof of benefit (seed 003): PF per scheduler and the offline bound",
    configure,
    run,
)
