"""``gridledger bench``: run the benchmark suite; ``gridledger bench compare``: two runs side by side."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gridledger.cli.common import (
    Command,
    Float,
    InFile,
    Kind,
    OutFile,
    UsageError,
    add_overwrite,
    check_outputs,
)

#: Results go here unless --json names a file.
RESULTS = Path("bench-results")


class Workloads(Kind):
    """Comma-separated workload names of the suite."""

    def __call__(self, text: str) -> list[str]:
        """Return the names in ``text``; :class:`UsageError` when one is not a workload of the suite."""
        from gridledger.bench import WORKLOADS

        names = [n.strip() for n in text.split(",") if n.strip()]
        unknown = [n for n in names if n not in WORKLOADS]
        if not names or unknown:
            raise UsageError(
                f"{self.option}: unknown workload {', '.join(map(repr, unknown)) or repr(text)}",
                f"use some of {', '.join(WORKLOADS)}, separated by commas",
            )
        return names


class Threads(Kind):
    """One thread count, or several separated by commas (``1,2``), each in 1 … 1024."""

    def __call__(self, text: str) -> list[int]:
        """Return the thread counts in ``text``; :class:`UsageError` when one is out of range or repeated."""
        parts = [p.strip() for p in text.split(",")]
        if not all(p.isdigit() and 1 <= int(p) <= 1024 for p in parts):
            self.refuse(text, "thread counts in 1 … 1024, separated by commas")
        out = [int(p) for p in parts]
        if len(set(out)) != len(out):
            self.refuse(text, "distinct thread counts")
        return out


def configure(p: argparse.ArgumentParser) -> None:
    """Add the options of ``gridledger bench`` (run and compare) to ``p``."""
    from gridledger.bench import SIZES, WORKLOADS

    p.add_argument("--size", choices=SIZES, default="default", help="workload sizes (default: default)")
    p.add_argument(
        "--workloads",
        type=Workloads("give workload names separated by commas, e.g. --workloads hash_many,merkle_build"),
        help=f"run only these, separated by commas (default: all): {', '.join(WORKLOADS)}",
    )
    p.add_argument(
        "--threads",
        type=Threads("give a thread count or several, e.g. --threads 1 or --threads 1,2"),
        help="run with RAYON_NUM_THREADS set to each count, in a fresh interpreter (default: the pool's own)",
    )
    p.add_argument(
        "--load",
        type=InFile("give a load file that `gridledger data inspect FILE` reads"),
        help="a load file gridledger.data.read reads (default: the bundled ENTSO-E/OPSD sample)",
    )
    p.add_argument(
        "--json",
        type=OutFile("give --json a file in an existing folder"),
        help=f"write the results here (default: a new file in {RESULTS}/)",
    )
    p.add_argument(
        "--instructions",
        action="store_true",
        help="also count each gated workload's instructions under callgrind (needs valgrind; docs/bench.md)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    add_overwrite(p)
    sub = p.add_subparsers(dest="bench_command", required=False)
    c = sub.add_parser("compare", help="each workload's change between two result files")
    c.add_argument("base", type=InFile("give the JSON of the base run"), help="the base run's JSON")
    c.add_argument("new", type=InFile("give the JSON of the new run"), help="the new run's JSON")
    c.add_argument(
        "--max-regression",
        type=Float("give a percentage, e.g. --max-regression 10", lo=0.0, hi=1e6, closed=True),
        default=10.0,
        metavar="PCT",
        help="fail when a workload's median time grows by more than PCT %% (default: 10)",
    )


def _console() -> Any:
    from rich.console import Console

    return Console(no_color=bool(os.environ.get("NO_COLOR")), width=None if sys.stdout.isatty() else 160)


def _fmt_s(s: float) -> str:
    return f"{s * 1e3:.3g} ms" if s < 1 else f"{s:.3g} s"


def _run(args: argparse.Namespace) -> int:
    import json

    from gridledger import bench

    out: Path = args.json or RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{args.size}.json"
    check_outputs("--json", [out], args.overwrite)
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    if args.instructions:
        from gridledger.bench import gate

        try:
            gate.valgrind()
        except gate.GateError as e:
            raise UsageError(f"--instructions: {e.what}", e.hint) from None
    if args.threads:
        doc = bench.run_threads(args.workloads, args.size, args.load, args.threads, log)
    else:
        doc = bench.run_suite(args.workloads, args.size, args.load, log)
    if args.instructions:
        if log:
            log("counting instructions under callgrind")
        doc = bench.add_instructions(doc)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    from rich.table import Table

    m = doc["machine"]
    t = Table(title=f"gridledger bench --size {doc['size']}: {m['cpu_model']}, {m['cores_logical']} cores")
    for col in (
        "workload",
        "n",
        "threads",
        "median",
        "min",
        "max",
        "throughput",
        "efficiency",
        "peers (ratio = peer / ours)",
    ):
        t.add_column(col, justify="left" if col in ("workload", "peers (ratio = peer / ours)") else "right")
    for w in doc["workloads"]:
        peers = [f"{p['name']}: {p['ratio']:.3g}x" for p in w["peers"]]
        peers += [f"{p['name']}: skipped" for p in w["skipped_peers"]]
        if w.get("instructions"):
            peers.append(f"{w['instructions']:,} instructions at n={w['instructions_n']}")
        t.add_row(
            w["name"], str(w["n"]), str(w["threads"] or "pool"), _fmt_s(w["median_s"]), _fmt_s(w["min_s"]),
            _fmt_s(w["max_s"]), f"{w['throughput']:.4g} {w['unit']}", _fmt_eff(w), "; ".join(peers) or "-",
        )  # fmt: skip
    _console().print(t)
    for w in doc["workloads"]:
        for p in w["skipped_peers"]:
            print(f"{w['name']}: peer {p['name']} skipped: {p['reason']}", file=sys.stderr)
    print(f"results written to {out}", file=sys.stderr)
    return 0


def _fmt_eff(w: dict[str, Any]) -> str:
    """``t1 / (n · tn)`` and the speed-up, for rows that have a 1-thread partner."""
    e, s = w.get("efficiency"), w.get("speedup")
    return f"{e:.0%} ({s:.2f}x)" if e is not None and s is not None else "-"


def _compare(args: argparse.Namespace) -> int:
    from rich.table import Table

    from gridledger import bench

    base, new = bench.load(args.base), bench.load(args.new)
    changes = bench.compare(base, new, args.max_regression)
    t = Table(title=f"{args.base} -> {args.new} (fail above +{args.max_regression:g} %)")
    for col in ("workload", "base", "new", "change", "verdict"):
        t.add_column(col, justify="left" if col in ("workload", "verdict") else "right")
    for c in changes:
        verdict = "REGRESSED" if c.regressed else ("faster" if c.change < 0 else "ok")
        t.add_row(c.workload, _fmt_s(c.base_s), _fmt_s(c.new_s), f"{c.change * 100:+.1f} %", verdict)
    _console().print(t)
    bad = [c.workload for c in changes if c.regressed]
    if bad:
        print(
            f"{len(bad)} workload(s) regressed past {args.max_regression:g} %: {', '.join(bad)}",
            file=sys.stderr,
        )
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``gridledger bench`` or ``gridledger bench compare``; returns the exit status."""
    if args.bench_command == "compare":
        return _compare(args)
    return _run(args)


COMMAND = Command(
    "bench",
    "run the benchmark suite against its peers; compare two runs",
    configure,
    run,
    {
        "schema_version": "re-run both sides with this gridledger (`gridledger bench`), then compare",
        "schema": "give two JSON files written by `gridledger bench`",
        "path": "give two JSON files written by `gridledger bench`",
        "workloads": "run both sides with the same --workloads and --threads, then compare",
        "size": "compare runs of the same --size",
        "load": "give a load file that `gridledger data inspect FILE` reads",
        "area": "--load needs a file whose header or name gives its area (e.g. at_load_2019_60min.csv); "
        "`gridledger data inspect FILE` shows what it holds",
        "*": "`gridledger bench --help` lists the workloads and sizes",
    },
)
