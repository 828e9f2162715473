"""Who misbehaves, and the one behaviour that lives outside block production: a private fork.

Withholding and equivocation happen when a node is chosen to produce (see
:mod:`gridledger.network.producer`); the VPP's double spend is part of the
community's traffic (:mod:`gridledger.network.traffic`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gridledger.errors import BadConfigurationError
from gridledger.ledger import Block, Header, tx_root
from gridledger.network.config import check_int

if TYPE_CHECKING:
    from gridledger.network.sim import NetworkSim

__all__ = ["Adversary", "private_block", "release_private"]


@dataclass(frozen=True)
class Adversary:
    """Who misbehaves, and how.

    Attributes
    ----------
    withhold
        Nodes that never publish a block when chosen (three strikes applies).
    equivocate
        Nodes that, when chosen, sign two different blocks and send one to
        each half of the network.
    private_fork
        A node that, from period ``private_from`` on, builds a private chain of
        blocks it signs itself whoever was chosen, and releases it at ``private_release``.
    vpp_double_spend
        Periods in which the VPP broadcasts two distributions of the same energy.
    partition
        (nodes cut off, first period, last period): their links to the others are down.
    fast_clock
        Nodes whose clock runs ``clock_ahead_ms`` ahead: they stamp their blocks by it.
    clock_ahead_ms
        How far ahead those clocks run (ms; a day by default).
    """

    withhold: frozenset[int] = frozenset()
    equivocate: frozenset[int] = frozenset()
    private_fork: int | None = None
    private_from: int = 0
    private_release: int = 0
    vpp_double_spend: frozenset[int] = frozenset()
    partition: tuple[frozenset[int], int, int] | None = None
    fast_clock: frozenset[int] = frozenset()
    clock_ahead_ms: int = 86_400_000

    def __post_init__(self) -> None:
        """Check the behaviours' parameters; :class:`BadConfigurationError` names the first bad one."""
        check_int("clock_ahead_ms", self.clock_ahead_ms, 0)
        for name in ("withhold", "equivocate", "vpp_double_spend", "fast_clock"):
            _check_set(name, getattr(self, name))
        if self.private_fork is not None:
            check_int("private_fork", self.private_fork, 0)
        check_int("private_from", self.private_from, 0)
        check_int("private_release", self.private_release, 0)
        if self.private_release < self.private_from:
            raise BadConfigurationError(
                f"private_release must not precede private_from ({self.private_from})",
                "private_release",
                self.private_release,
            )
        p = self.partition
        if p is not None:
            if not isinstance(p, tuple) or len(p) != 3:
                raise BadConfigurationError(
                    "partition must be (nodes, first period, last period)", "partition", p
                )
            _check_set("partition.nodes", p[0])
            check_int("partition.first", p[1], 0)
            check_int("partition.last", p[2], p[1])

    def check_nodes(self, nodes: int) -> None:
        """Raise :class:`BadConfigurationError` unless each node named is below ``nodes``, one honest."""
        named = {"withhold": self.withhold, "equivocate": self.equivocate, "fast_clock": self.fast_clock}
        if self.private_fork is not None:
            named["private_fork"] = frozenset({self.private_fork})
        if self.partition is not None:
            named["partition.nodes"] = self.partition[0]
        for name, who in named.items():
            for i in sorted(who):
                if i >= nodes:
                    raise BadConfigurationError(f"{name}: node {i} is not one of the {nodes} nodes", name, i)
        if len(self.dishonest()) >= nodes:
            raise BadConfigurationError(
                "at least one node must be honest", "adversary", sorted(self.dishonest())
            )

    def dishonest(self) -> frozenset[int]:
        """Nodes that break the protocol (withhold, equivocate, fork privately, or stamp ahead)."""
        bad = set(self.withhold) | set(self.equivocate) | set(self.fast_clock)
        if self.private_fork is not None:
            bad.add(self.private_fork)
        return frozenset(bad)


def private_block(sim: NetworkSim, p: int) -> None:
    """Extend the attacker's private chain with a block it signs itself, whoever was chosen."""
    a = sim.adv.private_fork
    if a is None or not (sim.adv.private_from <= p < sim.adv.private_release):
        return
    key = sim.members[a]
    if sim.private:
        prev = sim.private[-1].header
        prev_hash = prev.hash("blake3")
    else:
        prev = sim.nodes[a].best.block.header
        prev_hash = sim.nodes[a].tip
    header = Header(
        chain_id=prev.chain_id,
        height=prev.height + 1,
        period=prev.period + 1,
        prev_hash=prev_hash,
        tx_root=tx_root(np.zeros((0, 32), np.uint8)),
        n_tx=0,
        miner=key.public_key,
        next_winner=key.public_key,
        timestamp_ms=sim.genesis.period_end_ms(prev.period + 1) + 1,
    )
    sim.private.append(Block(header, key.sign(header.hash("blake3")), ()))


def release_private(sim: NetworkSim) -> None:
    """Broadcast the attacker's whole private chain."""
    a = sim.adv.private_fork
    if a is not None:
        for b in sim.private:
            sim.broadcast_block(a, b)


def _check_set(name: str, value: object) -> None:
    if not isinstance(value, frozenset | set):
        raise BadConfigurationError(f"{name} must be a frozenset of integers", name, value)
    for x in value:
        check_int(name, x, 0)
