"""Consensus: the proof-of-stake auction (SPEC §3, seeds 000–002).

- :func:`draw`, :func:`win_probabilities` — the chain-derived draw and the exact
  win probabilities of both rules.
- :func:`simulate_bidding` and friends — the bidding game sc1–sc4 over many seeds,
  with the previous turn's winner as the miner (``miner_rule``).

The protocol itself (candidacies, the Winner, fallback producers, strikes,
evidence) is enforced by the ledger (:mod:`gridledger.ledger`, docs/consensus.md).

Proof of benefit (SPEC §6, seed 003) lives in :mod:`gridledger.consensus.pob`:
blocks of executed EV transactions, λ = 1/PF recomputed by validators, and the
heaviest-Σλ fork choice (docs/ev.md).
"""

from __future__ import annotations

from gridledger.consensus.bidding import (
    CANDIDATES,
    MINER_RULES,
    SCENARIOS,
    MinerRule,
    Scenario,
    bidding_table,
    bidding_trajectory,
    plot_trajectories,
    rule_bias,
    seed_table_4,
    simulate_bidding,
    table_4,
)
from gridledger.consensus.draw import Rule, draw, win_probabilities

__all__ = [
    "CANDIDATES",
    "MINER_RULES",
    "SCENARIOS",
    "MinerRule",
    "Rule",
    "Scenario",
    "bidding_table",
    "bidding_trajectory",
    "draw",
    "plot_trajectories",
    "rule_bias",
    "seed_table_4",
    "simulate_bidding",
    "table_4",
    "win_probabilities",
]
