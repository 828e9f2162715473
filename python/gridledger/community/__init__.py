"""Energy communities on a chain (SPEC §1).

Members, PV units with cryptometers, the VPP's repartition, the market-face
meter and the simulation of a run.

>>> from gridledger import community
>>> c = community.Community.default(members=50, pv_units=10)
>>> result = community.simulate(c, days=7, store="chain.sqlite")  # doctest: +SKIP
"""

from __future__ import annotations

from gridledger.community.inputs import CommunityInputs, community_inputs
from gridledger.community.model import Community, GenerationUnit, Member
from gridledger.community.repartition import (
    Custom,
    Fixed,
    ProRata,
    RepartitionRule,
    allocate,
    ideal_shares,
    make_rule,
)
from gridledger.community.simulate import SimulationResult, simulate

__all__ = [
    "Community",
    "CommunityInputs",
    "Custom",
    "Fixed",
    "GenerationUnit",
    "Member",
    "ProRata",
    "RepartitionRule",
    "SimulationResult",
    "allocate",
    "community_inputs",
    "ideal_shares",
    "make_rule",
    "simulate",
]
