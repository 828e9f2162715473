"""Stub of the native module ``gridledger._core`` (Rust, PyO3).

Arguments are checked in the core; failures raise the classes of
``gridledger.errors`` naming the field and value.
"""

from typing import final

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "MerkleTree",
    "SigningKey",
    "__version__",
    "gunzip",
    "hash_one",
    "hash_ragged",
    "hash_rows",
    "leaf_hash",
    "parse_table",
    "resample_series",
    "verify",
    "verify_batch",
    "verify_consistency",
    "verify_inclusion",
    "verify_inclusion_batch",
    "wide_to_long",
]
__version__: str

def hash_one(data: bytes, algorithm: str = "blake3") -> bytes: ...
def hash_rows(records: NDArray[np.uint8], algorithm: str = "blake3") -> NDArray[np.uint8]: ...
def hash_ragged(data: bytes, offsets_: NDArray[np.int64], algorithm: str = "blake3") -> NDArray[np.uint8]: ...

@final
class MerkleTree:
    def __new__(cls, algorithm: str = "sha256") -> MerkleTree: ...
    @staticmethod
    def from_rows(records: NDArray[np.uint8], algorithm: str = "sha256") -> MerkleTree: ...
    @staticmethod
    def from_ragged(data: bytes, offsets_: NDArray[np.int64], algorithm: str = "sha256") -> MerkleTree: ...
    @staticmethod
    def from_leaf_hashes(leaf_hashes: NDArray[np.uint8], algorithm: str = "sha256") -> MerkleTree: ...
    @property
    def algorithm(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def nbytes(self) -> int: ...
    def root(self) -> bytes: ...
    def root_at(self, size: int) -> bytes: ...
    def leaf_hash(self, index: int) -> bytes: ...
    def append(self, data: bytes) -> int: ...
    def append_leaf_hash(self, leaf_hash: bytes) -> int: ...
    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]: ...
    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]: ...
    def inclusion_proofs(
        self, indices: NDArray[np.uint64], size: int | None = None
    ) -> tuple[NDArray[np.uint8], NDArray[np.int64]]: ...
    def __len__(self) -> int: ...

def leaf_hash(data: bytes, algorithm: str = "sha256") -> bytes: ...
def verify_inclusion(
    leaf_hash: bytes,
    index: int,
    size: int,
    proof: list[bytes],
    root: bytes,
    algorithm: str = "sha256",
) -> bool: ...
def verify_consistency(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: list[bytes],
    algorithm: str = "sha256",
) -> bool: ...
def verify_inclusion_batch(
    leaf_hashes: NDArray[np.uint8],
    indices: NDArray[np.uint64],
    size: int,
    proof_hashes: NDArray[np.uint8],
    proof_offsets: NDArray[np.int64],
    root: bytes,
    algorithm: str = "sha256",
) -> NDArray[np.bool_]: ...

@final
class SigningKey:
    def __new__(cls, seed: bytes) -> SigningKey: ...
    @property
    def public_key(self) -> bytes: ...
    def seed(self) -> bytes: ...
    def sign(self, message: bytes) -> bytes: ...
    def sign_many(self, data: bytes, message_offsets: NDArray[np.int64]) -> NDArray[np.uint8]: ...

def verify(public_key: bytes, message: bytes, signature: bytes) -> bool: ...
def verify_batch(
    public_keys: NDArray[np.uint8],
    messages: bytes,
    message_offsets: NDArray[np.int64],
    signatures: NDArray[np.uint8],
) -> NDArray[np.bool_]: ...

# Data: gunzip, the CSV body parser and the resampler (rust/src/table.rs, series.rs).
def gunzip(data: bytes) -> bytes | None:
    """A whole single-member gzip file inflated (libdeflate); None for anything else."""

def parse_table(
    body: bytes,
    *,
    source: str,
    first_line: int,
    columns: list[str],
    time_column: int,
    time_format: str,
    value_columns: list[int],
    skip: int = 0,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """(time µs, values (len(value_columns), rows) with NaN missing); raises BadDataError."""

def wide_to_long(
    time_us: NDArray[np.int64],
    values: NDArray[np.float64],
    order: list[int],
    *,
    trim: bool,
    keep: NDArray[np.bool_] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Columns ``order`` of a (columns, rows) table as concatenated series: (time µs, values, lengths)."""

def resample_series(
    time_us: NDArray[np.int64],
    values: NDArray[np.float64],
    offsets_: NDArray[np.int64],
    labels: list[str],
    *,
    target_min: int | None = None,
    method: str = "step",
    fill_limit_min: int | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], bool]:
    """(time µs, values, offsets, native minutes per series, changed)."""
