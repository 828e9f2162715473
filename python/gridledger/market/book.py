"""The continuous double auction (SPEC §4): a Rust order book with price–time priority.

Prices are integer ticks and quantities integers (choose the units: e.g.
0.1 ENT and 0.01 eEuro). An incoming order trades while it crosses the best
opposite order (buy price ≥ sell price); the trade price is the resting
order's (``price_rule="resting"``, default) or the mean of the two limit prices
rounded down to a tick (``"midpoint"``; a market order trades at the resting
price). ``self_trade`` decides what happens when an order would meet its own
owner's resting order. Every call validates its arguments before changing
the book: a rejected call leaves it exactly as it was.
"""

from __future__ import annotations

import numbers
from typing import Any, Literal, NamedTuple

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gridledger import _core
from gridledger.errors import InvalidArgumentError

__all__ = ["OP_CODES", "STATUS", "TAPE_SCHEMA", "OrderBook", "Submitted", "Trade", "ops_frame"]

Side = Literal["buy", "sell"]
OrderKind = Literal["limit", "market", "ioc"]
OP_CODES = {"submit": 0, "cancel": 1, "reduce": 2, "replace": 3}
STATUS = {0: "ok", 1: "unknown order", 2: "self-trade refused", 3: "bad reduce"}
TAPE_SCHEMA = {
    "seq": pl.Int64,
    "maker_id": pl.Int64,
    "taker_id": pl.Int64,
    "maker_owner": pl.Int64,
    "taker_owner": pl.Int64,
    "price": pl.Int64,
    "quantity": pl.Int64,
}
_COLUMNS = ("op", "side", "kind", "price", "quantity", "owner", "order_id", "period")
_DTYPES = (np.uint8, np.uint8, np.uint8, np.int64, np.int64, np.int64, np.int64, np.int64)


class Trade(NamedTuple):
    """One trade: the resting (maker) and incoming (taker) orders, price (ticks) and quantity."""

    seq: int
    maker_id: int
    taker_id: int
    maker_owner: int
    taker_owner: int
    price: int
    quantity: int


class Submitted(NamedTuple):
    """What a submit (or replace) did: the order's id, its trades and the quantity left.

    Named tuples, not frozen dataclasses: a frozen dataclass costs ~1.2 µs to
    build, three times the Rust call it wraps (BENCHMARKS.md §7).
    """

    order_id: int
    trades: tuple[Trade, ...]
    remaining: int


class OrderBook:
    """A continuous double auction order book.

    Parameters
    ----------
    price_rule
        ``"resting"`` or ``"midpoint"``.
    self_trade
        ``"allow"``, ``"cancel_resting"`` (cancel the own resting order and go
        on) or ``"reject"`` (refuse the incoming order whole).
    min_price, max_price
        The tick range; prices outside it are refused.
    check_owner
        When true, ``cancel(order_id, owner=...)`` refuses another owner's order.
    """

    def __init__(
        self,
        price_rule: Literal["resting", "midpoint"] = "resting",
        self_trade: Literal["allow", "cancel_resting", "reject"] = "allow",
        *,
        min_price: int = 1,
        max_price: int = 1 << 40,
        check_owner: bool = True,
    ) -> None:
        try:
            self._book = _core.OrderBook(price_rule, self_trade, min_price, max_price, check_owner)
        except (OverflowError, TypeError) as e:
            raise _argument_error(e, price_rule=price_rule, self_trade=self_trade, min_price=min_price,
                                  max_price=max_price) from None  # fmt: skip
        self.price_rule = price_rule
        self.self_trade = self_trade

    def submit(
        self, side: Side, price: int, quantity: int, owner: int, kind: OrderKind = "limit", period: int = 0
    ) -> Submitted:
        """Submit an order (``price`` is ignored for a market order); returns id, trades and remaining."""
        try:
            oid, trades, remaining = self._book.submit(side, price, quantity, owner, kind, period)
        except (OverflowError, TypeError) as e:
            raise _argument_error(e, side=side, price=price, quantity=quantity, owner=owner, kind=kind,
                                  period=period) from None  # fmt: skip
        return Submitted(oid, tuple(map(Trade._make, trades)) if trades else (), remaining)

    def cancel(self, order_id: int, owner: int | None = None) -> int:
        """Cancel a resting order; returns the quantity cancelled."""
        try:
            return self._book.cancel(order_id, owner)
        except (OverflowError, TypeError) as e:
            raise _argument_error(e, optional=("owner",), order_id=order_id, owner=owner) from None

    def reduce(self, order_id: int, new_quantity: int) -> None:
        """Lower a resting order's quantity; it keeps its place in the queue."""
        try:
            self._book.reduce(order_id, new_quantity)
        except (OverflowError, TypeError) as e:
            raise _argument_error(e, order_id=order_id, new_quantity=new_quantity) from None

    def replace(self, order_id: int, price: int, quantity: int) -> Submitted:
        """Move a resting order to a new price and quantity; it loses its time priority."""
        try:
            oid, trades, remaining = self._book.replace(order_id, price, quantity)
        except (OverflowError, TypeError) as e:
            raise _argument_error(e, order_id=order_id, price=price, quantity=quantity) from None
        return Submitted(oid, tuple(map(Trade._make, trades)) if trades else (), remaining)

    def expire(self, before_period: int) -> list[tuple[int, int]]:
        """Cancel every resting order submitted for a period before ``before_period``."""
        try:
            return self._book.expire(before_period)
        except (OverflowError, TypeError) as e:
            raise _argument_error(e, before_period=before_period) from None

    def depth(self, levels: int = 10) -> pl.DataFrame:
        """Return the best ``levels`` price levels of each side: side, price, quantity, orders."""
        try:
            bids, asks = self._book.depth(levels)
        except (OverflowError, TypeError) as e:
            raise _argument_error(e, levels=levels) from None
        rows = [("buy", *b) for b in bids] + [("sell", *a) for a in asks]
        return pl.DataFrame(
            rows,
            schema={"side": pl.String, "price": pl.Int64, "quantity": pl.Int64, "orders": pl.Int64},
            orient="row",
        )

    def orders(self) -> list[tuple[int, int, str, int, int]]:
        """Resting orders (id, owner, side, price, quantity), best price then time first."""
        return self._book.orders()

    @property
    def best_bid(self) -> int | None:
        """The highest resting bid price (ticks), or None when no bid rests."""
        return self._book.best_bid

    @property
    def best_ask(self) -> int | None:
        """The lowest resting ask price (ticks), or None when no ask rests."""
        return self._book.best_ask

    @property
    def nbytes(self) -> int:
        """Bytes held by the book's structures."""
        return self._book.nbytes

    def __len__(self) -> int:
        """Return the number of resting orders."""
        return len(self._book)

    def replay(self, ops: pl.DataFrame | NDArray[np.void]) -> tuple[pl.DataFrame, NDArray[np.uint8]]:
        """Apply a whole stream of operations in one call.

        Parameters
        ----------
        ops
            A polars frame or numpy structured array with columns ``op``
            (0 submit, 1 cancel, 2 reduce, 3 replace, or their names),
            ``side`` (0 buy, 1 sell), ``kind`` (0 limit, 1 market, 2 ioc),
            ``price``, ``quantity``, ``owner``, ``order_id``, ``period``.
            Missing columns default to 0.

        Returns
        -------
        (tape, status)
            The trade tape (seq, maker_id, taker_id, maker_owner, taker_owner,
            price, quantity) and each operation's status (0 ok, 1 unknown
            order, 2 self-trade refused, 3 bad reduce). A malformed operation
            raises before anything changes, naming its index.
        """
        records = _records(ops)
        if records is not None:
            out = self._book.replay_records(*records)
        else:
            out = self._book.replay(*_columns(ops))
        return _tape_frame(out), out["status"]


#: The range of each integer argument the core takes (``depth``'s levels is a usize;
#: every other one an i64).
_INT_RANGES = {"levels": (0, (1 << 64) - 1)}
_I64 = (-(1 << 63), (1 << 63) - 1)
_STR_ARGUMENTS = ("side", "kind", "price_rule", "self_trade")


def _argument_error(error: Exception, optional: tuple[str, ...] = (), **arguments: object) -> Exception:
    """Return the typed error for the argument pyo3 could not convert (it raised ``error``).

    The conversion fails before the core runs, so the book is unchanged. Checking only
    after a failure keeps the accepted path free of per-argument checks. ``optional``
    names the arguments the method accepts as None. Returns ``error`` itself when no
    argument explains it.
    """
    for name, v in arguments.items():
        if name in _STR_ARGUMENTS:
            if not isinstance(v, str):
                return InvalidArgumentError(f"{name} = {v!r}: a string expected", name, v)
            continue
        if v is None and name in optional:  # None is allowed only where the signature says so
            continue
        if not isinstance(v, numbers.Integral):
            return InvalidArgumentError(
                f"{name} = {v!r}: an integer expected, not {type(v).__name__}", name, v
            )
        low, high = _INT_RANGES.get(name, _I64)
        if not low <= int(v) <= high:
            return InvalidArgumentError(f"{name} = {v}: must lie in {low}..{high}", name, int(v))
    return error


def _tape_frame(out: dict[str, NDArray[np.int64]]) -> pl.DataFrame:
    """Return the tape's int64 columns as a frame, zero-copy.

    ``pl.Series(name, array)`` spends ~4.5 µs per column deciding how to read
    the array before calling polars' own int64 constructor; seven of them were
    a third of a 2 000-operation replay. The columns are known int64 arrays,
    so the constructor is called directly (polars is pinned in
    constraints.txt); if a polars release moves it, the public path is used.
    """
    if _PySeries is not None and _PyDataFrame is not None:
        try:
            cols = [_PySeries.new_i64(k, out[k], True) for k in TAPE_SCHEMA]
            return pl.DataFrame._from_pydf(_PyDataFrame(cols))
        except (AttributeError, TypeError):
            pass
    return pl.DataFrame([pl.Series(k, out[k]) for k in TAPE_SCHEMA])


_PyDataFrame: Any
_PySeries: Any
try:  # polars' native constructors (see _tape_frame)
    from polars._plr import PyDataFrame as _PyDataFrame
    from polars._plr import PySeries as _PySeries
except ImportError:  # pragma: no cover - depends on the polars release
    _PyDataFrame = _PySeries = None


_Cols = tuple[
    NDArray[np.uint8], NDArray[np.uint8], NDArray[np.uint8],
    NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64],
]  # fmt: skip


_RECORD_DTYPES = tuple(np.dtype(d).newbyteorder("<") for d in _DTYPES)  # as the core reads them

#: From this many rows, a structured array's fields are gathered by the core in
#: one pass over its rows rather than copied out as eight numpy columns: the
#: copies of a 10^6-row stream are 43 MB of fresh memory each call (BENCHMARKS
#: §7). Below it the numpy copies are small, warm and slightly faster.
RECORDS_MIN_ROWS = 1 << 16


def _records(
    ops: object, min_rows: int = RECORDS_MIN_ROWS
) -> tuple[NDArray[np.uint8], int, int, NDArray[np.int64]] | None:
    """Return a structured array's raw rows and field offsets, or ``None``.

    The array must be C-contiguous with at least ``min_rows`` rows whose
    fields have the engine's own types (uint8 op/side/kind, little-endian
    int64 for the rest); anything else gives ``None`` and takes the column
    path.
    """
    if not (isinstance(ops, np.ndarray) and ops.dtype.names is not None and ops.ndim == 1):
        return None
    if len(ops) < min_rows:
        return None
    if not ops.flags.c_contiguous:
        return None
    fields = ops.dtype.fields or {}
    offsets = np.full(len(_COLUMNS), -1, np.int64)
    for i, (c, dt) in enumerate(zip(_COLUMNS, _RECORD_DTYPES, strict=True)):
        if c in fields:
            if fields[c][0] != dt:
                return None
            offsets[i] = fields[c][1]
    return ops.view(np.uint8).reshape(-1), len(ops), ops.dtype.itemsize, offsets


def _columns(ops: pl.DataFrame | NDArray[np.void]) -> _Cols:
    if isinstance(ops, pl.DataFrame):
        names = set(ops.columns)
        n = ops.height

        def get(c: str) -> object:
            return ops[c].to_numpy() if c in names else np.zeros(n)
    elif isinstance(ops, np.ndarray) and ops.dtype.names is not None:
        names = set(ops.dtype.names)
        n = len(ops)

        def get(c: str) -> object:
            return ops[c] if c in names else np.zeros(n)
    else:
        raise InvalidArgumentError(
            "ops must be a polars frame or a numpy structured array", "ops", type(ops).__name__
        )
    out: list[NDArray[np.generic]] = []
    for c, dt in zip(_COLUMNS, _DTYPES, strict=True):
        col = get(c)
        if c == "op" and isinstance(col, np.ndarray) and col.dtype.kind in "OUS":
            col = _op_codes(col)
        arr = _exact(c, np.asarray(col), np.dtype(dt))
        # Aligned as well: a one-row or empty field view of a packed record is
        # "contiguous" without a copy, at an offset no int64 may start at (and
        # numpy calls an empty array aligned wherever it points).
        out.append(np.require(arr, dtype=dt, requirements=["C", "A"]) if arr.size else np.empty(0, dt))
    return tuple(out)  # type: ignore[return-value]


def _op_codes(col: NDArray[Any]) -> NDArray[np.int64] | NDArray[Any]:
    """Operation names as their codes; a column that is not all names is returned as is."""
    names = [x.decode() if isinstance(x, bytes) else x for x in col.tolist()]
    if not all(isinstance(x, str) for x in names):
        return col
    for i, x in enumerate(names):
        if x not in OP_CODES:
            raise InvalidArgumentError(
                f"ops[{i}].op = {x!r}: expected one of {', '.join(OP_CODES)} or 0..3", f"ops[{i}].op", x
            )
    return np.array([OP_CODES[x] for x in names], np.int64)


def _exact(c: str, arr: NDArray[Any], dt: np.dtype[Any]) -> NDArray[Any]:
    """Column ``c`` as ``dt``, value for value.

    Integers and whole floats are converted when ``dt`` holds them; any value
    it cannot hold (op or side 256, a quantity of 2^63, NaN, 1.5) raises
    :class:`InvalidArgumentError` naming the first such row and its value:
    nothing is ever wrapped or truncated. Other dtypes (strings, dates) are refused.
    """
    if arr.dtype == dt or arr.size == 0:
        return arr
    kind = arr.dtype.kind
    if kind == "b" or (kind in "iu" and np.can_cast(arr.dtype, dt, "safe")):
        return arr.astype(dt)
    info = np.iinfo(dt)
    rng = f"must be an integer in {info.min}..{info.max}"
    if kind == "O":
        for i, x in enumerate(arr.tolist()):
            if not isinstance(x, int) or not info.min <= x <= info.max:
                raise InvalidArgumentError(f"ops[{i}].{c} = {x!r}: {rng}", f"ops[{i}].{c}", x)
        return np.array(arr.tolist(), dt)
    if kind in "iu":
        bad = (arr < info.min) | (arr > info.max)
    elif kind == "f":
        # float(max + 1) is exact (a power of two); float(max) would round up to it.
        bad = ~np.isfinite(arr) | (arr != np.floor(arr)) | (arr < info.min) | (arr >= float(info.max + 1))
        rng = f"must be a whole number in {info.min}..{info.max}"
    else:
        raise InvalidArgumentError(
            f"ops.{c}: a column of {arr.dtype} cannot be read as {dt}", f"ops.{c}", str(arr.dtype)
        )
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        v = arr[i].item()
        raise InvalidArgumentError(f"ops[{i}].{c} = {v}: {rng}", f"ops[{i}].{c}", v)
    return arr.astype(dt)


def ops_frame(**columns: object) -> pl.DataFrame:
    """Return a replay frame from columns, missing ones 0 (a convenience for building streams)."""
    n = max(len(v) for v in columns.values())  # type: ignore[arg-type]
    return pl.DataFrame(
        {c: np.asarray(columns.get(c, np.zeros(n, dt))) for c, dt in zip(_COLUMNS, _DTYPES, strict=True)}
    )
