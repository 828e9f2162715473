"""Grid fees by electrical distance (SPEC §11, docs/grid.md "Fees").

A :class:`Tariff` is what the DSO charges per unit of energy traded inside the
community, by how far the energy travels on the feeder
(:meth:`Feeder.distance <gridledger.grid.feeder.Feeder.distance>`):

- ``bus``: seller and buyer on the same bus (no line used);
- ``feeder``: both below the same first line out of the transformer's LV bus
  (the same LV feeder leg);
- ``transformer``: through the transformer's LV bus (two legs).

Fees are **integer price ticks per unit of quantity**, the same ticks as the
markets' prices (the community's markets: milli-euro per kWh), so every
comparison and every payment stays exact integer arithmetic. A fee matrix is
an ``(owners × owners)`` int64 array, ``fees[buyer, seller]``. What the
markets do with it (documented in each): the **buyer pays price + fee**, the
seller receives the price, the fee goes to the DSO, and a bid only matches an
ask when ``bid ≥ ask + fee`` (call auction, multi-period clearing; the CDA
shades each buyer's limit by its largest fee, see
:class:`~gridledger.community.trading.Trader`).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gridledger.errors import InvalidArgumentError


class _Placed(Protocol):
    """What fees need of a :class:`~gridledger.grid.feeder.Feeder`: member buses and distances."""

    @property
    def member_bus(self) -> NDArray[np.int64]: ...

    def distance(self, a: int, b: int) -> str: ...


__all__ = ["DISTANCES", "Tariff", "check_fee_matrix", "fee_matrix", "settle_fees"]

#: The distance classes, nearest first.
DISTANCES = ("bus", "feeder", "transformer")


def _tick(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgumentError(
            f"{field} = {value!r}: an integer number of price ticks expected", field, value
        )
    v = int(value)
    if not 0 <= v < 1 << 40:
        raise InvalidArgumentError(f"{field} = {v}: a fee must lie in 0..2^40 ticks", field, v)
    return v


@dataclass(frozen=True)
class Tariff:
    """The DSO's fee per unit of traded energy, in price ticks, by electrical distance.

    Parameters
    ----------
    bus, feeder, transformer
        Fee (integer price ticks per unit of quantity, ≥ 0; in the community
        milli-euro per kWh) for a trade within one bus, along one feeder leg,
        and through the transformer's LV bus. Usually ``bus ≤ feeder ≤ transformer``
        (not required).

    Raises
    ------
    InvalidArgumentError
        A negative, non-integer or huge fee, naming the distance class.
    """

    bus: int = 0
    feeder: int = 0
    transformer: int = 0

    def __post_init__(self) -> None:
        """Check every fee (whole ticks, 0 ≤ fee < 2^40)."""
        for name in DISTANCES:
            object.__setattr__(self, name, _tick(f"tariff.{name}", getattr(self, name)))

    def fee(self, distance: str) -> int:
        """Return the fee (ticks per unit) of a distance: ``"bus"``, ``"feeder"`` or ``"transformer"``."""
        if distance not in DISTANCES:
            raise InvalidArgumentError(
                f"distance {distance!r}: use one of {', '.join(DISTANCES)}", "distance", distance
            )
        return int(getattr(self, distance))

    @classmethod
    def from_dict(cls, d: Any) -> Tariff:
        """Return the tariff of a mapping with keys among ``bus``, ``feeder``, ``transformer``."""
        if not isinstance(d, dict):
            raise InvalidArgumentError("a tariff is a table of bus/feeder/transformer fees", "tariff", d)
        unknown = sorted(set(d) - set(DISTANCES))
        if unknown:
            raise InvalidArgumentError(
                f"unknown tariff key {unknown[0]!r}: use {', '.join(DISTANCES)}",
                f"tariff.{unknown[0]}",
                d[unknown[0]],
            )
        return cls(**d)


def fee_matrix(feeder: _Placed, tariff: Tariff) -> NDArray[np.int64]:
    """Return the ``(M, M)`` fee matrix of the feeder's members: ``fees[buyer, seller]`` (ticks per unit).

    Members are in the order of ``feeder.members`` (the community's member order).
    """
    if not isinstance(tariff, Tariff):
        raise InvalidArgumentError("tariff must be a Tariff", "tariff", type(tariff).__name__)
    buses = np.asarray(feeder.member_bus, dtype=np.int64)
    m = len(buses)
    out = np.zeros((m, m), np.int64)
    # The distance class depends on the buses only: one lookup per pair of distinct buses.
    memo: dict[tuple[int, int], int] = {}
    for i in range(m):
        for j in range(m):
            key = (int(buses[i]), int(buses[j]))
            if key not in memo:
                memo[key] = tariff.fee(feeder.distance(*key))
            out[i, j] = memo[key]
    return out


def check_fee_matrix(
    fees: object, owners: NDArray[np.int64] | None = None, name: str = "fees"
) -> NDArray[np.int64]:
    """Return ``fees`` as a validated square int64 matrix.

    Parameters
    ----------
    fees
        An ``(N, N)`` array of whole, non-negative fees (ticks per unit), ``fees[buyer, seller]``.
    owners
        Owner indices the caller will look up; each must be a row of the matrix.

    Raises
    ------
    InvalidArgumentError
        Not a square 2-D matrix, a negative, fractional or non-finite fee (naming
        the first such cell), or an owner with no row (naming it).
    """
    a = np.asarray(fees)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise InvalidArgumentError(
            f"{name} must be a square (owners × owners) matrix, got shape {a.shape}", name, a.shape
        )
    if a.dtype.kind not in "iuf" and a.size:
        raise InvalidArgumentError(f"{name} must be numeric, got {a.dtype}", name, str(a.dtype))
    if a.dtype.kind == "f":
        bad = ~np.isfinite(a) | (a != np.floor(a))
        if bad.any():
            i, j = (int(x) for x in np.argwhere(bad)[0])
            raise InvalidArgumentError(
                f"{name}[{i}, {j}] = {a[i, j]}: a whole number of ticks expected",
                f"{name}[{i}, {j}]",
                float(a[i, j]),
            )
    if a.size and (np.any(a < 0) or np.any(a >= 1 << 40)):
        i, j = (int(x) for x in np.argwhere((a < 0) | (a >= 1 << 40))[0])
        raise InvalidArgumentError(
            f"{name}[{i}, {j}] = {a[i, j]}: a fee must lie in 0..2^40 ticks",
            f"{name}[{i}, {j}]",
            a[i, j].item(),
        )
    out = a.astype(np.int64)
    if owners is not None and len(owners):
        o = np.asarray(owners, dtype=np.int64)
        bad_o = (o < 0) | (o >= out.shape[0])
        if bad_o.any():
            v = int(o[np.flatnonzero(bad_o)[0]])
            raise InvalidArgumentError(
                f"owner {v} has no row in {name} ({out.shape[0]} owners)", f"{name}.owner", v
            )
    return out


def settle_fees(trades: pl.DataFrame, fees: object) -> pl.DataFrame:
    """Return ``trades`` with each trade's fee and what its buyer pays.

    Parameters
    ----------
    trades
        Columns ``buyer``, ``seller``, ``quantity``, ``price`` (any market's trades:
        a CDA tape read as buyer/seller, a call auction's fills).
    fees
        ``(owners × owners)`` fee matrix, ``fees[buyer, seller]`` (ticks per unit).

    Returns
    -------
    polars.DataFrame
        ``trades`` plus ``fee`` (ticks per unit), ``buyer_pays`` = quantity × (price + fee),
        ``seller_gets`` = quantity × price and ``dso_gets`` = quantity × fee (ticks × units,
        exact int64; ``buyer_pays == seller_gets + dso_gets`` on every row).
    """
    missing = [c for c in ("buyer", "seller", "quantity", "price") if c not in trades.columns]
    if missing:
        raise InvalidArgumentError(f"trades lack columns {missing}", "trades", missing)
    b = trades["buyer"].cast(pl.Int64).to_numpy()
    s = trades["seller"].cast(pl.Int64).to_numpy()
    f = check_fee_matrix(fees, np.concatenate([b, s]))
    fee = f[b, s] if len(b) else np.zeros(0, np.int64)
    q = trades["quantity"].cast(pl.Int64).to_numpy()
    p = trades["price"].cast(pl.Int64).to_numpy()
    if len(q) and int(np.abs(q).max()) * (int(np.abs(p).max()) + int(fee.max())) >= 1 << 62:
        raise InvalidArgumentError(
            "a trade's payment overflows int64", "trades.quantity", int(np.abs(q).max())
        )
    return trades.with_columns(
        pl.Series("fee", fee, pl.Int64),
        pl.Series("buyer_pays", q * (p + fee), pl.Int64),
        pl.Series("seller_gets", q * p, pl.Int64),
        pl.Series("dso_gets", q * fee, pl.Int64),
    )
