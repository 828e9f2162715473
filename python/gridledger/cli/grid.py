"""``gridledger grid report``: the DSO's report over a run on a feeder, or over a study's results."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gridledger.cli.common import Command, Float, InFile, OutDir, UsageError

#: What a run's folder holds (the study runner writes both into a cell's artefacts).
FEEDER_FILE = "feeder.json"
INJECTIONS_FILE = "injections.parquet"
#: The losses' allocation the run recorded on chain (member, loss_wh), when it ran on the feeder.
LOSSES_FILE = "losses.parquet"


def configure(p: argparse.ArgumentParser) -> None:
    """Add the ``report`` subcommand of ``gridledger grid`` to ``p``."""
    sub = p.add_subparsers(dest="grid_command", required=True)
    r = sub.add_parser("report", help="violations, worst buses and lines, losses, hosting capacity, plots")
    r.add_argument(
        "run",
        help="a study's results folder, a run folder (feeder.json + injections.parquet), "
        "or a feeder file (TOML or JSON) followed by its injections file",
    )
    r.add_argument("injections", nargs="?", help="the run's injections (Parquet: period, bus, load_w, pv_w)")
    r.add_argument(
        "--period-minutes",
        type=Float("give the period length in minutes, e.g. --period-minutes 15", lo=1.0, hi=1440.0),
        default=15.0,
        help="length of a period (default 15)",
    )
    r.add_argument("--no-hosting", action="store_true", help="skip the hosting capacity search")
    r.add_argument(
        "--plots",
        type=OutDir("give a folder for the PNG plots, e.g. --plots plots/"),
        metavar="DIR",
        help="write the PNG plots here",
    )


def _feeder(path: Path):  # type: ignore[no-untyped-def]
    from gridledger.grid.feeder import Feeder

    if path.suffix == ".json":
        try:
            return Feeder.from_dict(json.loads(path.read_text()))
        except json.JSONDecodeError as e:
            raise UsageError(
                f"{path}: not JSON ({e})", "give a feeder file written by the study runner"
            ) from None
    return Feeder.from_toml(path)


def _print_tables(tables: dict[str, object]) -> None:
    import polars as pl

    with pl.Config(tbl_rows=30, tbl_cols=20, tbl_width_chars=160, float_precision=4):
        for name, frame in tables.items():
            print(f"{name}:\n{frame}")


def _study(folder: Path) -> int:
    import polars as pl

    from gridledger import study

    df = study.read_results(folder)
    ok = df.filter(pl.col("status") == "ok") if "status" in df.columns else df
    cols = [c for c in ok.columns if c.startswith("grid_")]
    if not cols:
        raise UsageError(
            f"{folder}: no cell of this study ran on a grid",
            'run a community study with grid = "radial" or a feeder file (examples/grid_feeders.toml)',
        )
    design = [c for c in ok.columns if c.startswith("p_") and ok[c].n_unique() > 1]
    table = ok.filter(pl.col(cols[0]).is_not_null()).select(["cell_id", *design, *cols])
    _print_tables({"grid": table})
    return 0


def _run(args: argparse.Namespace) -> int:
    from gridledger.grid.report import dso_report, read_injections

    target = Path(args.run)
    if not target.exists():
        raise UsageError(f"{target} does not exist", "give a study folder, a run folder or a feeder file")
    if target.is_dir():
        from gridledger.study.results import MANIFEST

        if (target / MANIFEST).exists():
            if args.injections is not None:
                raise UsageError("a study folder takes no injections file", "drop the second argument")
            return _study(target)
        feeder_path, inj_path = target / FEEDER_FILE, target / INJECTIONS_FILE
        if not feeder_path.exists() or not inj_path.exists():
            raise UsageError(
                f"{target}: neither a study's results nor a run folder ({FEEDER_FILE} + {INJECTIONS_FILE})",
                "run the study with --artefacts, or give a feeder file and its injections",
            )
    else:
        if args.injections is None:
            raise UsageError("a feeder file needs the run's injections file", "give FEEDER INJECTIONS")
        feeder_path = target
        inj_path = InFile("give the injections Parquet file (period, bus, load_w, pv_w)")(args.injections)
    feeder = _feeder(feeder_path)
    load, pv = read_injections(inj_path, feeder)
    allocation = None
    losses = inj_path.parent / LOSSES_FILE
    if losses.exists():
        import polars as pl

        allocation = pl.read_parquet(losses)
    report = dso_report(
        feeder,
        load,
        pv,
        period_hours=args.period_minutes / 60,
        hosting=not args.no_hosting,
        allocation=allocation,
    )
    _print_tables(report.tables())  # type: ignore[arg-type]
    if args.plots is not None:
        from gridledger.grid.plot import plot_report

        for path in plot_report(report, feeder, args.plots):
            print(f"plot written to {path}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the ``gridledger grid`` subcommand chosen; returns the exit status."""
    return {"report": _run}[args.grid_command](args)


COMMAND = Command(
    "grid",
    "the DSO's report of a run on a feeder: violations, losses, hosting capacity, plots",
    configure,
    run,
    {
        "injections": "give the Parquet file the study runner wrote (injections.parquet) for this feeder",
        "*": "check the feeder file against docs/grid.md (Model), the injections against its buses",
    },
)
