"""The genesis record: a chain's parameters and the keys every node knows.

Its hash is the chain id; the first 8 bytes of that id (the chain tag) are
carried by every transaction so that none can be replayed on another chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridledger import _core
from gridledger.hashing import Algorithm

__all__ = ["DeviceEntry", "Genesis", "MemberEntry"]


@dataclass(frozen=True)
class MemberEntry:
    """A community member: a node, a block producer and a virtual generation meter."""

    key: bytes
    label: str


@dataclass(frozen=True)
class DeviceEntry:
    """A generation unit's cryptometer: it signs a Create for every ``v_wh`` Wh counted."""

    key: bytes
    v_wh: int
    votes_per_quantum: int
    label: str


@dataclass(frozen=True)
class Genesis:
    """Chain parameters (SPEC §1–3).

    Attributes
    ----------
    algorithm
        ``"blake3"`` (default) or ``"sha256"``: the hash of ids, roots and links.
    period_s
        Market period in seconds: 300, 900, 1800 or 3600.
    first_period
        Index (Unix time // period_s) of the period of block 1.
    vote_validity
        d: voting tokens may be spent up to d periods after their creation.
    vpp
        Public key of the virtual power plant.
    members, devices
        The community's members and cryptometers, in key-id order.
    name
        A free label for the community.
    """

    algorithm: Algorithm
    period_s: int
    first_period: int
    vote_validity: int
    vpp: bytes
    members: tuple[MemberEntry, ...]
    devices: tuple[DeviceEntry, ...]
    name: str = ""

    def encode(self) -> bytes:
        """The canonical record; raises BadConfigurationError on a bad parameter."""
        return _core.encode_genesis(
            self.algorithm,
            self.period_s,
            self.first_period,
            self.vote_validity,
            self.vpp,
            [(m.key, m.label) for m in self.members],
            [(d.key, d.v_wh, d.votes_per_quantum, d.label) for d in self.devices],
            self.name,
        )

    @classmethod
    def decode(cls, data: bytes) -> Genesis:
        """Parse a genesis record (checks every parameter)."""
        d = _core.decode_genesis(bytes(data))
        return cls(
            algorithm=d["algorithm"],
            period_s=d["period_s"],
            first_period=d["first_period"],
            vote_validity=d["vote_validity"],
            vpp=d["vpp"],
            members=tuple(MemberEntry(k, label) for k, label in d["members"]),
            devices=tuple(DeviceEntry(k, v, e, label) for k, v, e, label in d["devices"]),
            name=d["name"],
        )

    @property
    def chain_id(self) -> bytes:
        """H(genesis record)."""
        return _core.hash_one(self.encode(), self.algorithm)

    def producer(self, height: int) -> bytes:
        """The round-robin producer of block ``height`` (≥ 1)."""
        return self.members[(height - 1) % len(self.members)].key

    def period_end_ms(self, period: int) -> int:
        """Unix milliseconds at the end of ``period``: the earliest timestamp of its block."""
        return (period + 1) * self.period_s * 1000

    def labels(self) -> dict[bytes, str]:
        """Label of every key the genesis names (the VPP is ``"vpp"``)."""
        out = {self.vpp: "vpp"}
        out.update({m.key: m.label for m in self.members})
        out.update({d.key: d.label for d in self.devices})
        return out
