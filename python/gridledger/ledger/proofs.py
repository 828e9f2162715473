"""A member's allocation with the proofs to check it against a published root.

The path: the VPP's distribution transaction pays the member's virtual meter;
its id is in the block's transaction tree (inclusion proof against the
header's ``tx_root``); the header's hash is in the chain's Merkle log of
blocks (inclusion proof against the log root at the chain's size). A member
who knows only the published log root can check all of it with
:meth:`AllocationProof.verify`.

A member's share of a period's grid losses (issue 20) is proved the same way:
the VPP's ``Losses`` record of the period is a transaction of the same block
(:func:`prove_loss_share`, :class:`LossProof`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gridledger import merkle
from gridledger.errors import InvalidArgumentError
from gridledger.hashing import Algorithm, hash_one
from gridledger.keys import verify as verify_signature
from gridledger.ledger.block import Header, tx_ids
from gridledger.ledger.tx import Asset, Losses, Transfer, decode

if TYPE_CHECKING:
    from gridledger.ledger.store import ChainStore

__all__ = ["AllocationProof", "LossProof", "prove_allocation", "prove_loss_share"]


class _InBlock:
    """What both proofs share: a signed transaction in a block, the block in the chain's log."""

    height: int
    tx: bytes
    tx_index: int
    n_tx: int
    tx_proof: tuple[bytes, ...]
    header: bytes
    block_proof: tuple[bytes, ...]
    log_size: int
    log_root: bytes
    algorithm: Algorithm

    @property
    def tx_id(self) -> bytes:
        """The transaction's id H(body)."""
        return decode(self.tx, self.algorithm).id

    @property
    def tx_root(self) -> bytes:
        """The transaction root of the block's header."""
        return Header.decode(self.header).tx_root

    @property
    def block_hash(self) -> bytes:
        """The hash of the block holding the transaction."""
        return hash_one(self.header, self.algorithm)

    def _paths_ok(self, tx_id: bytes, tx_root: bytes, log_root: bytes | None) -> bool:
        """Both Merkle paths: the transaction in its block, the block in the log (``log_root`` or the own)."""
        alg = self.algorithm
        ok_tx = merkle.verify_inclusion(
            merkle.leaf_hash(tx_id, alg), self.tx_index, self.n_tx, list(self.tx_proof), tx_root, alg
        )
        ok_block = merkle.verify_inclusion(
            merkle.leaf_hash(self.block_hash, alg),
            self.height,
            self.log_size,
            list(self.block_proof),
            self.log_root if log_root is None else log_root,
            alg,
        )
        return ok_tx and ok_block


@dataclass(frozen=True)
class AllocationProof(_InBlock):
    """Everything needed to check one member's allocation offline.

    Attributes
    ----------
    member, member_key
        The member's label and public key.
    period, height
        The market period and its block's height.
    energy_wh, votes
        What the member's virtual generation meter received in the period.
    tx
        The whole distribution transaction (body and VPP signature).
    tx_index, n_tx, tx_proof
        Its position in the block, the block's size and the RFC 6962 path to ``tx_root``.
    header
        The block's 193-byte header.
    block_proof, log_size, log_root
        The path of the block hash in the chain's log of ``log_size`` blocks, and that log's root.
    algorithm
        The chain's hash function.
    """

    member: str
    member_key: bytes
    period: int
    height: int
    energy_wh: int
    votes: int
    tx: bytes
    tx_index: int
    n_tx: int
    tx_proof: tuple[bytes, ...]
    header: bytes
    block_proof: tuple[bytes, ...]
    log_size: int
    log_root: bytes
    algorithm: Algorithm

    def verify(self, log_root: bytes | None = None) -> bool:
        """Check the whole path; against ``log_root`` if given, else the proof's own root."""
        alg = self.algorithm
        try:
            stx = decode(self.tx, alg)
            header = Header.decode(self.header)
        except Exception:
            return False
        paid = sum(o.amount for o in stx.tx.outputs if o.owner == self.member_key and o.asset == Asset.ENERGY)
        votes = sum(o.amount for o in stx.tx.outputs if o.owner == self.member_key and o.asset == Asset.VOTE)
        if (paid, votes) != (self.energy_wh, self.votes) or header.period != self.period:
            return False
        if header.height != self.height or header.n_tx != self.n_tx:
            return False
        return self._paths_ok(stx.id, header.tx_root, log_root)

    def to_text(self) -> str:
        """Return a readable print-out (what ``gridledger prove`` shows)."""
        lines = [
            f"member        {self.member}  {self.member_key.hex()}",
            f"period        {self.period}  (block height {self.height})",
            f"allocation    {self.energy_wh} Wh, {self.votes} voting tokens",
            f"transaction   {self.tx_id.hex()}  (#{self.tx_index} of {self.n_tx} in the block)",
            f"tx proof      {len(self.tx_proof)} hashes to tx_root {self.tx_root.hex()}",
            *[f"  [{i}] {h.hex()}" for i, h in enumerate(self.tx_proof)],
            f"block hash    {self.block_hash.hex()}",
            f"block proof   {len(self.block_proof)} hashes in the log of {self.log_size} blocks",
            *[f"  [{i}] {h.hex()}" for i, h in enumerate(self.block_proof)],
            f"log root      {self.log_root.hex()}  ({self.algorithm}, RFC 6962)",
            f"verifies      {self.verify()}",
        ]
        return "\n".join(lines)


def _member(store: ChainStore, member: str | int) -> tuple[str, bytes]:
    members = store.genesis.members
    if isinstance(member, int) or (isinstance(member, str) and member.isdigit()):
        i = int(member)
        if not 0 <= i < len(members):
            raise InvalidArgumentError(f"member index must be in 0..{len(members) - 1}", "member", member)
        return members[i].label, members[i].key
    for m in members:
        if member in (m.label, m.key.hex()):
            return m.label, m.key
    raise InvalidArgumentError(f"no member {member!r} (labels like {members[0].label!r})", "member", member)


def prove_allocation(store: ChainStore, member: str | int, period: int) -> AllocationProof:
    """Return the allocation of ``member`` (label, index or key hex) in ``period``, with its proofs."""
    label, key = _member(store, member)
    height = store.height_of_period(period)
    block = store.block(height)
    alg = store.genesis.algorithm
    vpp = store.genesis.vpp
    for i, raw in enumerate(block.txs):
        stx = decode(raw, alg)
        if isinstance(stx.tx, Transfer) and stx.tx.signers == (vpp,):
            if not any(o.owner == key for o in stx.tx.outputs):
                break
            ids = tx_ids(block.txs, alg)
            tree = merkle.MerkleTree(ids, alg)
            hashes = store.block_hashes()
            log = merkle.MerkleTree(hashes, alg)
            out = [o for o in stx.tx.outputs if o.owner == key]
            return AllocationProof(
                member=label,
                member_key=key,
                period=period,
                height=height,
                energy_wh=sum(o.amount for o in out if o.asset == Asset.ENERGY),
                votes=sum(o.amount for o in out if o.asset == Asset.VOTE),
                tx=raw,
                tx_index=i,
                n_tx=len(block.txs),
                tx_proof=tuple(tree.inclusion_proof(i)),
                header=block.header.encode(),
                block_proof=tuple(log.inclusion_proof(height)),
                log_size=log.size,
                log_root=log.root,
                algorithm=alg,
            )
    raise InvalidArgumentError(
        f"{label} received no allocation in period {period} (block {height})", "period", period
    )


@dataclass(frozen=True)
class LossProof(_InBlock):
    """One member's share of a period's grid losses, with the paths to check it offline.

    Attributes
    ----------
    member, member_key
        The member's label and public key.
    vpp
        The VPP's public key: the record's signer.
    period, height
        The market period and its block's height.
    loss_wh, total_wh
        The member's share and the period's total losses (Wh); a member the
        record lists no share for has ``loss_wh`` 0.
    tx
        The whole ``Losses`` record (body and the VPP's signature).
    tx_index, n_tx, tx_proof
        Its position in the block, the block's size and the RFC 6962 path to ``tx_root``.
    header
        The block's 193-byte header.
    block_proof, log_size, log_root
        The path of the block hash in the chain's log of ``log_size`` blocks, and that log's root.
    algorithm
        The chain's hash function.
    """

    member: str
    member_key: bytes
    vpp: bytes
    period: int
    height: int
    loss_wh: int
    total_wh: int
    tx: bytes
    tx_index: int
    n_tx: int
    tx_proof: tuple[bytes, ...]
    header: bytes
    block_proof: tuple[bytes, ...]
    log_size: int
    log_root: bytes
    algorithm: Algorithm

    def verify(self, log_root: bytes | None = None) -> bool:
        """Check the record, its signature and both paths; against ``log_root`` if given.

        The record must be the VPP's ``Losses`` of ``period`` whose shares sum
        to ``total_wh`` and give the member ``loss_wh``.
        """
        alg = self.algorithm
        try:
            stx = decode(self.tx, alg)
            header = Header.decode(self.header)
        except Exception:
            return False
        rec = stx.tx
        if not isinstance(rec, Losses) or rec.vpp != self.vpp or rec.period != self.period:
            return False
        if not verify_signature(self.vpp, stx.id, stx.signatures[0]):
            return False
        if rec.total_wh != self.total_wh or sum(x.loss_wh for x in rec.shares) != rec.total_wh:
            return False
        if rec.share_of(self.member_key) != self.loss_wh:
            return False
        if (header.period, header.height, header.n_tx) != (self.period, self.height, self.n_tx):
            return False
        return self._paths_ok(stx.id, header.tx_root, log_root)

    def to_text(self) -> str:
        """Return a readable print-out."""
        root = Header.decode(self.header).tx_root.hex()
        lines = [
            f"member        {self.member}  {self.member_key.hex()}",
            f"period        {self.period}  (block height {self.height})",
            f"loss share    {self.loss_wh} Wh of the period's {self.total_wh} Wh of grid losses",
            f"record        #{self.tx_index} of {self.n_tx} in the block, signed by the VPP {self.vpp.hex()}",
            f"tx proof      {len(self.tx_proof)} hashes to tx_root {root}",
            f"block hash    {self.block_hash.hex()}",
            f"block proof   {len(self.block_proof)} hashes in the log of {self.log_size} blocks",
            f"log root      {self.log_root.hex()}  ({self.algorithm}, RFC 6962)",
            f"verifies      {self.verify()}",
        ]
        return "\n".join(lines)


def prove_loss_share(store: ChainStore, member: str | int, period: int) -> LossProof:
    """Return ``member``'s (label, index or key hex) share of ``period``'s grid losses, with its proofs.

    Raises
    ------
    InvalidArgumentError
        If the member is unknown, the period has no block, or its block holds no loss record
        (a run without a grid).
    """
    label, key = _member(store, member)
    height = store.height_of_period(period)
    block = store.block(height)
    alg = store.genesis.algorithm
    for i, raw in enumerate(block.txs):
        stx = decode(raw, alg)
        rec = stx.tx
        if isinstance(rec, Losses):
            tree = merkle.MerkleTree(tx_ids(block.txs, alg), alg)
            log = merkle.MerkleTree(store.block_hashes(), alg)
            return LossProof(
                member=label,
                member_key=key,
                vpp=rec.vpp,
                period=period,
                height=height,
                loss_wh=rec.share_of(key),
                total_wh=rec.total_wh,
                tx=raw,
                tx_index=i,
                n_tx=len(block.txs),
                tx_proof=tuple(tree.inclusion_proof(i)),
                header=block.header.encode(),
                block_proof=tuple(log.inclusion_proof(height)),
                log_size=log.size,
                log_root=log.root,
                algorithm=alg,
            )
    raise InvalidArgumentError(
        f"the block of period {period} (height {height}) holds no loss record (a run without a grid)",
        "period",
        period,
    )
