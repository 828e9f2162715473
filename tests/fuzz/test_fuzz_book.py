"""Fuzz the order book: ``OrderBook.replay`` on operation streams (polars frames and
structured arrays of any column dtype) and the single calls with any integers. A rejected
call leaves the book exactly as it was: resting orders, depth, best prices, size."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from fuzzing import FuzzFailure, check, fuzz_settings, is_open, unchanged
from gridledger.errors import GridLedgerError
from gridledger.market import OrderBook
from hypothesis import given
from hypothesis import strategies as st

COLUMNS = ("op", "side", "kind", "price", "quantity", "owner", "order_id", "period")
ENGINE_DTYPES = ("u1", "u1", "u1", "<i8", "<i8", "<i8", "<i8", "<i8")

# While the overflow and narrowing bugs are open (fuzzing.KNOWN_OPEN), quantities stay
# small and columns keep the engine's own dtypes; afterwards any value and dtype is drawn.
SMALL = is_open("book-overflow")
NARROW = is_open("book-narrowing")
QTY = (
    st.integers(-3, 1 << 40)
    if SMALL
    else st.one_of(
        st.integers(-(2**63), 2**63 - 1), st.integers(-3, 50), st.sampled_from([2**62, 2**63 - 1, 2**63 - 2])
    )
)
PRICE = st.one_of(st.integers(-3, 30), st.integers(0, 1 << 41), st.integers(-(2**63), 2**63 - 1))


def _book(rule: str, self_trade: str, top: int) -> OrderBook:
    b = OrderBook(rule, self_trade, min_price=1, max_price=top)  # type: ignore[arg-type]
    for i, (side, price, qty) in enumerate([("buy", 10, 5), ("buy", 9, 7), ("sell", 12, 4), ("sell", 15, 9)]):
        b.submit(side, price, qty, owner=i % 3)  # type: ignore[arg-type]
    return b


def _state(b: OrderBook) -> tuple[Any, ...]:
    return (len(b), b.best_bid, b.best_ask, b.orders(), b.depth(50).rows())


ROW = st.tuples(
    st.integers(0, 3) if NARROW else st.integers(-1, 300),  # op
    st.integers(0, 1) if NARROW else st.integers(-1, 300),  # side
    st.integers(0, 2) if NARROW else st.integers(-1, 300),  # kind
    st.one_of(st.sampled_from([11, 12]), PRICE),
    QTY,
    st.integers(0, 4),  # owner
    st.integers(-1, 12),  # order_id
    st.integers(-1, 3),  # period
)
TOPS = st.sampled_from([1 << 40, 100]) if SMALL else st.sampled_from([1 << 40, 100, 2**63 - 1])


def _as_ops(rows: list[tuple[int, ...]], form: int, dtypes: list[str]) -> object:
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in COLUMNS]
    if form == 0:  # polars frame of int64 columns
        return pl.DataFrame({c: pl.Series(c, list(v), pl.Int64) for c, v in zip(COLUMNS, cols, strict=True)})
    arrays = []
    for v, dt in zip(cols, dtypes, strict=True):
        try:
            arrays.append(np.array(v, dtype=dt))
        except OverflowError:  # the value does not fit the drawn dtype: use the engine's
            arrays.append(np.array(v, dtype="<i8"))
    rec = np.empty(len(rows), dtype=[(c, a.dtype) for c, a in zip(COLUMNS, arrays, strict=True)])
    for c, a in zip(COLUMNS, arrays, strict=True):
        rec[c] = a
    if form == 2:  # a frame built from the arrays' own dtypes
        return pl.DataFrame({c: rec[c] for c in COLUMNS})
    return rec


ANY_DTYPES = ["u1", "i2", "<i8", ">i8", "u8", "f8", "i4"]
DTYPE = st.sampled_from(["u1", "<i8"] if NARROW else ANY_DTYPES)


@fuzz_settings()
@given(
    st.sampled_from(["resting", "midpoint"]),
    st.sampled_from(["allow", "cancel_resting", "reject"]),
    TOPS,
    st.lists(ROW, max_size=12),
    st.integers(0, 2),
    st.lists(DTYPE, min_size=8, max_size=8),
)
def test_replay(
    rule: str, self_trade: str, top: int, rows: list[tuple[int, ...]], form: int, dts: list[str]
) -> None:
    if NARROW:
        dts = list(ENGINE_DTYPES)
        rows = [r if r[3] >= 0 else (*r[:3], -(r[3] + 1), *r[4:]) for r in rows]
    book = _book(rule, self_trade, top)
    before = _state(book)
    ops = _as_ops(rows, form, dts)
    out = check(book.replay, ops)
    if isinstance(out, GridLedgerError):
        unchanged(before, _state(book), "the book")
        return
    tape, status = out
    if not NARROW and any(not (0 <= r[0] <= 3 and 0 <= r[1] <= 1 and 0 <= r[2] <= 2) for r in rows):
        raise FuzzFailure(f"replay accepted an op, side or kind outside its codes: {rows}")
    if len(status) != len(rows):
        raise FuzzFailure(f"{len(status)} statuses for {len(rows)} operations")
    after = check(_state, book)  # depth() and orders() still work
    if isinstance(after, GridLedgerError):
        raise FuzzFailure(f"the book is unreadable after an accepted replay: {after}")
    if any(q <= 0 for *_, q in book.orders()) or any(q <= 0 for q in tape["quantity"].to_list()):
        raise FuzzFailure("a resting order or trade of quantity ≤ 0")


ARITY = [("submit", 6), ("submit", 4), ("cancel", 1), ("cancel", 2), ("reduce", 2), ("replace", 3),
         ("expire", 1), ("depth", 1)]  # fmt: skip
ODD = st.one_of(st.none(), st.text(max_size=2), st.floats(allow_nan=True), st.integers(-(2**65), 2**65))
CALL = st.one_of(
    st.builds(lambda nm, odd: (nm[0], *odd[: nm[1]]), st.sampled_from(ARITY), st.lists(ODD, min_size=6,
              max_size=6)),
    st.tuples(st.just("submit"), st.sampled_from(["buy", "sell", "hold"]), PRICE, QTY, st.integers(-1, 4),
              st.sampled_from(["limit", "market", "ioc", "x"]), st.integers(-(2**64), 2**64)),
    st.tuples(st.just("cancel"), st.integers(-(2**64), 2**64), st.one_of(st.none(), st.integers(-1, 4))),
    st.tuples(st.just("reduce"), st.integers(-1, 10), QTY),
    st.tuples(st.just("replace"), st.integers(-1, 10), PRICE, QTY),
    st.tuples(st.just("expire"), st.integers(-(2**64), 2**64)),
    st.tuples(st.just("depth"), st.integers(-(2**64), 2**64)),
)  # fmt: skip


@fuzz_settings()
@given(st.sampled_from(["resting", "midpoint"]), TOPS, st.lists(CALL, max_size=10))
def test_single_calls(rule: str, top: int, calls: list[tuple[Any, ...]]) -> None:
    book = _book(rule, "allow", top)
    for name, *args in calls:
        before = _state(book)
        out = check(getattr(book, name), *args)
        if isinstance(out, GridLedgerError):
            unchanged(before, _state(book), f"the book ({name}{tuple(args)})")
