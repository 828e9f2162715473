"""The congestion rule: curtail trades that would overload a line or the transformer (docs/grid.md).

A local trade is a scheduled transfer of energy from the seller's bus to the
buyer's bus. On a radial feeder its **contract path** is unique: up from the
seller's bus towards the transformer's LV bus and down to the buyer's bus
(the lines where the two buses' paths from bus 0 differ). The rule is the
DC/lossless approximation of the DSO's security check:

1. **Base flows.** The period's net injections ``p_w`` (W per bus,
   generation positive) give each line's flow, positive away from the
   transformer: ``F = −incidence @ p_w`` (the power the buses below the line
   draw), and the transformer's ``F_T = −Σ p_w`` (import from MV positive).
2. **Trades in order.** The trades are taken in the order the market produced
   them (the call auction's price priority, the order book's time order), a
   trade of ``q`` Wh in a period of ``h`` hours adding ``w = q / h`` W along its
   path: ``−w`` on the lines above the seller, ``+w`` on those above the buyer
   (and ``±w`` on the transformer for a trade with the MV side, owner ``-1``;
   a trade between two buses of the feeder does not pass the transformer).
3. **Curtail.** Each element on the path has a rating ``R`` (a line:
   ``√3 · V_n · I_max``; the transformer: ``S_n``; times ``limit``). A transfer
   that loads an element in its base direction may use the headroom
   ``R − |F|`` (nothing when the element is already at or above its rating);
   one against the flow may go up to ``|F| + R`` (it relieves the element first).
   The trade keeps the largest whole number of Wh within every element's
   bound (rounded down, so a rating is never exceeded by rounding), the rest
   is curtailed, and the tightest element is reported as the one that bound.
   The accepted transfer is added to the flows before the next trade.

Quantities are integers: ``accepted + curtailed == quantity`` exactly, for every
trade. Power factor 1 and no losses: the check is on the scheduled flows, not
a power flow (:func:`gridledger.grid.powerflow.powerflow` reports the physical
ones).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gridledger.errors import InvalidArgumentError

if TYPE_CHECKING:
    from gridledger.grid.feeder import Feeder

__all__ = ["CongestionResult", "base_flows", "curtail", "ratings"]


@dataclass(frozen=True)
class CongestionResult:
    """What the congestion rule did.

    Attributes
    ----------
    trades
        The trades in, in their order, plus ``accepted`` and ``curtailed`` (Wh,
        ``accepted + curtailed == quantity``) and ``binding``: the element that
        bound (``"line <name>"`` or ``"transformer <name>"``), null when the trade
        went through whole.
    line_flow_w
        ``(T, L)`` scheduled line flows after the accepted trades (W, positive
        away from the transformer).
    trafo_flow_w
        ``(T,)`` scheduled transformer flow after the accepted trades (W, import positive).
    """

    trades: pl.DataFrame
    line_flow_w: NDArray[np.float64]
    trafo_flow_w: NDArray[np.float64]

    @property
    def curtailed_wh(self) -> int:
        """Return the energy curtailed in total (Wh)."""
        return int(self.trades["curtailed"].sum())


def ratings(feeder: Feeder, limit: float = 1.0) -> tuple[NDArray[np.float64], float]:
    """Return the lines' ratings ``(L,)`` and the transformer's (W): √3·V_n·I_max and S_n, times ``limit``."""
    if isinstance(limit, bool) or not isinstance(limit, int | float) or not (0 < limit < math.inf):
        raise InvalidArgumentError(f"limit = {limit!r}: a finite loading > 0 expected", "limit", limit)
    vn = {b.name: b.vn_kv for b in feeder.buses}
    line = np.array([math.sqrt(3) * vn[ln.to_bus] * 1e3 * ln.max_i_a for ln in feeder.lines], np.float64)
    return line * limit, float(feeder.transformer.sn_kva) * 1e3 * limit


def base_flows(feeder: Feeder, p_w: object) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return the DC line flows ``(T, L)`` and transformer flow ``(T,)`` (W) of injections ``p_w`` ``(T, B)``.

    Line flows are positive away from the transformer, the transformer's positive on import.
    """
    p = np.asarray(p_w, dtype=np.float64) if not isinstance(p_w, np.ndarray) else p_w.astype(np.float64)
    if p.ndim != 2 or p.shape[1] != feeder.n_buses:
        raise InvalidArgumentError(
            f"p_w must be (periods, {feeder.n_buses} buses), got shape {p.shape}", "p_w", p.shape
        )
    if not np.all(np.isfinite(p)):
        t, b = (int(x) for x in np.argwhere(~np.isfinite(p))[0])
        raise InvalidArgumentError(
            f"p_w[{t}, {b}] = {p[t, b]}: must be finite", f"p_w[{t}, {b}]", float(p[t, b])
        )
    inc = np.asarray(feeder.incidence, dtype=np.float64)
    return -(p @ inc.T), -p.sum(axis=1)


def _column(trades: pl.DataFrame, name: str) -> NDArray[np.int64]:
    s = trades[name]
    if s.len() == 0:
        return np.zeros(0, np.int64)
    if not s.dtype.is_integer():
        raise InvalidArgumentError(
            f"trades.{name} must be integers, got {s.dtype}", f"trades.{name}", str(s.dtype)
        )
    if s.null_count():
        raise InvalidArgumentError(f"trades.{name} has missing values", f"trades.{name}", None)
    return s.cast(pl.Int64).to_numpy()


def curtail(
    feeder: Feeder,
    trades: pl.DataFrame,
    base_p_w: object,
    *,
    period_hours: float,
    limit: float = 1.0,
) -> CongestionResult:
    """Apply the congestion rule of the module notes to ``trades``.

    Parameters
    ----------
    feeder
        The :class:`~gridledger.grid.feeder.Feeder`; members are indexed in its ``members`` order.
    trades
        ``period`` (row of ``base_p_w``), ``seller``, ``buyer`` (member indices, ``-1`` for the MV
        side through the transformer) and ``quantity`` (Wh, ≥ 0), in the order the market made them.
    base_p_w
        ``(T, B)`` the periods' net injections per bus (W, generation positive) without the trades.
    period_hours
        Length of a period (h): a trade of ``q`` Wh is a transfer of ``q / period_hours`` W.
    limit
        Loading allowed, as a fraction of the ratings (1.0 = rated).

    Returns
    -------
    CongestionResult

    Raises
    ------
    InvalidArgumentError
        Missing columns; a negative quantity; a period outside ``base_p_w``; an unknown member
        (naming the row and value); a trade from the MV side to itself; ``base_p_w`` of the wrong
        shape or not finite; ``period_hours`` or ``limit`` not a finite positive number.
    """
    missing = [c for c in ("period", "seller", "buyer", "quantity") if c not in trades.columns]
    if missing:
        raise InvalidArgumentError(f"trades lack columns {missing}", "trades", missing)
    h = period_hours
    if isinstance(h, bool) or not isinstance(h, int | float) or not (0 < h < math.inf):
        raise InvalidArgumentError(f"period_hours = {h!r}: a finite duration > 0 expected", "period_hours", h)
    line_r, trafo_r = ratings(feeder, limit)
    line_f, trafo_f = base_flows(feeder, base_p_w)
    line_f, trafo_f = line_f.copy(), trafo_f.copy()
    period, seller, buyer, qty = (_column(trades, c) for c in ("period", "seller", "buyer", "quantity"))
    m = len(feeder.member_bus)
    for name, col, lo, hi in (
        ("quantity", qty, 0, None),
        ("period", period, 0, line_f.shape[0] - 1),
        ("seller", seller, -1, m - 1),
        ("buyer", buyer, -1, m - 1),
    ):
        bad = (col < lo) | (col > hi) if hi is not None else col < lo
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            what = "negative" if name == "quantity" else f"outside {lo}..{hi}"
            raise InvalidArgumentError(
                f"trades[{i}].{name} = {int(col[i])}: {what}", f"trades[{i}].{name}", int(col[i])
            )
    both = (seller == -1) & (buyer == -1)
    if both.any():
        i = int(np.flatnonzero(both)[0])
        raise InvalidArgumentError(
            f"trades[{i}]: the MV side cannot trade with itself", f"trades[{i}].seller", -1
        )
    inc = np.asarray(feeder.incidence, dtype=bool)
    bus = np.asarray(feeder.member_bus, dtype=np.int64)
    names = [f"line {ln.name}" for ln in feeder.lines] + [f"transformer {feeder.transformer.name}"]
    accepted = np.zeros(len(qty), np.int64)
    binding: list[str | None] = [None] * len(qty)
    for k in range(len(qty)):
        t, s, b, q = int(period[k]), int(seller[k]), int(buyer[k]), int(qty[k])
        if q == 0:
            continue
        # Direction of the transfer on each line: -1 above the seller only, +1 above the buyer only.
        d_line = np.zeros(len(line_r), np.float64)
        if s >= 0:
            d_line -= inc[:, bus[s]]
        if b >= 0:
            d_line += inc[:, bus[b]]
        d_trafo = 0.0 if s >= 0 and b >= 0 else (1.0 if s < 0 else -1.0)
        on = np.flatnonzero(d_line != 0)
        d = np.concatenate([d_line[on], [d_trafo] if d_trafo else []])
        f = np.concatenate([line_f[t, on], [trafo_f[t]] if d_trafo else []])
        r = np.concatenate([line_r[on], [trafo_r] if d_trafo else []])
        elements = [*on.tolist(), *([len(line_r)] if d_trafo else [])]
        cap = np.where(d * f >= 0, np.maximum(r - np.abs(f), 0.0), np.abs(f) + r)
        if len(cap):
            j = int(np.argmin(cap))
            room = cap[j] * h
            ok = q if room >= q else max(0, math.floor(room))
            if ok < q:
                binding[k] = names[elements[j]]
        else:  # same bus: no line, no transformer
            ok = q
        accepted[k] = ok
        w = ok / h
        line_f[t, on] += d_line[on] * w
        if d_trafo:
            trafo_f[t] += d_trafo * w
    out = trades.with_columns(
        pl.Series("accepted", accepted, pl.Int64),
        pl.Series("curtailed", qty - accepted, pl.Int64),
        pl.Series("binding", binding, pl.String),
    )
    return CongestionResult(out, line_f, trafo_f)
