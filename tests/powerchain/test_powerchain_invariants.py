"""Invariants over random command sequences (hypothesis).

After every command: available + locked = balance for every address and
token, and the sums match the totals; locked ENT is exactly what sessions and
sell orders hold, locked eEuro what buy orders and withdrawals hold; reserved
energy is what sessions hold; only the banker changes the eEuro in existence;
ENT minted and burned follow the imbalance rule, computed here independently
with exact fractions; a refused command changes nothing. At the end the
chain replays to the same state, and the incrementally cached state records
equal records built from scratch.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from gridledger.errors import GridLedgerError
from gridledger.powerchain import PowerChain, Wallet
from gridledger.powerchain.amounts import UNIT
from gridledger.powerchain.state import State
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from powerchain_helpers import Cast, cast

USERS = ("P", "Q", "O", "A", "K")
UNITS = ("U1", "U2")
OPS = (
    "produce", "consume", "report", "session", "use", "use", "use", "produce", "consume", "report",
    "transfer_ent", "transfer_eeuro", "lock_eeuro", "mint", "burn", "unlock", "buy", "sell", "cancel",
    "advance", "clear", "set_c", "set_m",
)  # fmt: skip

command = st.tuples(
    st.sampled_from(OPS),
    st.sampled_from(USERS[:3] * 3 + USERS[3:]),
    st.sampled_from(USERS),
    st.sampled_from(UNITS),
    st.one_of(st.integers(1, 3_000), st.integers(-2, 40_000)),  # thousandths of ENT or eEuro, or Wh
    st.integers(1, 2_000),  # a price in thousandths
    st.sampled_from((0, 0, 1, 2, 5, 12, 21, 30)),  # whole kWh of an energy report
)


def expected_mint(d: int, r: int, x: int) -> Fraction:
    """ENT (micro) for x micro-kWh at imbalance d and cost r (millionths, capped), by the rule's
    own words: y kWh at 1 ∓ r until D reaches 0, the rest 1:1."""
    if d == 0 or r == 0:
        return Fraction(x)
    c = Fraction(min(r, UNIT) if d > 0 else r, UNIT)
    y = min(Fraction(x), Fraction(abs(d)) / c)
    return y * (1 - c if d > 0 else 1 + c) + (x - y)


def expected_burn(d: int, r: int, x: int) -> Fraction:
    if d == 0 or r == 0:
        return Fraction(x)
    c = Fraction(r if d > 0 else min(r, UNIT), UNIT)
    y = min(Fraction(x), Fraction(abs(d)) / c)
    return y * (1 + c if d > 0 else 1 - c) + (x - y)


def check_books(s: State) -> None:
    ent = eur = 0
    for addr, a in s.accounts.items():
        assert min(a.ent, a.ent_locked, a.eur, a.eur_orders, a.eur_withdraw) >= 0
        sess = sum(q.locked for q in s.sessions.values() if q.user == addr)
        sells = sum(o.locked for o in s.orders.values() if o.owner == addr and o.side == 1)
        buys = sum(o.locked for o in s.orders.values() if o.owner == addr and o.side == 0)
        assert a.ent_locked == sess + sells
        assert a.eur_orders == buys
        ent += a.ent + a.ent_locked
        eur += a.eur + a.eur_orders + a.eur_withdraw
    assert ent == s.total_ent
    assert eur == s.total_eur
    assert s.total_kwh == sum(u.energy for u in s.units.values())
    for addr, u in s.units.items():
        assert u.reserved == sum(q.remaining for q in s.sessions.values() if q.unit == addr)
    for o in s.orders.values():  # a buy's lock covers its rest at its limit
        if o.side == 0:
            assert o.locked * UNIT >= o.price * o.remaining


def run(
    c: Cast, w: dict[str, Wallet], op: str, who: str, other: str, unit: str, q: int, p: int, wh: str
) -> None:
    """Issue one random command."""
    pc = c.pc
    amount, price = f"{q / 1000}", f"{p / 1000}"  # ENT, eEuro
    calls: dict[str, Callable[[], object]] = {
        "produce": lambda: pc.energy_produced(w[unit], w[who], wh),
        "consume": lambda: pc.energy_consumed(w[unit], w[who], wh),
        "report": lambda: pc.report_actual_energy(w[unit], wh),
        "session": lambda: pc.start_consumption_session(w[who], w[unit], amount),
        "transfer_ent": lambda: pc.transfer_ent(w[who], w[other], amount),
        "transfer_eeuro": lambda: pc.transfer_eeuro(w[who], w[other], amount),
        "lock_eeuro": lambda: pc.lock_eeuro(w[who], amount),
        "mint": lambda: pc.mint_eeuro(w[who], w[other], amount),
        "burn": lambda: pc.burn_eeuro(w[who], w[other], amount),
        "unlock": lambda: pc.unlock_eeuro(w[who], w[other], amount),
        "buy": lambda: pc.add_order(w[who], "buy", price, amount),
        "sell": lambda: pc.add_order(w[who], "sell", price, amount),
        "cancel": lambda: pc.remove_order(w[who], q % 8),
        "advance": lambda: c.clock.advance(q),
        "clear": lambda: pc.clear_old_sessions(w[who]),
        "set_c": lambda: pc.set_parameter(w[who], "C", f"{p / 2001:.6f}"),
        "set_m": lambda: pc.set_parameter(w[who], "M", price),
    }
    calls[op]()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(command, min_size=1, max_size=50))
def test_random_commands_keep_every_invariant(
    commands: list[tuple[str, str, str, str, int, int, int]],
) -> None:
    c = cast(block_size=7)
    pc, s = c.pc, c.pc._state
    w = {n: getattr(c, n) for n in (*USERS, *UNITS)}
    pc.energy_produced(c.U2, c.Q, 20_000)
    pc.energy_produced(c.U1, c.O, 10_000)
    for step, (op, who, other, unit, q, p, kwh) in enumerate(commands):
        wh = f"{kwh}{q % 1000:03d}.{p % 1000:03d}" if q >= 0 else str(q)  # Wh, in mWh steps
        root, d, r = pc.state_root(), s.imbalance, s.r
        eur, ent, kwh = s.total_eur, s.total_ent, s.total_kwh
        if op == "use":  # start a session (price = ENT locked), then check a consumption at that unit
            try:
                pc.start_consumption_session(w[who], w[unit], f"{p / 1000}")
            except GridLedgerError:
                continue
            op = "consume"
            root, d, r = pc.state_root(), s.imbalance, s.r
            eur, ent, kwh = s.total_eur, s.total_ent, s.total_kwh
        caller = w[unit] if op in ("produce", "consume", "report") else w[who]
        nonce = s.peek(caller.raw_address).nonce
        mine = [
            (q.remaining, q.locked)
            for q in s.sessions.values()
            if q.user == w[who].raw_address and q.unit == w[unit].raw_address and q.expires_at > c.clock.t
        ]
        try:
            run(c, w, op, who, other, unit, q, p, wh)
        except GridLedgerError:
            assert pc.state_root() == root, f"refused {op} changed the state"
            continue
        check_books(s)
        if step % 3 == 0:  # the cached state records equal records built from scratch
            assert s.records() == s.records(fresh=True)
        if op != "advance":
            assert s.peek(caller.raw_address).nonce == nonce + 1
        if s.total_eur != eur:
            assert op in ("mint", "burn") and caller.raw_address == s.banker
        if op == "produce":
            x = s.total_kwh - kwh
            exact = expected_mint(d, min(r, s.params[0]), x)
            assert abs((s.total_ent - ent) - exact) < 1, (d, r, x)
            assert 0 <= s.imbalance <= d or d <= s.imbalance <= 0
        if op == "consume" and len(mine) == 1 and kwh - s.total_kwh <= mine[0][0]:
            # one session holds all of it: it burns by the rule, capped at what it locked
            x, burned = kwh - s.total_kwh, ent - s.total_ent
            exact = min(Fraction(mine[0][1]), expected_burn(d, min(r, s.params[1]), x))
            assert abs(burned - exact) < 1, (d, r, x, burned, exact)
            if burned < mine[0][1]:  # not short of ENT: D moves toward 0, never past
                assert 0 <= s.imbalance <= d or d <= s.imbalance <= 0
        if abs(s.imbalance) > abs(d) or ((s.imbalance > 0) != (d > 0) and s.imbalance):
            assert s.d0 == abs(s.imbalance) and s.r == max(1, s.d0 * s.params[2] // UNIT)
        if s.imbalance == 0:
            assert s.r == 0
    pc.seal()
    assert PowerChain.replay(pc.genesis, pc.blocks).state_root() == pc.state_root()
