"""A deterministic, seeded discrete-event simulation of N nodes running the ledger
with the proof-of-stake auction (issue: proof of stake, item 3).

Every node is a community member with its own block tree, mempool and
validation; messages (transactions, blocks, acknowledgements) travel with a
seeded random latency and may be lost; a partition can cut links for a while.
Each period the community's devices and VPP broadcast their transactions,
members with voting tokens stand as candidates, and at the end of the period
the chosen producer (or, after each grace interval, the next fallback) seals
a block from its mempool. Adversaries are node or world behaviours; the
report counts forks, reorganisations, approval times and messages.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from gridledger import _core
from gridledger.community.repartition import allocate
from gridledger.errors import GridLedgerError
from gridledger.keys import SigningKey
from gridledger.ledger import (
    Asset,
    Block,
    Candidate,
    Chain,
    Consensus,
    Create,
    DeviceEntry,
    Evidence,
    Genesis,
    MemberEntry,
    Outpoint,
    Output,
    SignedTransaction,
    Transfer,
    Winner,
    decode,
)
from gridledger.network.node import Entry, Node

__all__ = ["Adversary", "NetworkConfig", "NetworkReport", "NetworkSim"]

FIRST_PERIOD = 1_733_040  # 2019-06-03 00:00 UTC in 15-minute periods
EPOCH_MS = FIRST_PERIOD * 900_000  # Unix ms at simulated time 0


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
    """

    withhold: frozenset[int] = frozenset()
    equivocate: frozenset[int] = frozenset()
    private_fork: int | None = None
    private_from: int = 0
    private_release: int = 0
    vpp_double_spend: frozenset[int] = frozenset()
    partition: tuple[frozenset[int], int, int] | None = None


@dataclass(frozen=True)
class NetworkConfig:
    """The network and community being simulated.

    Attributes
    ----------
    nodes
        Members, one node each (≥ 3).
    units
        PV units (devices) of the VPP.
    periods
        Market periods to run.
    latency_ms
        Uniform range of one message's delay.
    loss
        Probability that a message is lost.
    bid_probability
        Chance that a member holding voting tokens stands in a period.
    consensus
        Auction parameters (the producer rule is forced to the auction).
    seed
        Seeds keys, generation, latencies, losses and bids.
    share_validation
        Memoise block validation across nodes (the same block on the same
        parent gives every node the same result); False validates in each node.
    """

    nodes: int = 7
    units: int = 2
    periods: int = 24
    latency_ms: tuple[float, float] = (20.0, 400.0)
    loss: float = 0.0
    bid_probability: float = 0.8
    consensus: Consensus = field(default_factory=lambda: Consensus(producer_rule="auction"))
    seed: int = 0
    share_validation: bool = True


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
        return max(self.reorgs, default=0)

    def summary(self) -> dict[str, float | int | bool]:
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


class NetworkSim:
    """Run ``config`` with ``adversary`` (honest by default); :meth:`run` returns the report."""

    def __init__(self, config: NetworkConfig | None = None, adversary: Adversary | None = None) -> None:
        self.cfg = config or NetworkConfig()
        self.adv = adversary or Adversary()
        c = self.cfg
        if c.nodes < 3:
            raise GridLedgerError("a network needs at least 3 nodes", "nodes", c.nodes)
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
        heapq.heappush(self.queue, (t, next(self.counter), fn))

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
        for n in self.nodes if targets is None else [self.nodes[i] for i in targets]:
            if n.index == src:
                self._add_tx(n, tx)
            else:
                self.send(src, n.index, partial(self._add_tx, n, tx))

    def _add_tx(self, n: Node, tx: bytes) -> None:
        d = decode(tx, "blake3")
        n.mempool.setdefault(d.id, (d.tx.period, tx))

    def broadcast_block(self, src: int, block: Block, targets: list[int] | None = None) -> None:
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
            self._request(n, sender, block.header.prev_hash)

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
        votes = n.acks.setdefault(h, set())
        votes.add(voter)
        if h not in n.blocks:
            self._request(n, voter, h)
        elif len(votes) == self.majority:
            self._update(n)  # it has just become approved

    def _announce(self) -> None:
        """Every node re-sends its tip and its recent acknowledgements (recovers lost messages)."""
        for n in self.nodes:
            tip = n.best.block
            recent = n.chain_hashes()[-4:]
            for m in self.nodes:
                if m.index == n.index:
                    continue
                self.send(n.index, m.index, partial(self._receive, m, tip, n.index))
                for h in recent:
                    if h in n.acks and n.index in n.acks[h]:
                        self.send(n.index, m.index, partial(self._ack, m, h, n.index))

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

    # -- the community's transactions ----------------------------------------------------
    def _period_start(self, p: int) -> float:
        return (p - FIRST_PERIOD) * 900_000.0

    def _world_txs(self, p: int) -> None:
        """Devices sign their quanta, each unit passes them to the VPP, the VPP distributes."""
        vpp = self.vpp.public_key
        exp = p + self.genesis.vote_validity
        units_out = []
        for j, dev in enumerate(self.devices):
            k = self.rng.randint(0, 3)
            if not k:
                continue
            creates = []
            for _ in range(k):
                self.seq[j] += 1
                creates.append(Create.quantum(self.tag, p, dev.public_key, self.seq[j], 100).sign(dev))
            ins = tuple(c.outpoint(i) for c in creates for i in (0, 1))
            t = Transfer(
                self.tag, p, (dev.public_key,), ins, (Output(vpp, 100 * k), Output(vpp, k, Asset.VOTE, exp))
            )
            unit = t.sign(dev)
            for c in creates:
                self.broadcast_tx(-1, c.encode())
            self.broadcast_tx(-1, unit.encode())
            units_out.append((unit, k))
        if not units_out:
            return
        energy = sum(k for _, k in units_out) * 100
        fee = energy * round(self.genesis.consensus.fee * 1_000_000) // 1_000_000
        miner = self.nodes[0].best.chain.next_miner
        energy -= fee
        votes = sum(k for _, k in units_out)
        n = len(self.members)
        shares = allocate(np.array([energy, votes]), np.ones((2, n), np.int64))
        ins = tuple(u.outpoint(i) for u, _ in units_out for i in (0, 1))
        keys = [m.public_key for m in self.members]

        def dist(e_shares: np.ndarray) -> bytes:
            outs = [Output(keys[i], int(a)) for i, a in enumerate(e_shares) if a]
            outs += [Output(keys[i], int(a), Asset.VOTE, exp) for i, a in enumerate(shares[1]) if a]
            if fee:
                outs.append(Output(miner, fee))
            return Transfer(self.tag, p, (vpp,), ins, tuple(outs)).sign(self.vpp).encode()

        self.broadcast_tx(-1, dist(shares[0]))
        if p in self.adv.vpp_double_spend:
            # The same energy again, all to the first member: a double spend.
            greedy = np.zeros(n, np.int64)
            greedy[0] = energy
            self.broadcast_tx(-1, dist(greedy))

    def _candidacies(self, p: int) -> None:
        """Members holding valid voting tokens stand, offering some of them to the current miner."""
        c = self.genesis.consensus
        for n in self.nodes:
            if self.rng.random() >= self.cfg.bid_probability:
                continue
            chain = n.best.chain
            if chain.period + 1 != p:
                continue
            held = [u for u in chain._state.unspent(n.key) if u[2] == Asset.VOTE and u[4] >= p]
            if not held:
                continue
            pick = held[: self.rng.randint(1, len(held))]
            ins = tuple(Outpoint(t, i) for t, i, _, _, _ in pick)
            offered = sum(u[3] for u in pick)
            sent = EPOCH_MS + self._period_start(p) + c.gate_open_s * 1000 + self.rng.uniform(0, 300_000)
            cand = Candidate(
                self.tag,
                p,
                n.key,
                int(sent),
                ins,
                (Output(chain.next_miner, offered, Asset.VOTE, min(u[4] for u in pick)),),
            )
            self.broadcast_tx(n.index, cand.sign(self.members[n.index]).encode())

    # -- producing blocks --------------------------------------------------------------
    def _produce_check(self, p: int, rank: int) -> None:
        for n in self.nodes:
            chain = n.best.chain
            if chain.period + 1 != p:
                continue
            producers = chain.producers()
            if rank >= len(producers) or producers[rank] != n.key:
                continue
            if n.index in self.adv.withhold:
                continue
            block = self._build(n, chain, p, rank)
            if block is None:
                continue
            if n.index in self.adv.equivocate:
                twin = self._build(n, chain, p, rank, drop_last=True)
                if twin is not None and twin.header.hash("blake3") != block.header.hash("blake3"):
                    half = len(self.nodes) // 2
                    self.broadcast_block(n.index, block, list(range(half)))
                    self.broadcast_block(n.index, twin, list(range(half, len(self.nodes))))
                    continue
            self.broadcast_block(n.index, block)

    def _build(self, n: Node, chain: Chain, p: int, rank: int, drop_last: bool = False) -> Block | None:
        """The block ``n`` seals from its mempool: invalid transactions are dropped one by one."""
        key = self.members[n.index]
        txs = [tx for period, tx in n.mempool.values() if period == p]
        if drop_last and txs:
            txs = txs[:-1]
        txs = sorted((t for t in txs if not isinstance(decode(t, "blake3").tx, Winner)), key=self._order)
        txs += self._evidence(n, chain, p)
        ts = self.genesis.period_end_ms(p) + round(rank * self.genesis.consensus.grace_s * 1000) + 1
        for _ in range(len(txs) + 2):
            cands = [decode(t, "blake3") for t in txs]
            cands = [c for c in cands if isinstance(c.tx, Candidate)]
            body = [t for t in txs if not isinstance(decode(t, "blake3").tx, Candidate)]
            ordered = body[: len(body)] + [c.encode() for c in cands]
            winner: bytes | None = None
            if cands:
                ordered, winner = self._with_winner(chain, key, p, body, cands, ts)
            block = chain.seal(ordered, key, timestamp_ms=ts, next_winner=winner)
            try:
                chain.copy().check(block)
                return block
            except GridLedgerError as e:
                bad = _tx_index(e.field)
                if bad is None or bad >= len(ordered):
                    return None
                drop = ordered[bad]
                txs = [t for t in txs if t != drop]
                if decode(drop, "blake3").id in n.mempool:
                    del n.mempool[decode(drop, "blake3").id]
        return None

    def _order(self, tx: bytes) -> tuple[int, bytes, int]:
        """Dependencies first: Creates by device and number, the units' transfers, the VPP's, the rest."""
        t = decode(tx, "blake3").tx
        if isinstance(t, Create):
            return 0, t.device, t.seq
        if isinstance(t, Transfer):
            if t.signers == (self.vpp.public_key,):
                return 2, b"", 0
            devices = {d.public_key for d in self.devices}
            return (1 if t.signers[0] in devices else 3), t.signers[0], 0
        return 4, b"", 0

    def _with_winner(
        self,
        chain: Chain,
        key: SigningKey,
        p: int,
        body: list[bytes],
        cands: list[SignedTransaction],
        ts: int,
    ) -> tuple[list[bytes], bytes | None]:
        c = self.genesis.consensus
        start = EPOCH_MS + self._period_start(p)
        open_, close = start + c.gate_open_s * 1000, start + 900_000 - c.gate_close_s * 1000
        offers = [(x, x.tx) for x in cands if isinstance(x.tx, Candidate)]
        on_time = [x for x, t in offers if open_ <= t.sent_ms <= close]
        who = {id(x): t.candidate for x, t in offers}
        won, _ = chain.auction([who[id(x)] for x in on_time], [x.tx.outputs[0].amount for x in on_time])
        outs = []
        if won is not None:
            pot = sum(x.tx.outputs[0].amount for x in on_time)
            outs.append(Output(won, pot, Asset.VOTE, min(x.tx.outputs[0].expires for x in on_time)))
        outs += [
            Output(who[id(x)], x.tx.outputs[0].amount, Asset.VOTE, x.tx.outputs[0].expires)
            for x in cands
            if x not in on_time
        ]
        w = Winner(
            self.tag, p, key.public_key, won or bytes(32), tuple(x.outpoint(0) for x in cands), tuple(outs)
        )
        return [*body, *(x.encode() for x in cands), w.sign(key).encode()], won

    def _evidence(self, n: Node, chain: Chain, p: int) -> list[bytes]:
        """Evidence of any equivocation this node saw that its chain has not punished yet."""
        seen: dict[tuple[int, bytes], Block] = {}
        out = []
        reported = {(h, m) for h, m in self._reported(n)}
        for e in list(n.blocks.values()) + [
            Entry(b, b.header.hash("blake3"), b.header.prev_hash, b.height, chain)
            for b in self.produced.values()
            if b.header.hash("blake3") in n.invalid
            and "InvalidSignature" not in n.invalid[b.header.hash("blake3")]
        ]:
            if e.height == 0:
                continue
            k = (e.height, e.block.header.miner)
            if k in seen and seen[k].header.hash("blake3") != e.hash and k not in reported:
                a, b = seen[k], e.block
                fee = self._fee_point(n, chain, e.height, k[1])
                ev = Evidence(
                    self.tag,
                    p,
                    n.key,
                    (a.header.encode(), a.signature),
                    (b.header.encode(), b.signature),
                    tuple(fee),
                )
                out.append(ev.sign(self.members[n.index]).encode())
                reported.add(k)
            seen.setdefault(k, e.block)
        return out

    def _reported(self, n: Node) -> list[tuple[int, bytes]]:
        out = []
        for h in n.chain_hashes():
            for t in n.blocks[h].block.txs:
                d = decode(t, "blake3")
                if isinstance(d.tx, Evidence):
                    hd = _core.decode_header(d.tx.first[0])
                    out.append((hd["height"], hd["miner"]))
        return out

    def _fee_point(self, n: Node, chain: Chain, height: int, miner: bytes) -> list[Outpoint]:
        hashes = n.chain_hashes()
        if height >= len(hashes):
            return []
        block = n.blocks[hashes[height]].block
        if block.header.miner != miner:
            return []
        for t in block.txs:
            d = decode(t, "blake3")
            if isinstance(d.tx, Transfer) and d.tx.signers == (self.vpp.public_key,):
                last = len(d.tx.outputs) - 1
                o = d.tx.outputs[last]
                if o.owner == miner and chain.output(d.id, last) is not None:
                    return [d.outpoint(last)]
        return []

    # -- the private fork ----------------------------------------------------------------
    def _private_block(self, p: int) -> None:
        """The attacker extends its private chain with a block it signs itself, whoever was chosen."""
        a = self.adv.private_fork
        if a is None or not (self.adv.private_from <= p < self.adv.private_release):
            return
        key = self.members[a]
        if self.private:
            prev = self.private[-1].header
            prev_hash = prev.hash("blake3")
        else:
            prev = self.nodes[a].best.block.header
            prev_hash = self.nodes[a].tip
        from gridledger.ledger import Header, tx_root

        header = Header(
            chain_id=prev.chain_id,
            height=prev.height + 1,
            period=prev.period + 1,
            prev_hash=prev_hash,
            tx_root=tx_root(np.zeros((0, 32), np.uint8)),
            n_tx=0,
            miner=key.public_key,
            next_winner=key.public_key,
            timestamp_ms=self.genesis.period_end_ms(prev.period + 1) + 1,
        )
        self.private.append(Block(header, key.sign(header.hash("blake3")), ()))

    def _release(self) -> None:
        a = self.adv.private_fork
        if a is not None:
            for b in self.private:
                self.broadcast_block(a, b)

    # -- running -----------------------------------------------------------------------------
    def run(self) -> NetworkReport:
        c = self.cfg
        grace = self.genesis.consensus.grace_s * 1000
        for k in range(c.periods):
            p = FIRST_PERIOD + k
            start = self._period_start(p)
            self.at(start + 1_000, partial(self._world_txs, p))
            self.at(start + self.genesis.consensus.gate_open_s * 1000 + 5_000, partial(self._candidacies, p))
            for rank in range(c.nodes):
                self.at(start + 900_000 + rank * grace + 1, partial(self._produce_check, p, rank))
            self.at(start + 900_000 + 2, partial(self._private_block, p))
            if c.loss > 0 or self.adv.partition is not None:
                self.at(start + 450_000, self._announce)
            if self.adv.private_fork is not None and p == self.adv.private_release:
                self.at(start + 2, self._release)
        while self.queue:
            self.now, _, fn = heapq.heappop(self.queue)
            fn()
        return self._report()

    def _report(self) -> NetworkReport:
        dishonest = set(self.adv.withhold) | set(self.adv.equivocate)
        if self.adv.private_fork is not None:
            dishonest.add(self.adv.private_fork)
        honest = [n for n in self.nodes if n.index not in dishonest]
        first = honest[0]
        final = [first.blocks[h] for h in first.chain_hashes()]
        on_final = {e.hash for e in final}
        valid_everywhere = {h for n in honest for h in n.blocks}
        approval = []
        for e in final[1:]:
            t = self.approved_at.get(e.hash)
            if t is not None:
                approval.append(t - (e.block.header.timestamp_ms - EPOCH_MS))
        return NetworkReport(
            tips=[n.tip for n in self.nodes],
            agreed=len({n.tip for n in honest}) == 1,
            height=first.best.height,
            forks=len(valid_everywhere - on_final),
            reorgs=[d for n in honest for d in n.reorgs],
            approval_ms=approval,
            messages=self.messages,
            lost_messages=self.lost,
            invalid_seen=[dict(n.invalid) for n in self.nodes],
            reverted_approved=sum(n.reverted_approved for n in honest),
            final=final,
        )


def _tx_index(field: str | None) -> int | None:
    if not field or not field.startswith("tx["):
        return None
    try:
        return int(field[3 : field.index("]")])
    except ValueError:
        return None
