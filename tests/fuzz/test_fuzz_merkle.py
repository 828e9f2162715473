"""Fuzz Merkle proof checking: verify_inclusion, verify_consistency and the batch, with
mutated real proofs, any index/size (beyond 2^64 too) and arbitrary proof batches. A
proof verifies only if it is the tree's own."""

from __future__ import annotations

import numpy as np
from fuzzing import FuzzFailure, check, fuzz_settings, mutated
from gridledger import merkle
from gridledger.errors import GridLedgerError
from hypothesis import given
from hypothesis import strategies as st

N = 13
TREE = merkle.MerkleTree([bytes([i]) * 5 for i in range(N)])
ROOT = TREE.root
LEAVES = [TREE.leaf_hash(i) for i in range(N)]

SIZES = st.one_of(st.integers(0, 2 * N), st.integers(-(2**65), 2**65))
HASH = st.one_of(st.sampled_from([*LEAVES, ROOT]), mutated(LEAVES, max_edits=2), st.binary(max_size=40))
PROOF = st.one_of(
    st.builds(lambda i: TREE.inclusion_proof(i % N), st.integers(0, N - 1)),
    st.lists(HASH, max_size=6),
    st.lists(mutated(LEAVES, max_edits=1), max_size=6),
)


@fuzz_settings()
@given(HASH, SIZES, SIZES, PROOF, HASH, st.sampled_from(["sha256", "blake3", "md5"]))
def test_verify_inclusion(
    leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes, alg: str
) -> None:
    ok = check(merkle.verify_inclusion, leaf, index, size, proof, root, alg)
    if ok is True and not (
        alg == "sha256" and size == N and root == ROOT and 0 <= index < N and leaf == LEAVES[index]
        and proof == TREE.inclusion_proof(index)
    ):  # fmt: skip
        raise FuzzFailure(f"a foreign inclusion proof verified: {leaf.hex()} {index} {size} {proof}")


@fuzz_settings()
@given(SIZES, SIZES, HASH, HASH, PROOF)
def test_verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> None:
    ok = check(merkle.verify_consistency, old, new, old_root, new_root, proof)
    if ok is True and 0 < old <= N and new == N and new_root == ROOT:
        if old_root != TREE.root_at(old):
            raise FuzzFailure(f"a consistency proof verified a foreign root for {old} of {new}")


@fuzz_settings()
@given(
    st.lists(st.integers(-2, 2 * N), max_size=6),
    SIZES,
    st.integers(0, 8),
    st.lists(st.integers(-3, 12), max_size=8),
    st.sampled_from(["proofs", "random"]),
    st.integers(0, 2),
)
def test_verify_inclusion_batch(
    indices: list[int], size: int, m: int, offsets: list[int], how: str, leaf_shape: int
) -> None:
    if how == "proofs":
        idx = [i % N for i in indices]
        batch = TREE.inclusion_proofs(idx)
    else:
        hashes = np.frombuffer(b"".join(LEAVES)[: 32 * m].ljust(32 * m, b"\1"), np.uint8).reshape(m, 32)
        batch = merkle.ProofBatch(
            np.array(indices, np.int64).astype(np.uint64), size, hashes, np.array(offsets, np.int64)
        )
        idx = [i % N for i in indices]
    leaves = [LEAVES[i] for i in idx]
    arg: object = leaves
    if leaf_shape == 1:
        arg = np.frombuffer(b"".join(leaves), np.uint8).reshape(len(leaves), 32) if leaves else leaves
    elif leaf_shape == 2:
        arg = [x[:31] for x in leaves]
    out = check(merkle.verify_inclusion_batch, arg, batch, ROOT)
    if not isinstance(out, GridLedgerError):
        for i, ok in enumerate(out.tolist()):
            single = check(
                merkle.verify_inclusion, leaves[i], int(batch.indices[i]), batch.size, batch[i], ROOT
            )
            if ok and single is not True:
                raise FuzzFailure(f"batch says proof {i} verifies, single says {single!r}")
