"""The community's transactions: the devices' quanta, the VPP's distribution, the candidacies.

Each period the devices sign their quanta, each unit passes them to the VPP,
the VPP distributes energy and voting tokens to the members, and members
holding voting tokens stand as candidates in the auction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gridledger.community.repartition import allocate
from gridledger.ledger import Asset, Candidate, Create, Outpoint, Output, Transfer
from gridledger.network.config import EPOCH_MS

if TYPE_CHECKING:
    from gridledger.network.sim import NetworkSim

__all__ = ["candidacies", "world_txs"]


def world_txs(sim: NetworkSim, p: int) -> None:
    """Devices sign their quanta, each unit passes them to the VPP, the VPP distributes."""
    vpp = sim.vpp.public_key
    exp = p + sim.genesis.vote_validity
    units_out = []
    for j, dev in enumerate(sim.devices):
        k = sim.rng.randint(0, 3)
        if not k:
            continue
        creates = []
        for _ in range(k):
            sim.seq[j] += 1
            creates.append(Create.quantum(sim.tag, p, dev.public_key, sim.seq[j], 100).sign(dev))
        ins = tuple(c.outpoint(i) for c in creates for i in (0, 1))
        t = Transfer(
            sim.tag, p, (dev.public_key,), ins, (Output(vpp, 100 * k), Output(vpp, k, Asset.VOTE, exp))
        )
        unit = t.sign(dev)
        for c in creates:
            sim.broadcast_tx(-1, c.encode())
        sim.broadcast_tx(-1, unit.encode())
        units_out.append((unit, k))
    if not units_out:
        return
    energy = sum(k for _, k in units_out) * 100
    fee = energy * round(sim.genesis.consensus.fee * 1_000_000) // 1_000_000
    miner = sim.nodes[0].best.chain.next_miner
    energy -= fee
    votes = sum(k for _, k in units_out)
    n = len(sim.members)
    shares = allocate(np.array([energy, votes]), np.ones((2, n), np.int64))
    ins = tuple(u.outpoint(i) for u, _ in units_out for i in (0, 1))
    keys = [m.public_key for m in sim.members]

    def dist(e_shares: np.ndarray) -> bytes:
        outs = [Output(keys[i], int(a)) for i, a in enumerate(e_shares) if a]
        outs += [Output(keys[i], int(a), Asset.VOTE, exp) for i, a in enumerate(shares[1]) if a]
        if fee:
            outs.append(Output(miner, fee))
        return Transfer(sim.tag, p, (vpp,), ins, tuple(outs)).sign(sim.vpp).encode()

    sim.broadcast_tx(-1, dist(shares[0]))
    if p in sim.adv.vpp_double_spend:
        # The same energy again, all to the first member: a double spend.
        greedy = np.zeros(n, np.int64)
        greedy[0] = energy
        sim.broadcast_tx(-1, dist(greedy))


def candidacies(sim: NetworkSim, p: int) -> None:
    """Members holding valid voting tokens stand, offering some of them to the current miner.

    The current miner runs the auction and does not stand in it (SPEC §3).
    """
    c = sim.genesis.consensus
    for n in sim.nodes:
        if sim.rng.random() >= sim.cfg.bid_probability:
            continue
        chain = n.best.chain
        if chain.period + 1 != p or chain.next_miner == n.key:
            continue
        held = [u for u in chain.unspent(n.key) if u[2] == Asset.VOTE and u[4] >= p]
        if not held:
            continue
        pick = held[: sim.rng.randint(1, len(held))]
        ins = tuple(Outpoint(t, i) for t, i, _, _, _ in pick)
        offered = sum(u[3] for u in pick)
        sent = EPOCH_MS + sim.period_start(p) + c.gate_open_s * 1000 + sim.rng.uniform(0, 300_000)
        cand = Candidate(
            sim.tag,
            p,
            n.key,
            int(sent),
            ins,
            (Output(chain.next_miner, offered, Asset.VOTE, min(u[4] for u in pick)),),
        )
        sim.broadcast_tx(n.index, cand.sign(sim.members[n.index]).encode())
