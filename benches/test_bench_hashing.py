"""Target 1: ``hashing.hash_many`` against Python loops, and its per-element cost.

Side by side in one group per algorithm (HASH_N records of 64 bytes):

* ``hash_many(array)`` — an (n, 64) uint8 array, the zero-copy path;
* ``hash_many(list)`` — the same records as a list of ``bytes`` (joined and
  offset in Python first), to show what the ragged path costs;
* the baseline loop: PyPI ``blake3`` or ``hashlib.sha256``, one call per record.

Targets: blake3 ≥ 10×, sha256 ≥ 5× the loop. A second series times
``hash_many`` at batch sizes 1, 10^3 and 10^6 (so the per-call boundary cost
shows in the per-element figure) next to the one-record functions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import blake3 as pypi_blake3
import numpy as np
import pytest
from _common import HASH_N, HASH_SIZES, cpu_per_wall, note
from gridledger import hashing
from gridledger.hashing import Algorithm
from numpy.typing import NDArray
from pytest_benchmark.fixture import BenchmarkFixture

ALGS = ("blake3", "sha256")


def _loop(alg: str) -> Callable[[list[bytes]], list[bytes]]:
    if alg == "blake3":
        b3 = pypi_blake3.blake3

        def run(records: list[bytes]) -> list[bytes]:
            return [b3(r).digest() for r in records]

    else:
        sha = hashlib.sha256

        def run(records: list[bytes]) -> list[bytes]:
            return [sha(r).digest() for r in records]

    return run


@pytest.mark.parametrize("alg", ALGS)
def test_digests_agree(alg: Algorithm, records64: NDArray[np.uint8], records64_list: list[bytes]) -> None:
    """Ours and the baseline compute the same digests (checked on a prefix)."""
    ours = hashing.hash_many(records64[:1000], algorithm=alg)
    assert [bytes(d) for d in ours] == _loop(alg)(records64_list[:1000])


@pytest.mark.parametrize("alg", ALGS)
def test_hash_many_array(benchmark: BenchmarkFixture, alg: Algorithm, records64: NDArray[np.uint8]) -> None:
    benchmark.group = f"1 hash {alg}: {HASH_N} x 64 B"
    note(benchmark, f"hash.{alg}.ours_array", "ours", HASH_N)
    out = benchmark(hashing.hash_many, records64, algorithm=alg)
    assert out.shape == (HASH_N, 32)
    benchmark.extra_info["cpu_per_wall"] = cpu_per_wall(lambda: hashing.hash_many(records64, algorithm=alg))


@pytest.mark.parametrize("alg", ALGS)
def test_hash_many_list(benchmark: BenchmarkFixture, alg: str, records64_list: list[bytes]) -> None:
    benchmark.group = f"1 hash {alg}: {HASH_N} x 64 B"
    note(benchmark, f"hash.{alg}.ours_list", "ours", HASH_N)
    out = benchmark(hashing.hash_many, records64_list, algorithm=alg)
    assert out.shape == (HASH_N, 32)


@pytest.mark.parametrize("alg", ALGS)
def test_python_loop(benchmark: BenchmarkFixture, alg: str, records64_list: list[bytes]) -> None:
    benchmark.group = f"1 hash {alg}: {HASH_N} x 64 B"
    lib = "blake3 (PyPI)" if alg == "blake3" else "hashlib"
    note(benchmark, f"hash.{alg}.loop", "baseline", HASH_N, baseline=f"{lib} loop")
    out = benchmark(_loop(alg), records64_list)
    assert len(out) == HASH_N


@pytest.mark.parametrize("n", HASH_SIZES)
@pytest.mark.parametrize("alg", ALGS)
def test_hash_many_per_element(
    benchmark: BenchmarkFixture, alg: str, n: int, records64: NDArray[np.uint8]
) -> None:
    """Per-element cost of one hash_many call at several batch sizes."""
    benchmark.group = f"1 hash {alg}: per element vs batch size"
    note(benchmark, f"hash.{alg}.per_element.{n}", "series", n)
    batch = np.ascontiguousarray(np.resize(records64, (n, 64)))
    benchmark(hashing.hash_many, batch, algorithm=alg)


@pytest.mark.parametrize("alg", ALGS)
def test_one_record_ours(benchmark: BenchmarkFixture, alg: str, records64_list: list[bytes]) -> None:
    benchmark.group = f"1 hash {alg}: per element vs batch size"
    note(benchmark, f"hash.{alg}.one_ours", "series", 1)
    fn = hashing.blake3 if alg == "blake3" else hashing.sha256
    benchmark(fn, records64_list[0])


@pytest.mark.parametrize("alg", ALGS)
def test_one_record_baseline(benchmark: BenchmarkFixture, alg: str, records64_list: list[bytes]) -> None:
    benchmark.group = f"1 hash {alg}: per element vs batch size"
    note(benchmark, f"hash.{alg}.one_baseline", "series", 1)
    fn = pypi_blake3.blake3 if alg == "blake3" else hashlib.sha256
    record = records64_list[0]
    benchmark(lambda: fn(record).digest())
