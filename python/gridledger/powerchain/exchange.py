"""The ENT/eEuro market (SPEC §5, seed 004 §4.2.5) on the Rust order book.

Prices are micro-eEuro per ENT, quantities micro-ENT. Placing an order locks
its funds: a sell locks the ENT, a buy locks price × quantity eEuro (rounded
up to the micro-eEuro). Trades are at the resting order's price (price–time
priority, partial fills). The buyer pays price × quantity rounded down; when a
buy fills below its limit, the difference between what its lock held for
that quantity and what it paid is released to the buyer at once (so is the
rounding left over when the order completes). Cancelling returns whatever
the order still holds locked. Self-trades are allowed (they only move an
owner's funds back to itself).
"""

from __future__ import annotations

from dataclasses import dataclass

from gridledger.errors import InvalidArgumentError, NotAuthorisedError
from gridledger.powerchain.amounts import UNIT, ceil_div
from gridledger.powerchain.state import MAX_PRICE, Order, State
from gridledger.powerchain.tokens import positive, short
from gridledger.powerchain.wallet import address_str

__all__ = ["Fill", "Placed"]

SIDES = ("buy", "sell")


@dataclass(frozen=True, slots=True)
class Fill:
    """One trade (micro-units): the resting and the incoming order, price, ENT and eEuro paid."""

    maker: int
    taker: int
    price: int
    quantity: int
    paid: int


@dataclass(frozen=True, slots=True)
class Placed:
    """An order placed: its id, its trades and the quantity left resting (micro-ENT)."""

    order_id: int
    fills: tuple[Fill, ...]
    remaining: int


def _owner_id(s: State, addr: bytes) -> int:
    i = s.owner_ids.get(addr)
    if i is None:
        i = s.owner_ids[addr] = len(s.owner_ids)
    return i


def add_order(s: State, caller: bytes, now: int, side: int, price: int, quantity: int) -> Placed:
    if side not in (0, 1):
        raise InvalidArgumentError(f"side = {side}: buy (0) or sell (1)", "side", side)
    positive("price", price)
    positive("quantity", quantity)
    if price > MAX_PRICE:
        raise InvalidArgumentError(f"price = {price / UNIT}: above {MAX_PRICE / UNIT}", "price", price / UNIT)
    acct = s.peek(caller)
    lock = quantity if side == 1 else ceil_div(price * quantity, UNIT)
    if side == 1 and acct.ent < lock:
        raise short(caller, acct.ent, lock, "ENT available", "quantity")
    if side == 0 and acct.eur < lock:
        raise short(caller, acct.eur, lock, "eEuro available", "quantity")
    acct = s.account(caller)
    if side == 1:
        acct.ent -= lock
        acct.ent_locked += lock
    else:
        acct.eur -= lock
        acct.eur_orders += lock
    sub = s.book.submit(SIDES[side], price, quantity, _owner_id(s, caller))  # type: ignore[arg-type]
    mine = Order(sub.order_id, caller, side, price, quantity, lock)
    s.orders[mine.id] = mine
    s.touch(b"O", mine.id)
    fills = []
    for t in sub.trades:
        maker = s.orders[t.maker_id]
        s.touch(b"O", maker.id)
        buy, sell = (maker, mine) if side == 1 else (mine, maker)
        q, paid = t.quantity, t.price * t.quantity // UNIT
        seller, buyer = s.account(sell.owner), s.account(buy.owner)
        sell.remaining -= q
        sell.locked -= q
        seller.ent_locked -= q
        seller.eur += paid
        buy.remaining -= q
        keep = ceil_div(buy.price * buy.remaining, UNIT)
        release = buy.locked - paid - keep
        buy.locked = keep
        buyer.eur_orders -= paid + release
        buyer.eur += release
        buyer.ent += q
        fills.append(Fill(t.maker_id, t.taker_id, t.price, q, paid))
        if maker.remaining == 0:
            del s.orders[maker.id]
    if sub.remaining == 0:
        del s.orders[mine.id]
    return Placed(sub.order_id, tuple(fills), sub.remaining)


def remove_order(s: State, caller: bytes, now: int, order_id: int) -> int:
    """Cancel one of the caller's resting orders; returns the quantity cancelled (micro-ENT)."""
    o = s.orders.get(order_id)
    if o is None:
        raise InvalidArgumentError(f"order_id = {order_id}: no such resting order", "order_id", order_id)
    if o.owner != caller:
        raise NotAuthorisedError(
            f"order {order_id} belongs to {address_str(o.owner)}, not {address_str(caller)}",
            "order_id",
            order_id,
        )
    s.book.cancel(order_id)
    s.touch(b"O", order_id)
    acct = s.account(caller)
    if o.side == 1:
        acct.ent_locked -= o.locked
        acct.ent += o.locked
    else:
        acct.eur_orders -= o.locked
        acct.eur += o.locked
    del s.orders[order_id]
    return o.remaining
