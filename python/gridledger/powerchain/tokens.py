"""ENT and eEuro transfers and the banker's commands (SPEC §5).

eEuro is created only by the banker's ``mint_eeuro`` and destroyed only by
``burn_eeuro``, which can burn only eEuro its owner locked for withdrawal
with ``lock_eeuro`` (the banker pays the real euro off chain); the banker
can also hand locked eEuro back with ``unlock_eeuro``.
"""

from __future__ import annotations

from gridledger.errors import InsufficientFundsError, InvalidArgumentError
from gridledger.powerchain.amounts import UNIT
from gridledger.powerchain.state import State
from gridledger.powerchain.wallet import address_str


def positive(field: str, n: int) -> None:
    """Raise :class:`InvalidArgumentError` naming ``field`` unless ``n`` (micro-units) is positive."""
    if n <= 0:
        raise InvalidArgumentError(f"{field} = {n / UNIT}: must be positive", field, n / UNIT)


def short(who: bytes, have: int, want: int, what: str, field: str = "amount") -> InsufficientFundsError:
    """Return the error: ``who`` has ``have`` of ``what`` and ``want`` is needed (micro-units)."""
    return InsufficientFundsError(
        f"{address_str(who)} has {have / UNIT} {what}, {want / UNIT} needed", field, want / UNIT
    )


def mint_eeuro(s: State, caller: bytes, now: int, to: bytes, amount: int) -> None:
    """Create ``amount`` micro-eEuro for ``to`` (banker only)."""
    s.require_banker(caller)
    positive("amount", amount)
    s.check_supply("amount", eur=amount)
    s.account(to).eur += amount
    s.total_eur += amount


def burn_eeuro(s: State, caller: bytes, now: int, owner: bytes, amount: int) -> None:
    """Destroy ``amount`` micro-eEuro ``owner`` locked for withdrawal (banker only)."""
    s.require_banker(caller)
    positive("amount", amount)
    have = s.peek(owner).eur_withdraw
    if have < amount:
        raise short(owner, have, amount, "eEuro locked for withdrawal")
    s.account(owner).eur_withdraw -= amount
    s.total_eur -= amount


def unlock_eeuro(s: State, caller: bytes, now: int, owner: bytes, amount: int) -> None:
    """Hand back ``amount`` micro-eEuro ``owner`` locked for withdrawal (banker only)."""
    s.require_banker(caller)
    positive("amount", amount)
    have = s.peek(owner).eur_withdraw
    if have < amount:
        raise short(owner, have, amount, "eEuro locked for withdrawal")
    a = s.account(owner)
    a.eur_withdraw -= amount
    a.eur += amount


def lock_eeuro(s: State, caller: bytes, now: int, amount: int) -> None:
    """Lock ``amount`` micro-eEuro of the caller for withdrawal."""
    positive("amount", amount)
    have = s.peek(caller).eur
    if have < amount:
        raise short(caller, have, amount, "eEuro available")
    a = s.account(caller)
    a.eur -= amount
    a.eur_withdraw += amount


def transfer_ent(s: State, caller: bytes, now: int, to: bytes, amount: int) -> None:
    """Move ``amount`` micro-ENT from the caller to ``to``."""
    positive("amount", amount)
    have = s.peek(caller).ent
    if have < amount:
        raise short(caller, have, amount, "ENT available")
    s.account(caller).ent -= amount
    s.account(to).ent += amount


def transfer_eeuro(s: State, caller: bytes, now: int, to: bytes, amount: int) -> None:
    """Move ``amount`` micro-eEuro from the caller to ``to``."""
    positive("amount", amount)
    have = s.peek(caller).eur
    if have < amount:
        raise short(caller, have, amount, "eEuro available")
    s.account(caller).eur -= amount
    s.account(to).eur += amount
