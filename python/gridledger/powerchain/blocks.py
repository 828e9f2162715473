"""The PowerChain's blocks: sealing, replaying from genesis, storing, proofs.

Proof of authority (seed 004 §4.2.4): a block is sealed and signed by a
voter. Its header commits to the commands (RFC 6962 Merkle root, BLAKE3) and
to the whole state after them (the same root over :meth:`State.records`),
so anyone can rebuild the state by replaying the chain and check a balance
against a header with an inclusion proof.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from gridledger import hashing, keys, merkle
from gridledger._validate import check_index
from gridledger.errors import (
    BadDataError,
    GridLedgerError,
    InvalidArgumentError,
    InvalidBlockError,
    InvalidSignatureError,
    NotAuthorisedError,
)
from gridledger.powerchain.codec import DecodedTx, Genesis, Header, decode_header, decode_tx, encode_header
from gridledger.powerchain.executor import execute
from gridledger.powerchain.state import State
from gridledger.powerchain.wallet import Wallet, address_of, address_str

__all__ = ["Block", "BlockLog", "CommandProof", "StateProof", "replay_blocks", "state_root"]


def state_root(records: list[bytes]) -> bytes:
    """Return the Merkle root (BLAKE3) of the state's records."""
    return merkle.MerkleTree(records, algorithm="blake3").root


def command_root(commands: Sequence[bytes]) -> bytes:
    return merkle.MerkleTree(list(commands), algorithm="blake3").root


@dataclass(frozen=True, slots=True)
class Block:
    """A sealed block: its header's bytes and its commands' bytes."""

    header: bytes
    commands: tuple[bytes, ...]

    @property
    def hash(self) -> bytes:
        """The block hash: BLAKE3 of the encoded header."""
        return hashing.blake3(self.header)


@dataclass(frozen=True, slots=True)
class CommandProof:
    """That ``command`` is the ``index``-th of ``size`` commands under ``root`` (block ``height``)."""

    height: int
    command: bytes
    index: int
    size: int
    proof: list[bytes]
    root: bytes

    def verify(self) -> bool:
        """Return whether the proof puts the command under the root."""
        leaf = merkle.leaf_hash(self.command, "blake3")
        return merkle.verify_inclusion(leaf, self.index, self.size, self.proof, self.root, "blake3")


@dataclass(frozen=True, slots=True)
class StateProof:
    """That ``record`` is in the state committed by block ``height``'s state root."""

    height: int
    record: bytes
    index: int
    size: int
    proof: list[bytes]
    root: bytes

    def verify(self) -> bool:
        """Return whether the proof puts the record under the root."""
        leaf = merkle.leaf_hash(self.record, "blake3")
        return merkle.verify_inclusion(leaf, self.index, self.size, self.proof, self.root, "blake3")


class BlockLog:
    """Sealed blocks and the commands waiting for the next block."""

    def __init__(self, genesis: Genesis) -> None:
        self.genesis = genesis
        self.genesis_bytes = genesis.encode()
        self.blocks: list[Block] = []
        self.pending: list[bytes] = []
        self.records: list[bytes] | None = None  # the state's records at the last seal
        # Who may seal the next block: the voters when its first command ran (replay's rule).
        self.sealers: frozenset[bytes] = frozenset({genesis.deployer})

    @property
    def head(self) -> bytes:
        """The hash of the last sealed block (of the genesis record before any)."""
        return self.blocks[-1].hash if self.blocks else hashing.blake3(self.genesis_bytes)

    def may_seal(self, sealer: Wallet) -> bool:
        """Whether ``sealer`` may seal the next block (a voter when the block began)."""
        return sealer.raw_address in self.sealers

    def seal(self, state: State, sealer: Wallet, timestamp: int) -> Header:
        """Seal the pending commands into a block signed by ``sealer``.

        The sealer must have been a voter when the block began (after the
        previous block), the rule :func:`replay_blocks` checks: a voter removed
        by one of the block's own commands still seals that block.
        """
        if sealer.raw_address not in self.sealers:
            raise NotAuthorisedError(
                f"{sealer.address} was not a voter when this block began and cannot seal it",
                "sealer",
                sealer.address,
            )
        records = state.records()
        h = Header(
            self.genesis.chain_id, len(self.blocks), self.head, max(timestamp, state.now), len(self.pending),
            command_root(self.pending), state_root(records), sealer.public_key,
        )  # fmt: skip
        h = replace(h, signature=sealer.sign(h.body()))
        self.blocks.append(Block(encode_header(h), tuple(self.pending)))
        self.pending = []
        self.records = records
        self.sealers = frozenset(state.voters)
        return h

    def command_proof(self, height: int, index: int) -> CommandProof:
        """Return an inclusion proof of command ``index`` of block ``height`` under its header's root."""
        height, index = check_index("height", height), check_index("index", index)
        if not 0 <= height < len(self.blocks):
            raise InvalidArgumentError(
                f"height = {height}: {len(self.blocks)} blocks sealed", "height", height
            )
        b = self.blocks[height]
        h = decode_header(b.header)
        tree = merkle.MerkleTree(list(b.commands), algorithm="blake3")
        if not 0 <= index < len(b.commands):
            raise InvalidArgumentError(
                f"index = {index}: block {height} has {len(b.commands)} commands", "index", index
            )
        return CommandProof(
            height, b.commands[index], index, len(b.commands), tree.inclusion_proof(index), h.command_root
        )

    def state_proof(self, prefix: bytes) -> StateProof | None:
        """Return a proof of the record starting with ``prefix`` in the last sealed state (None if absent)."""
        if self.records is None:
            return None
        for i, rec in enumerate(self.records):
            if rec.startswith(prefix):
                tree = merkle.MerkleTree(self.records, algorithm="blake3")
                root = decode_header(self.blocks[-1].header).state_root
                return StateProof(
                    len(self.blocks) - 1, rec, i, len(self.records), tree.inclusion_proof(i), root
                )
        return None

    # --- storage --------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write genesis and every sealed block to a SQLite file (replaced if present)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        with sqlite3.connect(tmp) as db:
            db.execute("CREATE TABLE genesis (raw BLOB NOT NULL)")
            db.execute("CREATE TABLE blocks (height INTEGER PRIMARY KEY, header BLOB NOT NULL)")
            db.execute(
                "CREATE TABLE commands (height INTEGER, idx INTEGER, raw BLOB NOT NULL,"
                " PRIMARY KEY (height, idx))"
            )
            db.execute("INSERT INTO genesis VALUES (?)", (self.genesis_bytes,))
            db.executemany(
                "INSERT INTO blocks VALUES (?, ?)", [(i, b.header) for i, b in enumerate(self.blocks)]
            )
            db.executemany(
                "INSERT INTO commands VALUES (?, ?, ?)",
                [(i, j, c) for i, b in enumerate(self.blocks) for j, c in enumerate(b.commands)],
            )
        db.close()
        tmp.replace(path)

    @staticmethod
    def read(path: str | Path) -> tuple[bytes, list[Block]]:
        """Genesis bytes and blocks from a file written by :meth:`save`."""
        db = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
        try:
            (genesis,) = db.execute("SELECT raw FROM genesis").fetchone()
            headers = db.execute("SELECT header FROM blocks ORDER BY height").fetchall()
            commands: list[list[bytes]] = [[] for _ in headers]
            for height, raw in db.execute("SELECT height, raw FROM commands ORDER BY height, idx"):
                commands[height].append(raw)
        except (sqlite3.Error, TypeError, IndexError) as e:
            raise BadDataError(f"{path}: not a PowerChain file ({e})", "path", str(path)) from None
        finally:
            db.close()
        return genesis, [Block(h, tuple(c)) for (h,), c in zip(headers, commands, strict=True)]


def replay_blocks(genesis_bytes: bytes, blocks: Sequence[Block]) -> tuple[State, BlockLog]:
    """Rebuild the state from genesis by replaying every block, checking everything.

    Every signature (headers and commands) is checked in one batch call; then
    each block's link, height, sealer (a voter at the block's start), command
    root, each command's chain, nonce, time and rules, and the state root
    after the block. Raises :class:`InvalidSignatureError` or
    :class:`InvalidBlockError` naming the block (and command).
    """
    genesis = Genesis.decode(genesis_bytes)
    state = State.from_genesis(genesis)
    log = BlockLog(genesis)
    headers = []
    txs = []
    pks, bodies, sigs, where = [], [], [], []
    for h_i, b in enumerate(blocks):
        h = decode_header(b.header, f"block[{h_i}]")
        headers.append(h)
        pks.append(h.sealer)
        bodies.append(b.header[:-64])
        sigs.append(h.signature)
        where.append(f"block[{h_i}].header")
        block_txs = []
        for c_i, raw in enumerate(b.commands):
            t = decode_tx(raw, f"block[{h_i}].command[{c_i}]")
            block_txs.append(t)
            pks.append(t.public_key)
            bodies.append(t.body)
            sigs.append(t.signature)
            where.append(f"block[{h_i}].command[{c_i}]")
        txs.append(block_txs)
    # Every signature is checked in one batch call on a worker thread (it releases the GIL and
    # uses every core) while the commands run here; a bad signature outranks any rule error.
    with ThreadPoolExecutor(1) as pool:
        checked = pool.submit(keys.verify_batch, pks, bodies, sigs) if pks else None

        def signatures_hold() -> None:
            if checked is None:
                return
            ok = checked.result()
            if not ok.all():
                i = int(np.flatnonzero(~ok)[0])
                raise InvalidSignatureError(f"{where[i]}: signature does not verify", where[i], sigs[i].hex())

        try:
            _run_blocks(state, log, genesis, blocks, headers, txs)
        except GridLedgerError:
            signatures_hold()
            raise
        signatures_hold()
    return state, log


def _run_blocks(
    state: State,
    log: BlockLog,
    genesis: Genesis,
    blocks: Sequence[Block],
    headers: list[Header],
    txs: list[list[DecodedTx]],
) -> None:
    addr_cache: dict[bytes, bytes] = {}
    chain_id = genesis.chain_id
    last_ts = genesis.timestamp
    for h_i, (b, h, block_txs) in enumerate(zip(blocks, headers, txs, strict=True)):
        w = f"block[{h_i}]"
        if h.chain_id != chain_id or h.height != h_i or h.previous != log.head:
            raise InvalidBlockError(f"{w}: wrong chain id, height or previous hash", w, h.height)
        if h.commands != len(block_txs) or command_root(b.commands) != h.command_root:
            raise InvalidBlockError(f"{w}: command root does not match its commands", w, h.command_root.hex())
        if address_of(h.sealer) not in state.voters:
            raise InvalidBlockError(
                f"{w}: sealed by {address_str(address_of(h.sealer))}, not a voter", w, h.sealer.hex()
            )
        if h.timestamp < last_ts:
            raise InvalidBlockError(
                f"{w}: timestamp {h.timestamp} before the previous block's", w, h.timestamp
            )
        for c_i, t in enumerate(block_txs):
            cw = f"{w}.command[{c_i}]"
            caller = addr_cache.get(t.public_key)
            if caller is None:
                caller = addr_cache[t.public_key] = address_of(t.public_key)
            if t.chain_id != chain_id:
                raise InvalidBlockError(f"{cw}: for chain {t.chain_id}, not {chain_id}", cw, t.chain_id)
            acct = state.accounts.get(caller)
            if t.nonce != (acct.nonce if acct else 0):
                raise InvalidBlockError(f"{cw}: nonce {t.nonce} out of order", cw, t.nonce)
            if t.timestamp > h.timestamp:
                raise InvalidBlockError(f"{cw}: timestamp after its block's", cw, t.timestamp)
            try:
                execute(state, t.op, caller, t.timestamp, t.args)
            except GridLedgerError as e:
                raise InvalidBlockError(f"{cw} ({t.op.name}) is refused: {e}", cw, t.op.name) from e
        records = state.records()
        if state_root(records) != h.state_root:
            raise InvalidBlockError(
                f"{w}: state root does not match the replayed state", w, h.state_root.hex()
            )
        log.blocks.append(b)
        log.records = records
        log.sealers = frozenset(state.voters)
        last_ts = h.timestamp
