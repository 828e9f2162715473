"""One run's complete, validated parameters (issue 15, item 2).

A :class:`Scenario` names a *workload* (``community``, ``ev``, ``bidding``,
``network`` or ``market``) and every parameter of it. Parameters not given
take the workload's defaults, so the canonical form is complete: two
scenarios that would run the same are equal, serialise to the same canonical
JSON and have the same id.

The id is the first 16 hex digits of BLAKE3 over the canonical JSON and the
gridledger version: results of another version never pass for this one's.
The run's random seed is derived the same way from the scenario less its
design parameters (:data:`DESIGN`, :attr:`Scenario.seed`), so a cell's result
does not depend on which worker runs it or when, and two designs are compared
on the same draws.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from gridledger import _core
from gridledger.errors import BadConfigurationError

__all__ = ["DESIGN", "PARAMS", "WORKLOADS", "Param", "Scenario"]


@dataclass(frozen=True)
class Param:
    """One parameter of a workload: its type, default, allowed values and meaning."""

    kind: type
    default: Any
    allowed: str
    doc: str
    check: Callable[[Any], bool] = field(default=lambda _v: True)


def _choice(*values: str) -> tuple[Callable[[Any], bool], str]:
    return (lambda v: v in values), "one of " + ", ".join(repr(v) for v in values)


def _range(lo: float, hi: float, *, open_lo: bool = False) -> tuple[Callable[[Any], bool], str]:
    def ok(v: Any) -> bool:
        return math.isfinite(v) and (v > lo if open_lo else v >= lo) and v <= hi

    return ok, f"{'>' if open_lo else '≥'} {lo:g} and ≤ {hi:g}"


def _date(v: Any) -> bool:
    try:
        date.fromisoformat(v)
    except (TypeError, ValueError):
        return False
    return True


def _p(kind: type, default: Any, rule: tuple[Callable[[Any], bool], str], doc: str) -> Param:
    return Param(kind, default, rule[1], doc, rule[0])


_DATE = (_date, "an ISO date (YYYY-MM-DD)")
_ANY_TEXT: tuple[Callable[[Any], bool], str] = (lambda v: bool(v), "a non-empty string")
_SEED_DRAW = ("argmax_w_over_u", "proportional")

#: Every workload's parameters. ``load``/``solar`` are a file path that
#: :func:`gridledger.data.read` reads, or ``"bundled"`` (Austria 2019).
PARAMS: dict[str, dict[str, Param]] = {
    "community": {
        "members": _p(int, 50, _range(1, 100_000), "members (households)"),
        "pv_units": _p(int, 10, _range(0, 20_000), "PV units of the VPP"),
        "kwp": _p(float, 10.0, _range(0, 10_000, open_lo=True), "kWp per PV unit"),
        "v_wh": _p(int, 100, _range(1, 1_000_000), "cryptometer quantum V (Wh)"),
        "period_minutes": _p(
            int, 15, (lambda v: v in (5, 15, 30, 60), "one of 5, 15, 30, 60"), "market period"
        ),
        "repartition": _p(str, "pro_rata", _choice("pro_rata", "equal"), "VPP repartition rule"),
        "consensus": _p(str, "auction", _choice("auction", "round_robin"), "block producer rule"),
        "draw": _p(str, "argmax_w_over_u", _choice(*_SEED_DRAW), "auction draw rule"),
        "market": _p(str, "none", _choice("none", "call", "cda", "mcp"), "local market of surplus"),
        "days": _p(float, 7.0, _range(0, 366, open_lo=True), "length of the run (days)"),
        "start": _p(str, "2019-06-03", _DATE, "first day (UTC)"),
        "load": _p(str, "bundled", _ANY_TEXT, "load file, or 'bundled'"),
        "area": _p(str, "AT", _ANY_TEXT, "area of the load series"),
        "solar": _p(str, "bundled", _ANY_TEXT, "solar file, or 'bundled'"),
        "solar_area": _p(str, "AT", _ANY_TEXT, "area of the solar series"),
        "algorithm": _p(str, "blake3", _choice("blake3", "sha256"), "the chain's hash"),
        "bid_probability": _p(float, 0.3, _range(0, 1), "chance a token holder stands"),
        "grid": _p(str, "none", _ANY_TEXT, "'none', 'radial' (a generated feeder) or a feeder TOML file"),
        "grid_legs": _p(int, 4, _range(1, 64), "cables out of the transformer of a 'radial' feeder"),
        "grid_line": _p(str, "NAYY 4x150 SE", _ANY_TEXT, "line type of a 'radial' feeder"),
        "grid_span_m": _p(float, 30.0, _range(0, 10_000, open_lo=True), "line length per bus (m), 'radial'"),
        "fee_bus": _p(int, 0, _range(0, 1_000_000), "grid fee within a bus (m€/kWh)"),
        "fee_feeder": _p(int, 0, _range(0, 1_000_000), "grid fee along a feeder leg (m€/kWh)"),
        "fee_transformer": _p(int, 0, _range(0, 1_000_000), "grid fee through the transformer (m€/kWh)"),
        "congestion": _p(bool, False, ((lambda v: True), "true or false"), "curtail trades that overload"),
        "hosting": _p(bool, False, ((lambda v: True), "true or false"), "search the PV hosting capacity"),
    },
    "ev": {
        "households": _p(int, 200, _range(1, 1_000_000), "households"),
        "capacity_kw": _p(float, 800.0, _range(0, 1e9, open_lo=True), "feeder capacity (kW)"),
        "evs": _p(int, 100, _range(0, 1_000_000), "EVs"),
        "round_minutes": _p(int, 5, (lambda v: v in (1, 2, 5, 10, 15, 30, 60), "a divisor of 60"), "round"),
        "days": _p(int, 1, _range(1, 366), "days"),
        "scheduler": _p(
            str, "optimal", _choice("none", "greedy", "optimal", "receding_horizon"), "scheduler"
        ),
        "start": _p(str, "2019-01-01", _DATE, "first day (UTC)"),
        "load": _p(str, "bundled", _ANY_TEXT, "load file, or 'bundled'"),
        "area": _p(str, "AT", _ANY_TEXT, "area of the load series"),
        "bound": _p(bool, False, ((lambda v: True), "true or false"), "also solve the offline QP bound"),
    },
    "bidding": {
        "scenario": _p(str, "sc1", _choice("sc1", "sc2", "sc3", "sc4"), "seed 000's scenario"),
        "rule": _p(str, "argmax_w_over_u", _choice(*_SEED_DRAW), "draw rule"),
        "miner_rule": _p(
            str,
            "previous_winner",
            _choice("previous_winner", "all_bid"),
            "who bids (seed 000 as SPEC §3 reads it)",
        ),
        "turns": _p(int, 1000, _range(1, 10_000_000), "turns"),
        "alpha": _p(float, 0.3, _range(0, 1), "weight of tokens offered"),
        "beta": _p(float, 0.6, _range(0, 1), "weight of age"),
        "gamma": _p(float, 0.1, _range(0, 1), "weight of reputation"),
    },
    "network": {
        "nodes": _p(int, 7, _range(3, 1000), "nodes (members)"),
        "units": _p(int, 2, _range(1, 1000), "PV units"),
        "periods": _p(int, 24, _range(1, 100_000), "market periods"),
        "latency_min_ms": _p(float, 20.0, _range(0, 1e6), "shortest message delay (ms)"),
        "latency_max_ms": _p(float, 400.0, _range(0, 1e6), "longest message delay (ms)"),
        "loss": _p(float, 0.0, _range(0, 1), "message loss probability"),
        "bid_probability": _p(float, 0.8, _range(0, 1), "chance a token holder stands"),
        "draw": _p(str, "argmax_w_over_u", _choice(*_SEED_DRAW), "auction draw rule"),
        "adversary": _p(
            str, "none", _choice("none", "withhold", "equivocate", "vpp_double_spend"), "who misbehaves"
        ),
    },
    "market": {
        "mechanism": _p(str, "call", _choice("call", "cda", "mcp"), "market mechanism"),
        # Pro rata gives every member the same share of its own consumption, so all
        # are in surplus or all in deficit and nobody trades: equal shares by default.
        "repartition": _p(str, "equal", _choice("pro_rata", "equal"), "VPP repartition rule"),
        "members": _p(int, 50, _range(2, 100_000), "members"),
        "pv_units": _p(int, 10, _range(1, 20_000), "PV units"),
        "kwp": _p(float, 10.0, _range(0, 10_000, open_lo=True), "kWp per PV unit"),
        "days": _p(float, 1.0, _range(0, 366, open_lo=True), "length of the run (days)"),
        "start": _p(str, "2019-06-03", _DATE, "first day (UTC)"),
        "load": _p(str, "bundled", _ANY_TEXT, "load file, or 'bundled'"),
        "area": _p(str, "AT", _ANY_TEXT, "area of the load series"),
        "solar": _p(str, "bundled", _ANY_TEXT, "solar file, or 'bundled'"),
        "solar_area": _p(str, "AT", _ANY_TEXT, "area of the solar series"),
    },
}

WORKLOADS = tuple(PARAMS)

#: The design under comparison in each workload: parameters left out of the
#: seed, so that cells that differ only in them run on the same community,
#: fleet, game or network (common random numbers: a paired comparison).
DESIGN: dict[str, frozenset[str]] = {
    "community": frozenset(
        {
            "consensus",
            "draw",
            "market",
            "repartition",
            "algorithm",
            "bid_probability",
            *(
                "grid",
                "grid_legs",
                "grid_line",
                "grid_span_m",
                "fee_bus",
                "fee_feeder",
                "fee_transformer",
                "congestion",
                "hosting",
            ),
        }
    ),
    "ev": frozenset({"scheduler", "bound", "deferral"}),
    "bidding": frozenset({"rule", "miner_rule"}),
    "network": frozenset({"draw", "adversary"}),
    "market": frozenset({"mechanism", "repartition"}),
}


def _coerce(workload: str, name: str, p: Param, value: Any, where: str) -> Any:
    """``value`` as the parameter's type, exactly (an int stays an int; 2.0 may be an int)."""
    bad = BadConfigurationError(
        f"{where}{workload}.{name} must be {p.kind.__name__} {p.allowed}, got {value!r}", name, value
    )
    if p.kind is bool:
        if not isinstance(value, bool):
            raise bad
        return value
    if isinstance(value, bool):
        raise bad
    if p.kind is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise bad
    elif p.kind is float:
        if not isinstance(value, int | float):
            raise bad
        value = float(value)
    elif p.kind is str and not isinstance(value, str):
        raise bad
    if not p.check(value):
        raise bad
    return value


@dataclass(frozen=True)
class Scenario:
    """A workload and all its parameters, validated.

    Parameters
    ----------
    workload
        One of :data:`WORKLOADS`.
    params
        Parameters of the workload (see :data:`PARAMS`); missing ones take
        their defaults, unknown ones are an error.
    replicate
        Index of the repetition (0 … seeds − 1 of a study); it enters the id,
        and so the seed.
    where
        Context for error messages (the study file and cell); not part of
        the scenario.

    Raises
    ------
    BadConfigurationError
        An unknown workload or parameter (naming the allowed ones), a value
        of the wrong type or out of range.
    """

    workload: str
    params: Mapping[str, Any]
    replicate: int = 0

    def __init__(
        self, workload: str, params: Mapping[str, Any] | None = None, replicate: int = 0, where: str = ""
    ) -> None:
        if workload not in PARAMS:
            raise BadConfigurationError(
                f"{where}unknown workload {workload!r}: use one of {', '.join(WORKLOADS)}",
                "workload",
                workload,
            )
        spec = PARAMS[workload]
        given = dict(params or {})
        unknown = sorted(set(given) - set(spec))
        if unknown:
            raise BadConfigurationError(
                f"{where}unknown {workload} parameter {unknown[0]!r}: allowed are {', '.join(spec)}",
                unknown[0],
                given[unknown[0]],
            )
        full = {k: _coerce(workload, k, p, given.get(k, p.default), where) for k, p in spec.items()}
        if workload == "network" and full["latency_min_ms"] > full["latency_max_ms"]:
            raise BadConfigurationError(
                f"{where}network.latency_min_ms must be ≤ latency_max_ms, got "
                f"{full['latency_min_ms']} > {full['latency_max_ms']}",
                "latency_min_ms",
                full["latency_min_ms"],
            )
        if not (isinstance(replicate, int) and not isinstance(replicate, bool) and 0 <= replicate < 2**31):
            raise BadConfigurationError(
                f"{where}replicate must be an int ≥ 0, got {replicate!r}", "replicate", replicate
            )
        object.__setattr__(self, "workload", workload)
        object.__setattr__(self, "params", dict(sorted(full.items())))
        object.__setattr__(self, "replicate", replicate)

    def canonical(self) -> str:
        """Canonical JSON: sorted keys, no spaces, every parameter present."""
        return json.dumps(
            {"workload": self.workload, "params": dict(self.params), "replicate": self.replicate},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=True,
        )

    @property
    def id(self) -> str:
        """16 hex digits of BLAKE3(canonical JSON, gridledger version)."""
        digest = _core.hash_one(f"gridledger {_core.__version__} {self.canonical()}".encode(), "blake3")
        return bytes(digest).hex()[:16]

    @property
    def seed(self) -> int:
        """The run's seed (< 2^31, so every seeded API takes it).

        It is derived like the id, from the canonical form without the
        workload's :data:`DESIGN` parameters: cells that differ only in the
        design compared (draw rule, mechanism, scheduler, …) get the same seed
        and so the same community, fleet or game.
        """
        world = {k: v for k, v in self.params.items() if k not in DESIGN[self.workload]}
        text = json.dumps(
            {"workload": self.workload, "params": world, "replicate": self.replicate},
            sort_keys=True,
            separators=(",", ":"),
        )
        digest = _core.hash_one(f"gridledger {_core.__version__} seed {text}".encode(), "blake3")
        return int.from_bytes(bytes(digest)[:4], "little") & 0x7FFF_FFFF

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        """Return the scenario of a canonical JSON text."""
        d = json.loads(text)
        return cls(d["workload"], d["params"], d.get("replicate", 0))

    def __hash__(self) -> int:
        """Hash the canonical JSON, so equal scenarios hash equal."""
        return hash(self.canonical())

    def __eq__(self, other: object) -> bool:
        """Whether ``other`` is a scenario with the same canonical JSON."""
        return isinstance(other, Scenario) and self.canonical() == other.canonical()
