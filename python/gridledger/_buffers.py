"""Turning Python inputs into the flat buffers the Rust core takes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from gridledger.errors import InvalidArgumentError

BytesLike = bytes | bytearray | memoryview


def as_bytes(field: str, data: object) -> bytes:
    """Return ``data`` as ``bytes`` or raise naming ``field``."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    raise InvalidArgumentError(
        f"{field} must be bytes-like, got {type(data).__name__}", field, type(data).__name__
    )


def ragged(field: str, items: Sequence[BytesLike]) -> tuple[bytes, NDArray[np.int64]]:
    """Concatenate bytes-like items: (flat bytes, offsets of length n + 1)."""
    if isinstance(items, bytes | bytearray | memoryview | str):
        raise InvalidArgumentError(
            f"{field} must be a sequence of bytes-like items, not a single {type(items).__name__}",
            field,
            type(items).__name__,
        )
    try:
        flat = b"".join(items)
    except TypeError:
        for i, item in enumerate(items):
            if not isinstance(item, bytes | bytearray | memoryview):
                raise InvalidArgumentError(
                    f"{field}[{i}] must be bytes-like, got {type(item).__name__}",
                    f"{field}[{i}]",
                    type(item).__name__,
                ) from None
        raise
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, items), dtype=np.int64, count=len(items)), out=offsets[1:])
    return flat, offsets


def rows(field: str, items: object, width: int | None = None) -> NDArray[np.uint8]:
    """Return a C-contiguous 2-D uint8 array from an array or a list of equal-length bytes."""
    if isinstance(items, np.ndarray):
        arr = items
        if arr.dtype != np.uint8 or arr.ndim != 2:
            raise InvalidArgumentError(
                f"{field} must be a 2-D uint8 array, got {arr.ndim}-D {arr.dtype}",
                field,
                f"{arr.ndim}-D {arr.dtype}",
            )
        arr = np.ascontiguousarray(arr)
    else:
        seq = list(items)  # type: ignore[call-overload]
        flat, offsets = ragged(field, seq)
        lengths = np.diff(offsets)
        w = width if width is not None else (int(lengths[0]) if len(seq) else 0)
        bad = np.flatnonzero(lengths != w)
        if bad.size:
            i = int(bad[0])
            raise InvalidArgumentError(
                f"{field}[{i}] is {int(lengths[i])} bytes, expected {w}",
                f"{field}[{i}]",
                f"{int(lengths[i])} bytes",
            )
        arr = np.frombuffer(flat, dtype=np.uint8).reshape(len(seq), w)
    if width is not None and arr.shape[1] != width:
        raise InvalidArgumentError(
            f"{field} must have {width} bytes per row, got shape {arr.shape}", field, arr.shape
        )
    return arr
