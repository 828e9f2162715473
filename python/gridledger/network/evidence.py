"""Evidence of equivocation: two blocks of one height signed by one miner (SPEC §3).

A producer includes an ``Evidence`` transaction for every equivocation it saw
that its chain has not punished yet, pointing at the equivocator's fee output
so that the fee is confiscated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridledger.ledger import Block, Chain, Evidence, Outpoint, Transfer, decode
from gridledger.network.node import Entry, Node

if TYPE_CHECKING:
    from gridledger.network.sim import NetworkSim

__all__ = ["evidence"]


def evidence(sim: NetworkSim, n: Node, chain: Chain, p: int) -> list[bytes]:
    """Evidence of any equivocation this node saw that its chain has not punished yet."""
    seen: dict[tuple[int, bytes], Block] = {}
    out = []
    reported = set(n.reported())
    for e in list(n.blocks.values()) + [
        Entry(b, b.header.hash("blake3"), b.header.prev_hash, b.height, chain)
        for b in sim.produced.values()
        if b.header.hash("blake3") in n.invalid
        and "InvalidSignature" not in n.invalid[b.header.hash("blake3")]
    ]:
        if e.height == 0:
            continue
        k = (e.height, e.block.header.miner)
        if k in seen and seen[k].header.hash("blake3") != e.hash and k not in reported:
            a, b = seen[k], e.block
            fee = _fee_point(sim, n, chain, e.height, k[1])
            ev = Evidence(
                sim.tag,
                p,
                n.key,
                (a.header.encode(), a.signature),
                (b.header.encode(), b.signature),
                tuple(fee),
            )
            out.append(ev.sign(sim.members[n.index]).encode())
            reported.add(k)
        seen.setdefault(k, e.block)
    return out


def _fee_point(sim: NetworkSim, n: Node, chain: Chain, height: int, miner: bytes) -> list[Outpoint]:
    """Return the equivocator's fee output in the block of ``height`` on ``n``'s chain, if still unspent."""
    hashes = n.chain_hashes()
    if height >= len(hashes):
        return []
    block = n.blocks[hashes[height]].block
    if block.header.miner != miner:
        return []
    for t in block.txs:
        d = decode(t, "blake3")
        if isinstance(d.tx, Transfer) and d.tx.signers == (sim.vpp.public_key,):
            last = len(d.tx.outputs) - 1
            o = d.tx.outputs[last]
            if o.owner == miner and chain.output(d.id, last) is not None:
                return [d.outpoint(last)]
    return []
