"""gridledger: blockchain-backed peer-to-peer energy exchange for energy communities.

The hot paths (hashing, Merkle trees and proofs, Ed25519 signatures, block
validation, data parsing) live in the Rust core ``gridledger._core`` and are
called with whole batches.
"""

from __future__ import annotations

from gridledger import community, data, errors, hashing, keys, ledger, merkle, meters
from gridledger._core import __version__
from gridledger.errors import GridLedgerError

__all__ = [
    "GridLedgerError",
    "__version__",
    "community",
    "data",
    "errors",
    "hashing",
    "keys",
    "ledger",
    "merkle",
    "meters",
]
