"""Transactions: ``Create`` (a cryptometer's quantum), ``Transfer`` (UTXO), the auction's and ``Losses``.

The canonical encoding is defined once, in the Rust core (``docs/ledger.md``
gives the byte layout). These classes are typed views of it: building one
checks its fields, ``body()`` asks the core for the canonical bytes, and
``decode`` parses a whole signed transaction back. Amounts are integers: Wh
for energy, token units for votes (SPEC §2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from gridledger import _core
from gridledger._validate import check_bytes
from gridledger.errors import InvalidArgumentError, InvalidTransactionError
from gridledger.hashing import Algorithm
from gridledger.keys import SigningKey

__all__ = [
    "NEVER",
    "Asset",
    "Candidate",
    "Create",
    "Evidence",
    "LossShare",
    "Losses",
    "Outpoint",
    "Output",
    "SignedTransaction",
    "Transfer",
    "Winner",
    "decode",
]

NEVER = 2**64 - 1
"""``expires`` of an output that never expires (energy)."""


class Asset(IntEnum):
    """What an output holds."""

    ENERGY = 0
    """Energy in Wh."""
    VOTE = 1
    """Voting tokens E (SPEC §3), valid until the output's ``expires`` period."""


def _key(name: str, value: object) -> bytes:
    if not isinstance(value, bytes) or len(value) != 32:
        raise InvalidArgumentError(f"{name} must be a 32-byte public key, got {value!r:.40}", name, value)
    return value


def _int(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InvalidTransactionError(f"{name} must be an integer, got {value!r}", name, value)
    v = int(value)
    if not low <= v <= high:
        raise InvalidTransactionError(f"{name} must be in {low}..{high}, got {v}", name, v)
    return v


@dataclass(frozen=True)
class Outpoint:
    """A reference to output ``index`` of transaction ``txid``."""

    txid: bytes
    index: int

    def __post_init__(self) -> None:
        """Check the 32-byte txid and the output index (0 … 65535)."""
        _key("txid", self.txid)
        _int("index", self.index, 0, 65535)


@dataclass(frozen=True)
class Output:
    """``amount`` of ``asset`` paid to ``owner`` (a public key).

    Attributes
    ----------
    owner
        32-byte Ed25519 public key of the recipient.
    amount
        Wh for energy, token units for votes; 1 ≤ amount < 2^63.
    asset
        :class:`Asset`; energy by default.
    expires
        Last period a voting token can be spent in; :data:`NEVER` for energy.
    """

    owner: bytes
    amount: int
    asset: Asset = Asset.ENERGY
    expires: int = NEVER

    def __post_init__(self) -> None:
        """Check the owner key, the amount (0 … 2^63 − 1), the asset and the expiry period."""
        _key("owner", self.owner)
        _int("amount", self.amount, 0, 2**63 - 1)
        object.__setattr__(self, "asset", Asset(self.asset))
        _int("expires", self.expires, 0, NEVER)


_Columns = tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.int64], NDArray[np.uint64]]


def _outputs_arrays(outputs: Sequence[Output]) -> _Columns:
    owners = np.frombuffer(b"".join(o.owner for o in outputs), dtype=np.uint8).reshape(-1, 32)
    assets = np.fromiter((int(o.asset) for o in outputs), dtype=np.uint8, count=len(outputs))
    amounts = np.fromiter((o.amount for o in outputs), dtype=np.int64, count=len(outputs))
    expires = np.fromiter((o.expires for o in outputs), dtype=np.uint64, count=len(outputs))
    return owners, assets, amounts, expires


@dataclass(frozen=True)
class Create:
    """A cryptometer's quantum: V Wh (and its voting tokens) credited to the device.

    Build with :meth:`quantum`; the chain accepts it only when the device is
    registered in the genesis with this V and ``seq`` is the device's next
    quantum number.
    """

    chain_tag: bytes
    period: int
    device: bytes
    seq: int
    outputs: tuple[Output, ...]

    @classmethod
    def quantum(
        cls,
        chain_tag: bytes,
        period: int,
        device: bytes,
        seq: int,
        v_wh: int,
        votes: int = 1,
        vote_validity: int = 4,
    ) -> Create:
        """Return the Create of quantum ``seq``.

        It holds ``v_wh`` Wh and ``votes`` tokens valid ``vote_validity`` periods.
        """
        outs = [Output(device, v_wh)]
        if votes:
            outs.append(Output(device, votes, Asset.VOTE, period + vote_validity))
        return cls(chain_tag, period, device, seq, tuple(outs))

    def body(self) -> bytes:
        """Return the canonical body (what the id hashes and the device signs)."""
        votes = [o for o in self.outputs if o.asset == Asset.VOTE]
        energy = [o for o in self.outputs if o.asset == Asset.ENERGY]
        if len(energy) != 1 or len(votes) > 1 or len(self.outputs) != len(energy) + len(votes):
            raise InvalidTransactionError(
                "a Create has one energy output and at most one vote output", "outputs", len(self.outputs)
            )
        return _core.encode_create(
            self.chain_tag,
            self.period,
            self.device,
            self.seq,
            energy[0].amount,
            votes[0].amount if votes else 0,
            votes[0].expires if votes else 0,
        )

    @property
    def signers(self) -> tuple[bytes, ...]:
        """The device, the one key that signs a Create."""
        return (self.device,)

    def sign(self, *keys: SigningKey, algorithm: Algorithm = "blake3") -> SignedTransaction:
        """Sign with the device's key."""
        return _sign(self, self.body(), keys, algorithm)


@dataclass(frozen=True)
class Transfer:
    """Spend ``inputs`` (all owned by ``signers``) into ``outputs``.

    Per asset the outputs may not exceed the inputs (the difference is the
    fee); a VPP distribution and a unit's transfer must pass on exactly their
    inputs. Every signer signs the id.
    """

    chain_tag: bytes
    period: int
    signers: tuple[bytes, ...]
    inputs: tuple[Outpoint, ...]
    outputs: tuple[Output, ...] = field(default=())

    def body(self) -> bytes:
        """Return the canonical body (what the id hashes and the signers sign)."""
        signers = np.frombuffer(b"".join(_key("signers", s) for s in self.signers), dtype=np.uint8)
        txids = np.frombuffer(b"".join(i.txid for i in self.inputs), dtype=np.uint8).reshape(-1, 32)
        idx = np.fromiter((i.index for i in self.inputs), dtype=np.int64, count=len(self.inputs))
        return _core.encode_transfer(
            self.chain_tag,
            self.period,
            signers.reshape(-1, 32),
            txids,
            idx,
            *_outputs_arrays(self.outputs),
        )

    def sign(self, *keys: SigningKey, algorithm: Algorithm = "blake3") -> SignedTransaction:
        """Sign with one key per signer, in the order of ``signers``."""
        return _sign(self, self.body(), keys, algorithm)


def _inputs_arrays(inputs: Sequence[Outpoint]) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    txids = np.frombuffer(b"".join(i.txid for i in inputs), dtype=np.uint8).reshape(-1, 32)
    idx = np.fromiter((i.index for i in inputs), dtype=np.int64, count=len(inputs))
    return txids, idx


def _auction_body(
    kind: str,
    tx: Candidate | Winner | Evidence,
    signer: bytes,
    *,
    sent_ms: int = 0,
    winner: bytes | None = None,
    evidence: tuple[bytes, bytes, bytes, bytes] | None = None,
) -> bytes:
    txids, idx = _inputs_arrays(tx.inputs)
    owners, assets, amounts, expires = _outputs_arrays(tx.outputs)
    return _core.encode_auction_tx(
        kind,
        tx.chain_tag,
        tx.period,
        signer,
        txids,
        idx,
        owners,
        assets,
        amounts,
        expires,
        sent_ms=sent_ms,
        winner=winner,
        evidence=evidence,
    )


@dataclass(frozen=True)
class Candidate:
    """A candidacy for the next period's auction (SPEC §3): voting tokens offered to the miner.

    Its one output sends every offered token to the current miner (the
    block's producer); ``sent_ms`` (Unix ms) decides whether it is on time
    (between gate opening and gate closure) or late (refunded).
    """

    chain_tag: bytes
    period: int
    candidate: bytes
    sent_ms: int
    inputs: tuple[Outpoint, ...]
    outputs: tuple[Output, ...]

    @property
    def signers(self) -> tuple[bytes, ...]:
        """The key that signs a candidacy: the candidate's."""
        return (self.candidate,)

    def body(self) -> bytes:
        """Return the canonical body (what the id hashes and the candidate signs)."""
        return _auction_body("candidate", self, self.candidate, sent_ms=self.sent_ms)

    def sign(self, *keys: SigningKey, algorithm: Algorithm = "blake3") -> SignedTransaction:
        """Return the transaction signed by ``keys`` (the candidate's)."""
        return _sign(self, self.body(), keys, algorithm)


@dataclass(frozen=True)
class Winner:
    """The miner passes the on-time offers to the auction's winner and refunds late ones."""

    chain_tag: bytes
    period: int
    miner: bytes
    winner: bytes
    inputs: tuple[Outpoint, ...]
    outputs: tuple[Output, ...]

    @property
    def signers(self) -> tuple[bytes, ...]:
        """The key that signs a Winner: the miner's."""
        return (self.miner,)

    def body(self) -> bytes:
        """Return the canonical body (what the id hashes and the miner signs)."""
        return _auction_body("winner", self, self.miner, winner=self.winner)

    def sign(self, *keys: SigningKey, algorithm: Algorithm = "blake3") -> SignedTransaction:
        """Return the transaction signed by ``keys`` (the miner's)."""
        return _sign(self, self.body(), keys, algorithm)


@dataclass(frozen=True)
class Evidence:
    """Two headers of one height signed by one miner: equivocation (SPEC §3 "something to stake").

    Its inputs are the equivocator's unspent miner fee from that height (if
    any); it pays nothing out, so the fee is confiscated.
    """

    chain_tag: bytes
    period: int
    reporter: bytes
    first: tuple[bytes, bytes]
    second: tuple[bytes, bytes]
    inputs: tuple[Outpoint, ...] = ()
    outputs: tuple[Output, ...] = ()

    @property
    def signers(self) -> tuple[bytes, ...]:
        """The key that signs evidence: the reporter's."""
        return (self.reporter,)

    def body(self) -> bytes:
        """Return the canonical body (what the id hashes and the reporter signs)."""
        return _auction_body("evidence", self, self.reporter, evidence=(*self.first, *self.second))

    def sign(self, *keys: SigningKey, algorithm: Algorithm = "blake3") -> SignedTransaction:
        """Return the transaction signed by ``keys`` (the reporter's)."""
        return _sign(self, self.body(), keys, algorithm)


@dataclass(frozen=True)
class LossShare:
    """One member's share of a period's grid losses.

    Attributes
    ----------
    member
        32-byte public key of the member (its virtual meter's key).
    loss_wh
        Its share in Wh, 0 ≤ loss_wh < 2^63 (the chain accepts 1 or more: a member with no
        share is left out of the record).
    """

    member: bytes
    loss_wh: int

    def __post_init__(self) -> None:
        """Check the member key and the share (0 … 2^63 − 1 Wh; the ledger rules refuse 0)."""
        _key("member", self.member)
        _int("loss_wh", self.loss_wh, 0, 2**63 - 1)


@dataclass(frozen=True)
class Losses:
    """The VPP's record of one period's grid losses and each member's share (issue 20).

    It moves no asset (no inputs, no outputs): it lands in the period's block
    beside the distribution, so a member's loss share is provable with the
    same Merkle paths as its allocation. The chain accepts at most one per
    period, signed by the VPP, whose shares name registered members in the
    genesis order, each at most once, and sum exactly to ``total_wh``.

    Attributes
    ----------
    chain_tag, period
        As for every transaction.
    vpp
        The VPP's public key (the signer).
    total_wh
        The period's losses in Wh (0 … 2^63 − 1).
    shares
        The members' :class:`LossShare` in genesis order.
    """

    chain_tag: bytes
    period: int
    vpp: bytes
    total_wh: int
    shares: tuple[LossShare, ...] = ()
    inputs: tuple[Outpoint, ...] = ()
    outputs: tuple[Output, ...] = ()

    @property
    def signers(self) -> tuple[bytes, ...]:
        """The key that signs a loss record: the VPP's."""
        return (self.vpp,)

    def share_of(self, member: bytes) -> int:
        """Return ``member``'s share in Wh (0 when the record lists no share for it)."""
        return sum(s.loss_wh for s in self.shares if s.member == member)

    def body(self) -> bytes:
        """Return the canonical body (what the id hashes and the VPP signs)."""
        if self.inputs or self.outputs:
            raise InvalidTransactionError(
                "a loss record moves no asset (no inputs, no outputs)",
                "outputs",
                len(self.inputs) + len(self.outputs),
            )
        keys = np.frombuffer(b"".join(s.member for s in self.shares), dtype=np.uint8).reshape(-1, 32)
        wh = np.fromiter((s.loss_wh for s in self.shares), dtype=np.int64, count=len(self.shares))
        return _core.encode_losses(
            self.chain_tag, self.period, _key("vpp", self.vpp), self.total_wh, keys, wh
        )

    def sign(self, *keys: SigningKey, algorithm: Algorithm = "blake3") -> SignedTransaction:
        """Return the transaction signed by ``keys`` (the VPP's)."""
        return _sign(self, self.body(), keys, algorithm)


Transaction = Create | Transfer | Candidate | Winner | Evidence | Losses


def _sign(
    tx: Transaction, body: bytes, keys: Sequence[SigningKey], algorithm: Algorithm
) -> SignedTransaction:
    if [k.public_key for k in keys] != list(tx.signers):
        raise InvalidArgumentError(
            f"sign with the {len(tx.signers)} signers' keys, in order", "keys", len(keys)
        )
    txid = _core.hash_one(body, algorithm)
    return SignedTransaction(tx, body, tuple(k.sign(txid) for k in keys), txid)


@dataclass(frozen=True)
class SignedTransaction:
    """A transaction with its signatures: what goes into a block.

    Attributes
    ----------
    tx
        The :class:`Create` or :class:`Transfer`.
    body
        Its canonical body.
    signatures
        One 64-byte Ed25519 signature of the id per signer.
    id
        H(body) under the chain's hash function.
    """

    tx: Transaction
    body: bytes
    signatures: tuple[bytes, ...]
    id: bytes

    def encode(self) -> bytes:
        """Body followed by the signatures: the bytes a block carries."""
        return self.body + b"".join(self.signatures)

    def outpoint(self, index: int) -> Outpoint:
        """Output ``index`` of this transaction, as an input for a later one."""
        return Outpoint(self.id, index)


def _decoded_losses(
    tag: bytes, period: int, vpp: bytes, total_wh: int, members: bytes, wh: NDArray[np.uint64]
) -> Losses:
    """Return the decoded record (a share of 2^63 Wh or more is refused, as for outputs)."""
    _int("total_wh", total_wh, 0, 2**63 - 1)
    shares = tuple(LossShare(members[32 * j : 32 * j + 32], w) for j, w in enumerate(wh.tolist()))
    return Losses(tag, period, vpp, total_wh, shares)


def decode(data: bytes, algorithm: Algorithm = "blake3") -> SignedTransaction:
    """Parse a whole signed transaction; raises InvalidTransactionError on bad bytes."""
    data = check_bytes("data", data)
    d = _core.decode_tx(data)
    outs = tuple(Output(o, amt, Asset(a), exp) for o, a, amt, exp in d["outputs"])
    tx: Transaction
    ins = tuple(Outpoint(t, i) for t, i in d["inputs"])
    tag, period, signers = d["chain_tag"], d["period"], d["signers"]
    if d["kind"] != "transfer" and len(signers) != 1:  # a Transfer may list none: the rules refuse it
        raise InvalidTransactionError(
            f"a {d['kind']} transaction has one signer, not {len(signers)}", "signers", len(signers)
        )
    signer = signers[0] if signers else bytes(32)
    if d["kind"] == "create":
        tx = Create(tag, period, d["device"], d["seq"], outs)
    elif d["kind"] == "transfer":
        tx = Transfer(tag, period, tuple(d["signers"]), ins, outs)
    elif d["kind"] == "candidate":
        tx = Candidate(tag, period, signer, d["sent_ms"], ins, outs)
    elif d["kind"] == "winner":
        tx = Winner(tag, period, signer, d["winner"], ins, outs)
    elif d["kind"] == "losses":
        tx = _decoded_losses(tag, period, signer, d["total_wh"], d["share_members"], d["share_wh"])
    else:
        ha, sa, hb, sb = d["evidence"]
        tx = Evidence(tag, period, signer, (ha, sa), (hb, sb), ins, outs)
    body = bytes(data[: d["body_len"]])
    return SignedTransaction(tx, body, tuple(d["signatures"]), _core.hash_one(body, algorithm))
