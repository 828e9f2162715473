"""BLAKE3 and SHA-256, one input at a time or a whole batch in one call.

The chain's hash function is BLAKE3 by default and SHA-256 where a chain asks
for interoperability (SPEC §2). Batches go to the Rust core in one call, which
releases the GIL and spreads large batches over every core.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from gridledger import _core
from gridledger._buffers import BytesLike, as_bytes, ragged, rows

__all__ = ["Algorithm", "blake3", "hash_many", "hash_one", "sha256"]

Algorithm = Literal["blake3", "sha256"]


def blake3(data: BytesLike) -> bytes:
    """BLAKE3 digest of ``data`` (32 bytes)."""
    return _core.hash_one(as_bytes("data", data), "blake3")


def sha256(data: BytesLike) -> bytes:
    """SHA-256 digest of ``data`` (32 bytes)."""
    return _core.hash_one(as_bytes("data", data), "sha256")


def hash_one(data: BytesLike, algorithm: Algorithm = "blake3") -> bytes:
    """Digest of ``data`` under ``algorithm`` (a chain's hash function), 32 bytes."""
    return _core.hash_one(as_bytes("data", data), algorithm)


def hash_many(
    items: Sequence[BytesLike] | NDArray[np.uint8], algorithm: Algorithm = "blake3"
) -> NDArray[np.uint8]:
    """Hash every record of a batch.

    Parameters
    ----------
    items
        A sequence of bytes-like records (any lengths), or an ``(n, k)`` uint8
        array whose rows are the records. A non-contiguous array is copied.
    algorithm
        ``"blake3"`` (default) or ``"sha256"``.

    Returns
    -------
    numpy.ndarray
        ``(n, 32)`` uint8 array; row ``i`` is the digest of record ``i``.

    Raises
    ------
    InvalidArgumentError
        An item that is not bytes-like, or an array that is not 2-D uint8.
    BadConfigurationError
        An unknown algorithm.
    """
    if isinstance(items, np.ndarray):
        return _core.hash_rows(rows("items", items), algorithm)
    flat, offsets = ragged("items", items)
    return _core.hash_ragged(flat, offsets, algorithm)
