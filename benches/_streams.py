"""Seeded order streams for the market benchmarks, identical for every engine.

Two mixes (issue: market engines):

``exchange_core``
    Like exchange-core's order benchmark: ≈ 9 % limit (good till cancelled),
    3 % immediate-or-cancel, 6 % cancel and 82 % cancel-and-replace (our
    ``replace``: same id, new price and quantity, back of the queue), about
    1 000 resting orders over about 750 price levels.
``submit_cancel_aggressive``
    70 % passive limit orders, 20 % cancels and 10 % aggressive orders (half
    immediate-or-cancel, half market) that cross the spread.

The generator runs its own small matching engine (price–time priority, the
resting order's price, ids 1, 2, 3… per submit as the book assigns them), so it
knows which orders are live: every cancel and replace names a live order, and
replaying a stream through ``RefBook`` or ``OrderBook`` gives status 0 for every
operation. Aggressive orders are sized from the book they meet (the quantity of
the first k resting orders plus part of the next), with k steered so that the
book stays near its target size while the mix stays as drawn.

Rows are ``(op, side, kind, price, quantity, owner, order_id, period)`` with
the op codes of ``gridledger.market.OrderBook.replay``.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

SUBMIT, CANCEL, REDUCE, REPLACE = 0, 1, 2, 3
BUY, SELL = 0, 1
LIMIT, MARKET, IOC = 0, 1, 2

COLUMNS = ("op", "side", "kind", "price", "quantity", "owner", "order_id", "period")
DTYPE = np.dtype(
    [
        ("op", "u1"),
        ("side", "u1"),
        ("kind", "u1"),
        ("price", "i8"),
        ("quantity", "i8"),
        ("owner", "i8"),
        ("order_id", "i8"),
        ("period", "i8"),
    ]
)
#: The reference price around which orders are placed (ticks).
MID = 100_000


@dataclass(frozen=True)
class Stream:
    """One generated stream: its columns and what it is made of."""

    name: str
    ops: NDArray[np.void]
    #: counts by label (limit, ioc, market, cancel, replace, aggressive...)
    mix: dict[str, int]
    #: resting orders and price levels at the end, as the generator saw them
    resting_at_end: int
    levels_at_end: int
    mean_resting: float
    mean_levels: float

    def __len__(self) -> int:
        return len(self.ops)

    def rows(self) -> list[tuple[int, ...]]:
        """Plain tuples, as ``RefBook.replay`` takes them."""
        return [tuple(int(x) for x in r) for r in self.ops.tolist()]

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame({c: self.ops[c] for c in COLUMNS})

    def shares(self) -> dict[str, float]:
        n = len(self.ops)
        return {k: round(100.0 * v / n, 2) for k, v in sorted(self.mix.items())}


class _Model:
    """The generator's matching engine: just enough to know ids, live orders and quantities."""

    def __init__(self) -> None:
        self.next_id = 1
        self.orders: dict[int, list[int]] = {}  # id -> [side, price, qty]
        self.queues: tuple[dict[int, list[int]], dict[int, list[int]]] = ({}, {})
        self.prices: tuple[list[int], list[int]] = ([], [])  # ascending, per side
        self.live: list[int] = []
        self.pos: dict[int, int] = {}

    def n_levels(self) -> int:
        return len(self.prices[0]) + len(self.prices[1])

    def best(self, side: int) -> int | None:
        p = self.prices[side]
        if not p:
            return None
        return p[-1] if side == BUY else p[0]

    def _rest(self, oid: int, side: int, price: int, qty: int) -> None:
        self.orders[oid] = [side, price, qty]
        q = self.queues[side].get(price)
        if q is None:
            self.queues[side][price] = [oid]
            bisect.insort(self.prices[side], price)
        else:
            q.append(oid)
        self.pos[oid] = len(self.live)
        self.live.append(oid)

    def _unlink(self, oid: int) -> list[int]:
        o = self.orders.pop(oid)
        side, price = o[0], o[1]
        q = self.queues[side][price]
        q.remove(oid)
        if not q:
            del self.queues[side][price]
            p = self.prices[side]
            del p[bisect.bisect_left(p, price)]
        i = self.pos.pop(oid)
        last = self.live.pop()
        if last != oid:
            self.live[i] = last
            self.pos[last] = i
        return o

    def _match(self, side: int, limit: int | None, qty: int) -> int:
        other = 1 - side
        while qty > 0:
            best = self.best(other)
            if best is None or (limit is not None and (best > limit if side == BUY else best < limit)):
                break
            q = self.queues[other][best]
            maker = self.orders[q[0]]
            fill = min(qty, maker[2])
            qty -= fill
            maker[2] -= fill
            if maker[2] == 0:
                self._unlink(q[0])
        return qty

    def submit(self, side: int, kind: int, price: int, qty: int) -> None:
        oid = self.next_id
        self.next_id += 1
        rem = self._match(side, None if kind == MARKET else price, qty)
        if kind == LIMIT and rem > 0:
            self._rest(oid, side, price, rem)

    def cancel(self, oid: int) -> None:
        self._unlink(oid)

    def replace(self, oid: int, price: int, qty: int) -> None:
        side = self._unlink(oid)[0]
        rem = self._match(side, price, qty)
        if rem > 0:
            self._rest(oid, side, price, rem)

    def sweep(self, side: int, k: int, extra: float) -> tuple[int, int]:
        """(quantity, limit price) of an order taking the first ``k`` resting orders
        on the other side whole and a share ``extra`` of the next one."""
        other = 1 - side
        prices = self.prices[other]
        walk = reversed(prices) if other == BUY else iter(prices)
        qty, limit, taken = 0, self.best(other), 0
        for p in walk:
            for oid in self.queues[other][p]:
                o_qty = self.orders[oid][2]
                limit = p
                if taken == k:
                    return qty + int(extra * (o_qty - 1)) + (1 if qty == 0 else 0), p
                qty += o_qty
                taken += 1
        assert limit is not None
        return max(qty, 1), limit


def _sweep_depth(live: int, target: int, base: float, u: float) -> int:
    """Orders an aggressive order should take: ``base`` on average at the target
    size, more above it, fewer below (a proportional controller)."""
    want = base + (live - target) / 20.0
    return max(0, min(60, int(want + u)))


def generate(
    name: str,
    n_ops: int,
    seed: int = 2024,
    *,
    target: int = 1000,
    width: int = 800,
    owners: int = 1000,
    max_qty: int = 100,
) -> Stream:
    """A stream of ``n_ops`` operations.

    ``name`` is ``"exchange_core"`` or ``"submit_cancel_aggressive"``. The
    first ``target`` operations fill the book with passive limit orders;
    they count in the mix. Passive prices are ``MID ∓ U(1, width)``.
    """
    cuts: list[float]  # cumulative shares of the operation kinds
    if name == "exchange_core":
        # cumulative shares: limit, ioc, cancel, (replace)
        cuts, base = [0.09, 0.12, 0.18], 1.0
    elif name == "submit_cancel_aggressive":
        # passive, cancel, (aggressive)
        cuts, base = [0.70, 0.90], 5.0
    else:
        raise ValueError(f"unknown stream {name!r}")
    # One generator per column, so that the first k operations of a stream of
    # n > k are the stream of k (the reference engine runs on a prefix).
    g = [np.random.default_rng(c) for c in np.random.SeedSequence(seed).spawn(7)]
    u_op = g[0].random(n_ops).tolist()
    u_side = g[1].integers(0, 2, n_ops).tolist()
    u_off = g[2].integers(1, width + 1, n_ops).tolist()
    u_qty = g[3].integers(1, max_qty + 1, n_ops).tolist()
    u_own = g[4].integers(1, owners + 1, n_ops).tolist()
    u_a = g[5].random(n_ops).tolist()
    u_b = g[6].random(n_ops).tolist()

    out = np.zeros(n_ops, dtype=DTYPE)
    op_c = np.zeros(n_ops, np.uint8)
    side_c = np.zeros(n_ops, np.uint8)
    kind_c = np.zeros(n_ops, np.uint8)
    price_c = np.zeros(n_ops, np.int64)
    qty_c = np.zeros(n_ops, np.int64)
    owner_c = np.zeros(n_ops, np.int64)
    id_c = np.zeros(n_ops, np.int64)
    mix: Counter[str] = Counter()
    m = _Model()
    resting_sum = levels_sum = 0

    def passive_price(side: int, off: int) -> int:
        return MID - off if side == BUY else MID + off

    for i in range(n_ops):
        side, qty, owner, u = u_side[i], u_qty[i], u_own[i], u_op[i]
        live = len(m.live)
        if i < target or live == 0:
            label = "limit"
        elif name == "exchange_core":
            label = (
                "limit" if u < cuts[0] else "ioc" if u < cuts[1] else "cancel" if u < cuts[2] else "replace"
            )
        else:
            label = "limit" if u < cuts[0] else "cancel" if u < cuts[1] else "aggressive"
        if label in ("ioc", "aggressive") and m.best(1 - side) is None:
            side = 1 - side
        if label == "limit":
            price = passive_price(side, u_off[i])
            m.submit(side, LIMIT, price, qty)
            row = (SUBMIT, side, LIMIT, price, qty, owner, 0)
        elif label in ("ioc", "aggressive"):
            k = _sweep_depth(live, target, base, u_a[i])
            qty, price = m.sweep(side, k, u_b[i])
            kind = IOC if label == "ioc" or u_b[i] < 0.5 else MARKET
            if kind == MARKET:
                price = 0
                label = "market"
            elif label == "aggressive":
                label = "ioc"
            m.submit(side, kind, price, qty)
            row = (SUBMIT, side, kind, price, qty, owner, 0)
        elif label == "cancel":
            oid = m.live[int(u_a[i] * live)]
            side = m.orders[oid][0]
            m.cancel(oid)
            row = (CANCEL, side, 0, 0, 0, 0, oid)
        else:  # replace: a small move, now and then across the spread
            oid = m.live[int(u_a[i] * live)]
            side, old = m.orders[oid][0], m.orders[oid][1]
            opposite = m.best(1 - side)
            if u_b[i] < 0.02 and opposite is not None:
                price, label = opposite, "replace_crossing"
            else:
                step = 1 + u_off[i] % 16
                off = (MID - old if side == BUY else old - MID) + (step if u_off[i] & 16 else -step)
                off = 2 - off if off < 1 else 2 * width - off if off > width else off
                price = passive_price(side, max(1, min(width, off)))
            m.replace(oid, price, qty)
            row = (REPLACE, side, 0, price, qty, 0, oid)
        mix[label] += 1
        (op_c[i], side_c[i], kind_c[i], price_c[i], qty_c[i], owner_c[i], id_c[i]) = row
        resting_sum += len(m.live)
        levels_sum += m.n_levels()

    for col, arr in zip(COLUMNS, (op_c, side_c, kind_c, price_c, qty_c, owner_c, id_c), strict=False):
        out[col] = arr
    return Stream(
        name=name,
        ops=out,
        mix=dict(mix),
        resting_at_end=len(m.live),
        levels_at_end=m.n_levels(),
        mean_resting=resting_sum / max(n_ops, 1),
        mean_levels=levels_sum / max(n_ops, 1),
    )


def resting_book(n: int, seed: int = 7, levels: int = 1000) -> NDArray[np.void]:
    """``n`` limit orders that never cross: buys at ``MID - U(1, levels)``,
    sells at ``MID + U(1, levels)``."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n, dtype=DTYPE)
    side = rng.integers(0, 2, n)
    off = rng.integers(1, levels + 1, n)
    out["side"] = side
    out["price"] = np.where(side == BUY, MID - off, MID + off)
    out["quantity"] = rng.integers(1, 101, n)
    out["owner"] = rng.integers(1, 1001, n)
    return out


def main(argv: list[str]) -> None:
    """``python benches/_streams.py DIR [N]``: write both streams of N operations
    (default 10^6) as raw rows of ``DTYPE`` (43 bytes, little-endian) to
    ``DIR/<name>.bin``, for the criterion bench ``rust/benches/book.rs``."""
    import sys
    from pathlib import Path

    if not argv:
        raise SystemExit(main.__doc__)
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    n = int(argv[1]) if len(argv) > 1 else 10**6
    for name in ("exchange_core", "submit_cancel_aggressive"):
        s = generate(name, n)
        (out / f"{name}.bin").write_bytes(s.ops.astype(DTYPE.newbyteorder("<")).tobytes())
        print(f"{name}: {n} ops, mix {s.shares()}", file=sys.stderr)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
