"""The chain in SQLite: one file, WAL, each block committed atomically.

Schema (``docs/ledger.md``)::

    meta(key, value)            magic, format, genesis record
    keys(id, pk, label)         key ids: 0 the VPP, then members, devices, new owners
    blocks(height, period, hash, header, signature, n_tx, first_tx)
    txs(seq, id, height, idx, kind, data)           data = body ‖ signatures
    outputs(tx, idx, height, owner, asset, amount, expires, spent_height)

``blocks``, ``txs`` and ``keys`` hold what the chain is; ``outputs`` and the
hash columns are derived, kept for queries, and re-derived by :meth:`verify`.
A block and everything it adds or spends are written in one SQLite
transaction, so a writer killed at any point leaves the store at its last
whole block (SPEC §2 Storage).
"""

from __future__ import annotations

import itertools
import os
import sqlite3
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gridledger._validate import check_bytes, check_index
from gridledger.errors import BadDataError, GridLedgerError, InvalidArgumentError, InvalidBlockError
from gridledger.ledger.block import Block, Header
from gridledger.ledger.chain import BlockReceipt, Chain
from gridledger.ledger.genesis import Genesis
from gridledger.ledger.tx import NEVER, SignedTransaction, decode
from gridledger.ledger.verify import VerifyReport, check_database

__all__ = ["FORMAT", "MAGIC", "ChainStore", "StorePipeline"]

MAGIC = b"gridledger-chain"
FORMAT = 1

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE keys(id INTEGER PRIMARY KEY, pk BLOB NOT NULL UNIQUE, label TEXT);
CREATE TABLE blocks(
    height INTEGER PRIMARY KEY, period INTEGER NOT NULL UNIQUE, hash BLOB NOT NULL,
    header BLOB NOT NULL, signature BLOB NOT NULL, n_tx INTEGER NOT NULL, first_tx INTEGER NOT NULL);
CREATE TABLE txs(
    seq INTEGER PRIMARY KEY, id BLOB NOT NULL, height INTEGER NOT NULL,
    idx INTEGER NOT NULL, kind INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE outputs(
    tx INTEGER NOT NULL, idx INTEGER NOT NULL, height INTEGER NOT NULL, owner INTEGER NOT NULL,
    asset INTEGER NOT NULL, amount INTEGER NOT NULL, expires INTEGER, spent_height INTEGER,
    PRIMARY KEY (tx, idx)) WITHOUT ROWID;
"""


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    _configure(conn)
    return conn


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL: a killed process never loses a committed block; only a
    # power cut can lose the last few (never leave a partial one).
    conn.execute("PRAGMA synchronous=NORMAL")
    # The id index takes random 32-byte keys: a larger page cache keeps a year
    # of appends from thrashing it.
    conn.execute("PRAGMA cache_size=-131072")


_COMPANIONS = ("-wal", "-shm", "-journal")


def _remove_companions(path: Path, *, main: bool) -> None:
    """Delete the files SQLite keeps beside ``path`` (and ``path`` itself with ``main``)."""
    for suffix in ("", *_COMPANIONS) if main else _COMPANIONS:
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _write_genesis(path: Path, genesis: Genesis, raw: bytes, chain: Chain) -> None:
    """Write the schema, the meta rows, the key table and block 0 to a new file ``path``."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.executemany(
            "INSERT INTO meta VALUES (?, ?)", [("magic", MAGIC), ("format", FORMAT), ("genesis", raw)]
        )
        labels = genesis.labels()
        conn.executemany(
            "INSERT INTO keys VALUES (?, ?, ?)",
            [(i, bytes(k), labels.get(bytes(k))) for i, k in enumerate(chain.keys())],
        )
        g = chain.genesis_block()
        conn.execute(
            "INSERT INTO blocks VALUES (0, ?, ?, ?, ?, 0, 0)",
            (g.period, g.header.hash(genesis.algorithm), g.header.encode(), g.signature),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


class ChainStore:
    """A chain persisted in SQLite.

    Open an existing store with ``ChainStore(path)``; make a new one with
    :meth:`create`. Appending validates the block in the Rust core first; a
    rejected block raises a typed error and writes nothing.

    Parameters
    ----------
    path
        The SQLite file.

    Raises
    ------
    BadDataError
        If the file does not exist or is not a gridledger chain.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise BadDataError(f"{self.path}: no such chain store", "path", str(self.path))
        # Switch to WAL only once the file is known to be a chain: any other file,
        # even an empty one or another SQLite database, is left exactly as it was.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            rows = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if rows.get("magic") != MAGIC or rows.get("format") != FORMAT or "genesis" not in rows:
                raise BadDataError(
                    f"{self.path}: not a gridledger chain (format {FORMAT})", "path", str(self.path)
                )
            try:
                self.genesis = Genesis.decode(rows["genesis"])
            except GridLedgerError as e:
                raise BadDataError(f"{self.path}: bad genesis record ({e})", "path", str(self.path)) from e
            _configure(conn)
        except sqlite3.DatabaseError as e:
            conn.close()
            raise BadDataError(
                f"{self.path}: not a gridledger chain (SQLite: {e})", "path", str(self.path)
            ) from e
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        self._chain: Chain | None = None

    @classmethod
    def create(cls, path: str | Path, genesis: Genesis, *, overwrite: bool = False) -> ChainStore:
        """Return a new store holding only the genesis block.

        ``overwrite`` replaces an existing gridledger chain at ``path``; any
        other existing file is never replaced.

        The store is built complete under a temporary name in the same folder;
        then every companion file SQLite may have left at ``path`` (``-wal``,
        ``-shm``, ``-journal`` of a killed writer, even when the main file was
        deleted since) is removed, and the new file is renamed into place. A
        stale WAL is never replayed onto the new database, and a crash at any
        point leaves either the old store (possibly without its uncheckpointed
        WAL, when replacing one) or the new one at ``path``, never a mix.
        """
        path = Path(path)
        if path.exists():
            if not overwrite:
                raise InvalidArgumentError(
                    f"{path} exists (pass overwrite=True to replace it)", "path", str(path)
                )
            ChainStore(path).close()  # raises if it is not a chain: never clobber other files
        raw = genesis.encode()
        chain = Chain(raw, keep_blocks=False)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.creating")
        _remove_companions(tmp, main=True)
        try:
            _write_genesis(tmp, genesis, raw, chain)
            # Companions first, then the atomic rename: the other order would leave,
            # after a crash between the two, the new file beside the old WAL.
            _remove_companions(path, main=False)
            os.replace(tmp, path)
        except BaseException:
            _remove_companions(tmp, main=True)
            raise
        store = cls(path)
        store._chain = chain
        return store

    # -- lifecycle -------------------------------------------------------------
    def close(self) -> None:
        """Close the database (checkpointing the WAL)."""
        self._conn.close()

    def __enter__(self) -> ChainStore:
        """Return the store itself; leaving the ``with`` block closes it."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the store."""
        self.close()

    @property
    def chain(self) -> Chain:
        """The validated chain state; rebuilt (fully verified) from the file on first use."""
        if self._chain is None:
            report = self.verify()
            if self._chain is None:
                raise InvalidBlockError(str(report), "height", report.height)
        return self._chain

    # -- writing ---------------------------------------------------------------
    def append(self, block: Block) -> BlockReceipt:
        """Validate ``block`` and commit it with its transactions in one SQLite transaction."""
        blob, offsets = block.tx_blob()
        return self.append_raw(block.header.encode(), block.signature, blob, offsets)

    def append_raw(
        self, header: bytes, signature: bytes, blob: bytes, offsets: NDArray[np.int64]
    ) -> BlockReceipt:
        """:meth:`append` on already encoded parts (the batch path the simulation uses)."""
        chain = self.chain
        receipt = chain.check_raw(header, signature, blob, offsets)
        self._write(header, signature, blob, offsets, receipt, len(chain.keys()))
        chain.commit(receipt)
        return receipt

    def pipeline(self) -> StorePipeline:
        """Return a writer that stores each block on a second thread while the caller makes the next.

        ``with store.pipeline() as w: w.append_raw(...)``: each block is validated and
        applied to :attr:`chain` at once, then written in its own SQLite transaction on a
        writer thread, in order, at most two blocks behind (SQLite releases the GIL while
        it writes). Leaving the block waits for every write. If a write fails, the error is
        raised by the next ``append_raw`` or on leaving, the store's in-memory chain is
        dropped (rebuilt from the file on next use), and the file holds the blocks before
        the failed one, each whole.
        """
        return StorePipeline(self)

    def _write(
        self,
        header: bytes,
        signature: bytes,
        blob: bytes,
        offsets: NDArray[np.int64],
        receipt: BlockReceipt,
        key_base: int,
    ) -> None:
        """One block's rows in one SQLite transaction (``key_base``: the first new key's id)."""
        h = Header.decode(header)
        first = receipt.first_tx_seq
        n = len(receipt.ids)
        id_bytes = receipt.ids.tobytes()
        starts, ends = offsets[:-1].tolist(), offsets[1:].tolist()
        kinds = receipt.kinds.tolist()
        o = receipt.outputs
        expires = o["expires"]
        exp_col: list[int | None] = [None if e == NEVER else int(e) for e in expires.tolist()]
        # Outputs spent in their own block (a period's quanta, the units' sums) are inserted
        # already spent: the same rows as INSERT then UPDATE, one statement fewer each.
        s = receipt.spent
        spent_seq, spent_idx = s["tx_seq"], s["index"]
        here = spent_seq >= first
        out_key = (o["tx"] + first) * 65536 + o["index"]
        spent_here = np.isin(out_key, spent_seq[here] * 65536 + spent_idx[here])
        spent_col = [None if x < 0 else x for x in np.where(spent_here, h.height, -1).tolist()]
        c = self._conn
        c.execute("BEGIN IMMEDIATE")
        try:
            c.execute(
                "INSERT INTO blocks VALUES (?, ?, ?, ?, ?, ?, ?)",
                (h.height, h.period, receipt.block_hash, header, signature, n, first),
            )
            if len(receipt.new_keys):
                c.executemany(
                    "INSERT INTO keys VALUES (?, ?, NULL)",
                    [(key_base + i, bytes(k)) for i, k in enumerate(receipt.new_keys)],
                )
            c.executemany(
                "INSERT INTO txs VALUES (?, ?, ?, ?, ?, ?)",
                zip(
                    range(first, first + n),
                    (id_bytes[k : k + 32] for k in range(0, 32 * n, 32)),
                    itertools.repeat(h.height, n),
                    range(n),
                    kinds,
                    (blob[a:b] for a, b in zip(starts, ends, strict=True)),
                    strict=True,
                ),
            )
            c.executemany(
                "INSERT INTO outputs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                zip(
                    (o["tx"] + first).tolist(),
                    o["index"].tolist(),
                    [h.height] * len(exp_col),
                    o["owner"].tolist(),
                    o["asset"].tolist(),
                    o["amount"].tolist(),
                    exp_col,
                    spent_col,
                    strict=True,
                ),
            )
            old = ~here
            c.executemany(
                "UPDATE outputs SET spent_height = ? WHERE tx = ? AND idx = ?",
                zip(
                    [h.height] * int(old.sum()),
                    spent_seq[old].tolist(),
                    spent_idx[old].tolist(),
                    strict=True,
                ),
            )
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    # -- reading ---------------------------------------------------------------
    @property
    def height(self) -> int:
        """Height of the last stored block."""
        return int(self._conn.execute("SELECT MAX(height) FROM blocks").fetchone()[0])

    @property
    def algorithm(self) -> str:
        """The chain's hash algorithm (``blake3`` or ``sha256``), from the genesis."""
        return self.genesis.algorithm

    def block(self, height: int) -> Block:
        """Block ``height`` with its transactions."""
        height = check_index("height", height)
        row = self._conn.execute(
            "SELECT header, signature, n_tx, first_tx FROM blocks WHERE height = ?", (height,)
        ).fetchone()
        if row is None:
            raise InvalidArgumentError(
                f"no block at height {height} (height is {self.height})", "height", height
            )
        header, sig, n_tx, first = row
        txs = tuple(
            r[0]
            for r in self._conn.execute(
                "SELECT data FROM txs WHERE seq >= ? AND seq < ? ORDER BY seq", (first, first + n_tx)
            )
        )
        return Block(Header.decode(header), sig, txs)

    def height_of_period(self, period: int) -> int:
        """Return the height of the block of market period ``period``."""
        period = check_index("period", period)
        row = self._conn.execute("SELECT height FROM blocks WHERE period = ?", (period,)).fetchone()
        if row is None:
            first = self.genesis.first_period
            raise InvalidArgumentError(
                f"no block for period {period} (the chain covers {first}..{first + self.height - 1})",
                "period",
                period,
            )
        return int(row[0])

    def blocks(self, start: int = 0, stop: int | None = None) -> Iterator[Block]:
        """Blocks ``start`` to ``stop - 1`` in order (to the tip by default)."""
        start = check_index("start", start)
        stop = self.height + 1 if stop is None else check_index("stop", stop)
        for h in range(start, stop):
            yield self.block(h)

    def transaction(self, txid: bytes) -> tuple[int, int, SignedTransaction]:
        """(height, index in block, transaction) of the transaction with id ``txid``.

        The index on transaction ids is built on the first lookup rather than
        kept while appending: random 32-byte keys scatter an index's pages, and
        writing them with every block cost most of a long run's commit time
        (BENCHMARKS.md §5). The chain state already refuses a repeated id.
        """
        txid = check_bytes("txid", txid)
        self._conn.execute("CREATE INDEX IF NOT EXISTS txs_id ON txs(id)")
        row = self._conn.execute("SELECT height, idx, data FROM txs WHERE id = ?", (txid,)).fetchone()
        if row is None:
            raise InvalidArgumentError(
                f"no transaction {bytes(txid).hex()[:16]}… in this chain", "txid", txid
            )
        return int(row[0]), int(row[1]), decode(row[2], self.genesis.algorithm)

    def block_hashes(self) -> list[bytes]:
        """Every block hash in height order, recomputed from the stored headers."""
        from gridledger import hashing

        headers = [r[0] for r in self._conn.execute("SELECT header FROM blocks ORDER BY height")]
        flat = hashing.hash_many(headers, self.genesis.algorithm).tobytes()
        return [flat[i : i + 32] for i in range(0, len(flat), 32)]

    def keys(self) -> pl.DataFrame:
        """Key ids, public keys (hex) and labels."""
        rows = self._conn.execute("SELECT id, pk, label FROM keys ORDER BY id").fetchall()
        return pl.DataFrame(
            {
                "key_id": [r[0] for r in rows],
                "public_key": [r[1].hex() for r in rows],
                "label": [r[2] for r in rows],
            },
            schema={"key_id": pl.Int64, "public_key": pl.String, "label": pl.String},
        )

    def allocations(self, *, asset: int = 0, members_only: bool = True) -> pl.DataFrame:
        """Energy (Wh, or votes with ``asset=1``) credited per virtual meter and period.

        Columns: ``period``, ``height``, ``label``, ``amount``. With
        ``members_only`` only the members' virtual generation meters are listed.
        """
        asset = check_index("asset", asset, 1)
        where = "AND k.id BETWEEN 1 AND ?" if members_only else "AND ? >= 0"
        rows = self._conn.execute(
            f"""SELECT b.period, o.height, k.label, SUM(o.amount)
                FROM outputs o JOIN blocks b ON b.height = o.height JOIN keys k ON k.id = o.owner
                WHERE o.asset = ? {where}
                GROUP BY o.height, o.owner ORDER BY o.height, o.owner""",
            (asset, len(self.genesis.members)),
        ).fetchall()
        return pl.DataFrame(
            rows,
            schema={"period": pl.Int64, "height": pl.Int64, "label": pl.String, "amount": pl.Int64},
            orient="row",
        )

    def balances(self, height: int | None = None) -> pl.DataFrame:
        """Unspent energy (Wh) and votes per key at ``height`` (the tip by default).

        Votes are counted whether or not they are still valid; ``expires``
        tells (see :meth:`allocations`).
        """
        h = self.height if height is None else check_index("height", height)
        rows = self._conn.execute(
            """SELECT k.id, k.label,
                      SUM(CASE WHEN o.asset = 0 THEN o.amount ELSE 0 END),
                      SUM(CASE WHEN o.asset = 1 THEN o.amount ELSE 0 END)
               FROM outputs o JOIN keys k ON k.id = o.owner
               WHERE o.height <= ? AND (o.spent_height IS NULL OR o.spent_height > ?)
               GROUP BY o.owner ORDER BY o.owner""",
            (h, h),
        ).fetchall()
        return pl.DataFrame(
            rows,
            schema={"key_id": pl.Int64, "label": pl.String, "energy_wh": pl.Int64, "votes": pl.Int64},
            orient="row",
        )

    def export_parquet(self, directory: str | Path) -> dict[str, Path]:
        """Write ``blocks``, ``transactions``, ``outputs`` and ``keys`` as Parquet files."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        queries = {
            "blocks": "SELECT height, period, hash, n_tx, first_tx FROM blocks ORDER BY height",
            "transactions": "SELECT seq, id, height, idx, kind, length(data) AS size FROM txs ORDER BY seq",
            "outputs": "SELECT tx, idx, height, owner, asset, amount, expires, spent_height "
            "FROM outputs ORDER BY tx, idx",
        }
        paths = {}
        for name, q in queries.items():
            cur = self._conn.execute(q)
            cols = [d[0] for d in cur.description]
            frame = pl.DataFrame(cur.fetchall(), schema=cols, orient="row", infer_schema_length=None)
            paths[name] = out / f"{name}.parquet"
            frame.write_parquet(paths[name])
        paths["keys"] = out / "keys.parquet"
        self.keys().write_parquet(paths["keys"])
        return paths

    def size_bytes(self) -> int:
        """Bytes on disk: the database file and its WAL."""
        return sum(
            Path(f"{self.path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{self.path}{s}").exists()
        )

    def verify(self, progress: Callable[[int], None] | None = None) -> VerifyReport:
        """Re-check every block from genesis (see :mod:`gridledger.ledger.verify`).

        Never raises on a bad chain: the report names the first failure's
        height and reason. A valid chain's replayed state becomes
        :attr:`chain`. ``progress`` is called with each height checked.
        """
        report, chain = check_database(self._conn, self.genesis, progress)
        if chain is not None:
            self._chain = chain
        return report


class StorePipeline:
    """Blocks validated on the caller's thread, written on a writer thread (:meth:`ChainStore.pipeline`)."""

    def __init__(self, store: ChainStore) -> None:
        self._store = store
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridledger-store")
        self._pending: deque[Future[None]] = deque()
        self._error: BaseException | None = None
        self._failed = False

    def append_raw(
        self, header: bytes, signature: bytes, blob: bytes, offsets: NDArray[np.int64]
    ) -> BlockReceipt:
        """Validate and apply the block now; store it on the writer thread."""
        self._drain(keep=1)
        chain = self._store.chain
        receipt = chain.check_raw(header, signature, blob, offsets)
        base = len(chain.keys())
        chain.commit(receipt)
        self._pending.append(self._pool.submit(self._write, header, signature, blob, offsets, receipt, base))
        return receipt

    def _write(
        self,
        header: bytes,
        signature: bytes,
        blob: bytes,
        offsets: NDArray[np.int64],
        receipt: BlockReceipt,
        key_base: int,
    ) -> None:
        # On the writer thread, in order: after a failed block, none of the later ones is
        # written, so the file never skips a height.
        if self._failed:
            raise InvalidBlockError("an earlier block's write failed", "height", Header.decode(header).height)
        try:
            self._store._write(header, signature, blob, offsets, receipt, key_base)
        except BaseException:
            self._failed = True
            raise

    def _drain(self, keep: int) -> None:
        """Wait until at most ``keep`` writes are in flight; raise a failed write's error."""
        while len(self._pending) > keep:
            e = self._pending.popleft().exception()
            if e is not None and self._error is None:
                self._error = e
        if self._error is not None:
            # Later writes were queued after the failure: let them finish or fail too,
            # then forget the in-memory state, which is ahead of the file.
            for f in self._pending:
                f.exception()
            self._pending.clear()
            self._store._chain = None
            raise self._error

    def close(self) -> None:
        """Wait for every write; raise the first failed write's error."""
        try:
            self._drain(keep=0)
        finally:
            self._pool.shutdown(wait=True)

    def __enter__(self) -> StorePipeline:
        """Enter the ``with`` block: the pipeline itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Leave the ``with`` block: write every pending block, then stop the writer thread."""
        self.close()
