"""Properties of Merkle trees for any shape, in both hash functions."""

from __future__ import annotations

import numpy as np
import pytest
from gridledger import merkle
from gridledger.errors import BadConfigurationError, InvalidArgumentError
from hypothesis import given
from hypothesis import strategies as st

ALGS = st.sampled_from(["sha256", "blake3"])


def _flip(b: bytes, bit: int) -> bytes:
    arr = bytearray(b)
    arr[bit // 8 % len(arr)] ^= 1 << (bit % 8)
    return bytes(arr)


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[list[bytes], int, str]:
    leaves = draw(st.lists(st.binary(max_size=40), min_size=1, max_size=200))
    index = draw(st.integers(0, len(leaves) - 1))
    return leaves, index, draw(ALGS)


@given(tree_and_index(), st.integers(0, 255), st.data())
def test_any_proof_verifies_and_any_bit_flip_fails(
    case: tuple[list[bytes], int, str], bit: int, data: st.DataObject
) -> None:
    leaves, index, alg = case
    tree = merkle.MerkleTree(leaves, algorithm=alg)  # type: ignore[arg-type]
    leaf = merkle.leaf_hash(leaves[index], alg)  # type: ignore[arg-type]
    assert leaf == tree.leaf_hash(index)
    proof = tree.inclusion_proof(index)
    n = len(leaves)
    assert merkle.verify_inclusion(leaf, index, n, proof, tree.root, alg)  # type: ignore[arg-type]
    assert not merkle.verify_inclusion(_flip(leaf, bit), index, n, proof, tree.root, alg)  # type: ignore[arg-type]
    assert not merkle.verify_inclusion(leaf, index, n, proof, _flip(tree.root, bit), alg)  # type: ignore[arg-type]
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:k], _flip(proof[k], bit), *proof[k + 1 :]]
        assert not merkle.verify_inclusion(leaf, index, n, bad, tree.root, alg)  # type: ignore[arg-type]


@pytest.mark.parametrize("alg", ["sha256", "blake3"])
def test_consistency_for_every_m_up_to_64(alg: str) -> None:
    leaves = [f"period {i}".encode() for i in range(64)]
    full = merkle.MerkleTree(leaves, algorithm=alg)  # type: ignore[arg-type]
    for n in range(65):
        new_root = full.root_at(n)
        for m in range(n + 1):
            old_root = full.root_at(m)
            proof = full.consistency_proof(m, n)
            assert merkle.verify_consistency(m, n, old_root, new_root, proof, alg)  # type: ignore[arg-type]
            if m == 0:
                continue  # the empty tree is a prefix of every tree
            assert not merkle.verify_consistency(m, n, _flip(old_root, m), new_root, proof, alg)  # type: ignore[arg-type]
            assert not merkle.verify_consistency(m, n, old_root, _flip(new_root, n), proof, alg)  # type: ignore[arg-type]
            if proof:
                bad = [_flip(proof[0], 3), *proof[1:]]
                assert not merkle.verify_consistency(m, n, old_root, new_root, bad, alg)  # type: ignore[arg-type]


@given(st.lists(st.binary(max_size=16), max_size=150), ALGS)
def test_append_build_and_leaf_hashes_agree(leaves: list[bytes], alg: str) -> None:
    built = merkle.MerkleTree(leaves, algorithm=alg)  # type: ignore[arg-type]
    appended = merkle.MerkleTree(algorithm=alg)  # type: ignore[arg-type]
    for leaf in leaves:
        appended.append(leaf)
    from_hashes = merkle.MerkleTree.from_leaf_hashes(
        [merkle.leaf_hash(x, alg) for x in leaves],  # type: ignore[arg-type]
        alg,  # type: ignore[arg-type]
    )
    assert built.root == appended.root == from_hashes.root
    assert len(built) == built.size == len(leaves)


@given(st.integers(1, 300), st.lists(st.integers(0, 10**6), min_size=1, max_size=40), ALGS)
def test_batch_proofs_equal_single_proofs(n: int, raw: list[int], alg: str) -> None:
    arr = np.arange(n * 8, dtype=np.uint8).reshape(n, 8)
    tree = merkle.MerkleTree(arr, algorithm=alg)  # type: ignore[arg-type]
    indices = [i % n for i in raw]
    batch = tree.inclusion_proofs(indices)
    assert len(batch) == len(indices)
    leaf_hashes = [tree.leaf_hash(i) for i in indices]
    for j, i in enumerate(indices):
        assert batch[j] == tree.inclusion_proof(i)
    ok = merkle.verify_inclusion_batch(leaf_hashes, batch, tree.root, alg)  # type: ignore[arg-type]
    assert ok.dtype == np.bool_ and ok.all()
    wrong = [leaf_hashes[-1], *leaf_hashes[:-1]]
    got = merkle.verify_inclusion_batch(wrong, batch, tree.root, alg)  # type: ignore[arg-type]
    want = [
        merkle.verify_inclusion(h, i, n, batch[j], tree.root, alg)  # type: ignore[arg-type]
        for j, (h, i) in enumerate(zip(wrong, indices, strict=True))
    ]
    assert got.tolist() == want


def test_proofs_against_older_sizes() -> None:
    tree = merkle.MerkleTree([bytes([i]) for i in range(37)])
    for size in range(1, 38):
        for i in range(size):
            p = tree.inclusion_proof(i, size)
            assert merkle.verify_inclusion(tree.leaf_hash(i), i, size, p, tree.root_at(size))


def test_malformed_arguments_raise_typed_errors() -> None:
    tree = merkle.MerkleTree([b"a", b"b", b"c"])
    root, leaf = tree.root, tree.leaf_hash(0)
    with pytest.raises(InvalidArgumentError) as e:
        tree.inclusion_proof(3)
    assert e.value.field == "index" and e.value.value == "3"
    with pytest.raises(InvalidArgumentError):
        tree.inclusion_proof(0, 4)
    with pytest.raises(InvalidArgumentError):
        tree.consistency_proof(3, 2)
    with pytest.raises(InvalidArgumentError):
        tree.inclusion_proof(-1)
    with pytest.raises(InvalidArgumentError):
        merkle.verify_inclusion(leaf, 3, 3, [], root)
    with pytest.raises(InvalidArgumentError):
        merkle.verify_consistency(4, 3, root, root, [])
    with pytest.raises(InvalidArgumentError) as e2:
        merkle.verify_inclusion(leaf, 0, 3, [root, root[:31]], root)
    assert e2.value.field == "proof[1]"
    with pytest.raises(InvalidArgumentError) as e3:
        merkle.verify_inclusion(leaf[:5], 0, 3, [], root)
    assert e3.value.field == "leaf_hash"
    with pytest.raises(InvalidArgumentError):
        tree.inclusion_proofs([0, 7])
    with pytest.raises(BadConfigurationError):
        merkle.MerkleTree([b"a"], algorithm="md5")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        merkle.MerkleTree.from_leaf_hashes([b"short"])
    # Nothing changed by the rejected calls.
    assert tree.root == root and tree.size == 3


def test_empty_tree_root_is_hash_of_empty_string() -> None:
    import hashlib

    assert merkle.MerkleTree().root == hashlib.sha256(b"").digest()
    from gridledger.hashing import blake3

    assert merkle.MerkleTree(algorithm="blake3").root == blake3(b"")
