"""The PowerChain's state: accounts, storage units, sessions, votes, orders, the bridge.

Everything is an integer in micro-units (see :mod:`.amounts`). The state is
changed only by :meth:`State.execute`, which runs one command's handler;
every handler checks everything before it changes anything, so a rejected
command leaves the state exactly as it was (the tests compare state roots).

The imbalance ``D`` is never stored: it is ``total_ent − total_kwh``,
with ``total_ent`` the ENT in circulation (available and locked, not what the
bridge holds in escrow) and ``total_kwh`` the energy of every storage unit.
"""

from __future__ import annotations

import bisect
import heapq
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from gridledger.errors import InvalidArgumentError, NotAuthorisedError
from gridledger.market.book import OrderBook
from gridledger.powerchain.amounts import LIMIT, UNIT
from gridledger.powerchain.codec import Genesis
from gridledger.powerchain.wallet import address_str

__all__ = ["Account", "Lock", "Order", "Session", "State", "Unit"]

ZERO = bytes(20)
MAX_PRICE = 1 << 40  # micro-eEuro per ENT


@dataclass(slots=True)
class Account:
    """An account's balances in micro-units, and its command nonce.

    Available and locked ENT; eEuro available, locked in buy orders and locked
    for withdrawal.
    """

    ent: int = 0
    ent_locked: int = 0
    eur: int = 0
    eur_orders: int = 0
    eur_withdraw: int = 0
    nonce: int = 0


@dataclass(slots=True)
class Unit:
    """A storage unit: its owner, whether it is active, energy and reserved energy (micro-kWh)."""

    owner: bytes
    active: bool
    energy: int = 0
    reserved: int = 0


@dataclass(slots=True)
class Session:
    """A consumption session: ``remaining`` micro-kWh reserved, ``locked`` micro-ENT."""

    id: int
    user: bytes
    unit: bytes
    remaining: int
    locked: int
    expires_at: int


@dataclass(slots=True)
class Order:
    """A resting order on the ENT/eEuro book; ``locked`` is ENT (sell) or eEuro (buy)."""

    id: int
    owner: bytes
    side: int  # 0 buy, 1 sell
    price: int
    remaining: int
    locked: int


@dataclass(slots=True)
class Lock:
    """Tokens locked for a remote address by the bridge."""

    id: int
    sender: bytes
    remote: bytes
    amount: int
    transferred: bool = False


@dataclass
class State:
    """The whole PowerChain state. Build with :meth:`from_genesis`."""

    chain_id: int
    params: list[int]  # M, B, C (millionths), H (s), F (millionths)
    voters: set[bytes]
    now: int
    banker: bytes = ZERO
    bridge_service: bytes = ZERO
    accounts: dict[bytes, Account] = field(default_factory=dict)
    units: dict[bytes, Unit] = field(default_factory=dict)
    sessions: dict[int, Session] = field(default_factory=dict)
    expiry: list[tuple[int, int]] = field(default_factory=list)
    by_user_unit: dict[tuple[bytes, bytes], list[int]] = field(default_factory=dict)  # open session ids
    next_session: int = 1
    votes: dict[bytes, dict[bytes, None]] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    book: OrderBook = field(default_factory=lambda: OrderBook(max_price=MAX_PRICE, check_owner=False))
    owner_ids: dict[bytes, int] = field(default_factory=dict)
    total_ent: int = 0
    total_kwh: int = 0
    total_eur: int = 0
    r: int = 0  # the cost per kWh in millionths, set when |D| grows
    d0: int = 0
    escrow: int = 0
    locks: dict[int, Lock] = field(default_factory=dict)
    next_lock: int = 1
    imported: dict[tuple[int, int], int] = field(default_factory=dict)
    _cache: dict[bytes, bytes] = field(default_factory=dict, repr=False)
    _keys: list[bytes] = field(default_factory=list, repr=False)
    _dirty: set[bytes] = field(default_factory=set, repr=False)

    @classmethod
    def from_genesis(cls, g: Genesis) -> State:
        """Return the state at genesis: the deployer the only voter, time at the genesis timestamp."""
        return cls(chain_id=g.chain_id, params=list(g.params), voters={g.deployer}, now=g.timestamp)

    # --- helpers shared by the handlers ---------------------------------

    @property
    def imbalance(self) -> int:
        """D = ENT in circulation − kWh stored, in micro-units."""
        return self.total_ent - self.total_kwh

    def account(self, addr: bytes) -> Account:
        """Return the account of ``addr``, created empty if new (call only when changing it)."""
        self._dirty.add(b"A" + addr)
        a = self.accounts.get(addr)
        if a is None:
            a = self.accounts[addr] = Account()
        return a

    def peek(self, addr: bytes) -> Account:
        """Return the account of ``addr`` for reading (an empty one if it has none)."""
        return self.accounts.get(addr) or Account()

    def check_supply(self, field_name: str, *, ent: int = 0, kwh: int = 0, eur: int = 0) -> None:
        """Refuse a command that would bring a total to ``LIMIT`` (2⁶² micro-units).

        Every balance, lock, session and order is a part of one of these totals
        (ENT in circulation plus escrow, kWh stored, eEuro), so bounding the
        totals keeps every stored value inside its signed 64-bit field: the state
        root can always be built. Call before changing anything.
        """
        for what, total, add in (
            ("ENT", self.total_ent + self.escrow, ent),
            ("kWh", self.total_kwh, kwh),
            ("eEuro", self.total_eur, eur),
        ):
            if add > 0 and total + add >= LIMIT:
                raise InvalidArgumentError(
                    f"{field_name}: {what} in existence would reach {LIMIT / UNIT:.4g} "
                    f"(2^62 micro-units), the most the chain can hold",
                    field_name,
                    add / UNIT,
                )

    def require_voter(self, caller: bytes) -> None:
        """Raise :class:`NotAuthorisedError` unless ``caller`` is a voter."""
        if caller not in self.voters:
            raise NotAuthorisedError(f"{address_str(caller)} is not a voter", "caller", address_str(caller))

    def require_banker(self, caller: bytes) -> None:
        """Raise :class:`NotAuthorisedError` unless ``caller`` is the banker."""
        if caller != self.banker or caller == ZERO:
            raise NotAuthorisedError(
                f"{address_str(caller)} is not the banker", "caller", address_str(caller)
            )

    def require_unit(self, caller: bytes) -> Unit:
        """Return the caller's storage unit; :class:`NotAuthorisedError` unless it is an active one."""
        u = self.units.get(caller)
        if u is None or not u.active:
            raise NotAuthorisedError(
                f"{address_str(caller)} is not an active storage unit", "caller", address_str(caller)
            )
        return u

    def active_unit(self, field_name: str, unit: bytes) -> Unit:
        """Return storage unit ``unit``; :class:`InvalidArgumentError` naming ``field_name`` if not active."""
        u = self.units.get(unit)
        if u is None:
            raise InvalidArgumentError(
                f"{field_name} = {address_str(unit)}: unknown storage unit", field_name, address_str(unit)
            )
        if not u.active:
            raise InvalidArgumentError(
                f"{field_name} = {address_str(unit)}: storage unit removed", field_name, address_str(unit)
            )
        return u

    def rebase(self, before: int) -> None:
        """Reset the cost r when |D| grew (or changed sign) since ``before``; zero it at equilibrium."""
        d = self.imbalance
        if d == 0:
            self.r = self.d0 = 0
        elif abs(d) > abs(before) or (d > 0) != (before > 0) or before == 0:
            self.d0 = abs(d)
            self.r = max(1, self.d0 * self.params[2] // UNIT)

    # --- sessions expiring ------------------------------------------------

    def push_session(self, s: Session) -> None:
        """Open session ``s``: store it and schedule its expiry."""
        self.touch(b"S", s.id)
        self.sessions[s.id] = s
        heapq.heappush(self.expiry, (s.expires_at, s.id))
        ids = self.by_user_unit.setdefault((s.user, s.unit), [])
        ids.append(s.id)
        ids.sort()

    def sessions_of(self, user: bytes, unit: bytes) -> list[Session]:
        """Return the open sessions of ``user`` with ``unit``, oldest first."""
        return [self.sessions[i] for i in self.by_user_unit.get((user, unit), ())]

    def close_session(self, s: Session) -> None:
        """Return the session's unburned ENT and release its reserved energy."""
        self.touch(b"S", s.id)
        del self.sessions[s.id]
        ids = self.by_user_unit[(s.user, s.unit)]
        ids.remove(s.id)
        if not ids:
            del self.by_user_unit[(s.user, s.unit)]
        a = self.account(s.user)
        a.ent_locked -= s.locked
        a.ent += s.locked
        self.units[s.unit].reserved -= s.remaining

    def expire(self, now: int) -> list[Session]:
        """Close every session expired at ``now`` (expires_at ≤ now); returns them for undo."""
        closed = []
        while self.expiry and self.expiry[0][0] <= now:
            _, sid = heapq.heappop(self.expiry)
            s = self.sessions.get(sid)
            if s is not None:
                self.close_session(s)
                closed.append(s)
        return closed

    def unexpire(self, closed: list[Session]) -> None:
        """Reopen the sessions :meth:`expire` closed (undo), newest first."""
        for s in reversed(closed):
            a = self.account(s.user)
            a.ent -= s.locked
            a.ent_locked += s.locked
            self.units[s.unit].reserved += s.remaining
            self.push_session(s)

    # --- state root records ---------------------------------------------
    #
    # The state root is the Merkle root of one record per item. Accounts,
    # sessions, orders, bridge locks and imports can number thousands, so
    # their records are cached and rebuilt only when touched: every change
    # to one of them goes through ``account()`` or calls ``touch()``. The few
    # others (globals, voters, units, open votes) are rebuilt every time.
    # ``records(fresh=True)`` rebuilds everything (the tests compare both).

    def touch(self, kind: bytes, ident: int | bytes) -> None:
        """Mark an item's record for rebuilding (kind b"S", b"O", b"L" with an int id; b"X" ...)."""
        self._dirty.add(kind + (ident if isinstance(ident, bytes) else ident.to_bytes(12, "big")))

    def _record(self, key: bytes) -> bytes | None:
        kind, ident = key[:1], key[1:]
        pack = struct.pack
        if kind == b"A":
            a = self.accounts.get(ident)
            if a is None or not (a.ent or a.ent_locked or a.eur or a.eur_orders or a.eur_withdraw or a.nonce):
                return None
            return pack(
                "<c20sqqqqqQ", b"A", ident, a.ent, a.ent_locked, a.eur, a.eur_orders, a.eur_withdraw, a.nonce
            )
        n = int.from_bytes(ident, "big")
        if kind == b"S":
            q = self.sessions.get(n)
            return (
                None
                if q is None
                else pack("<cQ20s20sqqQ", b"S", q.id, q.user, q.unit, q.remaining, q.locked, q.expires_at)
            )
        if kind == b"O":
            o = self.orders.get(n)
            return (
                None
                if o is None
                else pack("<cQ20sBqqq", b"O", o.id, o.owner, o.side, o.price, o.remaining, o.locked)
            )
        if kind == b"L":
            k = self.locks.get(n)
            return (
                None
                if k is None
                else pack("<cQ20s20sq?", b"L", k.id, k.sender, k.remote, k.amount, k.transferred)
            )
        chain, lid = n >> 64, n & ((1 << 64) - 1)
        amount = self.imported.get((chain, lid))
        return None if amount is None else pack("<cIQq", b"X", chain, lid, amount)

    def _all_keys(self) -> set[bytes]:
        keys = {b"A" + a for a in self.accounts}
        keys |= {b"S" + i.to_bytes(12, "big") for i in self.sessions}
        keys |= {b"O" + i.to_bytes(12, "big") for i in self.orders}
        keys |= {b"L" + i.to_bytes(12, "big") for i in self.locks}
        keys |= {b"X" + ((c << 64) | i).to_bytes(12, "big") for c, i in self.imported}
        return keys

    def records(self, *, fresh: bool = False) -> list[bytes]:
        """Canonical records of the whole state, one per item: the state root's leaves.

        Order: globals, voters, units, open votes (each sorted), then accounts,
        bridge locks, orders, sessions and imports sorted by key (kind letter,
        then address or big-endian id).
        """
        if fresh:
            self._cache.clear()
            self._keys.clear()
            self._dirty = self._all_keys()
        for key in self._dirty:
            rec = self._record(key)
            if rec is None:
                if self._cache.pop(key, None) is not None:
                    del self._keys[bisect.bisect_left(self._keys, key)]
            else:
                if key not in self._cache:
                    bisect.insort(self._keys, key)
                self._cache[key] = rec
        self._dirty = set()
        pack = struct.pack
        out = [
            pack(
                "<c20s20s" + "q" * 11 + "QQQ", b"G", self.banker, self.bridge_service, *self.params,
                self.total_ent, self.total_kwh, self.total_eur, self.r, self.d0, self.escrow,
                self.next_session, self.next_lock, self.now,
            )
        ]  # fmt: skip
        out += [b"V" + v for v in sorted(self.voters)]
        for addr in sorted(self.units):
            u = self.units[addr]
            out.append(pack("<c20s20s?qq", b"U", addr, u.owner, u.active, u.energy, u.reserved))
        for key in sorted(self.votes):
            out.append(b"Q" + struct.pack("<I", len(key)) + key + b"".join(sorted(self.votes[key])))
        cache = self._cache
        out += [cache[k] for k in self._keys]
        return out


Handler = Callable[..., object]
