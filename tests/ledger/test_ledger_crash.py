"""A writer killed at any moment leaves the store at its last whole block (issue 4, item 4).

A writer process opens the store (creating it the first time), resumes from its height and
appends blocks of Creates as fast as it can; the test SIGKILLs it and reopens the file. The
writer records in a shared 16-byte file where it is: ``phase`` (0 between blocks, 1 validating
a block, 2 inside the SQLite transaction, 3 COMMIT issued) and the height it last saw committed.
"""

from __future__ import annotations

import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from gridledger.ledger.store import ChainStore

WRITER = """
import mmap, os, signal, struct, sys
from pathlib import Path

from gridledger.keys import SigningKey
from gridledger.ledger import Create, DeviceEntry, Genesis, MemberEntry
from gridledger.ledger.store import ChainStore

path, state_file, crash_sql, crash_at = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
key = lambda i: SigningKey.from_seed(bytes([i]) * 32)
members, devices = [key(i) for i in (1, 2, 3)], [key(i) for i in (100, 101)]
genesis = Genesis(
    "blake3", 900, 1_717_440, 4, key(200).public_key,
    tuple(MemberEntry(k.public_key, f"m{i}") for i, k in enumerate(members)),
    tuple(DeviceEntry(k.public_key, 100, 1, f"pv{i}") for i, k in enumerate(devices)),
    "crash test",
)
store = ChainStore(path) if path.exists() else ChainStore.create(path, genesis)
chain = store.chain  # replays and verifies the whole file
seq = [int(s) for s in chain.device_seq()]
state = mmap.mmap(os.open(state_file, os.O_RDWR), 16)
state[:16] = struct.pack("<qq", 0, chain.height)
seen = 0

def trace(sql):
    global seen
    if sql.startswith("BEGIN"):
        state[0] = 2
    elif sql.startswith("COMMIT"):
        state[0] = 3
    if crash_sql and sql.startswith(crash_sql):
        seen += 1
        if seen == crash_at:
            os.kill(os.getpid(), signal.SIGKILL)

store._conn.set_trace_callback(trace)
print(chain.height, flush=True)
while True:
    period, txs = chain.period + 1, []
    for d, k in enumerate(devices):
        for _ in range(5):
            seq[d] += 1
            txs.append(Create.quantum(chain.chain_tag, period, k.public_key, seq[d], 100).sign(k).encode())
    block = chain.seal(txs, next(k for k in members if k.public_key == chain.next_miner))
    state[0] = 1
    store.append(block)
    state[8:16] = struct.pack("<q", chain.height)
    state[0] = 0
"""


@contextmanager
def writer_process(tmp: Path, crash_sql: str = "", crash_at: int = 0) -> Iterator[subprocess.Popen[str]]:
    """A writer on ``tmp/chain.sqlite`` that kills itself at the ``crash_at``-th ``crash_sql``."""
    script, state = tmp / "writer.py", tmp / "state"
    if not script.exists():
        script.write_text(WRITER)
        state.write_bytes(bytes(16))
    args = [sys.executable, str(script), str(tmp / "chain.sqlite"), str(state), crash_sql, str(crash_at)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    guard = threading.Timer(30, proc.kill)  # a stuck writer fails the test instead of hanging it
    guard.start()
    try:
        with proc:
            yield proc
    finally:
        guard.cancel()


def state(tmp: Path) -> tuple[int, int]:
    """(phase, last committed height) as the writer last recorded them."""
    data = (tmp / "state").read_bytes()
    return data[0], struct.unpack("<q", data[8:16])[0]


def reopen(path: Path) -> tuple[int, list[bytes]]:
    """Height and block hashes of the store, which must verify."""
    with ChainStore(path) as store:
        report = store.verify()
        assert report.ok, str(report)
        assert report.blocks == store.height + 1 and report.transactions == 10 * store.height
        return store.height, store.block_hashes()


def test_a_writer_killed_at_random_times_leaves_the_last_whole_block_and_can_resume(tmp_path: Path) -> None:
    rng = np.random.default_rng(2024)
    path = tmp_path / "chain.sqlite"
    hashes: list[bytes] = []
    phases: list[int] = []
    for _ in range(10):
        with writer_process(tmp_path) as writer:
            assert writer.stdout is not None
            ready = writer.stdout.readline()
            start_height = max(len(hashes) - 1, 0)
            assert ready.strip() == str(start_height), ready or writer.communicate(timeout=30)[1]
            deadline = time.monotonic() + 30
            while state(tmp_path)[1] == start_height and time.monotonic() < deadline:
                time.sleep(0.002)  # wait for this round's first block, then kill at a random time
            time.sleep(rng.uniform(0.0, 0.3))
            writer.send_signal(signal.SIGKILL)
            writer.wait()
        assert writer.returncode == -signal.SIGKILL
        phase, committed = state(tmp_path)
        height, now = reopen(path)
        # Committed blocks survive unchanged; the block in flight is all there or not at all.
        assert now[: len(hashes)] == hashes
        assert height == committed or (phase == 3 and height == committed + 1), (phase, committed, height)
        assert height > start_height  # the writer resumed from the last block and appended
        hashes = now
        phases.append(phase)
    assert sum(p > 0 for p in phases) >= 2, phases  # kills landed while a block was being appended


@pytest.mark.parametrize(
    ("statement", "nth", "kept"),
    [
        ("BEGIN", 3, 2),  # before the third block's transaction starts
        ("INSERT INTO blocks", 3, 2),  # before its block row
        ("INSERT INTO txs", 25, 2),  # after 4 of its 10 transaction rows
        ("INSERT INTO outputs", 45, 2),  # after 4 of its 20 outputs
        ("COMMIT", 3, 2),  # COMMIT issued, not yet done
        ("BEGIN", 4, 3),  # the third block committed, the fourth not begun
    ],
)
def test_a_writer_killed_at_each_step_of_an_append_keeps_the_whole_blocks(
    tmp_path: Path, statement: str, nth: int, kept: int
) -> None:
    with writer_process(tmp_path, statement, nth) as writer:
        _, err = writer.communicate(timeout=30)
    assert writer.returncode == -signal.SIGKILL, err
    assert state(tmp_path)[0] == (3 if statement == "COMMIT" else 2)
    assert Path(f"{tmp_path / 'chain.sqlite'}-wal").exists()  # the store was not closed cleanly
    height, _ = reopen(tmp_path / "chain.sqlite")
    assert height == kept
    with writer_process(tmp_path, "BEGIN", 2) as writer:  # resumes: appends one block, dies at the next
        out, err = writer.communicate(timeout=30)
    assert out.strip() == str(kept), err
    assert reopen(tmp_path / "chain.sqlite")[0] == kept + 1


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_new_store_never_replays_the_wal_a_killed_writer_left_at_its_path(
    tmp_path: Path, overwrite: bool
) -> None:
    """Issue 19 item 2: kill a writer (x.sqlite and x.sqlite-wal stay), delete x.sqlite (or
    overwrite it), create a new store there: SQLite must not replay the old WAL onto it."""
    from ledger_world import World

    with writer_process(tmp_path, "BEGIN", 4) as writer:  # three blocks committed to the WAL
        _, err = writer.communicate(timeout=30)
    assert writer.returncode == -signal.SIGKILL, err
    path = tmp_path / "chain.sqlite"
    wal = Path(f"{path}-wal")
    assert wal.exists() and wal.stat().st_size > 0
    if not overwrite:
        path.unlink()  # the user deletes the store and runs again with the same --out
    genesis = World().genesis()
    with ChainStore.create(path, genesis, overwrite=overwrite) as store:
        assert store.height == 0
        report = store.verify()
        assert report.ok and report.blocks == 1, str(report)
    with ChainStore(path) as store:  # and reopened from the file alone
        assert store.genesis == genesis and store.height == 0 and store.verify().ok
    assert not any(tmp_path.glob(".chain.sqlite.*"))  # no temporary file left behind
