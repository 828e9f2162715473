"""The genesis record: a chain's parameters and the keys every node knows.

Its hash is the chain id; the first 8 bytes of that id (the chain tag) are
carried by every transaction so that none can be replayed on another chain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from gridledger import _core
from gridledger.errors import BadConfigurationError
from gridledger.hashing import Algorithm

__all__ = ["Consensus", "DeviceEntry", "Genesis", "MemberEntry"]


@dataclass(frozen=True)
class Consensus:
    """How each block's producer is chosen (SPEC §3).

    Attributes
    ----------
    producer_rule
        ``"round_robin"`` (members in turn) or ``"auction"`` (the proof-of-stake auction).
    draw
        ``"argmax_w_over_u"`` (the seeds' rule) or ``"proportional"`` (P(win) ∝ W).
    alpha, beta, gamma
        Weights of tokens offered E, age A and reputation R in W = αÊ + βÂ + γR̂
        (≥ 0; SPEC recommends γ < α < β). Stored in millionths.
    gate_open_s, gate_close_s
        t_d and t_e: candidacies are on time from period start + t_d to period end − t_e (s).
    grace_s
        The chosen producer publishes within this long after its period ends;
        the k-th fallback producer from k·grace on (s).
    fee
        Miner fee: this share of each VPP distribution's energy goes to the block's miner.
    strikes
        Missed blocks after which a winner is barred (three strikes).
    """

    producer_rule: Literal["round_robin", "auction"] = "round_robin"
    draw: Literal["argmax_w_over_u", "proportional"] = "argmax_w_over_u"
    alpha: float = 0.3
    beta: float = 0.6
    gamma: float = 0.1
    gate_open_s: float = 30.0
    gate_close_s: float = 60.0
    grace_s: float = 120.0
    fee: float = 0.0
    strikes: int = 3

    def __post_init__(self) -> None:
        """Check every parameter; :class:`BadConfigurationError` names the first bad one."""
        if self.producer_rule not in ("round_robin", "auction"):
            raise BadConfigurationError(
                f"producer_rule must be 'round_robin' or 'auction', got {self.producer_rule!r}",
                "producer_rule",
                self.producer_rule,
            )
        if self.draw not in ("argmax_w_over_u", "proportional"):
            raise BadConfigurationError(
                f"draw must be 'argmax_w_over_u' or 'proportional', got {self.draw!r}", "draw", self.draw
            )
        for name in ("alpha", "beta", "gamma", "gate_open_s", "gate_close_s", "grace_s"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
                raise BadConfigurationError(f"{name} must be a finite number ≥ 0, got {v!r}", name, v)
        if not 0 <= self.fee <= 1:
            raise BadConfigurationError(f"fee must be a share in [0, 1], got {self.fee}", "fee", self.fee)
        if not isinstance(self.strikes, int) or not 1 <= self.strikes <= 255:
            raise BadConfigurationError(
                f"strikes must be 1..255, got {self.strikes!r}", "strikes", self.strikes
            )

    def encode(self) -> tuple[int, int, int, int, int, int, int, int, int, int]:
        """Return the integer form the genesis record stores (millionths and ms)."""

        def ppm(x: float) -> int:
            return round(x * 1_000_000)

        def ms(x: float) -> int:
            return round(x * 1000)

        return (
            0 if self.producer_rule == "round_robin" else 1,
            0 if self.draw == "argmax_w_over_u" else 1,
            ppm(self.alpha),
            ppm(self.beta),
            ppm(self.gamma),
            ms(self.gate_open_s),
            ms(self.gate_close_s),
            ms(self.grace_s),
            ppm(self.fee),
            self.strikes,
        )

    @classmethod
    def decode(cls, t: tuple[int, ...]) -> Consensus:
        """Return the consensus parameters of their integer form (millionths, ms); inverts :meth:`encode`."""
        rule, draw, a, b, g, t_d, t_e, grace, fee, strikes = t
        return cls(
            "round_robin" if rule == 0 else "auction",
            "argmax_w_over_u" if draw == 0 else "proportional",
            a / 1e6,
            b / 1e6,
            g / 1e6,
            t_d / 1000,
            t_e / 1000,
            grace / 1000,
            fee / 1e6,
            strikes,
        )


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
    consensus
        The producer rule and the auction's parameters (:class:`Consensus`).
    """

    algorithm: Algorithm
    period_s: int
    first_period: int
    vote_validity: int
    vpp: bytes
    members: tuple[MemberEntry, ...]
    devices: tuple[DeviceEntry, ...]
    name: str = ""
    consensus: Consensus = field(default_factory=Consensus)

    def encode(self) -> bytes:
        """Return the canonical record; raises BadConfigurationError on a bad parameter."""
        return _core.encode_genesis(
            self.algorithm,
            self.period_s,
            self.first_period,
            self.vote_validity,
            self.vpp,
            [(m.key, m.label) for m in self.members],
            [(d.key, d.v_wh, d.votes_per_quantum, d.label) for d in self.devices],
            self.name,
            self.consensus.encode(),
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
            consensus=Consensus.decode(d["consensus"]),
        )

    @property
    def chain_id(self) -> bytes:
        """H(genesis record)."""
        return _core.hash_one(self.encode(), self.algorithm)

    def producer(self, height: int) -> bytes:
        """Return the round-robin producer of block ``height`` (≥ 1); block 1's under any rule."""
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
