"""Seed 004 §6.3–6.5 reproduced number for number (SPEC §5, the reference test)."""

from __future__ import annotations

from decimal import Decimal as D

from gridledger.powerchain import Balance, ManualClock, PowerChain, Wallet


def test_seed_004_walkthrough() -> None:
    A, B, C = Wallet.named("A"), Wallet.named("B"), Wallet.named("C")
    U1, U2 = Wallet.named("U1"), Wallet.named("U2")
    clock = ManualClock(1_700_000_000)
    pc = PowerChain(A, clock=clock, block_size=4)

    # governance: A is the first voter; with two voters every vote needs both
    assert pc.add_voter(A, B).passed
    first = pc.register_storage_unit(A, U1, C)
    assert (first.passed, first.positive, first.voters) == (False, 1, 2)
    assert pc.register_storage_unit(B, U1, C).passed
    pc.register_storage_unit(A, U2, C)
    pc.register_storage_unit(B, U2, C)
    assert pc.get_storage_units() == [U1.address, U2.address]

    # §6.4: A produces 10 kWh into U1 (owned by C): A gets 8 ENT, C gets 2
    m = pc.energy_produced(U1, A, 10_000)
    assert (m.producer_ent, m.owner_ent) == (D(8), D(2))
    clock.advance(60)

    # C locks 2 ENT with U1 (2 kWh) and consumes 1 kWh: 9 ENT, 9 kWh
    s = pc.start_consumption_session(C, U1, 2)
    assert s.remaining_wh == D(2000) and s.locked_ent == D(2)
    assert pc.energy_consumed(U1, C, 1000).burned_ent == D(1)
    assert (pc.get_total_ent(), pc.get_total_energy()) == (D(9), D(9))

    # a faulty meter reports 2 kWh against the 1 kWh left: 8 ENT, 7 kWh, D0 = 1, r = 0.05
    c = pc.energy_consumed(U1, C, 2000)
    assert (c.burned_ent, c.beyond_kwh, c.returned_ent) == (D(1), D(1), D(0))
    assert (pc.get_total_ent(), pc.get_total_energy()) == (D(8), D(7))
    rates = pc.get_energy_rates()
    assert (rates.imbalance, rates.cost, rates.mint, rates.burn) == (D(1), D("0.05"), D("0.95"), D("1.05"))
    assert pc.get_consumption_sessions(C) == []

    # B produces 10 kWh into U2: 9.5 ENT minted, B gets 7.6, C 1.9; D = 0.5
    m = pc.energy_produced(U2, B, 10_000)
    assert (m.total, m.producer_ent, m.owner_ent) == (D("9.5"), D("7.6"), D("1.9"))
    assert pc.get_energy_rates().imbalance == D("0.5")

    # B sends 7.6 to A (A holds 15.6)
    pc.transfer_ent(B, A, "7.6")
    assert pc.balance_ent(A) == Balance(D("15.6"), D(0))

    # A locks 7.35 ENT with U1 (7 kWh) and 8.25 with U2 (7.857142 kWh)
    s1 = pc.start_consumption_session(A, U1, "7.35")
    s2 = pc.start_consumption_session(A, U2, "8.25")
    assert s1.remaining_wh == D(7000)
    assert s2.remaining_wh == D("7857.142")
    assert pc.balance_ent(A) == Balance(D(0), D("15.6"))

    # A consumes 7 kWh from U1: 7.35 burned; 10.15 ENT, 10 kWh, D = 0.15
    c = pc.energy_consumed(U1, A, 7000)
    assert c.burned_ent == D("7.35") and c.returned_ent == D(0)
    assert (pc.get_total_ent(), pc.get_total_energy()) == (D("10.15"), D(10))
    assert pc.get_energy_rates().imbalance == D("0.15")

    # A consumes 7.857 kWh from U2: 3 kWh at 1.05, 4.857 at 1.0: 8.007 burned, 0.243 returned
    c = pc.energy_consumed(U2, A, "7857.142")
    assert (c.burned_ent, c.returned_ent) == (D("8.007142"), D("0.242858"))
    assert round(c.burned_ent, 3) == D("8.007") and round(c.returned_ent, 3) == D("0.243")
    assert pc.get_total_ent() == pc.get_total_energy() == D("2.142858")
    rates = pc.get_energy_rates()
    assert (rates.imbalance, rates.cost, rates.mint, rates.burn) == (D(0), D(0), D(1), D(1))
    assert pc.balance_ent(A) == Balance(D("0.242858"), D(0))
    assert pc.balance_ent(C) == Balance(D("1.9"), D(0))

    # §6.5: A and B make C the banker; C mints 10 eEuro to A
    assert pc.banker is None
    pc.change_banker(A, C)
    assert pc.change_banker(B, C).passed and pc.banker == C.address
    pc.mint_eeuro(C, A, 10)
    assert pc.get_total_eeuro() == D(10)

    # C sells 1.9 ENT at 0.5; A buys 10 at 1.0: 1.9 ENT for 0.95 eEuro, A's buy rests at 8.1
    sell = pc.add_order(C, "sell", "0.5", "1.9")
    assert sell.trades == () and pc.balance_ent(C) == Balance(D(0), D("1.9"))
    buy = pc.add_order(A, "buy", "1.0", 10)
    (t,) = buy.trades
    assert (t.price, t.quantity, t.paid) == (D("0.5"), D("1.9"), D("0.95"))
    assert buy.remaining == D("8.1")
    (rest,) = pc.get_orders()
    assert (rest.owner, rest.side, rest.price, rest.remaining, rest.locked) == (
        A.address,
        "buy",
        D(1),
        D("8.1"),
        D("8.1"),
    )
    assert pc.balance_eeuro(A) == Balance(D("0.95"), D("8.1"))  # the price improvement came back at once
    assert pc.balance_eeuro(C) == Balance(D("0.95"), D(0))
    assert pc.balance_ent(A) == Balance(D("2.142858"), D(0))
    assert pc.balance_ent(C) == Balance(D(0), D(0))

    # cancelling returns what is still locked
    assert pc.remove_order(A, rest.id) == D("8.1")
    assert pc.balance_eeuro(A) == Balance(D("9.05"), D(0))

    # the whole state is rebuilt by replaying the signed chain
    pc.seal()
    again = PowerChain.replay(pc.genesis, pc.blocks)
    assert again.state_root() == pc.state_root()
    assert again.balance_eeuro(A) == pc.balance_eeuro(A)
    proof = pc.prove_account(A)
    assert proof is not None and proof.verify()
