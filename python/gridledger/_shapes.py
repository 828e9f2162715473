"""The shapes of the dictionaries the native core returns.

``gridledger._core``'s stub names these as the return types of its decoders
and of ``ChainState.check`` / ``append``, so mypy checks every key a caller
reads. They are plain :class:`typing.TypedDict` classes: at run time the core
returns ordinary dicts with exactly these keys.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

import numpy as np
from numpy.typing import NDArray

__all__ = ["BlockCheck", "DecodedGenesis", "DecodedHeader", "DecodedTx", "MemberStats", "TxKind"]

TxKind = Literal["create", "transfer", "candidate", "winner", "evidence", "losses"]


class DecodedTx(TypedDict):
    """``decode_tx``: the fields of one whole signed transaction (docs/ledger.md).

    ``device`` and ``seq`` are present for a Create, ``sent_ms`` (Unix ms) for
    a Candidate, ``winner`` for a Winner, ``evidence`` (two header,
    signature pairs) for an Evidence and ``total_wh``, ``share_members``
    (the members' 32-byte keys concatenated) and ``share_wh`` (their Wh) for
    a Losses record.
    """

    kind: TxKind
    chain_tag: bytes
    period: int
    signers: list[bytes]
    inputs: list[tuple[bytes, int]]
    """(txid, output index) per input."""
    outputs: list[tuple[bytes, int, int, int]]
    """(owner, asset code, amount, expires) per output."""
    signatures: list[bytes]
    body_len: int
    """Bytes of the body (what the id hashes); the signatures follow."""
    device: NotRequired[bytes]
    seq: NotRequired[int]
    sent_ms: NotRequired[int]
    winner: NotRequired[bytes]
    evidence: NotRequired[tuple[bytes, bytes, bytes, bytes]]
    total_wh: NotRequired[int]
    share_members: NotRequired[bytes]
    share_wh: NotRequired[NDArray[np.uint64]]


class DecodedHeader(TypedDict):
    """``decode_header``: the fields of a 193-byte block header."""

    chain_id: bytes
    height: int
    period: int
    prev_hash: bytes
    tx_root: bytes
    n_tx: int
    miner: bytes
    next_winner: bytes
    timestamp_ms: int


class DecodedGenesis(TypedDict):
    """``decode_genesis``: the fields of a genesis record and its chain id."""

    algorithm: Literal["blake3", "sha256"]
    period_s: int
    first_period: int
    vote_validity: int
    consensus: tuple[int, int, int, int, int, int, int, int, int, int]
    """(producer rule, draw, α, β, γ ppm, gate open ms, gate close ms, grace ms, fee ppm, strikes)."""
    vpp: bytes
    members: list[tuple[bytes, str]]
    devices: list[tuple[bytes, int, int, str]]
    """(key, V Wh, votes per quantum, label) per device."""
    name: str
    chain_id: bytes


class BlockCheck(TypedDict):
    """``ChainState.check`` / ``append``: what an accepted block records."""

    block_hash: bytes
    ids: NDArray[np.uint8]
    kinds: NDArray[np.uint8]
    out_tx: NDArray[np.int64]
    out_index: NDArray[np.int64]
    out_owner: NDArray[np.int64]
    out_asset: NDArray[np.int64]
    out_amount: NDArray[np.int64]
    out_expires: NDArray[np.uint64]
    spent_tx_seq: NDArray[np.int64]
    spent_index: NDArray[np.int64]
    new_keys: NDArray[np.uint8]
    fees: tuple[int, int]
    signatures: int
    first_tx_seq: int
    winner: bytes | None
    on_time: int
    late: int
    penalised: bool
    missed: int | None
    evidence: int


class MemberStats(TypedDict):
    """``ChainState.member_stats``: per member, in genesis order."""

    last_period: NDArray[np.int64]
    made: NDArray[np.int64]
    penalties: NDArray[np.int64]
    strikes: NDArray[np.int64]
    barred: NDArray[np.bool_]
