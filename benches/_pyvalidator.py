"""A pure-Python validator of the ledger rules: the baseline of the block-validation target.

It reads the same bytes the core reads (the genesis record, then per block the
193-byte header, the miner's signature and the transactions concatenated with
their offsets) and applies the rules of ``docs/ledger.md`` in the same order,
with the standard library and ``cryptography`` only: ``struct`` to decode,
``hashlib.sha256`` for the ids, the RFC 6962 ``tx_root`` and the block hash
(so it handles chains whose genesis names ``"sha256"``; BLAKE3 is not in
hashlib), and ``Ed25519PublicKey.verify`` for every signature, the header's
included. It imports nothing from gridledger.

A rejection raises :class:`Rejected` carrying the name of the
``gridledger.errors`` class the core raises for the same rule, so the two
verdicts can be compared.
"""

from __future__ import annotations

import hashlib
import itertools
import struct
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

NEVER = 2**64 - 1
MAX_AMOUNT = 2**63 - 1
ENERGY, VOTE = 0, 1

_HEADER = struct.Struct("<4sB32sQQ32s32sI32s32sq")  # 193 bytes
_TX_HEAD = struct.Struct("<4sBB8sQ")  # magic, version, kind, chain tag, period
_CREATE = struct.Struct("<32sQ")
_INPUT = struct.Struct("<32sH")
_OUTPUT = struct.Struct("<32sBQQ")
_U8, _U16, _U32, _U64 = (struct.Struct(f) for f in ("<B", "<H", "<I", "<Q"))


class Rejected(Exception):
    """A block the rules reject; ``error`` names the matching ``gridledger.errors`` class."""

    def __init__(self, error: str, field: str, reason: str) -> None:
        super().__init__(f"{error}: {field}: {reason}")
        self.error = error
        self.field = field
        self.reason = reason


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# -- decoding ------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    chain_id: bytes
    height: int
    period: int
    prev_hash: bytes
    tx_root: bytes
    n_tx: int
    miner: bytes
    next_winner: bytes
    timestamp_ms: int

    def encode(self) -> bytes:
        return _HEADER.pack(
            b"GLBK",
            1,
            self.chain_id,
            self.height,
            self.period,
            self.prev_hash,
            self.tx_root,
            self.n_tx,
            self.miner,
            self.next_winner,
            self.timestamp_ms,
        )


def decode_header(data: bytes) -> Header:
    if len(data) != _HEADER.size:
        raise Rejected("InvalidBlockError", "header", f"{len(data)} bytes, a header has {_HEADER.size}")
    magic, version, *fields = _HEADER.unpack(data)
    if magic != b"GLBK" or version != 1:
        raise Rejected("InvalidBlockError", "header", "not a version-1 block header")
    return Header(*fields)


@dataclass(slots=True)
class Output:
    owner: bytes
    asset: int
    amount: int
    expires: int


@dataclass(slots=True)
class Tx:
    kind: int  # 0 Create, 1 Transfer
    chain_tag: bytes
    period: int
    signers: tuple[bytes, ...]  # a Create's is its device
    seq: int  # a Create's quantum number
    inputs: tuple[tuple[bytes, int], ...]
    outputs: tuple[Output, ...]
    signatures: tuple[bytes, ...]
    body_len: int


def decode_tx(data: bytes) -> Tx:
    """One whole signed transaction; strict: known kinds and assets, no trailing bytes."""
    try:
        magic, version, kind, tag, period = _TX_HEAD.unpack_from(data, 0)
        if magic != b"GLTX" or version != 1:
            raise Rejected("InvalidTransactionError", "magic", "not a version-1 transaction")
        pos = _TX_HEAD.size
        seq = 0
        inputs: tuple[tuple[bytes, int], ...] = ()
        if kind == 0:
            device, seq = _CREATE.unpack_from(data, pos)
            pos += _CREATE.size
            signers: tuple[bytes, ...] = (device,)
        elif kind == 1:
            (n,) = _U8.unpack_from(data, pos)
            pos += 1
            signers = tuple(data[pos + 32 * i : pos + 32 * i + 32] for i in range(n))
            pos += 32 * n
            (m,) = _U16.unpack_from(data, pos)
            pos += 2
            inputs = tuple(_INPUT.unpack_from(data, pos + 34 * i) for i in range(m))
            pos += 34 * m
        else:
            raise Rejected("InvalidTransactionError", "kind", f"unknown transaction kind {kind}")
        (k,) = _U16.unpack_from(data, pos)
        pos += 2
        outputs = tuple(Output(*_OUTPUT.unpack_from(data, pos + 49 * i)) for i in range(k))
        pos += 49 * k
    except struct.error as e:
        raise Rejected("InvalidTransactionError", "body", f"truncated ({e})") from None
    if any(o.asset not in (ENERGY, VOTE) for o in outputs):
        raise Rejected("InvalidTransactionError", "outputs", "unknown asset code")
    # A short decoded key is a truncated body too (slices do not raise).
    if len(data) < pos or any(len(s) != 32 for s in signers):
        raise Rejected("InvalidTransactionError", "body", "truncated")
    n_sig = len(signers)
    if len(data) - pos != 64 * n_sig:
        raise Rejected("InvalidTransactionError", "signatures", f"{len(data) - pos} bytes after the body")
    sigs = tuple(data[pos + 64 * i : pos + 64 * i + 64] for i in range(n_sig))
    return Tx(kind, tag, period, signers, seq, inputs, outputs, sigs, pos)


def merkle_root(ids: list[bytes]) -> bytes:
    """RFC 6962 Merkle tree hash over the ids (each id is a leaf's data)."""
    if not ids:
        return sha256(b"")
    level = [sha256(b"\x00" + i) for i in ids]
    while len(level) > 1:
        odd = level[-1] if len(level) % 2 else None
        level = [sha256(b"\x01" + level[k] + level[k + 1]) for k in range(0, len(level) - 1, 2)]
        if odd is not None:
            level.append(odd)
    return level[0]


def verifies(key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# -- the chain -------------------------------------------------------------------


@dataclass(frozen=True)
class Genesis:
    raw: bytes
    period_s: int
    first_period: int
    vote_validity: int
    vpp: bytes
    members: tuple[bytes, ...]
    devices: dict[bytes, tuple[int, int]]  # key -> (V Wh, votes per quantum)


def decode_genesis(raw: bytes) -> Genesis:
    magic, version, alg, period_s, first, d, rule = struct.unpack_from("<4sBBIQIB", raw, 0)
    if magic != b"GLGN" or version != 1 or rule != 0:
        raise ValueError("not a version-1 round-robin genesis record")
    if alg != 1:
        raise ValueError("the pure-Python validator handles SHA-256 chains only (hashlib has no BLAKE3)")
    # The consensus block: rule, draw u8, seven u32 parameters, strikes u8.
    pos = 23 + 1 + 7 * 4 + 1
    vpp = raw[pos : pos + 32]
    pos += 32
    (n,) = _U32.unpack_from(raw, pos)
    pos += 4
    members = []
    for _ in range(n):
        members.append(raw[pos : pos + 32])
        pos += 33 + raw[pos + 32]
    (m,) = _U32.unpack_from(raw, pos)
    pos += 4
    devices = {}
    for _ in range(m):
        key, v_wh, votes, label_len = struct.unpack_from("<32sQQB", raw, pos)
        devices[key] = (v_wh, votes)
        pos += 49 + label_len
    return Genesis(raw, period_s, first, d, vpp, tuple(members), devices)


@dataclass
class Accepted:
    """What :meth:`PyChain.check` found; :meth:`PyChain.apply` commits it."""

    header: Header
    block_hash: bytes
    ids: list[bytes]
    n_outputs: list[int]
    created: dict[tuple[bytes, int], Output]
    spent: list[tuple[bytes, int]]
    device_seq: dict[bytes, int]
    fees: list[int] = field(default_factory=lambda: [0, 0])


class PyChain:
    """Chain state: unspent outputs, known ids, device counters and the tip."""

    def __init__(self, genesis: bytes) -> None:
        g = self.genesis = decode_genesis(genesis)
        self.chain_id = sha256(genesis)
        self.chain_tag = self.chain_id[:8]
        self.utxo: dict[tuple[bytes, int], Output] = {}
        self.known: dict[bytes, int] = {}  # id -> number of outputs
        self.device_seq = dict.fromkeys(g.devices, 0)
        self.tip = Header(
            self.chain_id,
            0,
            g.first_period - 1,
            bytes(32),
            merkle_root([]),
            0,
            bytes(32),
            self.producer(1),
            self.period_end_ms(g.first_period - 1),
        )
        self.tip_hash = sha256(self.tip.encode())

    def producer(self, height: int) -> bytes:
        """Round robin: member (height − 1) mod M produces block ``height``."""
        return self.genesis.members[(height - 1) % len(self.genesis.members)]

    def period_end_ms(self, period: int) -> int:
        return (period + 1) * self.genesis.period_s * 1000

    def append(self, header: bytes, signature: bytes, blob: bytes, offsets: list[int]) -> Accepted:
        acc = self.check(header, signature, blob, offsets)
        self.apply(acc)
        return acc

    def check(self, header: bytes, signature: bytes, blob: bytes, offsets: list[int]) -> Accepted:
        """Validate a block as the next one; changes nothing. Raises :class:`Rejected`."""
        h = decode_header(header)
        txs = [blob[a:b] for a, b in itertools.pairwise(offsets)]
        self.check_header(h, len(txs))
        parsed = []
        for i, t in enumerate(txs):
            try:
                parsed.append(decode_tx(t))
            except Rejected as e:
                raise Rejected(e.error, f"tx[{i}]", f"{e.field}: {e.reason}") from None
        ids = [sha256(t[: p.body_len]) for t, p in zip(txs, parsed, strict=True)]
        if merkle_root(ids) != h.tx_root:
            raise Rejected("InvalidBlockError", "header.tx_root", "not the Merkle root of the ids")
        block_hash = sha256(header)
        if len(signature) != 64 or not verifies(h.miner, signature, block_hash):
            raise Rejected("InvalidSignatureError", "header.signature", "does not verify")
        for i, (p, txid) in enumerate(zip(parsed, ids, strict=True)):
            for j, (k, s) in enumerate(zip(p.signers, p.signatures, strict=True)):
                if not verifies(k, s, txid):
                    raise Rejected("InvalidSignatureError", f"tx[{i}].signatures[{j}]", "does not verify")
        return self.check_rules(h, block_hash, parsed, ids)

    def check_header(self, h: Header, n_tx: int) -> None:
        tip = self.tip
        checks = [
            ("chain_id", h.chain_id == self.chain_id),
            ("height", h.height == tip.height + 1),
            ("period", h.period == tip.period + 1),
            ("prev_hash", h.prev_hash == self.tip_hash),
            ("n_tx", h.n_tx == n_tx),
            ("miner", h.miner == tip.next_winner),
            ("next_winner", h.next_winner == self.producer(h.height + 1)),
            ("timestamp_ms", h.timestamp_ms >= max(self.period_end_ms(h.period), tip.timestamp_ms)),
        ]
        for name, ok in checks:
            if not ok:
                raise Rejected("InvalidBlockError", f"header.{name}", "wrong value")

    def check_rules(self, h: Header, block_hash: bytes, parsed: list[Tx], ids: list[bytes]) -> Accepted:
        acc = Accepted(h, block_hash, ids, [len(p.outputs) for p in parsed], {}, [], {})
        spent_by: dict[tuple[bytes, int], int] = {}
        in_block: set[bytes] = set()
        for i, (tx, txid) in enumerate(zip(parsed, ids, strict=True)):
            if txid in in_block or txid in self.known:
                raise Rejected("DoubleSpendError", f"tx[{i}]", "this transaction is already on the chain")
            fees = self.check_tx(acc, spent_by, h, tx, i)
            acc.fees = [a + f for a, f in zip(acc.fees, fees, strict=True)]
            for j, o in enumerate(tx.outputs):
                acc.created[(txid, j)] = o
            in_block.add(txid)
        return acc

    def check_tx(
        self, acc: Accepted, spent_by: dict[tuple[bytes, int], int], h: Header, tx: Tx, i: int
    ) -> tuple[int, int]:
        f = f"tx[{i}]"
        if tx.chain_tag != self.chain_tag:
            raise Rejected("InvalidTransactionError", f"{f}.chain_tag", "another chain's transaction")
        if tx.period != h.period:
            raise Rejected("InvalidTransactionError", f"{f}.period", "closed or future period")
        if not tx.outputs:
            raise Rejected("InvalidTransactionError", f"{f}.outputs", "no outputs")
        for j, o in enumerate(tx.outputs):
            if not 1 <= o.amount <= MAX_AMOUNT:
                raise Rejected("InvalidTransactionError", f"{f}.outputs[{j}].amount", "out of range")
            if o.asset == ENERGY and o.expires != NEVER:
                raise Rejected("InvalidTransactionError", f"{f}.outputs[{j}].expires", "energy expires")
        if tx.kind == 0:
            return self.check_create(acc, tx, f)
        return self.check_transfer(acc, spent_by, tx, i, f)

    def check_create(self, acc: Accepted, tx: Tx, f: str) -> tuple[int, int]:
        device = tx.signers[0]
        if device not in self.genesis.devices:
            raise Rejected("NotAuthorisedError", f"{f}.device", "not a registered cryptometer")
        last = acc.device_seq.get(device, self.device_seq[device])
        if tx.seq != last + 1:
            raise Rejected("InvalidTransactionError", f"{f}.seq", f"expected {last + 1}")
        v_wh, votes = self.genesis.devices[device]
        expect = [Output(device, ENERGY, v_wh, NEVER)]
        if votes:
            expect.append(Output(device, VOTE, votes, tx.period + self.genesis.vote_validity))
        if list(tx.outputs) != expect:
            raise Rejected("InvalidTransactionError", f"{f}.outputs", "not exactly V and its tokens")
        acc.device_seq[device] = tx.seq
        return 0, 0

    def check_transfer(
        self, acc: Accepted, spent_by: dict[tuple[bytes, int], int], tx: Tx, i: int, f: str
    ) -> tuple[int, int]:
        signers = set(tx.signers)
        if not tx.signers or len(signers) != len(tx.signers):
            raise Rejected("InvalidTransactionError", f"{f}.signers", "distinct and at least one")
        if not tx.inputs:
            raise Rejected("InvalidTransactionError", f"{f}.inputs", "no inputs")
        seen = set()
        sums_in = [0, 0]
        vote_expiry = NEVER
        owners_used = set()
        for j, p in enumerate(tx.inputs):
            where = f"{f}.inputs[{j}]"
            if p in seen:
                raise Rejected("DoubleSpendError", where, "spent twice in the transaction")
            seen.add(p)
            if p in spent_by:
                raise Rejected("DoubleSpendError", where, f"already spent by tx[{spent_by[p]}]")
            u = acc.created.get(p) or self.utxo.get(p)
            if u is None:
                n_out = self.known.get(p[0])
                if n_out is not None and p[1] < n_out:
                    raise Rejected("DoubleSpendError", where, "spent in an earlier block")
                raise Rejected("InvalidTransactionError", where, "unknown input")
            if u.owner not in signers:
                raise Rejected("NotAuthorisedError", where, "the owner did not sign")
            owners_used.add(u.owner)
            if u.asset == VOTE:
                if u.expires < tx.period:
                    raise Rejected("InvalidTransactionError", where, "expired voting token")
                vote_expiry = min(vote_expiry, u.expires)
            sums_in[u.asset] += u.amount
        if any(k not in owners_used for k in tx.signers):
            raise Rejected("InvalidTransactionError", f"{f}.signers", "a signer that owns no input")
        sums_out = [0, 0]
        for o in tx.outputs:
            sums_out[o.asset] += o.amount
        if sums_out[0] > sums_in[0] or sums_out[1] > sums_in[1]:
            raise Rejected("InsufficientFundsError", f"{f}.outputs", "outputs exceed inputs")
        for j, o in enumerate(tx.outputs):
            if o.asset == VOTE and o.expires != vote_expiry:
                raise Rejected("InvalidTransactionError", f"{f}.outputs[{j}].expires", "expiry changed")
        is_vpp = tx.signers == (self.genesis.vpp,)
        device_signs = any(k in self.genesis.devices for k in tx.signers)
        if (is_vpp or device_signs) and sums_out != sums_in:
            raise Rejected("InvalidTransactionError", f"{f}.outputs", "must pass on exactly its inputs")
        if device_signs and any(o.owner != self.genesis.vpp for o in tx.outputs):
            raise Rejected("NotAuthorisedError", f"{f}.outputs", "a unit pays the VPP only")
        for p in tx.inputs:
            spent_by[p] = i
            acc.spent.append(p)
        return sums_in[0] - sums_out[0], sums_in[1] - sums_out[1]

    def apply(self, acc: Accepted) -> None:
        """Commit a block :meth:`check` accepted."""
        self.utxo.update(acc.created)
        for p in acc.spent:
            del self.utxo[p]
        self.known.update(zip(acc.ids, acc.n_outputs, strict=True))
        self.device_seq.update(acc.device_seq)
        self.tip = acc.header
        self.tip_hash = acc.block_hash
