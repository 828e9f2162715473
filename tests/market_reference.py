"""A small pure-Python order book with the semantics of gridledger.market.OrderBook.

Used only by the tests: random operation streams must give identical trade
tapes, statuses and books in both engines.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RefOrder:
    id: int
    owner: int
    side: str
    price: int
    qty: int
    period: int


@dataclass
class RefBook:
    price_rule: str = "resting"
    self_trade: str = "allow"
    min_price: int = 1
    max_price: int = 1 << 40
    levels: dict[str, dict[int, list[RefOrder]]] = field(default_factory=lambda: {"buy": {}, "sell": {}})
    by_id: dict[int, RefOrder] = field(default_factory=dict)
    next_id: int = 1
    seq: int = 0

    def _best(self, side: str) -> int | None:
        lv = self.levels[side]
        if not lv:
            return None
        return max(lv) if side == "buy" else min(lv)

    def _crosses(self, side: str, limit: int | None, price: int) -> bool:
        return limit is None or (price <= limit if side == "buy" else price >= limit)

    def _remove(self, o: RefOrder) -> None:
        q = self.levels[o.side][o.price]
        q.remove(o)
        if not q:
            del self.levels[o.side][o.price]
        del self.by_id[o.id]

    def _meets_itself(self, side: str, limit: int | None, qty: int, owner: int) -> bool:
        other = "sell" if side == "buy" else "buy"
        prices = sorted(self.levels[other], reverse=(other == "buy"))
        for p in prices:
            if not self._crosses(side, limit, p) or qty == 0:
                return False
            for o in self.levels[other][p]:
                if qty == 0:
                    break
                if o.owner == owner:
                    return True
                qty -= min(qty, o.qty)
        return False

    def _match(
        self, side: str, limit: int | None, qty: int, owner: int, taker: int
    ) -> tuple[list[tuple[int, ...]], int]:
        other = "sell" if side == "buy" else "buy"
        trades: list[tuple[int, ...]] = []
        while qty > 0:
            best = self._best(other)
            if best is None or not self._crosses(side, limit, best):
                break
            maker = self.levels[other][best][0]
            if maker.owner == owner and self.self_trade == "cancel_resting":
                self._remove(maker)
                continue
            fill = min(qty, maker.qty)
            self.seq += 1
            price = (
                (limit + maker.price) // 2
                if (self.price_rule == "midpoint" and limit is not None)
                else maker.price
            )
            trades.append((self.seq, maker.id, taker, maker.owner, owner, price, fill))
            qty -= fill
            maker.qty -= fill
            if maker.qty == 0:
                self._remove(maker)
        return trades, qty

    def _rest(self, o: RefOrder) -> None:
        self.levels[o.side].setdefault(o.price, []).append(o)
        self.by_id[o.id] = o

    def submit(
        self, side: str, price: int, qty: int, owner: int, kind: str = "limit", period: int = 0
    ) -> tuple[int, list[tuple[int, ...]], int]:
        if qty <= 0 or (kind != "market" and not self.min_price <= price <= self.max_price):
            raise ValueError("bad order")
        limit = None if kind == "market" else price
        if self.self_trade == "reject" and self._meets_itself(side, limit, qty, owner):
            raise ValueError("self trade")
        oid = self.next_id
        self.next_id += 1
        trades, rem = self._match(side, limit, qty, owner, oid)
        if kind == "limit" and rem > 0:
            self._rest(RefOrder(oid, owner, side, price, rem, period))
        return oid, trades, rem

    def cancel(self, oid: int) -> int:
        o = self.by_id[oid]
        self._remove(o)
        return o.qty

    def reduce(self, oid: int, new_qty: int) -> None:
        o = self.by_id[oid]
        if not 0 < new_qty < o.qty:
            raise ValueError("bad reduce")
        o.qty = new_qty

    def replace(self, oid: int, price: int, qty: int) -> tuple[int, list[tuple[int, ...]], int]:
        o = self.by_id[oid]
        if qty <= 0 or not self.min_price <= price <= self.max_price:
            raise ValueError("bad replace")
        if self.self_trade == "reject" and self._meets_itself(o.side, price, qty, o.owner):
            raise ValueError("self trade")
        self._remove(o)
        trades, rem = self._match(o.side, price, qty, o.owner, oid)
        if rem > 0:
            self._rest(RefOrder(oid, o.owner, o.side, price, rem, o.period))
        return oid, trades, rem

    def orders(self) -> list[tuple[int, int, str, int, int]]:
        out = []
        for side in ("buy", "sell"):
            for p in sorted(self.levels[side], reverse=(side == "buy")):
                out += [(o.id, o.owner, o.side, o.price, o.qty) for o in self.levels[side][p]]
        return out

    def replay(self, ops: list[tuple[int, ...]]) -> tuple[list[tuple[int, ...]], list[int]]:
        """ops: (op, side, kind, price, qty, owner, order_id, period) rows, op codes as the Rust book."""
        tape, status = [], []
        sides, kinds = ("buy", "sell"), ("limit", "market", "ioc")
        for op, side, kind, price, qty, owner, oid, period in ops:
            if op == 0:
                try:
                    _, trades, _ = self.submit(sides[side], price, qty, owner, kinds[kind], period)
                    tape += trades
                    status.append(0)
                except ValueError:
                    self.next_id += 0
                    status.append(2)
            elif oid not in self.by_id:
                status.append(1)
            elif op == 1:
                self.cancel(oid)
                status.append(0)
            elif op == 2:
                try:
                    self.reduce(oid, qty)
                    status.append(0)
                except ValueError:
                    status.append(3)
            else:
                try:
                    _, trades, _ = self.replace(oid, price, qty)
                    tape += trades
                    status.append(0)
                except ValueError:
                    status.append(2)
        return tape, status
