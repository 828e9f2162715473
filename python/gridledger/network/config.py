"""The simulated network's configuration and its clock's origin."""

from __future__ import annotations

from dataclasses import dataclass, field

from gridledger.ledger import Consensus

__all__ = ["EPOCH_MS", "FIRST_PERIOD", "NetworkConfig"]

FIRST_PERIOD = 1_733_040  # 2019-06-03 00:00 UTC in 15-minute periods
EPOCH_MS = FIRST_PERIOD * 900_000  # Unix ms at simulated time 0


@dataclass(frozen=True)
class NetworkConfig:
    """The network and community being simulated.

    Attributes
    ----------
    nodes
        Members, one node each (≥ 3).
    units
        PV units (devices) of the VPP.
    periods
        Market periods to run.
    latency_ms
        Uniform range of one message's delay.
    loss
        Probability that a message is lost.
    bid_probability
        Chance that a member holding voting tokens stands in a period.
    consensus
        Auction parameters (the producer rule is forced to the auction).
    seed
        Seeds keys, generation, latencies, losses and bids.
    share_validation
        Memoise block validation across nodes (the same block on the same
        parent gives every node the same result); False validates in each node.
    """

    nodes: int = 7
    units: int = 2
    periods: int = 24
    latency_ms: tuple[float, float] = (20.0, 400.0)
    loss: float = 0.0
    bid_probability: float = 0.8
    consensus: Consensus = field(default_factory=lambda: Consensus(producer_rule="auction"))
    seed: int = 0
    share_validation: bool = True
