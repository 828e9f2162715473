"""Community ledger target: validating one block against a pure-Python validator.

Target (issue: community ledger): validating one block of 10^4 transfers
(1 input, 2 outputs each) at least 20x faster than a pure-Python validator of
the same rules (hashlib + ``cryptography``) on the same block, in one run.

* ours: one ``ChainState.check`` call (header, decoding, ids, Merkle root, every
  signature in one batch, UTXO rules; appends nothing, so it repeats);
* the baseline: ``_pyvalidator.PyChain.check`` on the same header, signature,
  transaction bytes and offsets, its state built by replaying the same setup block;
* the two alternated round by round (the fair ratio on a shared machine);
* ``ChainState.check`` with ``RAYON_NUM_THREADS=1`` against the default pool,
  in fresh interpreters.

Before any timing both must accept the block with the same ids and fees, and
reject each corrupted block with the same error class and field. Smoke scale
uses a block of 200 transfers.

The year-long simulation target runs as a script (``benches/year_sim.py``,
minutes at full scale); ``test_year_sim_smoke`` runs it for one day of a
small community so that it keeps working.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _common import FULL, cpu_per_wall, note
from _ledger_block import LedgerBench, RawBlock, join
from _pyvalidator import PyChain, Rejected
from gridledger import errors
from pytest_benchmark.fixture import BenchmarkFixture

#: Transfers in the measured block.
LEDGER_N = 10**4 if FULL else 200
ROUNDS = 9 if FULL else 1
GROUP = f"5 ledger: validate a block of {LEDGER_N} transfers (1 in, 2 out)"


@pytest.fixture(scope="module")
def bench() -> LedgerBench:
    return LedgerBench(LEDGER_N)


@pytest.fixture(scope="module")
def block(bench: LedgerBench) -> RawBlock:
    return bench.block()


def py_chain(bench: LedgerBench) -> PyChain:
    """The pure-Python state at the same tip, built by validating the same setup blocks."""
    chain = PyChain(bench.genesis_raw)
    for b in bench.setup_blocks:
        chain.append(b.header, b.signature, b.blob, b.offset_list)
    assert chain.tip_hash == bench.chain.tip_hash
    return chain


@pytest.fixture(scope="module")
def pychain(bench: LedgerBench) -> PyChain:
    return py_chain(bench)


def test_both_accept_the_block(bench: LedgerBench, block: RawBlock, pychain: PyChain) -> None:
    ours = bench.check(block)
    theirs = pychain.check(block.header, block.signature, block.blob, block.offset_list)
    assert [bytes(r) for r in ours["ids"]] == theirs.ids
    assert ours["block_hash"] == theirs.block_hash
    assert list(ours["fees"]) == theirs.fees == [0, 0]
    assert ours["signatures"] == LEDGER_N + 1
    assert len(theirs.spent) == LEDGER_N and len(theirs.created) == 2 * LEDGER_N


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


def corrupted(bench: LedgerBench, case: str) -> tuple[RawBlock, type[errors.GridLedgerError]]:
    """A small block (or a tampered one) that both validators must reject, and the error."""
    txs = bench.transfers(list(range(8)))
    dist, other = bench.dist_id, os.urandom(32)
    if case == "header_signature":
        b = bench.seal(txs)
        return RawBlock(b.header, flip(b.signature, 5), b.blob, b.offsets), errors.InvalidSignatureError
    if case == "tx_signature":
        txs[3] = flip(txs[3], len(txs[3]) - 40)
        return bench.seal(txs), errors.InvalidSignatureError
    if case == "header_height":
        b = bench.seal(txs)
        return RawBlock(flip(b.header, 37), b.signature, b.blob, b.offsets), errors.InvalidBlockError
    if case == "tx_root":
        b = bench.seal(txs)
        swapped = bench.seal(txs[::-1])
        return RawBlock(b.header, b.signature, swapped.blob, swapped.offsets), errors.InvalidBlockError
    if case == "truncated":
        b = bench.seal(txs)
        blob, offsets = join([*txs[:2], txs[2][:-1], *txs[3:]])
        return RawBlock(b.header, b.signature, blob, offsets), errors.InvalidTransactionError
    if case == "double_spend_in_block":
        return bench.seal(txs + bench.transfers([2], pay=(500, 500))), errors.DoubleSpendError
    if case == "double_spend_in_tx":
        body = bench.transfer_body(21, [(dist, 20), (dist, 20)], [(2, 1500)])
        return bench.seal(txs + bench.sign([21], [body])[1]), errors.DoubleSpendError
    if case == "overspend":
        return bench.seal(txs + bench.transfers([9], pay=(600, 401))), errors.InsufficientFundsError
    if case == "not_owner":
        return bench.seal(txs + bench.transfers([9], signers=[10])), errors.NotAuthorisedError
    if case == "unknown_input":
        body = bench.transfer_body(10, [(other, 0)], [(2, 100)])
        return bench.seal(txs + bench.sign([10], [body])[1]), errors.InvalidTransactionError
    if case == "wrong_period":
        body = bench.transfer_body(10, [(dist, 9)], [(2, 100)], period=bench.chain.period + 2)
        return bench.seal(txs + bench.sign([10], [body])[1]), errors.InvalidTransactionError
    if case == "chain_tag":
        body = bench.transfer_body(10, [(dist, 9)], [(2, 100)], tag=bytes(8))
        return bench.seal(txs + bench.sign([10], [body])[1]), errors.InvalidTransactionError
    raise AssertionError(case)


CASES = [
    "header_signature",
    "tx_signature",
    "header_height",
    "tx_root",
    "truncated",
    "double_spend_in_block",
    "double_spend_in_tx",
    "overspend",
    "not_owner",
    "unknown_input",
    "wrong_period",
    "chain_tag",
]


@pytest.mark.parametrize("case", CASES)
def test_both_reject(bench: LedgerBench, pychain: PyChain, case: str) -> None:
    b, error = corrupted(bench, case)
    with pytest.raises(error) as ours:
        bench.check(b)
    with pytest.raises(Rejected) as theirs:
        pychain.check(b.header, b.signature, b.blob, b.offset_list)
    assert type(ours.value) is error
    assert theirs.value.error == error.__name__, (theirs.value, ours.value)
    assert theirs.value.field == ours.value.field


def test_check(benchmark: BenchmarkFixture, bench: LedgerBench, block: RawBlock) -> None:
    benchmark.group = GROUP
    note(benchmark, "ledger.check.ours", "ours", LEDGER_N)
    r = benchmark.pedantic(bench.check, (block,), rounds=ROUNDS, iterations=1, warmup_rounds=1)
    assert r["signatures"] == LEDGER_N + 1
    benchmark.extra_info["cpu_per_wall"] = cpu_per_wall(lambda: bench.check(block))


def test_pure_python_validator(benchmark: BenchmarkFixture, bench: LedgerBench, block: RawBlock) -> None:
    benchmark.group = GROUP
    note(benchmark, "ledger.check.python", "baseline", LEDGER_N, baseline="struct + hashlib + cryptography")
    chain = py_chain(bench)
    offsets = block.offset_list
    acc = benchmark.pedantic(
        chain.check, (block.header, block.signature, block.blob, offsets), rounds=5 if FULL else 1
    )
    assert len(acc.ids) == LEDGER_N


def test_paired_ratio(benchmark: BenchmarkFixture, bench: LedgerBench, block: RawBlock) -> None:
    """Ours and the pure-Python validator alternated, so each pair sees the same machine.

    The median of the per-pair ratios goes to ``extra_info`` and to
    ``out/bench_ledger_paired.json``.
    """
    benchmark.group = GROUP + ": paired rounds"
    chain = py_chain(bench)
    offsets = block.offset_list
    pairs: list[tuple[float, float]] = []

    def alternate() -> None:
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            bench.check(block)
            t1 = time.perf_counter()
            chain.check(block.header, block.signature, block.blob, offsets)
            pairs.append((t1 - t0, time.perf_counter() - t1))

    benchmark.pedantic(alternate, rounds=1, iterations=1)
    ratios = sorted(p / o for o, p in pairs)
    summary = {
        "n": LEDGER_N,
        "rounds": ROUNDS,
        "ours_median_s": statistics.median(o for o, _ in pairs),
        "python_median_s": statistics.median(p for _, p in pairs),
        "ratio_median": statistics.median(ratios),
        "ratio_min": ratios[0],
        "ratio_max": ratios[-1],
        "pairs_s": pairs,
    }
    note(benchmark, "ledger.check.paired", "info", LEDGER_N, paired=summary)
    out = Path(__file__).resolve().parents[1] / "out"
    out.mkdir(exist_ok=True)
    (out / "bench_ledger_paired.json").write_text(json.dumps(summary, indent=1))


def probe(threads: str | None, reps: int) -> dict[str, float]:
    """``ChainState.check`` timed in a fresh interpreter (the rayon pool is sized once)."""
    env = {k: v for k, v in os.environ.items() if k != "RAYON_NUM_THREADS"}
    if threads is not None:
        env["RAYON_NUM_THREADS"] = threads
    script = Path(__file__).with_name("_ledger_block.py")
    out = subprocess.run(
        [sys.executable, str(script), "time", str(LEDGER_N), str(reps)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_parallel_scaling(benchmark: BenchmarkFixture) -> None:
    """``RAYON_NUM_THREADS=1`` against the default pool, back to back (for the 1-thread ratio)."""
    benchmark.group = "4 parallel scaling (RAYON_NUM_THREADS=1 vs default)"
    reps = 7 if FULL else 1

    def both() -> tuple[dict[str, float], dict[str, float]]:
        return probe("1", reps), probe(None, reps)

    one, many = benchmark.pedantic(both, rounds=1, iterations=1)
    note(
        benchmark,
        "parallel.ledger_check",
        "info",
        LEDGER_N,
        t1=one["wall_median"],
        tN=many["wall_median"],
        speedup=round(one["wall_median"] / many["wall_median"], 2),
        cpu_per_wall=round(many["cpu_median"] / many["wall_median"], 2),
        cpus=os.cpu_count(),
    )


def test_year_sim_smoke(tmp_path: Path) -> None:
    script = Path(__file__).with_name("year_sim.py")
    args = ["--members", "10", "--days", "1", "--start", "2019-06-01", "--out", str(tmp_path / "c.sqlite")]
    out = subprocess.run([sys.executable, str(script), *args], check=True, capture_output=True, text=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert (r["pv_units"], r["periods"], r["blocks"]) == (2, 96, 96)
    assert r["transactions"] == r["creates"] + r["transfers"] > 0
    assert 0 < r["bytes_per_tx"] < 2048 and r["store_bytes"] == (tmp_path / "c.sqlite").stat().st_size
