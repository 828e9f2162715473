"""An in-memory chain: the Rust chain state plus the blocks and proofs.

:class:`Chain` validates every block in one call into the core (header,
Merkle root, all signatures in one batch, UTXO rules) and changes nothing
when a block is rejected. Its block hashes form an append-only RFC 6962 log,
so a member can check a block against a published root with a short proof
and two roots against each other with a consistency proof.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gridledger import _core
from gridledger._shapes import BlockCheck, MemberStats
from gridledger._validate import check_bytes, check_index
from gridledger.errors import InvalidArgumentError
from gridledger.keys import SigningKey
from gridledger.ledger.block import Block, Header, scan, tx_root
from gridledger.ledger.genesis import Genesis

__all__ = ["BlockReceipt", "Chain"]


@dataclass(frozen=True)
class BlockReceipt:
    """What appending a block recorded.

    Attributes
    ----------
    block_hash
        H(header).
    ids
        ``(n, 32)`` transaction ids in block order.
    kinds
        ``(n,)`` 0 = Create, 1 = Transfer.
    outputs
        Columns of every new output: ``tx`` (index in block), ``index``,
        ``owner`` (key id), ``asset``, ``amount``, ``expires``.
    spent
        Columns of every spent output: ``tx_seq`` (global number of the
        transaction that created it) and ``index``.
    new_keys
        ``(k, 32)`` keys seen for the first time, in key-id order.
    first_tx_seq
        Global number of the block's first transaction.
    fees
        (energy Wh, votes) paid in but not out.
    signatures
        Signatures verified, the header's included.
    """

    block_hash: bytes
    ids: NDArray[np.uint8]
    kinds: NDArray[np.uint8]
    outputs: dict[str, NDArray[np.int64] | NDArray[np.uint64]]
    spent: dict[str, NDArray[np.int64]]
    new_keys: NDArray[np.uint8]
    first_tx_seq: int
    fees: tuple[int, int]
    signatures: int
    winner: bytes | None = None
    on_time: int = 0
    late: int = 0
    penalised: bool = False
    missed: int | None = None
    evidence: int = 0

    @classmethod
    def _from(cls, d: BlockCheck) -> BlockReceipt:
        outputs: dict[str, NDArray[np.int64] | NDArray[np.uint64]] = {
            "tx": d["out_tx"],
            "index": d["out_index"],
            "owner": d["out_owner"],
            "asset": d["out_asset"],
            "amount": d["out_amount"],
            "expires": d["out_expires"],
        }
        return cls(
            d["block_hash"],
            d["ids"],
            d["kinds"],
            outputs,
            {"tx_seq": d["spent_tx_seq"], "index": d["spent_index"]},
            d["new_keys"],
            d["first_tx_seq"],
            d["fees"],
            d["signatures"],
            d["winner"],
            d["on_time"],
            d["late"],
            d["penalised"],
            d["missed"],
            d["evidence"],
        )


class Chain:
    """A chain held in memory.

    Parameters
    ----------
    genesis
        The :class:`Genesis` (or its encoding).
    keep_blocks
        Keep every block in memory (for :meth:`block` and transaction
        proofs). :class:`~gridledger.ledger.ChainStore` keeps them on disk
        instead.
    """

    def __init__(self, genesis: Genesis | bytes, *, keep_blocks: bool = True) -> None:
        raw = genesis.encode() if isinstance(genesis, Genesis) else bytes(genesis)
        self._state = _core.ChainState(raw)
        self.genesis = Genesis.decode(raw)
        self._blocks: list[Block] | None = [self.genesis_block()] if keep_blocks else None

    # -- the tip -----------------------------------------------------------
    @property
    def algorithm(self) -> str:
        """The chain's hash algorithm (``blake3`` or ``sha256``)."""
        return self._state.algorithm

    @property
    def chain_id(self) -> bytes:
        """The 32-byte chain id (the genesis record's hash)."""
        return self._state.chain_id

    @property
    def chain_tag(self) -> bytes:
        """First 8 bytes of the chain id, carried by every transaction."""
        return self._state.chain_tag

    @property
    def height(self) -> int:
        """The height of the tip (0 before the first block)."""
        return self._state.height

    @property
    def period(self) -> int:
        """Period of the tip block; the next block is for ``period + 1``."""
        return self._state.period

    @property
    def tip(self) -> Header:
        """The tip's header."""
        return Header.decode(self._state.tip_header)

    @property
    def tip_hash(self) -> bytes:
        """The tip's block hash."""
        return self._state.tip_hash

    @property
    def n_tx(self) -> int:
        """Transactions on the chain."""
        return self._state.n_tx

    @property
    def next_miner(self) -> bytes:
        """The key that must produce the next block."""
        return self._state.next_miner

    def genesis_block(self) -> Block:
        """Block 0: the unsigned header derived from the genesis record."""
        g = self.genesis
        h = Header(
            chain_id=g.chain_id,
            height=0,
            period=g.first_period - 1,
            prev_hash=bytes(32),
            tx_root=tx_root(np.zeros((0, 32), np.uint8), g.algorithm),
            n_tx=0,
            miner=bytes(32),
            next_winner=g.producer(1),
            timestamp_ms=g.period_end_ms(g.first_period - 1),
        )
        return Block(h, bytes(64), ())

    # -- building and appending --------------------------------------------
    def next_header(
        self,
        ids: NDArray[np.uint8],
        *,
        timestamp_ms: int | None = None,
        miner: bytes | None = None,
        next_winner: bytes | None = None,
    ) -> Header:
        """Return the header the next block must carry for transactions with these ids.

        ``miner`` defaults to the chosen producer; ``next_winner`` to round
        robin's choice, or on an auction chain to the no-candidate draw (pass
        the auction's winner when the block holds a Winner transaction).
        The timestamp defaults to the end of the period (plus ``rank × grace``
        for a fallback producer).
        """
        ids = np.ascontiguousarray(ids, dtype=np.uint8).reshape(-1, 32)
        g = self.genesis
        period = self.period + 1
        auction = g.consensus.producer_rule == "auction"
        miner = self.next_miner if miner is None else miner
        if next_winner is None:
            next_winner = self.no_candidate_winner() if auction else g.producer(self.height + 2)
        if timestamp_ms is None:
            producers = self.producers() if auction else [self.next_miner]
            rank = producers.index(miner) if miner in producers else 0
            timestamp_ms = g.period_end_ms(period) + round(rank * g.consensus.grace_s * 1000)
        return Header(
            chain_id=self.chain_id,
            height=self.height + 1,
            period=period,
            prev_hash=self.tip_hash,
            tx_root=tx_root(ids, g.algorithm),
            n_tx=len(ids),
            miner=miner,
            next_winner=next_winner,
            timestamp_ms=timestamp_ms,
        )

    def seal(
        self,
        txs: Sequence[bytes],
        miner: SigningKey,
        *,
        timestamp_ms: int | None = None,
        next_winner: bytes | None = None,
    ) -> Block:
        """Return the next block of ``txs`` (whole encoded transactions), signed by ``miner``.

        On an auction chain the next producer is read from the block's Winner
        transaction (or the no-candidate draw) unless ``next_winner`` is given.
        """
        txs = tuple(bytes(t) for t in txs)
        alg = self.genesis.algorithm
        ids, _, winner = scan(txs, alg)
        if next_winner is None and self.genesis.consensus.producer_rule == "auction":
            next_winner = winner
        header = self.next_header(
            ids, timestamp_ms=timestamp_ms, miner=miner.public_key, next_winner=next_winner
        )
        return Block(header, miner.sign(header.hash(alg)), txs)

    # -- the auction (SPEC §3) -------------------------------------------------
    def producers(self) -> list[bytes]:
        """Who may produce the next block: the chosen producer, then the fallbacks in order."""
        return [bytes(k) for k in self._state.producers()]

    def auction(
        self, candidates: Sequence[bytes], tokens: Sequence[int]
    ) -> tuple[bytes | None, NDArray[np.float64]]:
        """Return the next block's auction among on-time offers: (winner, each offer's wealth W)."""
        keys = np.frombuffer(b"".join(candidates), dtype=np.uint8).reshape(-1, 32)
        return self._state.auction(keys, np.asarray(tokens, dtype=np.uint64))

    def no_candidate_winner(self) -> bytes:
        """Return the next producer when no candidacy is on time (equal-weight draw over all members)."""
        w = self._state.no_candidate_winner()
        return self.genesis.producer(1) if w is None else w

    def member_stats(self) -> MemberStats:
        """Per member (genesis order): last_period (-1 never), made, penalties, strikes, barred."""
        return self._state.member_stats()

    def copy(self) -> Chain:
        """Return an independent copy of the state (blocks are shared, not copied)."""
        other = Chain.__new__(Chain)
        other._state = self._state.copy()
        other.genesis = self.genesis
        other._blocks = None if self._blocks is None else list(self._blocks)
        return other

    def check(self, block: Block) -> BlockReceipt:
        """Validate ``block`` as the next one without appending it.

        The accepted block is held until :meth:`commit` (two-phase append:
        validate, write it elsewhere, then commit).
        """
        blob, offsets = block.tx_blob()
        return self.check_raw(block.header.encode(), block.signature, blob, offsets)

    def check_raw(
        self, header: bytes, signature: bytes, blob: bytes, offsets: NDArray[np.int64]
    ) -> BlockReceipt:
        """:meth:`check` on already encoded parts."""
        return BlockReceipt._from(self._state.check(header, signature, blob, offsets))

    def commit(self, receipt: BlockReceipt, block: Block | None = None) -> None:
        """Append the block the last :meth:`check` accepted.

        A chain that keeps its blocks needs ``block``, the one whose hash the
        receipt holds. Everything is checked before the state moves: on an
        error nothing is committed and the accepted block stays pending.

        Raises
        ------
        InvalidArgumentError
            ``block`` missing on a chain that keeps blocks, or not the
            receipt's block; ``block_hash`` when the receipt is not the last
            block :meth:`check` accepted.
        """
        if self._blocks is not None:
            if block is None:
                raise InvalidArgumentError("a chain that keeps blocks needs the block", "block", None)
            got = block.header.hash(self.genesis.algorithm)
            if got != receipt.block_hash:
                raise InvalidArgumentError(
                    f"block {got.hex()[:16]}… is not the receipt's block {receipt.block_hash.hex()[:16]}…",
                    "block",
                    got.hex(),
                )
        self._state.commit(receipt.block_hash)
        if self._blocks is not None and block is not None:
            self._blocks.append(block)

    def append(self, block: Block) -> BlockReceipt:
        """Validate and append ``block``; on any error the chain is unchanged.

        Raises
        ------
        InvalidBlockError, InvalidSignatureError, DoubleSpendError,
        InsufficientFundsError, NotAuthorisedError, InvalidTransactionError
            naming the field (``header.prev_hash``, ``tx[3].inputs[0]``) and value.
        """
        blob, offsets = block.tx_blob()
        return self.append_raw(block.header.encode(), block.signature, blob, offsets, block)

    def append_raw(
        self,
        header: bytes,
        signature: bytes,
        blob: bytes,
        offsets: NDArray[np.int64],
        block: Block | None = None,
    ) -> BlockReceipt:
        """:meth:`append` on already encoded parts (the batch path)."""
        if self._blocks is None:
            return BlockReceipt._from(self._state.append(header, signature, blob, offsets))
        # Keeping blocks: validate, build the block, then move the state, so nothing
        # after the state's change can fail.
        receipt = self.check_raw(header, signature, blob, offsets)
        if block is None:
            txs = tuple(blob[a:b] for a, b in itertools.pairwise(offsets.tolist()))
            block = Block(Header.decode(header), signature, txs)
        self.commit(receipt, block)
        return receipt

    # -- reading -------------------------------------------------------------
    def block(self, height: int) -> Block:
        """Block ``height`` (only when the chain keeps its blocks)."""
        if self._blocks is None:
            raise InvalidArgumentError("this chain keeps no blocks in memory", "height", height)
        height = check_index("height", height)
        if not 0 <= height < len(self._blocks):
            raise InvalidArgumentError(f"height must be in 0..{len(self._blocks) - 1}", "height", height)
        return self._blocks[height]

    def balance(self, key: bytes, period: int | None = None) -> tuple[int, int]:
        """Unspent (energy Wh, votes valid at ``period``, default the tip's) of ``key``."""
        key = check_bytes("key", key, 32)
        return self._state.balance(key, self.period if period is None else check_index("period", period))

    def output(self, txid: bytes, index: int) -> tuple[bytes, int, int, int] | None:
        """Return the unspent output (owner, asset, amount, expires) at (txid, index), or None."""
        return self._state.output(check_bytes("txid", txid, 32), check_index("index", index))

    def unspent(self, key: bytes) -> list[tuple[bytes, int, int, int, int]]:
        """Every unspent output owned by ``key``, in outpoint order.

        Returns
        -------
        list of (txid, index, asset, amount, expires)
            ``asset`` 0 = energy (Wh), 1 = voting tokens; ``expires`` is the
            last period in which a voting token may be spent.
        """
        return self._state.unspent(key)

    def device_seq(self) -> NDArray[np.uint64]:
        """Return the last quantum number of each device, in genesis order."""
        return self._state.device_seq()

    def keys(self, start: int = 0) -> NDArray[np.uint8]:
        """Keys by key id (the VPP is 0, then members, devices, then any new owner)."""
        return self._state.keys(check_index("start", start))

    # -- the Merkle log of block hashes --------------------------------------
    def log_root(self, size: int | None = None) -> bytes:
        """Root of the log over blocks ``0..size-1`` (all by default)."""
        return self._state.log_root(None if size is None else check_index("size", size))

    def block_proof(self, height: int, size: int | None = None) -> list[bytes]:
        """Inclusion proof of block ``height`` in the log of ``size`` blocks."""
        size = None if size is None else check_index("size", size)
        return self._state.block_proof(check_index("height", height), size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Proof that the log of ``old_size`` blocks is a prefix of the log of ``new_size``."""
        new_size = None if new_size is None else check_index("new_size", new_size)
        return self._state.consistency_proof(check_index("old_size", old_size), new_size)
