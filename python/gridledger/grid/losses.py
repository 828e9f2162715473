"""Grid losses settled: each period's losses shared among the members, exactly, in integer Wh (issue 20).

Seed 002 leaves open how the energy lost in the feeder is settled. The power
flow gives each period's losses in W (lines and transformer, iron losses
included); :func:`losses_wh` turns them into the period's integer total

    total_wh = ⌊losses_w · period_s / 3600 + 1/2⌋        (round half up)

and :func:`allocate_losses` shares that total among the members by a
:class:`LossRule` with the largest-remainder method, so the shares sum to the
total *exactly*: each member first gets ⌊total · w / W⌋ and the Wh left over go
one each to the largest remainders (ties: the lower member index). A period
with losses in which every weight is zero is shared equally.

Rules:

- :class:`Throughput` (the default, ``"throughput"``) — pro rata to the energy
  that moved through the feeder on each member's account in the period: what
  it drew (its consumption) plus the generation the VPP allocated to it (the
  units injected that energy for it).
- :class:`Custom` — any function of (periods, consumption, allocation)
  returning ``(P, M)`` non-negative weights.

Both are weight rules (:class:`WeightedLossRule`); a :class:`LossRule` may
instead implement :meth:`LossRule.shares` to return integer shares itself;
whatever a rule returns is checked, and a rule that does not conserve
the losses (negative or non-finite weights, shares that are negative or do not
sum to the total, a wrong shape) raises :class:`LossAllocationError` naming the
rule and the first bad period. Nothing is recorded for a failed allocation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gridledger.community.repartition import allocate
from gridledger.errors import BadConfigurationError, GridError, InvalidArgumentError

__all__ = [
    "Custom",
    "LossAllocationError",
    "LossRule",
    "Throughput",
    "WeightedLossRule",
    "allocate_losses",
    "losses_wh",
    "make_loss_rule",
]

LossWeightFn = Callable[[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]], NDArray[np.generic]]


class LossAllocationError(GridError, BadConfigurationError):
    """A loss-allocation rule that does not conserve the period's losses (``field`` names the rule)."""


class LossRule(ABC):
    """How a period's losses are shared: ``shares(total_wh, periods, consumption, allocated) -> (P, M)``.

    Subclass :class:`WeightedLossRule` to give weights (shared by the largest
    remainder), or override :meth:`shares` to return integer shares directly;
    :func:`allocate_losses` checks them either way.
    """

    name = "rule"

    @abstractmethod
    def shares(
        self,
        total_wh: NDArray[np.int64],
        periods: NDArray[np.int64],
        consumption_wh: NDArray[np.int64],
        allocated_wh: NDArray[np.int64],
    ) -> NDArray[np.generic]:
        """Return ``(P, M)`` integer shares of ``total_wh`` (Wh), one row per period."""


class WeightedLossRule(LossRule):
    """A rule given by ``weights(periods, consumption_wh, allocated_wh) -> (P, M)``, shared exactly."""

    @abstractmethod
    def weights(
        self, periods: NDArray[np.int64], consumption_wh: NDArray[np.int64], allocated_wh: NDArray[np.int64]
    ) -> NDArray[np.generic]:
        """Return ``(P, M)`` non-negative weights, one row per period and one column per member."""

    def shares(
        self,
        total_wh: NDArray[np.int64],
        periods: NDArray[np.int64],
        consumption_wh: NDArray[np.int64],
        allocated_wh: NDArray[np.int64],
    ) -> NDArray[np.generic]:
        """Return ``(P, M)`` integer shares of ``total_wh`` (largest remainder over :meth:`weights`)."""
        w = np.asarray(self.weights(periods, consumption_wh, allocated_wh))
        _check_weights(self.name, w, periods, consumption_wh.shape)
        idle = ~w.any(axis=1) & (total_wh > 0)
        if idle.any():
            w = w.astype(np.float64 if w.dtype.kind == "f" else np.int64, copy=True)
            w[idle] = 1
        return allocate(total_wh, w, periods)


@dataclass(frozen=True)
class Throughput(WeightedLossRule):
    """Pro rata to the energy moved on each member's account: its consumption plus its allocation (Wh)."""

    name = "throughput"

    def weights(
        self, periods: NDArray[np.int64], consumption_wh: NDArray[np.int64], allocated_wh: NDArray[np.int64]
    ) -> NDArray[np.generic]:
        """Return consumption + virtual generation per member and period (Wh, int64)."""
        out: NDArray[np.int64] = np.asarray(consumption_wh, np.int64) + np.asarray(allocated_wh, np.int64)
        return out


@dataclass(frozen=True)
class Custom(WeightedLossRule):
    """Weights from a user function ``fn(periods, consumption_wh, allocated_wh) -> (P, M)``."""

    fn: LossWeightFn
    name: str = "custom"

    def weights(
        self, periods: NDArray[np.int64], consumption_wh: NDArray[np.int64], allocated_wh: NDArray[np.int64]
    ) -> NDArray[np.generic]:
        """Return what the user function returns (checked by the caller)."""
        return np.asarray(self.fn(periods, consumption_wh, allocated_wh))


def make_loss_rule(rule: str | LossRule) -> LossRule:
    """Return the rule named ``rule`` (``"throughput"``) or ``rule`` itself."""
    if isinstance(rule, LossRule):
        return rule
    if rule == "throughput":
        return Throughput()
    raise BadConfigurationError(
        f"unknown loss rule {rule!r}: use 'throughput' or a LossRule (e.g. Custom(fn))", "loss_rule", rule
    )


def _fail(rule: str, period: int, why: str) -> LossAllocationError:
    return LossAllocationError(
        f"loss rule {rule!r}, period {period}: {why}; the losses must be conserved exactly", rule, period
    )


def _check_array(
    rule: str, a: NDArray[np.generic], shape: tuple[int, ...], what: str, kinds: str, meaning: str
) -> None:
    """Check that a rule's ``what`` (weights or shares) has ``shape`` and a dtype kind in ``kinds``."""
    if a.shape != shape:
        raise LossAllocationError(
            f"loss rule {rule!r} returned {what} of shape {a.shape}, expected {shape}", rule, a.shape
        )
    if a.dtype.kind not in kinds:
        raise LossAllocationError(
            f"loss rule {rule!r} returned {a.dtype} {what}, not {meaning}", rule, str(a.dtype)
        )


def _check_weights(
    rule: str, w: NDArray[np.generic], periods: NDArray[np.int64], shape: tuple[int, ...]
) -> None:
    _check_array(rule, w, shape, "weights", "iuf", "numbers")
    x = w.astype(np.float64)
    bad = ~np.isfinite(x) | (x < 0)
    rows = np.flatnonzero(bad.any(axis=1)) if w.ndim == 2 else np.zeros(0, np.int64)
    if len(rows):
        i = int(rows[0])
        j = int(np.flatnonzero(bad[i])[0])
        raise _fail(
            rule,
            int(periods[i]),
            f"member {j} has weight {w[i, j].item()!r} (weights must be finite and ≥ 0)",
        )


def losses_wh(
    losses_w: NDArray[np.floating], period_s: int, periods: NDArray[np.int64] | None = None
) -> NDArray[np.int64]:
    """Return each period's losses in integer Wh: ⌊W · period_s / 3600 + ½⌋.

    Parameters
    ----------
    losses_w
        ``(P,)`` mean losses of each period (W), as the power flow gives them.
    period_s
        Length of a period (s), > 0.
    periods
        Period indices, only to name a failing period in errors.

    Raises
    ------
    InvalidArgumentError
        A wrong shape, a non-positive period length, or a loss that is negative, NaN (a
        period whose power flow did not converge) or beyond 2^62 Wh; the error names the period.
    """
    a = np.asarray(losses_w)
    if a.ndim != 1 or a.dtype.kind not in "iuf":
        raise InvalidArgumentError(
            f"losses_w must be a (P,) array of W, got {a.dtype} {a.shape}", "losses_w", a.shape
        )
    if isinstance(period_s, bool) or not isinstance(period_s, int | np.integer) or period_s <= 0:
        raise InvalidArgumentError(
            f"period_s must be a positive integer, got {period_s!r}", "period_s", period_s
        )
    p = np.arange(len(a)) if periods is None else np.asarray(periods)
    if p.shape != a.shape:
        raise InvalidArgumentError(f"periods must be ({len(a)},), got {p.shape}", "periods", p.shape)
    wh = a.astype(np.float64) * (int(period_s) / 3600.0)
    bad = ~np.isfinite(wh) | (wh < 0) | (wh >= 2.0**62)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidArgumentError(
            f"period {int(p[i])}: losses of {float(a[i])!r} W cannot be settled (NaN: the power flow did not "
            "converge; they must be finite and ≥ 0)",
            "losses_w",
            float(a[i]),
        )
    out: NDArray[np.int64] = np.floor(wh + 0.5).astype(np.int64)
    return out


def allocate_losses(
    total_wh: NDArray[np.integer],
    consumption_wh: NDArray[np.integer],
    allocated_wh: NDArray[np.integer] | None = None,
    rule: str | LossRule = "throughput",
    periods: NDArray[np.int64] | None = None,
) -> NDArray[np.int64]:
    """Share each period's integer losses among the members, exactly.

    Parameters
    ----------
    total_wh
        ``(P,)`` integer losses per period (Wh, ≥ 0), e.g. from :func:`losses_wh`.
    consumption_wh
        ``(P, M)`` members' consumption per period (Wh, ≥ 0).
    allocated_wh
        ``(P, M)`` the VPP's allocation to each member per period (Wh, ≥ 0); zeros if omitted.
    rule
        ``"throughput"`` or a :class:`LossRule`.
    periods
        ``(P,)`` period indices (to name a failing period); ``0 … P−1`` if omitted.

    Returns
    -------
    numpy.ndarray
        ``(P, M)`` int64 shares ≥ 0; row ``t`` sums to ``total_wh[t]`` exactly.

    Raises
    ------
    InvalidArgumentError
        Inputs of the wrong shape or type, or negative.
    LossAllocationError
        The rule does not conserve the losses (names the rule and the period).
    """
    r = make_loss_rule(rule)
    t = np.asarray(total_wh)
    if t.ndim != 1 or t.dtype.kind not in "iu":
        raise InvalidArgumentError(
            f"total_wh must be a (P,) integer array, got {t.dtype} {t.shape}", "total_wh", t.shape
        )
    if np.any(t < 0):
        raise InvalidArgumentError("total_wh must be ≥ 0", "total_wh", int(t.min()))
    t = t.astype(np.int64)
    c = _members_array("consumption_wh", consumption_wh, len(t))
    a = np.zeros_like(c) if allocated_wh is None else _members_array("allocated_wh", allocated_wh, len(t))
    if a.shape != c.shape:
        raise InvalidArgumentError(f"allocated_wh must be {c.shape}, got {a.shape}", "allocated_wh", a.shape)
    p = np.arange(len(t), dtype=np.int64) if periods is None else np.asarray(periods)
    if p.shape != t.shape:
        raise InvalidArgumentError(f"periods must be ({len(t)},), got {p.shape}", "periods", p.shape)
    if c.shape[1] == 0:
        if np.any(t > 0):
            raise InvalidArgumentError("losses to share but no members", "consumption_wh", c.shape)
        return np.zeros(c.shape, np.int64)
    try:
        s = np.asarray(r.shares(t, p, c, a))
    except LossAllocationError:
        raise
    except BadConfigurationError as e:
        raise LossAllocationError(f"loss rule {r.name!r}: {e}", r.name, e.value) from e
    return _checked_shares(r.name, s, t, p, c.shape)


def _members_array(name: str, x: NDArray[np.integer], n: int) -> NDArray[np.int64]:
    a = np.asarray(x)
    if a.ndim != 2 or a.shape[0] != n or a.dtype.kind not in "iu":
        raise InvalidArgumentError(
            f"{name} must be a ({n}, M) integer array, got {a.dtype} {a.shape}", name, a.shape
        )
    if np.any(a < 0):
        raise InvalidArgumentError(f"{name} must be ≥ 0", name, int(a.min()))
    return a.astype(np.int64, copy=False)


def _checked_shares(
    rule: str,
    s: NDArray[np.generic],
    total: NDArray[np.int64],
    periods: NDArray[np.int64],
    shape: tuple[int, ...],
) -> NDArray[np.int64]:
    _check_array(rule, s, shape, "shares", "iu", "integer Wh")
    out = s.astype(np.int64)
    neg = (out < 0).any(axis=1)
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        raise _fail(rule, int(periods[i]), f"a share of {int(out[i].min())} Wh (shares must be ≥ 0)")
    # Each share at most the total, so an int64 sum that wrapped around is caught by the float sum.
    big = (out > total[:, None]).any(axis=1) | (out.sum(axis=1, dtype=np.float64) > 2.0 * total + 1)
    if big.any():
        i = int(np.flatnonzero(big)[0])
        raise _fail(
            rule, int(periods[i]), f"a share of {int(out[i].max())} Wh exceeds the {int(total[i])} Wh lost"
        )
    off = out.sum(axis=1) != total
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise _fail(
            rule,
            int(periods[i]),
            f"the shares sum to {int(out[i].sum())} Wh, not the {int(total[i])} Wh lost",
        )
    return out
