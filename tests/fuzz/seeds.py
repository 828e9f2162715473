"""Real encodings the fuzz targets mutate: transactions, headers, genesis records, blocks.

Built through the public API from the ledger tests' community (``ledger_world``);
``fuzz/make_corpus.py`` writes the same values as the atheris seed corpora.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # ledger_world, for the atheris harnesses

from gridledger.keys import SigningKey
from gridledger.ledger import Asset, Block, Candidate, Evidence, Outpoint, Output, Winner
from ledger_world import World


@dataclass(frozen=True)
class LedgerSeeds:
    txs: list[bytes]
    headers: list[bytes]
    geneses: list[bytes]
    block: Block  # a valid next block of ``world``'s chain
    world: World


@cache
def ledger_seeds() -> LedgerSeeds:
    """A chain with one valid period, the next period's block, and every transaction kind."""
    w = World()
    w.append(w.valid_period())
    nxt = w.valid_period()
    block = w.seal(nxt)
    k = SigningKey.from_seed(bytes([7]) * 32)
    m = k.public_key
    op = Outpoint(nxt[0].id, 0)
    vote = Output(m, 1, Asset.VOTE, w.period + 3)
    head = w.chain.tip.encode()
    auction = [
        Candidate(w.tag, w.period, m, 1_700_000_000_000, (op,), (vote,)).sign(k),
        Winner(w.tag, w.period, m, w.members[0].public_key, (op,), (vote, Output(m, 5))).sign(k),
        Evidence(w.tag, w.period, m, (head, bytes(64)), (block.header.encode(), bytes(64)), (op,)).sign(k),
    ]
    return LedgerSeeds(
        txs=[t.encode() for t in (*nxt, *auction)],
        headers=[w.chain.tip.encode(), block.header.encode()],
        geneses=[w.genesis().encode(), World(algorithm="sha256").genesis().encode()],
        block=block,
        world=w,
    )
