"""What the PowerChain's methods return: plain records with Decimal amounts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gridledger.powerchain.wallet import Address

__all__ = [
    "Balance",
    "Consumption",
    "EnergyRates",
    "LockInfo",
    "Mint",
    "OrderInfo",
    "OrderResult",
    "SessionInfo",
    "StorageUnitInfo",
    "TradeInfo",
]


@dataclass(frozen=True, slots=True)
class Balance:
    """A token balance: ``available + locked`` is what the address holds."""

    available: Decimal
    locked: Decimal

    @property
    def total(self) -> Decimal:
        """Available plus locked."""
        return self.available + self.locked


@dataclass(frozen=True, slots=True)
class Mint:
    """ENT minted for a production report: to the producer and to the unit's owner (fee F)."""

    producer_ent: Decimal
    owner_ent: Decimal

    @property
    def total(self) -> Decimal:
        """ENT minted in all: the producer's and the owner's fee."""
        return self.producer_ent + self.owner_ent


@dataclass(frozen=True, slots=True)
class Consumption:
    """A consumption report.

    ENT burned, ENT returned from sessions it closed, kWh served from sessions
    and kWh beyond them (burning nothing, growing the imbalance).
    """

    burned_ent: Decimal
    returned_ent: Decimal
    session_kwh: Decimal
    beyond_kwh: Decimal


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A consumption session.

    Its unit, the energy it still holds (Wh), the ENT it has locked and when it
    expires (seconds).
    """

    id: int
    user: Address
    unit: Address
    remaining_wh: Decimal
    locked_ent: Decimal
    expires_at: int


@dataclass(frozen=True, slots=True)
class StorageUnitInfo:
    """A storage unit: owner, active, stored energy and the part not reserved by sessions (kWh)."""

    address: Address
    owner: Address
    active: bool
    energy_kwh: Decimal
    available_kwh: Decimal


@dataclass(frozen=True, slots=True)
class EnergyRates:
    """The energy token's rates now.

    ENT minted per kWh produced and burned per kWh consumed; the imbalance
    D = ENT − kWh; the cost r set when |D| last grew (before the caps M and B).
    """

    mint: Decimal
    burn: Decimal
    imbalance: Decimal
    cost: Decimal


@dataclass(frozen=True, slots=True)
class TradeInfo:
    """A trade: resting and incoming order ids, price (eEuro/ENT), ENT and eEuro paid."""

    maker: int
    taker: int
    price: Decimal
    quantity: Decimal
    paid: Decimal


@dataclass(frozen=True, slots=True)
class OrderResult:
    """``add_order``'s result: the order id, its trades and the ENT left resting."""

    order_id: int
    trades: tuple[TradeInfo, ...]
    remaining: Decimal


@dataclass(frozen=True, slots=True)
class OrderInfo:
    """A resting order: id, owner, side, price (eEuro/ENT), ENT remaining and what it has locked."""

    id: int
    owner: Address
    side: str
    price: Decimal
    remaining: Decimal
    locked: Decimal


@dataclass(frozen=True, slots=True)
class LockInfo:
    """A bridge lock: id, sender, the address on the other chain, ENT, whether delivered."""

    id: int
    sender: Address
    remote: Address
    amount: Decimal
    transferred: bool
