"""``gridledger data inspect``: what an ENTSO-E / OPSD load file holds, optionally a week's plot."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from gridledger import data
from gridledger.cli.common import Command, Day, InFile, OutFile, add_overwrite, check_outputs


def data_inspect(path: Path, area: str | None, plot: Path | None, week: date | None) -> int:
    """Print what a load file holds; optionally plot a week of it as PNG."""
    report = data.inspect(path, area=area)
    print(report.to_text())
    if plot:
        frame = report.frame
        first = frame["utc_timestamp"].min()
        assert isinstance(first, datetime)
        start = datetime(week.year, week.month, week.day, tzinfo=UTC) if week else first
        out = data.plot_week(frame, start, plot, title=f"{Path(path).name}: week from {start:%Y-%m-%d}")
        print(f"plot written to {out}", file=sys.stderr)
    return 0


def configure(dp: argparse.ArgumentParser) -> None:
    """Add the ``inspect`` subcommand and its options to ``gridledger data``'s parser ``dp``."""
    dsub = dp.add_subparsers(dest="data_command", required=True)
    ins = dsub.add_parser("inspect", help="areas, span, resolution, gaps and missing counts of a file")
    ins.add_argument(
        "file",
        type=InFile("give the path of a load file (.csv or .csv.gz) that exists"),
        help="a Transparency Platform export, OPSD CSV or entsoe-py dump (.csv or .csv.gz)",
    )
    ins.add_argument("--area", help="area code when neither header nor file name carries it")
    ins.add_argument(
        "--plot",
        type=OutFile("give --plot a PNG file in an existing folder"),
        metavar="PNG",
        help="also plot a week of the file to this PNG",
    )
    ins.add_argument(
        "--week",
        type=Day("give the first day of the week to plot, e.g. --week 2022-10-27"),
        help="first day of the plotted week (default: the file's first day)",
    )
    add_overwrite(ins)


def run(args: argparse.Namespace) -> int:
    """Run ``gridledger data inspect``; returns the exit status."""
    check_outputs("--plot", [args.plot] if args.plot else [], args.overwrite)
    return data_inspect(args.file, args.area, args.plot, args.week)


COMMAND = Command(
    "data",
    "inspect ENTSO-E / OPSD load files",
    configure,
    run,
    {
        "path": "give a Transparency Platform export, an OPSD CSV or an entsoe-py dump (.csv or .csv.gz)",
        "*": "the file's content is the problem: check that it is an ENTSO-E Transparency export, "
        "an OPSD CSV or an entsoe-py dump of a load series",
        "area": "pass --area with the area code (AT, DE_LU, …) when neither header nor file name has it",
    },
)
