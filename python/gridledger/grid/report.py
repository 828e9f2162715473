"""The DSO's report on a run over a feeder (docs/grid.md "DSO report").

From the feeder and the per-bus injections of every period (load and PV
apart, so that the PV can be scaled), :func:`dso_report` runs the batched
power flow once and tabulates what a DSO asks before it accepts a community:

- **hours of violations**: periods with a bus voltage outside ±``band`` of
  nominal (EN 50160: 10 %), a line above its ampacity or the transformer
  above its rating, times the period length, as
  :func:`gridledger.grid.violations.count_violations` counts them (the study's
  ``grid_*`` figures come from the same counts); a period without a power-flow
  solution (the feeder cannot carry it) counts as a violation and is shown
  apart too;
- **worst buses and lines**: per bus the lowest and highest voltage and the
  hours outside the band; per line the highest loading and the hours above 1;
- **losses** (kWh, lines and transformer) and, when given, their allocation
  to members;
- **hosting capacity**: the largest uniform scale ``k`` of the PV injections
  (``load + k · pv``) for which no period violates anything, found by
  bisection over the batched power flow (each step one call over all
  periods), reported as the scale and as the extra PV energy (kWh) it admits.
  Violations are assumed to appear monotonically in ``k`` (more PV, higher
  voltages and reverse flows); the bisection stops when the bracket is
  narrower than ``tol``.

A run is saved as a Parquet file of ``period``, ``bus``, ``load_w`` and
``pv_w`` (:func:`write_injections` / :func:`read_injections`); ``gridledger grid
report`` reads it with the feeder's TOML.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gridledger.errors import BadDataError, InvalidArgumentError, PowerFlowWarning
from gridledger.grid.violations import EN50160_BAND, count_violations

if TYPE_CHECKING:
    from gridledger.grid.feeder import Feeder
    from gridledger.grid.powerflow import PowerFlowResult
    from gridledger.grid.violations import Violations

__all__ = ["DSOReport", "dso_report", "hosting_capacity", "read_injections", "write_injections"]


@dataclass(frozen=True)
class DSOReport:
    """The report's figures and tables (see the module notes).

    Attributes
    ----------
    period_hours
        Length of a period (h).
    violation_hours, voltage_hours, overload_hours, nonconverged_hours
        Hours with any violation or without a power-flow solution; with a voltage outside
        the band; with a line or the transformer overloaded; without a solution (the feeder
        cannot carry the period's injections: counted in ``violation_hours`` too).
    buses
        Per bus, worst first: ``bus``, ``vm_min_pu``, ``vm_max_pu``, ``hours_outside``.
    lines
        Per line, most loaded first: ``line``, ``loading_max``, ``hours_overloaded``.
    trafo_loading_max, trafo_hours_overloaded
        The transformer's highest loading and hours above its rating.
    losses_kwh
        Losses over the run (lines and transformer).
    allocation
        ``member``, ``loss_wh`` when an allocation was given, else None.
    hosting_scale
        The largest PV scale without a violation (None when not computed; 0.0 when the run
        violates even without PV).
    hosting_extra_kwh
        The PV energy that scale adds over the run's (kWh).
    violations
        The counts per period, bus and line the figures come from
        (:func:`gridledger.grid.violations.count_violations`).
    flow
        The :class:`~gridledger.grid.powerflow.PowerFlowResult` of the run.
    """

    period_hours: float
    violation_hours: float
    voltage_hours: float
    overload_hours: float
    nonconverged_hours: float
    buses: pl.DataFrame
    lines: pl.DataFrame
    trafo_loading_max: float
    trafo_hours_overloaded: float
    losses_kwh: float
    allocation: pl.DataFrame | None
    hosting_scale: float | None
    hosting_extra_kwh: float | None
    violations: Violations
    flow: PowerFlowResult

    def summary(self) -> dict[str, float | None]:
        """Return the headline figures as one flat dict."""
        return {
            "violation_hours": self.violation_hours,
            "voltage_violation_hours": self.voltage_hours,
            "overload_hours": self.overload_hours,
            "nonconverged_hours": self.nonconverged_hours,
            "vm_min_pu": float(self.buses["vm_min_pu"].min()),  # type: ignore[arg-type]
            "vm_max_pu": float(self.buses["vm_max_pu"].max()),  # type: ignore[arg-type]
            "line_loading_max": float(self.lines["loading_max"].max()) if self.lines.height else 0.0,  # type: ignore[arg-type]
            "trafo_loading_max": self.trafo_loading_max,
            "losses_kwh": self.losses_kwh,
            "hosting_scale": self.hosting_scale,
            "hosting_extra_kwh": self.hosting_extra_kwh,
        }

    def tables(self) -> dict[str, pl.DataFrame]:
        """Return the report's tables: summary, buses, lines and (when given) loss allocation."""
        s = self.summary()
        out = {
            "summary": pl.DataFrame(
                {"figure": list(s), "value": [None if v is None else float(v) for v in s.values()]}
            ),
            "buses": self.buses,
            "lines": self.lines,
        }
        if self.allocation is not None:
            out["losses"] = self.allocation
        return out


def _injections(feeder: Feeder, name: str, a: object, t: int | None = None) -> NDArray[np.float64]:
    arr = np.asarray(a)
    if (
        arr.dtype.kind not in "iuf"
        or arr.ndim != 2
        or arr.shape[1] != feeder.n_buses
        or (t is not None and arr.shape[0] != t)
    ):
        want = f"({'periods' if t is None else t}, {feeder.n_buses} buses)"
        raise InvalidArgumentError(
            f"{name} must be a numeric {want} array, got shape {arr.shape}", name, arr.shape
        )
    out = arr.astype(np.float64)
    if not np.all(np.isfinite(out)):
        i, j = (int(x) for x in np.argwhere(~np.isfinite(out))[0])
        raise InvalidArgumentError(
            f"{name}[{i}, {j}] = {out[i, j]}: must be finite", f"{name}[{i}, {j}]", float(out[i, j])
        )
    return out


def _check_band(band: object) -> float:
    if isinstance(band, bool) or not isinstance(band, int | float) or not 0 < band < 1:
        raise InvalidArgumentError(f"band = {band!r}: a deviation in (0, 1) p.u. expected", "band", band)
    return float(band)


def _clean(flow: PowerFlowResult, band: float) -> bool:
    """Whether no period of ``flow`` violates anything and every period converged."""
    v = count_violations(flow, band=band)
    return v.periods_with_violations == 0 and not bool(v.nonconverged.any())


def hosting_capacity(
    feeder: Feeder,
    load_w: object,
    pv_w: object,
    q_var: object = None,
    *,
    band: float = EN50160_BAND,
    max_scale: float = 50.0,
    tol: float = 0.01,
) -> float:
    """Return the largest scale ``k`` ≤ ``max_scale`` of ``pv_w`` with no violation in any period.

    Parameters
    ----------
    feeder
        The feeder.
    load_w, pv_w
        ``(T, B)`` net injection per bus (W) of everything but the PV, and of the PV (≥ 0).
    q_var
        ``(T, B)`` reactive injection (var) of the loads, or None.
    band
        Allowed voltage deviation (p.u.).
    max_scale, tol
        Upper end of the search and the bracket width it stops at.

    Returns
    -------
    float
        ``k`` (1.0 = the run's PV); 0.0 when even ``load_w`` alone violates.
    """
    from gridledger.grid.powerflow import powerflow

    load = _injections(feeder, "load_w", load_w)
    pv = _injections(feeder, "pv_w", pv_w, load.shape[0])
    q = None if q_var is None else _injections(feeder, "q_var", q_var, load.shape[0])
    b = _check_band(band)
    for name, v in (("max_scale", max_scale), ("tol", tol)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not (0 < v < math.inf):
            raise InvalidArgumentError(f"{name} = {v!r}: a finite number > 0 expected", name, v)

    def ok(k: float) -> bool:
        # A scale at which the power flow has no solution is beyond the hosting capacity:
        # the bisection expects such periods, so their warning is not the user's concern.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PowerFlowWarning)
            return _clean(powerflow(feeder, load + k * pv, q), b)

    if not ok(0.0):
        return 0.0
    if ok(max_scale):
        return float(max_scale)
    lo, hi = 0.0, float(max_scale)
    while hi - lo > tol:
        mid = (lo + hi) / 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo


def dso_report(
    feeder: Feeder,
    load_w: object,
    pv_w: object | None = None,
    q_var: object = None,
    *,
    period_hours: float = 0.25,
    allocation: pl.DataFrame | None = None,
    band: float = EN50160_BAND,
    hosting: bool = True,
    max_scale: float = 50.0,
) -> DSOReport:
    """Run the power flow over a run and return the DSO's report (see the module notes).

    Parameters
    ----------
    feeder
        The feeder.
    load_w
        ``(T, B)`` net injection per bus of everything but the PV (W; consumption negative).
    pv_w
        ``(T, B)`` the PV's injection per bus (W), or None (no PV: no hosting capacity search
        beyond the base case).
    q_var
        ``(T, B)`` reactive injection (var), or None.
    period_hours
        Length of a period (h).
    allocation
        The losses' allocation to members (``member``, ``loss_wh``), shown as given.
    band
        Allowed voltage deviation (p.u., EN 50160: 0.10).
    hosting
        Search the hosting capacity (several power flows over the run).
    max_scale
        Upper end of the hosting capacity search.
    """
    from gridledger.grid.powerflow import powerflow

    h = period_hours
    if isinstance(h, bool) or not isinstance(h, int | float) or not (0 < h < math.inf):
        raise InvalidArgumentError(f"period_hours = {h!r}: a finite duration > 0 expected", "period_hours", h)
    b = _check_band(band)
    load = _injections(feeder, "load_w", load_w)
    pv = np.zeros_like(load) if pv_w is None else _injections(feeder, "pv_w", pv_w, load.shape[0])
    q = None if q_var is None else _injections(feeder, "q_var", q_var, load.shape[0])
    if allocation is not None and not {"member", "loss_wh"} <= set(allocation.columns):
        raise InvalidArgumentError(
            "allocation needs columns member and loss_wh", "allocation", allocation.columns
        )
    flow = powerflow(feeder, load + pv, q)
    v = count_violations(flow, band=b)
    ok = np.asarray(flow.converged, bool)
    solved = flow.vm_pu[ok]  # the rows of converged periods (no NaN)
    volt = (v.undervoltage + v.overvoltage) > 0
    over = (v.overloaded_lines > 0) | v.trafo_overload
    buses = pl.DataFrame(
        {
            "bus": [x.name for x in feeder.buses],
            "vm_min_pu": solved.min(axis=0) if len(solved) else np.full(feeder.n_buses, np.nan),
            "vm_max_pu": solved.max(axis=0) if len(solved) else np.full(feeder.n_buses, np.nan),
            "hours_outside": v.bus_periods * h,
        }
    ).sort(["hours_outside", "vm_min_pu"], descending=[True, False])
    loading = flow.line_loading[ok]
    lines = pl.DataFrame(
        {
            "line": [ln.name for ln in feeder.lines],
            "loading_max": loading.max(axis=0) if len(loading) else np.zeros(feeder.n_lines),
            "hours_overloaded": v.line_periods * h,
        }
    ).sort(["hours_overloaded", "loading_max"], descending=[True, True])
    scale = extra = None
    if hosting:
        scale = hosting_capacity(feeder, load, pv, q, band=b, max_scale=max_scale)
        extra = max(scale - 1.0, 0.0) * float(pv.sum()) * h / 1000
    trafo = flow.trafo_loading[ok]
    return DSOReport(
        period_hours=float(h),
        violation_hours=float(((v.per_period > 0) | v.nonconverged).sum() * h),
        voltage_hours=float(volt.sum() * h),
        overload_hours=float(over.sum() * h),
        nonconverged_hours=float(v.nonconverged.sum() * h),
        buses=buses,
        lines=lines,
        trafo_loading_max=float(trafo.max()) if len(trafo) else 0.0,
        trafo_hours_overloaded=float(v.trafo_overload.sum() * h),
        losses_kwh=float(flow.losses_w[ok].sum() * h / 1000),
        allocation=allocation,
        hosting_scale=scale,
        hosting_extra_kwh=extra,
        violations=v,
        flow=flow,
    )


def write_injections(path: str | Path, feeder: Feeder, load_w: object, pv_w: object | None = None) -> Path:
    """Write a run's injections as Parquet: ``period``, ``bus``, ``load_w``, ``pv_w`` (long form)."""
    load = _injections(feeder, "load_w", load_w)
    pv = np.zeros_like(load) if pv_w is None else _injections(feeder, "pv_w", pv_w, load.shape[0])
    t, b = load.shape
    frame = pl.DataFrame(
        {
            "period": np.repeat(np.arange(t, dtype=np.int64), b),
            "bus": [x.name for x in feeder.buses] * t,
            "load_w": load.ravel(),
            "pv_w": pv.ravel(),
        }
    )
    out = Path(path)
    frame.write_parquet(out)
    return out


def read_injections(path: str | Path, feeder: Feeder) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Read :func:`write_injections`' file back as ``(load_w, pv_w)``, each ``(T, B)`` in bus order.

    Raises
    ------
    BadDataError
        The file is not such a file, names a bus the feeder lacks, or misses some (period, bus).
    """
    try:
        frame = pl.read_parquet(path)
    except Exception as e:  # polars raises several kinds for a file that is not Parquet
        raise BadDataError(
            f"{path}: not a Parquet file of injections ({e})", "injections", str(path)
        ) from None
    need = {"period", "bus", "load_w", "pv_w"}
    if not need <= set(frame.columns):
        raise BadDataError(
            f"{path}: columns {sorted(need)} expected, found {frame.columns}", "injections", frame.columns
        )
    index = {b.name: i for i, b in enumerate(feeder.buses)}
    unknown = sorted(set(frame["bus"].unique().to_list()) - set(index))
    if unknown:
        raise BadDataError(f"{path}: bus {unknown[0]!r} is not on the feeder", "injections.bus", unknown[0])
    periods = sorted(frame["period"].unique().to_list())
    t = len(periods)
    if frame.height != t * feeder.n_buses or frame.select(["period", "bus"]).is_duplicated().any():
        raise BadDataError(
            f"{path}: every period needs one row per bus "
            f"({t} periods × {feeder.n_buses} buses, found {frame.height} rows)",
            "injections",
            frame.height,
        )
    row = {p: i for i, p in enumerate(periods)}
    r = np.array([row[p] for p in frame["period"].to_list()], np.int64)
    c = np.array([index[b] for b in frame["bus"].to_list()], np.int64)
    load = np.zeros((t, feeder.n_buses))
    pv = np.zeros((t, feeder.n_buses))
    load[r, c] = frame["load_w"].cast(pl.Float64).to_numpy()
    pv[r, c] = frame["pv_w"].cast(pl.Float64).to_numpy()
    return load, pv
