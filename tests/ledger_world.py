"""A small community chain built through the public Python API, for the ledger tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from gridledger.errors import GridLedgerError
from gridledger.hashing import Algorithm
from gridledger.keys import SigningKey
from gridledger.ledger import (
    Asset,
    Block,
    Chain,
    Consensus,
    Create,
    DeviceEntry,
    Genesis,
    MemberEntry,
    Outpoint,
    Output,
    SignedTransaction,
    Transfer,
)

V = 100
D = 4


def key(i: int) -> SigningKey:
    return SigningKey.from_seed(bytes([i]) * 32)


@dataclass
class World:
    algorithm: Algorithm = "blake3"
    vpp: SigningKey = field(default_factory=lambda: key(200))
    members: list[SigningKey] = field(default_factory=lambda: [key(i) for i in range(1, 4)])
    devices: list[SigningKey] = field(default_factory=lambda: [key(i) for i in range(100, 102)])
    consensus: Consensus = field(default_factory=Consensus)
    chain: Chain = field(init=False)
    seq: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.chain = Chain(self.genesis())
        self.seq = [0] * len(self.devices)

    def genesis(self) -> Genesis:
        return Genesis(
            algorithm=self.algorithm,
            period_s=900,
            first_period=1_717_440,
            vote_validity=D,
            vpp=self.vpp.public_key,
            members=tuple(MemberEntry(k.public_key, f"m{i}") for i, k in enumerate(self.members)),
            devices=tuple(DeviceEntry(k.public_key, V, 1, f"pv{i}") for i, k in enumerate(self.devices)),
            name="test",
            consensus=self.consensus,
        )

    @property
    def period(self) -> int:
        return self.chain.period + 1

    @property
    def tag(self) -> bytes:
        return self.chain.chain_tag

    def miner(self) -> SigningKey:
        return self.member(self.chain.next_miner)

    def member(self, public_key: bytes) -> SigningKey:
        return next(k for k in self.members if k.public_key == public_key)

    def create(self, d: int = 0, seq: int | None = None) -> SignedTransaction:
        s = self.seq[d] + 1 if seq is None else seq
        return Create.quantum(self.tag, self.period, self.devices[d].public_key, s, V, 1, D).sign(
            self.devices[d],
            algorithm=self.algorithm,
        )

    def transfer(
        self,
        signers: list[SigningKey],
        inputs: list[Outpoint],
        outputs: list[Output],
        period: int | None = None,
    ) -> SignedTransaction:
        t = Transfer(
            self.tag,
            self.period if period is None else period,
            tuple(k.public_key for k in signers),
            tuple(inputs),
            tuple(outputs),
        )
        return t.sign(*signers, algorithm=self.algorithm)

    def valid_period(self, shares: tuple[int, ...] = (120, 80)) -> list[SignedTransaction]:
        """Two quanta of unit 0 → VPP → members by ``shares`` (sum 200 Wh), votes 1 + 1."""
        c1 = self.create(0, self.seq[0] + 1)
        c2 = self.create(0, self.seq[0] + 2)
        vpp = self.vpp.public_key
        exp = self.period + D
        ins = [c.outpoint(i) for c in (c1, c2) for i in (0, 1)]
        t = self.transfer([self.devices[0]], ins, [Output(vpp, 200), Output(vpp, 2, Asset.VOTE, exp)])
        outs = [Output(self.members[i].public_key, a) for i, a in enumerate(shares) if a]
        outs += [Output(self.members[i].public_key, 1, Asset.VOTE, exp) for i in range(2)]
        d = self.transfer([self.vpp], [t.outpoint(0), t.outpoint(1)], outs)
        return [c1, c2, t, d]

    def seal(self, txs: list[SignedTransaction]) -> Block:
        return self.chain.seal([t.encode() for t in txs], self.miner())

    def append(self, txs: list[SignedTransaction]) -> None:
        self.chain.append(self.seal(txs))
        for t in txs:
            if isinstance(t.tx, Create):
                d = [k.public_key for k in self.devices].index(t.tx.device)
                self.seq[d] = max(self.seq[d], t.tx.seq)


def snapshot(w: World) -> tuple[object, ...]:
    c = w.chain
    keys = [w.vpp, *w.members, *w.devices]
    return (
        c.height,
        c.tip_hash,
        c.n_tx,
        c._state.n_utxo,
        tuple(c.balance(k.public_key) for k in keys),
        tuple(c.device_seq().tolist()),
        c.log_root(),
    )


def rejected(w: World, block: Block, error: type[GridLedgerError], field: str) -> GridLedgerError:
    before = snapshot(w)
    with pytest.raises(error) as info:
        w.chain.append(block)
    assert field in (info.value.field or ""), (info.value.field, str(info.value))
    assert snapshot(w) == before, "a rejected block changed the chain"
    return info.value
