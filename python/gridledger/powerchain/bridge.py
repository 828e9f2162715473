"""The bridge between two PowerChain instances (seed 004 §4.2.6): the chain's side.

``lock_tokens(remote_address, amount)`` takes ENT from the caller into the
bridge's escrow, out of circulation, and records a lock with a unique id.
The integration service (:class:`~gridledger.powerchain.service.IntegrationService`)
reads the pending locks, calls ``unlock_tokens`` on the other chain — which
pays the remote address from that chain's escrow and generates the rest —
and then ``tokens_transferred`` here. Only the bridge service address (set by
a vote) may call those two.

Exactly once: ``unlock_tokens`` is keyed by (source chain, lock id) and
refused if that lock was already paid, and the service asks
``is_imported`` before paying, so a service that crashes between any two of
its steps and starts again neither loses nor duplicates tokens.

ENT in escrow is out of circulation: the imbalance D counts only circulating
ENT. Bridged tokens stand for energy that a DSO moves through the grid; the
storage units' ``report_actual_energy`` then brings both sides back to
balance (until it does, D moves on both chains and the cost r follows it).
"""

from __future__ import annotations

from gridledger.errors import DoubleSpendError, InvalidArgumentError, NotAuthorisedError
from gridledger.powerchain.state import ZERO, Lock, State
from gridledger.powerchain.tokens import positive, short
from gridledger.powerchain.wallet import address_str


def _require_service(s: State, caller: bytes) -> None:
    if caller != s.bridge_service or caller == ZERO:
        raise NotAuthorisedError(
            f"{address_str(caller)} is not the bridge service", "caller", address_str(caller)
        )


def lock_tokens(s: State, caller: bytes, now: int, remote: bytes, amount: int) -> int:
    """Lock ``amount`` micro-ENT for ``remote`` on the other chain; returns the lock id."""
    positive("amount", amount)
    have = s.peek(caller).ent
    if have < amount:
        raise short(caller, have, amount, "ENT available")
    before = s.imbalance
    s.account(caller).ent -= amount
    s.escrow += amount
    s.total_ent -= amount
    lock = Lock(s.next_lock, caller, remote, amount)
    s.locks[lock.id] = lock
    s.touch(b"L", lock.id)
    s.next_lock += 1
    s.rebase(before)
    return lock.id


def unlock_tokens(
    s: State, caller: bytes, now: int, source: int, lock_id: int, to: bytes, amount: int
) -> int:
    """Pay ``amount`` micro-ENT to ``to`` for lock ``lock_id`` of chain ``source``.

    Returns the part generated (micro-ENT; the rest came from escrow).
    """
    _require_service(s, caller)
    positive("amount", amount)
    if source == s.chain_id:
        raise InvalidArgumentError(f"source = {source}: a chain cannot import its own lock", "source", source)
    if (source, lock_id) in s.imported:
        raise DoubleSpendError(
            f"lock {lock_id} of chain {source} was already unlocked here", "lock_id", lock_id
        )
    s.check_supply("amount", ent=amount - min(s.escrow, amount))
    before = s.imbalance
    from_escrow = min(s.escrow, amount)
    s.escrow -= from_escrow
    s.total_ent += amount
    s.account(to).ent += amount
    s.imported[(source, lock_id)] = amount
    s.touch(b"X", (source << 64) | lock_id)
    s.rebase(before)
    return amount - from_escrow


def tokens_transferred(s: State, caller: bytes, now: int, lock_id: int) -> None:
    """Mark lock ``lock_id`` as delivered on the other chain."""
    _require_service(s, caller)
    lock = s.locks.get(lock_id)
    if lock is None:
        raise InvalidArgumentError(f"lock_id = {lock_id}: no such lock", "lock_id", lock_id)
    if lock.transferred:
        raise DoubleSpendError(f"lock {lock_id} is already marked transferred", "lock_id", lock_id)
    lock.transferred = True
    s.touch(b"L", lock_id)
