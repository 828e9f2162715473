"""Checks shared by the public entry points: a bad argument becomes a typed error naming it.

Heights, periods, sizes and indices must be Python or numpy integers within
``[low, high]`` (by default ``0 ≤ value < 2⁶³``, what SQLite and the core's
``u64``/``i64`` fields hold); bytes arguments must be ``bytes``-like, never
``None``, ``str`` or an ``int`` (``bytes(5)`` would silently make five zero
bytes). Both raise :class:`~gridledger.errors.InvalidArgumentError` before
anything is read or changed.
"""

from __future__ import annotations

import numbers

import numpy as np

from gridledger.errors import InvalidArgumentError

__all__ = ["INDEX_MAX", "check_bytes", "check_index"]

INDEX_MAX = (1 << 63) - 1
"""The largest height, period, size or index accepted: SQLite's INTEGER is signed 64-bit."""


def check_index(name: str, value: object, high: int = INDEX_MAX, low: int = 0) -> int:
    """``value`` as an ``int`` in ``[low, high]``, or InvalidArgumentError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgumentError(
            f"{name} = {value!r}: an integer expected, not {type(value).__name__}", name, value
        )
    n = int(value)
    if not low <= n <= high:
        raise InvalidArgumentError(f"{name} = {n}: must lie in {low}..{high}", name, n)
    return n


def check_bytes(name: str, value: object, length: int | None = None) -> bytes:
    """``value`` as ``bytes`` (of ``length`` bytes when given), or InvalidArgumentError naming ``name``."""
    if isinstance(value, np.ndarray) and value.dtype == np.uint8:
        value = value.tobytes()
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise InvalidArgumentError(
            f"{name}: bytes expected, not {type(value).__name__}", name, type(value).__name__
        )
    b = bytes(value)
    if length is not None and len(b) != length:
        raise InvalidArgumentError(f"{name}: {length} bytes expected, got {len(b)}", name, f"{len(b)} bytes")
    return b
