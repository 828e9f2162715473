"""Full verification of a stored chain (issue: community ledger, item 5).

Replays every block from genesis through the Rust chain state (header and
link, Merkle root, every signature, every UTXO rule) and compares everything
the store derived (hash columns, ids, key table, outputs and their spends)
with what the replay derives. The first difference is reported with its
height and reason; an edited byte anywhere in the stored content is found.

This module reads the database through a plain ``sqlite3.Connection`` and
the decoded genesis record, and never imports the store:
:class:`~gridledger.ledger.store.ChainStore` calls :func:`check_database`
(its package-internal interface) and keeps the chain it returns.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gridledger.errors import GridLedgerError
from gridledger.ledger.block import Header
from gridledger.ledger.chain import Chain
from gridledger.ledger.genesis import Genesis
from gridledger.ledger.tx import NEVER

__all__ = ["VerifyReport", "check_database"]


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of :meth:`ChainStore.verify`.

    Attributes
    ----------
    ok
        True when every check passed.
    blocks, transactions, signatures
        What was checked before the first failure (everything when ``ok``).
    height
        Height of the failing block (None when ok, or for a failure not tied
        to one block, such as a corrupt database file).
    reason
        What failed.
    error
        Name of the error class (``InvalidSignatureError``, …) or ``"StoreMismatch"``.
    seconds
        Wall time of the check.
    """

    ok: bool
    blocks: int
    transactions: int
    signatures: int
    height: int | None = None
    reason: str | None = None
    error: str | None = None
    seconds: float = 0.0

    def __str__(self) -> str:
        """Return the report on one line: the counts and time (s) if valid, else where and why not."""
        if self.ok:
            return (
                f"chain valid: {self.blocks} blocks, {self.transactions} transactions, "
                f"{self.signatures} signatures verified in {self.seconds:.2f} s"
            )
        at = f"height {self.height}" if self.height is not None else "the database"
        return f"chain INVALID at {at}: {self.error}: {self.reason}"


class _Failure(Exception):
    def __init__(self, height: int | None, reason: str, error: str = "StoreMismatch") -> None:
        super().__init__(reason)
        self.height, self.reason, self.error = height, reason, error


def _expect(cond: bool, height: int | None, reason: str) -> None:
    if not cond:
        raise _Failure(height, reason)


# The SQLite type every stored value must have. A value of another type can pass the
# comparisons below (numpy reads b"30" as 30) while queries see something else.
_INT, _BLOB, _INT_OR_NULL = ("integer",), ("blob",), ("integer", "null")
_TYPES: dict[str, dict[str, tuple[str, ...]]] = {
    "blocks": {"period": _INT, "hash": _BLOB, "header": _BLOB, "signature": _BLOB, "n_tx": _INT,
               "first_tx": _INT},
    "txs": {"id": _BLOB, "height": _INT, "idx": _INT, "kind": _INT, "data": _BLOB},
    "outputs": {"tx": _INT, "idx": _INT, "height": _INT, "owner": _INT, "asset": _INT, "amount": _INT,
                "expires": _INT_OR_NULL, "spent_height": _INT_OR_NULL},
    "keys": {"pk": _BLOB, "label": ("text", "null")},
}  # fmt: skip


def _check_types(conn: sqlite3.Connection) -> None:
    for table, columns in _TYPES.items():
        height = "NULL" if table == "keys" else "CASE typeof(height) WHEN 'integer' THEN height END"
        bad = " OR ".join(f"typeof({c}) NOT IN ({', '.join(map(repr, t))})" for c, t in columns.items())
        row = conn.execute(
            f"SELECT {height}, {', '.join(f'typeof({c})' for c in columns)} FROM {table} WHERE {bad} "
            "ORDER BY 1 LIMIT 1"
        ).fetchone()
        if row is not None:
            col, typ = next((c, t) for c, t in zip(columns, row[1:], strict=True) if t not in columns[c])
            raise _Failure(row[0], f"{table}.{col} holds a {typ} value")
    meta = dict(conn.execute("SELECT key, typeof(value) FROM meta").fetchall())
    want = {"format": "integer", "genesis": "blob", "magic": "blob"}
    _expect(meta == want, None, f"unexpected meta rows or types {meta}")


@dataclass
class _Tally:
    blocks: int = 0
    transactions: int = 0
    signatures: int = 0


def _walk(
    conn: sqlite3.Connection, genesis: Genesis, tally: _Tally, progress: Callable[[int], None] | None
) -> Chain:
    # integrity_check, not quick_check: it also finds index entries that differ from
    # their rows (an edited byte in the id index makes lookups miss a transaction).
    check = conn.execute("PRAGMA integrity_check").fetchone()[0]
    _expect(check == "ok", None, f"SQLite integrity_check: {check}")
    _check_types(conn)
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    chain = Chain(meta["genesis"], keep_blocks=False)
    alg = genesis.algorithm
    spends: list[np.ndarray] = []
    n_outputs = 0
    expected_height = 0
    rows = conn.execute(
        "SELECT height, period, hash, header, signature, n_tx, first_tx FROM blocks ORDER BY height"
    )
    for height, period, bhash, header, sig, n_tx, first in rows:
        _expect(height == expected_height, expected_height, f"block {expected_height} is missing")
        expected_height += 1
        if height == 0:
            g = chain.genesis_block()
            _expect(header == g.header.encode(), 0, "the genesis header does not match the genesis record")
            _expect(sig == bytes(64) and n_tx == 0 and first == 0, 0, "genesis row altered")
            _expect(period == g.period and bhash == g.header.hash(alg), 0, "genesis hash or period altered")
            continue
        txs = conn.execute(
            "SELECT seq, id, height, idx, kind, data FROM txs WHERE seq >= ? AND seq < ? ORDER BY seq",
            (first, first + n_tx),
        ).fetchall()
        _expect(first == chain.n_tx, height, f"first_tx is {first}, the chain has {chain.n_tx} before it")
        _expect(len(txs) == n_tx, height, f"{len(txs)} transactions stored, n_tx says {n_tx}")
        blob = b"".join(t[5] for t in txs)
        offsets = np.zeros(n_tx + 1, dtype=np.int64)
        np.cumsum([len(t[5]) for t in txs], out=offsets[1:])
        try:
            receipt = chain.append_raw(header, sig, blob, offsets)
        except GridLedgerError as e:
            raise _Failure(height, str(e), type(e).__name__) from e
        _expect(bhash == receipt.block_hash, height, "stored block hash differs from H(header)")
        _expect(period == Header.decode(header).period, height, "stored period differs from the header's")
        for i, (seq, txid, th, idx, kind, _) in enumerate(txs):
            _expect(
                (seq, th, idx, kind) == (first + i, height, i, int(receipt.kinds[i])),
                height,
                f"transaction row {seq} altered (seq, height, index or kind)",
            )
            _expect(txid == receipt.ids[i].tobytes(), height, f"stored id of tx {i} differs from H(body)")
        o = receipt.outputs
        stored = conn.execute(
            "SELECT tx, idx, height, owner, asset, amount, expires FROM outputs "
            "WHERE tx >= ? AND tx < ? ORDER BY tx, idx",
            (first, first + n_tx),
        ).fetchall()
        exp = [None if e == NEVER else int(e) for e in o["expires"].tolist()]
        derived = list(
            zip(
                (o["tx"] + first).tolist(),
                o["index"].tolist(),
                [height] * len(exp),
                o["owner"].tolist(),
                o["asset"].tolist(),
                o["amount"].tolist(),
                exp,
                strict=True,
            )
        )
        _expect(stored == derived, height, "stored outputs differ from the transactions' outputs")
        n_outputs += len(derived)
        s = receipt.spent
        if len(s["index"]):
            spends.append(np.column_stack([s["tx_seq"], s["index"], np.full(len(s["index"]), height)]))
        tally.blocks += 1
        tally.transactions += len(receipt.ids)
        tally.signatures += receipt.signatures
        if progress is not None:
            progress(height)
    _expect(expected_height > 0, 0, "block 0 is missing")
    (top,) = conn.execute("SELECT MAX(height) FROM blocks").fetchone()
    _expect(expected_height == top + 1, None, "block heights are not contiguous")
    _rows_beyond_the_tip(conn, chain, n_outputs)
    want = np.concatenate(spends) if spends else np.zeros((0, 3), dtype=np.int64)
    want = want[np.lexsort((want[:, 1], want[:, 0]))]
    got = np.array(
        conn.execute(
            "SELECT tx, idx, spent_height FROM outputs WHERE spent_height IS NOT NULL ORDER BY tx, idx"
        ).fetchall(),
        dtype=np.int64,
    ).reshape(-1, 3)
    if got.shape != want.shape or not np.array_equal(got, want):
        tx, idx = _first_mismatch(got, want)
        (bad,) = conn.execute("SELECT height FROM outputs WHERE tx = ? AND idx = ?", (tx, idx)).fetchone()
        raise _Failure(bad, f"stored spent_height of output ({tx}, {idx}) differs from where it was spent")
    labels = genesis.labels()
    keys = chain.keys()
    stored_keys = conn.execute("SELECT id, pk, label FROM keys ORDER BY id").fetchall()
    want_keys = [(i, k.tobytes(), labels.get(k.tobytes())) for i, k in enumerate(keys)]
    _expect(stored_keys == want_keys, None, "the key table differs from the keys on the chain")
    return chain


def _rows_beyond_the_tip(conn: sqlite3.Connection, chain: Chain, n_outputs: int) -> None:
    """Transaction and output rows that no stored block covers.

    Rows whose height column lies above the last stored block are what is left
    of a block whose row was deleted (the tip's, say): that block is reported
    missing at that height. Other extra rows are tied to no block.
    """
    counts = conn.execute("SELECT (SELECT COUNT(*) FROM txs), (SELECT COUNT(*) FROM outputs)").fetchone()
    if counts == (chain.n_tx, n_outputs):
        return
    (above,) = conn.execute(
        "SELECT MIN(h) FROM (SELECT height AS h FROM txs WHERE height > ?1 "
        "UNION ALL SELECT height FROM outputs WHERE height > ?1)",
        (chain.height,),
    ).fetchone()
    if above is not None:
        raise _Failure(above, f"block {above} is missing: its transaction or output rows are stored")
    _expect(counts[0] == chain.n_tx, None, f"{counts[0]} transaction rows for {chain.n_tx} on the chain")
    _expect(counts[1] == n_outputs, None, f"{counts[1]} output rows for {n_outputs} outputs on the chain")


def _first_mismatch(got: np.ndarray, want: np.ndarray) -> tuple[int, int]:
    """(tx, idx) of the first output whose stored spend differs; the block that made it is reported."""
    diff = set(map(tuple, got.tolist())) ^ set(map(tuple, want.tolist()))
    tx, idx, _ = min(diff)
    return tx, idx


def check_database(
    conn: sqlite3.Connection, genesis: Genesis, progress: Callable[[int], None] | None = None
) -> tuple[VerifyReport, Chain | None]:
    """Check a whole stored chain: the report, and the replayed chain when it is valid.

    The store's package-internal interface to verification: ``conn`` is the
    store's connection (only read), ``genesis`` its decoded genesis record.
    Never raises on a bad chain: the report says what failed and where.
    ``progress`` is called with each height checked.
    """
    t0 = time.perf_counter()
    t = _Tally()
    try:
        chain = _walk(conn, genesis, t, progress)
    except _Failure as f:
        report = VerifyReport(
            False, t.blocks, t.transactions, t.signatures, f.height, f.reason, f.error,
            time.perf_counter() - t0,
        )  # fmt: skip
        return report, None
    except sqlite3.DatabaseError as e:
        report = VerifyReport(
            False, t.blocks, t.transactions, t.signatures, None, f"SQLite: {e}", "DatabaseError",
            time.perf_counter() - t0,
        )  # fmt: skip
        return report, None
    report = VerifyReport(True, chain.height + 1, chain.n_tx, t.signatures, seconds=time.perf_counter() - t0)
    return report, chain
