"""The canonical byte encodings of PowerChain commands, blocks and genesis.

Command (a signed transaction), little-endian::

    b"GLPC" | version u8 | chain_id u32 | op u8 | timestamp u64 (s) | nonce u64
    | public key 32 | arguments (per op, below) | Ed25519 signature 64

The signature covers every byte before it; the command's id is
BLAKE3(all bytes). Arguments: addresses are 20 raw bytes, amounts u64
micro-units (micro-kWh for energy), a side or parameter code one byte.

Block header::

    b"GLPB" | version u8 | chain_id u32 | height u64 | previous hash 32
    | timestamp u64 | commands u32 | command root 32 | state root 32
    | sealer public key 32 | signature 64

The command root is the RFC 6962 Merkle root (BLAKE3) over the commands'
bytes; the state root the same over the state's records (see ``records``).
The block hash is BLAKE3(header). Genesis::

    b"GLPG" | version u8 | chain_id u32 | deployer address 20 | timestamp u64
    | M, B, C i64 | H u64 | F i64
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import NamedTuple

from gridledger.errors import InvalidTransactionError

__all__ = [
    "OPS",
    "OP_NAMES",
    "Genesis",
    "Header",
    "Op",
    "decode_tx",
    "encode_header",
    "encode_tx_body",
]

VERSION = 1
TX_HEAD = struct.Struct("<4sBIBQQ32s")
SIG = 64
HEADER = struct.Struct("<4sBIQ32sQI32s32s32s")
GENESIS = struct.Struct("<4sBI20sQqqqQq")


@dataclass(frozen=True, slots=True)
class Op:
    """A command's opcode, name and the struct of its arguments."""

    code: int
    name: str
    args: struct.Struct


def _op(code: int, name: str, kinds: str) -> Op:
    fmt = "".join({"a": "20s", "Q": "Q", "B": "B", "I": "I", "q": "q"}[k] for k in kinds)
    return Op(code, name, struct.Struct("<" + fmt))


OPS: dict[str, Op] = {
    o.name: o
    for o in (
        _op(1, "add_voter", "a"),
        _op(2, "remove_voter", "a"),
        _op(3, "register_storage_unit", "aa"),
        _op(4, "remove_storage_unit", "a"),
        _op(5, "change_banker", "a"),
        _op(6, "set_parameter", "Bq"),
        _op(7, "change_bridge_service", "a"),
        _op(10, "energy_produced", "aQ"),
        _op(11, "energy_consumed", "aQ"),
        _op(12, "report_actual_energy", "Q"),
        _op(20, "mint_eeuro", "aQ"),
        _op(21, "burn_eeuro", "aQ"),
        _op(22, "unlock_eeuro", "aQ"),
        _op(30, "start_consumption_session", "aQ"),
        _op(31, "clear_old_sessions", ""),
        _op(32, "transfer_ent", "aQ"),
        _op(33, "transfer_eeuro", "aQ"),
        _op(34, "lock_eeuro", "Q"),
        _op(35, "add_order", "BQQ"),
        _op(36, "remove_order", "Q"),
        _op(40, "lock_tokens", "aQ"),
        _op(41, "unlock_tokens", "IQaQ"),
        _op(42, "tokens_transferred", "Q"),
    )
}
OP_NAMES: dict[int, Op] = {o.code: o for o in OPS.values()}


def encode_tx_body(
    chain_id: int, op: Op, timestamp: int, nonce: int, public_key: bytes, args: tuple[object, ...]
) -> bytes:
    """Return the signed part of a command."""
    return TX_HEAD.pack(b"GLPC", VERSION, chain_id, op.code, timestamp, nonce, public_key) + op.args.pack(
        *args
    )


class DecodedTx(NamedTuple):
    """A parsed command (a tuple: parsing is on the replay's hot path)."""

    chain_id: int
    op: Op
    timestamp: int
    nonce: int
    public_key: bytes
    args: tuple[object, ...]
    body: bytes
    signature: bytes


def decode_tx(raw: bytes, where: str = "command") -> DecodedTx:
    """Parse a command's bytes; raises :class:`InvalidTransactionError` if malformed."""
    if len(raw) < TX_HEAD.size + SIG:
        raise InvalidTransactionError(f"{where}: {len(raw)} bytes is too short", where, len(raw))
    magic, version, chain_id, code, ts, nonce, pk = TX_HEAD.unpack_from(raw)
    op = OP_NAMES.get(code)
    if magic != b"GLPC" or version != VERSION or op is None:
        raise InvalidTransactionError(f"{where}: not a PowerChain v1 command (op {code})", where, code)
    if len(raw) != TX_HEAD.size + op.args.size + SIG:
        raise InvalidTransactionError(f"{where}: wrong length {len(raw)} for {op.name}", where, len(raw))
    args = op.args.unpack_from(raw, TX_HEAD.size)
    return DecodedTx(chain_id, op, ts, nonce, pk, args, raw[:-SIG], raw[-SIG:])


@dataclass(frozen=True, slots=True)
class Header:
    """A block header (see the module docstring)."""

    chain_id: int
    height: int
    previous: bytes
    timestamp: int
    commands: int
    command_root: bytes
    state_root: bytes
    sealer: bytes
    signature: bytes = b""

    def body(self) -> bytes:
        """Return the signed part of the header."""
        return encode_header(self)[:-SIG]


def encode_header(h: Header) -> bytes:
    """Return the encoded header: the signed part, then the signature (zeros when unsigned)."""
    return (
        HEADER.pack(
            b"GLPB", VERSION, h.chain_id, h.height, h.previous, h.timestamp, h.commands,
            h.command_root, h.state_root, h.sealer,
        )
        + (h.signature or bytes(SIG))
    )  # fmt: skip


def decode_header(raw: bytes, where: str = "header") -> Header:
    if len(raw) != HEADER.size + SIG:
        raise InvalidTransactionError(
            f"{where}: {len(raw)} bytes, expected {HEADER.size + SIG}", where, len(raw)
        )
    magic, version, chain_id, height, prev, ts, n, croot, sroot, sealer = HEADER.unpack_from(raw)
    if magic != b"GLPB" or version != VERSION:
        raise InvalidTransactionError(f"{where}: not a PowerChain v1 header", where, magic)
    return Header(chain_id, height, prev, ts, n, croot, sroot, sealer, raw[-SIG:])


@dataclass(frozen=True, slots=True)
class Genesis:
    """What a PowerChain starts from: its id, deployer, time and parameters (internal integers)."""

    chain_id: int
    deployer: bytes
    timestamp: int
    params: tuple[int, int, int, int, int]

    def encode(self) -> bytes:
        """Return the canonical genesis record."""
        return GENESIS.pack(b"GLPG", VERSION, self.chain_id, self.deployer, self.timestamp, *self.params)

    @classmethod
    def decode(cls, raw: bytes) -> Genesis:
        """Return the genesis of its canonical record; raises InvalidTransactionError if malformed."""
        if len(raw) != GENESIS.size:
            raise InvalidTransactionError(
                f"genesis: {len(raw)} bytes, expected {GENESIS.size}", "genesis", len(raw)
            )
        magic, version, chain_id, deployer, ts, m, b, c, h, f = GENESIS.unpack(raw)
        if magic != b"GLPG" or version != VERSION:
            raise InvalidTransactionError("genesis: not a PowerChain v1 genesis", "genesis", magic)
        return cls(chain_id, deployer, ts, (m, b, c, h, f))
