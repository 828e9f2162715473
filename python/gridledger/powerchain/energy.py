"""Minting, burning, the imbalance cost and consumption sessions (SPEC §5).

With D = ENT in circulation − kWh stored and r the cost per kWh fixed when
|D| last grew (r = |D|·C, at least one millionth), capped at M for minting
and B for burning:

- D > 0: each kWh produced mints 1 − r ENT and each kWh consumed burns 1 + r,
  so every kWh moves D toward 0 by r;
- D < 0 (the mirror): mint 1 + r, burn 1 − r;
- the kWh that brings D to 0 is split: producing x kWh with x·r ≥ |D| mints
  exactly x − D (the part up to equilibrium at the cost, the rest 1:1);
  consuming x burns x + D. At D = 0 the rate is 1:1 and r = 0.

Rounding (to the micro-unit) always moves D toward 0 no slower than exact
arithmetic and never past it: the cost on a mint or burn when D > 0 is
rounded up, the bonus when D < 0 rounded down. A rate that would go below
zero (M or B above 1) is held at zero.

Of the ENT minted the fraction F (rounded down) goes to the storage unit's
owner and the rest to the producer.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridledger.errors import InsufficientFundsError, InvalidArgumentError
from gridledger.powerchain.amounts import UNIT, ceil_div
from gridledger.powerchain.state import Session, State
from gridledger.powerchain.wallet import address_str

__all__ = ["burn_amount", "burn_rate", "mint_amount", "mint_rate"]


def mint_amount(s: State, x: int) -> int:
    """Micro-ENT minted for ``x`` micro-kWh produced now."""
    d = s.imbalance
    r = min(s.r, s.params[0])
    if d == 0 or r == 0:
        return x
    if d > 0:
        r = min(r, UNIT)
        if x * r >= d * UNIT:
            return x - d
        return x - ceil_div(x * r, UNIT)
    if x * r >= -d * UNIT:
        return x - d
    return x + x * r // UNIT


def burn_amount(s: State, x: int, d: int | None = None) -> int:
    """Micro-ENT burned for ``x`` micro-kWh consumed at imbalance ``d`` (now if None)."""
    if d is None:
        d = s.imbalance
    r = min(s.r, s.params[1])
    if d == 0 or r == 0:
        return x
    if d > 0:
        if x * r >= d * UNIT:
            return x + d
        return x + ceil_div(x * r, UNIT)
    r = min(r, UNIT)
    if x * r >= -d * UNIT:
        return x + d
    return x - x * r // UNIT


def mint_rate(s: State) -> int:
    """ENT minted per kWh now, in millionths (before any split at equilibrium)."""
    d, r = s.imbalance, min(s.r, s.params[0])
    if d == 0:
        return UNIT
    return UNIT - min(r, UNIT) if d > 0 else UNIT + r


def burn_rate(s: State) -> int:
    """ENT burned per kWh now, in millionths (before any split at equilibrium)."""
    d, r = s.imbalance, min(s.r, s.params[1])
    if d == 0:
        return UNIT
    return UNIT + r if d > 0 else UNIT - min(r, UNIT)


@dataclass(frozen=True, slots=True)
class Minted:
    """ENT minted for a production report (micro-units): to the producer and the unit's owner."""

    producer: int
    owner_fee: int


@dataclass(frozen=True, slots=True)
class Consumed:
    """A consumption report (micro-units).

    ENT burned, ENT returned from closed sessions, energy served from sessions
    and energy beyond them (which grows the imbalance).
    """

    burned: int
    returned: int
    from_sessions: int
    beyond_sessions: int


def energy_produced(s: State, caller: bytes, now: int, producer: bytes, x: int) -> Minted:
    unit = s.require_unit(caller)
    if x <= 0:
        raise InvalidArgumentError(f"wh = {x / 1000}: must be positive", "wh", x / 1000)
    minted = mint_amount(s, x)
    s.check_supply("wh", ent=minted, kwh=x)
    fee = minted * s.params[4] // UNIT
    before = s.imbalance
    s.account(producer).ent += minted - fee
    s.account(unit.owner).ent += fee
    unit.energy += x
    s.total_kwh += x
    s.total_ent += minted
    s.rebase(before)
    return Minted(minted - fee, fee)


def energy_consumed(s: State, caller: bytes, now: int, consumer: bytes, x: int) -> Consumed:
    """Serve ``x`` micro-kWh from the consumer's sessions at this unit (oldest first).

    Each session's share burns at the rate in force as it is served. A
    session whose energy is used up closes and returns its unburned ENT.
    Energy beyond the sessions burns nothing, comes out of the unit's
    unreserved energy and grows D. If a session's locked ENT cannot pay for
    its energy at the current rate, it pays what it holds and the shortfall
    grows D the same way.
    """
    unit = s.require_unit(caller)
    if x <= 0:
        raise InvalidArgumentError(f"wh = {x / 1000}: must be positive", "wh", x / 1000)
    mine = s.sessions_of(consumer, caller)
    # plan first, change nothing until the report is known to be acceptable
    plan: list[tuple[Session, int, int]] = []
    left, d = x, s.imbalance
    for q in mine:
        if left == 0:
            break
        y = min(left, q.remaining)
        cost = min(burn_amount(s, y, d), q.locked)
        plan.append((q, y, cost))
        d += y - cost  # kWh out, ENT burned
        left -= y
    served = x - left
    if served > unit.energy or left > unit.energy - unit.reserved:
        free = max(0, unit.energy - unit.reserved)
        raise InvalidArgumentError(
            f"wh = {x / 1000}: the unit holds {unit.energy / 1000} Wh of which {free / 1000} Wh "
            f"is not reserved by other sessions; {left / 1000} Wh beyond the sessions cannot be served",
            "wh",
            x / 1000,
        )
    before = s.imbalance
    burned = returned = 0
    acct = s.account(consumer)
    for q, y, cost in plan:
        s.touch(b"S", q.id)
        q.remaining -= y
        q.locked -= cost
        acct.ent_locked -= cost
        unit.reserved -= y
        unit.energy -= y
        s.total_kwh -= y
        s.total_ent -= cost
        burned += cost
        if q.remaining == 0:
            returned += q.locked
            s.close_session(q)
    unit.energy -= left
    s.total_kwh -= left
    s.rebase(before)
    return Consumed(burned, returned, served, left)


def report_actual_energy(s: State, caller: bytes, now: int, x: int) -> int:
    """Set the unit's stored energy to the measured ``x`` micro-kWh; returns the change."""
    unit = s.require_unit(caller)
    s.check_supply("wh", kwh=x - unit.energy)
    before = s.imbalance
    delta = x - unit.energy
    unit.energy = x
    s.total_kwh += delta
    s.rebase(before)
    return delta


def start_consumption_session(s: State, caller: bytes, now: int, unit_addr: bytes, ent: int) -> Session:
    """Lock ``ent`` micro-ENT with a unit; reserve ent / burn rate micro-kWh (rounded down)."""
    unit = s.active_unit("unit", unit_addr)
    if ent <= 0:
        raise InvalidArgumentError(f"ent = {ent / UNIT}: must be positive", "ent", ent / UNIT)
    acct = s.peek(caller)
    if acct.ent < ent:
        raise InsufficientFundsError(
            f"{address_str(caller)} has {acct.ent / UNIT} ENT available, {ent / UNIT} asked",
            "ent",
            ent / UNIT,
        )
    kwh = ent * UNIT // max(1, burn_rate(s))
    free = unit.energy - unit.reserved
    if kwh > free:
        raise InsufficientFundsError(
            f"unit {address_str(unit_addr)} has {max(0, free) / UNIT} kWh free, "
            f"the session needs {kwh / UNIT}",
            "ent",
            ent / UNIT,
        )
    if kwh == 0:
        raise InvalidArgumentError(
            f"ent = {ent / UNIT}: buys no energy at the current rate", "ent", ent / UNIT
        )
    acct = s.account(caller)
    acct.ent -= ent
    acct.ent_locked += ent
    unit.reserved += kwh
    q = Session(s.next_session, caller, unit_addr, kwh, ent, now + s.params[3])
    s.next_session += 1
    s.push_session(q)
    return q


def clear_old_sessions(s: State, caller: bytes, now: int) -> int:
    """Close the sessions expired by ``now``; returns how many.

    Every other command does this first too, so expiry never waits for this
    command; it exists for a quiet network where no other command comes.
    """
    return len(s.expire(now))
