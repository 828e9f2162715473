"""Shared set-ups for the PowerChain tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from gridledger.powerchain import ManualClock, PowerChain, Wallet


@dataclass
class Cast:
    pc: PowerChain
    clock: ManualClock
    A: Wallet  # deployer, voter
    K: Wallet  # banker
    S: Wallet  # bridge service
    U1: Wallet  # storage unit owned by O
    U2: Wallet
    O: Wallet  # unit owner  # noqa: E741
    P: Wallet  # a producer / user
    Q: Wallet  # a consumer / user


def cast(chain_id: int = 1, block_size: int = 8) -> Cast:
    """One voter (A), a banker, a bridge service, two units owned by O; P holds 10 ENT, Q 5 eEuro."""
    w = {n: Wallet.named(f"{n}@{chain_id}") for n in ("A", "K", "S", "U1", "U2", "O", "P", "Q")}
    clock = ManualClock(1_000)
    pc = PowerChain(w["A"], chain_id=chain_id, clock=clock, block_size=block_size)
    pc.change_banker(w["A"], w["K"])
    pc.change_bridge_service(w["A"], w["S"])
    pc.register_storage_unit(w["A"], w["U1"], w["O"])
    pc.register_storage_unit(w["A"], w["U2"], w["O"])
    pc.set_parameter(w["A"], "F", 0)
    pc.energy_produced(w["U1"], w["P"], 10_000)
    pc.mint_eeuro(w["K"], w["Q"], 5)
    return Cast(pc, clock, **w)


def refused(
    pc: PowerChain, error: type[Exception], call: Callable[[], object]
) -> pytest.ExceptionInfo[Exception]:
    """Assert ``call`` raises ``error`` and leaves the state (root, pending commands, blocks) unchanged."""
    before = (pc.state_root(), pc.pending, len(pc.blocks))
    with pytest.raises(error) as info:
        call()
    assert (pc.state_root(), pc.pending, len(pc.blocks)) == before
    return info
