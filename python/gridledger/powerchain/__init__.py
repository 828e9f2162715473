"""The PowerChain token economy (SPEC §5, seed 004 ch. 4–6).

ENT (1 ENT ≈ 1 kWh stored) and eEuro (1:1 with the euro, issued by the
banker); storage units that mint and burn ENT with the imbalance cost;
consumption sessions; voting; the ENT/eEuro market on the Rust order book;
a bridge between two instances. Every command is a signed transaction in a
proof-of-authority chain that can be replayed and proved. See
``docs/powerchain.md``.
"""

from __future__ import annotations

from gridledger.powerchain.amounts import UNIT
from gridledger.powerchain.blocks import Block, CommandProof, StateProof
from gridledger.powerchain.chain import PowerChain
from gridledger.powerchain.clock import ManualClock, system_clock
from gridledger.powerchain.governance import VoteResult
from gridledger.powerchain.params import Parameters
from gridledger.powerchain.service import IntegrationService
from gridledger.powerchain.views import (
    Balance,
    Consumption,
    EnergyRates,
    LockInfo,
    Mint,
    OrderInfo,
    OrderResult,
    SessionInfo,
    StorageUnitInfo,
    TradeInfo,
)
from gridledger.powerchain.wallet import ZERO_ADDRESS, Address, Wallet

__all__ = [
    "UNIT",
    "ZERO_ADDRESS",
    "Address",
    "Balance",
    "Block",
    "CommandProof",
    "Consumption",
    "EnergyRates",
    "IntegrationService",
    "LockInfo",
    "ManualClock",
    "Mint",
    "OrderInfo",
    "OrderResult",
    "Parameters",
    "PowerChain",
    "SessionInfo",
    "StateProof",
    "StorageUnitInfo",
    "TradeInfo",
    "VoteResult",
    "Wallet",
    "system_clock",
]
