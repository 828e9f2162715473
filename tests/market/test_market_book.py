"""The Rust order book: seed 004's reference case, every operation, bad input,
and random streams against the pure-Python reference engine (hypothesis)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import polars as pl
import pytest
from gridledger.errors import BadConfigurationError, GridLedgerError, InvalidArgumentError, NotAuthorisedError
from gridledger.market import OrderBook, ops_frame
from gridledger.market.book import RECORDS_MIN_ROWS, _records, _tape_frame
from hypothesis import given, settings
from hypothesis import strategies as st
from market_reference import RefBook


def test_seed_004_reference_case() -> None:
    """Sell 1.9 ENT at 0.5 rests; a buy of 10 at 1.0 trades 1.9 at 0.5 and rests with 8.1 at 1.0.

    Units: 0.1 ENT and 0.1 eEuro per ENT, so 1.9 ENT is 19 and 0.5 is 5.
    """
    book = OrderBook()
    sell = book.submit("sell", 5, 19, owner=3)
    assert sell.trades == () and sell.remaining == 19
    buy = book.submit("buy", 10, 100, owner=1)
    assert [(t.price, t.quantity) for t in buy.trades] == [(5, 19)]
    assert buy.remaining == 81
    assert sum(t.price * t.quantity for t in buy.trades) == 95  # 0.95 eEuro in 0.01 units
    assert book.depth().rows() == [("buy", 10, 81, 1)]


def test_price_time_priority_partial_fills_and_rules() -> None:
    book = OrderBook(price_rule="midpoint")
    a = book.submit("sell", 10, 5, owner=1).order_id
    b = book.submit("sell", 10, 5, owner=2).order_id
    c = book.submit("sell", 9, 5, owner=3).order_id
    t = book.submit("buy", 12, 12, owner=4)
    assert [(x.maker_id, x.quantity, x.price) for x in t.trades] == [(c, 5, 10), (a, 5, 11), (b, 2, 11)]
    assert book.orders() == [(b, 2, "sell", 10, 3)]
    m = book.submit("buy", 0, 10, owner=5, kind="market")
    assert m.trades[0].price == 10 and m.remaining == 7 and len(book) == 0  # market takes the resting price


def test_cancel_reduce_replace_expire_and_owner_checks() -> None:
    book = OrderBook()
    x = book.submit("buy", 15, 8, owner=5, period=1).order_id
    book.reduce(x, 3)
    with pytest.raises(InvalidArgumentError):
        book.reduce(x, 3)
    with pytest.raises(NotAuthorisedError):
        book.cancel(x, owner=6)
    assert book.cancel(x, owner=5) == 3
    with pytest.raises(InvalidArgumentError):
        book.cancel(x)
    y = book.submit("buy", 15, 4, owner=5, period=1).order_id
    z = book.submit("sell", 30, 4, owner=6, period=9).order_id
    r = book.replace(z, 14, 4)
    assert r.order_id == z and r.trades[0].maker_id == y and len(book) == 0
    keep = book.submit("buy", 5, 1, owner=1, period=7).order_id
    old = book.submit("buy", 6, 1, owner=1, period=2).order_id
    assert book.expire(3) == [(old, 1)] and book.orders()[0][0] == keep


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda b: b.submit("buy", 5, 0, owner=1), InvalidArgumentError),
        (lambda b: b.submit("buy", 5, -3, owner=1), InvalidArgumentError),
        (lambda b: b.submit("buy", 0, 1, owner=1), InvalidArgumentError),
        (lambda b: b.submit("buy", 1001, 1, owner=1), InvalidArgumentError),
        (lambda b: b.submit("hold", 5, 1, owner=1), BadConfigurationError),
        (lambda b: b.submit("buy", 5, 1, owner=1, kind="stop"), BadConfigurationError),
        (lambda b: b.cancel(999), InvalidArgumentError),
        (
            lambda b: b.replay(ops_frame(op=[0, 0], side=[0, 0], price=[5, float("nan")], quantity=[1, 1])),
            InvalidArgumentError,
        ),
        (
            lambda b: b.replay(ops_frame(op=[0, 9], side=[0, 0], price=[5, 5], quantity=[1, 1])),
            InvalidArgumentError,
        ),
        (lambda b: b.replay(ops_frame(op=[0, 0], price=[5, 1001], quantity=[1, 1])), InvalidArgumentError),
    ],
)
def test_bad_input_leaves_the_book_unchanged(call: object, error: type[Exception]) -> None:
    book = OrderBook(max_price=1000)
    book.submit("sell", 10, 5, owner=1)
    book.submit("buy", 4, 5, owner=2)
    before = book.orders()
    with pytest.raises(error):
        call(book)  # type: ignore[operator]
    assert book.orders() == before


def test_unknown_price_rule_and_self_trade_policies() -> None:
    with pytest.raises(BadConfigurationError):
        OrderBook(price_rule="vwap")  # type: ignore[arg-type]
    with pytest.raises(BadConfigurationError):
        OrderBook(self_trade="sometimes")  # type: ignore[arg-type]
    r = OrderBook(self_trade="reject")
    r.submit("sell", 10, 5, owner=1)
    with pytest.raises(InvalidArgumentError):
        r.submit("buy", 10, 5, owner=1)
    assert len(r) == 1
    c = OrderBook(self_trade="cancel_resting")
    c.submit("sell", 10, 5, owner=1)
    c.submit("sell", 11, 5, owner=2)
    t = c.submit("buy", 11, 5, owner=1)
    assert [x.maker_owner for x in t.trades] == [2] and len(c) == 0


def test_replay_accepts_frames_and_structured_arrays() -> None:
    ops = ops_frame(
        op=[0, 0, 1, 0],
        side=[1, 0, 0, 0],
        price=[10, 9, 0, 12],
        quantity=[5, 5, 0, 3],
        owner=[1, 2, 0, 3],
        order_id=[0, 0, 2, 0],
    )
    a, sa = OrderBook().replay(ops)
    arr = np.zeros(
        4,
        dtype=[
            ("op", "u1"),
            ("side", "u1"),
            ("price", "i8"),
            ("quantity", "i8"),
            ("owner", "i8"),
            ("order_id", "i8"),
        ],
    )
    for c in arr.dtype.names or ():
        arr[c] = ops[c].to_numpy()
    b, sb = OrderBook().replay(arr)
    assert a.equals(b) and sa.tolist() == sb.tolist() == [0, 0, 0, 0]
    assert a.rows() == [(1, 1, 3, 1, 3, 10, 3)]  # ids 1, 2, 3: a cancel takes none
    _, st2 = OrderBook().replay(
        ops_frame(op=[1, 2, 3], order_id=[7, 7, 7], price=[1, 1, 1], quantity=[1, 1, 1])
    )
    assert st2.tolist() == [1, 1, 1]


ops_strategy = st.lists(
    st.tuples(
        st.sampled_from([0, 0, 0, 1, 2, 3]),
        st.integers(0, 1),
        st.sampled_from([0, 0, 0, 1, 2]),
        st.integers(1, 20),
        st.integers(1, 12),
        st.integers(0, 4),
        st.integers(0, 40),
        st.integers(0, 3),
    ),
    max_size=120,
)


@settings(max_examples=300, deadline=None)
@given(
    ops_strategy,
    st.sampled_from(["resting", "midpoint"]),
    st.sampled_from(["allow", "cancel_resting", "reject"]),
)
def test_random_streams_match_the_reference_engine(
    ops: list[tuple[int, ...]], rule: str, self_trade: str
) -> None:
    ref = RefBook(price_rule=rule, self_trade=self_trade, max_price=20)
    book = OrderBook(price_rule=rule, self_trade=self_trade, max_price=20)  # type: ignore[arg-type]
    want_tape, want_status = ref.replay(ops)
    frame = pl.DataFrame(
        ops, schema=["op", "side", "kind", "price", "quantity", "owner", "order_id", "period"], orient="row"
    )
    tape, status = book.replay(frame)
    assert tape.rows() == want_tape
    assert status.tolist() == want_status
    assert book.orders() == ref.orders()
    # One call at a time gives the same book as the batch.
    single = OrderBook(price_rule=rule, self_trade=self_trade, max_price=20)  # type: ignore[arg-type]
    for op in ops:
        single.replay(pl.DataFrame([op], schema=frame.columns, orient="row"))
    assert single.orders() == book.orders()


_RECORD = [
    ("op", "u1"),
    ("side", "u1"),
    ("kind", "u1"),
    ("price", "<i8"),
    ("quantity", "<i8"),
    ("owner", "<i8"),
    ("order_id", "<i8"),
    ("period", "<i8"),
]


@settings(max_examples=150, deadline=None)
@given(ops_strategy, st.sampled_from(["packed", "aligned", "reordered", "strided", "big_endian"]))
def test_structured_arrays_read_in_place_match_the_column_path(
    ops: list[tuple[int, ...]], layout: str
) -> None:
    """Rows read in place (packed, aligned or reordered fields) give the tape
    and statuses of the column path; layouts the core cannot read in place
    (a strided view, big-endian fields) fall back to it."""
    names = [n for n, _ in _RECORD]
    frame = pl.DataFrame(ops, schema=names, orient="row")
    want_tape, want_status = OrderBook(max_price=20).replay(frame)
    if layout == "reordered":
        dtype = np.dtype(list(reversed(_RECORD)))
    elif layout == "big_endian":
        dtype = np.dtype([(n, t.replace("<", ">")) for n, t in _RECORD])
    else:
        dtype = np.dtype(_RECORD, align=layout == "aligned")
    arr = np.zeros(2 * len(ops) if layout == "strided" else len(ops), dtype)
    view = arr[::2] if layout == "strided" else arr
    for i, n in enumerate(names):
        view[n] = [row[i] for row in ops]
    # (a strided view of one row or none is contiguous, and read in place)
    falls_back = layout == "big_endian" or (layout == "strided" and len(ops) > 1)
    records = _records(view, min_rows=0)
    assert (records is None) == falls_back
    if records is not None:
        out = OrderBook(max_price=20)._book.replay_records(*records)
        assert _tape_frame(out).rows() == want_tape.rows()
        assert out["status"].tolist() == want_status.tolist()
    tape, status = OrderBook(max_price=20).replay(view)
    assert tape.rows() == want_tape.rows()
    assert status.tolist() == want_status.tolist()


def test_gathered_rows_name_the_malformed_operation_and_change_nothing() -> None:
    """A long structured array takes the gathering path; its errors name the row."""
    n = RECORDS_MIN_ROWS + 3
    arr = np.zeros(n, np.dtype(_RECORD))
    assert _records(arr) is not None
    arr["price"] = 10 + np.arange(n) % 5
    arr["quantity"] = 5
    arr["side"] = 1
    arr["side"][n - 1] = 7
    book = OrderBook()
    with pytest.raises(InvalidArgumentError, match=rf"ops\[{n - 1}\]\.side"):
        book.replay(arr)
    assert book.orders() == [] and len(book) == 0
    arr["side"][n - 1] = 1
    arr["op"][1] = 9
    with pytest.raises(InvalidArgumentError, match=r"ops\[1\]\.op"):
        book.replay(arr)
    assert len(book) == 0
    arr["op"][1] = 0
    tape, status = book.replay(arr)
    want_tape, want_status = OrderBook().replay(pl.from_numpy(arr))
    assert tape.rows() == want_tape.rows() and status.tolist() == want_status.tolist()
    assert len(book) == n


# --- Issue 19: extreme values (items 1 and 10) -------------------------------------------------

MAX = (1 << 63) - 1


def _state(book: OrderBook) -> tuple[object, ...]:
    """Everything a caller sees of a book, and what a fixed follow-up stream does to a copy of it."""
    return (book.orders(), book.depth(1 << 20).rows(), book.best_bid, book.best_ask, len(book))


def test_three_sells_of_2_63_at_one_price_are_a_typed_error_and_change_nothing() -> None:
    """The issue's case: a PanicException (a BaseException), two of three rows kept, depth() then failing."""
    book = OrderBook()
    book.submit("buy", 3, 7, owner=2)
    before = _state(book)
    ops = ops_frame(op=[0, 0, 0], side=[1, 1, 1], price=[5, 5, 5], quantity=[MAX, MAX, MAX], owner=[1, 1, 1])
    with pytest.raises(InvalidArgumentError, match=r"ops\[1\]\.quantity") as e:
        book.replay(ops)
    assert e.value.field == "ops[1].quantity" and e.value.value == str(MAX)
    assert _state(book) == before
    # one order at a time: the third is refused before it changes anything
    book.submit("sell", 5, MAX - 1, owner=1)
    book.submit("sell", 5, 1, owner=1)
    assert book.depth().rows() == [("buy", 3, 7, 1), ("sell", 5, MAX, 2)]
    full = _state(book)
    with pytest.raises(InvalidArgumentError):
        book.submit("sell", 5, 1, owner=1)
    assert _state(book) == full
    tape, status = book.replay(ops_frame(op=[0], side=[0], price=[5], quantity=[MAX], owner=[3]))
    assert tape["quantity"].to_list() == [MAX - 1, 1] and status.tolist() == [0]


def test_the_midpoint_at_the_ends_of_the_tick_range() -> None:
    book = OrderBook("midpoint", min_price=-(1 << 63), max_price=MAX)
    book.submit("sell", MAX - 1, 1, owner=1)
    assert book.submit("buy", MAX, 1, owner=2).trades[0].price == MAX - 1
    book.submit("buy", -(1 << 63) + 1, 1, owner=1)
    assert book.submit("sell", -(1 << 63), 1, owner=2).trades[0].price == -(1 << 63)  # ⌊(a + b) / 2⌋


def _frame(**cols: Sequence[object]) -> pl.DataFrame:
    return pl.DataFrame({k: pl.Series(k, v) for k, v in cols.items()})


def _records_of(frame: pl.DataFrame, dtypes: dict[str, str]) -> np.ndarray:
    arr = np.zeros(frame.height, [(c, dtypes.get(c, "<i8")) for c in frame.columns])
    for c in frame.columns:
        arr[c] = frame[c].to_list()
    return arr


@pytest.mark.parametrize(
    ("column", "values", "dtype", "value"),
    [
        ("op", [0, 256], "<i8", 256),
        ("op", [0, -1], "<i8", -1),
        ("side", [1, 256], "<i8", 256),
        ("kind", [0, 258], "<u2", 258),
        ("quantity", [1, (1 << 63) + 5], "<u8", (1 << 63) + 5),
        ("quantity", [1, 2.0**63], "<f8", 2.0**63),
        ("price", [5, 1e30], "<f8", 1e30),
        ("price", [5, 5.5], "<f8", 5.5),
        ("owner", [1, (1 << 64) - 1], "<u8", (1 << 64) - 1),
    ],
)
@pytest.mark.parametrize("form", ["frame", "records"])
def test_replay_never_narrows_a_column(
    column: str, values: list[object], dtype: str, value: object, form: str
) -> None:
    """Issue 19 item 10: a value the engine's column type cannot hold is refused by row and value,
    never wrapped (an op or side of 256 was read as 0, a quantity of 2^63 + 5 as 0)."""
    cols: dict[str, object] = {
        "op": [0, 0],
        "side": [1, 1],
        "price": [5, 6],
        "quantity": [1, 1],
        "owner": [1, 1],
    }
    cols[column] = values
    frame = pl.DataFrame(
        cols, schema_overrides={column: {"<u8": pl.UInt64, "<f8": pl.Float64}.get(dtype, pl.Int64)}
    )
    ops: object = frame if form == "frame" else _records_of(frame, {column: dtype})
    book = OrderBook()
    book.submit("buy", 2, 1, owner=9)
    before = _state(book)
    with pytest.raises(InvalidArgumentError) as e:
        book.replay(ops)  # type: ignore[arg-type]
    assert e.value.field == f"ops[1].{column}" and e.value.value == value
    assert _state(book) == before


@pytest.mark.parametrize("gathered", [False, True])
def test_a_negative_quantity_is_reported_as_given(gathered: bool) -> None:
    """It was reported as 0 (on the column path and on the core's gathering path for long arrays)."""
    n = RECORDS_MIN_ROWS + 2 if gathered else 3
    arr = np.zeros(n, np.dtype(_RECORD))
    arr["side"], arr["price"], arr["quantity"] = 1, 7, 1
    arr["quantity"][n - 1] = -5
    assert (_records(arr) is not None) == gathered
    book = OrderBook()
    with pytest.raises(InvalidArgumentError) as e:
        book.replay(arr)
    assert (e.value.field, e.value.value) == (f"ops[{n - 1}].quantity", "-5")
    assert len(book) == 0


@pytest.mark.parametrize("gathered", [False, True])
@pytest.mark.parametrize("op", [1, 2, 3])
def test_a_kind_outside_its_codes_is_refused_on_every_op(op: int, gathered: bool) -> None:
    """A cancel, reduce or replace carrying kind 3 was accepted (kind was checked on submits
    only, side on every row); the fuzz target found it. The stream is refused whole."""
    n = RECORDS_MIN_ROWS + 2 if gathered else 3
    arr = np.zeros(n, np.dtype(_RECORD))
    arr["side"], arr["price"], arr["quantity"], arr["order_id"] = 1, 7, 1, 0
    arr["op"][n - 1], arr["kind"][n - 1] = op, 3
    book = OrderBook()
    with pytest.raises(InvalidArgumentError) as e:
        book.replay(arr)
    assert (e.value.field, e.value.value) == (f"ops[{n - 1}].kind", "3")
    assert len(book) == 0


def test_op_names_and_exact_conversions_still_work() -> None:
    frame = pl.DataFrame(
        {
            "op": ["submit", "submit", "cancel"],
            "side": pl.Series([True, False, False]),
            "price": [5.0, 5.0, 0.0],
            "quantity": np.array([3, 2, 0], np.uint64),
            "owner": np.array([1, 2, 0], np.int8),
            "order_id": [0, 0, 1],
        }
    )
    tape, status = OrderBook().replay(frame)
    assert tape.rows() == [(1, 1, 2, 1, 2, 5, 2)] and status.tolist() == [0, 0, 0]
    with pytest.raises(InvalidArgumentError, match=r"ops\[1\]\.op = 'sumbit'"):
        OrderBook().replay(pl.DataFrame({"op": ["submit", "sumbit"], "quantity": [1, 1]}))
    with pytest.raises(InvalidArgumentError, match=r"ops\[0\]\.price = '5'"):
        OrderBook().replay(pl.DataFrame({"op": [0], "price": ["5"], "quantity": [1]}))


# Values at and past every limit: 0, 1, 2^31, 2^62, 2^63-1, negatives, the tick range's ends and
# beyond. Streams are valid but for at most one field of one row, so that most of them replay far
# enough for large quantities to meet at one of the few prices.
_LO, _HI = -(1 << 40), 1 << 40
_INVALID = {
    0: [4, 255],
    1: [2, 255],
    2: [3],
    3: [_LO - 1, _HI + 1, MAX, -(1 << 63)],
    4: [0, -1, -(1 << 63)],
    5: [-1, -(1 << 63)],
}


@st.composite
def _extreme_ops(draw: st.DrawFn) -> list[tuple[int, ...]]:
    op = st.tuples(
        st.sampled_from([0, 0, 0, 1, 2, 3]),
        st.sampled_from([0, 1]),
        st.sampled_from([0, 0, 0, 1, 2]),
        st.sampled_from([_LO, _HI, 0, 1]),
        st.sampled_from([MAX, MAX - 1, 1 << 62, 1 << 31, 2, 1]),
        st.sampled_from([0, 1, 2]),
        st.one_of(st.integers(-1, 12), st.just(MAX)),
        st.sampled_from([0, 1, -(1 << 63), MAX]),
    )
    ops = [list(x) for x in draw(st.lists(op, max_size=16))]
    if len(ops) > 0 and draw(st.booleans()):
        field = draw(st.sampled_from(sorted(_INVALID)))
        ops[draw(st.integers(0, len(ops) - 1))][field] = draw(st.sampled_from(_INVALID[field]))
    return [tuple(x) for x in ops]


def _book_frame(ops: list[tuple[int, ...]]) -> pl.DataFrame:
    return pl.DataFrame(ops, schema={c: pl.Int64 for c in _COLUMNS_ORDER}, orient="row")


_COLUMNS_ORDER = ["op", "side", "kind", "price", "quantity", "owner", "order_id", "period"]


@settings(max_examples=150, deadline=None)
@given(
    _extreme_ops(),
    _extreme_ops(),
    st.sampled_from(["resting", "midpoint"]),
    st.sampled_from(["allow", "cancel_resting", "reject"]),
    st.sampled_from(["frame", "records", "gathered"]),
)
def test_extreme_streams_succeed_or_raise_a_typed_error_and_change_nothing(
    history: list[tuple[int, ...]], batch: list[tuple[int, ...]], rule: str, self_trade: str, form: str
) -> None:
    """Any stream either replays or raises a GridLedgerError (never a PanicException or another
    exception); a refused stream leaves depth, best bid/ask, the orders and what a later stream does
    exactly as in a twin book that never saw it."""
    books = [OrderBook(rule, self_trade, min_price=_LO, max_price=_HI) for _ in range(2)]  # type: ignore[arg-type]
    for b in books:  # the same history for both (refused or not, identically)
        try:
            b.replay(_book_frame(history))
        except GridLedgerError:
            pass
    book, twin = books
    frame = _book_frame(batch)
    try:
        if form == "frame":
            book.replay(frame)
        else:
            arr = _records_of(frame, dict(_RECORD))
            if form == "records":
                book.replay(arr)
            else:
                records = _records(arr, min_rows=0)
                assert records is not None
                book._book.replay_records(*records)
        refused = False
    except GridLedgerError:
        refused = True
    except BaseException as e:  # the property: nothing else escapes
        pytest.fail(f"{type(e).__name__} escaped replay: {e}")
    if refused:
        assert _state(book) == _state(twin)
    else:
        twin.replay(frame)
        assert _state(book) == _state(twin)
    # every level's total is the exact sum of its orders (no wrapped or saturated total)
    levels: dict[tuple[str, int], list[int]] = {}
    for _, _, side, price, qty in book.orders():
        levels.setdefault((side, price), []).append(qty)
    want = {k: (sum(v), len(v)) for k, v in levels.items()}
    assert {(s, p): (q, n) for s, p, q, n in book.depth(1 << 20).rows()} == want
    assert all(q <= MAX for q, _ in want.values())
    follow = _book_frame([(0, 0, 0, 3, 5, 7, 0, 0), (0, 1, 0, -3, 5, 8, 0, 0), (3, 0, 0, 2, 9, 0, 1, 0)])
    got, want_tape = book.replay(follow), twin.replay(follow)
    assert got[0].equals(want_tape[0]) and got[1].tolist() == want_tape[1].tolist()
    assert _state(book) == _state(twin)


def test_a_column_of_dates_is_refused_by_name() -> None:
    arr = np.zeros(2, [("op", "u1"), ("price", "M8[s]"), ("quantity", "<i8")])
    with pytest.raises(InvalidArgumentError, match=r"ops\.price: a column of datetime64"):
        OrderBook().replay(arr)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda b: b.submit("buy", 5, 1, owner=None), "owner"),
        (lambda b: b.submit("buy", None, 1, owner=1), "price"),
        (lambda b: b.cancel(None), "order_id"),
    ],
)
def test_none_where_an_integer_is_required_is_a_typed_error_and_changes_nothing(
    call: Callable[[OrderBook], object], field: str
) -> None:
    """A None owner in submit escaped as pyo3's TypeError (found by test_fuzz_book::test_single_calls).

    ``owner`` may be None only in ``cancel``, where it means "any owner".
    """
    book = OrderBook()
    rest = book.submit("sell", 10, 3, owner=2).order_id
    before = book.orders()
    with pytest.raises(InvalidArgumentError) as e:
        call(book)
    assert e.value.field == field
    assert book.orders() == before
    assert book.cancel(rest, owner=None) == 3  # cancel's own None still means any owner
