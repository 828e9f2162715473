"""ChainStore (issue 4, items 4 and 5): reading a stored community chain, appending to it, and
verify() finding every edit of the stored content, down to single bytes of the SQLite file."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from gridledger import community, hashing
from gridledger.community import Community, SimulationResult
from gridledger.errors import BadDataError, GridLedgerError, InvalidArgumentError, InvalidSignatureError
from gridledger.ledger import Consensus, Create, Transfer, decode, tx_ids
from gridledger.ledger.store import ChainStore
from gridledger.ledger.verify import VerifyReport
from hypothesis import given, settings
from hypothesis import strategies as st

H = 30  # a midday block: 22 Creates, 2 unit Transfers, the VPP's distribution


@dataclass(frozen=True)
class Run:
    path: Path
    # The module's names directly: in the class body ``community`` is this field.
    community: Community
    result: SimulationResult
    first: int  # seq of block H's first transaction


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    path = tmp_path_factory.mktemp("chain") / "chain.sqlite"
    # Round robin: members never spend, so balances equal allocations.
    c = community.Community.default(members=6, pv_units=2, seed=1, consensus=Consensus())
    result = community.simulate(c, start=datetime(2019, 6, 3, tzinfo=UTC), periods=48, store=path)
    assert not Path(f"{path}-wal").exists()  # closed: the WAL is checkpointed into the file
    with closing(sqlite3.connect(path)) as con:
        (first,) = con.execute("SELECT first_tx FROM blocks WHERE height = ?", (H,)).fetchone()
    return Run(path, c, result, first)


@pytest.fixture
def copy(run: Run, tmp_path: Path) -> Path:
    return Path(shutil.copy(run.path, tmp_path / "copy.sqlite"))


def check(path: Path) -> VerifyReport:
    with ChainStore(path) as store:
        return store.verify()


def sql(path: Path, statement: str, *args: object) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as con:
        con.execute(statement, args)


def flip(path: Path, table: str, column: str, where: str, pos: int, mask: int = 0x01) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as con:
        (value,) = con.execute(f"SELECT {column} FROM {table} WHERE {where}").fetchone()
        b = bytearray(value)
        b[pos] ^= mask
        con.execute(f"UPDATE {table} SET {column} = ? WHERE {where}", (bytes(b),))


# -- reading ---------------------------------------------------------------------------------------
def test_the_fixture_chain_carries_creates_unit_transfers_and_a_distribution(run: Run) -> None:
    c, r = run.community, run.result
    assert r.blocks == 48 and r.creates > 0 and r.transfers > 0 and r.distributed_wh > 0
    with ChainStore(run.path) as store:
        assert store.block(1).txs == ()  # night: an empty block
        txs = [decode(t) for t in store.block(H).txs]
    kinds = [type(t.tx).__name__ for t in txs]
    assert kinds == ["Create"] * 22 + ["Transfer"] * 3
    devices = {c.key(c.device_key_id(j)) for j in range(2)}
    members = {c.key(c.member_key_id(i)) for i in range(6)}
    assert {t.tx.signers[0] for t in txs[22:24]} == devices
    dist = txs[-1].tx
    assert isinstance(dist, Transfer) and dist.signers == (c.key(0),)
    assert {o.owner for o in dist.outputs} == members


def test_reopen_reads_blocks_periods_and_links(run: Run) -> None:
    periods = run.result.periods.tolist()
    with ChainStore(run.path) as store:
        assert store.height == 48
        blocks = list(store.blocks())
        hashes = store.block_hashes()
        assert [b.height for b in blocks] == list(range(49))
        assert [b.period for b in blocks[1:]] == periods
        assert all(b.header.prev_hash == hashes[b.height - 1] for b in blocks[1:])
        assert store.block(H) == blocks[H]
        assert [store.height_of_period(p) for p in periods] == list(range(1, 49))
        assert [b.height for b in store.blocks(10, 13)] == [10, 11, 12]
        with pytest.raises(InvalidArgumentError):
            store.block(49)
        with pytest.raises(InvalidArgumentError):
            store.height_of_period(periods[-1] + 1)


def test_transaction_lookup_returns_height_index_and_transaction(run: Run) -> None:
    with ChainStore(run.path) as store:
        for h in (14, H, 48):
            raw = store.block(h).txs
            for i, txid in enumerate(tx_ids(raw)):
                height, index, tx = store.transaction(txid.tobytes())
                assert (height, index, tx.id, tx.encode()) == (h, i, txid.tobytes(), raw[i])
        with pytest.raises(InvalidArgumentError):
            store.transaction(bytes(32))


def test_balances_and_allocations_match_the_simulation(run: Run) -> None:
    r, labels = run.result, [m.label for m in run.community.members]
    with ChainStore(run.path) as store:
        alloc = store.allocations()
        votes = store.allocations(asset=1)
        bal = store.balances()
        before_pv = store.balances(height=13)
        mid = store.balances(height=H)
    for frame, want in ((alloc, r.allocated_wh), (votes, r.allocated_votes)):
        got = np.zeros_like(want)
        for period, label, amount in frame.select("period", "label", "amount").iter_rows():
            got[r.periods.tolist().index(period), labels.index(label)] = amount
        np.testing.assert_array_equal(got, want)
    # Members spend nothing, so what they hold is what they were given; the VPP and the units
    # pass everything on and hold nothing.
    assert bal["label"].to_list() == labels
    assert bal["energy_wh"].to_list() == r.allocated_wh.sum(axis=0).tolist()
    assert bal["votes"].to_list() == r.allocated_votes.sum(axis=0).tolist()
    assert before_pv.height == 0
    assert mid["energy_wh"].to_list() == r.allocated_wh[:H].sum(axis=0).tolist()


def test_export_parquet_and_keys(run: Run, tmp_path: Path) -> None:
    r, c = run.result, run.community
    with ChainStore(run.path) as store:
        paths = store.export_parquet(tmp_path / "out")
        keys = store.keys()
    frames = {name: pl.read_parquet(p) for name, p in paths.items()}
    with closing(sqlite3.connect(run.path)) as con:
        n_outputs = con.execute("SELECT COUNT(*) FROM outputs").fetchone()[0]
    rows = {"blocks": 49, "transactions": r.transactions, "outputs": n_outputs, "keys": 9}
    assert {k: f.height for k, f in frames.items()} == rows
    tx = frames["transactions"]
    assert tx.filter(pl.col("kind") == 0).height == r.creates
    assert tx["seq"].to_list() == list(range(r.transactions))
    out = frames["outputs"].filter(pl.col("spent_height").is_null() & (pl.col("asset") == 0))
    assert out["amount"].sum() == r.distributed_wh
    assert keys["label"].to_list() == ["vpp", *(f"m{i:03d}" for i in range(6)), "pv00", "pv01"]
    assert keys["public_key"].to_list() == [bytes(k).hex() for k in c.public_keys]
    assert frames["keys"].equals(keys)


# -- creating, opening, appending ------------------------------------------------------------------
def _foreign_files(d: Path) -> dict[str, Path]:
    d.mkdir(exist_ok=True)
    files = {"random": d / "random.bin", "empty": d / "empty.sqlite", "text": d / "notes.txt"}
    for name, data in (("random", np.random.default_rng(0).bytes(8192)), ("empty", b""), ("text", b"hi\n")):
        files[name].write_bytes(data)
    for name, script in {
        "other_sqlite": "CREATE TABLE t(x); INSERT INTO t VALUES (1);",
        "wrong_magic": "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB); INSERT INTO meta VALUES "
        "('magic', X'00'), ('format', 1), ('genesis', X'00');",
    }.items():
        files[name] = d / f"{name}.sqlite"
        with closing(sqlite3.connect(files[name])) as con:
            con.executescript(script)
    return files


def test_a_file_that_is_not_a_chain_is_refused_and_left_untouched(run: Run, copy: Path) -> None:
    genesis = run.community.genesis(int(run.result.periods[0]))
    d = copy.parent / "foreign"
    files = _foreign_files(d)
    before = {p.name: p.read_bytes() for p in d.iterdir()}
    with pytest.raises(BadDataError):
        ChainStore(d / "missing.sqlite")
    for path in [*files.values(), d]:
        with pytest.raises(BadDataError):
            ChainStore(path)
        with pytest.raises(InvalidArgumentError):
            ChainStore.create(path, genesis)
        with pytest.raises(BadDataError):  # overwrite=True replaces chains only
            ChainStore.create(path, genesis, overwrite=True)
    assert {p.name: p.read_bytes() for p in d.iterdir()} == before
    with pytest.raises(InvalidArgumentError):
        ChainStore.create(copy, genesis)
    assert check(copy).blocks == 49
    with ChainStore.create(copy, genesis, overwrite=True) as store:
        assert store.height == 0
    assert check(copy).ok and check(copy).blocks == 1


def _next_block(
    store: ChainStore, c: community.Community, txs: list[bytes], shift: int = 0
) -> tuple[bytes, bytes]:
    """The next header, signed by the round-robin producer (member h - 1 mod M), or ``shift`` later."""
    chain = store.chain
    header = chain.next_header(tx_ids(txs, c.algorithm)).encode()
    producer = 1 + (chain.height + shift) % len(c.members)
    digest = np.frombuffer(hashing.hash_one(header, c.algorithm), np.uint8).reshape(1, 32)
    return header, c.keyring.sign_ids(np.array([producer], np.int64), digest)[0].tobytes()


def test_appending_to_a_reopened_store_continues_the_chain(run: Run, copy: Path) -> None:
    c = run.community
    with ChainStore(copy) as store:
        tip = store.block_hashes()[-1]
        header, sig = _next_block(store, c, [])  # an empty block by the producer of height 49
        store.append_raw(header, sig, b"", np.zeros(1, np.int64))
        chain, dev = store.chain, c.device_key_id(0)
        seq = int(chain.device_seq()[0]) + 1
        body = Create.quantum(chain.chain_tag, chain.period + 1, c.key(dev), seq, 100).body()
        txid = hashing.hash_one(body, c.algorithm)
        dsig = c.keyring.sign_ids(np.array([dev], np.int64), np.frombuffer(txid, np.uint8).reshape(1, 32))
        tx = body + dsig[0].tobytes()
        offsets = np.array([0, len(tx)], np.int64)
        header, wrong = _next_block(store, c, [tx], shift=1)
        with pytest.raises(InvalidSignatureError):  # signed by the next member: rejected, nothing written
            store.append_raw(header, wrong, tx, offsets)
        assert store.height == 49
        store.append_raw(header, _next_block(store, c, [tx])[1], tx, offsets)
    with ChainStore(copy) as store:
        report = store.verify()
        assert report.ok and report.blocks == 51 and store.height == 50
        assert store.block(49).header.prev_hash == tip and store.block(49).txs == ()
        assert store.transaction(txid)[:2] == (50, 0)
        pv00 = store.balances().filter(pl.col("label") == "pv00")
        assert pv00.select("energy_wh", "votes").row(0) == (100, 1)


# -- verify ----------------------------------------------------------------------------------------
def test_verify_passes_on_the_fresh_chain(run: Run) -> None:
    report = check(run.path)
    assert report.ok, str(report)
    r = run.result
    assert (report.blocks, report.transactions) == (49, r.transactions)
    assert report.signatures == r.signatures_verified == r.transactions + 48
    assert report.height is None and report.reason is None and "chain valid" in str(report)


def _cases() -> list[object]:
    """(edit, expected height or None, what the report must say) — the edits hit block H."""
    at = f"height = {H}"
    c0, unit, dist = "seq = {f}", "seq = {f} + 22", "seq = {f} + 24"
    cases: list[tuple[str, str, object, str]] = [
        ("meta.genesis.name", "flip meta value key = 'genesis' -1", 0, "genesis"),
        ("meta.genesis.version", "flip meta value key = 'genesis' 4", "open", "genesis"),
        ("meta.format", "UPDATE meta SET value = 2 WHERE key = 'format'", "open", "not a gridledger chain"),
        ("meta.magic", "flip meta value key = 'magic' 0", "open", "not a gridledger chain"),
        ("meta.format.real", "UPDATE meta SET value = 1.0 WHERE key = 'format'", None, "meta"),
        ("meta.extra", "INSERT INTO meta VALUES ('x', X'00')", None, "meta"),
        ("keys.pk", "UPDATE keys SET pk = randomblob(32) WHERE id = 2", None, "key table"),
        ("keys.label", "UPDATE keys SET label = 'mallory' WHERE id = 2", None, "key table"),
        ("keys.label.blob", "UPDATE keys SET label = CAST(label AS BLOB) WHERE id = 2", None, "key"),
        ("keys.delete", "DELETE FROM keys WHERE id = 8", None, "key table"),
        ("keys.extra", "INSERT INTO keys VALUES (9, randomblob(32), NULL)", None, "key table"),
        ("blocks.period", f"UPDATE blocks SET period = period + 1000 WHERE {at}", H, "period"),
        ("blocks.hash", f"flip blocks hash {at} 7", H, "hash"),
        ("blocks.signature.r", f"flip blocks signature {at} 3", H, "InvalidSignature"),
        ("blocks.signature.s", f"flip blocks signature {at} 63", H, "InvalidSignature"),
        ("blocks.n_tx", f"UPDATE blocks SET n_tx = n_tx - 1 WHERE {at}", H, "n_tx"),
        ("blocks.n_tx.blob", f"UPDATE blocks SET n_tx = CAST(CAST(n_tx AS TEXT) AS BLOB) WHERE {at}", H, ""),
        ("blocks.first_tx", f"UPDATE blocks SET first_tx = first_tx + 1 WHERE {at}", H, "first_tx"),
        ("blocks.header.text", f"UPDATE blocks SET header = CAST(header AS TEXT) WHERE {at}", H, ""),
        ("blocks.genesis.hash", "flip blocks hash height = 0 0", 0, "genesis"),
        ("blocks.genesis.header", "flip blocks header height = 0 190", 0, "genesis"),
        ("blocks.genesis.signature", "flip blocks signature height = 0 0", 0, "genesis"),
        ("blocks.delete.middle", f"DELETE FROM blocks WHERE {at}", H, "missing"),
        ("blocks.delete.tip", "DELETE FROM blocks WHERE height = 48", 48, "block 48 is missing"),
        ("txs.id", f"flip txs id {unit} 31", H, "id"),
        ("txs.height", f"UPDATE txs SET height = height + 1 WHERE {dist}", H, "altered"),
        ("txs.idx", f"UPDATE txs SET idx = 0 WHERE {unit}", H, "altered"),
        ("txs.kind", f"UPDATE txs SET kind = 1 WHERE {c0}", H, "altered"),
        ("txs.seq", f"UPDATE txs SET seq = 10000 WHERE {unit}", H, "transactions stored"),
        ("txs.data.text", f"UPDATE txs SET data = CAST(data AS TEXT) WHERE {dist}", H, ""),
        ("txs.data.truncated", f"UPDATE txs SET data = substr(data, 1, 225) WHERE {c0}", H, ""),
        ("txs.data.extended", f"UPDATE txs SET data = CAST(data || X'00' AS BLOB) WHERE {c0}", H, ""),
        ("txs.delete", f"DELETE FROM txs WHERE {unit}", H, "transactions stored"),
        ("outputs.owner", "{o} owner = 2 WHERE tx = {f} + 24 AND idx = 0", H, "outputs"),
        ("outputs.asset", "{o} asset = 1 WHERE tx = {f} + 24 AND idx = 0", H, "outputs"),
        ("outputs.amount", "{o} amount = amount + 1 WHERE tx = {f} AND idx = 0", H, "outputs"),
        ("outputs.expires.energy", "{o} expires = 1 WHERE tx = {f} AND idx = 0", H, "outputs"),
        ("outputs.expires.vote", "{o} expires = NULL WHERE tx = {f} AND idx = 1", H, "outputs"),
        ("outputs.spent.null", "{o} spent_height = NULL WHERE tx = {f}", H, "spent"),
        ("outputs.spent.later", "{o} spent_height = 40 WHERE tx = {f}", H, "spent"),
        ("outputs.spent.unspent", "{o} spent_height = 40 WHERE tx = {f} + 24", H, "spent"),
        ("outputs.spent.blob", "{o} spent_height = CAST('30' AS BLOB) WHERE tx = {f}", H, "spent_height"),
        ("outputs.height", "{o} height = 31 WHERE tx = {f} + 24 AND idx = 3", H, "outputs"),
        ("outputs.delete", "DELETE FROM outputs WHERE tx = {f} + 24 AND idx = 11", H, "outputs"),
        ("outputs.extra", "{i} ({f} + 24, 12, 30, 1, 0, 5, NULL, NULL)", H, "outputs"),
        ("outputs.extra.orphan", "{i} (9999, 0, 48, 1, 0, 5, NULL, NULL)", None, "output"),
    ]
    # One byte in every header field: magic, version, chain id, height, period, previous hash,
    # tx_root, n_tx, miner, next producer, timestamp.
    fields = (0, 4, 5, 37, 45, 53, 85, 117, 121, 153, 185)
    cases += [(f"blocks.header[{p}]", f"flip blocks header {at} {p}", H, "") for p in fields]
    # Flip bytes of a Create (body 162 B), a unit Transfer (905 B) and the distribution (783 B):
    # magic, kind, chain tag, period, payload, last body byte, then R and S of the signature.
    for name, where, body in (("create", c0, 162), ("unit", unit, 905), ("dist", dist, 783)):
        for p in (0, 5, 6, 14, 30, body // 2, body - 1, body, body + 40, body + 63):
            cases.append((f"txs.data.{name}[{p}]", f"flip txs data {where} {p}", H, ""))
    return [pytest.param(e, h, m, id=i) for i, e, h, m in cases]


def apply(path: Path, edit: str, first: int) -> None:
    for k, v in {"{f}": str(first), "{o}": "UPDATE outputs SET", "{i}": "INSERT INTO outputs VALUES"}.items():
        edit = edit.replace(k, v)
    if edit.startswith("flip "):
        _, table, column, rest = edit.split(" ", 3)
        where, pos = rest.rsplit(" ", 1)
        flip(path, table, column, where, int(pos))
    else:
        sql(path, edit)


@pytest.mark.parametrize(("edit", "height", "says"), _cases())
def test_verify_reports_each_edit_with_its_height_and_reason(
    run: Run, copy: Path, edit: str, height: int | str | None, says: str
) -> None:
    apply(copy, edit, run.first)
    if height == "open":  # no longer a chain at all
        with pytest.raises(BadDataError, match=says):
            ChainStore(copy)
        return
    report = check(copy)
    assert not report.ok
    assert report.height == height, str(report)
    assert report.reason and report.error and says.lower() in f"{report.error}: {report.reason}".lower()
    assert "INVALID" in str(report)


def _cells(path: Path) -> list[tuple[str, str, str, int | bytes]]:
    """Every stored BLOB or INTEGER value: (table, its row's WHERE clause, column, value)."""
    keys = {"meta": ["key"], "keys": ["id"], "blocks": ["height"], "txs": ["seq"], "outputs": ["tx", "idx"]}
    cells = []
    with closing(sqlite3.connect(path)) as con:
        for table, pk in keys.items():
            cur = con.execute(f"SELECT * FROM {table}")
            cols = [d[0] for d in cur.description]
            for row in cur:
                where = " AND ".join(f"{k} = {row[cols.index(k)]!r}" for k in pk)
                cells += [(table, where, c, v) for c, v in zip(cols, row, strict=True) if v is not None]
    return [(t, w, c, v) for t, w, c, v in cells if isinstance(v, int | bytes)]


def test_flipping_any_byte_of_any_stored_value_is_found(run: Run) -> None:
    cells = _cells(run.path)
    assert len(cells) > 15_000

    @settings(max_examples=40, deadline=None)
    @given(st.integers(0, len(cells) - 1), st.integers(0, 1 << 16), st.integers(1, 255))
    def one(i: int, pos: int, mask: int) -> None:
        table, where, column, value = cells[i]
        is_int = isinstance(value, int)
        b = bytearray(value.to_bytes(8, "little", signed=True) if isinstance(value, int) else value)
        b[pos % len(b)] ^= mask
        new = int.from_bytes(b, "little", signed=True) if is_int else bytes(b)
        with tempfile.TemporaryDirectory() as d:
            path = Path(shutil.copy(run.path, Path(d) / "c.sqlite"))
            try:
                sql(path, f"UPDATE {table} SET {column} = ? WHERE {where}", new)
            except sqlite3.IntegrityError:
                return  # a key collision SQLite itself refuses
            try:
                report = check(path)
            except BadDataError:
                return  # meta edited: the file is no longer a chain
            assert not report.ok, f"{table}.{column} {where}: {value!r} -> {new!r} went unnoticed"

    one()


def _behaviour(path: Path) -> tuple[object, ...]:
    """The content and what the indexed lookups return (an edited index changes only those)."""
    with closing(sqlite3.connect(path)) as con:
        dump = list(con.iterdump())
        ids = [r[0] for r in con.execute("SELECT id FROM txs ORDER BY seq")]
    with ChainStore(path) as store:
        looked_up = [store.transaction(i)[:2] for i in ids]
        heights = [store.height_of_period(store.genesis.first_period + h) for h in range(store.height)]
    return dump, looked_up, heights


@pytest.mark.parametrize("seed", range(3))
def test_a_flipped_byte_of_the_file_is_found_or_changes_nothing(run: Run, tmp_path: Path, seed: int) -> None:
    original = run.path.read_bytes()
    reference = _behaviour(run.path)
    rng = np.random.default_rng(seed)
    # 10 offsets anywhere, then one inside every page (cells sit at the end of a page).
    offsets = rng.integers(0, len(original), 10).tolist()
    offsets += [p + int(rng.integers(2048, 4096)) for p in range(0, len(original), 4096)][seed::3]
    outcomes = {"open": 0, "report": 0, "unchanged": 0}
    for k, off in enumerate(offsets):
        path = tmp_path / f"{k}.sqlite"
        edited = bytearray(original)
        edited[off] ^= int(rng.integers(1, 256))
        path.write_bytes(edited)
        try:
            report = check(path)
        except BadDataError:
            outcomes["open"] += 1
            continue
        if not report.ok:
            outcomes["report"] += 1
            continue
        try:
            same = _behaviour(path) == reference
        except (sqlite3.DatabaseError, GridLedgerError) as e:
            pytest.fail(f"offset {off}: verify passed, yet reading the file fails: {e}")
        assert same, f"offset {off}: verify passed on a file whose content changed"
        outcomes["unchanged"] += 1
        os.remove(path)
    assert outcomes["report"] > 0 and outcomes["unchanged"] > 0, outcomes
