"""PowerChain fixed-point amounts at their limits (issue 19: unchecked arithmetic, untyped errors)."""

from __future__ import annotations

import pytest
from gridledger.errors import InvalidArgumentError
from gridledger.powerchain.amounts import LIMIT, to_micro, wh_to_micro_kwh


@pytest.mark.parametrize(
    "value", ["1e999999", "-1e999999", "9e999998", "1e400", "4611686018427.387904", "1e13"]
)
def test_amounts_past_the_limit_are_too_large_never_decimal_overflow(value: str) -> None:
    """'1e999999' raised decimal.Overflow (an ArithmeticError, not a GridLedgerError)."""
    with pytest.raises(InvalidArgumentError, match="too large"):
        to_micro("amount", value, allow_negative=True)
    if "e9" in value or "e4" in value:  # the huge ones are too large in Wh as well
        with pytest.raises(InvalidArgumentError, match="too large"):
            wh_to_micro_kwh("energy", value.lstrip("-"))


def test_the_largest_amounts_below_the_limit_are_exact() -> None:
    top = LIMIT - 1
    assert to_micro("amount", f"{top // 10**6}.{top % 10**6:06d}") == top
    assert to_micro("amount", f"-{top // 10**6}.{top % 10**6:06d}", allow_negative=True) == -top
    assert wh_to_micro_kwh("energy", f"{top // 1000}.{top % 1000:03d}") == top
    assert to_micro("amount", "1e-6") == 1 and to_micro("amount", "0", allow_zero=True) == 0
