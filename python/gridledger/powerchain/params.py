"""The network parameters of SPEC §5 and their ranges.

======  ========================================  =======  ==================
name    meaning                                   default  allowed
======  ========================================  =======  ==================
``M``   maximum minting cost, ENT per kWh          0.5      M ≥ 0
``B``   maximum burning cost, ENT per kWh          0.5      B ≥ 0
``C``   recovery rate of a missing-energy gap      0.05     0 < C < 1
``H``   consumption session validity, seconds      7200     whole seconds > 0
``F``   storage provider fee, share of the mint    0.20     0 ≤ F ≤ 1
======  ========================================  =======  ==================

Inside, M, B, C and F are millionths (``C = 50_000``) and H whole seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gridledger.errors import BadConfigurationError, InvalidArgumentError
from gridledger.powerchain.amounts import UNIT, Amount, from_micro, to_micro

__all__ = ["PARAMETER_CODES", "Parameters", "check_parameter"]

PARAMETER_CODES = {"M": 0, "B": 1, "C": 2, "H": 3, "F": 4}


@dataclass(frozen=True, slots=True)
class Parameters:
    """The network parameters as Decimals (H in seconds)."""

    M: Decimal = Decimal("0.5")
    B: Decimal = Decimal("0.5")
    C: Decimal = Decimal("0.05")
    H: Decimal = Decimal(7200)
    F: Decimal = Decimal("0.2")

    def micro(self) -> tuple[int, int, int, int, int]:
        """(M, B, C in millionths, H in seconds, F in millionths), each range-checked."""
        return tuple(check_parameter(name, getattr(self, name)) for name in PARAMETER_CODES)  # type: ignore[return-value]

    @classmethod
    def from_micro(cls, m: int, b: int, c: int, h: int, f: int) -> Parameters:
        """Return the parameters of their internal integers (micro-units; H in seconds)."""
        return cls(from_micro(m), from_micro(b), from_micro(c), Decimal(h), from_micro(f))


def check_parameter(name: str, value: Amount) -> int:
    """Return the internal integer of parameter ``name`` set to ``value``; raises if out of range."""
    if not isinstance(name, str) or name not in PARAMETER_CODES:
        raise BadConfigurationError(f"unknown parameter {name!r}: one of M, B, C, H, F", "name", name)
    field = f"parameter {name}"
    if name == "H":
        h = to_micro(field, value, allow_zero=True, allow_negative=True)
        if h <= 0 or h % UNIT:
            raise InvalidArgumentError(f"H = {value}: must be a whole number of seconds > 0", field, value)
        return h // UNIT
    n = to_micro(field, value, allow_zero=True, allow_negative=True)
    if name == "C" and not 0 < n < UNIT:
        raise InvalidArgumentError(f"C = {value}: must lie in (0, 1)", field, value)
    if name == "F" and not 0 <= n <= UNIT:
        raise InvalidArgumentError(f"F = {value}: must lie in [0, 1]", field, value)
    if name in ("M", "B") and n < 0:
        raise InvalidArgumentError(f"{name} = {value}: must be ≥ 0", field, value)
    return n
