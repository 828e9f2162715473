"""Shared inputs of the benchmarks, built once per session.

Every input is deterministic (seeded) and built outside the timed region;
baselines get their inputs in the form they natively take (lists of ``bytes``,
loaded key objects), ours the form the public API documents (uint8 arrays or
lists of ``bytes``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import numpy as np
import pytest
from _common import HASH_N, MERKLE_N, PROOFS, SCALE, SIGS, PymerkleCache, SignatureSet
from gridledger import hashing, merkle
from gridledger.keys import SigningKey
from numpy.typing import NDArray


def pytest_report_header() -> list[str]:
    from gridledger import _core

    return [
        f"gridledger benches: GRIDLEDGER_BENCH_SCALE={SCALE} "
        f"(hash_n={HASH_N}, merkle_n={MERKLE_N}, proofs={PROOFS}, sigs={SIGS})",
        f"gridledger._core: {_core.__file__}",
    ]


@pytest.fixture(scope="session")
def records64() -> NDArray[np.uint8]:
    """(HASH_N, 64) uint8 records."""
    return np.random.default_rng(64).integers(0, 256, (HASH_N, 64), dtype=np.uint8)


@pytest.fixture(scope="session")
def records64_list(records64: NDArray[np.uint8]) -> list[bytes]:
    """The same records as a list of 64-byte ``bytes`` (what a Python loop hashes)."""
    return [r.tobytes() for r in records64]


@pytest.fixture(scope="session")
def merkle_leaves() -> NDArray[np.uint8]:
    """(MERKLE_N, 64) uint8 leaf data."""
    return np.random.default_rng(20).integers(0, 256, (MERKLE_N, 64), dtype=np.uint8)


@pytest.fixture(scope="session")
def merkle_leaves_list(merkle_leaves: NDArray[np.uint8]) -> list[bytes]:
    return [r.tobytes() for r in merkle_leaves]


@pytest.fixture(scope="session")
def node_inputs() -> NDArray[np.uint8]:
    """2n − 1 records of 65 bytes: as many SHA-256 inputs as a tree of n leaves hashes."""
    return np.random.default_rng(65).integers(0, 256, (2 * MERKLE_N - 1, 65), dtype=np.uint8)


@pytest.fixture(scope="session")
def our_tree(merkle_leaves: NDArray[np.uint8]) -> merkle.MerkleTree:
    return merkle.MerkleTree(merkle_leaves, algorithm="sha256")


@pytest.fixture(scope="session")
def leaf_hashes(merkle_leaves: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """(n, 32) RFC 6962 leaf hashes H(0x00 ‖ data), computed with one hash_many."""
    prefixed = np.zeros((MERKLE_N, 65), dtype=np.uint8)
    prefixed[:, 1:] = merkle_leaves
    return hashing.hash_many(prefixed, algorithm="sha256")


@pytest.fixture(scope="session")
def proof_indices() -> NDArray[np.int64]:
    """PROOFS leaf indices, uniform over the tree (repeats allowed)."""
    return np.random.default_rng(10).integers(0, MERKLE_N, PROOFS, dtype=np.int64)


@pytest.fixture(scope="session")
def pymerkle_cache() -> PymerkleCache:
    return PymerkleCache()


@pytest.fixture(scope="session")
def signature_set() -> SignatureSet:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    rng = np.random.default_rng(25519)
    keys = [SigningKey.from_seed(rng.bytes(32)) for _ in range(SIGS)]
    msgs = [f"meter {i:07d} 2024-06-01T12:15Z import {i % 5000} Wh".encode() for i in range(SIGS)]
    sigs = [k.sign(m) for k, m in zip(keys, msgs, strict=True)]
    pks = [k.public_key for k in keys]
    bad = np.zeros(SIGS, dtype=bool)
    bad[rng.choice(SIGS, max(1, SIGS // 100), replace=False)] = True
    corrupted = [s[:40] + bytes([s[40] ^ 1]) + s[41:] if b else s for s, b in zip(sigs, bad, strict=True)]
    one_bad = list(sigs)
    s = sigs[SIGS // 2]
    one_bad[SIGS // 2] = s[:40] + bytes([s[40] ^ 1]) + s[41:]
    return SignatureSet(
        public_keys=pks,
        msgs=msgs,
        sigs=sigs,
        sigs_1pct_bad=corrupted,
        bad=bad,
        sigs_one_bad=one_bad,
        crypto_keys=[Ed25519PublicKey.from_public_bytes(pk) for pk in pks],
    )


def _busy_cpu_seconds() -> float:
    """CPU seconds the whole machine spent not idle (all cores, steal included)."""
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, f.readline().split()[1:9])
    busy = user + nice + system + irq + softirq + steal
    return busy / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@pytest.fixture(autouse=True)
def _record_contention(request: pytest.FixtureRequest) -> Iterator[None]:
    """The machine is shared: record how many cores *other* processes kept busy
    while a benchmark ran (``foreign_cpu``, in cores), so report.py can flag
    medians taken under contention."""
    if "benchmark" not in request.fixturenames:
        yield
        return
    bench = request.getfixturevalue("benchmark")
    b0, o0, w0 = _busy_cpu_seconds(), _own_cpu_seconds(), time.perf_counter()
    yield
    b1, o1, w1 = _busy_cpu_seconds(), _own_cpu_seconds(), time.perf_counter()
    foreign = max(0.0, (b1 - b0) - (o1 - o0)) / max(w1 - w0, 1e-9)
    bench.extra_info["foreign_cpu"] = round(foreign, 2)
    bench.extra_info["load1"] = round(os.getloadavg()[0], 2)
