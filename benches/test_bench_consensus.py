"""Issue: proof of stake — the draw and the bidding simulations.

* ``consensus.draw`` over DRAW_N candidates (U hashed from the chain for each,
  BLAKE3, the chain default) against a Python loop that hashes each candidate
  with hashlib (SHA-256) and takes the argmax (target ≥ 20×), and against
  numpy's non-verifiable ``argmax(w / U)`` with U from a generator (target:
  within 10×). Our draw on a SHA-256 chain is timed too. Both loops are
  checked to pick the same winner as ours (SHA-256 with hashlib, BLAKE3 with
  the PyPI ``blake3`` package).
* sc1–sc4, BIDDING_SEEDS seeds × 1 000 turns each (target ≤ 30 s in total).
"""

from __future__ import annotations

import hashlib
import time

import numpy as np
import pytest
from _common import FULL, note
from gridledger import consensus
from pytest_benchmark.fixture import BenchmarkFixture

DRAW_N = 10**6 if FULL else 10**4
BIDDING_SEEDS = 10**4 if FULL else 50
GROUP = f"5 pos draw: {DRAW_N} candidates"

SEED_HASH = bytes(range(32))
PERIOD = 1_733_100


@pytest.fixture(scope="module")
def candidates() -> tuple[np.ndarray, np.ndarray, list[bytes]]:
    rng = np.random.default_rng(5)
    w = rng.uniform(0.0, 10.0, DRAW_N)
    keys = rng.integers(0, 256, size=(DRAW_N, 32), dtype=np.uint8)
    return w, keys, [k.tobytes() for k in keys]


def python_draw(w: np.ndarray, keys: list[bytes], h: object = hashlib.sha256) -> int:
    """The same draw in pure Python: U from H(seed ‖ period ‖ key), argmax W/U."""
    prefix = SEED_HASH + PERIOD.to_bytes(8, "little")
    best, best_key, best_pk = -1, -1.0, b""
    wl = w.tolist()
    for i, pk in enumerate(keys):
        u = int.from_bytes(h(prefix + pk).digest()[:8], "little")  # type: ignore[operator]
        k = wl[i] * 2.0**64 / (u + 1)
        if k > best_key or (k == best_key and pk < best_pk):
            best, best_key, best_pk = i, k, pk
    return best


def numpy_draw(w: np.ndarray, rng: np.random.Generator) -> int:
    return int(np.argmax(w / (1.0 - rng.random(len(w)))))


def test_same_winner(candidates: tuple[np.ndarray, np.ndarray, list[bytes]]) -> None:
    import blake3

    w, keys, klist = candidates
    n = min(len(w), 20_000)
    assert consensus.draw(w[:n], SEED_HASH, PERIOD, keys[:n], algorithm="sha256") == python_draw(
        w[:n], klist[:n]
    )
    assert consensus.draw(w[:n], SEED_HASH, PERIOD, keys[:n]) == python_draw(w[:n], klist[:n], blake3.blake3)


def test_draw_ours(
    benchmark: BenchmarkFixture, candidates: tuple[np.ndarray, np.ndarray, list[bytes]]
) -> None:
    benchmark.group = GROUP
    note(benchmark, "pos.draw_ours", "ours", DRAW_N)
    w, keys, _ = candidates
    benchmark(consensus.draw, w, SEED_HASH, PERIOD, keys, "argmax_w_over_u", "blake3")


def test_draw_ours_sha256(
    benchmark: BenchmarkFixture, candidates: tuple[np.ndarray, np.ndarray, list[bytes]]
) -> None:
    benchmark.group = GROUP
    note(benchmark, "pos.draw_ours_sha256", "info", DRAW_N)
    w, keys, _ = candidates
    benchmark(consensus.draw, w, SEED_HASH, PERIOD, keys, "argmax_w_over_u", "sha256")


def test_draw_python_loop(
    benchmark: BenchmarkFixture, candidates: tuple[np.ndarray, np.ndarray, list[bytes]]
) -> None:
    benchmark.group = GROUP
    note(benchmark, "pos.draw_python", "baseline", DRAW_N)
    w, _, klist = candidates
    benchmark.pedantic(python_draw, (w, klist), rounds=3 if FULL else 1, iterations=1)


def test_draw_numpy(
    benchmark: BenchmarkFixture, candidates: tuple[np.ndarray, np.ndarray, list[bytes]]
) -> None:
    benchmark.group = GROUP
    note(benchmark, "pos.draw_numpy", "info", DRAW_N)
    w, _, _ = candidates
    rng = np.random.default_rng(1)
    benchmark(numpy_draw, w, rng)


def test_bidding_sc1_to_sc4(benchmark: BenchmarkFixture) -> None:
    benchmark.group = f"5 pos bidding: sc1-sc4, {BIDDING_SEEDS} seeds x 1000 turns"
    note(benchmark, "pos.bidding", "ours", BIDDING_SEEDS * 4)

    def all_four() -> int:
        return sum(consensus.simulate_bidding(sc, 1000, BIDDING_SEEDS).height for sc in consensus.SCENARIOS)

    t0 = time.perf_counter()
    rows = benchmark.pedantic(all_four, rounds=3 if FULL else 1, iterations=1)
    assert rows == 4 * 4 * BIDDING_SEEDS
    benchmark.extra_info["first_round_s"] = time.perf_counter() - t0
