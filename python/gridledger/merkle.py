"""RFC 6962 Merkle trees with inclusion and consistency proofs.

Hashing follows RFC 6962 / RFC 9162: leaf = H(0x00 ‖ data), node =
H(0x01 ‖ left ‖ right), a tree of n leaves splits at the largest power of two
below n, and the empty tree's root is H(""). With SHA-256 (the default here,
as in the RFC) roots and proofs are byte-for-byte those of RFC 6962; BLAKE3
gives the same structure with the chain's default hash.

A wrong proof makes a ``verify_*`` function return ``False``; a malformed
argument (an index ≥ size, old_size > new_size, a hash that is not 32 bytes)
raises :class:`~gridledger.errors.InvalidArgumentError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gridledger import _core
from gridledger._buffers import BytesLike, as_bytes, ragged, rows
from gridledger.errors import InvalidArgumentError
from gridledger.hashing import Algorithm

__all__ = [
    "MerkleTree",
    "ProofBatch",
    "leaf_hash",
    "verify_consistency",
    "verify_inclusion",
    "verify_inclusion_batch",
]


@dataclass(frozen=True)
class ProofBatch:
    """Many inclusion proofs in two arrays.

    Proof ``i`` is ``hashes[offsets[i]:offsets[i + 1]]``, leaf-level sibling first.

    Attributes
    ----------
    indices
        ``(n,)`` uint64 leaf indices the proofs are for.
    size
        Tree size (leaves) the proofs are against.
    hashes
        ``(m, 32)`` uint8 array of all proof hashes.
    offsets
        ``(n + 1,)`` int64 array of proof boundaries.
    """

    indices: NDArray[np.uint64]
    size: int
    hashes: NDArray[np.uint8]
    offsets: NDArray[np.int64]

    def __len__(self) -> int:
        """Return the number of proofs."""
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> list[bytes]:
        """Return proof ``i`` as its sibling hashes, leaf level first."""
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        return [bytes(h) for h in self.hashes[a:b]]


class MerkleTree:
    """An append-only RFC 6962 Merkle tree.

    Parameters
    ----------
    leaves
        Leaf data: a sequence of bytes-like records or an ``(n, k)`` uint8
        array (one leaf per row). ``None`` or empty gives the empty tree.
    algorithm
        ``"sha256"`` (default, RFC 6962) or ``"blake3"``.

    Notes
    -----
    The tree keeps every complete subtree (about 64 bytes per leaf), so roots
    at older sizes, proofs and appends each cost O(log n) hashes.
    """

    __slots__ = ("_tree",)

    def __init__(
        self,
        leaves: Iterable[BytesLike] | NDArray[np.uint8] | None = None,
        algorithm: Algorithm = "sha256",
    ) -> None:
        if leaves is None:
            self._tree = _core.MerkleTree(algorithm)
        elif isinstance(leaves, np.ndarray):
            self._tree = _core.MerkleTree.from_rows(rows("leaves", leaves), algorithm)
        else:
            flat, offsets = ragged("leaves", list(leaves))
            self._tree = _core.MerkleTree.from_ragged(flat, offsets, algorithm)

    @classmethod
    def from_leaf_hashes(
        cls, leaf_hashes: Sequence[bytes] | NDArray[np.uint8], algorithm: Algorithm = "sha256"
    ) -> MerkleTree:
        """Build from precomputed leaf hashes (each H(0x00 ‖ data), 32 bytes)."""
        tree = cls.__new__(cls)
        tree._tree = _core.MerkleTree.from_leaf_hashes(rows("leaf_hashes", leaf_hashes, 32), algorithm)
        return tree

    @property
    def algorithm(self) -> str:
        """The hash function, ``"sha256"`` or ``"blake3"``."""
        return self._tree.algorithm

    @property
    def root(self) -> bytes:
        """The current root (32 bytes)."""
        return self._tree.root()

    @property
    def size(self) -> int:
        """Number of leaves."""
        return self._tree.size

    @property
    def nbytes(self) -> int:
        """Bytes held by the tree's stored hashes."""
        return self._tree.nbytes

    def __len__(self) -> int:
        """Return the number of leaves."""
        return self._tree.size

    def __repr__(self) -> str:
        """Show the size, the algorithm and the root."""
        return f"MerkleTree(size={self.size}, algorithm={self.algorithm!r}, root={self.root.hex()})"

    def root_at(self, size: int) -> bytes:
        """Return the root the tree had when it held ``size`` leaves."""
        return self._tree.root_at(_count("size", size))

    def leaf_hash(self, index: int) -> bytes:
        """Return the stored leaf hash at ``index``."""
        return self._tree.leaf_hash(_count("index", index))

    def append(self, leaf: BytesLike) -> int:
        """Append one leaf (raw data); returns its index."""
        return self._tree.append(as_bytes("leaf", leaf))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Audit path of leaf ``index`` in the tree of ``size`` leaves (default: now)."""
        return self._tree.inclusion_proof(
            _count("index", index), None if size is None else _count("size", size)
        )

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Proof that the tree at ``old_size`` is a prefix of the tree at ``new_size``."""
        return self._tree.consistency_proof(
            _count("old_size", old_size), None if new_size is None else _count("new_size", new_size)
        )

    def inclusion_proofs(
        self, indices: Sequence[int] | NDArray[np.integer], size: int | None = None
    ) -> ProofBatch:
        """Inclusion proofs of many leaves in one call (parallel in the core)."""
        idx = _indices(indices)
        size = self.size if size is None else _count("size", size)
        hashes, offsets = self._tree.inclusion_proofs(idx, size)
        return ProofBatch(idx, size, hashes, offsets)


def _count(field: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InvalidArgumentError(f"{field} must be an int, got {type(value).__name__}", field, value)
    if not 0 <= value < 1 << 64:
        raise InvalidArgumentError(f"{field} must lie in 0..2^64-1, got {value}", field, value)
    return int(value)


def _indices(indices: Sequence[int] | NDArray[np.integer]) -> NDArray[np.uint64]:
    arr = np.asarray(indices)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise InvalidArgumentError("indices must be a 1-D sequence of ints", "indices", arr.dtype)
    if arr.size and arr.min() < 0:
        i = int(np.argmin(arr))
        raise InvalidArgumentError(f"indices[{i}] must be ≥ 0", f"indices[{i}]", int(arr[i]))
    return np.ascontiguousarray(arr, dtype=np.uint64)


def _proof(proof: Sequence[bytes]) -> list[bytes]:
    """Proof hashes as bytes; the field name is built only for an item that needs converting."""
    return [p if type(p) is bytes else as_bytes(f"proof[{i}]", p) for i, p in enumerate(proof)]


def leaf_hash(data: BytesLike, algorithm: Algorithm = "sha256") -> bytes:
    """H(0x00 ‖ data)."""
    return _core.leaf_hash(as_bytes("data", data), algorithm)


def verify_inclusion(
    leaf_hash: bytes,
    index: int,
    size: int,
    proof: Sequence[bytes],
    root: bytes,
    algorithm: Algorithm = "sha256",
) -> bool:
    """Check an inclusion proof (RFC 9162 §2.1.3.2).

    Returns ``False`` for a proof that does not lead to ``root``; raises
    :class:`~gridledger.errors.InvalidArgumentError` when ``index ≥ size`` or a
    hash is not 32 bytes.
    """
    return _core.verify_inclusion(
        as_bytes("leaf_hash", leaf_hash),
        _count("index", index),
        _count("size", size),
        _proof(proof),
        as_bytes("root", root),
        algorithm,
    )


def verify_consistency(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
    algorithm: Algorithm = "sha256",
) -> bool:
    """Check a consistency proof (RFC 9162 §2.1.4.2).

    Equal sizes need an empty proof and equal roots; the empty tree (size 0)
    is consistent with any tree given an empty proof and ``old_root = H("")``.
    Raises :class:`~gridledger.errors.InvalidArgumentError` when
    ``old_size > new_size`` or a hash is not 32 bytes.
    """
    return _core.verify_consistency(
        _count("old_size", old_size),
        _count("new_size", new_size),
        as_bytes("old_root", old_root),
        as_bytes("new_root", new_root),
        _proof(proof),
        algorithm,
    )


def verify_inclusion_batch(
    leaf_hashes: Sequence[bytes] | NDArray[np.uint8],
    proofs: ProofBatch,
    root: bytes,
    algorithm: Algorithm = "sha256",
) -> NDArray[np.bool_]:
    """Check many inclusion proofs against one root in one call.

    Returns an ``(n,)`` bool array; entry ``i`` equals
    ``verify_inclusion(leaf_hashes[i], proofs.indices[i], proofs.size, proofs[i], root)``.
    """
    return _core.verify_inclusion_batch(
        rows("leaf_hashes", leaf_hashes, 32),
        proofs.indices,
        _count("proofs.size", proofs.size),
        proofs.hashes,
        proofs.offsets,
        as_bytes("root", root),
        algorithm,
    )
