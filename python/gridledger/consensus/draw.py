"""The auction draw and its exact win probabilities (SPEC §3).

``draw`` is what every node computes from the chain: U_k = (u + 1) / 2^64
with u the first 8 bytes (LE) of H(seed_hash ‖ period ‖ key_k), winner =
argmax W_k / U_k (the seeds' rule) or argmax U_k^(1/W_k) (``proportional``).
The seeds' rule is not proportional to W: two candidates with W = 2 and 1
win with probabilities 0.75 and 0.25, not 2/3 and 1/3; ``win_probabilities``
gives the exact figures of both rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from gridledger import _core
from gridledger._buffers import as_bytes, rows
from gridledger.errors import InvalidArgumentError
from gridledger.hashing import Algorithm

__all__ = ["Rule", "draw", "win_probabilities"]

Rule = Literal["argmax_w_over_u", "proportional"]


def _weights(weights: Sequence[float] | NDArray[np.floating]) -> NDArray[np.float64]:
    try:
        w = np.ascontiguousarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgumentError(
            f"weights must be numbers, got {type(weights).__name__}", "weights", type(weights).__name__
        ) from None
    if w.ndim != 1:
        raise InvalidArgumentError(f"weights must be 1-D, got shape {w.shape}", "weights", w.shape)
    return w


def _period(period: object) -> int:
    """``period`` as an int in 0..2^64-1 (a numpy integer too; not a bool or a float)."""
    if isinstance(period, bool) or not isinstance(period, int | np.integer):
        raise InvalidArgumentError(
            f"period must be an integer, got {type(period).__name__}", "period", type(period).__name__
        )
    p = int(period)
    if not 0 <= p < 1 << 64:
        raise InvalidArgumentError(f"period = {p}: must be in 0..2^64-1", "period", p)
    return p


def draw(
    weights: Sequence[float] | NDArray[np.floating],
    seed_hash: bytes,
    period: int,
    public_keys: Sequence[bytes] | NDArray[np.uint8],
    rule: Rule = "argmax_w_over_u",
    algorithm: Algorithm = "blake3",
) -> int:
    """Index of the auction's winner.

    Parameters
    ----------
    weights
        W of each candidate (finite, ≥ 0; all 0 draws uniformly).
    seed_hash
        The previous block's hash (32 bytes).
    period
        The period being auctioned.
    public_keys
        Each candidate's 32-byte key, as a sequence or an ``(n, 32)`` array.
    rule
        ``"argmax_w_over_u"`` or ``"proportional"``.

    Raises
    ------
    InvalidArgumentError
        On NaN, infinite or negative weights, lengths that differ, no
        candidate, a seed that is not 32 bytes, or a period that is not an
        integer in 0..2^64-1.
    """
    keys = rows("public_keys", public_keys, 32)
    seed = as_bytes("seed_hash", seed_hash)
    return _core.draw_winner(_weights(weights), seed, _period(period), keys, rule, algorithm)


def win_probabilities(
    weights: Sequence[float] | NDArray[np.floating], rule: Rule = "argmax_w_over_u"
) -> NDArray[np.float64]:
    """Each candidate's exact probability of winning (to double precision).

    ``proportional``: w_i / Σw. ``argmax_w_over_u``:
    P_i = ∫₀^{min(1, w_i/w_max)} Π_{j≠i} (1 − u·w_j/w_i) du, integrated by
    Gauss–Legendre quadrature that is exact for this polynomial integrand.

    The result is exact for any finite weights, however large: weights whose
    sum overflows a double (two of 10^308) are first divided by the largest,
    which leaves both rules' probabilities unchanged.
    """
    return _core.win_probabilities(_weights(weights), rule)
