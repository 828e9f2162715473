"""Meters: signed readings, cryptometer quanta and the MID accuracy bound.

- :class:`MeterReading` — a canonical 25-byte signed reading in integer Wh.
- :class:`Cryptometer`, :class:`MeterSpec`, :func:`mid_bound_wh` — pulse
  counting into V-Wh quanta with V < Pmin · MPE · Δt enforced (SPEC §1).
- :func:`accuracy_report` — chain energy against the MID meter's, per period
  and per participant.
"""

from __future__ import annotations

from gridledger.meters.accuracy import AccuracyReport, accuracy_report
from gridledger.meters.cryptometer import Cryptometer, MeterSpec, Quanta, mid_bound_wh
from gridledger.meters.reading import READING_VERSION, MeterReading

__all__ = [
    "READING_VERSION",
    "AccuracyReport",
    "Cryptometer",
    "MeterReading",
    "MeterSpec",
    "Quanta",
    "accuracy_report",
    "mid_bound_wh",
]
