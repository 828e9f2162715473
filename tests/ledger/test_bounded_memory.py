"""The chain state's bounded memory (docs/ledger.md "Bounded memory") and the simulation's
fixed results (issue 15: a cell must fit a worker; a cell as fast as its cryptography allows)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from gridledger import _core
from gridledger.community import Community, simulate
from gridledger.errors import GridLedgerError
from gridledger.ledger import ChainStore, Consensus
from gridledger.ledger.block import scan

ID_WINDOW = 96  # rust/src/ledger/utxo.rs


def _replay(store: ChainStore) -> tuple[_core.ChainState, _core.ChainState, list[tuple[int, int]]]:
    """Every stored block appended to a bounded and an unbounded state; (ids, outputs) held by the
    bounded one after each block."""
    raw = store.genesis.encode()
    bounded, full = _core.ChainState(raw), _core.ChainState(raw, bounded=False)
    sizes = []
    for block in store.blocks(1):
        blob, offsets = block.tx_blob()
        args = (block.header.encode(), block.signature, blob, offsets)
        a, b = bounded.append(*args), full.append(*args)
        assert a["block_hash"] == b["block_hash"]
        assert np.array_equal(a["spent_tx_seq"], b["spent_tx_seq"])
        assert np.array_equal(a["out_amount"], b["out_amount"])
        sizes.append((bounded.n_ids, bounded.n_utxo))
    return bounded, full, sizes


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Community, Path]:
    c = Community.default(members=10, pv_units=2, kwp=10.0)
    path = tmp_path_factory.mktemp("bounded") / "c.sqlite"
    simulate(c, start=datetime(2019, 6, 3, tzinfo=UTC), days=3, store=path)
    return c, path


def test_a_long_run_keeps_the_same_verdicts_in_bounded_memory(stored: tuple[Community, Path]) -> None:
    c, path = stored
    with ChainStore(path) as store:
        bounded, full, sizes = _replay(store)
        assert bounded.tip_hash == full.tip_hash and bounded.log_root() == full.log_root()
        # The unbounded state holds every id; the bounded one a day's, plus the
        # distributions whose allocations nobody spent (one a sunny period).
        assert full.n_ids == full.n_tx > bounded.n_ids
        assert full.n_utxo > bounded.n_utxo
        per_block = max(b.header.n_tx for b in store.blocks(1))
        sunny = sum(1 for b in store.blocks(1) if b.header.n_tx)
        for n_ids, _ in sizes:
            assert n_ids <= ID_WINDOW * per_block + sunny
        for key_id in range(1, 1 + len(c.members)):
            k = c.key(key_id)
            assert bounded.balance(k, bounded.period) == full.balance(k, full.period)
        # Replays of a block's transactions, old (forgotten) and recent (remembered):
        # both states refuse them.
        miner_id = {c.key(c.member_key_id(i)): c.member_key_id(i) for i in range(len(c.members))}
        for height in (1, 2, 3, store.height - 1, store.height):
            txs = store.block(height).txs
            if not txs:
                continue
            ids, _, _ = scan(txs, c.algorithm)
            header = store.chain.next_header(ids).encode()
            digest = np.frombuffer(_core.hash_one(header, c.algorithm), np.uint8).reshape(1, 32)
            sig = c.keyring.sign_ids(np.array([miner_id[store.chain.next_miner]], np.int64), digest)
            blob = b"".join(txs)
            offsets = np.cumsum([0, *map(len, txs)]).astype(np.int64)
            for state in (bounded, full):
                with pytest.raises(GridLedgerError):
                    state.check(header, sig[0].tobytes(), blob, offsets)


# Tip hash and log root of fixed-seed runs, recorded on main before the speed and memory work
# (374aa57): the simulation and the chain state's changes must not move a single byte.
GOLDEN = {
    ("round_robin", None): (
        "8c24067a30f5e964e2fb8a299ce8218de728dbddee6b228de942eadd0d942ce9",
        "d584297a6f0821a674ac6c70c77b6ca4b5e2a273a18343cccb24892711e48b66",
    ),
    ("auction", "call"): (
        "853b10d38871330f16c5df789d8c3461759390a44867daf4425bf16c3fe327af",
        "92a74fc8027649927bbcc1a5fe27a39875693a80f12e203117c3d340739a4ebe",
    ),
}


@pytest.mark.parametrize(("rule", "market"), list(GOLDEN))
def test_fixed_seed_runs_make_the_recorded_chain(rule: str, market: str | None, tmp_path: Path) -> None:
    c = Community.default(members=12, pv_units=3, kwp=10.0, consensus=Consensus(producer_rule=rule))  # type: ignore[arg-type]
    start = datetime(2019, 6, 3, tzinfo=UTC)
    r = simulate(c, start=start, days=1.5, store=tmp_path / "c.sqlite", market=market)  # type: ignore[arg-type]
    assert (r.chain.tip_hash.hex(), r.chain.log_root().hex()) == GOLDEN[(rule, market)]
    with ChainStore(tmp_path / "c.sqlite") as store:
        assert store.verify().ok
        assert store.block_hashes()[-1].hex() == GOLDEN[(rule, market)][0]


def test_a_failed_pipelined_write_stops_the_writer_and_leaves_whole_blocks(
    stored: tuple[Community, Path], tmp_path: Path
) -> None:
    """The simulation's pipelined store: a block whose write fails (the file locked by another
    writer) is raised, no later block is written (no gap in heights), and the store's chain is
    rebuilt from the file."""
    _, path = stored
    with ChainStore(path) as source:
        blocks = list(source.blocks(1, 8))
        genesis = source.genesis
    target = tmp_path / "t.sqlite"
    store = ChainStore.create(target, genesis)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            with store.pipeline() as w:
                for b in blocks[:3]:
                    w.append_raw(b.header.encode(), b.signature, *b.tx_blob())
                w._drain(keep=0)
                lock = sqlite3.connect(target, isolation_level=None, timeout=0)
                lock.execute("BEGIN IMMEDIATE")
                try:
                    for b in blocks[3:6]:
                        w.append_raw(b.header.encode(), b.signature, *b.tx_blob())
                    w._drain(keep=0)
                finally:
                    lock.execute("ROLLBACK")
                    lock.close()
        assert store.height == 3
        assert store.chain.height == 3  # rebuilt from the file, not the state ahead of it
        for b in blocks[3:]:
            store.append(b)
        assert store.verify().ok and store.height == 7
    finally:
        store.close()
