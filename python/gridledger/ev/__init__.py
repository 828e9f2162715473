"""EV charging scheduled by proof-of-benefit consensus (SPEC §6, seed 003).

- :func:`simulate` — the microgrid of households and EVs round by round under
  a scheduler (``none``, ``greedy``, ``optimal``, ``receding_horizon``), with
  PF, PF^(1/3) and the offline bound; :func:`plot_result` draws the seed's
  figures.
- :mod:`gridledger.ev.fleet` — the fleet and its transaction stream: the
  demand model (``per_slot``, the seed's text, or ``sessions``) and the
  deferral reading (``within_two`` or ``one_round``).
- :mod:`gridledger.ev.pf` — the PF objective (eq. 5–7) and the exact λ.
- Blocks, validity and fork choice: :mod:`gridledger.consensus.pob`.
"""

from __future__ import annotations

from gridledger.ev.fleet import (
    CHARGER_KW,
    CONNECTION_PROFILE,
    DEFERRALS,
    DEMAND_MODELS,
    Fleet,
    FleetConfig,
    Transactions,
)
from gridledger.ev.pf import daily_pf, lambda_fp, pf, slopes, theta_kw
from gridledger.ev.plot import plot_result
from gridledger.ev.simulate import SCHEDULERS, Scenario, SimResult, community_load_kw, simulate

__all__ = [
    "CHARGER_KW",
    "CONNECTION_PROFILE",
    "DEFERRALS",
    "DEMAND_MODELS",
    "SCHEDULERS",
    "Fleet",
    "FleetConfig",
    "Scenario",
    "SimResult",
    "Transactions",
    "community_load_kw",
    "daily_pf",
    "lambda_fp",
    "pf",
    "plot_result",
    "simulate",
    "slopes",
    "theta_kw",
]
