"""``gridledger verify``: re-verify a stored chain from genesis."""

from __future__ import annotations

import argparse

from gridledger.cli.common import Command


def verify_chain(path: str) -> int:
    """Re-verify a stored chain from genesis."""
    from gridledger.ledger.store import ChainStore

    with ChainStore(path) as store:
        report = store.verify()
    print(report)
    return 0 if report.ok else 1


def configure(ver: argparse.ArgumentParser) -> None:
    ver.add_argument("file", help="a chain written by gridledger simulate")


def run(args: argparse.Namespace) -> int:
    return verify_chain(args.file)


COMMAND = Command("verify", "re-verify a stored chain from genesis", configure, run)
