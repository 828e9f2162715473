"""The cryptometer: counting a MID meter's pulses into V-Wh quanta (SPEC §1, seed 002 §IV-B1).

A MID meter emits ``imp_per_kwh`` pulses per kWh (1 000–10 000). The
cryptometer counts them and, every time V Wh have been counted, signs a
``Create`` for V Wh. A quantum completed just after a period boundary lands in
the next block, so per period the chain differs from the MID meter by less
than V. For that error to stay within the meter's maximum permissible error
at the lowest power where the MPE applies, V must satisfy

    V < Pmin · MPE · Δt

with Pmin the minimum power of the MID accuracy range (W), MPE the maximum
permissible error as a fraction, and Δt the market period (h). The seed
writes ``V < Pmin·MPE``, leaving the time unit implicit; the energy that a
meter integrates over one market step at Pmin is Pmin·Δt, which is what the
MPE bounds (docs/community.md discusses the figures real meters give).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from gridledger.errors import BadConfigurationError, BadDataError

__all__ = ["Cryptometer", "MeterSpec", "Quanta", "mid_bound_wh"]


def mid_bound_wh(pmin_w: float, mpe: float, period_s: int) -> Fraction:
    """Pmin · MPE · Δt in Wh, exactly: the largest error one market step may carry.

    Parameters
    ----------
    pmin_w
        Minimum power (W) above which the meter's error stays within MPE.
    mpe
        Maximum permissible error as a fraction (0.02 for 2 %).
    period_s
        Market period in seconds.
    """
    if not (pmin_w > 0 and np.isfinite(pmin_w)):
        raise BadConfigurationError(f"pmin_w must be a positive power in W, got {pmin_w}", "pmin_w", pmin_w)
    if not (0 < mpe < 1):
        raise BadConfigurationError(f"mpe must be a fraction in (0, 1), got {mpe}", "mpe", mpe)
    if period_s <= 0:
        raise BadConfigurationError(f"period_s must be positive, got {period_s}", "period_s", period_s)
    # The parameters as written in decimal (0.02 is 1/50, not the nearest double).
    return Fraction(repr(float(pmin_w))) * Fraction(repr(float(mpe))) * Fraction(period_s, 3600)


@dataclass(frozen=True)
class MeterSpec:
    """The MID meter behind a cryptometer.

    Attributes
    ----------
    pmin_w
        Minimum power (W) of the meter's MPE range (MID Annex MI-003: the
        power at its current Imin).
    mpe
        Maximum permissible error at Pmin, as a fraction.
    imp_per_kwh
        Pulse constant of the meter's pulse output (1 000 to 10 000 per kWh).
    """

    pmin_w: float = 25_000.0
    mpe: float = 0.02
    imp_per_kwh: int = 1000

    def __post_init__(self) -> None:
        """Check the pulse constant (1000 … 10000 imp/kWh) and the accuracy bound at Pmin (W)."""
        if not 1000 <= self.imp_per_kwh <= 10_000:
            raise BadConfigurationError(
                f"imp_per_kwh must be 1000..10000 (seed 002), got {self.imp_per_kwh}",
                "imp_per_kwh",
                self.imp_per_kwh,
            )
        mid_bound_wh(self.pmin_w, self.mpe, 1)


@dataclass(frozen=True)
class Quanta:
    """What a cryptometer counted, per period.

    Attributes
    ----------
    quanta
        ``(P,)`` int64: Creates signed in each period.
    chain_wh
        ``(P,)`` int64: quanta × V, the energy the chain records.
    mid_wh
        ``(P,)`` float: the energy the MID meter integrated in each period.
    true_wh
        ``(P,)`` float: the energy actually generated.
    first_seq
        Quantum number of the first Create (the counter before + 1).
    """

    quanta: NDArray[np.int64]
    chain_wh: NDArray[np.int64]
    mid_wh: NDArray[np.float64]
    true_wh: NDArray[np.float64]
    first_seq: int


class Cryptometer:
    """Turns a generation series into V-Wh quanta by pulse counting.

    Parameters
    ----------
    v_wh
        The quantum V in whole Wh; a whole number of pulses.
    period_s
        Market period in seconds (Δt of the bound).
    spec
        The MID meter (:class:`MeterSpec`).

    Raises
    ------
    BadConfigurationError
        If V ≥ Pmin · MPE · Δt, V < 1 Wh, or V is not a whole number of pulses.
    """

    def __init__(self, v_wh: int, period_s: int, spec: MeterSpec | None = None) -> None:
        self.spec = spec or MeterSpec()
        if isinstance(v_wh, bool) or not isinstance(v_wh, int) or v_wh < 1:
            raise BadConfigurationError(f"V must be a whole number of Wh ≥ 1, got {v_wh!r}", "v_wh", v_wh)
        bound = mid_bound_wh(self.spec.pmin_w, self.spec.mpe, period_s)
        if not v_wh < bound:
            raise BadConfigurationError(
                f"V = {v_wh} Wh breaks the MID bound V < Pmin·MPE·Δt = {self.spec.pmin_w:g} W × "
                f"{self.spec.mpe:g} × {period_s / 3600:g} h = {float(bound):g} Wh",
                "v_wh",
                v_wh,
            )
        if (v_wh * self.spec.imp_per_kwh) % 1000:
            raise BadConfigurationError(
                f"V = {v_wh} Wh is not a whole number of pulses at {self.spec.imp_per_kwh} imp/kWh",
                "v_wh",
                v_wh,
            )
        self.v_wh = v_wh
        self.period_s = period_s
        self.bound_wh = bound
        self.pulses_per_quantum = v_wh * self.spec.imp_per_kwh // 1000
        self._register_wh = 0.0  # the MID register: energy metered so far
        self._quanta = 0  # quanta signed so far

    @property
    def seq(self) -> int:
        """Quanta signed so far (the last Create's number)."""
        return self._quanta

    def count(self, energy_wh: NDArray[np.float64], meter_error: float = 0.0) -> Quanta:
        """Count the pulses of a generation series and cut them into quanta.

        Parameters
        ----------
        energy_wh
            ``(P,)`` energy generated in each period (Wh, ≥ 0, finite).
        meter_error
            The MID meter's own relative error (it registers
            ``energy × (1 + meter_error)``); |meter_error| < MPE.

        The counter carries over between calls: a quantum begun at the end of
        one series completes in the next.
        """
        e = np.asarray(energy_wh, dtype=np.float64)
        if e.ndim != 1 or not np.all(np.isfinite(e)) or np.any(e < 0):
            bad = int(np.flatnonzero(~np.isfinite(e) | (e < 0))[0]) if e.ndim == 1 and e.size else 0
            raise BadDataError(
                "energy_wh must be a 1-D series of finite values ≥ 0", f"energy_wh[{bad}]", None
            )
        if not abs(meter_error) < self.spec.mpe:
            raise BadConfigurationError(
                f"meter_error {meter_error} is outside the meter's MPE ±{self.spec.mpe}",
                "meter_error",
                meter_error,
            )
        mid = e * (1.0 + meter_error)
        register = self._register_wh + np.cumsum(mid)
        # Pulses emitted by the end of each period: the register is continuous,
        # the pulse output its floor in pulse units.
        cum_pulses = np.floor(register * self.spec.imp_per_kwh / 1000).astype(np.int64)
        cum_quanta = np.maximum(cum_pulses // self.pulses_per_quantum, self._quanta)
        quanta = np.diff(cum_quanta, prepend=np.int64(self._quanta))
        first = self._quanta + 1
        if len(register):
            self._register_wh = float(register[-1])
            self._quanta = int(cum_quanta[-1])
        return Quanta(quanta, quanta * self.v_wh, mid, e, first)
