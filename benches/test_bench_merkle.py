"""Target 2: RFC 6962 Merkle trees against pymerkle 7, and their memory.

* Build + root over MERKLE_N leaves of 64 bytes: ``MerkleTree(array).root`` ≥ 100×
  pymerkle's ``InmemoryTree`` (``append_entry`` per leaf, then ``get_root``),
  and within 2× of ``hash_many`` over the same number of SHA-256 inputs
  (2n − 1 records of 65 bytes: n leaves ``0x00‖data`` and n − 1 nodes
  ``0x01‖left‖right``).
* PROOFS inclusion proofs generated and verified: ``inclusion_proofs`` +
  ``verify_inclusion_batch`` ≥ 50× pymerkle's ``prove_inclusion`` +
  ``verify_inclusion`` loop; our own one-at-a-time loop shows the boundary cost.
* Resident memory of a 2^20-leaf tree built from leaf hashes, in a fresh
  interpreter: < 100 MB.

First of all, pymerkle must compute the same RFC 6962 roots and proofs as ours.
"""

from __future__ import annotations

import numpy as np
import pymerkle
import pytest
from _common import (
    MERKLE_N,
    PROOFS,
    PYMERKLE_ROUNDS,
    PymerkleCache,
    build_pymerkle,
    cpu_per_wall,
    note,
    probe,
)
from gridledger import hashing, merkle
from numpy.typing import NDArray
from pytest_benchmark.fixture import BenchmarkFixture

BUILD = f"2 merkle build+root: {MERKLE_N} leaves x 64 B, sha256"
PROVE = f"2 merkle prove+verify: {PROOFS} proofs, {MERKLE_N} leaves"


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 13, 64, 100, 257, 1000])
def test_pymerkle_agrees_with_rfc6962(n: int) -> None:
    """Same roots at every prefix size, same audit paths, proofs accepted both ways.

    pymerkle's default (security on) hashes leaves as H(0x00‖d) and nodes as
    H(0x01‖l‖r), as RFC 6962 does; it counts leaves from one, and its proof
    path starts with the leaf hash itself, followed by our audit path.
    """
    leaves = np.random.default_rng(n).integers(0, 256, (n, 64), dtype=np.uint8)
    theirs = build_pymerkle([r.tobytes() for r in leaves])
    ours = merkle.MerkleTree(leaves, algorithm="sha256")
    assert theirs.get_root() == ours.root
    for size in range(1, n + 1, max(1, n // 50)):
        assert theirs.get_root(size) == ours.root_at(size)
    for i in sorted({0, n // 3, n // 2, n - 1}):
        proof = theirs.prove_inclusion(i + 1, n)
        assert proof.path[0] == ours.leaf_hash(i)
        assert proof.path[1:] == ours.inclusion_proof(i)
        pymerkle.verify_inclusion(ours.leaf_hash(i), ours.root, proof)
        assert merkle.verify_inclusion(ours.leaf_hash(i), i, n, proof.path[1:], ours.root)


def test_leaf_hashes_fixture(our_tree: merkle.MerkleTree, leaf_hashes: NDArray[np.uint8]) -> None:
    for i in (0, MERKLE_N // 2, MERKLE_N - 1):
        assert bytes(leaf_hashes[i]) == our_tree.leaf_hash(i)


def test_build_ours(benchmark: BenchmarkFixture, merkle_leaves: NDArray[np.uint8]) -> None:
    benchmark.group = BUILD
    note(benchmark, "merkle.build.ours", "ours", MERKLE_N)

    def build() -> bytes:
        return merkle.MerkleTree(merkle_leaves, algorithm="sha256").root

    root = benchmark(build)
    assert len(root) == 32
    benchmark.extra_info["cpu_per_wall"] = cpu_per_wall(build)


def test_build_ours_from_leaf_hashes(
    benchmark: BenchmarkFixture, leaf_hashes: NDArray[np.uint8], our_tree: merkle.MerkleTree
) -> None:
    """Interior nodes only (n − 1 hashes), from precomputed leaf hashes."""
    benchmark.group = BUILD
    note(benchmark, "merkle.build.ours_from_leaf_hashes", "info", MERKLE_N)
    root = benchmark(lambda: merkle.MerkleTree.from_leaf_hashes(leaf_hashes).root)
    assert root == our_tree.root


def test_hash_many_same_inputs(benchmark: BenchmarkFixture, node_inputs: NDArray[np.uint8]) -> None:
    """hash_many over 2n − 1 records of 65 bytes: the hashing a build cannot avoid."""
    benchmark.group = BUILD
    note(benchmark, "merkle.build.hash_many_2n-1", "baseline", len(node_inputs))
    out = benchmark(hashing.hash_many, node_inputs, algorithm="sha256")
    assert out.shape == (2 * MERKLE_N - 1, 32)


def test_build_pymerkle(
    benchmark: BenchmarkFixture,
    merkle_leaves_list: list[bytes],
    our_tree: merkle.MerkleTree,
    pymerkle_cache: PymerkleCache,
) -> None:
    benchmark.group = BUILD
    note(benchmark, "merkle.build.pymerkle", "baseline", MERKLE_N, baseline="pymerkle 7")
    pymerkle_cache.tree = None
    tree = benchmark.pedantic(
        build_pymerkle, args=(merkle_leaves_list,), rounds=PYMERKLE_ROUNDS, iterations=1
    )
    assert tree.get_root() == our_tree.root
    pymerkle_cache.tree = tree


def test_prove_verify_batch(
    benchmark: BenchmarkFixture,
    our_tree: merkle.MerkleTree,
    leaf_hashes: NDArray[np.uint8],
    proof_indices: NDArray[np.int64],
) -> None:
    benchmark.group = PROVE
    note(benchmark, "merkle.proofs.ours_batch", "ours", PROOFS)
    root, mine = our_tree.root, leaf_hashes[proof_indices]

    def run() -> NDArray[np.bool_]:
        proofs = our_tree.inclusion_proofs(proof_indices)
        return merkle.verify_inclusion_batch(mine, proofs, root)

    assert benchmark(run).all()
    benchmark.extra_info["cpu_per_wall"] = cpu_per_wall(run)


def test_prove_verify_loop(
    benchmark: BenchmarkFixture,
    our_tree: merkle.MerkleTree,
    leaf_hashes: NDArray[np.uint8],
    proof_indices: NDArray[np.int64],
) -> None:
    benchmark.group = PROVE
    note(benchmark, "merkle.proofs.ours_loop", "ours", PROOFS)
    root, size = our_tree.root, our_tree.size
    jobs = [(int(i), bytes(leaf_hashes[i])) for i in proof_indices]
    prove, verify = our_tree.inclusion_proof, merkle.verify_inclusion

    def run() -> int:
        return sum(verify(leaf, i, size, prove(i), root) for i, leaf in jobs)

    assert benchmark(run) == PROOFS


def test_prove_verify_pymerkle(
    benchmark: BenchmarkFixture,
    merkle_leaves_list: list[bytes],
    our_tree: merkle.MerkleTree,
    leaf_hashes: NDArray[np.uint8],
    proof_indices: NDArray[np.int64],
    pymerkle_cache: PymerkleCache,
) -> None:
    benchmark.group = PROVE
    note(benchmark, "merkle.proofs.pymerkle", "baseline", PROOFS, baseline="pymerkle 7")
    tree = pymerkle_cache.get(merkle_leaves_list)
    root, size = our_tree.root, MERKLE_N
    jobs = [(int(i) + 1, bytes(leaf_hashes[i])) for i in proof_indices]  # 1-based
    prove, verify = tree.prove_inclusion, pymerkle.verify_inclusion

    def run() -> int:
        for i, leaf in jobs:
            verify(leaf, root, prove(i, size))  # raises InvalidProof on failure
        return len(jobs)

    assert benchmark(run) == PROOFS


def test_tree_memory(benchmark: BenchmarkFixture) -> None:
    """RSS of a fresh interpreter around MerkleTree.from_leaf_hashes (not a timing)."""
    benchmark.group = "2 merkle memory"
    result = benchmark.pedantic(probe, args=("rss", MERKLE_N), rounds=1, iterations=1)
    note(benchmark, "merkle.memory", "info", MERKLE_N)
    benchmark.extra_info.update({k: v for k, v in result.items() if k != "n"})
    assert result["nbytes"] >= 32 * MERKLE_N
