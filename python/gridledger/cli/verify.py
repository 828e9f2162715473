"""``gridledger verify``: re-verify a stored chain from genesis."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from gridledger.cli.common import Command, InFile


def verify_chain(path: Path, details: bool = False) -> int:
    """Re-verify a stored chain from genesis; print one line (the full report with ``details``).

    Returns 0 when the chain is valid, 1 when a check fails.
    """
    from gridledger.ledger.store import ChainStore

    with ChainStore(path) as store:
        report = store.verify()
    if report.ok or details:
        print(report)
    else:
        print(_one_line(str(report)))
    return 0 if report.ok else 1


def _one_line(text: str) -> str:
    """Return the first problem of a report on one line; SQLite's integrity check lists up to 100."""
    text = re.sub(r"\*\*\* in database \w+ \*\*\*\s*", "", text)
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else text
    return f"{lines[0]} (and {len(lines) - 1} more lines: --details shows them)"


def configure(ver: argparse.ArgumentParser) -> None:
    """Add the options of ``gridledger verify`` to ``ver``."""
    ver.add_argument(
        "file",
        type=InFile("give the path of a chain written by `gridledger simulate --out FILE`"),
        help="a chain written by gridledger simulate",
    )
    ver.add_argument(
        "--details", action="store_true", help="print the whole report of a failed check (default: one line)"
    )


def run(args: argparse.Namespace) -> int:
    """Run ``gridledger verify``; returns the exit status."""
    return verify_chain(args.file, args.details)


COMMAND = Command(
    "verify",
    "re-verify a stored chain from genesis",
    configure,
    run,
    {
        "path": "give a chain written by `gridledger simulate --out FILE`; "
        "other files are never read as chains"
    },
)
