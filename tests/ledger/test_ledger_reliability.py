"""Issue 19 items 8 and 9 (ledger side): checks come before the state moves, and every bad
argument of a public call is a typed error naming it, never IndexError, OverflowError or
TypeError from SQLite or the core."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from gridledger import data
from gridledger.errors import BadDataError, GridLedgerError, InvalidArgumentError
from gridledger.ledger import Chain, ChainStore, Transfer, decode
from gridledger.powerchain import ManualClock, PowerChain, Wallet
from ledger_world import World


def test_commit_checks_the_block_before_it_moves_the_chain() -> None:
    """Item 8: a chain that keeps blocks, committed without its block, raised after the state
    had moved: the height grew and chain.block(h) failed."""
    w = World()
    block = w.seal(w.valid_period())
    receipt = w.chain.check(block)
    with pytest.raises(InvalidArgumentError, match="needs the block"):
        w.chain.commit(receipt)
    assert w.chain.height == 0
    other = w.chain.seal([], w.miner())  # another block: not the one the receipt is for
    with pytest.raises(InvalidArgumentError, match="not the receipt's block"):
        w.chain.commit(receipt, other)
    assert w.chain.height == 0
    w.chain.commit(receipt, block)  # still pending: the refused calls changed nothing
    assert w.chain.height == 1 and w.chain.block(1) == block


def test_a_rejected_check_keeps_the_accepted_block_pending() -> None:
    """Issue 19 class "state unchanged on rejection": ChainState.check and append dropped the
    pending block before validating a new one, so a rejected block discarded an accepted one."""
    w = World()
    block = w.seal(w.valid_period())
    receipt = w.chain.check(block)
    bad = w.chain.seal([], w.miner(), timestamp_ms=0)  # stamped before its period ends
    with pytest.raises(GridLedgerError, match="timestamp_ms"):
        w.chain.check(bad)
    blob, offsets = bad.tx_blob()
    with pytest.raises(GridLedgerError, match="timestamp_ms"):
        w.chain._state.append(bad.header.encode(), bad.signature, blob, offsets)
    assert w.chain.height == 0
    w.chain.commit(receipt, block)  # A is still the pending block
    assert w.chain.height == 1 and w.chain.block(1) == block


def test_a_transfer_without_signers_decodes_and_is_refused_by_the_rules() -> None:
    """Item 9: decode raised IndexError on a Transfer listing no signer (reachable from
    ``prove`` on a tampered store)."""
    w = World()
    c = w.create()
    t = Transfer(w.tag, w.period, (), (c.outpoint(0),), ())
    raw = t.body()
    d = decode(raw)
    assert d.tx == t and d.signatures == ()
    with pytest.raises(GridLedgerError):
        w.chain.append(w.seal([c, d]))
    assert w.chain.height == 0


BAD_INTEGERS = [-1, 1 << 63, 1 << 64, "3", 1.5, True]  # None means "the default" where allowed


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ChainStore:
    w = World()
    s = ChainStore.create(tmp_path_factory.mktemp("s") / "c.sqlite", w.genesis())
    return s


@pytest.mark.parametrize("value", BAD_INTEGERS)
@pytest.mark.parametrize(
    "call",
    [
        lambda s, v: s.block(v),
        lambda s, v: s.height_of_period(v),
        lambda s, v: list(s.blocks(v)),
        lambda s, v: list(s.blocks(0, v)),
        lambda s, v: s.balances(v),
        lambda s, v: s.allocations(asset=v),
        lambda s, v: s.chain.block_proof(v),
        lambda s, v: s.chain.block_proof(0, v),
        lambda s, v: s.chain.log_root(v),
        lambda s, v: s.chain.consistency_proof(v),
        lambda s, v: s.chain.keys(v),
        lambda s, v: s.chain.output(bytes(32), v),
        lambda s, v: s.chain.balance(bytes(32), v),
        lambda s, v: Chain(World().genesis()).block(v),
    ],
    ids=[f"call{i}" for i in range(14)],
)
def test_heights_periods_sizes_and_indices_out_of_range_are_typed_errors(
    store: ChainStore, call: Callable[[ChainStore, object], object], value: object
) -> None:
    before = (store.height, store.chain.height, store.chain.log_root())
    with pytest.raises(InvalidArgumentError) as e:
        call(store, value)
    assert e.value.field is not None
    assert (store.height, store.chain.height, store.chain.log_root()) == before


@pytest.mark.parametrize("value", [None, "ab", 5, 1.0])
@pytest.mark.parametrize(
    "call",
    [
        lambda s, v: decode(v),
        lambda s, v: s.transaction(v),
        lambda s, v: s.chain.output(v, 0),
        lambda s, v: s.chain.balance(v),
    ],
)
def test_none_str_or_int_where_bytes_are_expected_are_typed_errors(
    store: ChainStore, call: Callable[[ChainStore, object], object], value: object
) -> None:
    with pytest.raises(InvalidArgumentError) as e:
        call(store, value)
    assert e.value.field is not None


@pytest.mark.parametrize(
    "amount", ["1e999999", "-1e999999", "1e-999999", "1e40", "1.0000000000000000000000000001", "1" * 5000]
)
def test_powerchain_amounts_beyond_the_fixed_point_are_typed_errors(amount: str) -> None:
    """Item 9: "1e999999" raised decimal.Overflow; 29 significant digits were rounded to 28."""
    a, b = Wallet.named("a"), Wallet.named("b")
    pc = PowerChain(a, clock=ManualClock(1))
    pc.change_banker(a, a)
    root = pc.state_root()
    with pytest.raises(InvalidArgumentError) as e:
        pc.mint_eeuro(a, b, amount)
    assert e.value.field == "amount"
    assert pc.state_root() == root and pc.balance_eeuro(b).available == Decimal(0)


def test_a_csv_with_cr_only_line_endings_is_bad_data(tmp_path: Path) -> None:
    """Item 9: CR-only line endings raised _csv.Error from the header parser."""
    p = tmp_path / "x.csv"
    head = b'"Time (CET/CEST)","Actual Total Load [MW] - BZN|AT"'
    p.write_bytes(head + b'\r"01.01.2022 00:00 - 01.01.2022 01:00","1"\r')
    with pytest.raises(BadDataError, match="CR"):
        data.read(p)


@pytest.mark.parametrize("name", [["M"], None, 3])
def test_a_parameter_name_that_is_not_a_string_is_a_typed_error(name: object) -> None:
    """Item 9: a list as parameter name raised TypeError (unhashable) from the lookup."""
    a = Wallet.named("a")
    pc = PowerChain(a, clock=ManualClock(1))
    root = pc.state_root()
    with pytest.raises(GridLedgerError) as e:
        pc.set_parameter(a, name, 1)  # type: ignore[arg-type]
    assert e.value.field == "name" and pc.state_root() == root
