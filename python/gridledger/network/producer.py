"""Block production: who may seal a period's block, and the block it seals from its mempool.

At the end of each period the chosen producer (or, after each grace interval,
the next fallback) seals a block: transactions in dependency order, the
candidacies and the auction's Winner last, the Evidence of any equivocation it
saw; a transaction that makes the block invalid is dropped and the block is
sealed again. Withholding and equivocating nodes misbehave here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridledger.errors import GridLedgerError
from gridledger.keys import SigningKey
from gridledger.ledger import (
    Asset,
    Block,
    Candidate,
    Chain,
    Create,
    Output,
    SignedTransaction,
    Transfer,
    Winner,
    decode,
)
from gridledger.network.config import EPOCH_MS
from gridledger.network.evidence import evidence
from gridledger.network.node import Node

if TYPE_CHECKING:
    from gridledger.network.sim import NetworkSim

__all__ = ["build", "produce_check"]


def produce_check(sim: NetworkSim, p: int, rank: int) -> None:
    """Every node whose best chain names it producer number ``rank`` of period ``p`` publishes."""
    for n in sim.nodes:
        chain = n.best.chain
        if chain.period + 1 != p:
            continue
        producers = chain.producers()
        if rank >= len(producers) or producers[rank] != n.key:
            continue
        if n.index in sim.adv.withhold:
            continue
        block = build(sim, n, chain, p, rank)
        if block is None:
            continue
        if n.index in sim.adv.fast_clock:
            # Its clock runs ahead: the same block, stamped by that clock (and not checked).
            late = block.header.timestamp_ms + sim.adv.clock_ahead_ms
            h = block.header.with_(timestamp_ms=late)
            block = Block(h, sim.members[n.index].sign(h.hash("blake3")), block.txs)
        if n.index in sim.adv.equivocate:
            twin = build(sim, n, chain, p, rank, drop_last=True)
            if twin is not None and twin.header.hash("blake3") != block.header.hash("blake3"):
                half = len(sim.nodes) // 2
                sim.broadcast_block(n.index, block, list(range(half)))
                sim.broadcast_block(n.index, twin, list(range(half, len(sim.nodes))))
                continue
        sim.broadcast_block(n.index, block)


def build(sim: NetworkSim, n: Node, chain: Chain, p: int, rank: int, drop_last: bool = False) -> Block | None:
    """Return the block ``n`` seals from its mempool: invalid transactions are dropped one by one."""
    key = sim.members[n.index]
    txs = [tx for period, tx in n.mempool.values() if period == p]
    if drop_last and txs:
        txs = txs[:-1]
    txs = sorted(
        (t for t in txs if not isinstance(decode(t, "blake3").tx, Winner)), key=lambda t: _order(sim, t)
    )
    txs += evidence(sim, n, chain, p)
    ts = sim.genesis.period_end_ms(p) + round(rank * sim.genesis.consensus.grace_s * 1000) + 1
    for _ in range(len(txs) + 2):
        cands = [decode(t, "blake3") for t in txs]
        cands = [c for c in cands if isinstance(c.tx, Candidate)]
        body = [t for t in txs if not isinstance(decode(t, "blake3").tx, Candidate)]
        ordered = body[: len(body)] + [c.encode() for c in cands]
        winner: bytes | None = None
        if cands:
            ordered, winner = _with_winner(sim, chain, key, p, body, cands)
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


def _order(sim: NetworkSim, tx: bytes) -> tuple[int, bytes, int]:
    """Dependencies first: Creates by device and number, the units' transfers, the VPP's, the rest."""
    t = decode(tx, "blake3").tx
    if isinstance(t, Create):
        return 0, t.device, t.seq
    if isinstance(t, Transfer):
        if t.signers == (sim.vpp.public_key,):
            return 2, b"", 0
        devices = {d.public_key for d in sim.devices}
        return (1 if t.signers[0] in devices else 3), t.signers[0], 0
    return 4, b"", 0


def _with_winner(
    sim: NetworkSim,
    chain: Chain,
    key: SigningKey,
    p: int,
    body: list[bytes],
    cands: list[SignedTransaction],
) -> tuple[list[bytes], bytes | None]:
    """Run the auction: on-time candidacies compete, late ones are refunded, the Winner pays the pot."""
    c = sim.genesis.consensus
    start = EPOCH_MS + sim.period_start(p)
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
    w = Winner(sim.tag, p, key.public_key, won or bytes(32), tuple(x.outpoint(0) for x in cands), tuple(outs))
    return [*body, *(x.encode() for x in cands), w.sign(key).encode()], won


def _tx_index(field: str | None) -> int | None:
    if not field or not field.startswith("tx["):
        return None
    try:
        return int(field[3 : field.index("]")])
    except ValueError:
        return None
