"""Do the batch calls use every core? One batch call timed in two fresh
interpreters back to back, ``RAYON_NUM_THREADS=1`` and the default pool.

Not a timing of its own: the figures land in ``extra_info`` (``t1``, ``tN``,
``speedup``, CPU/wall of the default run) for report.py. The rayon pool is
global and sized once per process, hence the subprocesses.
"""

from __future__ import annotations

import os

import pytest
from _common import HASH_N, MERKLE_N, PROOFS, SIGS, note, probe
from pytest_benchmark.fixture import BenchmarkFixture

OPS = {
    "hash_blake3": HASH_N,
    "hash_sha256": HASH_N,
    "merkle_build": MERKLE_N,
    "proofs": MERKLE_N,  # PROOFS proofs over a tree of MERKLE_N leaves
    "verify_batch": SIGS,
}


@pytest.mark.parametrize("op", list(OPS))
def test_parallel_scaling(benchmark: BenchmarkFixture, op: str) -> None:
    benchmark.group = "4 parallel scaling (RAYON_NUM_THREADS=1 vs default)"
    n = OPS[op]
    reps = 5
    default_env = {k: v for k, v in os.environ.items() if k != "RAYON_NUM_THREADS"}

    def both() -> tuple[dict[str, float], dict[str, float]]:
        one = probe("time", op, n, reps, env={**default_env, "RAYON_NUM_THREADS": "1"})
        many = probe("time", op, n, reps, env=default_env)
        return one, many

    one, many = benchmark.pedantic(both, rounds=1, iterations=1)
    note(
        benchmark,
        f"parallel.{op}",
        "info",
        min(n, PROOFS) if op == "proofs" else n,
        t1=one["wall_median"],
        tN=many["wall_median"],
        speedup=round(one["wall_median"] / many["wall_median"], 2),
        cpu_per_wall=round(many["cpu_median"] / many["wall_median"], 2),
        cpus=os.cpu_count(),
    )
