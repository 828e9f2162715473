"""Issue 19 items 6 and 7: a PowerChain command is refused whole or applied whole (its seal
included), and the bridge moves tokens exactly once even when a chain loses unsaved state."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal as D
from pathlib import Path

import pytest
from gridledger.errors import GridLedgerError, NotAuthorisedError
from gridledger.powerchain import IntegrationService, PowerChain, Wallet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from powerchain_helpers import Cast, cast


def snapshot(pc: PowerChain) -> tuple[object, ...]:
    return (pc.state_root(), pc.voters, pc.pending, len(pc.blocks), pc.banker)


def test_removing_the_sealer_seals_its_last_block_then_pauses_sealing() -> None:
    """Item 6: the deployer voted out stayed the sealer; the automatic seal then raised
    NotAuthorisedError after the voter set, state root and pending commands had changed."""
    c = cast(block_size=2)
    B = Wallet.named("B")
    c.pc.seal()
    c.pc.add_voter(c.A, B)  # passes at once: A is the only voter
    c.pc.remove_voter(B, c.A)  # 1 of 2: open
    c.pc.seal()
    before = len(c.pc.blocks)
    c.pc.remove_voter(c.A, c.A)  # 2 of 2: A is removed
    assert c.pc.voters == [B.address] and c.pc.sealer == c.A  # A may still seal this block
    c.pc.transfer_ent(c.P, c.Q, 1)  # the block fills: A seals it (a voter when it began)
    assert len(c.pc.blocks) == before + 1
    assert c.pc.sealer is None  # A can seal nothing more
    c.pc.transfer_ent(c.P, c.Q, 1)
    c.pc.transfer_ent(c.P, c.Q, 1)  # block_size reached, no sealer: the commands wait
    assert c.pc.pending == 2
    with pytest.raises(NotAuthorisedError):
        c.pc.sealer = c.A  # not a voter
    with pytest.raises(NotAuthorisedError):
        c.pc.seal(c.A)
    assert c.pc.pending == 2
    c.pc.sealer = B
    c.pc.seal()
    assert c.pc.pending == 0
    assert PowerChain.replay(c.pc.genesis, c.pc.blocks).state_root() == c.pc.state_root()


WALLETS = ["A", "K", "S", "U1", "U2", "O", "P", "Q"]
AMOUNTS = st.sampled_from(["0", "1", "2.5", "-1", "0.0000001", "1e999999", "4611686018427", "10"])
COMMANDS = st.one_of(
    st.tuples(st.just("add_voter"), st.sampled_from(WALLETS), st.sampled_from(WALLETS)),
    st.tuples(st.just("remove_voter"), st.sampled_from(WALLETS), st.sampled_from(WALLETS)),
    st.tuples(st.just("transfer_ent"), st.sampled_from(WALLETS), st.sampled_from(WALLETS), AMOUNTS),
    st.tuples(st.just("mint_eeuro"), st.sampled_from(WALLETS), st.sampled_from(WALLETS), AMOUNTS),
    st.tuples(st.just("energy_produced"), st.sampled_from(WALLETS), st.sampled_from(WALLETS), AMOUNTS),
    st.tuples(st.just("energy_consumed"), st.sampled_from(WALLETS), st.sampled_from(WALLETS), AMOUNTS),
    st.tuples(st.just("start_consumption_session"), st.sampled_from(WALLETS), st.sampled_from(WALLETS),
              AMOUNTS),
    st.tuples(st.just("lock_tokens"), st.sampled_from(WALLETS), st.sampled_from(WALLETS), AMOUNTS),
    st.tuples(st.just("add_order"), st.sampled_from(WALLETS), st.sampled_from(["buy", "sell"]), AMOUNTS,
              AMOUNTS),
    st.tuples(st.just("report_actual_energy"), st.sampled_from(WALLETS), AMOUNTS),
    st.tuples(st.just("set_parameter"), st.sampled_from(WALLETS), st.sampled_from("MBCHF"), AMOUNTS),
    st.tuples(st.just("seal"),),
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(COMMANDS, max_size=25))
def test_a_refused_command_leaves_everything_unchanged(commands: list[tuple[object, ...]]) -> None:
    """Item 6: any command sequence; a refused one changes no state root, voter, pending command
    or balance, and every block sealed replays."""
    c = cast(block_size=3)
    w = {n: getattr(c, n) for n in WALLETS}
    for name, *args in commands:
        before = snapshot(c.pc)
        balances = [(c.pc.balance_ent(x), c.pc.balance_eeuro(x)) for x in w.values()]
        try:
            if name == "seal":
                c.pc.seal()
            else:
                caller, *rest = args
                values = [w.get(a, a) if isinstance(a, str) else a for a in rest]
                getattr(c.pc, str(name))(w[str(caller)], *values)
        except GridLedgerError:
            assert snapshot(c.pc) == before
            assert [(c.pc.balance_ent(x), c.pc.balance_eeuro(x)) for x in w.values()] == balances
        c.clock.advance(60)
    if c.pc.sealer is not None:
        c.pc.seal()
    assert PowerChain.replay(c.pc.genesis, c.pc.blocks).state_root() == c.pc.state_root()


# --- item 7: the bridge when a chain loses what it had not saved ------------------------------


def two_saved_chains(tmp: Path) -> tuple[Cast, Cast]:
    a, b = cast(chain_id=1), cast(chain_id=2)
    a.pc.lock_tokens(a.P, b.Q, 3)
    a.pc.lock_tokens(a.P, b.P, "1.5")
    b.pc.lock_tokens(b.P, a.Q, 2)
    a.pc.save(tmp / "a.sqlite")
    b.pc.save(tmp / "b.sqlite")
    return a, b


def reload(c: Cast) -> None:
    """The process died: the chain is what its file holds."""
    assert c.pc.path is not None
    c.pc = PowerChain.load(c.pc.path, clock=c.clock, sealer=c.A)


def check_exactly_once(a: Cast, b: Cast) -> None:
    for c in (a, b):
        c.pc.save()
        reload(c)
    assert b.pc.balance_ent(b.Q).available == D(3)
    assert b.pc.balance_ent(b.P).available == D("9.5")
    assert a.pc.balance_ent(a.Q).available == D(2)
    assert a.pc.get_total_ent() + b.pc.get_total_ent() == D(20)
    assert all(k.transferred for k in a.pc.get_locked_tokens() + b.pc.get_locked_tokens())
    assert [b.pc.is_imported(1, i) for i in (1, 2)] == [True, True] and a.pc.is_imported(2, 1)


def test_the_issue_scenario_saving_only_the_source_loses_nothing(tmp_path: Path) -> None:
    """Lock, save both, run the service once, save only the source, reload both: the source
    said transferred while the destination had never paid (3 ENT gone)."""
    a, b = two_saved_chains(tmp_path)
    IntegrationService(a.pc, a.S, b.pc, b.S).run_once()
    a.pc.save()
    reload(a)
    reload(b)
    assert b.pc.balance_ent(b.Q).available == D(3)
    IntegrationService(a.pc, a.S, b.pc, b.S).run_once()
    check_exactly_once(a, b)


def full_run_steps(tmp: Path) -> int:
    seen: list[str] = []
    a, b = two_saved_chains(tmp)
    IntegrationService(a.pc, a.S, b.pc, b.S, step_hook=seen.append).run_once()
    return len(seen)


class Crash(Exception):
    pass


def crash_hook(crash_at: int) -> Callable[[str], None]:
    """A step hook that raises Crash before step number ``crash_at``."""
    n = {"i": 0}

    def hook(step: str) -> None:
        if n["i"] == crash_at:
            raise Crash(step)
        n["i"] += 1

    return hook


@pytest.mark.parametrize("lose", ["none", "a", "b", "both"])
def test_exactly_once_at_every_crash_point_whichever_side_loses_its_unsaved_state(
    tmp_path: Path, lose: str
) -> None:
    (tmp_path / "probe").mkdir()
    steps = full_run_steps(tmp_path / "probe")
    assert steps == 13  # per direction: save source, check (+ unlock) per lock, save destination, marks
    for crash_at in range(steps + 1):
        d = tmp_path / f"{crash_at}"
        d.mkdir()
        a, b = two_saved_chains(d)
        hook = crash_hook(crash_at)

        try:
            IntegrationService(a.pc, a.S, b.pc, b.S, step_hook=hook).run_once()
        except Crash:
            pass
        for name, c in (("a", a), ("b", b)):
            if lose in (name, "both"):
                reload(c)
        IntegrationService(a.pc, a.S, b.pc, b.S).run_once()  # a new instance finishes the job
        check_exactly_once(a, b)
