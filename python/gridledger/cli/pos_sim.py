"""``gridledger pos-sim``: the proof-of-stake bidding game sc1-sc4 over many seeds.

Both draw rules and both miner rules (the previous turn's winner runs the
auction and does not bid, the default; or everyone bids), with seed 000's
Table 4 beside them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

from gridledger.cli.common import (
    INT_MAX,
    Command,
    Float,
    Int,
    OutDir,
    UsageError,
    add_overwrite,
    check_outputs,
)
from gridledger.consensus.draw import Rule

#: Most runs per scenario and rule, and most turns per run.
MAX_SEEDS = MAX_TURNS = 1_000_000
#: Most seeds × turns (each is played 16 times: 4 scenarios × 2 draw rules × 2 miner rules);
#: about two hours at the top.
MAX_SEED_TURNS = 1_000_000_000
RULES: tuple[Rule, ...] = ("argmax_w_over_u", "proportional")


def outputs(out: Path) -> list[Path]:
    """Return the files ``--out DIR`` receives."""
    return [*(out / f"trajectories_{rule}.png" for rule in RULES), out / "bidding_runs.parquet"]


def run(args: argparse.Namespace) -> int:
    """Run the bidding game sc1–sc4 under both draw and miner rules: Table 4 as distributions, plots, bias."""
    import time

    from gridledger import consensus

    if args.seeds * args.turns > MAX_SEED_TURNS:
        raise UsageError(
            f"--seeds {args.seeds:,} × --turns {args.turns:,} is more than {MAX_SEED_TURNS:,} turns in all",
            f"lower one of them: with --turns {args.turns:,} at most --seeds "
            f"{max(MAX_SEED_TURNS // args.turns, 1):,}",
        )
    if args.out:
        check_outputs("--out", outputs(args.out), args.overwrite)
    t0 = time.perf_counter()
    frames = [
        consensus.simulate_bidding(
            sc,
            args.turns,
            args.seeds,
            rule,
            alpha=args.alpha,
            beta=args.beta,
            gamma=args.gamma,
            miner_rule=miner_rule,
        )
        for sc in consensus.SCENARIOS
        for miner_rule in consensus.MINER_RULES
        for rule in RULES
    ]
    table = consensus.bidding_table(pl.concat(frames))
    seconds = time.perf_counter() - t0
    with pl.Config(
        tbl_rows=20, tbl_cols=20, tbl_width_chars=200, float_precision=3, tbl_hide_dataframe_shape=True
    ):
        print(
            f"Bidding game (seed 000 §5): {args.seeds} seeds x {args.turns} turns per scenario, "
            "draw rule and miner rule, "
            f"alpha={args.alpha} beta={args.beta} gamma={args.gamma} ({seconds:.1f} s)"
        )
        print(table)
        print(
            "Seed 000 Table 4 (one run each: wins ranked, two survivors at 45-55 % each, all four active, "
            "stop turn) beside ours under each miner rule (argmax W/U; means over runs):"
        )
        print(consensus.table_4(table))
        print("How much comes from the bias of argmax W/U (argmax minus proportional):")
        print(consensus.rule_bias(table))
    if args.out:
        out: Path = args.out
        out.mkdir(exist_ok=True)
        for rule in RULES:
            png = consensus.plot_trajectories(
                out / f"trajectories_{rule}.png", seed=args.plot_seed, turns=args.turns, rule=rule
            )
            print(f"plot written to {png}", file=sys.stderr)
        pl.concat(frames).write_parquet(out / "bidding_runs.parquet")
    return 0


def configure(ps: argparse.ArgumentParser) -> None:
    """Add the options of ``gridledger pos-sim`` to ``ps``."""
    ps.add_argument(
        "--seeds",
        type=Int(f"give 1 … {MAX_SEEDS:,} runs, e.g. --seeds 1000", lo=1, hi=MAX_SEEDS),
        default=1000,
        help=f"runs per scenario and rule, 1 … {MAX_SEEDS:,} (default 1000)",
    )
    ps.add_argument(
        "--turns",
        type=Int(f"give 1 … {MAX_TURNS:,} turns, e.g. --turns 1000", lo=1, hi=MAX_TURNS),
        default=1000,
        help=f"turns per run, 1 … {MAX_TURNS:,}; seeds × turns ≤ {MAX_SEED_TURNS:,} (default 1000)",
    )
    for name, default, what in (
        ("alpha", 0.3, "tokens offered"),
        ("beta", 0.6, "age"),
        ("gamma", 0.1, "reputation"),
    ):
        ps.add_argument(
            f"--{name}",
            type=Float(
                f"give --{name} a finite weight 0 … 1000, e.g. --{name} {default}", hi=1000, closed=True
            ),
            default=default,
            help=f"weight of {what}, 0 … 1000 (default {default})",
        )
    ps.add_argument(
        "--out",
        type=OutDir("give --out a folder (new or existing) in an existing folder"),
        metavar="DIR",
        help="write trajectory plots (PNG) and every run (Parquet) here",
    )
    ps.add_argument(
        "--plot-seed",
        type=Int("give a seed 0 … 2^63 − 1, e.g. --plot-seed 0", hi=INT_MAX),
        default=0,
        help="the run the plots show, 0 … 2^63 − 1 (default 0)",
    )
    add_overwrite(ps)


COMMAND = Command(
    "pos-sim",
    "the proof-of-stake bidding game sc1-sc4 over many seeds, both draw and miner rules",
    configure,
    run,
)
