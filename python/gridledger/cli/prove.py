"""``gridledger prove``: a member's allocation in a period, with its inclusion proofs."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from gridledger.cli.common import Command
from gridledger.errors import InvalidArgumentError


def prove(path: str, member: str, period: str) -> int:
    """Print a member's allocation in a period with its inclusion proofs."""
    from gridledger.ledger.proofs import prove_allocation
    from gridledger.ledger.store import ChainStore

    with ChainStore(path) as store:
        p = _period_arg(period, store.genesis.period_s)
        proof = prove_allocation(store, member, p)
    print(proof.to_text())
    return 0 if proof.verify() else 1


def _period_arg(value: str, period_s: int) -> int:
    if value.lstrip("-").isdigit():
        return int(value)
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidArgumentError(
            f"--period must be a period index or an ISO time (2019-06-05T12:00), got {value!r}",
            "period",
            value,
        ) from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return int(ts.timestamp()) // period_s


def configure(pr: argparse.ArgumentParser) -> None:
    pr.add_argument("file", help="a chain written by gridledger simulate")
    pr.add_argument("--member", required=True, help="member label (m007), index or public key hex")
    pr.add_argument("--period", required=True, help="period index, or an ISO UTC time inside the period")


def run(args: argparse.Namespace) -> int:
    return prove(args.file, args.member, args.period)


COMMAND = Command("prove", "a member's allocation in a period, with its inclusion proofs", configure, run)
