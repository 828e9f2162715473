"""The power-fluctuation objective PF of seed 003 eq. 5–7, vectorised, and the exact benefit λ.

Θ(t) = P(t) + v·charging(t) − ϖ·discharging(t) (eq. 5), the slope
l(t) = Θ(t) − Θ(t−1) (eq. 6) and PF = the variance of l over a window
(eq. 7, population variance 1/T). Analysis uses floats in kW; the benefit λ
that blocks carry and validators recompute uses exact integers: Θ in Wh per
round, λ as an unsigned 64-bit fixed point of 10⁻¹² kW⁻².
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gridledger.errors import InvalidArgumentError

__all__ = [
    "LAMBDA_MAX",
    "LAMBDA_SCALE",
    "daily_pf",
    "kw_to_wh",
    "lambda_fp",
    "lambda_from_sums",
    "pf",
    "slopes",
    "theta_kw",
    "wh_to_kw",
]

#: λ is stored as floor(LAMBDA_SCALE · λ[kW⁻²]).
LAMBDA_SCALE = 10**12
#: λ of a perfectly flat window (PF = 0), and the cap of every λ.
LAMBDA_MAX = 2**64 - 1


def wh_to_kw(wh: ArrayLike, round_minutes: int) -> NDArray[np.float64]:
    """Energy per round (Wh) to mean power over the round (kW)."""
    return np.asarray(wh, dtype=np.float64) * (60.0 / round_minutes) / 1000.0


def kw_to_wh(kw: ArrayLike, round_minutes: int) -> NDArray[np.int64]:
    """Mean power over a round (kW) to whole Wh per round (rounded half to even)."""
    return np.round(np.asarray(kw, dtype=np.float64) * round_minutes / 60.0 * 1000.0).astype(np.int64)


def theta_kw(
    base_kw: ArrayLike, charging_kw: ArrayLike, discharging_kw: ArrayLike, v: float, varpi: float
) -> NDArray[np.float64]:
    """Aggregate load Θ = P + v·charging − ϖ·discharging (eq. 5), kW, element-wise."""
    return (
        np.asarray(base_kw, dtype=np.float64)
        + v * np.asarray(charging_kw, dtype=np.float64)
        - varpi * np.asarray(discharging_kw, dtype=np.float64)
    )


def slopes(theta: ArrayLike, previous: float | None = None) -> NDArray[np.float64]:
    """l(t) = Θ(t) − Θ(t−1) (eq. 6); with ``previous`` (Θ before the first value) one slope per value."""
    th = np.asarray(theta, dtype=np.float64)
    if previous is not None:
        th = np.concatenate(([previous], th))
    return np.diff(th)


def pf(theta: ArrayLike, previous: float | None = None) -> float:
    """PF (eq. 7): the population variance of the slopes of Θ (kW², for Θ in kW)."""
    ls = slopes(theta, previous)
    if ls.size == 0:
        raise InvalidArgumentError("PF needs at least one slope", "theta", f"{np.size(theta)} values")
    return float(ls.var())


def daily_pf(theta: ArrayLike, rounds_per_day: int, previous: float) -> NDArray[np.float64]:
    """PF of each whole day of Θ: the variance of its ``rounds_per_day`` slopes.

    The first slope of a day runs from the last round of the day before
    (``previous`` for the first day).
    """
    th = np.asarray(theta, dtype=np.float64)
    if rounds_per_day < 1 or th.size % rounds_per_day:
        raise InvalidArgumentError(
            f"Θ has {th.size} rounds, not whole days of {rounds_per_day}", "theta", th.size
        )
    return np.asarray(slopes(th, previous).reshape(-1, rounds_per_day).var(axis=1))


def lambda_from_sums(t: int, s1: int, s2: int, round_minutes: int) -> int:
    """Exact λ of a window of ``t`` slopes (Wh per round) with Σl = s1 and Σl² = s2.

    PF [kW²] = N / t² · (60 / (1000·Δt))² with N = t·s2 − s1²; λ = 1 / PF; the
    result is floor(LAMBDA_SCALE · λ), capped at :data:`LAMBDA_MAX` (PF = 0
    gives the cap). Integers only, so every validator gets the same value.
    """
    if t < 1:
        raise InvalidArgumentError("a window needs at least one slope", "t", t)
    n = t * s2 - s1 * s1
    if n < 0:
        raise InvalidArgumentError("inconsistent window sums (t·Σl² < (Σl)²)", "s2", s2)
    if n == 0:
        return LAMBDA_MAX
    # 1/PF = t² · 10⁶ · Δt² / (3600 · N)
    value = LAMBDA_SCALE * t * t * 1_000_000 * round_minutes * round_minutes // (3600 * n)
    return min(value, LAMBDA_MAX)


def lambda_fp(theta_wh: ArrayLike, round_minutes: int) -> int:
    """Exact λ of the window given as integer Θ values (Wh per round), one more than its slopes."""
    th = [int(x) for x in np.asarray(theta_wh).tolist()]
    ls = [b - a for a, b in itertools.pairwise(th)]
    return lambda_from_sums(len(ls), sum(ls), sum(x * x for x in ls), round_minutes)
