"""The bridge between two PowerChains: exactly once through every crash point of the service."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from gridledger.errors import DoubleSpendError, InvalidArgumentError, NotAuthorisedError
from gridledger.powerchain import IntegrationService
from powerchain_helpers import Cast, cast, refused


class Crash(Exception):
    pass


def two_chains() -> tuple[Cast, Cast, list[int], list[int]]:
    """Chain 1 and chain 2, each with 10 ENT for its P; two locks from 1 to 2 and one from 2 to 1."""
    a, b = cast(chain_id=1), cast(chain_id=2)
    from_a = [a.pc.lock_tokens(a.P, b.Q, 3), a.pc.lock_tokens(a.P, b.P, "1.5")]
    from_b = [b.pc.lock_tokens(b.P, a.Q, 2)]
    return a, b, from_a, from_b


def circulating(*cs: Cast) -> D:
    return sum((c.pc.get_total_ent() for c in cs), D(0))


def test_locks_move_across_and_keep_the_sum() -> None:
    a, b, from_a, from_b = two_chains()
    assert (from_a, from_b) == ([1, 2], [1])  # lock ids count per chain
    assert a.pc.balance_ent(a.P).available == D("5.5")
    assert a.pc.get_total_ent() == D("5.5")  # locked tokens leave circulation
    assert [k.amount for k in a.pc.get_locked_tokens(pending_only=True)] == [D(3), D("1.5")]
    done = IntegrationService(a.pc, a.S, b.pc, b.S).run_once()
    assert [(t.source_chain, t.lock_id, t.paid_now) for t in done] == [
        (1, 1, True),
        (1, 2, True),
        (2, 1, True),
    ]
    assert b.pc.balance_ent(b.Q).available == D(3)
    assert b.pc.balance_ent(b.P).available == D("8") + D("1.5")
    assert a.pc.balance_ent(a.Q).available == D(2)
    assert circulating(a, b) == D(20)
    assert a.pc.get_locked_tokens(pending_only=True) == b.pc.get_locked_tokens(pending_only=True) == []
    assert IntegrationService(a.pc, a.S, b.pc, b.S).run_once() == []  # nothing left to do


def steps_of_a_full_run() -> int:
    """How many steps a full run of the service takes."""
    seen: list[str] = []
    a2, b2, _, _ = two_chains()
    IntegrationService(a2.pc, a2.S, b2.pc, b2.S, step_hook=seen.append).run_once()
    return len(seen)


@pytest.mark.parametrize("crash_at", range(9))
def test_exactly_once_when_the_service_crashes_at_any_step(crash_at: int) -> None:
    """Crash before each step: before the check, between check and unlock, between unlock and mark."""
    a, b, _, _ = two_chains()
    assert steps_of_a_full_run() == 9  # check, unlock, mark for each of the three locks
    calls = {"n": 0}

    def hook(step: str) -> None:
        if calls["n"] == crash_at:
            raise Crash(step)
        calls["n"] += 1

    with pytest.raises(Crash):
        IntegrationService(a.pc, a.S, b.pc, b.S, step_hook=hook).run_once()
    # a new service instance picks up from the chains alone
    IntegrationService(a.pc, a.S, b.pc, b.S).run_once()
    assert b.pc.balance_ent(b.Q).available == D(3)
    assert b.pc.balance_ent(b.P).available == D("9.5")
    assert a.pc.balance_ent(a.Q).available == D(2)
    assert circulating(a, b) == D(20)
    assert all(k.transferred for k in a.pc.get_locked_tokens() + b.pc.get_locked_tokens())
    # and replaying both chains gives the same states
    for c in (a, b):
        c.pc.seal()
        assert type(c.pc).replay(c.pc.genesis, c.pc.blocks).state_root() == c.pc.state_root()


def test_escrow_pays_first_then_tokens_are_generated() -> None:
    a, b, _, _ = two_chains()
    IntegrationService(a.pc, a.S, b.pc, b.S).run_once()
    # chain 2 had 2 ENT in escrow (its own lock to chain 1): of the 4.5 coming in, 2.5 were generated
    b2 = cast(chain_id=2)
    b2.pc.lock_tokens(b2.P, a.Q, 2)
    assert b2.pc.unlock_tokens(b2.S, 1, 1, b2.Q, "4.5") == D("2.5")
    assert b2.pc.unlock_tokens(b2.S, 1, 2, b2.Q, 1) == D(1)


def test_the_destination_refuses_a_second_payment_and_only_the_service_may_pay() -> None:
    a, b, _, _ = two_chains()
    b.pc.unlock_tokens(b.S, 1, 1, b.Q, 3)
    refused(b.pc, DoubleSpendError, lambda: b.pc.unlock_tokens(b.S, 1, 1, b.Q, 3))
    refused(b.pc, NotAuthorisedError, lambda: b.pc.unlock_tokens(b.A, 1, 2, b.Q, 3))
    refused(b.pc, InvalidArgumentError, lambda: b.pc.unlock_tokens(b.S, 2, 9, b.Q, 3))  # its own chain
    a.pc.tokens_transferred(a.S, 1)
    refused(a.pc, DoubleSpendError, lambda: a.pc.tokens_transferred(a.S, 1))
    refused(a.pc, NotAuthorisedError, lambda: a.pc.tokens_transferred(a.P, 2))
