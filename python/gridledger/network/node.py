"""One node of the simulated network: its own block tree, chain states, mempool and votes.

A node validates every block it receives against a copy of its parent's
state (the Rust core does the checking), keeps every valid block, and
follows the best chain: the one holding its highest *approved* block (a
block a majority of nodes acknowledged), then the longest, then the lower
tip hash (SPEC §2).

Its acknowledgements form one chain: it acknowledges a block only if the
block extends the last block it acknowledged (and then every block between
them), never a block beside it. Two approved blocks therefore never conflict
(their majorities share a node, whose acknowledgements lie on one chain), so
the chain holding the highest approved block holds every approved block and
fork choice never drops one (docs/consensus.md, Approval).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from gridledger.errors import GridLedgerError
from gridledger.ledger import Block, Chain, Evidence, Header, decode

__all__ = ["Entry", "Node"]


@dataclass
class Entry:
    """A valid block in a node's tree, with the chain state after it.

    ``reported`` holds the (height, miner) of every equivocation punished by
    an ``Evidence`` on the chain up to this block: the parent's set plus this
    block's own, so it is built once per block and a reorganisation needs no
    rescan.
    """

    block: Block
    hash: bytes
    parent: bytes
    height: int
    chain: Chain
    tx_ids: frozenset[bytes] = frozenset()
    reported: frozenset[tuple[int, bytes]] = frozenset()


@dataclass
class Node:
    """A node: ``index`` is its member's position in the genesis."""

    index: int
    key: bytes
    genesis_chain: Chain
    majority: int
    blocks: dict[bytes, Entry] = field(default_factory=dict)
    invalid: dict[bytes, str] = field(default_factory=dict)
    orphans: dict[bytes, list[Block]] = field(default_factory=dict)
    #: Hash of each orphan -> its missing parent's hash.
    orphan_parent: dict[bytes, bytes] = field(default_factory=dict)
    mempool: dict[bytes, tuple[int, bytes]] = field(default_factory=dict)
    acks: dict[bytes, set[int]] = field(default_factory=dict)
    #: The last block this node acknowledged (the genesis before any): it acknowledges only its descendants.
    locked: bytes = b""
    tip: bytes = b""
    #: Validation results shared by the simulation's nodes: (parent, block) -> entry or error.
    memo: dict[tuple[bytes, bytes], Entry | str] | None = None
    reorgs: list[int] = field(default_factory=list)
    reverted_approved: int = 0

    def __post_init__(self) -> None:
        """Start the node's block tree at the genesis block, which is its tip and locked block."""
        g = self.genesis_chain.genesis_block()
        h = g.header.hash(self.genesis_chain.algorithm)  # type: ignore[arg-type]
        self.blocks[h] = Entry(g, h, bytes(32), 0, self.genesis_chain)
        self.tip = h
        self.locked = h

    # -- the tree -----------------------------------------------------------------
    @property
    def best(self) -> Entry:
        """The entry of the node's best tip."""
        return self.blocks[self.tip]

    def chain_hashes(self, tip: bytes | None = None) -> list[bytes]:
        """Hashes from genesis to ``tip`` (the best tip by default)."""
        out = []
        h = self.tip if tip is None else tip
        while h in self.blocks:
            out.append(h)
            h = self.blocks[h].parent
        return out[::-1]

    def missing(self, h: bytes) -> bytes:
        """Return the deepest block to fetch for ``h``: below the orphans already held, its missing root."""
        while h in self.orphan_parent:
            h = self.orphan_parent[h]
        return h

    def reported(self) -> frozenset[tuple[int, bytes]]:
        """(height, miner) of every equivocation already punished on the best chain."""
        return self.best.reported

    def credit(self, h: bytes, voter: int) -> bool:
        """Count ``voter``'s acknowledgement of ``h`` and, known from the rule, of its ancestors.

        Returns whether a block became approved. An acknowledgement of a block
        not held yet is kept and credited to its ancestors when it arrives.
        """
        became = False
        while True:
            votes = self.acks.setdefault(h, set())
            if voter not in votes:
                votes.add(voter)
                became |= len(votes) == self.majority
            entry = self.blocks.get(h)
            if entry is None or entry.height <= 1 or voter in self.acks.get(entry.parent, ()):
                return became
            h = entry.parent

    def approved(self, h: bytes) -> bool:
        """Whether a majority of the nodes acknowledged block ``h``."""
        return len(self.acks.get(h, ())) >= self.majority

    def receive_block(self, block: Block) -> list[Entry]:
        """Validate ``block`` (and any orphans waiting on it); returns the new valid entries."""
        alg = self.genesis_chain.algorithm
        h = block.header.hash(alg)  # type: ignore[arg-type]
        if h in self.blocks or h in self.invalid:
            return []
        parent = self.blocks.get(block.header.prev_hash)
        if parent is None:
            if h not in self.orphan_parent:
                self.orphans.setdefault(block.header.prev_hash, []).append(block)
                self.orphan_parent[h] = block.header.prev_hash
            return []
        key = (block.header.prev_hash, h)
        known = self.memo.get(key) if self.memo is not None else None
        if isinstance(known, str):
            self.invalid[h] = known
            return []
        if known is None:
            state = parent.chain.copy()
            try:
                receipt = state.append(block)
            except GridLedgerError as e:
                self.invalid[h] = f"{type(e).__name__}: {e}"
                if self.memo is not None:
                    self.memo[key] = self.invalid[h]
                return []
            ids = frozenset(bytes(x) for x in receipt.ids)
            reported = parent.reported | _punished(block, receipt.kinds, alg)
            known = Entry(block, h, block.header.prev_hash, block.height, state, ids, reported)
            if self.memo is not None:
                self.memo[key] = known
        entry = known
        self.blocks[h] = entry
        for voter in list(self.acks.get(h, ())):
            self.credit(h, voter)
        added = [entry]
        for child in self.orphans.pop(h, []):
            self.orphan_parent.pop(child.header.hash(alg), None)  # type: ignore[arg-type]
            added += self.receive_block(child)
        return added

    def _score(self, h: bytes) -> tuple[int, int, bytes]:
        chain = self.chain_hashes(h)
        approved = max((self.blocks[x].height for x in chain if self.approved(x)), default=0)
        # Lower tip hash wins ties: compare the complement.
        return approved, self.blocks[h].height, bytes(255 - b for b in h)

    def choose(self) -> tuple[bytes, bytes]:
        """Re-run fork choice over the leaves; returns (old tip, new tip)."""
        parents = {e.parent for e in self.blocks.values()}
        leaves = [h for h in self.blocks if h not in parents]
        old = self.tip
        self.tip = max(leaves, key=self._score)
        if self.tip != old:
            old_chain, new_chain = self.chain_hashes(old), set(self.chain_hashes(self.tip))
            dropped = [x for x in old_chain if x not in new_chain]
            if dropped:
                self.reorgs.append(len(dropped))
                self.reverted_approved += sum(self.approved(x) for x in dropped)
        return old, self.tip

    def to_ack(self) -> list[bytes]:
        """Blocks of the best chain to acknowledge now: those after the last acknowledged one.

        Nothing when the best chain does not hold that block: acknowledging a
        block beside it could approve two conflicting blocks.
        """
        chain = self.chain_hashes()
        try:
            start = chain.index(self.locked) + 1
        except ValueError:
            return []
        out = chain[start:]
        if out:
            self.locked = out[-1]
        return out


#: The codec's kind code of an ``Evidence`` transaction (docs/ledger.md, Encodings).
_EVIDENCE_KIND = 4


def _punished(block: Block, kinds: NDArray[np.uint8], alg: str) -> frozenset[tuple[int, bytes]]:
    """(height, miner) of the equivocations the Evidence transactions of ``block`` report."""
    out = set()
    for i in np.flatnonzero(kinds == _EVIDENCE_KIND).tolist():
        tx = decode(block.txs[i], alg).tx  # type: ignore[arg-type]
        if isinstance(tx, Evidence):
            first = Header.decode(tx.first[0])
            out.add((first.height, first.miner))
    return frozenset(out)
