"""Consensus: the proof-of-stake auction (SPEC §3, seeds 000–002).

- :func:`draw`, :func:`win_probabilities` — the chain-derived draw and the exact
  win probabilities of both rules.
- :func:`simulate_bidding` and friends — the bidding game sc1–sc4 over many seeds.

The protocol itself (candidacies, the Winner, fallback producers, strikes,
evidence) is enforced by the ledger (:mod:`gridledger.ledger`, docs/consensus.md).

Proof of benefit (SPEC §6, seed 003) lives in :mod:`gridledger.consensus.pob`:
blocks of executed EV transactions, λ = 1/PF recomputed by validators, and the
heaviest-Σλ fork choice (docs/ev.md).
"""

from __future__ import annotations

from gridledger.consensus.bidding import (
    CANDIDATES,
    SCENARIOS,
    Scenario,
    bidding_table,
    bidding_trajectory,
    plot_trajectories,
    rule_bias,
    simulate_bidding,
)
from gridledger.consensus.draw import Rule, draw, win_probabilities

__all__ = [
    "CANDIDATES",
    "SCENARIOS",
    "Rule",
    "Scenario",
    "bidding_table",
    "bidding_trajectory",
    "draw",
    "plot_trajectories",
    "rule_bias",
    "simulate_bidding",
    "win_probabilities",
]
