"""The radial LV feeder under a community (SPEC §11, docs/grid.md "Model").

A :class:`Feeder` is one MV/LV transformer, the buses on its LV side and the
lines between them, with the community's members, PV units and EV chargers
placed on buses. It is immutable and validated when made: a loop, a bus with
no path to the transformer, a non-positive impedance or ampacity, a duplicate
name or an element on an unknown bus raises a typed
:class:`~gridledger.errors.GridError` naming the element, before anything is
built.

Indices: bus 0 is the transformer's LV bus, the other buses follow in the
order given; the HV bus (the slack) is not among the buses. Line ``l`` is
``lines[l]``; every line is oriented from the transformer outward by
:attr:`Feeder.parent` / :attr:`Feeder.parent_line`, whatever its
``from_bus``/``to_bus`` order.
"""

from __future__ import annotations

import math
import numbers
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from gridledger.errors import (
    BadElementError,
    DisconnectedBusError,
    InvalidArgumentError,
    MeshedNetworkError,
    UnknownBusError,
)

__all__ = ["Bus", "Distance", "Feeder", "Line", "Transformer"]

Distance = Literal["bus", "feeder", "transformer"]


def _name(kind: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise BadElementError(f"{kind}.name = {value!r}: a non-empty string expected", f"{kind}.name", value)
    return value


def _number(element: str, field: str, value: object, *, positive: bool = True) -> float:
    """``value`` as a finite float, > 0 (``positive``) or ≥ 0, else BadElementError naming it."""
    where = f"{element}.{field}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise BadElementError(f"{where} = {value!r}: a number expected", where, value)
    v = float(value)
    if not math.isfinite(v) or (v <= 0.0 if positive else v < 0.0):
        bound = "> 0" if positive else "≥ 0"
        raise BadElementError(f"{where} = {v}: must be finite and {bound}", where, v)
    return v


@dataclass(frozen=True)
class Bus:
    """A bus (node) of the LV feeder.

    Parameters
    ----------
    name
        Unique name.
    vn_kv
        Nominal phase-to-phase voltage (kV); every bus of a feeder has the same.
    """

    name: str
    vn_kv: float = 0.4

    def __post_init__(self) -> None:
        """Check every field; BadElementError names the first bad one."""
        _name("bus", self.name)
        object.__setattr__(self, "vn_kv", _number(f"buses[{self.name!r}]", "vn_kv", self.vn_kv))


@dataclass(frozen=True)
class Line:
    """A three-phase line (cable or overhead), the π model.

    Parameters
    ----------
    name
        Unique name.
    from_bus, to_bus
        The buses it joins (either may be the one nearer the transformer).
    r_ohm, x_ohm
        Total series resistance and reactance (Ω per phase, > 0).
    max_i_a
        Ampacity (A, > 0): :attr:`PowerFlowResult.line_loading` is the current over it.
    c_nf
        Total shunt capacitance (nF per phase, ≥ 0), half at each end; 0 by default.
    """

    name: str
    from_bus: str
    to_bus: str
    r_ohm: float
    x_ohm: float
    max_i_a: float
    c_nf: float = 0.0

    def __post_init__(self) -> None:
        """Check every field; BadElementError names the first bad one."""
        _name("line", self.name)
        el = f"lines[{self.name!r}]"
        for f in ("from_bus", "to_bus"):
            v = getattr(self, f)
            if not isinstance(v, str) or not v:
                raise BadElementError(f"{el}.{f} = {v!r}: a bus name expected", f"{el}.{f}", v)
        if self.from_bus == self.to_bus:
            raise MeshedNetworkError(
                f"{el}: joins bus {self.from_bus!r} to itself", f"{el}.to_bus", self.to_bus
            )
        for f in ("r_ohm", "x_ohm", "max_i_a"):
            object.__setattr__(self, f, _number(el, f, getattr(self, f)))
        object.__setattr__(self, "c_nf", _number(el, "c_nf", self.c_nf, positive=False))


@dataclass(frozen=True)
class Transformer:
    """The MV/LV transformer, pandapower's two-winding model (tap at neutral).

    Parameters
    ----------
    name
        Name.
    hv_bus
        Name of the HV (slack) bus; it is not one of the feeder's buses.
    lv_bus
        Name of the LV bus: bus 0 of the feeder.
    sn_kva
        Rated apparent power (kVA, > 0).
    vn_hv_kv, vn_lv_kv
        Rated voltages (kV, > 0); the HV bus's nominal voltage is ``vn_hv_kv``.
    vk_percent
        Short-circuit voltage (% , > 0).
    vkr_percent
        Its real part (%, 0 < vkr ≤ vk): the copper losses at rated current.
    pfe_kw
        Iron (no-load) losses (kW, ≥ 0).
    i0_percent
        No-load current (% of rated, ≥ 0); with ``pfe_kw`` the magnetising branch.
    shift_degree
        Voltage-angle shift of the LV side behind the slack (degrees; 150 for
        Dyn5). It only offsets :attr:`PowerFlowResult.va_deg`; magnitudes and
        losses do not depend on it.
    """

    name: str
    hv_bus: str
    lv_bus: str
    sn_kva: float
    vn_hv_kv: float
    vn_lv_kv: float
    vk_percent: float
    vkr_percent: float
    pfe_kw: float = 0.0
    i0_percent: float = 0.0
    shift_degree: float = 0.0

    def __post_init__(self) -> None:
        """Check every field; BadElementError names the first bad one."""
        _name("transformer", self.name)
        el = f"transformer[{self.name!r}]"
        for f in ("hv_bus", "lv_bus"):
            v = getattr(self, f)
            if not isinstance(v, str) or not v:
                raise BadElementError(f"{el}.{f} = {v!r}: a bus name expected", f"{el}.{f}", v)
        if self.hv_bus == self.lv_bus:
            raise BadElementError(
                f"{el}: hv_bus and lv_bus are both {self.hv_bus!r}", f"{el}.hv_bus", self.hv_bus
            )
        for f in ("sn_kva", "vn_hv_kv", "vn_lv_kv", "vk_percent", "vkr_percent"):
            object.__setattr__(self, f, _number(el, f, getattr(self, f)))
        for f in ("pfe_kw", "i0_percent"):
            object.__setattr__(self, f, _number(el, f, getattr(self, f), positive=False))
        if self.vkr_percent > self.vk_percent:
            raise BadElementError(
                f"{el}.vkr_percent = {self.vkr_percent}: exceeds vk_percent = {self.vk_percent}",
                f"{el}.vkr_percent",
                self.vkr_percent,
            )
        sd = self.shift_degree
        if isinstance(sd, bool) or not isinstance(sd, numbers.Real) or not math.isfinite(float(sd)):
            raise BadElementError(
                f"{el}.shift_degree = {sd!r}: a finite number expected", f"{el}.shift_degree", sd
            )
        object.__setattr__(self, "shift_degree", float(sd))


def _placements(
    kind: str, given: Mapping[str, str] | None, index: Mapping[str, int]
) -> MappingProxyType[str, str]:
    if given is None:
        return MappingProxyType({})
    if not isinstance(given, Mapping):
        raise InvalidArgumentError(
            f"{kind}: a mapping label -> bus name expected, not {type(given).__name__}",
            kind,
            type(given).__name__,
        )
    out: dict[str, str] = {}
    for label, bus in given.items():
        if not isinstance(label, str) or not label:
            raise InvalidArgumentError(f"{kind}: label {label!r} is not a non-empty string", kind, label)
        if not isinstance(bus, str) or bus not in index:
            raise UnknownBusError(
                f"{kind}[{label!r}] = {bus!r}: no such bus on the feeder", f"{kind}[{label!r}]", bus
            )
        out[label] = bus
    return MappingProxyType(out)


def _frozen(a: NDArray[Any]) -> NDArray[Any]:
    a.setflags(write=False)
    return a


class Feeder:
    """A radial LV feeder with the community's elements placed on its buses.

    Parameters
    ----------
    buses
        The buses; the transformer's LV bus becomes bus 0, the others keep their order.
    lines
        The lines; together they must form a tree over the buses.
    transformer
        The MV/LV transformer.
    slack_vm_pu
        Voltage magnitude of the HV (slack) bus (p.u. of ``transformer.vn_hv_kv``).
    members, units, chargers
        Member, PV-unit and EV-charger label -> bus name. ``members`` keeps the
        community's member order (:attr:`member_bus` follows it).
    f_hz
        System frequency (Hz), for the lines' capacitance.

    Raises
    ------
    MeshedNetworkError
        A line closes a loop (or doubles another).
    DisconnectedBusError
        A bus has no path to the transformer's LV bus.
    BadElementError
        A duplicate name, a non-positive impedance/ampacity, buses of unequal ``vn_kv``.
    UnknownBusError
        A line, the transformer or a placed element names an unknown bus.
    """

    __slots__ = (
        "_bus_index",
        "_first_leg",
        "_incidence",
        "_line_index",
        "buses",
        "charger_bus",
        "chargers",
        "f_hz",
        "lines",
        "member_bus",
        "members",
        "parent",
        "parent_line",
        "slack_vm_pu",
        "transformer",
        "unit_bus",
        "units",
    )

    buses: tuple[Bus, ...]
    lines: tuple[Line, ...]
    transformer: Transformer
    slack_vm_pu: float
    f_hz: float
    members: Mapping[str, str]
    units: Mapping[str, str]
    chargers: Mapping[str, str]
    parent: NDArray[np.int64]
    """``(B,)`` parent bus of each bus (-1 for bus 0)."""
    parent_line: NDArray[np.int64]
    """``(B,)`` the line that feeds each bus (-1 for bus 0)."""
    member_bus: NDArray[np.int64]
    """``(M,)`` bus of each member, in the order of ``members``."""
    unit_bus: NDArray[np.int64]
    """``(U,)`` bus of each PV unit, in the order of ``units``."""
    charger_bus: NDArray[np.int64]
    """``(C,)`` bus of each EV charger, in the order of ``chargers``."""
    _bus_index: Mapping[str, int]
    _line_index: Mapping[str, int]
    _first_leg: NDArray[np.int64]
    _incidence: NDArray[np.int8]

    def __init__(
        self,
        buses: tuple[Bus, ...] | list[Bus],
        lines: tuple[Line, ...] | list[Line],
        transformer: Transformer,
        *,
        slack_vm_pu: float = 1.0,
        members: Mapping[str, str] | None = None,
        units: Mapping[str, str] | None = None,
        chargers: Mapping[str, str] | None = None,
        f_hz: float = 50.0,
    ) -> None:
        set_ = object.__setattr__
        if not isinstance(transformer, Transformer):
            raise BadElementError(
                f"transformer: a Transformer expected, not {type(transformer).__name__}",
                "transformer",
                type(transformer).__name__,
            )
        bus_list = list(buses)
        line_list = list(lines)
        for i, obj in enumerate(bus_list):
            if not isinstance(obj, Bus):
                raise BadElementError(
                    f"buses[{i}]: a Bus expected, not {type(obj).__name__}", f"buses[{i}]", str(obj)
                )
        for i, ln in enumerate(line_list):
            if not isinstance(ln, Line):
                raise BadElementError(
                    f"lines[{i}]: a Line expected, not {type(ln).__name__}", f"lines[{i}]", ln
                )
        if not bus_list:
            raise BadElementError("buses: a feeder needs at least its LV bus", "buses", 0)
        names = [bus_.name for bus_ in bus_list]
        dup = next((n for i, n in enumerate(names) if n in names[:i]), None)
        if dup is not None:
            raise BadElementError(f"buses: the name {dup!r} is used twice", "buses", dup)
        line_names = [ln.name for ln in line_list]
        dup = next((n for i, n in enumerate(line_names) if n in line_names[:i]), None)
        if dup is not None:
            raise BadElementError(f"lines: the name {dup!r} is used twice", "lines", dup)
        tr = transformer
        el = f"transformer[{tr.name!r}]"
        if tr.lv_bus not in names:
            raise UnknownBusError(f"{el}.lv_bus = {tr.lv_bus!r}: no such bus", f"{el}.lv_bus", tr.lv_bus)
        if tr.hv_bus in names:
            raise BadElementError(
                f"{el}.hv_bus = {tr.hv_bus!r}: the HV (slack) bus must not be one of the feeder's buses",
                f"{el}.hv_bus",
                tr.hv_bus,
            )
        lv = names.index(tr.lv_bus)
        bus_list.insert(0, bus_list.pop(lv))
        vn = bus_list[0].vn_kv
        for bus_ in bus_list:
            if bus_.vn_kv != vn:
                raise BadElementError(
                    f"buses[{bus_.name!r}].vn_kv = {bus_.vn_kv}: all buses must have the LV bus's {vn} kV",
                    f"buses[{bus_.name!r}].vn_kv",
                    bus_.vn_kv,
                )
        index = {b.name: i for i, b in enumerate(bus_list)}
        n = len(bus_list)
        adj: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        for li, ln in enumerate(line_list):
            for end in ("from_bus", "to_bus"):
                name = getattr(ln, end)
                if name not in index:
                    raise UnknownBusError(
                        f"lines[{ln.name!r}].{end} = {name!r}: no such bus", f"lines[{ln.name!r}].{end}", name
                    )
            a, b = index[ln.from_bus], index[ln.to_bus]
            adj[a].append((b, li))
            adj[b].append((a, li))
        # a loop: the first line, in the order given, whose buses are joined already
        root = list(range(n))

        def find(i: int) -> int:
            while root[i] != i:
                root[i] = root[root[i]]
                i = root[i]
            return i

        for ln in line_list:
            a, b = find(index[ln.from_bus]), find(index[ln.to_bus])
            if a == b:
                raise MeshedNetworkError(
                    f"lines[{ln.name!r}] ({ln.from_bus!r} - {ln.to_bus!r}) closes a loop: "
                    "a radial feeder is required",
                    f"lines[{ln.name!r}]",
                    ln.name,
                )
            root[a] = b
        parent = np.full(n, -1, dtype=np.int64)
        parent_line = np.full(n, -1, dtype=np.int64)
        seen = np.zeros(n, dtype=bool)
        seen[0] = True
        stack = [0]
        while stack:
            u = stack.pop()
            for v, li in adj[u]:
                if not seen[v]:
                    seen[v] = True
                    parent[v] = u
                    parent_line[v] = li
                    stack.append(v)
        if not seen.all():
            lost = bus_list[int(np.flatnonzero(~seen)[0])].name
            raise DisconnectedBusError(
                f"buses[{lost!r}]: no path to the transformer's LV bus {tr.lv_bus!r}",
                f"buses[{lost!r}]",
                lost,
            )
        # first line out of bus 0 on each bus's path: the feeder leg
        first = np.full(n, -1, dtype=np.int64)
        incidence = np.zeros((len(line_list), n), dtype=np.int8)
        for v in self._order(parent):
            if v == 0:
                continue
            p = int(parent[v])
            first[v] = parent_line[v] if p == 0 else first[p]
            if p != 0:
                incidence[:, v] = incidence[:, p]
            incidence[parent_line[v], v] = 1
        slack = _number("feeder", "slack_vm_pu", slack_vm_pu)
        freq = _number("feeder", "f_hz", f_hz)
        m_map = _placements("members", members, index)
        u_map = _placements("units", units, index)
        c_map = _placements("chargers", chargers, index)
        set_(self, "buses", tuple(bus_list))
        set_(self, "lines", tuple(line_list))
        set_(self, "transformer", tr)
        set_(self, "slack_vm_pu", slack)
        set_(self, "f_hz", freq)
        set_(self, "members", m_map)
        set_(self, "units", u_map)
        set_(self, "chargers", c_map)
        set_(self, "_bus_index", MappingProxyType(index))
        set_(self, "_line_index", MappingProxyType({ln.name: i for i, ln in enumerate(line_list)}))
        set_(self, "parent", _frozen(parent))
        set_(self, "parent_line", _frozen(parent_line))
        set_(self, "_first_leg", _frozen(first))
        set_(self, "_incidence", _frozen(incidence))
        for attr, mp in (("member_bus", m_map), ("unit_bus", u_map), ("charger_bus", c_map)):
            set_(self, attr, _frozen(np.array([index[b] for b in mp.values()], dtype=np.int64)))

    @staticmethod
    def _order(parent: NDArray[np.int64]) -> list[int]:
        """Buses with every parent before its children (breadth first from bus 0)."""
        children: list[list[int]] = [[] for _ in range(len(parent))]
        for v in range(1, len(parent)):
            children[int(parent[v])].append(v)
        out, i = [0], 0
        while i < len(out):
            out.extend(children[out[i]])
            i += 1
        return out

    def __setattr__(self, name: str, value: object) -> None:
        """Refuse: a feeder is immutable."""
        raise AttributeError(f"Feeder is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        """Refuse: a feeder is immutable."""
        raise AttributeError(f"Feeder is immutable: cannot delete {name!r}")

    def __repr__(self) -> str:
        """Summarise the feeder: its sizes and transformer."""
        return (
            f"Feeder({self.n_buses} buses, {self.n_lines} lines, transformer {self.transformer.name!r} "
            f"{self.transformer.sn_kva:g} kVA, {len(self.members)} members, {len(self.units)} units, "
            f"{len(self.chargers)} chargers)"
        )

    def __eq__(self, other: object) -> bool:
        """Compare as plain data (:meth:`to_dict`)."""
        if not isinstance(other, Feeder):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        """Hash the elements."""
        return hash((self.buses, self.lines, self.transformer))

    @property
    def n_buses(self) -> int:
        """Number of buses ``B`` (the HV bus not counted)."""
        return len(self.buses)

    @property
    def n_lines(self) -> int:
        """Number of lines ``L`` (``B - 1``: the feeder is a tree)."""
        return len(self.lines)

    @property
    def incidence(self) -> NDArray[np.int8]:
        """``(L, B)`` int8: 1 where line ``l`` is on the path from bus 0 to bus ``b``."""
        return self._incidence

    def bus_index(self, name: str) -> int:
        """Index of the bus called ``name``; UnknownBusError if there is none."""
        i = self._bus_index.get(name) if isinstance(name, str) else None
        if i is None:
            raise UnknownBusError(f"bus {name!r}: no such bus on the feeder", "bus", name)
        return i

    def line_index(self, name: str) -> int:
        """Index of the line called ``name``; BadElementError if there is none."""
        i = self._line_index.get(name) if isinstance(name, str) else None
        if i is None:
            raise BadElementError(f"line {name!r}: no such line on the feeder", "line", name)
        return i

    def _check_bus(self, field: str, bus: object) -> int:
        if isinstance(bus, bool) or not isinstance(bus, numbers.Integral) or not 0 <= int(bus) < self.n_buses:
            raise UnknownBusError(
                f"{field} = {bus!r}: a bus index in 0..{self.n_buses - 1} expected", field, bus
            )
        return int(bus)

    def path_lines(self, bus: int) -> NDArray[np.int64]:
        """Return the indices of the lines from bus 0 down to ``bus``, nearest the transformer first."""
        b = self._check_bus("bus", bus)
        out: list[int] = []
        while b != 0:
            out.append(int(self.parent_line[b]))
            b = int(self.parent[b])
        return np.array(out[::-1], dtype=np.int64)

    def distance(self, a: int, b: int) -> Distance:
        """Electrical distance class between buses ``a`` and ``b`` (grid fees, docs/grid.md).

        Returns
        -------
        ``"bus"`` for the same bus; ``"feeder"`` when both lie below the same
        first line out of bus 0 (one LV feeder leg); ``"transformer"`` when
        the path between them runs through bus 0, the transformer's LV bus.
        """
        i = self._check_bus("a", a)
        j = self._check_bus("b", b)
        if i == j:
            return "bus"
        if i != 0 and j != 0 and self._first_leg[i] == self._first_leg[j]:
            return "feeder"
        return "transformer"

    def injections(
        self,
        member_w: NDArray[np.float64],
        unit_w: NDArray[np.float64] | None = None,
        charger_w: NDArray[np.float64] | None = None,
        power_factor: float = 1.0,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Per-bus net injections from the placed elements' net injections.

        Parameters
        ----------
        member_w
            ``(T, M)`` members' net injection (W; consumption negative), in the order of ``members``.
        unit_w
            ``(T, U)`` PV units' injection (W, generation positive), or None.
        charger_w
            ``(T, C)`` EV chargers' net injection (W, charging negative), or None.
        power_factor
            Power factor (0 < pf ≤ 1) of every element while it draws power
            (negative injection): its reactive injection is ``p·tan(acos pf)``
            (also negative, inductive); an element that injects has q = 0.

        Returns
        -------
        p_w, q_var
            ``(T, B)`` active (W) and reactive (var) net injection per bus.
        """
        pf = power_factor
        if isinstance(pf, bool) or not isinstance(pf, numbers.Real) or not 0.0 < float(pf) <= 1.0:
            raise InvalidArgumentError(f"power_factor = {pf!r}: must lie in (0, 1]", "power_factor", pf)
        tan = math.tan(math.acos(float(pf)))
        parts = [("member_w", member_w, self.member_bus)]
        if unit_w is not None:
            parts.append(("unit_w", unit_w, self.unit_bus))
        elif len(self.units):
            raise InvalidArgumentError(
                f"unit_w: the feeder places {len(self.units)} PV units; pass their injections", "unit_w", None
            )
        if charger_w is not None:
            parts.append(("charger_w", charger_w, self.charger_bus))
        elif len(self.chargers):
            raise InvalidArgumentError(
                f"charger_w: the feeder places {len(self.chargers)} chargers; pass their injections",
                "charger_w",
                None,
            )
        t: int | None = None
        p = q = np.zeros((0, self.n_buses))
        for field, arr, where in parts:
            a = _float_2d(field, arr, len(where))
            if t is None:
                t = a.shape[0]
                p = np.zeros((t, self.n_buses))
                q = np.zeros((t, self.n_buses))
            elif a.shape[0] != t:
                raise InvalidArgumentError(
                    f"{field}: {a.shape[0]} periods, member_w has {t}", field, f"shape {a.shape}"
                )
            for k, bus in enumerate(where):
                col = a[:, k]
                p[:, bus] += col
                if tan:
                    q[:, bus] += np.where(col < 0.0, col * tan, 0.0)
        return p, q

    # ---- serialisation ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return the feeder as plain data (what :meth:`from_dict` and :meth:`from_toml` read)."""
        return {
            "slack_vm_pu": self.slack_vm_pu,
            "f_hz": self.f_hz,
            "transformer": asdict(self.transformer),
            "buses": [asdict(b) for b in self.buses],
            "lines": [asdict(ln) for ln in self.lines],
            "members": dict(self.members),
            "units": dict(self.units),
            "chargers": dict(self.chargers),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Feeder:
        """Make a feeder from plain data: ``transformer`` (table), ``buses`` and ``lines`` (tables).

        Optional: ``slack_vm_pu``, ``f_hz``, and the ``members``/``units``/``chargers``
        tables (label = bus name). Unknown keys raise BadElementError naming them.
        """
        if not isinstance(d, Mapping):
            raise InvalidArgumentError(
                f"feeder: a mapping expected, not {type(d).__name__}", "feeder", type(d).__name__
            )
        known = {"transformer", "buses", "lines", "slack_vm_pu", "f_hz", "members", "units", "chargers"}
        extra = sorted(set(d) - known)
        if extra:
            raise BadElementError(
                f"feeder: unknown key {extra[0]!r} (known: {sorted(known)})", "feeder", extra[0]
            )
        for key in ("transformer", "buses", "lines"):
            if key not in d:
                raise BadElementError(f"feeder: the key {key!r} is missing", f"feeder.{key}", None)
        tr = _element(Transformer, "transformer", d["transformer"])
        if not isinstance(d["buses"], list | tuple):
            raise BadElementError(
                "feeder.buses: a list of tables expected", "feeder.buses", type(d["buses"]).__name__
            )
        if not isinstance(d["lines"], list | tuple):
            raise BadElementError(
                "feeder.lines: a list of tables expected", "feeder.lines", type(d["lines"]).__name__
            )
        buses = [_element(Bus, f"buses[{i}]", b) for i, b in enumerate(d["buses"])]
        lines = [_element(Line, f"lines[{i}]", ln) for i, ln in enumerate(d["lines"])]
        return cls(
            buses,
            lines,
            tr,
            slack_vm_pu=d.get("slack_vm_pu", 1.0),
            f_hz=d.get("f_hz", 50.0),
            members=d.get("members"),
            units=d.get("units"),
            chargers=d.get("chargers"),
        )

    @classmethod
    def from_toml(cls, path: str | Path) -> Feeder:
        """Make a feeder from a TOML file laid out as :meth:`from_dict` reads (docs/grid.md)."""
        p = Path(path)
        try:
            d = tomllib.loads(p.read_text(encoding="utf-8"))
        except OSError as e:
            raise InvalidArgumentError(f"path = {str(p)!r}: cannot read it ({e})", "path", str(p)) from e
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise BadElementError(f"{p}: not valid TOML ({e})", "path", str(p)) from e
        return cls.from_dict(d)


def _element(cls: type[Any], where: str, d: object) -> Any:
    if not isinstance(d, Mapping):
        raise BadElementError(f"{where}: a table expected, not {type(d).__name__}", where, type(d).__name__)
    names = {f.name for f in fields(cls)}
    extra = sorted(set(d) - names)
    if extra:
        raise BadElementError(
            f"{where}: unknown field {extra[0]!r} (known: {sorted(names)})", f"{where}.{extra[0]}", d
        )
    try:
        return cls(**d)
    except TypeError as e:
        raise BadElementError(f"{where}: {e}", where, dict(d)) from e


def _float_2d(field: str, arr: object, width: int) -> NDArray[np.float64]:
    try:
        a = np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(f"{field}: not a numeric array ({e})", field, type(arr).__name__) from e
    if a.ndim != 2 or a.shape[1] != width:
        raise InvalidArgumentError(
            f"{field}: shape {a.shape}, expected (T, {width})", field, f"shape {a.shape}"
        )
    if not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise InvalidArgumentError(
            f"{field}[{bad[0]}, {bad[1]}] = {a[bad[0], bad[1]]}: must be finite",
            field,
            float(a[bad[0], bad[1]]),
        )
    return a
