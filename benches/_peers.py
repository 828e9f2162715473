"""Order books from PyPI driven with the same streams as ours (benchmarks only).

None of these is a dependency of gridledger: ``scripts/bench.sh`` installs them
into ``.venv-bench`` and the benchmarks skip a peer that is missing. Each driver
turns a stream into the peer's own calls before timing, and reads the peer's
trades back as ``(maker_id, taker_id, price, quantity)`` in *our* order ids, so
that the tapes can be compared.

Semantic differences, and how they are bridged:

* ``nanobook`` (Rust, PyO3): limit GTC/IOC, market, cancel, ``modify``. A
  modify is cancel-and-replace under a *new* id (ours keeps the id), and every
  submit, IOC and market order takes an id, as ours does; the driver maps the
  ids up front, so the timed loop is nothing but the calls. No owners (no
  self-trade policy; our streams use ``self_trade="allow"``). ``Exchange``
  records every event and trade, and ``Exchange.replay(events)`` rebuilds an
  exchange from a recorded event list in one call (its batch path).

  nanobook 0.19.2 (the latest release) cancels by the queue position an order
  had when it was inserted (``Order.position_in_level``, a ``VecDeque`` index),
  but a fill pops the front of the queue, so after any fill at a level a later
  cancel or modify there marks the wrong slot: another live order is dropped,
  or nothing is and the level keeps the quantity of a dead order, after which
  the next order that crosses that price loops forever in ``match_at_price``
  (three sells of 10 at one price, a buy of 10, cancel of the second sell, a
  buy of 5: hangs). Every stream with trades meets this sooner or later, so
  :func:`nanobook_valid_prefix` replays nanobook's queues and finds the first
  operation where its cancel would hit the wrong slot; nanobook is compared on
  that prefix only.
* ``cython-orderbook`` (Cython, sortedcontainers): limit and market orders and
  cancel; no replace (emulated: cancel, then a new limit order) and no IOC
  (emulated: a limit order, then a cancel of what rests). Order ids are strings
  from a process-wide counter, so the driver keeps ``our id -> Order`` while it runs.
* ``pyorderbook`` (pure Python, ``Decimal`` prices, ``uuid4`` ids): limit orders
  and cancel only; replace as cancel + new, IOC as limit + cancel, a market
  order as a limit order at the far end of the tick range + cancel. The
  fill price is the resting order's whenever the orders cross, as ours.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

import numpy as np
from _streams import BUY, CANCEL, IOC, LIMIT, MARKET, REPLACE, SUBMIT, Stream

Tape = list[tuple[int, int, int, int]]


def our_tape(tape: Any) -> Tape:
    """(maker_id, taker_id, price, quantity) rows of our tape frame."""
    return list(tape.select("maker_id", "taker_id", "price", "quantity").iter_rows())


# --- nanobook -----------------------------------------------------------------


class NanobookRun:
    """The stream as nanobook calls, its ids mapped to ours before timing."""

    def __init__(self, stream: Stream) -> None:
        self.calls: list[tuple[int, tuple[Any, ...]]] = []
        self.to_ours: list[int] = [0]  # nanobook id -> our id
        ours = {}  # our id -> current nanobook id
        next_ours = 1
        sides = ("buy", "sell")
        for op, side, kind, price, qty, _owner, oid, _period in stream.ops.tolist():
            if op == SUBMIT:
                if kind == MARKET:
                    self.calls.append((1, (sides[side], qty)))
                else:
                    self.calls.append((0, (sides[side], price, qty, "gtc" if kind == LIMIT else "ioc")))
                ours[next_ours] = len(self.to_ours)
                self.to_ours.append(next_ours)
                next_ours += 1
            elif op == CANCEL:
                self.calls.append((2, (ours[oid],)))
            elif op == REPLACE:
                self.calls.append((3, (ours[oid], price, qty)))
                ours[oid] = len(self.to_ours)
                self.to_ours.append(oid)
            else:
                raise ValueError("nanobook has no reduce")

    def bound(self, exchange: Any) -> list[tuple[Callable[..., Any], tuple[Any, ...]]]:
        fns = (exchange.submit_limit, exchange.submit_market, exchange.cancel, exchange.modify)
        return [(fns[c], a) for c, a in self.calls]

    @staticmethod
    def run(calls: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> None:
        for f, a in calls:
            f(*a)

    def tape(self, exchange: Any) -> Tape:
        m = self.to_ours
        return [
            (m[t.passive_order_id], m[t.aggressor_order_id], t.price, t.quantity) for t in exchange.trades()
        ]


class _NanobookQueues:
    """nanobook's price levels as it keeps them: a queue per price with
    cancelled orders left as tombstones (0), an order's insertion index, and
    the front popped by fills (tombstones at the front popped on the way)."""

    def __init__(self) -> None:
        # price -> [ids, head, total]; the live queue is ids[head:]
        self.levels: tuple[dict[int, list[Any]], dict[int, list[Any]]] = ({}, {})
        self.prices: tuple[list[int], list[int]] = ([], [])  # ascending
        self.orders: dict[int, list[int]] = {}  # id -> [side, price, qty, index]

    def insert(self, oid: int, side: int, price: int, qty: int) -> None:
        lv = self.levels[side].get(price)
        if lv is None:
            lv = self.levels[side][price] = [[], 0, 0]
            bisect.insort(self.prices[side], price)
        self.orders[oid] = [side, price, qty, len(lv[0]) - lv[1]]
        lv[0].append(oid)
        lv[2] += qty

    def _drop_level(self, side: int, price: int) -> None:
        del self.levels[side][price]
        p = self.prices[side]
        del p[bisect.bisect_left(p, price)]

    def cancel(self, oid: int) -> bool:
        """Cancel as nanobook does; False if its index names another slot."""
        side, price, qty, index = self.orders.pop(oid)
        lv = self.levels[side][price]
        slot = lv[1] + index
        ok: bool = slot < len(lv[0]) and lv[0][slot] == oid
        if ok:
            lv[0][slot] = 0
            lv[2] -= qty
            if lv[2] == 0:
                self._drop_level(side, price)
        return ok

    def match(self, side: int, limit: int | None, qty: int) -> int:
        other = 1 - side
        prices = self.prices[other]
        while qty > 0 and prices:
            best = prices[-1] if other == BUY else prices[0]
            if limit is not None and (best > limit if side == BUY else best < limit):
                break
            lv = self.levels[other][best]
            ids = lv[0]
            while ids[lv[1]] == 0:
                lv[1] += 1
            maker = self.orders[ids[lv[1]]]
            fill = min(qty, maker[2])
            qty -= fill
            maker[2] -= fill
            lv[2] -= fill
            if maker[2] == 0:
                del self.orders[ids[lv[1]]]
                lv[1] += 1
                if lv[2] == 0:
                    self._drop_level(other, best)
        return qty


def nanobook_valid_prefix(stream: Stream) -> int:
    """Operations of ``stream`` before the first cancel or replace that
    nanobook 0.19.2 would apply to the wrong queue slot (module docstring)."""
    q = _NanobookQueues()
    live: dict[int, int] = {}  # our id -> the id in q (nanobook's, up to numbering)
    next_ours = next_q = 1
    for i, (op, side, kind, price, qty, _owner, oid, _period) in enumerate(stream.ops.tolist()):
        if op == SUBMIT:
            mine, next_ours = next_ours, next_ours + 1
            rem = q.match(side, None if kind == MARKET else price, qty)
            if kind == LIMIT and rem > 0:
                q.insert(next_q, side, price, rem)
                live[mine] = next_q
            next_q += 1
            continue
        if op not in (CANCEL, REPLACE):
            raise ValueError("nanobook has no reduce")
        qid = live.pop(oid, None)
        if qid is None or qid not in q.orders:
            continue  # filled already: the stream never does this
        o_side = q.orders[qid][0]
        if not q.cancel(qid):
            return i
        if op == REPLACE:
            rem = q.match(o_side, price, qty)
            if rem > 0:
                q.insert(next_q, o_side, price, rem)
                live[oid] = next_q
            next_q += 1
    return len(stream.ops)


# --- cython-orderbook ---------------------------------------------------------


def cython_orderbook_run(stream: Stream) -> Callable[[], tuple[Any, dict[str, int]]]:
    """A function that feeds the stream to a fresh ``cython_orderbook.OrderBook``
    and returns it with the map from its order ids to ours."""
    from cython_orderbook import Order, OrderBook, OrderSide

    rows = stream.ops.tolist()
    sides = (OrderSide.BID, OrderSide.ASK)

    def run() -> tuple[Any, dict[str, int]]:
        book = OrderBook()
        live: dict[int, Any] = {}
        theirs: dict[str, int] = {}
        next_ours = 1
        for op, side, kind, price, qty, _owner, oid, _period in rows:
            if op == SUBMIT:
                mine = next_ours
                next_ours += 1
                if kind == MARKET:
                    o = Order(sides[side], qty)
                    theirs[o.order_id] = mine
                    book.add_market_order(o)
                    continue
                o = Order(sides[side], qty, price)
                theirs[o.order_id] = mine
                book.add_limit_order(o)
                if o.remaining_quantity > 0:
                    if kind == IOC:
                        book.cancel_order(o.order_id)
                    else:
                        live[mine] = o
            elif op == CANCEL:
                book.cancel_order(live.pop(oid).order_id)
            else:
                old = live.pop(oid)
                book.cancel_order(old.order_id)
                o = Order(old.side, qty, price)
                theirs[o.order_id] = oid
                book.add_limit_order(o)
                if o.remaining_quantity > 0:
                    live[oid] = o
            # filled makers stay in `live` until cancelled or replaced: never, by construction
        return book, theirs

    return run


def cython_orderbook_tape(book: Any, theirs: dict[str, int]) -> Tape:
    return [
        (theirs[t.filler_id], theirs[t.aggressor_id], int(t.price), int(t.quantity_filled))
        for t in book.trade_log
    ]


# --- pyorderbook --------------------------------------------------------------


def pyorderbook_run(stream: Stream, far: int = 1 << 40) -> Callable[[], tuple[Any, Tape]]:
    """A function that feeds the stream to a fresh ``pyorderbook.Book`` and
    returns it with its tape in our ids."""
    import logging

    from pyorderbook import Book, Order, Side

    logging.getLogger("pyorderbook").setLevel(logging.WARNING)
    logging.getLogger("pyorderbook.book").setLevel(logging.WARNING)
    rows = stream.ops.tolist()
    sides = (Side.BID, Side.ASK)

    def run() -> tuple[Any, Tape]:
        book = Book()
        live: dict[int, Any] = {}
        theirs: dict[Any, int] = {}
        tape: Tape = []
        next_ours = 1

        def trades(blotter: Any) -> None:
            for t in blotter.trades:
                tape.append(
                    (theirs[t.standing_order_id], theirs[t.incoming_order_id], int(t.fill_price),
                     int(t.fill_quantity))
                )  # fmt: skip

        for op, side, kind, price, qty, _owner, oid, _period in rows:
            if op == SUBMIT:
                mine = next_ours
                next_ours += 1
                if kind == MARKET:
                    price = far if side == BUY else 1
                o = Order(sides[side], "X", price, qty)
                theirs[o.id] = mine
                trades(book.match(o))
                if o.quantity > 0:
                    if kind == LIMIT:
                        live[mine] = o
                    else:
                        book.cancel(o)
            elif op == CANCEL:
                book.cancel(live.pop(oid))
            else:
                old = live.pop(oid)
                book.cancel(old)
                o = Order(old.side, "X", price, qty)
                theirs[o.id] = oid
                trades(book.match(o))
                if o.quantity > 0:
                    live[oid] = o
        return book, tape

    return run


def first(stream: Stream, n: int) -> Stream:
    """The stream's first ``n`` operations (a prefix is a valid stream)."""
    ops = stream.ops[:n]
    counts = {k: int(v) for k, v in zip(*np.unique(ops["op"], return_counts=True), strict=True)}
    return Stream(stream.name, ops, {str(k): v for k, v in counts.items()}, 0, 0, 0.0, 0.0)
