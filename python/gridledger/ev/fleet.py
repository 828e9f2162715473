"""The EV fleet and the transactions it publishes (SPEC §6, seed 003 §3.2, §5.2).

Two demand models (``FleetConfig.demand``), both following a daily connection
profile by half-hour with morning (07–09) and evening (18–21) peaks, local time:

``"per_slot"`` (default: the seed's text, §5.2)
    Each round every EV is connected, independently of every other round,
    with the probability of the profile at that time ("the number of
    transactions is the total number of connected EVs in each time slot").
    Each connected EV publishes one transaction: its charger rating is drawn
    from the class mix ("according to the distribution of charging unit
    types"), it charges or discharges 2:1 ("the number of charging and
    discharging transactions are set to be 2:1"), and its quantity is the
    rating × the round length (Wh). Battery state is not modelled.

``"sessions"`` (the physically detailed variant)
    Each EV has a charger class (slow ≤ 3 kW, fast 7–22 kW, rapid
    43/50/120 kW), a battery capacity and a minimum charge (the energy kept
    for normal use). EVs connect in sessions (mean ``session_minutes``); a
    session is either a charging or a discharging session (2:1); while
    connected, the EV publishes one transaction per round: a charge (buy) or
    discharge (sell) of the energy its charger moves in one round, capped by
    what the battery can take or give. Every transaction executes within the
    deferral of its publication, so the battery state after all of a
    session's transactions is known when each is published, and a session
    only ever charges or only ever discharges, so any execution order keeps
    every battery between its minimum charge and its capacity (seed 003 eq. 8).

The deferral (``FleetConfig.deferral``): the seed says a transaction "has a
maximal waiting for two rounds which means that the transaction will be
enforced to execute after two rounds". A transaction published in round p may
execute in rounds p … p + d and must execute in p + d:

``"within_two"`` (default)
    d = 2: it may wait two whole rounds after the one it was published in
    (executes in p, p + 1 or p + 2).
``"one_round"``
    d = 1: the publication round counts as the first of the two (the block
    of round p is "executed in the next round", Algorithm 1), so it executes
    in p or p + 1.

``FleetConfig.max_defer`` sets d directly (a sweep beyond the two readings).
The stream is generated up front; it does not depend on the schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from gridledger import hashing
from gridledger.errors import BadConfigurationError

__all__ = [
    "CHARGER_KW",
    "CONNECTION_PROFILE",
    "DEFERRALS",
    "DEMAND_MODELS",
    "Fleet",
    "FleetConfig",
    "Transactions",
    "encode_transactions",
    "make_fleet",
    "make_transactions",
]

#: Charger ratings of each class (kW): slow ≤ 3, fast 7–22, rapid 43/50/120 (seed 003 §5.2).
CHARGER_KW: dict[str, tuple[float, ...]] = {
    "slow": (2.3, 3.0),
    "fast": (7.0, 11.0, 22.0),
    "rapid": (43.0, 50.0, 120.0),
}

#: Fraction of the fleet connected in each half-hour of the local day (48 values):
#: low at night, peaks 07:00–09:00 and 18:00–21:00 (seed 003 Fig. 3).
CONNECTION_PROFILE: tuple[float, ...] = (
    (0.04,) * 12  # 00:00-06:00
    + (0.08, 0.14)  # 06:00-07:00 shoulder
    + (0.26,) * 4  # 07:00-09:00 morning peak
    + (0.14, 0.10)  # 09:00-10:00 shoulder
    + (0.08,) * 14  # 10:00-17:00
    + (0.12, 0.18)  # 17:00-18:00 shoulder
    + (0.30,) * 6  # 18:00-21:00 evening peak
    + (0.18, 0.10)  # 21:00-22:00 shoulder
    + (0.06,) * 4  # 22:00-24:00
)

#: The demand models: the seed's per-slot draws, and persistent charging sessions.
DEMAND_MODELS: tuple[str, ...] = ("per_slot", "sessions")

#: The readings of the seed's deferral: the last round (after publication) a transaction may execute in.
DEFERRALS: dict[str, int] = {"within_two": 2, "one_round": 1}

#: Tag and version at the start of every transaction encoding.
TX_MAGIC = b"GLEV\x01"
#: Bytes of one encoded transaction.
TX_LEN = len(TX_MAGIC) + 4 + 1 + 8 + 4 + 4
MIN_TX_WH = 10


@dataclass(frozen=True)
class FleetConfig:
    """Parameters of the fleet and its transaction stream.

    Attributes
    ----------
    evs
        Number of EVs (1 … 10^6).
    demand
        The demand model: ``"per_slot"`` (the seed's text: each round each EV connects with the
        profile's probability and publishes one transaction of its drawn rating × the round) or
        ``"sessions"`` (persistent sessions, a fixed charger, state of charge carried).
    deferral
        The reading of the seed's "maximal waiting for two rounds": ``"within_two"`` (a
        transaction published in round p executes in p, p + 1 or p + 2) or ``"one_round"``
        (p or p + 1).
    charger_mix
        Probabilities of the slow, fast and rapid classes (sum 1): of each EV's charger
        (``sessions``) or of each transaction's rating (``per_slot``).
    capacity_kwh
        Battery capacities are drawn uniformly in this range (kWh); ``sessions`` only.
    min_charge_fraction
        Minimum charge χ_min as a fraction of capacity: a discharge never takes a battery below
        it; ``sessions`` only.
    v_permille, varpi_permille
        Charging efficiency v and discharging efficiency ϖ, in thousandths (1 … 1000).
    charge_share
        Share of sessions (``sessions``) or of transactions (``per_slot``) that charge (the
        seed's 2:1 gives 2/3); the rest discharge.
    session_minutes
        Mean connection length (minutes) of ``sessions``; lengths are geometric, at least
        ``stream_defer + 1`` rounds.
    max_defer
        ``None`` (default): the rounds d that ``deferral`` names. An integer 0 … 12 sets d
        directly (a transaction executes in p … p + d); with ``deferral="one_round"`` it must be 1.
    stream_defer
        ``sessions`` only: an EV stops publishing this many rounds before its session ends, so
        that nothing is pending when it leaves. ``None`` (default): the deferral d. A larger value
        (d … 12) keeps the same stream while d varies, which separates the scheduler's room to
        defer from the stream's length and count of transactions.
    profile
        Fraction of EVs connected per half-hour of the local day (48 values in [0, 0.95]).
    timezone
        The local time of the profile.
    seed
        Seed of every draw.
    """

    evs: int = 100
    charger_mix: tuple[float, float, float] = (0.35, 0.50, 0.15)
    capacity_kwh: tuple[float, float] = (30.0, 90.0)
    min_charge_fraction: float = 0.2
    v_permille: int = 900
    varpi_permille: int = 900
    charge_share: float = 2.0 / 3.0
    session_minutes: float = 60.0
    max_defer: int | None = None
    profile: tuple[float, ...] = CONNECTION_PROFILE
    timezone: str = "Europe/Vienna"
    seed: int = 0
    demand: str = "per_slot"
    deferral: str = "within_two"
    stream_defer: int | None = None

    @property
    def defer_rounds(self) -> int:
        """The deferral d (rounds): a transaction published in round p executes in p … p + d."""
        if self.max_defer is not None:
            return self.max_defer
        return DEFERRALS.get(self.deferral, 2)

    @property
    def stream_rounds(self) -> int:
        """Rounds before a session's end in which its EV no longer publishes (``sessions``)."""
        return self.defer_rounds if self.stream_defer is None else self.stream_defer

    def validate(self) -> None:
        """Raise :class:`BadConfigurationError` naming the first out-of-range field."""
        _check(isinstance(self.evs, int) and 1 <= self.evs <= 1_000_000, "evs", self.evs, "1 … 10^6")
        _check(
            isinstance(self.demand, str) and self.demand in DEMAND_MODELS,
            "demand",
            self.demand,
            "one of " + ", ".join(repr(m) for m in DEMAND_MODELS),
        )
        _check(
            isinstance(self.deferral, str) and self.deferral in DEFERRALS,
            "deferral",
            self.deferral,
            "one of " + ", ".join(repr(m) for m in DEFERRALS),
        )
        mix = self.charger_mix
        _check(
            len(mix) == 3 and min(mix) >= 0 and abs(sum(mix) - 1.0) < 1e-9,
            "charger_mix",
            mix,
            "three non-negative probabilities summing to 1",
        )
        lo, hi = self.capacity_kwh
        _check(0 < lo <= hi <= 1000, "capacity_kwh", self.capacity_kwh, "0 < low ≤ high ≤ 1000 kWh")
        _check(0 <= self.min_charge_fraction < 1, "min_charge_fraction", self.min_charge_fraction, "[0, 1)")
        for name in ("v_permille", "varpi_permille"):
            val = getattr(self, name)
            _check(isinstance(val, int) and 1 <= val <= 1000, name, val, "an integer in 1 … 1000")
        _check(0 <= self.charge_share <= 1, "charge_share", self.charge_share, "[0, 1]")
        _check(5 <= self.session_minutes <= 24 * 60, "session_minutes", self.session_minutes, "5 … 1440")
        _check(
            self.max_defer is None
            or (
                isinstance(self.max_defer, int)
                and not isinstance(self.max_defer, bool)
                and 0 <= self.max_defer <= 12
            ),
            "max_defer",
            self.max_defer,
            "None or 0 … 12",
        )
        _check(
            self.max_defer is None or self.deferral != "one_round" or self.max_defer == 1,
            "max_defer",
            self.max_defer,
            "None or 1 with deferral='one_round' (it executes in p or p + 1)",
        )
        d = self.defer_rounds
        _check(
            self.stream_defer is None
            or (
                isinstance(self.stream_defer, int)
                and not isinstance(self.stream_defer, bool)
                and d <= self.stream_defer <= 12
            ),
            "stream_defer",
            self.stream_defer,
            f"None or {d} … 12 (at least the deferral, so nothing is pending when an EV leaves)",
        )
        _check(
            len(self.profile) == 48 and all(0 <= f <= 0.95 for f in self.profile),
            "profile",
            f"{len(self.profile)} values",
            "48 fractions in [0, 0.95]",
        )
        try:
            ZoneInfo(self.timezone)
        except (KeyError, ValueError):
            raise BadConfigurationError(
                f"timezone = {self.timezone!r}: unknown time zone", "timezone", self.timezone
            ) from None


def _check(ok: bool, field: str, value: object, expected: str) -> None:
    if not ok:
        raise BadConfigurationError(f"{field} = {value!r}: expected {expected}", field, value)


@dataclass(frozen=True)
class Fleet:
    """The EVs: one row per EV.

    Attributes
    ----------
    charger_kw
        ``(N,)`` charger rating (kW).
    charger_class
        ``(N,)`` 0 slow, 1 fast, 2 rapid.
    capacity_wh
        ``(N,)`` battery capacity (Wh).
    min_charge_wh
        ``(N,)`` minimum charge χ_min (Wh).
    """

    charger_kw: NDArray[np.float64]
    charger_class: NDArray[np.int8]
    capacity_wh: NDArray[np.int64]
    min_charge_wh: NDArray[np.int64]


def make_fleet(config: FleetConfig) -> Fleet:
    """Draw the fleet of ``config.evs`` EVs (seeded)."""
    config.validate()
    rng = np.random.default_rng([config.seed, 1])
    n = config.evs
    cls = rng.choice(3, size=n, p=np.asarray(config.charger_mix)).astype(np.int8)
    kw = np.empty(n)
    for c, name in enumerate(("slow", "fast", "rapid")):
        sel = cls == c
        kw[sel] = rng.choice(np.asarray(CHARGER_KW[name]), size=int(sel.sum()))
    cap = np.round(rng.uniform(*config.capacity_kwh, size=n) * 1000).astype(np.int64)
    mn = np.round(cap * config.min_charge_fraction).astype(np.int64)
    return Fleet(kw, cls, cap, mn)


@dataclass(frozen=True)
class Transactions:
    """The published transactions, one row each, ordered by round then EV.

    Attributes
    ----------
    round
        ``(n,)`` absolute round index (Unix time // round length) of publication.
    ev
        ``(n,)`` the publishing EV.
    kind
        ``(n,)`` +1 charge (buy, the seed's γ = 1), −1 discharge (sell, γ = 0).
    quantity_wh
        ``(n,)`` energy bought or offered (Wh), > 0.
    price
        ``(n,)`` unit price σ in micro-euro per kWh.
    grid_wh
        ``(n,)`` the transaction's term of Θ (eq. 5), Wh per round: round(v·q) for a
        charge, −round(ϖ·q) for a discharge (thousandths, half up, exact).
    ids
        ``(n, 32)`` uint8 BLAKE3 of each canonical encoding.
    """

    round: NDArray[np.int64]
    ev: NDArray[np.int64]
    kind: NDArray[np.int8]
    quantity_wh: NDArray[np.int64]
    price: NDArray[np.int64]
    grid_wh: NDArray[np.int64]
    ids: NDArray[np.uint8]

    def __len__(self) -> int:
        """Return the number of transactions."""
        return len(self.round)


def grid_term_wh(
    kind: NDArray[np.int8], quantity_wh: NDArray[np.int64], v: int, varpi: int
) -> NDArray[np.int64]:
    """Return the term of Θ (Wh per round) of each transaction: v·q or −ϖ·q, rounded half up."""
    eff = np.where(kind > 0, v, varpi).astype(np.int64)
    return (np.sign(kind).astype(np.int64) * ((eff * quantity_wh + 500) // 1000)).astype(np.int64)


def encode_transactions(
    rounds: NDArray[np.int64],
    ev: NDArray[np.int64],
    kind: NDArray[np.int8],
    quantity_wh: NDArray[np.int64],
    price: NDArray[np.int64],
) -> NDArray[np.uint8]:
    """Canonical 26-byte encodings, one row each.

    Layout (little-endian): ``b"GLEV"``, version 1, EV index u32, kind u8
    (1 charge, 0 discharge: the seed's γ), round u64, quantity Wh u32,
    price µ€/kWh u32.
    """
    n = len(rounds)
    out = np.zeros((n, TX_LEN), dtype=np.uint8)
    out[:, :5] = np.frombuffer(TX_MAGIC, dtype=np.uint8)
    out[:, 5:9] = ev.astype("<u4").view(np.uint8).reshape(n, 4)
    out[:, 9] = (kind > 0).astype(np.uint8)
    out[:, 10:18] = rounds.astype("<u8").view(np.uint8).reshape(n, 8)
    out[:, 18:22] = quantity_wh.astype("<u4").view(np.uint8).reshape(n, 4)
    out[:, 22:26] = price.astype("<u4").view(np.uint8).reshape(n, 4)
    return out


def _arrival_rate(f: NDArray[np.float64], mean_rounds: float) -> NDArray[np.float64]:
    """Per-round connection probability of a disconnected EV so that ≈ f of the fleet is connected."""
    return np.clip(f / (mean_rounds * np.maximum(1.0 - f, 0.05)), 0.0, 1.0)


def local_halfhour(first_round: int, rounds: int, round_minutes: int, timezone: str) -> NDArray[np.int64]:
    """Half-hour of the local day (0 … 47) of each round."""
    tz = ZoneInfo(timezone)
    from datetime import UTC, datetime

    start_s = first_round * round_minutes * 60
    t = start_s + np.arange(rounds, dtype=np.int64) * round_minutes * 60
    # The UTC offset changes at most a few times a year: evaluate it per day.
    days = t // 86400
    offsets: dict[int, int] = {}
    for d in np.unique(days):
        delta = datetime.fromtimestamp(int(d) * 86400 + 43200, UTC).astimezone(tz).utcoffset()
        offsets[int(d)] = int(delta.total_seconds()) if delta is not None else 0
    off = np.array([offsets[int(d)] for d in days], dtype=np.int64)
    return np.asarray(((t + off) % 86400) // 1800, dtype=np.int64)


def make_transactions(
    fleet: Fleet, config: FleetConfig, first_round: int, rounds: int, round_minutes: int
) -> Transactions:
    """Return the stream of transactions published in ``rounds`` rounds from ``first_round`` (seeded).

    ``config.demand`` chooses the model (module docstring): ``per_slot`` draws every round
    afresh, ``sessions`` follows each EV's session and battery.
    """
    config.validate()
    if not isinstance(rounds, int) or rounds <= 0:
        raise BadConfigurationError(f"rounds = {rounds}: must be positive", "rounds", rounds)
    _check(
        isinstance(round_minutes, int) and 1 <= round_minutes <= 1440,
        "round_minutes",
        round_minutes,
        "1 … 1440",
    )
    if config.demand == "per_slot":
        rr, ev, kd, qq = _per_slot_stream(config, first_round, rounds, round_minutes)
        rng = np.random.default_rng([config.seed, 3, first_round, 1])
    else:
        rng = np.random.default_rng([config.seed, 2, first_round])
        rr, ev, kd, qq = _session_stream(fleet, config, first_round, rounds, round_minutes, rng)
    v, w = config.v_permille, config.varpi_permille
    price = np.where(
        kd > 0,
        rng.integers(150_000, 350_001, size=len(rr)),
        rng.integers(200_000, 400_001, size=len(rr)),
    ).astype(np.int64)
    grid = grid_term_wh(kd, qq, v, w)
    ids = (
        hashing.hash_many(encode_transactions(rr, ev, kd, qq, price))
        if len(rr)
        else np.zeros((0, 32), np.uint8)
    )
    return Transactions(rr, ev, kd, qq, price, grid, ids)


_Stream = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int8], NDArray[np.int64]]


def _per_slot_stream(config: FleetConfig, first_round: int, rounds: int, round_minutes: int) -> _Stream:
    """Return the seed's demand: one transaction per connected EV and round.

    Each round, each EV connects with the profile's probability and publishes
    one transaction (rating drawn from the class mix, charge 2 : discharge 1,
    quantity = rating × round in Wh). Rows ordered by round, then EV.
    """
    rng = np.random.default_rng([config.seed, 3, first_round])
    n = config.evs
    p = np.asarray(config.profile)[local_halfhour(first_round, rounds, round_minutes, config.timezone)]
    # Every class's ratings in one table: class c, rating j (NaN where a class has fewer).
    width = max(len(v) for v in CHARGER_KW.values())
    table = np.full((3, width), np.nan)
    for c, name in enumerate(("slow", "fast", "rapid")):
        table[c, : len(CHARGER_KW[name])] = CHARGER_KW[name]
    sizes = np.array([len(CHARGER_KW[name]) for name in ("slow", "fast", "rapid")])
    mix = np.asarray(config.charger_mix)
    out_r, out_ev, out_k, out_q = [], [], [], []
    step = max(1, 4_000_000 // n)  # rounds per chunk: bounded memory for any fleet size
    for a in range(0, rounds, step):
        b = min(a + step, rounds)
        conn = rng.random((b - a, n)) < p[a:b, None]
        r_idx, ev = np.nonzero(conn)  # row-major: round, then EV
        k = len(r_idx)
        cls = rng.choice(3, size=k, p=mix)
        j = np.floor(rng.random(k) * sizes[cls]).astype(np.int64)
        kw = table[cls, j]
        charging = rng.random(k) < config.charge_share
        out_r.append((first_round + a + r_idx).astype(np.int64))
        out_ev.append(ev.astype(np.int64))
        out_k.append(np.where(charging, 1, -1).astype(np.int8))
        out_q.append(np.round(kw * round_minutes / 60 * 1000).astype(np.int64))
    return (
        np.concatenate(out_r),
        np.concatenate(out_ev),
        np.concatenate(out_k),
        np.concatenate(out_q),
    )


def _session_stream(
    fleet: Fleet,
    config: FleetConfig,
    first_round: int,
    rounds: int,
    round_minutes: int,
    rng: np.random.Generator,
) -> _Stream:
    """Return persistent sessions: a fixed charger, state of charge carried across rounds."""
    n = len(fleet.charger_kw)
    d = config.stream_rounds
    mean_rounds = max(config.session_minutes / round_minutes, d + 1.0)
    f = np.asarray(config.profile)[local_halfhour(first_round, rounds, round_minutes, config.timezone)]
    arrive_p = _arrival_rate(f, mean_rounds)
    step_wh = np.round(fleet.charger_kw * round_minutes / 60 * 1000).astype(np.int64)
    v = config.v_permille
    end = np.zeros(n, dtype=np.int64)  # first round after the session (relative)
    kind = np.zeros(n, dtype=np.int8)
    soc = np.zeros(n, dtype=np.int64)  # projected state of charge (Wh)
    out_r, out_ev, out_k, out_q = [], [], [], []
    for r in range(rounds):
        free = end <= r
        start = free & (rng.random(n) < arrive_p[r])
        k = int(start.sum())
        if k:
            idx = np.flatnonzero(start)
            length = d + 1 + rng.geometric(1.0 / max(mean_rounds - d, 1.0), size=k)
            end[idx] = r + length
            charging = rng.random(k) < config.charge_share
            kind[idx] = np.where(charging, 1, -1)
            cap, mn = fleet.capacity_wh[idx], fleet.min_charge_wh[idx]
            lo = np.where(charging, 0.15, 0.55)
            hi = np.where(charging, 0.70, 0.95)
            soc[idx] = np.maximum(np.round(cap * rng.uniform(lo, hi)).astype(np.int64), mn)
        # Connected EVs publish while every transaction can still execute before they leave.
        act = np.flatnonzero(end > r + d)
        if act.size == 0:
            continue
        kk = kind[act]
        head = np.where(
            kk > 0,
            (fleet.capacity_wh[act] - soc[act]) * 1000 // v,
            soc[act] - fleet.min_charge_wh[act],
        )
        q = np.minimum(step_wh[act], head)
        ok = q >= MIN_TX_WH
        act, kk, q = act[ok], kk[ok], q[ok]
        soc[act] += np.where(kk > 0, (v * q + 500) // 1000, -q)
        out_r.append(np.full(act.size, first_round + r, dtype=np.int64))
        out_ev.append(act.astype(np.int64))
        out_k.append(kk)
        out_q.append(q)

    def cat(xs: list[NDArray[Any]], dt: type[np.generic]) -> NDArray[Any]:
        return np.concatenate(xs).astype(dt) if xs else np.zeros(0, dtype=dt)

    return cat(out_r, np.int64), cat(out_ev, np.int64), cat(out_k, np.int8), cat(out_q, np.int64)
