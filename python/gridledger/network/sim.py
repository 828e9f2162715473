"""A deterministic, seeded discrete-event simulation of N nodes running the ledger.

The nodes run the proof-of-stake auction (issue: proof of stake, item 3).

Every node is a community member with its own block tree, mempool and
validation; messages (transactions, blocks, acknowledgements) travel with a
seeded random latency and may be lost; a partition can cut links for a while.
Each period the community's devices and VPP broadcast their transactions
(:mod:`~gridledger.network.traffic`), members with voting tokens stand as
candidates, and at the end of the period the chosen producer (or, after each
grace interval, the next fallback) seals a block from its mempool
(:mod:`~gridledger.network.producer`). Adversaries are node or world
behaviours (:mod:`~gridledger.network.adversary`); the report
(:mod:`~gridledger.network.report`) counts forks, reorganisations, approval
times and messages. This module holds the clock, the messages and the nodes'
reactions to them.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from functools import partial

from gridledger import _core
from gridledger.errors import BadConfigurationError
from gridledger.keys import SigningKey
from gridledger.ledger import Block, Chain, Consensus, DeviceEntry, Genesis, MemberEntry, decode
from gridledger.network import adversary, producer, traffic
from gridledger.network.adversary import Adversary
from gridledger.network.config import EPOCH_MS, FIRST_PERIOD, NetworkConfig
from gridledger.network.node import Entry, Node
from gridledger.network.report import NetworkReport, report

__all__ = ["EPOCH_MS", "FIRST_PERIOD", "Adversary", "NetworkConfig", "NetworkReport", "NetworkSim"]

#: Interval (simulated ms) between the announcement rounds after the last period.
SETTLE_MS = 10_000.0
#: Announcement rounds after the last period at most.
SETTLE_ROUNDS = 100


class NetworkSim:
    """Run ``config`` with ``adversary`` (honest by default); :meth:`run` returns the report."""

    def __init__(self, config: NetworkConfig | None = None, adversary: Adversary | None = None) -> None:
        self.cfg = config or NetworkConfig()
        self.adv = adversary or Adversary()
        c = self.cfg
        if not isinstance(c, NetworkConfig):
            raise BadConfigurationError("config must be a NetworkConfig", "config", c)
        if not isinstance(self.adv, Adversary):
            raise BadConfigurationError("adversary must be an Adversary", "adversary", self.adv)
        self.adv.check_nodes(c.nodes)
        self.rng = random.Random(c.seed)

        def seed(role: str, i: int) -> bytes:
            return _core.hash_one(f"gridledger network {c.seed} {role} {i}".encode(), "blake3")

        self.members = [SigningKey.from_seed(seed("member", i)) for i in range(c.nodes)]
        self.devices = [SigningKey.from_seed(seed("device", i)) for i in range(c.units)]
        self.vpp = SigningKey.from_seed(seed("vpp", 0))
        consensus = Consensus(**{**c.consensus.__dict__, "producer_rule": "auction"})
        self.genesis = Genesis(
            algorithm="blake3",
            period_s=900,
            first_period=FIRST_PERIOD,
            vote_validity=4,
            vpp=self.vpp.public_key,
            members=tuple(MemberEntry(k.public_key, f"n{i}") for i, k in enumerate(self.members)),
            devices=tuple(DeviceEntry(k.public_key, 100, 1, f"pv{i}") for i, k in enumerate(self.devices)),
            name="network",
            consensus=consensus,
        )
        base = Chain(self.genesis, keep_blocks=False)
        self.tag = base.chain_tag
        self.majority = c.nodes // 2 + 1
        # Every node validates each block it receives against its own tree; the results are
        # memoised across nodes (the check is deterministic), which keeps 100 nodes fast.
        self.memo: dict[tuple[bytes, bytes], Entry | str] = {}
        self.nodes = [
            Node(i, k.public_key, base.copy(), self.majority, memo=self.memo if c.share_validation else None)
            for i, k in enumerate(self.members)
        ]
        self.by_key = {k.public_key: i for i, k in enumerate(self.members)}
        self.queue: list[tuple[float, int, Callable[[], None]]] = []
        self.counter = itertools.count()
        self.now = 0.0
        self.messages = 0
        self.lost = 0
        self.seq = [0] * c.units
        self.held_by: dict[bytes, set[int]] = {}  # block hash -> nodes whose best chain has it
        self.approved_at: dict[bytes, float] = {}
        self.produced: dict[bytes, Block] = {}
        self.private: list[Block] = []
        self.private_chain: Chain | None = None

    # -- events and messages --------------------------------------------------------
    def at(self, t: float, fn: Callable[[], None]) -> None:
        """Schedule ``fn`` at simulated time ``t`` (ms since the first period's start)."""
        heapq.heappush(self.queue, (t, next(self.counter), fn))

    def period_start(self, p: int) -> float:
        """Return the simulated time (ms) at which period ``p`` starts."""
        return (p - FIRST_PERIOD) * 900_000.0

    def _cut(self, a: int, b: int) -> bool:
        p = self.adv.partition
        if p is None or a < 0 or b < 0:
            return False
        cut, first, last = p
        period = FIRST_PERIOD + int(self.now // 900_000)
        return first <= period <= last and ((a in cut) != (b in cut))

    def send(self, src: int, dst: int, deliver: Callable[[], None]) -> None:
        """One message from node ``src`` (−1: the world's devices and VPP) to ``dst``."""
        self.messages += 1
        if (src >= 0 and self.rng.random() < self.cfg.loss) or self._cut(src, dst):
            self.lost += 1
            return
        lo, hi = self.cfg.latency_ms
        self.at(self.now + self.rng.uniform(lo, hi), deliver)

    def broadcast_tx(self, src: int, tx: bytes, targets: list[int] | None = None) -> None:
        """Send transaction ``tx`` from ``src`` to ``targets`` (every node by default)."""
        for n in self.nodes if targets is None else [self.nodes[i] for i in targets]:
            if n.index == src:
                self._add_tx(n, tx)
            else:
                self.send(src, n.index, partial(self._add_tx, n, tx))

    def _add_tx(self, n: Node, tx: bytes) -> None:
        d = decode(tx, "blake3")
        n.mempool.setdefault(d.id, (d.tx.period, tx))

    def broadcast_block(self, src: int, block: Block, targets: list[int] | None = None) -> None:
        """Send ``block`` from ``src`` to ``targets`` (every node by default)."""
        self.produced[block.header.hash("blake3")] = block
        for n in self.nodes if targets is None else [self.nodes[i] for i in targets]:
            if n.index == src:
                self._receive(n, block)
            else:
                self.send(src, n.index, partial(self._receive, n, block, src))

    def _receive(self, n: Node, block: Block, sender: int = -1) -> None:
        if n.receive_block(block):
            self._update(n)
        elif block.header.prev_hash in n.orphans and sender >= 0:
            # Ask for the root of the missing branch, not again for blocks already held.
            self._request(n, sender, n.missing(block.header.prev_hash))

    def _request(self, n: Node, peer: int, h: bytes) -> None:
        """Ask ``peer`` for block ``h`` (a missing parent, or a block others acknowledged)."""
        if h in n.blocks or h in n.invalid or peer == n.index:
            return

        def serve() -> None:
            p = self.nodes[peer]
            entry = p.blocks.get(h)
            block = entry.block if entry is not None else self.produced.get(h) if h in p.invalid else None
            if block is not None:
                self.send(peer, n.index, partial(self._receive, n, block, peer))

        self.send(n.index, peer, serve)

    def _ack(self, n: Node, h: bytes, voter: int) -> None:
        if h not in n.blocks:
            n.acks.setdefault(h, set()).add(voter)
            self._request(n, voter, h)
        elif n.credit(h, voter):
            self._update(n)  # a block has just become approved

    def _announce(self) -> None:
        """Every node re-sends its tip and its last acknowledgement (recovers lost messages).

        A node acknowledges only along one chain, so acknowledging its last
        block vouches for every block before it.
        """
        for n in self.nodes:
            tip = n.best.block
            for m in self.nodes:
                if m.index == n.index:
                    continue
                self.send(n.index, m.index, partial(self._receive, m, tip, n.index))
                if n.blocks[n.locked].height:
                    self.send(n.index, m.index, partial(self._ack, m, n.locked, n.index))

    def honest(self) -> list[Node]:
        """Return the nodes that follow the protocol (not named by the adversary)."""
        bad = self.adv.dishonest()
        return [n for n in self.nodes if n.index not in bad]

    def _settle(self, rounds_left: int) -> None:
        """After the last period: announce every ``SETTLE_MS`` until the honest nodes hold one tip.

        The run ends when they agree with nothing left in flight, or after ``SETTLE_ROUNDS`` rounds.
        """
        agreed = len({n.tip for n in self.honest()}) == 1
        if rounds_left <= 0 or (agreed and not self.queue):
            return
        if not agreed:
            self._announce()
        self.at(self.now + SETTLE_MS, partial(self._settle, rounds_left - 1))

    def _update(self, n: Node) -> None:
        old, new = n.choose()
        if old != new:
            for h in set(n.chain_hashes(old)) - set(n.chain_hashes(new)):
                self.held_by.get(h, set()).discard(n.index)
            for h in n.chain_hashes(new):
                holders = self.held_by.setdefault(h, set())
                holders.add(n.index)
                if len(holders) >= self.majority and h not in self.approved_at:
                    self.approved_at[h] = self.now
            included = {t for h in n.chain_hashes(new)[-4:] for t in n.blocks[h].tx_ids}
            closed = n.best.height and n.best.block.period
            for t, (period, _) in list(n.mempool.items()):
                if t in included or period <= closed:
                    del n.mempool[t]
        for h in n.to_ack():
            for m in self.nodes:
                if m.index == n.index:
                    self._ack(m, h, n.index)
                else:
                    self.send(n.index, m.index, partial(self._ack, m, h, n.index))

    # -- running -----------------------------------------------------------------------------
    def run(self) -> NetworkReport:
        """Run every period and deliver every message; returns the report."""
        c = self.cfg
        grace = self.genesis.consensus.grace_s * 1000
        for k in range(c.periods):
            p = FIRST_PERIOD + k
            start = self.period_start(p)
            self.at(start + 1_000, partial(traffic.world_txs, self, p))
            self.at(
                start + self.genesis.consensus.gate_open_s * 1000 + 5_000,
                partial(traffic.candidacies, self, p),
            )
            for rank in range(c.nodes):
                self.at(start + 900_000 + rank * grace + 1, partial(producer.produce_check, self, p, rank))
            self.at(start + 900_000 + 2, partial(adversary.private_block, self, p))
            if c.loss > 0 or self.adv.partition is not None:
                self.at(start + 450_000, self._announce)
            if self.adv.private_fork is not None and p == self.adv.private_release:
                self.at(start + 2, partial(adversary.release_private, self))
        end = self.period_start(FIRST_PERIOD + c.periods) + c.nodes * grace + 1
        self.at(end, partial(self._settle, SETTLE_ROUNDS))
        while self.queue:
            self.now, _, fn = heapq.heappop(self.queue)
            fn()
        return report(self)
