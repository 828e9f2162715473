"""Violations of a feeder's limits, counted per period and per bus, line and transformer (issue 20).

A bus voltage outside ±10 % of nominal (EN 50160's band for the 10-minute
means of LV supply voltage) is a voltage violation; a line carrying more than
its ampacity (loading > 1) or a transformer loaded beyond its rating
(loading > 1) is an overload. Periods whose power flow did not converge
(NaN rows) are counted apart and never as a violation or as a clean period.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from gridledger.errors import InvalidArgumentError

__all__ = ["EN50160_BAND", "Violations", "count_violations"]

EN50160_BAND = 0.10
"""Allowed deviation of the voltage from nominal (p.u.): EN 50160's ±10 %."""


class _FlowLike(Protocol):
    @property
    def vm_pu(self) -> NDArray[np.float64]: ...
    @property
    def line_loading(self) -> NDArray[np.float64]: ...
    @property
    def trafo_loading(self) -> NDArray[np.float64]: ...
    @property
    def converged(self) -> NDArray[np.bool_]: ...


@dataclass(frozen=True)
class Violations:
    """Counts of limit violations over a run.

    Attributes
    ----------
    undervoltage, overvoltage
        ``(T,)`` int32: buses below ``1 − band`` / above ``1 + band`` p.u. in each period.
    overloaded_lines
        ``(T,)`` int32: lines with loading > 1 in each period.
    trafo_overload
        ``(T,)`` bool: the transformer's loading > 1 in the period.
    bus_periods
        ``(B,)`` int64: periods each bus spent outside the voltage band.
    line_periods
        ``(L,)`` int64: periods each line was overloaded.
    nonconverged
        ``(T,)`` bool: periods without a power-flow solution (not counted above).
    vm_min_pu, vm_max_pu
        ``(T,)`` the lowest and highest bus voltage of each period (NaN where not converged).
    band
        The voltage band used (p.u.).
    """

    undervoltage: NDArray[np.int32]
    overvoltage: NDArray[np.int32]
    overloaded_lines: NDArray[np.int32]
    trafo_overload: NDArray[np.bool_]
    bus_periods: NDArray[np.int64]
    line_periods: NDArray[np.int64]
    nonconverged: NDArray[np.bool_]
    vm_min_pu: NDArray[np.float64]
    vm_max_pu: NDArray[np.float64]
    band: float = EN50160_BAND

    @property
    def per_period(self) -> NDArray[np.int32]:
        """``(T,)`` violations in each period: buses out of band + overloaded lines + the transformer."""
        out: NDArray[np.int32] = (
            self.undervoltage
            + self.overvoltage
            + self.overloaded_lines
            + self.trafo_overload.astype(np.int32)
        )
        return out

    @property
    def periods_with_violations(self) -> int:
        """Periods with at least one violation."""
        return int(np.count_nonzero(self.per_period))

    def summary(self) -> dict[str, int]:
        """Return the totals: periods with any violation, voltage and overload period counts."""
        return {
            "periods_with_violations": self.periods_with_violations,
            "undervoltage_bus_periods": int(self.undervoltage.sum()),
            "overvoltage_bus_periods": int(self.overvoltage.sum()),
            "line_overload_periods": int(self.overloaded_lines.sum()),
            "trafo_overload_periods": int(self.trafo_overload.sum()),
            "nonconverged_periods": int(self.nonconverged.sum()),
        }


def _array(name: str, x: object, ndim: int) -> NDArray[np.float64]:
    a = np.asarray(x)
    if a.ndim != ndim or a.dtype.kind not in "iuf":
        raise InvalidArgumentError(
            f"{name} must be a {ndim}-d float array, got {a.dtype} {a.shape}", name, a.shape
        )
    return a.astype(np.float64, copy=False)


def count_violations(flow: _FlowLike, *, band: float = EN50160_BAND) -> Violations:
    """Count the violations of a power-flow result (``gridledger.grid.powerflow.PowerFlowResult``).

    Parameters
    ----------
    flow
        Anything with ``vm_pu`` ``(T, B)``, ``line_loading`` ``(T, L)``, ``trafo_loading`` ``(T,)``
        and ``converged`` ``(T,)``.
    band
        Allowed deviation from nominal voltage (p.u.), in (0, 1); EN 50160's 0.10 by default.

    Raises
    ------
    InvalidArgumentError
        Arrays of the wrong shape, or a band outside (0, 1).
    """
    if isinstance(band, bool) or not isinstance(band, float | int) or not 0 < band < 1:
        raise InvalidArgumentError(f"band must be in (0, 1) p.u., got {band!r}", "band", band)
    vm = _array("vm_pu", flow.vm_pu, 2)
    t = vm.shape[0]
    ll = _array("line_loading", flow.line_loading, 2)
    tl = _array("trafo_loading", flow.trafo_loading, 1)
    ok = np.asarray(flow.converged)
    if ll.shape[0] != t or tl.shape != (t,) or ok.shape != (t,) or ok.dtype != np.bool_:
        raise InvalidArgumentError(
            f"line_loading, trafo_loading and converged must have {t} periods, got "
            f"{ll.shape}, {tl.shape}, {ok.shape} {ok.dtype}",
            "flow",
            (ll.shape, tl.shape, ok.shape),
        )
    okc = ok[:, None]
    low = (vm < 1.0 - band) & okc
    high = (vm > 1.0 + band) & okc
    over = (ll > 1.0) & okc
    if vm.shape[1]:
        vmin = np.where(ok, vm.min(axis=1, initial=np.inf), np.nan)
        vmax = np.where(ok, vm.max(axis=1, initial=-np.inf), np.nan)
    else:
        vmin = np.full(t, np.nan)
        vmax = np.full(t, np.nan)
    return Violations(
        undervoltage=low.sum(axis=1, dtype=np.int32),
        overvoltage=high.sum(axis=1, dtype=np.int32),
        overloaded_lines=over.sum(axis=1, dtype=np.int32),
        trafo_overload=(tl > 1.0) & ok,
        bus_periods=(low | high).sum(axis=0, dtype=np.int64),
        line_periods=over.sum(axis=0, dtype=np.int64),
        nonconverged=~ok,
        vm_min_pu=vmin,
        vm_max_pu=vmax,
        band=float(band),
    )
