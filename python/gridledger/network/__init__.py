"""A simulated network of nodes running the community ledger (SPEC §2–3).

:class:`NetworkSim` runs N nodes, each with its own chain, mempool and
validation, over seeded latencies, losses and partitions, with the adversaries
of :class:`Adversary`; :class:`NetworkReport` counts forks, reorganisations,
approval times and messages.
"""

from __future__ import annotations

from gridledger.network.node import Entry, Node
from gridledger.network.sim import Adversary, NetworkConfig, NetworkReport, NetworkSim

__all__ = ["Adversary", "Entry", "NetworkConfig", "NetworkReport", "NetworkSim", "Node"]
