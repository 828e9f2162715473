"""BLAKE3 many lanes at a time: fixed-width batches and BLAKE3 Merkle trees equal the one-at-a-time path.

An ``(n, k)`` array with ``k ≤ 1024`` (one BLAKE3 chunk) is hashed 4, 8 or 16 records at once, one
per SIMD lane; a list of bytes (ragged records) and single hashes go one at a time. The Merkle
tree's BLAKE3 leaves (fixed width) and nodes take the lanes too, behind RFC 6962's 0x00 / 0x01.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from conftest import load_json
from gridledger import hashing, merkle
from hypothesis import given, settings
from hypothesis import strategies as st

BLAKE3 = load_json("blake3_test_vectors.json")
ONE_CHUNK = [c for c in BLAKE3["cases"] if c["input_len"] <= 1024]


def _input(n: int) -> bytes:
    return bytes(i % 251 for i in range(n))


def test_the_one_chunk_vectors_are_there() -> None:
    assert [c["input_len"] for c in ONE_CHUNK] == [0, 1, 1023, 1024]


@pytest.mark.parametrize("count", [1, 3, 4, 15, 16, 17, 37, 5000])
@pytest.mark.parametrize("case", ONE_CHUNK, ids=lambda c: f"len{c['input_len']}")
def test_official_vectors_in_every_lane(case: dict[str, object], count: int) -> None:
    n = int(str(case["input_len"]))
    arr = np.tile(np.frombuffer(_input(n), dtype=np.uint8), (count, 1)).reshape(count, n)
    want = bytes.fromhex(str(case["hash"]))[:32]
    got = hashing.hash_many(arr)
    assert got.shape == (count, 32)
    assert all(bytes(r) == want for r in got)


def _scalar(arr: np.ndarray) -> np.ndarray:
    """The one-at-a-time path: the same records as ragged bytes."""
    return hashing.hash_many([r.tobytes() for r in arr])


def test_every_width_up_to_one_chunk() -> None:
    rng = np.random.default_rng(1024)
    for width in range(1025):
        count = (1, 2, 3, 5, 8, 13, 16, 19, 33, 35)[width % 10]
        arr = rng.integers(0, 256, size=(count, width), dtype=np.uint8)
        np.testing.assert_array_equal(hashing.hash_many(arr), _scalar(arr), err_msg=f"width {width}")


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 1100), st.integers(0, 70), st.integers(0, 2**32 - 1))
def test_random_batches_equal_single_hashes(width: int, count: int, seed: int) -> None:
    arr = np.random.default_rng(seed).integers(0, 256, size=(count, width), dtype=np.uint8)
    got = hashing.hash_many(arr)
    assert [bytes(r) for r in got] == [hashing.blake3(r.tobytes()) for r in arr]


def test_a_parallel_batch_not_a_multiple_of_any_lane_width() -> None:
    arr = np.random.default_rng(7).integers(0, 256, size=(3 * 4096 + 13, 64), dtype=np.uint8)
    np.testing.assert_array_equal(hashing.hash_many(arr), _scalar(arr))


def _root(leaves: list[bytes], h: Callable[[bytes], bytes]) -> bytes:
    """MTH by RFC 6962's recursion, with ``h`` the hash function."""
    if not leaves:
        return h(b"")
    if len(leaves) == 1:
        return h(b"\x00" + leaves[0])
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return h(b"\x01" + _root(leaves[:k], h) + _root(leaves[k:], h))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 1023), st.integers(0, 70), st.integers(0, 2**32 - 1))
def test_blake3_tree_of_rows_equals_the_rfc_recursion(width: int, count: int, seed: int) -> None:
    arr = np.random.default_rng(seed).integers(0, 256, size=(count, width), dtype=np.uint8)
    rows = [r.tobytes() for r in arr]
    tree = merkle.MerkleTree(arr, algorithm="blake3")
    assert tree.root == _root(rows, hashing.blake3)
    assert tree.root == merkle.MerkleTree(rows, algorithm="blake3").root
    for i in range(count):
        assert tree.leaf_hash(i) == merkle.leaf_hash(rows[i], "blake3")


@pytest.mark.parametrize("algorithm", ["blake3", "sha256"])
@pytest.mark.parametrize("count", [2047, 2048, 2049, 6001, 3 * 4096 + 5])
def test_large_trees_cross_the_build_blocks(algorithm: str, count: int) -> None:
    """Sizes around the build's blocks of 2048 leaves: root, older roots and proofs agree."""
    h: Callable[[bytes], bytes] = hashing.blake3 if algorithm == "blake3" else hashing.sha256
    arr = np.random.default_rng(count).integers(0, 256, size=(count, 40), dtype=np.uint8)
    rows = [r.tobytes() for r in arr]
    tree = merkle.MerkleTree(arr, algorithm=algorithm)  # type: ignore[arg-type]
    assert tree.root == _root(rows, h)
    assert tree.root == merkle.MerkleTree(rows, algorithm=algorithm).root  # type: ignore[arg-type]
    for size in {1, 2047, 2048, count - 1} & set(range(count + 1)):
        assert tree.root_at(size) == _root(rows[:size], h)
    for i in {0, 2047, 2048, count - 1} & set(range(count)):
        proof = tree.inclusion_proof(i)
        assert merkle.verify_inclusion(tree.leaf_hash(i), i, count, proof, tree.root, algorithm)  # type: ignore[arg-type]
