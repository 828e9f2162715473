"""The simulated network's configuration and its clock's origin."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from gridledger.errors import BadConfigurationError
from gridledger.ledger import Consensus

__all__ = ["EPOCH_MS", "FIRST_PERIOD", "NetworkConfig", "check_int", "check_probability"]

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

    def __post_init__(self) -> None:
        """Check the parameters; :class:`BadConfigurationError` names the first bad one."""
        check_int("nodes", self.nodes, 3)
        check_int("units", self.units, 0)
        check_int("periods", self.periods, 0)
        check_int("seed", self.seed)
        check_probability("loss", self.loss)
        check_probability("bid_probability", self.bid_probability)
        lat = self.latency_ms
        if not isinstance(lat, tuple) or len(lat) != 2:
            raise BadConfigurationError("latency_ms must be a (low, high) pair of ms", "latency_ms", lat)
        for x in lat:
            if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x) or x < 0:
                raise BadConfigurationError("latency_ms must hold finite, non-negative ms", "latency_ms", lat)
        if lat[0] > lat[1]:
            raise BadConfigurationError("latency_ms: low must not exceed high", "latency_ms", lat)
        if not isinstance(self.consensus, Consensus):
            raise BadConfigurationError("consensus must be a Consensus", "consensus", self.consensus)
        if not isinstance(self.share_validation, bool):
            raise BadConfigurationError(
                "share_validation must be a bool", "share_validation", self.share_validation
            )


def check_int(name: str, value: object, minimum: int | None = None) -> None:
    """Raise :class:`BadConfigurationError` unless ``value`` is an int (not a bool) ≥ ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadConfigurationError(f"{name} must be an integer", name, value)
    if minimum is not None and value < minimum:
        raise BadConfigurationError(f"{name} must be at least {minimum}", name, value)


def check_probability(name: str, value: object) -> None:
    """Raise :class:`BadConfigurationError` unless ``value`` is a number in [0, 1] (not NaN)."""
    ok = not isinstance(value, bool) and isinstance(value, int | float) and 0.0 <= value <= 1.0
    if not ok:  # NaN fails the comparison too
        raise BadConfigurationError(f"{name} must be a probability in [0, 1]", name, value)
