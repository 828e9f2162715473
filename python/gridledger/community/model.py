"""A community: members, generation units with cryptometers, a VPP, their keys.

Keys are derived deterministically from the community's seed (so a run can be
reproduced and its chain re-verified) and held in the Rust core's key ring,
indexed like the chain's key ids: 0 is the VPP, then the members, then the
devices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from gridledger import _core
from gridledger.community.repartition import RepartitionRule, make_rule
from gridledger.errors import BadConfigurationError
from gridledger.hashing import Algorithm
from gridledger.ledger.genesis import Consensus, DeviceEntry, Genesis, MemberEntry
from gridledger.meters.cryptometer import Cryptometer, MeterSpec

__all__ = ["PERIOD_MINUTES", "Community", "GenerationUnit", "Member"]

PERIOD_MINUTES = (5, 15, 30, 60)


@dataclass(frozen=True)
class Member:
    """A participant: consumer, node and holder of a virtual generation meter.

    Attributes
    ----------
    label
        Unique name (``"m007"``).
    annual_kwh
        Yearly consumption the member's load series is scaled to (kWh).
    """

    label: str
    annual_kwh: float = 3500.0


@dataclass(frozen=True)
class GenerationUnit:
    """A PV unit of the community's VPP, metered by a MID meter and a cryptometer.

    Attributes
    ----------
    label
        Unique name (``"pv03"``).
    kwp
        Installed peak power (kWp) the solar shape is scaled to.
    v_wh
        The cryptometer's quantum V (Wh).
    meter
        The MID meter (:class:`~gridledger.meters.MeterSpec`).
    meter_error
        The MID meter's own relative error (0 = exact).
    """

    label: str
    kwp: float = 10.0
    v_wh: int = 100
    meter: MeterSpec = field(default_factory=MeterSpec)
    meter_error: float = 0.0


class Community:
    """An energy community ready to run on a chain.

    Parameters
    ----------
    members, units
        The members and the VPP's generation units.
    period_minutes
        Market period: 5, 15, 30 or 60 minutes.
    repartition
        ``"pro_rata"`` (default), ``"equal"``, fixed coefficients, or a
        :class:`~gridledger.community.repartition.RepartitionRule`.
    seed
        Derives every key and the consumption noise.
    algorithm
        The chain's hash: ``"blake3"`` or ``"sha256"``.
    vote_validity
        d, periods a voting token stays valid (SPEC §3: 4).
    votes_per_quantum
        Voting tokens created with each quantum (seed 002 Table IV: one).
    consensus
        The producer rule: the proof-of-stake auction by default
        (:class:`~gridledger.ledger.Consensus`); ``Consensus()`` is round robin.
    """

    def __init__(
        self,
        members: Sequence[Member],
        units: Sequence[GenerationUnit],
        *,
        period_minutes: int = 15,
        repartition: str | RepartitionRule | Sequence[float] = "pro_rata",
        seed: int = 0,
        algorithm: Algorithm = "blake3",
        vote_validity: int = 4,
        votes_per_quantum: int = 1,
        name: str = "gridledger community",
        consensus: Consensus | None = None,
    ) -> None:
        if period_minutes not in PERIOD_MINUTES:
            raise BadConfigurationError(
                f"period_minutes must be one of {PERIOD_MINUTES}, got {period_minutes}",
                "period_minutes",
                period_minutes,
            )
        if not members:
            raise BadConfigurationError("a community needs at least one member", "members", 0)
        labels = [m.label for m in members] + [u.label for u in units]
        if len(set(labels)) != len(labels) or "vpp" in labels:
            raise BadConfigurationError(
                "member and unit labels must be unique (and not 'vpp')", "labels", labels[:8]
            )
        for m in members:
            if not (m.annual_kwh > 0 and np.isfinite(m.annual_kwh)):
                raise BadConfigurationError(
                    f"{m.label}: annual_kwh must be positive", "annual_kwh", m.annual_kwh
                )
        for u in units:
            if not (u.kwp > 0 and np.isfinite(u.kwp)):
                raise BadConfigurationError(f"{u.label}: kwp must be positive", "kwp", u.kwp)
        if votes_per_quantum < 0:
            raise BadConfigurationError(
                "votes_per_quantum must be ≥ 0", "votes_per_quantum", votes_per_quantum
            )
        self.members = tuple(members)
        self.units = tuple(units)
        self.period_minutes = period_minutes
        self.period_s = period_minutes * 60
        self.rule = make_rule(repartition, len(members))
        self.seed = seed
        self.algorithm: Algorithm = algorithm
        self.vote_validity = vote_validity
        self.votes_per_quantum = votes_per_quantum
        self.name = name
        self.consensus = consensus if consensus is not None else Consensus(producer_rule="auction")
        # Cryptometers check V against the MID bound here, before any run.
        self.cryptometers = [Cryptometer(u.v_wh, self.period_s, u.meter) for u in units]
        seeds = b"".join(
            _core.hash_one(f"gridledger community {seed} {role} {label}".encode(), "blake3")
            for role, label in [("vpp", "vpp")]
            + [("member", m.label) for m in members]
            + [("device", u.label) for u in units]
        )
        self.keyring = _core.KeyRing(seeds)
        self.public_keys = self.keyring.public_keys()

    @classmethod
    def default(
        cls,
        members: int = 50,
        pv_units: int = 10,
        *,
        kwp: float = 10.0,
        v_wh: int = 100,
        annual_kwh: float = 3500.0,
        seed: int = 0,
        **options: object,
    ) -> Community:
        """Build a community of ``members`` households and ``pv_units`` PV units of ``kwp`` (kWp) each.

        Annual use is spread ±30 % around ``annual_kwh`` (kWh), seeded.
        """
        if members < 1 or pv_units < 0:
            raise BadConfigurationError("need ≥ 1 member and ≥ 0 PV units", "members", (members, pv_units))
        rng = np.random.default_rng(seed)
        use = annual_kwh * rng.uniform(0.7, 1.3, size=members)
        ms = [Member(f"m{i:03d}", float(u)) for i, u in enumerate(use)]
        us = [GenerationUnit(f"pv{i:02d}", kwp, v_wh) for i in range(pv_units)]
        return cls(ms, us, seed=seed, **options)  # type: ignore[arg-type]

    # -- key ids -----------------------------------------------------------------
    def member_key_id(self, i: int) -> int:
        """Return the key id of member ``i`` (key 0 is the VPP's)."""
        return 1 + i

    def device_key_id(self, j: int) -> int:
        """Return the key id of PV unit ``j``'s cryptometer (after the members' keys)."""
        return 1 + len(self.members) + j

    def key(self, key_id: int) -> bytes:
        """Return the 32-byte Ed25519 public key with id ``key_id``."""
        return bytes(self.public_keys[key_id].tobytes())

    def genesis(self, first_period: int) -> Genesis:
        """Return the genesis record of a chain for this community starting at ``first_period``."""
        return Genesis(
            algorithm=self.algorithm,
            period_s=self.period_s,
            first_period=first_period,
            vote_validity=self.vote_validity,
            vpp=self.key(0),
            members=tuple(
                MemberEntry(self.key(self.member_key_id(i)), m.label) for i, m in enumerate(self.members)
            ),
            devices=tuple(
                DeviceEntry(self.key(self.device_key_id(j)), u.v_wh, self.votes_per_quantum, u.label)
                for j, u in enumerate(self.units)
            ),
            name=self.name,
            consensus=self.consensus,
        )
