"""The grid under the community (SPEC §11, docs/grid.md).

A radial LV feeder (:class:`Feeder`: an MV/LV transformer, lines with R, X
and ampacity, buses; members, PV units and EV chargers placed on buses), the
standard feeders :func:`radial_feeder` builds, and an exact AC power flow over
every period of a run in one native call (:func:`powerflow`).
"""

from __future__ import annotations

from gridledger.grid.feeder import Bus, Distance, Feeder, Line, Transformer
from gridledger.grid.generate import LINE_TYPES, TRANSFORMER_TYPES, radial_feeder
from gridledger.grid.powerflow import PowerFlowResult, powerflow

__all__ = [
    "LINE_TYPES",
    "TRANSFORMER_TYPES",
    "Bus",
    "Distance",
    "Feeder",
    "Line",
    "PowerFlowResult",
    "Transformer",
    "powerflow",
    "radial_feeder",
]
