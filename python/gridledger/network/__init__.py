"""A simulated network of nodes running the community ledger (SPEC §2–3).

:class:`NetworkSim` runs N nodes, each with its own chain, mempool and
validation, over seeded latencies, losses and partitions, with the adversaries
of :class:`Adversary`; :class:`NetworkReport` counts forks, reorganisations,
approval times and messages.

Modules: ``config`` (:class:`NetworkConfig`), ``adversary``, ``traffic`` (the
community's transactions), ``producer`` (block production), ``evidence``
(equivocation evidence), ``node`` (one node's tree and votes), ``report`` and
``sim`` (the clock and the messages).
"""

from __future__ import annotations

from gridledger.network.adversary import Adversary
from gridledger.network.config import NetworkConfig
from gridledger.network.node import Entry, Node
from gridledger.network.report import NetworkReport
from gridledger.network.sim import NetworkSim

__all__ = ["Adversary", "Entry", "NetworkConfig", "NetworkReport", "NetworkSim", "Node"]
