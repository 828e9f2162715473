"""Fuzz PowerChain commands and its block replay.

Streams of commands with any callers and arguments (amounts as odd decimal strings,
floats, huge ints; addresses as wallets, garbage bytes and strings): each succeeds or
raises a GridLedgerError, and a refused one leaves the state root, the pending commands
and the blocks as they were; the chain a stream leaves replays to the same state root.
Then mutated blocks and genesis records of a real chain: ``PowerChain.replay`` rebuilds a
chain or raises a GridLedgerError."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from fuzzing import FuzzFailure, check, fuzz_settings, is_open, mutated, unchanged
from gridledger.errors import GridLedgerError
from gridledger.powerchain import PowerChain
from gridledger.powerchain.blocks import Block
from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from powerchain_helpers import Cast, cast

NAMES = ("A", "K", "S", "U1", "U2", "O", "P", "Q")
AMOUNT = st.one_of(
    st.integers(-5, 10**4).map(str),
    st.sampled_from(["0.000001", "0.0000001", "1e3", "1e999999", "-0", "NaN", "Infinity",
                     "4611686018427.387904", "1_000", " 7 ", "", "0x10", "9" * 40]),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.none(),
)  # fmt: skip
WHO = st.sampled_from(NAMES)
TARGET = st.one_of(
    WHO,  # a wallet of the cast
    st.binary(max_size=24),
    st.text(max_size=44),
    st.just("0x" + "ab" * 20),
    st.none(),
)
INT = st.one_of(st.integers(-2, 10), st.integers(-(2**65), 2**65))

COMMAND = st.one_of(
    st.tuples(st.sampled_from(["add_voter", "remove_voter", "remove_storage_unit", "change_banker",
                               "change_bridge_service"]), WHO, TARGET),
    st.tuples(st.just("register_storage_unit"), WHO, TARGET, TARGET),
    st.tuples(st.just("set_parameter"), WHO, st.sampled_from(["M", "B", "C", "H", "F", "Z", ""]), AMOUNT),
    st.tuples(st.sampled_from(["energy_produced", "energy_consumed", "mint_eeuro", "burn_eeuro",
                               "unlock_eeuro", "start_consumption_session", "transfer_ent", "transfer_eeuro",
                               "lock_tokens"]),
              WHO, TARGET, AMOUNT),
    st.tuples(st.sampled_from(["report_actual_energy", "lock_eeuro"]), WHO, AMOUNT),
    st.tuples(st.just("clear_old_sessions"), WHO),
    st.tuples(st.just("add_order"), WHO, st.sampled_from(["buy", "sell", "hold", ""]), AMOUNT, AMOUNT),
    st.tuples(st.sampled_from(["remove_order", "tokens_transferred"]), WHO, INT),
    st.tuples(st.just("unlock_tokens"), WHO, INT, INT, TARGET, AMOUNT),
    st.tuples(st.just("advance"), st.integers(0, 4000)),
)  # fmt: skip


def _arg(c: Cast, a: object) -> object:
    return getattr(c, a) if isinstance(a, str) and a in NAMES else a


def _state(pc: PowerChain) -> tuple[Any, ...]:
    return (pc.state_root(), pc.pending, len(pc.blocks), pc.now)


@fuzz_settings(0.5)
@given(st.lists(COMMAND, max_size=12), st.integers(1, 4))
def test_commands(commands: list[tuple[Any, ...]], block_size: int) -> None:
    c = cast(block_size=block_size)
    pc = c.pc
    for name, *args in commands:
        if name == "advance":
            c.clock.advance(args[0])
            continue
        if name == "remove_voter" and args[1] == "A" and is_open("sealer-removed"):
            continue
        call = [_arg(c, a) for a in args]
        before = _state(pc)
        out = check(getattr(pc, name), *call, known=("decimal-overflow", "int-overflow"))
        if isinstance(out, GridLedgerError):
            unchanged(before, _state(pc), f"the chain ({name}{tuple(args)})")
    pc.seal()
    again = check(PowerChain.replay, pc.genesis, pc.blocks)
    if isinstance(again, GridLedgerError) or again.state_root() != pc.state_root():
        raise FuzzFailure(f"the chain does not replay to its own state root: {again}")


def _real_chain() -> tuple[bytes, list[Block]]:
    c = cast(block_size=3)
    c.pc.add_order(c.P, "sell", "0.5", "2")
    c.pc.add_order(c.Q, "buy", "0.6", "1")
    c.pc.start_consumption_session(c.P, c.U1, "1")
    c.pc.lock_tokens(c.P, "0x" + "12" * 20, "1")
    c.pc.seal()
    return c.pc.genesis, c.pc.blocks


GENESIS, BLOCKS = _real_chain()
COMMANDS = [cmd for b in BLOCKS for cmd in b.commands]
HEADERS = [b.header for b in BLOCKS]


@fuzz_settings(0.5)
@given(
    st.integers(0, len(BLOCKS) - 1),
    st.integers(0, 3),
    st.one_of(mutated(COMMANDS, max_edits=2), mutated(HEADERS, max_edits=2), mutated([GENESIS], max_edits=2)),
    st.integers(0, 7),
)
def test_replay(at: int, how: int, part: bytes, k: int) -> None:
    genesis, blocks = GENESIS, list(BLOCKS)
    b = blocks[at]
    if how == 0:  # one command replaced
        cmds = list(b.commands)
        cmds[k % len(cmds)] = part
        blocks[at] = Block(b.header, tuple(cmds))
    elif how == 1:  # the header replaced
        blocks[at] = Block(part, b.commands)
    elif how == 2:  # the genesis replaced
        genesis = part
    else:  # blocks reordered, dropped or repeated
        blocks = [blocks[(i * (k + 1)) % len(blocks)] for i in range(at + 1)]
    out = check(PowerChain.replay, genesis, blocks)
    if not isinstance(out, GridLedgerError) and (genesis, blocks) != (GENESIS, BLOCKS[: len(blocks)]):
        # Only a valid prefix of the real chain may replay (a signature covers every byte).
        if blocks != list(BLOCKS[: len(blocks)]) or genesis != GENESIS:
            raise FuzzFailure(f"a tampered chain replayed: how={how} at={at} k={k} {part.hex()}")
