"""Exact AC power flow of a feeder over every period in one native call (docs/grid.md "Power flow").

:func:`powerflow` turns the feeder into per-unit arrays and calls the Rust
backward/forward sweep (``rust/src/grid/sweep.rs``), which solves all periods
in parallel with the GIL released. It agrees with pandapower's Newton–Raphson
(``runpp``) to 1e-6 p.u. in voltage and 1e-6 relative in losses
(``tests/grid/test_pandapower_agreement.py``).
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gridledger import _core
from gridledger.errors import InvalidArgumentError, NonConvergenceError, PowerFlowWarning
from gridledger.grid.feeder import Feeder

__all__ = ["S_BASE_VA", "PowerFlowResult", "powerflow"]

S_BASE_VA = 1e6
"""Base power of the per-unit system the kernel works in (VA); results are in SI units."""


@dataclass(frozen=True, eq=False)
class PowerFlowResult:
    """Every period's power flow; rows of unconverged periods are NaN.

    Attributes
    ----------
    vm_pu
        ``(T, B)`` voltage magnitude (p.u. of the bus's nominal voltage).
    va_deg
        ``(T, B)`` voltage angle (degrees; the slack at 0, the LV side behind
        it by the transformer's ``shift_degree``).
    i_line_a
        ``(T, L)`` line current (A), the larger of its two ends.
    line_loading
        ``(T, L)`` ``i_line_a / max_i_a`` (1.0 = rated).
    trafo_loading
        ``(T,)`` ``|S_hv| / sn``: apparent power through the transformer's HV side over its rating.
    losses_w
        ``(T,)`` all losses (W): lines plus transformer (copper and iron).
    line_losses_w
        ``(T, L)`` each line's losses (W).
    trafo_losses_w
        ``(T,)`` the transformer's losses (W), iron losses included.
    p_slack_w
        ``(T,)`` active power drawn from the MV side (W; positive = import).
    q_slack_var
        ``(T,)`` reactive power drawn from the MV side (var).
    converged
        ``(T,)`` whether the period converged.
    iterations
        ``(T,)`` sweeps the period took.
    """

    vm_pu: NDArray[np.float64]
    va_deg: NDArray[np.float64]
    i_line_a: NDArray[np.float64]
    line_loading: NDArray[np.float64]
    trafo_loading: NDArray[np.float64]
    losses_w: NDArray[np.float64]
    line_losses_w: NDArray[np.float64]
    trafo_losses_w: NDArray[np.float64]
    p_slack_w: NDArray[np.float64]
    q_slack_var: NDArray[np.float64]
    converged: NDArray[np.bool_]
    iterations: NDArray[np.int64]

    @property
    def n_periods(self) -> int:
        """Number of periods ``T``."""
        return int(self.converged.shape[0])

    def require_converged(self) -> PowerFlowResult:
        """Return ``self`` if every period converged, else raise NonConvergenceError naming them."""
        bad = np.flatnonzero(~self.converged)
        if bad.size:
            shown = bad[:10].tolist()
            more = f" and {bad.size - 10} more" if bad.size > 10 else ""
            raise NonConvergenceError(
                f"the power flow did not converge in {bad.size} of {self.n_periods} periods: {shown}{more}",
                "periods",
                bad.tolist(),
            )
        return self


def _injection(field: str, arr: object, shape: tuple[int, ...] | None, n_buses: int) -> NDArray[np.float64]:
    if not isinstance(arr, np.ndarray):
        try:
            arr = np.asarray(arr, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(
                f"{field}: not a numeric array ({e})", field, type(arr).__name__
            ) from e
    if arr.dtype.kind not in "fiu" or arr.dtype.kind == "b":
        raise InvalidArgumentError(
            f"{field}: a numeric array expected, not {arr.dtype}", field, str(arr.dtype)
        )
    a = np.ascontiguousarray(arr, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != n_buses or (shape is not None and a.shape != shape):
        want = f"({shape[0]}, {n_buses})" if shape is not None else f"(T, {n_buses})"
        raise InvalidArgumentError(f"{field}: shape {a.shape}, expected {want}", field, f"shape {a.shape}")
    if not np.isfinite(a).all():
        t, b = np.argwhere(~np.isfinite(a))[0]
        raise InvalidArgumentError(
            f"{field}[{t}, {b}] = {a[t, b]}: must be finite", f"{field}[{t}, {b}]", float(a[t, b])
        )
    return a


KernelArgs = tuple[
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    tuple[float, float, float, float, float, float],
    float,
    float,
    float,
    float,
]


def _kernel_args(feeder: Feeder) -> KernelArgs:
    """Return the feeder in per unit on (the LV buses' vn_kv, S_BASE_VA), as the kernel takes it."""
    tr = feeder.transformer
    v_base_kv = feeder.buses[0].vn_kv
    z_base = (v_base_kv * 1e3) ** 2 / S_BASE_VA
    i_base_a = S_BASE_VA / (math.sqrt(3.0) * v_base_kv * 1e3)
    line_bus = np.empty(feeder.n_lines, dtype=np.int64)
    line_bus[feeder.parent_line[1:]] = np.arange(1, feeder.n_buses)
    r = np.array([ln.r_ohm for ln in feeder.lines], dtype=np.float64) / z_base
    x = np.array([ln.x_ohm for ln in feeder.lines], dtype=np.float64) / z_base
    b = np.array([ln.c_nf for ln in feeder.lines], dtype=np.float64) * (2e-9 * math.pi * feeder.f_hz * z_base)
    # pandapower's two-winding transformer, "t" model, tap at neutral: z_sc
    # referred to the LV side, halved on each side of the magnetising branch.
    sn_va = tr.sn_kva * 1e3
    v_lv = tr.vn_lv_kv * 1e3
    z_sc = tr.vk_percent / 100.0 * v_lv**2 / sn_va / z_base
    r_sc = tr.vkr_percent / 100.0 * v_lv**2 / sn_va / z_base
    x_sc = math.sqrt(max(z_sc**2 - r_sc**2, 0.0))
    g_m = tr.pfe_kw * 1e3 / v_lv**2 * z_base
    y_m = tr.i0_percent / 100.0 * sn_va / v_lv**2 * z_base
    b_m = math.sqrt(max(y_m**2 - g_m**2, 0.0))
    trafo = (r_sc / 2, x_sc / 2, r_sc / 2, x_sc / 2, g_m, b_m)
    v_src = feeder.slack_vm_pu * tr.vn_lv_kv / v_base_kv
    return (feeder.parent, line_bus, r, x, b, trafo, v_src, tr.shift_degree, S_BASE_VA, i_base_a)


def powerflow(
    feeder: Feeder,
    p_w: NDArray[np.float64],
    q_var: NDArray[np.float64] | None = None,
    *,
    tol_pu: float = 1e-10,
    max_iter: int = 50,
) -> PowerFlowResult:
    """Solve every period's AC power flow of ``feeder`` in one call.

    Parameters
    ----------
    feeder
        The radial feeder.
    p_w, q_var
        ``(T, B)`` net active (W) and reactive (var) injection per period and
        bus (generation positive, consumption negative); ``q_var`` None means 0.
    tol_pu
        A period has converged when no bus voltage moved by ``tol_pu`` (p.u.) in the last sweep.
    max_iter
        Most sweeps per period (≥ 1).

    Returns
    -------
    PowerFlowResult
        Unconverged periods have ``converged`` False and NaN rows; a
        :class:`~gridledger.errors.PowerFlowWarning` names how many.

    Raises
    ------
    InvalidArgumentError
        Injections of the wrong shape or not finite; a bad ``tol_pu`` or ``max_iter``.
    """
    if not isinstance(feeder, Feeder):
        raise InvalidArgumentError(
            f"feeder: a Feeder expected, not {type(feeder).__name__}", "feeder", type(feeder).__name__
        )
    p = _injection("p_w", p_w, None, feeder.n_buses)
    q = np.zeros_like(p) if q_var is None else _injection("q_var", q_var, p.shape, feeder.n_buses)
    if isinstance(tol_pu, bool) or not isinstance(tol_pu, numbers.Real) or not 0.0 < float(tol_pu) < 1.0:
        raise InvalidArgumentError(f"tol_pu = {tol_pu!r}: must lie in (0, 1)", "tol_pu", tol_pu)
    if (
        isinstance(max_iter, bool)
        or not isinstance(max_iter, numbers.Integral)
        or not 1 <= int(max_iter) <= 100_000
    ):
        raise InvalidArgumentError(f"max_iter = {max_iter!r}: an integer in 1..100000", "max_iter", max_iter)
    vm, va, i_a, line_w, p_hv, q_hv, s_hv, trafo_w, conv, iters = _core.grid_powerflow(
        *_kernel_args(feeder), p, q, float(tol_pu), int(max_iter)
    )
    max_i = np.array([ln.max_i_a for ln in feeder.lines], dtype=np.float64)
    result = PowerFlowResult(
        vm_pu=vm,
        va_deg=va,
        i_line_a=i_a,
        line_loading=i_a / max_i,
        trafo_loading=s_hv / (feeder.transformer.sn_kva * 1e3),
        losses_w=line_w.sum(axis=1) + trafo_w,
        line_losses_w=line_w,
        trafo_losses_w=trafo_w,
        p_slack_w=p_hv,
        q_slack_var=q_hv,
        converged=conv,
        iterations=iters,
    )
    n_bad = int((~conv).sum())
    if n_bad:
        first = np.flatnonzero(~conv)[:10].tolist()
        warnings.warn(
            PowerFlowWarning(
                f"the power flow did not converge in {n_bad} of {conv.size} periods (first: {first}); "
                "their rows are NaN, see PowerFlowResult.converged / require_converged()"
            ),
            stacklevel=2,
        )
    return result
