"""The PowerChain as a chain: signed commands in sealed blocks, replay, tampering, storage, proofs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from gridledger.errors import BadDataError, InvalidBlockError, InvalidSignatureError
from gridledger.powerchain import Block, PowerChain, Wallet
from gridledger.powerchain.blocks import command_root
from gridledger.powerchain.codec import decode_header, encode_header
from powerchain_helpers import Cast, cast


def busy() -> Cast:
    c = cast(block_size=5)
    c.pc.start_consumption_session(c.P, c.U1, 4)
    c.pc.energy_consumed(c.U1, c.P, 2500)
    c.pc.add_order(c.P, "sell", "0.4", 2)
    c.pc.add_order(c.Q, "buy", "0.5", 3)
    c.pc.transfer_eeuro(c.Q, c.P, 1)
    c.clock.advance(8000)
    c.pc.clear_old_sessions(c.Q)
    c.pc.seal()
    return c


def test_replay_rebuilds_the_state_and_checks_every_block() -> None:
    c = busy()
    assert len(c.pc.blocks) == 3 and c.pc.pending == 0
    again = PowerChain.replay(c.pc.genesis, c.pc.blocks)
    assert again.state_root() == c.pc.state_root()
    assert again.get_orders() == c.pc.get_orders()
    assert again.balance_ent(c.P) == c.pc.balance_ent(c.P)
    # a replayed chain goes on: the new sealer must be a voter
    again.sealer = c.A
    again.transfer_ent(c.P, c.Q, 1)
    assert again.seal() is not None


def _flip(raw: bytes, at: int) -> bytes:
    return raw[:at] + bytes([raw[at] ^ 1]) + raw[at + 1 :]


def test_a_changed_command_fails_its_signature() -> None:
    c = busy()
    blocks = c.pc.blocks
    b = blocks[1]
    blocks[1] = Block(b.header, (b.commands[0], _flip(b.commands[1], 80), *b.commands[2:]))
    with pytest.raises(InvalidSignatureError, match=r"block\[1\]\.command\[1\]"):
        PowerChain.replay(c.pc.genesis, blocks)


def _resealed(b: Block, by: Wallet, **changes: object) -> Block:
    h = replace(decode_header(b.header), **changes)  # type: ignore[arg-type]
    h = replace(h, signature=by.sign(h.body()))
    return Block(encode_header(h), b.commands)


def _with_commands(b: Block, by: Wallet, commands: tuple[bytes, ...]) -> Block:
    return _resealed(
        Block(b.header, commands), by, commands=len(commands), command_root=command_root(commands)
    )


def test_blocks_that_break_a_rule_are_refused_even_when_signed() -> None:
    c = busy()
    blocks = c.pc.blocks
    cases = {
        "state root": [blocks[0], _resealed(blocks[1], c.A, state_root=bytes(32)), blocks[2]],
        "command root": [blocks[0], Block(blocks[1].header, blocks[1].commands[:-1]), blocks[2]],
        "previous hash": [blocks[1], blocks[0], blocks[2]],
        "not a voter": [_resealed(blocks[0], c.P, sealer=c.P.public_key), blocks[1], blocks[2]],
        "nonce": [
            blocks[0],
            _with_commands(blocks[1], c.A, (blocks[0].commands[-1], *blocks[1].commands[1:])),
            blocks[2],
        ],
    }
    for reason, bad in cases.items():
        with pytest.raises(InvalidBlockError, match=reason):
            PowerChain.replay(c.pc.genesis, bad)


def test_a_command_replayed_in_a_later_block_is_refused() -> None:
    c = busy()
    blocks = c.pc.blocks
    last = blocks[-1]
    dup = _with_commands(last, c.A, (*last.commands, blocks[0].commands[0]))
    with pytest.raises(InvalidBlockError, match="nonce"):
        PowerChain.replay(c.pc.genesis, [*blocks[:-1], dup])


def test_save_and_load(tmp_path: Path) -> None:
    c = busy()
    c.pc.transfer_ent(c.P, c.Q, 1)  # pending: save seals it
    path = tmp_path / "pc.sqlite"
    c.pc.save(path)
    loaded = PowerChain.load(path)
    assert loaded.state_root() == c.pc.state_root()
    (tmp_path / "junk.sqlite").write_bytes(b"not a database at all, just bytes" * 10)
    with pytest.raises(BadDataError):
        PowerChain.load(tmp_path / "junk.sqlite")


def test_proofs_of_commands_and_balances() -> None:
    c = busy()
    p = c.pc.prove_command(1, 2)
    assert p.verify()
    assert not replace(p, command=_flip(p.command, 10)).verify()
    acct = c.pc.prove_account(c.Q)
    assert acct is not None and acct.verify()
    assert acct.root == decode_header(c.pc.blocks[-1].header).state_root
    assert not replace(acct, record=_flip(acct.record, 25)).verify()
    assert c.pc.prove_account(Wallet.named("nobody")) is None
