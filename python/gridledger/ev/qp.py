"""Convex QPs of the EV schedule (beyond the seed): the offline bound and the look-ahead plan.

Both relax "transaction i executes whole in one of the rounds p_i … p_i + D"
to fractions x_{i,k} ≥ 0 with Σ_k x_{i,k} = 1, so Θ is affine in x and the
slope variance is a convex quadratic. Solved with Clarabel (interior point).

Offline bound: the whole day at once, with every transaction known in
advance. Any round-by-round schedule (integral, non-anticipative, under the
capacity) is a feasible point of this relaxation, so its optimum is a lower
bound on the PF any scheduler can reach on that day.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from gridledger._extras import require
from gridledger.errors import BadDataError

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

__all__ = ["day_bound", "plan_round", "solvers"]


def solvers() -> tuple[ModuleType, ModuleType]:
    """``(clarabel, scipy.sparse)``, imported on first use from the ``ev`` extra.

    Raises
    ------
    MissingExtraError
        Either is not installed.
    """
    return require("clarabel", "ev"), require("scipy.sparse", "ev")


def _solve(
    n_x: int,
    groups: NDArray[np.int64],
    n_groups: int,
    e_rows: csr_matrix,
    rhs: NDArray[np.float64],
    weight: NDArray[np.float64],
    m_fixed: float | None,
) -> tuple[float, NDArray[np.float64]]:
    """Minimise Σ_t weight_t · e_t² with e = rhs + E·x − m; Σ_{k in group g} x = 1; x ≥ 0.

    Variables z = [x, m, e]; returns (objective, x).
    """
    clarabel, sp = solvers()
    r = e_rows.shape[0]
    n = n_x + 1 + r
    p = sp.diags(np.concatenate([np.zeros(n_x + 1), 2.0 * weight]), format="csc")
    q = np.zeros(n)
    # e − E·x + m = rhs
    a_e = sp.hstack([-e_rows, sp.csr_matrix(np.ones((r, 1))), sp.identity(r, format="csr")])
    a_g = sp.hstack(
        [
            sp.csr_matrix((np.ones(n_x), (groups, np.arange(n_x))), shape=(n_groups, n_x)),
            sp.csr_matrix((n_groups, 1 + r)),
        ]
    )
    blocks = [a_e, a_g]
    b = [rhs, np.ones(n_groups)]
    if m_fixed is not None:
        blocks.append(sp.hstack([sp.csr_matrix((1, n_x)), sp.csr_matrix([[1.0]]), sp.csr_matrix((1, r))]))
        b.append(np.array([m_fixed]))
    n_eq = sum(x.shape[0] for x in blocks)
    a_x = sp.hstack([-sp.identity(n_x, format="csr"), sp.csr_matrix((n_x, 1 + r))])
    a = sp.vstack([*blocks, a_x], format="csc")
    bb = np.concatenate([*b, np.zeros(n_x)])
    cones = [clarabel.ZeroConeT(n_eq), clarabel.NonnegativeConeT(n_x)]
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.max_iter = 400
    sol = clarabel.DefaultSolver(p.tocsc(), q, a, bb, cones, settings).solve()
    status = str(sol.status)
    # "AlmostSolved": within the reduced tolerances (1e-5 relative gap), kept.
    if "Solved" not in status:
        raise BadDataError(f"the QP was not solved: {status}", "qp", status)
    z = np.asarray(sol.x)
    return float(sol.obj_val), z[:n_x]


def _structure(
    published: NDArray[np.int64], grid_kw: NDArray[np.float64], lo: int, hi: int, max_defer: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Variables x_{i,k}: (group i, execution round, variable index, coefficient in [lo, hi))."""
    k = np.arange(max_defer + 1)
    rounds = published[:, None] + k[None, :]
    group = np.repeat(np.arange(len(published)), max_defer + 1)
    rounds = rounds.ravel()
    coef = np.repeat(grid_kw, max_defer + 1)
    var = np.arange(len(group))
    inside = (rounds >= lo) & (rounds < hi)
    return group, rounds, var, np.where(inside, coef, 0.0)


def day_bound(
    published: NDArray[np.int64],
    grid_kw: NDArray[np.float64],
    base_kw: NDArray[np.float64],
    max_defer: int,
) -> float:
    """Return the least PF (kW²) of the slopes of ``base_kw[1:]`` over all fractional schedules.

    ``base_kw`` holds P for the round before the day and every round of the
    day (R + 1 values); ``published`` are the transactions' publication rounds
    relative to the first round of ``base_kw`` (those that can execute in the
    window: published in ``[−max_defer, R]``), ``grid_kw`` their Θ terms (kW).
    Executions outside the window are free: the relaxation stays a bound.
    """
    r1 = len(base_kw)
    if r1 < 2:
        raise BadDataError("a day needs at least two rounds", "base_kw", r1)
    _, sp = solvers()
    group, rounds, var, coef = _structure(published, grid_kw, 0, r1, max_defer)
    keep = coef != 0.0
    theta = sp.csr_matrix((coef[keep], (rounds[keep], var[keep])), shape=(r1, len(var)))
    e_rows = (theta[1:] - theta[:-1]).tocsr()
    rhs = np.diff(base_kw)
    r = r1 - 1
    obj, _ = _solve(len(var), group, len(published), e_rows, rhs, np.full(r, 1.0 / r), None)
    return max(obj, 0.0)


def plan_round(
    published: NDArray[np.int64],
    grid_kw: NDArray[np.float64],
    base_kw: NDArray[np.float64],
    theta_prev_kw: float,
    mean_slope_kw: float,
    max_defer: int,
) -> NDArray[np.float64]:
    """Return the look-ahead plan: fraction of each pending transaction to execute now.

    Minimises Σ_h (Θ_h − Θ_{h−1} − mean_slope)² over the horizon of
    ``len(base_kw)`` rounds (round 0 is now; Θ_{−1} = ``theta_prev_kw``),
    with P known over the horizon and no transactions beyond the pending ones.
    ``published`` are relative to now (≤ 0); a transaction due now has one
    variable only. Raises :class:`BadDataError` when the solver fails.
    """
    h = len(base_kw)
    n = len(published)
    if n == 0:
        return np.zeros(0)
    _, sp = solvers()
    group, rounds, var, coef = _structure(published, grid_kw, 0, h, max_defer)
    # Drop the rounds already gone (a pending transaction cannot run in the past).
    alive = rounds >= 0
    group, rounds, coef = group[alive], rounds[alive], coef[alive]
    var = np.arange(len(group))
    keep = coef != 0.0
    theta = sp.csr_matrix((coef[keep], (rounds[keep], var[keep])), shape=(h, len(var)))
    e_rows = sp.vstack([theta[:1], theta[1:] - theta[:-1]]).tocsr()
    rhs = np.diff(np.concatenate([[theta_prev_kw], base_kw]))
    _, x = _solve(len(var), group, n, e_rows, rhs, np.ones(h), mean_slope_kw)
    now = np.zeros(n)
    sel = rounds == 0
    np.add.at(now, group[sel], x[sel])
    return np.clip(now, 0.0, 1.0)
