"""``gridledger study``: run a study file on Dask, show a folder's status, report its results."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from gridledger.cli.common import Command, InFile, Int, UsageError


def configure(p: argparse.ArgumentParser) -> None:
    """Add the ``run``, ``status`` and ``report`` subcommands of ``gridledger study`` to ``p``."""
    sub = p.add_subparsers(dest="study_command", required=True)
    r = sub.add_parser("run", help="run every cell of a study file not yet in its results")
    r.add_argument(
        "file",
        type=InFile("give a study file (TOML), e.g. examples/draw_rules.toml; docs/study.md describes them"),
        help="a study file (TOML), e.g. examples/draw_rules.toml",
    )
    r.add_argument("--scheduler", metavar="ADDR", help="a running Dask scheduler (default: a local cluster)")
    r.add_argument(
        "--workers",
        type=Int("give the number of worker processes, e.g. --workers 2", lo=1, hi=4096),
        help="worker processes of the local cluster (default: one per core)",
    )
    r.add_argument("--out", metavar="DIR", help="output folder (default: the study file's `out`)")
    r.add_argument("--artefacts", action="store_true", help="also keep each cell's chain or per-round frame")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    s = sub.add_parser("status", help="done / failed / missing cells of a study folder")
    s.add_argument("dir", help="a study's output folder")
    s.add_argument("--errors", action="store_true", help="list each failed cell's error")
    rep = sub.add_parser("report", help="comparison tables (and PNG plots) of a study folder")
    rep.add_argument("dir", help="a study's output folder")
    rep.add_argument("--plots", metavar="DIR", help="also write PNG plots here")


def _run(args: argparse.Namespace) -> int:
    from gridledger import study

    if args.scheduler is not None and args.workers is not None:
        raise UsageError(
            "--workers applies to the local cluster only; an existing cluster keeps its workers",
            "drop --workers, or drop --scheduler to run on a local cluster of that many workers",
        )
    s = study.load_study(args.file, out=args.out)
    print(f"{s.source}: {len(s)} cells of workload {s.workload!r} -> {s.out}", file=sys.stderr)
    summary = study.run(
        s, args.scheduler, workers=args.workers, artefacts=args.artefacts, progress=not args.quiet
    )
    print(
        f"{summary['cells']} cells: {summary['skipped']} already done, {summary['ok']} ran ok, "
        f"{summary['failed']} failed ({summary.get('seconds', 0.0):.1f} s)"
    )
    print(f"results in {s.out}; see them with `gridledger study report {s.out}`", file=sys.stderr)
    return 1 if summary["failed"] else 0


def _status(args: argparse.Namespace) -> int:
    from gridledger import study

    st = study.status(args.dir)
    print(
        f"{st.name} ({st.workload}): {st.cells} cells, {st.done} done, "
        f"{st.failed} failed, {st.missing} missing"
    )
    if args.errors:
        for cell, kind, msg in st.failures.iter_rows():
            print(f"  {cell}: {kind}: {msg}")
    elif st.failed:
        print(f"`gridledger study status {args.dir} --errors` lists the failures", file=sys.stderr)
    return 0


def _report(args: argparse.Namespace) -> int:
    import polars as pl

    from gridledger import study

    tables = study.tables(args.dir)
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        console = Console(no_color=bool(os.environ.get("NO_COLOR")))
        for workload, frame in tables.items():
            t = Table(title=workload)
            for c in frame.columns:
                t.add_column(c, justify="right")
            for row in frame.iter_rows():
                t.add_row(*[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row])
            console.print(t)
    else:
        with pl.Config(tbl_rows=200, tbl_cols=30, tbl_width_chars=200):
            for workload, frame in tables.items():
                print(f"{workload}:\n{frame}")
    if args.plots:
        for path in study.plot(args.dir, Path(args.plots)):
            print(f"plot written to {path}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the ``gridledger study`` subcommand chosen; returns the exit status."""
    return {"run": _run, "status": _status, "report": _report}[args.study_command](args)


COMMAND = Command(
    "study",
    "run studies of many runs on Dask and report them",
    configure,
    run,
    {
        "scheduler": "start one with `dask scheduler` (and workers with `dask worker ADDR --nthreads 1`), "
        "or leave out --scheduler for a local cluster",
        "out": "give another --out, or delete that folder to start the study over",
        "load": "give a file that `gridledger data inspect FILE` reads; paths are relative to the study file",
        "area": "use an area the file has (`gridledger data inspect FILE` lists them)",
        "start": "move start (or shorten days) into the span the data covers",
        "*": "fix the study file; docs/study.md lists every workload's parameters and their ranges",
    },
)
