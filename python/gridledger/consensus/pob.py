"""Proof of benefit (SPEC §6, seed 003 §4): blocks of executed EV transactions and the heaviest chain.

Each round every miner proposes a block: the set of pending transactions it
executes now. A block carries its benefit λ = 1/PF of the window of the last
``window`` slopes of Θ ending with its round, as an exact integer
(floor(10¹² / PF[kW²])). Every validator recomputes λ (Rust, integers only)
and checks the rules; a chain's weight is Σλ and the fork choice is the
heaviest valid chain (ties: the lower tip hash).

A block is the ledger's 193-byte header (:class:`gridledger.ledger.Header`:
period = the round, ``tx_root`` = RFC 6962 root of the executed transaction
ids, ``next_winner`` all zero) followed by λ as 8 bytes little-endian; its
hash is H(header ‖ λ) and the miner signs that hash (Ed25519).

Validity of a block of round r on its parent (SPEC §6, seed 003 eq. 8):

1. the parent is known, height and round follow it, the signature verifies,
   ``tx_root`` and ``n_tx`` match the ids;
2. every id is a known transaction published by round r
   (:class:`InvalidTransactionError`) and not executed before on this branch
   nor twice in the block (:class:`DoubleSpendError`);
3. every transaction published at r − ``max_defer`` and still pending on the
   branch is executed (deferral at most ``max_defer`` rounds);
4. the optional transactions fit under the feeder capacity left after the
   base load and the due ones;
5. the claimed λ equals the recomputed one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from gridledger import _core, keys
from gridledger.errors import (
    InvalidArgumentError,
    InvalidBlockError,
    InvalidSignatureError,
    InvalidTransactionError,
)
from gridledger.hashing import Algorithm
from gridledger.keys import SigningKey
from gridledger.ledger.block import Header, tx_root

__all__ = ["PobBlock", "PobChain", "PobParams", "Pool"]

ZERO32 = bytes(32)


@dataclass(frozen=True)
class PobParams:
    """What every validator shares.

    Attributes
    ----------
    cap_wh
        Feeder capacity per round (Wh per round).
    max_defer
        Rounds a transaction may wait (the seed: 2).
    window
        Slopes in λ's PF window (rounds; the seed: a day).
    round_minutes
        Round length (minutes).
    """

    cap_wh: int
    max_defer: int = 2
    window: int = 288
    round_minutes: int = 5


@dataclass(frozen=True)
class Pool:
    """The published transactions a chain may execute, sorted by round.

    Attributes
    ----------
    first_round
        Absolute round index of relative round 0.
    published
        ``(n,)`` relative publication round, ascending.
    grid_wh
        ``(n,)`` Θ term of each transaction (Wh per round).
    ids
        ``(n, 32)`` transaction ids.
    base_wh
        Base load P of each relative round (Wh per round), public data.
    """

    first_round: int
    published: NDArray[np.int64]
    grid_wh: NDArray[np.int64]
    ids: NDArray[np.uint8]
    base_wh: NDArray[np.int64]
    _index: dict[bytes, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Check that ``published``, ``grid_wh`` and ``ids`` have one row per transaction; index the ids."""
        if not (len(self.published) == len(self.grid_wh) == len(self.ids)):
            raise InvalidArgumentError("published, grid_wh and ids differ in length", "ids", len(self.ids))
        self._index.update({bytes(row): i for i, row in enumerate(self.ids)})

    def indices(self, ids: NDArray[np.uint8]) -> NDArray[np.int64]:
        """Pool index of each id; an unknown id raises, naming ``transactions[j]``."""
        out = np.empty(len(ids), dtype=np.int64)
        for j, row in enumerate(ids):
            i = self._index.get(bytes(row))
            if i is None:
                raise InvalidTransactionError(
                    f"transactions[{j}] = {bytes(row).hex()}: unknown transaction",
                    f"transactions[{j}]",
                    bytes(row).hex(),
                )
            out[j] = i
        return out


@dataclass(frozen=True)
class PobBlock:
    """A proof-of-benefit block: header, λ, executed ids, miner signature."""

    header: Header
    lambda_fp: int
    ids: NDArray[np.uint8]
    signature: bytes

    @property
    def round(self) -> int:
        """The block's round (the header's period field)."""
        return self.header.period

    def encode_header(self) -> bytes:
        """Return the signed bytes: the ledger header then λ (u64 little-endian)."""
        return self.header.encode() + self.lambda_fp.to_bytes(8, "little")

    def hash(self, algorithm: Algorithm = "blake3") -> bytes:
        """Return the block hash H(header ‖ λ)."""
        return _core.hash_one(self.encode_header(), algorithm)

    @classmethod
    def make(
        cls,
        miner: SigningKey,
        chain_id: bytes,
        parent: PobBlock | None,
        round_: int,
        ids: NDArray[np.uint8],
        lambda_fp: int,
        round_minutes: int,
        genesis_hash: bytes = ZERO32,
    ) -> PobBlock:
        """Build and sign a block on ``parent`` (``None``: the first block)."""
        ids = np.ascontiguousarray(ids, dtype=np.uint8).reshape(-1, 32)
        header = Header(
            chain_id=chain_id,
            height=0 if parent is None else parent.header.height + 1,
            period=round_,
            prev_hash=genesis_hash if parent is None else parent.hash(),
            tx_root=tx_root(ids),
            n_tx=len(ids),
            miner=miner.public_key,
            next_winner=ZERO32,
            timestamp_ms=(round_ + 1) * round_minutes * 60_000,
        )
        unsigned = cls(header, lambda_fp, ids, b"")
        return cls(header, lambda_fp, ids, miner.sign(unsigned.hash()))


@dataclass
class _Node:
    block: PobBlock | None
    parent: bytes | None
    weight: int
    height: int
    round: int  # relative round of the block (−1 for the root)
    state: _core.PobParent  # executed flags, Θ and slopes of the branch after this block


class PobChain:
    """A block tree with proof-of-benefit validity and heaviest-chain fork choice.

    Parameters
    ----------
    pool
        The transactions and base load every validator knows.
    params
        Capacity, deferral, window and round length.
    chain_id
        32 bytes naming the chain.
    theta_prev_wh, slopes_wh
        Θ of the round before relative round 0 and the slopes before it (Wh).

    Each node keeps its branch's state as a native :class:`_core.PobParent`
    (one executed flag per pool transaction; the pool itself is shared):
    meant for live operation over a pool of a few days, not for replaying a
    year (use the batch validator ``PobParent.validate_chain``).
    """

    def __init__(
        self,
        pool: Pool,
        params: PobParams,
        chain_id: bytes,
        theta_prev_wh: int,
        slopes_wh: NDArray[np.int64] | None = None,
    ) -> None:
        if len(chain_id) != 32:
            raise InvalidArgumentError("chain_id must be 32 bytes", "chain_id", f"{len(chain_id)} bytes")
        self.pool = pool
        self.params = params
        self.chain_id = chain_id
        self.genesis = _core.hash_one(b"gridledger-pob-genesis" + chain_id, "blake3")
        sl = np.zeros(0, np.int64) if slopes_wh is None else np.ascontiguousarray(slopes_wh, np.int64)
        root = _core.PobParent(
            np.ascontiguousarray(pool.published, np.int64),
            np.ascontiguousarray(pool.grid_wh, np.int64),
            cap_wh=params.cap_wh,
            max_defer=params.max_defer,
            window=params.window,
            round_minutes=params.round_minutes,
            theta_prev=int(theta_prev_wh),
            slopes=sl,
        )
        self._nodes: dict[bytes, _Node] = {self.genesis: _Node(None, None, 0, -1, -1, root)}
        self._tip = self.genesis

    # -- queries ---------------------------------------------------------------------------------
    @property
    def tip(self) -> bytes:
        """Hash of the heaviest valid chain's last block (the genesis hash when empty)."""
        return self._tip

    def weight(self, block_hash: bytes | None = None) -> int:
        """Σλ of the chain ending at ``block_hash`` (default the tip)."""
        return self._nodes[self._tip if block_hash is None else block_hash].weight

    def __contains__(self, block_hash: bytes) -> bool:
        """Whether the chain holds the block of hash ``block_hash``."""
        return block_hash in self._nodes

    def best_chain(self) -> list[PobBlock]:
        """Return the blocks of the heaviest chain, first to tip."""
        out: list[PobBlock] = []
        h: bytes | None = self._tip
        while h is not None:
            node = self._nodes[h]
            if node.block is not None:
                out.append(node.block)
            h = node.parent
        return out[::-1]

    def parent_of_round(self, block_hash: bytes | None = None) -> tuple[bytes, int]:
        """(hash, relative round) of the block to extend: the tip by default."""
        h = self._tip if block_hash is None else block_hash
        return h, self._nodes[h].round

    # -- λ for miners ----------------------------------------------------------------------------
    def evaluate(self, parent: bytes, ids_per_block: list[NDArray[np.uint8]]) -> NDArray[np.uint64]:
        """λ each candidate set of ids would earn on ``parent`` (0 if invalid), one batch call.

        An unknown id raises :class:`InvalidTransactionError`; other broken
        rules give λ = 0 (the candidate cannot win).
        """
        node = self._node(parent, "parent")
        rel = node.round + 1
        idx = [self.pool.indices(np.asarray(x, np.uint8).reshape(-1, 32)) for x in ids_per_block]
        m = len(idx)
        offsets = np.zeros(m + 1, dtype=np.int64)
        np.cumsum([len(x) for x in idx], out=offsets[1:])
        lam, _, _ = node.state.evaluate(
            np.full(m, rel, dtype=np.int64),
            np.full(m, self._base(rel), dtype=np.int64),
            offsets,
            np.concatenate(idx) if idx else np.zeros(0, np.int64),
        )
        return lam

    def best(self, parent: bytes, ids_per_block: list[NDArray[np.uint8]]) -> int:
        """Index of the winning candidate on ``parent``: the highest λ, ties to the first."""
        lam = self.evaluate(parent, ids_per_block)
        return int(np.argmax(lam))

    # -- adding blocks ---------------------------------------------------------------------------
    def add(self, block: PobBlock) -> bytes:
        """Validate ``block`` on its parent and insert it; returns its hash.

        Raises the typed error of the first broken rule (the chain is then
        unchanged). The tip moves to the heaviest chain.
        """
        h = block.hash()
        if h in self._nodes:
            return h
        hd = block.header
        node = self._nodes.get(hd.prev_hash)
        if node is None:
            raise InvalidBlockError(
                f"prev_hash = {hd.prev_hash.hex()}: unknown parent", "prev_hash", hd.prev_hash.hex()
            )
        if hd.chain_id != self.chain_id:
            raise InvalidBlockError("chain_id: another chain", "chain_id", hd.chain_id.hex())
        if hd.height != node.height + 1:
            raise InvalidBlockError(f"height = {hd.height}: expected {node.height + 1}", "height", hd.height)
        rel = hd.period - self.pool.first_round
        if rel != node.round + 1:
            raise InvalidBlockError(
                f"period = {hd.period}: expected {self.pool.first_round + node.round + 1}",
                "period",
                hd.period,
            )
        ids = np.ascontiguousarray(block.ids, dtype=np.uint8).reshape(-1, 32)
        if hd.n_tx != len(ids) or hd.tx_root != tx_root(ids):
            raise InvalidBlockError("tx_root or n_tx does not match the transactions", "tx_root", hd.n_tx)
        if not keys.verify(hd.miner, block.hash(), block.signature):
            raise InvalidSignatureError("signature does not verify", "signature", block.signature.hex())
        idx = self.pool.indices(ids)
        if not 0 <= block.lambda_fp < 2**64:
            raise InvalidBlockError("lambda must fit in 64 bits", "lambda", block.lambda_fp)
        # Rules 2–5 in the core: (λ, Θ) and the branch's state after the block, or the typed error.
        lam, _, state = node.state.extend(rel, self._base(rel), idx, block.lambda_fp)
        self._nodes[h] = _Node(block, hd.prev_hash, node.weight + lam, hd.height, rel, state)
        best = self._nodes[self._tip]
        new = self._nodes[h]
        if new.weight > best.weight or (new.weight == best.weight and h < self._tip):
            self._tip = h
        return h

    def _base(self, rel: int) -> int:
        if not 0 <= rel < len(self.pool.base_wh):
            raise InvalidBlockError(f"round {rel} is beyond the base load series", "period", rel)
        return int(self.pool.base_wh[rel])

    def _node(self, h: bytes, name: str) -> _Node:
        node = self._nodes.get(h)
        if node is None:
            raise InvalidBlockError(f"{name} = {h.hex()}: unknown block", name, h.hex())
        return node
