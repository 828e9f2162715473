"""Signed meter readings: a canonical, versioned binary encoding.

A reading is one meter's energy over one interval, in integer Wh (never a
float: readings are hashed and signed, SPEC §2). The encoding is fixed-width,
little-endian, 25 bytes::

    b"GLMR" | version u8 (=1) | interval start, Unix s i64 | duration s u32 | energy Wh i64
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime

from gridledger.errors import InvalidArgumentError

__all__ = ["READING_VERSION", "MeterReading"]

READING_VERSION = 1
_MAGIC = b"GLMR"
_LAYOUT = struct.Struct("<4sBqIq")


@dataclass(frozen=True)
class MeterReading:
    """One meter's energy over one interval.

    Attributes
    ----------
    start_s
        Interval start, Unix seconds (UTC).
    duration_s
        Interval length in seconds (> 0).
    energy_wh
        Energy in Wh over the interval (integer, ≥ 0).
    """

    start_s: int
    duration_s: int
    energy_wh: int

    def __post_init__(self) -> None:
        """Check the fields are integers in range; :class:`InvalidArgumentError` names the first bad one."""
        for name in ("start_s", "duration_s", "energy_wh"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise InvalidArgumentError(f"{name} must be an int, got {v!r}", name, v)
        if self.duration_s <= 0 or self.duration_s >= 2**32:
            raise InvalidArgumentError(
                f"duration_s must be in 1..2^32-1, got {self.duration_s}",
                "duration_s",
                self.duration_s,
            )
        if self.energy_wh < 0 or self.energy_wh >= 2**63:
            raise InvalidArgumentError(
                f"energy_wh must be in 0..2^63-1, got {self.energy_wh}", "energy_wh", self.energy_wh
            )
        if not -(2**63) <= self.start_s < 2**63:
            raise InvalidArgumentError(f"start_s out of range: {self.start_s}", "start_s", self.start_s)

    def encode(self) -> bytes:
        """Return the canonical 25-byte encoding (what is signed and hashed)."""
        return _LAYOUT.pack(_MAGIC, READING_VERSION, self.start_s, self.duration_s, self.energy_wh)

    @classmethod
    def decode(cls, data: bytes) -> MeterReading:
        """Parse the canonical encoding; raises on any other bytes."""
        if len(data) != _LAYOUT.size:
            raise InvalidArgumentError(
                f"a reading is {_LAYOUT.size} bytes, got {len(data)}", "data", len(data)
            )
        magic, version, start, duration, energy = _LAYOUT.unpack(data)
        if magic != _MAGIC or version != READING_VERSION:
            raise InvalidArgumentError(f"not a version-{READING_VERSION} reading", "data", data[:5].hex())
        return cls(start, duration, energy)

    @property
    def start(self) -> datetime:
        """Interval start as an aware UTC datetime."""
        return datetime.fromtimestamp(self.start_s, tz=UTC)
