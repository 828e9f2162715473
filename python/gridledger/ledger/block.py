"""Block headers and blocks (SPEC §2): one block per market period.

The header is fixed width (193 bytes, layout in ``docs/ledger.md``); the
block hash is H(header) and the miner signs that hash. A block is its header,
the miner's signature and its transactions in order; the header's ``tx_root``
is the RFC 6962 root over the transaction ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from gridledger import _core
from gridledger.hashing import Algorithm

__all__ = ["Block", "Header", "tx_ids", "tx_root"]


@dataclass(frozen=True)
class Header:
    """A block header.

    Attributes
    ----------
    chain_id
        H(genesis record).
    height
        0 for the genesis, then 1, 2, … one per period.
    period
        Market period index: Unix time // period length.
    prev_hash
        Hash of the previous block's header.
    tx_root
        RFC 6962 root of the transaction ids.
    n_tx
        Number of transactions.
    miner
        Public key of the block's producer.
    next_winner
        Public key of the producer chosen for the next period.
    timestamp_ms
        Unix milliseconds; not before the end of the block's period.
    """

    chain_id: bytes
    height: int
    period: int
    prev_hash: bytes
    tx_root: bytes
    n_tx: int
    miner: bytes
    next_winner: bytes
    timestamp_ms: int

    def encode(self) -> bytes:
        """Return the canonical 193-byte header."""
        return _core.encode_header(
            self.chain_id,
            self.height,
            self.period,
            self.prev_hash,
            self.tx_root,
            self.n_tx,
            self.miner,
            self.next_winner,
            self.timestamp_ms,
        )

    @classmethod
    def decode(cls, data: bytes) -> Header:
        """Parse a header; raises InvalidBlockError on bad bytes."""
        return cls(**_core.decode_header(bytes(data)))

    def hash(self, algorithm: Algorithm = "blake3") -> bytes:
        """Return the block hash H(header)."""
        return _core.hash_one(self.encode(), algorithm)

    def with_(self, **changes: object) -> Header:
        """Return a copy with some fields changed (for building and for tests)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def _blob(txs: Sequence[bytes]) -> tuple[bytes, NDArray[np.int64]]:
    """``txs`` concatenated, with ``(n + 1,)`` offsets."""
    offsets = np.zeros(len(txs) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, txs), dtype=np.int64, count=len(txs)), out=offsets[1:])
    return b"".join(txs), offsets


def scan(
    txs: Sequence[bytes], algorithm: Algorithm = "blake3"
) -> tuple[NDArray[np.uint8], NDArray[np.uint8], bytes | None]:
    """One pass over whole encoded transactions, in one call into the core.

    Returns
    -------
    ids
        ``(n, 32)`` ids H(body).
    kinds
        ``(n,)`` kind codes: 0 Create, 1 Transfer, 2 Candidate, 3 Winner, 4 Evidence, 5 Losses.
    winner
        The winner named by the last Winner transaction with a non-zero
        winner (the next producer of an auction chain), or None.

    Raises
    ------
    InvalidTransactionError
        Naming ``txs[i]``, the first transaction that does not decode.
    """
    blob, offsets = _blob(txs)
    return _core.scan_txs(blob, offsets, algorithm)


def tx_ids(txs: Sequence[bytes], algorithm: Algorithm = "blake3") -> NDArray[np.uint8]:
    """Return the ids H(body) of whole encoded transactions, as an ``(n, 32)`` array."""
    return scan(txs, algorithm)[0]


def tx_root(ids: NDArray[np.uint8], algorithm: Algorithm = "blake3") -> bytes:
    """RFC 6962 root over transaction ids (an ``(n, 32)`` array)."""
    return _core.tx_root(np.ascontiguousarray(ids, dtype=np.uint8).reshape(-1, 32), algorithm)


@dataclass(frozen=True)
class Block:
    """A header, its miner's signature and the transactions in block order."""

    header: Header
    signature: bytes
    txs: tuple[bytes, ...]

    @property
    def height(self) -> int:
        """The block's height (the genesis is 0)."""
        return self.header.height

    @property
    def period(self) -> int:
        """The block's market period."""
        return self.header.period

    def tx_blob(self) -> tuple[bytes, NDArray[np.int64]]:
        """Return the transactions concatenated, with ``(n + 1,)`` offsets."""
        return _blob(self.txs)
