"""Role checks, bad input, the voting rule, sessions, the imbalance rule's cases, banker and market."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from gridledger.errors import (
    BadConfigurationError,
    InsufficientFundsError,
    InvalidArgumentError,
    NotAuthorisedError,
)
from gridledger.powerchain import Balance, ManualClock, Parameters, PowerChain, Wallet
from powerchain_helpers import cast, refused

# --- roles ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        lambda c: c.pc.add_voter(c.P, c.Q),
        lambda c: c.pc.remove_voter(c.P, c.A),
        lambda c: c.pc.register_storage_unit(c.P, c.Q, c.P),
        lambda c: c.pc.remove_storage_unit(c.P, c.U1),
        lambda c: c.pc.change_banker(c.P, c.P),
        lambda c: c.pc.set_parameter(c.P, "C", "0.1"),
        lambda c: c.pc.change_bridge_service(c.P, c.P),
        lambda c: c.pc.energy_produced(c.P, c.P, 1000),
        lambda c: c.pc.energy_consumed(c.P, c.P, 1000),
        lambda c: c.pc.report_actual_energy(c.O, 1000),  # the owner is not the unit
        lambda c: c.pc.mint_eeuro(c.A, c.P, 1),
        lambda c: c.pc.burn_eeuro(c.Q, c.Q, 1),
        lambda c: c.pc.unlock_eeuro(c.Q, c.Q, 1),
        lambda c: c.pc.unlock_tokens(c.P, 2, 1, c.P, 1),
        lambda c: c.pc.tokens_transferred(c.A, 1),
    ],
    ids=[
        "add_voter", "remove_voter", "register_unit", "remove_unit", "change_banker", "set_parameter",
        "change_bridge_service", "produced_by_user", "consumed_by_user", "report_by_owner", "mint_by_voter",
        "burn_by_user", "unlock_by_user", "bridge_unlock_by_user", "bridge_mark_by_voter",
    ],
)  # fmt: skip
def test_every_role_check_refuses_and_changes_nothing(command: object) -> None:
    c = cast()
    refused(c.pc, NotAuthorisedError, lambda: command(c))  # type: ignore[operator]


def test_removed_unit_can_neither_report_nor_host_sessions() -> None:
    c = cast()
    assert c.pc.remove_storage_unit(c.A, c.U2).passed
    refused(c.pc, NotAuthorisedError, lambda: c.pc.energy_produced(c.U2, c.P, 1000))
    refused(c.pc, InvalidArgumentError, lambda: c.pc.start_consumption_session(c.P, c.U2, 1))
    refused(c.pc, InvalidArgumentError, lambda: c.pc.start_consumption_session(c.P, c.Q, 1))  # unknown
    refused(c.pc, InvalidArgumentError, lambda: c.pc.remove_storage_unit(c.A, c.U2))
    assert c.pc.get_storage_units() == [c.U1.address]
    assert c.pc.register_storage_unit(c.A, c.U2, c.P).passed  # reactivated, new owner
    assert c.pc.get_storage_unit_info(c.U2).owner == c.P.address


def test_only_others_orders_are_refused() -> None:
    c = cast()
    o = c.pc.add_order(c.P, "sell", 1, 2)
    refused(c.pc, NotAuthorisedError, lambda: c.pc.remove_order(c.Q, o.order_id))
    refused(c.pc, InvalidArgumentError, lambda: c.pc.remove_order(c.P, 999))


def test_a_non_voter_cannot_seal() -> None:
    c = cast(block_size=100)
    c.pc.transfer_ent(c.P, c.Q, 1)
    with pytest.raises(NotAuthorisedError):
        c.pc.seal(c.P)
    assert c.pc.pending == 8  # the set-up's 7 commands and the transfer, still unsealed


# --- bad input --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (lambda c: c.pc.transfer_ent(c.P, c.Q, 11), InsufficientFundsError),
        (lambda c: c.pc.transfer_eeuro(c.Q, c.P, "5.000001"), InsufficientFundsError),
        (lambda c: c.pc.lock_eeuro(c.Q, 6), InsufficientFundsError),
        (lambda c: c.pc.add_order(c.P, "sell", 1, "10.5"), InsufficientFundsError),
        (lambda c: c.pc.add_order(c.Q, "buy", "0.5", "10.000002"), InsufficientFundsError),  # locks 5.000001
        (lambda c: c.pc.start_consumption_session(c.P, c.U1, 11), InsufficientFundsError),
        (lambda c: c.pc.start_consumption_session(c.Q, c.U2, 1), InsufficientFundsError),  # Q has no ENT
        (lambda c: c.pc.burn_eeuro(c.K, c.Q, 1), InsufficientFundsError),  # nothing locked for withdrawal
        (lambda c: c.pc.unlock_eeuro(c.K, c.Q, 1), InsufficientFundsError),
        (lambda c: c.pc.transfer_ent(c.P, c.Q, -1), InvalidArgumentError),
        (lambda c: c.pc.transfer_ent(c.P, c.Q, 0), InvalidArgumentError),
        (lambda c: c.pc.transfer_ent(c.P, c.Q, 0.5), InvalidArgumentError),  # a float
        (lambda c: c.pc.transfer_ent(c.P, c.Q, "NaN"), InvalidArgumentError),
        (lambda c: c.pc.transfer_ent(c.P, c.Q, "0.0000001"), InvalidArgumentError),  # finer than 1e-6
        (lambda c: c.pc.transfer_ent(c.P, "0x1234", 1), InvalidArgumentError),
        (lambda c: c.pc.energy_produced(c.U1, c.P, -5), InvalidArgumentError),
        (lambda c: c.pc.energy_produced(c.U1, c.P, "0.0001"), InvalidArgumentError),  # finer than 1 mWh
        (lambda c: c.pc.energy_consumed(c.U1, c.P, 0), InvalidArgumentError),
        (lambda c: c.pc.energy_consumed(c.U1, c.P, 10_001), InvalidArgumentError),  # more than stored
        (lambda c: c.pc.add_order(c.P, "hold", 1, 1), InvalidArgumentError),
        (lambda c: c.pc.add_order(c.P, "sell", 0, 1), InvalidArgumentError),
        (lambda c: c.pc.mint_eeuro(c.K, c.P, "-1"), InvalidArgumentError),
        (lambda c: c.pc.set_parameter(c.A, "C", 0), InvalidArgumentError),
        (lambda c: c.pc.set_parameter(c.A, "C", 1), InvalidArgumentError),
        (lambda c: c.pc.set_parameter(c.A, "F", "1.01"), InvalidArgumentError),
        (lambda c: c.pc.set_parameter(c.A, "F", "-0.01"), InvalidArgumentError),
        (lambda c: c.pc.set_parameter(c.A, "M", "-0.1"), InvalidArgumentError),
        (lambda c: c.pc.set_parameter(c.A, "B", -1), InvalidArgumentError),
        (lambda c: c.pc.set_parameter(c.A, "H", 0), InvalidArgumentError),
        (lambda c: c.pc.set_parameter(c.A, "H", "1.5"), InvalidArgumentError),
        (lambda c: c.pc.set_parameter(c.A, "X", 1), BadConfigurationError),
        (lambda c: c.pc.add_voter(c.A, c.A), InvalidArgumentError),
        (lambda c: c.pc.remove_voter(c.A, c.A), InvalidArgumentError),  # the last voter
        (lambda c: c.pc.register_storage_unit(c.A, c.U1, c.P), InvalidArgumentError),
        (lambda c: c.pc.tokens_transferred(c.S, 7), InvalidArgumentError),
    ],
)
def test_bad_input_is_refused_with_a_typed_error_and_changes_nothing(command: object, error: type) -> None:
    c = cast()
    refused(c.pc, error, lambda: command(c))  # type: ignore[operator]


def test_a_clock_going_back_is_refused() -> None:
    c = cast()
    c.clock.t -= 1
    from gridledger.errors import InvalidTransactionError

    refused(c.pc, InvalidTransactionError, lambda: c.pc.transfer_ent(c.P, c.Q, 1))


def test_parameters_out_of_range_at_deployment() -> None:
    with pytest.raises(InvalidArgumentError):
        PowerChain(Wallet.named("x"), clock=ManualClock(), parameters=Parameters(C=D(0)))


# --- voting -----------------------------------------------------------------------


def test_votes_need_a_majority_and_a_second_command_flips() -> None:
    A, B, V = Wallet.named("A"), Wallet.named("B"), Wallet.named("V")
    pc = PowerChain(A, clock=ManualClock())
    pc.add_voter(A, B)
    r = pc.add_voter(A, V)
    assert (r.passed, r.positive, r.voters) == (False, 1, 2)  # 1/2 is not > 0.5
    r = pc.add_voter(A, V)  # A again: flips A's vote away
    assert (r.passed, r.positive) == (False, 0)
    pc.add_voter(A, V)
    assert pc.add_voter(B, V).passed
    assert pc.voters == sorted([A.address, B.address, V.address])
    # three voters: two positive votes pass (2/3 > 0.5)
    pc.set_parameter(A, "C", "0.1")
    assert pc.get_parameters().C == D("0.05")
    assert pc.set_parameter(V, "C", "0.1").passed
    assert pc.get_parameters().C == D("0.1")
    # a different value is a different vote
    assert not pc.set_parameter(A, "C", "0.2").passed
    assert not pc.set_parameter(B, "C", "0.3").passed
    # removing a voter drops its open votes
    pc.remove_voter(A, V)
    assert pc.remove_voter(B, V).passed
    assert V.address not in pc.voters
    refused(pc, NotAuthorisedError, lambda: pc.set_parameter(V, "C", "0.2"))
    assert pc.set_parameter(B, "C", "0.2").passed  # with A's open vote: 2/2


# --- sessions -------------------------------------------------------------------


def test_sessions_expire_after_h_and_return_their_ent() -> None:
    c = cast()
    s = c.pc.start_consumption_session(c.P, c.U1, 4)
    assert s.expires_at == c.clock.t + 7200
    assert c.pc.get_storage_unit_info(c.U1).available_kwh == D(6)
    c.pc.energy_consumed(c.U1, c.P, 1000)
    assert c.pc.get_consumption_session_energy(c.P, c.U1) == D(3)
    c.clock.advance(7199)
    assert c.pc.clear_old_sessions(c.Q) == 0
    c.clock.advance(1)
    assert c.pc.clear_old_sessions(c.Q) == 1
    assert c.pc.balance_ent(c.P) == Balance(D(9), D(0))
    assert c.pc.get_storage_unit_info(c.U1).available_kwh == D(9)
    # after expiry, consumption is beyond any session: burns nothing, grows D
    r = c.pc.energy_consumed(c.U1, c.P, 1000)
    assert (r.burned_ent, r.beyond_kwh) == (D(0), D(1))
    assert c.pc.get_energy_rates().imbalance == D(1)


def test_expiry_happens_before_any_command_and_is_undone_with_a_refused_one() -> None:
    c = cast()
    c.pc.start_consumption_session(c.P, c.U1, 4)
    c.clock.advance(7200)
    refused(c.pc, InsufficientFundsError, lambda: c.pc.transfer_ent(c.P, c.Q, 100))
    assert len(c.pc.get_consumption_sessions(c.P)) == 1  # still there: the refused command undid its expiry
    c.pc.transfer_ent(c.P, c.Q, 10)  # the expired session returned its 4 ENT first
    assert c.pc.get_consumption_sessions(c.P) == []


def test_several_sessions_serve_oldest_first() -> None:
    c = cast()
    c.pc.start_consumption_session(c.P, c.U1, 2)
    c.pc.start_consumption_session(c.P, c.U1, 3)
    r = c.pc.energy_consumed(c.U1, c.P, 2500)
    assert (r.burned_ent, r.returned_ent, r.session_kwh) == (D("2.5"), D(0), D("2.5"))
    (left,) = c.pc.get_consumption_sessions(c.P)
    assert (left.remaining_wh, left.locked_ent) == (D(2500), D("2.5"))


# --- the imbalance rule's other cases --------------------------------------------


def test_mirror_rule_when_ent_is_below_kwh() -> None:
    c = cast()  # 10 ENT, 10 kWh
    c.pc.report_actual_energy(c.U1, 12_000)  # the battery holds more than was reported
    rates = c.pc.get_energy_rates()
    assert (rates.imbalance, rates.cost, rates.mint, rates.burn) == (D(-2), D("0.1"), D("1.1"), D("0.9"))
    assert c.pc.energy_produced(c.U2, c.P, 1000).total == D("1.1")  # D: -2 -> -1.9
    # 20 kWh more: 19 of them at 1.1 reach equilibrium, the last kWh is split (x - D = 21.9)
    assert c.pc.energy_produced(c.U2, c.P, 20_000).total == D("21.9")
    assert c.pc.get_energy_rates().imbalance == D(0)
    # and back below: consumption burns 1 - r
    c.pc.report_actual_energy(c.U1, 16_000)  # +4 kWh: D = -4, r = 0.2
    c.pc.start_consumption_session(c.P, c.U1, "0.8")  # 0.8 / 0.8 = 1 kWh
    assert c.pc.get_consumption_session_energy(c.P, c.U1) == D(1)
    assert c.pc.energy_consumed(c.U1, c.P, 1000).burned_ent == D("0.8")


def test_caps_m_and_b() -> None:
    c = cast()
    c.pc.energy_consumed(c.U1, c.Q, 10_000)  # all of it beyond any session: D = 10, r = 0.5
    c.pc.energy_produced(c.U1, c.P, 10_000)  # D = 10 - 5 = 5 (r stays 0.5)
    c.pc.energy_consumed(c.U1, c.Q, 10_000)  # D = 15, r = 0.75 > M, B
    rates = c.pc.get_energy_rates()
    assert (rates.cost, rates.mint, rates.burn) == (D("0.75"), D("0.5"), D("1.5"))
    c.pc.set_parameter(c.A, "M", "0.6")
    assert c.pc.get_energy_rates().mint == D("0.4")


def test_storage_fee_goes_to_the_units_owner() -> None:
    c = cast()
    c.pc.set_parameter(c.A, "F", "0.25")
    m = c.pc.energy_produced(c.U1, c.P, "1000.001")  # 1.000001 ENT: the fee rounds down
    assert (m.producer_ent, m.owner_ent) == (D("0.750001"), D("0.25"))


# --- banker and market ------------------------------------------------------------


def test_banker_mints_burns_and_unlocks_only_what_was_locked() -> None:
    c = cast()
    c.pc.lock_eeuro(c.Q, 3)
    assert c.pc.balance_eeuro(c.Q) == Balance(D(2), D(3))
    c.pc.burn_eeuro(c.K, c.Q, 1)
    c.pc.unlock_eeuro(c.K, c.Q, 2)
    assert c.pc.balance_eeuro(c.Q) == Balance(D(4), D(0))
    assert c.pc.get_total_eeuro() == D(4)


def test_market_partial_fills_rounding_and_cancel() -> None:
    c = cast()
    c.pc.transfer_eeuro(c.Q, c.P, 1)
    a = c.pc.add_order(c.Q, "buy", "0.333333", 3)  # locks ceil(0.999999) = 0.999999
    assert c.pc.balance_eeuro(c.Q) == Balance(D("3.000001"), D("0.999999"))
    # trades at the resting 0.333333: 1.5 ENT cost 0.4999995, paid 0.499999 (rounded down)
    s1 = c.pc.add_order(c.P, "sell", "0.3", "1.5")
    assert s1.trades[0].paid == D("0.499999") and s1.remaining == 0
    assert c.pc.balance_eeuro(c.P) == Balance(D("1.499999"), D(0))
    # what is still locked covers the rest at the limit: ceil(1.5 * 0.333333) = 0.5
    (o,) = c.pc.get_orders()
    assert (o.remaining, o.locked) == (D("1.5"), D("0.5"))
    assert c.pc.remove_order(c.Q, a.order_id) == D("1.5")
    assert c.pc.balance_eeuro(c.Q) == Balance(D("3.500001"), D(0))
    assert c.pc.balance_ent(c.Q) == Balance(D("1.5"), D(0))
    assert c.pc.get_total_eeuro() == D(5)
