"""A community run on a feeder: one batched power flow, violations, losses settled on chain (issue 20).

:func:`gridledger.community.simulate` with ``grid=feeder`` builds a
:class:`GridRun` before the first block: it places the members' consumption
(negative) and the PV units' generation (positive) on their buses as mean
power per period (W = Wh · 3600 / period_s), runs the power flow for every
period in one call, counts the violations, rounds each period's losses to
integer Wh and allocates them to the members by the loss rule — all before
anything is written, so a feeder that does not fit the community, a period
whose power flow does not converge or a rule that does not conserve the
losses leaves no chain behind. In the block loop :meth:`GridRun.record`
gives each period's signed ``Losses`` record (docs/ledger.md), and
:meth:`GridRun.outcome` the :class:`GridOutcome` of the run.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from gridledger import _core
from gridledger.errors import BadConfigurationError, NonConvergenceError, PowerFlowWarning
from gridledger.grid.losses import LossRule, allocate_losses, losses_wh, make_loss_rule
from gridledger.grid.violations import Violations, count_violations

if TYPE_CHECKING:
    from gridledger.community.inputs import CommunityInputs
    from gridledger.community.model import Community
    from gridledger.grid.feeder import Feeder

__all__ = ["GridOutcome", "GridRun"]

#: Periods allocated per call while preparing (bounds the (chunk, M) float weights).
_CHUNK = 2048


@dataclass(frozen=True)
class GridOutcome:
    """What the feeder saw during a run.

    Attributes
    ----------
    losses_w
        ``(P,)`` mean losses of each period (W): lines and transformer.
    losses_wh
        ``(P,)`` int64 the period's losses settled: ⌊W · period_s / 3600 + ½⌋ (Wh).
    loss_shares_wh
        ``(P, M)`` each member's share (Wh; int32 when every total fits, else int64: 4 bytes a
        cell, 140 MB for a 1 000-member year); each row sums exactly to ``losses_wh``.
    p_slack_w
        ``(P,)`` power drawn through the transformer from the MV side (W, + = import).
    trafo_loading
        ``(P,)`` transformer loading (1.0 = rated).
    line_loading_max
        ``(P,)`` the most loaded line's loading in each period.
    violations
        :class:`~gridledger.grid.violations.Violations` per period and bus / line.
    rule
        The loss rule's name.
    records
        ``Losses`` transactions written (one per block).
    """

    losses_w: NDArray[np.float64]
    losses_wh: NDArray[np.int64]
    loss_shares_wh: NDArray[np.signedinteger]
    p_slack_w: NDArray[np.float64]
    trafo_loading: NDArray[np.float64]
    line_loading_max: NDArray[np.float64]
    violations: Violations
    rule: str
    records: int = 0

    def loss_by_member(self) -> NDArray[np.int64]:
        """``(M,)`` each member's losses over the run (Wh)."""
        out: NDArray[np.int64] = self.loss_shares_wh.sum(axis=0, dtype=np.int64)
        return out

    def summary(self) -> dict[str, float | int | str]:
        """Return the run's grid figures: losses, their share of the imports, peaks, violation counts."""
        v = self.violations
        return {
            "loss_rule": self.rule,
            "losses_kwh": int(self.losses_wh.sum()) / 1000,
            "vm_min_pu": float(np.nanmin(v.vm_min_pu)) if len(v.vm_min_pu) else float("nan"),
            "vm_max_pu": float(np.nanmax(v.vm_max_pu)) if len(v.vm_max_pu) else float("nan"),
            "trafo_loading_max": float(self.trafo_loading.max()) if len(self.trafo_loading) else 0.0,
            "line_loading_max": float(self.line_loading_max.max()) if len(self.line_loading_max) else 0.0,
            **v.summary(),
        }


def _placement(labels: list[str], placed: dict[str, str], what: str, feeder: Feeder) -> NDArray[np.int64]:
    """Bus index of each label, in the community's order; every label placed, nothing extra."""
    missing = [x for x in labels if x not in placed]
    extra = sorted(set(placed) - set(labels))
    if missing or extra:
        bad = missing[0] if missing else extra[0]
        why = (
            "is not placed on any bus of the feeder"
            if missing
            else "is placed on the feeder but not in the community"
        )
        raise BadConfigurationError(
            f"{what} {bad!r} {why} (the feeder's {what}s must be the community's, by label)",
            f"grid.{what}s",
            bad,
        )
    return np.array([feeder.bus_index(placed[x]) for x in labels], np.int64)


class GridRun:
    """The grid side of one :func:`~gridledger.community.simulate` run (see the module)."""

    def __init__(
        self,
        feeder: Feeder,
        community: Community,
        inputs: CommunityInputs,
        allocated_wh: NDArray[np.int64],
        rule: str | LossRule = "throughput",
    ) -> None:
        from gridledger.grid.feeder import Feeder as _Feeder
        from gridledger.grid.powerflow import powerflow

        if not isinstance(feeder, _Feeder):
            raise BadConfigurationError(
                f"grid must be a gridledger.grid.Feeder, got {type(feeder).__name__}",
                "grid",
                type(feeder).__name__,
            )
        r = make_loss_rule(rule)
        members = [m.label for m in community.members]
        units = [u.label for u in community.units]
        m_bus = _placement(members, dict(feeder.members), "member", feeder)
        u_bus = _placement(units, dict(feeder.units), "unit", feeder)
        cons = inputs.consumption_wh
        periods = inputs.periods
        n_p, n_b = cons.shape[0], feeder.n_buses
        # Net injection per bus (Wh), without a (P, M) float array: integer consumption summed per bus.
        to_w = 3600.0 / community.period_s
        p_w = np.zeros((n_p, n_b), np.float64)
        for b in np.unique(m_bus):
            p_w[:, b] -= cons[:, m_bus == b].sum(axis=1, dtype=np.int64)
        for b in np.unique(u_bus):
            p_w[:, b] += inputs.generation_wh[:, u_bus == b].sum(axis=1)
        p_w *= to_w
        with warnings.catch_warnings():  # not a warning here: the run refuses to settle such periods
            warnings.simplefilter("ignore", PowerFlowWarning)
            flow = powerflow(feeder, p_w)
        bad = np.flatnonzero(~np.asarray(flow.converged))
        if bad.size:
            shown = periods[bad[:10]].tolist()
            raise NonConvergenceError(
                f"the power flow did not converge in {bad.size} of {n_p} periods ({shown}"
                f"{' …' if bad.size > 10 else ''}): their losses cannot be settled; nothing was written",
                "periods",
                shown,
            )
        self.violations = count_violations(flow)
        self.losses_w = np.asarray(flow.losses_w, np.float64)
        self.total_wh = losses_wh(self.losses_w, community.period_s, periods)
        self.p_slack_w = np.asarray(flow.p_slack_w, np.float64)
        self.trafo_loading = np.asarray(flow.trafo_loading, np.float64)
        ll = np.asarray(flow.line_loading, np.float64)
        self.line_loading_max = ll.max(axis=1) if ll.shape[1] else np.zeros(n_p)
        del flow, ll, p_w
        dtype = np.int32 if int(self.total_wh.max(initial=0)) < 2**31 else np.int64
        self.shares = np.empty(cons.shape, dtype)
        for a in range(0, n_p, _CHUNK):
            z = slice(a, a + _CHUNK)
            self.shares[z] = allocate_losses(self.total_wh[z], cons[z], allocated_wh[z], r, periods[z])
        self.rule = r.name
        self.records = 0
        self._c = community
        self._members = community.public_keys[1 : 1 + len(members)]

    def record(
        self, i: int, period: int, chain_tag: bytes
    ) -> tuple[NDArray[np.uint8], bytes, NDArray[np.int64]]:
        """Return the VPP's signed ``Losses`` record of period row ``i``: (ids (1, 32), bytes, offsets)."""
        row = self.shares[i]
        nz = np.flatnonzero(row)
        body = _core.encode_losses(
            chain_tag,
            period,
            self._c.public_keys[0].tobytes(),
            int(self.total_wh[i]),
            self._members[nz],
            row[nz].astype(np.int64),
        )
        self.records += 1
        return self._c.keyring.sign_bodies(
            np.zeros(1, np.int64), body, np.array([0, len(body)], np.int64), self._c.algorithm
        )

    def outcome(self) -> GridOutcome:
        """Return the run's :class:`GridOutcome`."""
        return GridOutcome(
            losses_w=self.losses_w,
            losses_wh=self.total_wh,
            loss_shares_wh=self.shares,
            p_slack_w=self.p_slack_w,
            trafo_loading=self.trafo_loading,
            line_loading_max=self.line_loading_max,
            violations=self.violations,
            rule=self.rule,
            records=self.records,
        )
