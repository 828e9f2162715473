"""``gridledger prove``: a member's allocation (``--losses``: its loss share) in a period, with proofs."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gridledger.cli.common import INT_MAX, Command, InFile, Kind, UsageError

_PERIOD_HINT = "give a period index 0 … 2^63 − 1 or an ISO UTC time inside the chain, e.g. 2019-06-05T12:00"


@dataclass(frozen=True)
class PeriodArg(Kind):
    """A period index ``0 … 2^63 − 1``, or an ISO time (naive times are UTC)."""

    def __call__(self, text: str) -> int | datetime:
        """Return ``text`` as a period index or a timestamp, or raise :class:`UsageError`."""
        s = text.strip()
        if re.fullmatch(r"[+-]?\d+", s):
            v = int(s) if len(s) <= 25 else INT_MAX + 1
            if not 0 <= v <= INT_MAX:
                self.refuse(text, "a period index in 0 … 2^63 − 1")
            return v
        try:
            ts = datetime.fromisoformat(s)
        except ValueError:
            self.refuse(text, "a period index or an ISO time (2019-06-05T12:00)")
        ts = ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
        if ts < datetime(1970, 1, 1, tzinfo=UTC):
            self.refuse(text, "a time after 1970-01-01 (period 0)")
        return ts


def prove(path: Path, member: str, period: int | datetime, losses: bool = False) -> int:
    """Print a member's allocation (``losses``: its share of the grid losses) in a period, with its proofs.

    Returns 0 when the printed proof verifies, 1 when it does not.
    """
    from gridledger.ledger.proofs import AllocationProof, LossProof, prove_allocation, prove_loss_share
    from gridledger.ledger.store import ChainStore

    proof: AllocationProof | LossProof
    with ChainStore(path) as store:
        p = period if isinstance(period, int) else int(period.timestamp()) // store.genesis.period_s
        proof = prove_loss_share(store, member, p) if losses else prove_allocation(store, member, p)
    print(proof.to_text())
    return 0 if proof.verify() else 1


def _member(text: str) -> str:
    if not text.strip():
        raise UsageError(
            "--member is empty", "give a member label (m007), an index (7) or a public key in hex"
        )
    return text


def configure(pr: argparse.ArgumentParser) -> None:
    """Add the options of ``gridledger prove`` to ``pr``."""
    pr.add_argument(
        "file",
        type=InFile("give the path of a chain written by `gridledger simulate --out FILE`"),
        help="a chain written by gridledger simulate",
    )
    pr.add_argument(
        "--member", type=_member, required=True, help="member label (m007), index or public key hex"
    )
    pr.add_argument(
        "--period",
        type=PeriodArg(_PERIOD_HINT),
        required=True,
        help="period index (0 … 2^63 − 1), or an ISO UTC time inside the period",
    )
    pr.add_argument(
        "--losses",
        action="store_true",
        help="prove the member's share of the period's grid losses (a run with a grid) instead",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``gridledger prove``; returns the exit status."""
    return prove(args.file, args.member, args.period, args.losses)


COMMAND = Command(
    "prove",
    "a member's allocation in a period, with its inclusion proofs",
    configure,
    run,
    {
        "path": "give a chain written by `gridledger simulate --out FILE`",
        "member": "give a member of this chain: a label (m000, m001, …), an index from 0, "
        "or a public key in hex",
        "period": "give a period the chain holds: `gridledger simulate` prints one to try; "
        "a period index or an ISO UTC time inside the run",
        "*": "the chain file does not hold what was asked; `gridledger verify FILE` checks it",
    },
)
