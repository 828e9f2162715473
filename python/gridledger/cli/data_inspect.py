"""``gridledger data inspect``: what an ENTSO-E / OPSD load file holds, optionally a week's plot."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from gridledger import data
from gridledger.cli.common import Command


def data_inspect(path: str, area: str | None, plot: str | None, week: date | None) -> int:
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
    dsub = dp.add_subparsers(dest="data_command", required=True)
    ins = dsub.add_parser("inspect", help="areas, span, resolution, gaps and missing counts of a file")
    ins.add_argument(
        "file", help="a Transparency Platform export, OPSD CSV or entsoe-py dump (.csv or .csv.gz)"
    )
    ins.add_argument("--area", help="area code when neither header nor file name carries it")
    ins.add_argument("--plot", metavar="PNG", help="also plot a week of the file to this PNG")
    ins.add_argument(
        "--week",
        type=date.fromisoformat,
        help="first day of the plotted week (default: the file's first day)",
    )


def run(args: argparse.Namespace) -> int:
    return data_inspect(args.file, args.area, args.plot, args.week)


COMMAND = Command("data", "inspect ENTSO-E / OPSD load files", configure, run)
