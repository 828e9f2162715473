"""What a network run produced: agreement, forks, reorganisations, approval times, messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gridledger.network.config import EPOCH_MS
from gridledger.network.node import Entry

if TYPE_CHECKING:
    from gridledger.network.sim import NetworkSim

__all__ = ["NetworkReport", "report"]


@dataclass
class NetworkReport:
    """What happened.

    Attributes
    ----------
    tips
        Each node's final tip hash.
    agreed
        Whether every honest node ends on the same tip.
    height
        Height of that tip (the first honest node's).
    forks
        Valid blocks produced that are not on the final chain.
    reorgs
        Every tip switch that dropped blocks, as depths.
    approval_ms
        Per block of the final chain: ms from its timestamp until a majority held it.
    messages
        Messages sent (transactions, blocks, acknowledgements).
    lost_messages
        Messages dropped by loss or partition.
    invalid_seen
        Per node, the blocks it rejected and why.
    reverted_approved
        Approved blocks any honest node later dropped (must be 0).
    final
        The first honest node's final chain (block entries, genesis first).
    """

    tips: list[bytes]
    agreed: bool
    height: int
    forks: int
    reorgs: list[int]
    approval_ms: list[float]
    messages: int
    lost_messages: int
    invalid_seen: list[dict[bytes, str]]
    reverted_approved: int
    final: list[Entry]

    @property
    def max_reorg_depth(self) -> int:
        """The deepest reorganisation of any honest node (blocks dropped)."""
        return max(self.reorgs, default=0)

    def summary(self) -> dict[str, float | int | bool]:
        """Return the report's figures as one flat dict (times in ms)."""
        a = np.array(self.approval_ms) if self.approval_ms else np.zeros(1)
        return {
            "agreed": self.agreed,
            "height": self.height,
            "forks": self.forks,
            "reorgs": len(self.reorgs),
            "max_reorg_depth": self.max_reorg_depth,
            "approval_median_ms": float(np.median(a)),
            "approval_max_ms": float(a.max()),
            "messages": self.messages,
            "lost_messages": self.lost_messages,
            "reverted_approved": self.reverted_approved,
        }


def report(sim: NetworkSim) -> NetworkReport:
    """Return the report of a finished run; dishonest nodes are left out of agreement and reverts."""
    honest = sim.honest()
    first = honest[0]
    final = [first.blocks[h] for h in first.chain_hashes()]
    on_final = {e.hash for e in final}
    valid_everywhere = {h for n in honest for h in n.blocks}
    approval = []
    for e in final[1:]:
        t = sim.approved_at.get(e.hash)
        if t is not None:
            approval.append(t - (e.block.header.timestamp_ms - EPOCH_MS))
    return NetworkReport(
        tips=[n.tip for n in sim.nodes],
        agreed=len({n.tip for n in honest}) == 1,
        height=first.best.height,
        forks=len(valid_everywhere - on_final),
        reorgs=[d for n in honest for d in n.reorgs],
        approval_ms=approval,
        messages=sim.messages,
        lost_messages=sim.lost,
        invalid_seen=[dict(n.invalid) for n in sim.nodes],
        reverted_approved=sum(n.reverted_approved for n in honest),
        final=final,
    )
