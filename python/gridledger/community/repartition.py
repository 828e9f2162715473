"""How the VPP shares each period's energy among members (SPEC §1, seed 002 §II-A).

A rule gives each member a non-negative weight per period; :func:`allocate`
turns the period's integer energy into integer shares proportional to the
weights with the largest-remainder method, so the shares always sum to the
energy exactly: each member first gets ⌊E·w/W⌋, and the Wh left over go one
each to the members with the largest remainders (ties: lower member index).

Rules:

- :class:`ProRata` — in proportion to each member's consumption in the period
  (the French default); a period where nobody consumed is shared equally.
- :class:`Fixed` — fixed coefficients agreed by the community.
- :class:`Custom` — any function of (periods, energy, consumption).

Integer weights are used exactly. Float weights are first quantised per
period to integers (the period's largest weight becomes 2^30), which changes a
share by at most one part in 2^30 before the exact integer split.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridledger.errors import BadConfigurationError, InvalidArgumentError

__all__ = ["Custom", "Fixed", "ProRata", "RepartitionRule", "allocate", "ideal_shares", "make_rule"]

_SCALE = 1 << 30
WeightFn = Callable[[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]], NDArray[np.generic]]


class RepartitionRule(ABC):
    """A repartition rule: ``weights(periods, energy_wh, consumption_wh) -> (P, M)``."""

    name = "rule"

    @abstractmethod
    def weights(
        self, periods: NDArray[np.int64], energy_wh: NDArray[np.int64], consumption_wh: NDArray[np.int64]
    ) -> NDArray[np.generic]:
        """Non-negative weights, one row per period and one column per member."""


class ProRata(RepartitionRule):
    """Shares in proportion to each member's consumption in the period."""

    name = "pro_rata"

    def weights(
        self, periods: NDArray[np.int64], energy_wh: NDArray[np.int64], consumption_wh: NDArray[np.int64]
    ) -> NDArray[np.generic]:
        """Return each member's consumption (Wh) as its weight; equal weights in a period nobody consumed."""
        w = np.asarray(consumption_wh, dtype=np.int64).copy()
        idle = w.sum(axis=1) == 0
        w[idle] = 1  # nobody consumed: share equally
        return w


@dataclass(frozen=True)
class Fixed(RepartitionRule):
    """Fixed coefficients, one per member (any positive scale; integers are exact)."""

    coefficients: Sequence[float] | NDArray[np.generic]
    name = "fixed"

    def __post_init__(self) -> None:
        """Check the coefficients: finite, ≥ 0, with a positive sum."""
        c = np.asarray(self.coefficients)
        if c.ndim != 1 or c.size == 0 or not np.all(np.isfinite(c)) or np.any(c < 0) or c.sum() <= 0:
            raise BadConfigurationError(
                "fixed coefficients must be finite, ≥ 0, with a positive sum", "coefficients", c.tolist()[:8]
            )

    def weights(
        self, periods: NDArray[np.int64], energy_wh: NDArray[np.int64], consumption_wh: NDArray[np.int64]
    ) -> NDArray[np.generic]:
        """Return the fixed coefficients for every period; one per member or an error."""
        c = np.asarray(self.coefficients)
        if c.size != consumption_wh.shape[1]:
            raise BadConfigurationError(
                f"{c.size} coefficients for {consumption_wh.shape[1]} members", "coefficients", c.size
            )
        return np.broadcast_to(c, consumption_wh.shape)


@dataclass(frozen=True)
class Custom(RepartitionRule):
    """A user function ``fn(periods, energy_wh, consumption_wh) -> (P, M)`` weights."""

    fn: WeightFn
    name = "custom"

    def weights(
        self, periods: NDArray[np.int64], energy_wh: NDArray[np.int64], consumption_wh: NDArray[np.int64]
    ) -> NDArray[np.generic]:
        """Return the weights the user's function gives for these periods."""
        return np.asarray(self.fn(periods, energy_wh, consumption_wh))


def make_rule(rule: str | RepartitionRule | Sequence[float], members: int) -> RepartitionRule:
    """``"pro_rata"``, ``"equal"``, a rule object, or a sequence of fixed coefficients."""
    if isinstance(rule, RepartitionRule):
        return rule
    if isinstance(rule, str):
        if rule == "pro_rata":
            return ProRata()
        if rule == "equal":
            return Fixed(np.ones(members, dtype=np.int64))
        raise BadConfigurationError(
            f"unknown repartition rule {rule!r}: use 'pro_rata', 'equal', coefficients or a rule object",
            "repartition",
            rule,
        )
    return Fixed(np.asarray(rule))


def _check_weights(a: NDArray[Any]) -> None:
    """Check weights as :func:`_integer_weights` does, over all periods at once (same errors)."""
    if a.dtype.kind in "iu":
        if np.any(a < 0):
            raise BadConfigurationError("repartition weights must be ≥ 0", "weights", int(a.min()))
    elif not np.all(np.isfinite(a)) or np.any(a < 0):
        raise BadConfigurationError("repartition weights must be finite and ≥ 0", "weights", None)


def _integer_weights(w: NDArray[np.generic], periods: NDArray[np.int64]) -> NDArray[np.int64]:
    a = np.asarray(w)
    _check_weights(a)
    if a.dtype.kind in "iu":
        return a.astype(np.int64)
    a = a.astype(np.float64)
    top = a.max(axis=1, keepdims=True)
    top[top == 0] = 1.0
    out: NDArray[np.int64] = np.rint(a / top * _SCALE).astype(np.int64)
    return out


#: Matrix elements per block of :func:`allocate`: its temporaries are a few
#: (block, M) arrays, not (P, M) ones (8 MB each instead of 280 MB for a
#: 1 000-member year).
_BLOCK = 1 << 20


def allocate(
    energy_wh: NDArray[np.int64],
    weights: NDArray[np.generic],
    periods: NDArray[np.int64] | None = None,
    *,
    dtype: type[np.signedinteger[Any]] = np.int64,
) -> NDArray[np.signedinteger[Any]]:
    """Split each period's integer energy by weight, exactly (largest remainder).

    Periods are independent, so the work runs over blocks of periods: the
    temporaries stay small whatever ``P``; the result does not depend on it.

    Parameters
    ----------
    energy_wh
        ``(P,)`` integer energy (Wh or tokens) to share per period.
    weights
        ``(P, M)`` non-negative weights.
    periods
        Period indices, only to name a failing period in errors.
    dtype
        Integer type of the result (``numpy.int64`` by default). A share is
        never more than its period's energy, so the result fits ``dtype``
        whenever ``energy_wh`` does; that is checked first.

    Returns
    -------
    numpy.ndarray
        ``(P, M)`` shares of type ``dtype``; each row sums to ``energy_wh`` exactly.

    Raises
    ------
    BadConfigurationError
        If a period with energy has all-zero weights.
    InvalidArgumentError
        ``energy_wh`` not integers ≥ 0, ``weights`` of the wrong shape, or a
        period's energy beyond the range of ``dtype`` (``energy_wh``, naming the period).
    """
    e = np.asarray(energy_wh)
    if e.dtype.kind not in "iu" or np.any(e < 0):
        raise InvalidArgumentError("energy_wh must be integers ≥ 0", "energy_wh", None)
    e = e.astype(np.int64)
    p = np.arange(len(e)) if periods is None else periods
    a = np.asarray(weights)
    _check_weights(a)
    if a.ndim != 2 or a.shape[0] != len(e):
        raise InvalidArgumentError(f"weights must be ({len(e)}, M), got {a.shape}", "weights", a.shape)
    out_t = np.dtype(dtype)
    if out_t.kind != "i":
        raise InvalidArgumentError(f"dtype must be a signed integer type, got {out_t}", "dtype", str(out_t))
    top = np.iinfo(out_t).max
    if e.size and int(e.max()) > top:
        i = int(np.argmax(e))
        raise InvalidArgumentError(
            f"period {int(p[i])}: {int(e[i])} to share, beyond {out_t}'s {top}", "energy_wh", int(e[i])
        )
    n, m = a.shape
    rows = max(1, _BLOCK // max(m, 1))
    blocks = [slice(k, min(k + rows, n)) for k in range(0, n, rows)]
    # First pass: each period's total weight and the largest weight (the exact-path choice).
    total = np.zeros(n, np.int64)
    w_max = 0
    for b in blocks:
        w = _integer_weights(a[b], p[b])
        total[b] = w.sum(axis=1)
        if w.size:
            w_max = max(w_max, int(w.max()))
    dead = (total == 0) & (e > 0)
    if dead.any():
        i = int(np.flatnonzero(dead)[0])
        raise BadConfigurationError(
            f"period {int(p[i])}: {int(e[i])} Wh to share but every weight is zero", "weights", int(p[i])
        )
    safe = np.where(total == 0, 1, total)
    exact = bool(e.size and a.size and int(e.max()) * w_max >= 2**62)
    shares = np.empty((n, m), out_t)
    for b in blocks:
        w = _integer_weights(a[b], p[b])
        eb, sb = e[b], safe[b]
        if exact:
            num = eb.astype(object)[:, None] * w.astype(object)
            q = (num // sb.astype(object)[:, None]).astype(np.int64)
            r = (num % sb.astype(object)[:, None]).astype(np.float64)
        else:
            num = eb[:, None] * w
            q = num // sb[:, None]
            r = num % sb[:, None]
        deficit = eb - q.sum(axis=1)
        order = np.argsort(-r, axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.broadcast_to(np.arange(m), w.shape), axis=1)
        shares[b] = q + (rank < deficit[:, None])
    return shares


def ideal_shares(energy: NDArray[np.float64], weights: NDArray[np.generic]) -> NDArray[np.float64]:
    """Return the unrounded shares energy · w / Σw (for the accuracy report)."""
    w = np.asarray(weights, dtype=np.float64)
    total = w.sum(axis=1, keepdims=True)
    total[total == 0] = 1.0
    out: NDArray[np.float64] = np.asarray(energy, dtype=np.float64)[:, None] * w / total
    return out
