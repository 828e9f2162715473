"""Sizes and helpers shared by the benchmark modules.

``GRIDLEDGER_BENCH_SCALE=full`` selects the sizes of the performance targets
(10^6 records, 2^20 leaves, 10^4 proofs and signatures); unset or ``smoke``
selects tiny sizes, so that ``pytest benches --benchmark-disable`` runs every
benchmark once in a few seconds, against a debug build too. Nothing here
asserts a speed ratio: ratios are computed by ``benches/report.py`` from the
``--benchmark-json`` output and written up in BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

SCALE = (os.environ.get("GRIDLEDGER_BENCH_SCALE") or "smoke").strip().lower()
if SCALE not in ("smoke", "full"):
    raise RuntimeError(f"GRIDLEDGER_BENCH_SCALE must be 'smoke' or 'full', got {SCALE!r}")
FULL = SCALE == "full"

#: Records of 64 bytes hashed by the hash_many targets.
HASH_N = 10**6 if FULL else 10**3
#: Batch sizes of the per-element (boundary cost) series.
HASH_SIZES = (1, 10**3, 10**6) if FULL else (1, 10, 10**3)
#: Leaves of the Merkle targets (pymerkle is built at the same size).
MERKLE_N = 2**20 if FULL else 2**10
#: Inclusion proofs generated and verified.
PROOFS = 10**4 if FULL else 100
#: Ed25519 signatures verified.
SIGS = 10**4 if FULL else 100
#: Rounds of the pymerkle build (tens of seconds each at 2^20 leaves).
PYMERKLE_ROUNDS = 3 if FULL else 1

PROBE = Path(__file__).with_name("_probe.py")


def note(benchmark: Any, key: str, role: str, n: int, **extra: Any) -> None:
    """Label a benchmark for report.py: a stable key, ours/baseline/info, elements."""
    benchmark.extra_info.update({"key": key, "role": role, "n": n, "scale": SCALE, **extra})


def cpu_per_wall(fn: Callable[[], object], reps: int = 3) -> float:
    """Median of process CPU time / wall time over ``reps`` calls (≈ busy cores)."""
    ratios = []
    for _ in range(reps):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        c1, w1 = time.process_time(), time.perf_counter()
        ratios.append((c1 - c0) / max(w1 - w0, 1e-9))
    return round(statistics.median(ratios), 2)


def probe(*args: object, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Run ``_probe.py`` in a fresh interpreter and return the JSON it prints."""
    out = subprocess.run(
        [sys.executable, str(PROBE), *map(str, args)],
        env=dict(os.environ if env is None else env),
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


class PymerkleCache:
    """The 2^20-leaf pymerkle tree takes tens of seconds and ~1.5 GB to build:
    the build benchmark stores its tree here and the proof benchmark reuses it."""

    def __init__(self) -> None:
        self.tree: Any = None

    def get(self, leaves: list[bytes]) -> Any:
        if self.tree is None:
            self.tree = build_pymerkle(leaves)
        return self.tree


def build_pymerkle(leaves: list[bytes]) -> Any:
    import pymerkle

    tree = pymerkle.InmemoryTree(algorithm="sha256")
    for leaf in leaves:
        tree.append_entry(leaf)
    tree.get_root()
    return tree


@dataclass
class SignatureSet:
    """SIGS (key, message, signature) triples, one distinct key per signature."""

    public_keys: list[bytes]
    msgs: list[bytes]
    sigs: list[bytes]
    #: the same signatures with 1 % of them corrupted (one flipped bit in S)
    sigs_1pct_bad: list[bytes]
    bad: NDArray[np.bool_]
    #: the same signatures with only the middle one corrupted
    sigs_one_bad: list[bytes]
    crypto_keys: list[Any] = field(repr=False)
