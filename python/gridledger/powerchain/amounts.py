"""Exact fixed-point amounts for the PowerChain (SPEC §5).

Every amount inside the PowerChain is an integer number of micro-units:
micro-ENT, micro-eEuro, micro-kWh (= milli-Wh), and rates and parameters in
millionths. At the API amounts are :class:`decimal.Decimal` (an ``int`` or a
decimal string is accepted too); a value with more digits than the
fixed point holds is refused, never rounded silently. Floats are refused:
they cannot say 0.1 exactly.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from gridledger.errors import InvalidArgumentError

__all__ = ["LIMIT", "UNIT", "Amount", "ceil_div", "from_micro", "to_micro", "wh_to_micro_kwh"]

UNIT = 1_000_000
"""Micro-units per unit: 1 ENT, 1 eEuro, 1 kWh and a rate of 1.0 are 10⁶."""
LIMIT = 1 << 62
"""No amount may reach 2⁶² micro-units (4.6 · 10¹² units): they fit every 64-bit field."""

Amount = Decimal | int | str


def _decimal(field: str, value: Amount) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise InvalidArgumentError(
            f"{field} = {value!r}: amounts are Decimal, int or a decimal string (not float)",
            field,
            value,
        )
    try:
        d = Decimal(value)
    except InvalidOperation:
        raise InvalidArgumentError(f"{field} = {value!r}: not a decimal number", field, value) from None
    if not d.is_finite():
        raise InvalidArgumentError(f"{field} = {value!r}: must be finite", field, value)
    return d


def _scaled(field: str, value: Amount, exponent: int, unit_name: str) -> int:
    """``value × 10^exponent`` as an exact integer, in integer arithmetic.

    Decimal's own ``scaleb`` rounds to the context's 28 digits and raises
    ``decimal.Overflow`` for exponents such as ``1e999999``; the digits and
    exponent are scaled here instead, bounded before any power is built.
    """
    d = _decimal(field, value)
    sign, digits, exp = d.as_tuple()
    assert isinstance(exp, int)  # finite: checked by _decimal
    n_digits = len(digits)
    while n_digits and digits[n_digits - 1] == 0:  # trailing zeros: 1.000 is 1
        n_digits -= 1
        exp += 1
    if n_digits == 0:
        return 0
    e = exp + exponent
    if e < 0:  # the last digit is not 0, so any place below the units is a fraction
        raise InvalidArgumentError(
            f"{field} = {value}: finer than the fixed point (1 {unit_name})", field, value
        )
    if n_digits + e > 40:  # far above LIMIT (19 digits); bounded before any power is built
        raise InvalidArgumentError(f"{field} = {value}: too large", field, value)
    n: int = int("".join(map(str, digits[:n_digits]))) * 10**e
    return -n if sign else n


def to_micro(field: str, value: Amount, *, allow_zero: bool = False, allow_negative: bool = False) -> int:
    """``value`` (ENT, eEuro, kWh or a rate) in micro-units, checked.

    Raises :class:`InvalidArgumentError` for floats, NaN, more than six
    decimals, negative values and (unless ``allow_zero``) zero.
    """
    n = _scaled(field, value, 6, "millionth")
    if abs(n) >= LIMIT:
        raise InvalidArgumentError(f"{field} = {value}: too large", field, value)
    if n < 0 and not allow_negative:
        raise InvalidArgumentError(f"{field} = {value}: must not be negative", field, value)
    if n == 0 and not allow_zero:
        raise InvalidArgumentError(f"{field} = {value}: must be positive", field, value)
    return n


def wh_to_micro_kwh(field: str, wh: Amount, *, allow_zero: bool = False) -> int:
    """Energy in Wh (fractions down to 1 mWh allowed) as micro-kWh (= mWh)."""
    n = _scaled(field, wh, 3, "mWh")
    if n >= LIMIT:
        raise InvalidArgumentError(f"{field} = {wh}: too large", field, wh)
    if n < 0:
        raise InvalidArgumentError(f"{field} = {wh}: must not be negative", field, wh)
    if n == 0 and not allow_zero:
        raise InvalidArgumentError(f"{field} = {wh}: must be positive", field, wh)
    return n


def from_micro(n: int) -> Decimal:
    """Micro-units back to a Decimal with six decimals (``8000000`` → ``Decimal('8.000000')``)."""
    return Decimal(n).scaleb(-6)


def ceil_div(a: int, b: int) -> int:
    """Return ⌈a / b⌉ for integers, b > 0."""
    return -((-a) // b)
