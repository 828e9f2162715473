"""A :class:`~gridledger.grid.Feeder` from a pandapower network and back (docs/grid.md "Model").

:func:`from_pandapower` reads the network's tables (``bus``, ``line``,
``trafo``, ``ext_grid``, ``switch``) duck-typed: pandapower itself is not
imported, so only the user who has a net needs it. What gridledger does not
model is refused with a :class:`~gridledger.errors.BadElementError` rather
than silently changed: more than one transformer, a tap off neutral, closed
bus-bus switches, lines with shunt conductance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from gridledger.errors import BadElementError, InvalidArgumentError, MissingExtraError, UnknownBusError
from gridledger.grid.feeder import Bus, Feeder, Line, Transformer

__all__ = ["from_pandapower", "to_pandapower"]


def _rows(net: Any, table: str) -> list[tuple[int, dict[str, Any]]]:
    """(index, row as dict) of the in-service rows of ``net[table]``."""
    try:
        df = getattr(net, table)
        records = df.to_dict("index")
    except AttributeError as e:
        raise InvalidArgumentError(
            f"net: no table {table!r} (a pandapower network expected)", "net", type(net).__name__
        ) from e
    return [(int(i), r) for i, r in records.items() if bool(r.get("in_service", True))]


def _f(row: Mapping[str, Any], key: str, default: float | None = None) -> float:
    v = row.get(key, default)
    try:
        x = float(v if v is not None else math.nan)
    except (TypeError, ValueError):
        x = math.nan
    if math.isnan(x) and default is not None:
        return default
    return x


def _place(kind: str, given: Mapping[str, int] | None, buses: Mapping[int, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for label, idx in (given or {}).items():
        if idx not in buses:
            raise UnknownBusError(
                f"{kind}[{label!r}] = {idx!r}: not an in-service LV bus of the net", f"{kind}[{label!r}]", idx
            )
        out[label] = buses[idx]
    return out


def from_pandapower(
    net: Any,
    members: Mapping[str, int] | None = None,
    units: Mapping[str, int] | None = None,
    chargers: Mapping[str, int] | None = None,
) -> Feeder:
    """Make a feeder from a pandapower network with one transformer and one external grid.

    Parameters
    ----------
    net
        A ``pandapowerNet`` (or anything with its ``bus``, ``line``, ``trafo``,
        ``ext_grid`` and ``switch`` tables as pandas frames, and ``f_hz``).
    members, units, chargers
        Label -> pandapower bus index of the members, PV units and EV chargers.

    Returns
    -------
    Feeder
        Bus and line names are the pandapower indices as strings (``"12"``); the
        external grid's voltage and angle become ``slack_vm_pu`` (per unit of the
        transformer's ``vn_hv_kv``) and part of ``shift_degree``. Open line
        switches take their line out; parallel lines and transformers are
        merged into one element (impedance divided, ampacity multiplied by
        ``parallel``; ampacity derated by ``df``).

    Raises
    ------
    BadElementError
        A net gridledger cannot model exactly (see the module's doc).
    MeshedNetworkError, DisconnectedBusError
        As :class:`Feeder` (a loop, or a bus with no path to the transformer).
    """
    trafos = _rows(net, "trafo")
    if len(trafos) != 1:
        raise BadElementError(
            f"net.trafo: {len(trafos)} transformers in service, one expected", "net.trafo", len(trafos)
        )
    t_idx, tr = trafos[0]
    el = f"net.trafo[{t_idx}]"
    tap_pos, tap_neutral = tr.get("tap_pos"), tr.get("tap_neutral")
    if tap_pos is not None and tap_neutral is not None:
        tp, tn = _f(tr, "tap_pos"), _f(tr, "tap_neutral")
        if not (math.isnan(tp) or math.isnan(tn)) and tp != tn:
            raise BadElementError(
                f"{el}.tap_pos = {tp}: only the neutral tap ({tn}) is modelled", f"{el}.tap_pos", tp
            )
    hv, lv = int(tr["hv_bus"]), int(tr["lv_bus"])
    grids = [(i, g) for i, g in _rows(net, "ext_grid")]
    if len(grids) != 1 or int(grids[0][1]["bus"]) != hv:
        raise BadElementError(
            f"net.ext_grid: one external grid at the transformer's HV bus {hv} expected",
            "net.ext_grid",
            [int(g["bus"]) for _, g in grids],
        )
    eg = grids[0][1]
    switches = _rows(net, "switch") if hasattr(net, "switch") else []
    open_lines: set[int] = set()
    for s_idx, sw in switches:
        closed = bool(sw.get("closed", True))
        et = str(sw.get("et", ""))
        if et == "l" and not closed:
            open_lines.add(int(sw["element"]))
        elif et == "b" and closed:
            raise BadElementError(
                f"net.switch[{s_idx}]: a closed bus-bus switch (merge the buses first)",
                f"net.switch[{s_idx}]",
                s_idx,
            )
        elif et == "t" and not closed:
            raise BadElementError(
                f"net.switch[{s_idx}]: the transformer is switched off", f"net.switch[{s_idx}]", s_idx
            )
    bus_rows = dict(_rows(net, "bus"))
    if hv not in bus_rows or lv not in bus_rows:
        raise UnknownBusError(f"{el}: its buses {hv}, {lv} must be in service", f"{el}.hv_bus", hv)
    lines: list[Line] = []
    used: set[int] = {lv}
    for l_idx, ln in _rows(net, "line"):
        if l_idx in open_lines:
            continue
        a, b = int(ln["from_bus"]), int(ln["to_bus"])
        if hv in (a, b):
            raise BadElementError(
                f"net.line[{l_idx}]: joins the transformer's HV bus; only the LV side is a feeder",
                f"net.line[{l_idx}]",
                l_idx,
            )
        g = _f(ln, "g_us_per_km", 0.0)
        if g != 0.0:
            raise BadElementError(
                f"net.line[{l_idx}].g_us_per_km = {g}: shunt conductance is not modelled",
                f"net.line[{l_idx}].g_us_per_km",
                g,
            )
        km = _f(ln, "length_km")
        par = _f(ln, "parallel", 1.0)
        lines.append(
            Line(
                str(l_idx),
                str(a),
                str(b),
                r_ohm=_f(ln, "r_ohm_per_km") * km / par,
                x_ohm=_f(ln, "x_ohm_per_km") * km / par,
                max_i_a=_f(ln, "max_i_ka") * 1e3 * _f(ln, "df", 1.0) * par,
                c_nf=_f(ln, "c_nf_per_km", 0.0) * km * par,
            )
        )
        used.update((a, b))
    # every in-service bus but the HV one belongs to the feeder (an isolated one is an error)
    lv_buses = {i: str(i) for i in bus_rows if i != hv}
    buses = [Bus(str(i), _f(bus_rows[i], "vn_kv")) for i in sorted(lv_buses)]
    par = _f(tr, "parallel", 1.0)
    transformer = Transformer(
        str(tr.get("name") or f"trafo{t_idx}"),
        str(hv),
        str(lv),
        sn_kva=_f(tr, "sn_mva") * 1e3 * par,
        vn_hv_kv=_f(tr, "vn_hv_kv"),
        vn_lv_kv=_f(tr, "vn_lv_kv"),
        vk_percent=_f(tr, "vk_percent"),
        vkr_percent=_f(tr, "vkr_percent"),
        pfe_kw=_f(tr, "pfe_kw", 0.0) * par,
        i0_percent=_f(tr, "i0_percent", 0.0),
        shift_degree=_f(tr, "shift_degree", 0.0) - _f(eg, "va_degree", 0.0),
    )
    slack = _f(eg, "vm_pu", 1.0) * _f(bus_rows[hv], "vn_kv") / transformer.vn_hv_kv
    return Feeder(
        buses,
        lines,
        transformer,
        slack_vm_pu=slack,
        f_hz=float(getattr(net, "f_hz", 50.0)),
        members=_place("members", members, lv_buses),
        units=_place("units", units, lv_buses),
        chargers=_place("chargers", chargers, lv_buses),
    )


def to_pandapower(feeder: Feeder) -> tuple[Any, list[int]]:
    """Build ``feeder`` as a pandapower network, to run or compare it there.

    The network has an HV bus with the external grid at ``slack_vm_pu``, the
    transformer from its parameters, every line from its totals (``length_km``
    1, so per km means per line) and one load of 0 MW on every LV bus, for the
    caller to set per period (``net.load.p_mw``, MW; consumption positive, as
    pandapower counts it).

    Returns
    -------
    net, buses
        The pandapower network and its bus index of each of the feeder's buses, in order.

    Raises
    ------
    MissingExtraError
        pandapower is not installed (it is not a gridledger dependency: a test-only
        reference).
    """
    try:
        import pandapower as pp
    except ImportError as e:
        raise MissingExtraError(
            "pandapower is needed to build a pandapower network: pip install pandapower",
            "pandapower",
            "pandapower",
        ) from e
    net = pp.create_empty_network(f_hz=feeder.f_hz)
    tr = feeder.transformer
    hv = pp.create_bus(net, vn_kv=tr.vn_hv_kv, name=tr.hv_bus)
    idx = [int(pp.create_bus(net, vn_kv=b.vn_kv, name=b.name)) for b in feeder.buses]
    pp.create_ext_grid(net, hv, vm_pu=feeder.slack_vm_pu)
    pp.create_transformer_from_parameters(
        net,
        hv,
        idx[0],
        sn_mva=tr.sn_kva / 1e3,
        vn_hv_kv=tr.vn_hv_kv,
        vn_lv_kv=tr.vn_lv_kv,
        vkr_percent=tr.vkr_percent,
        vk_percent=tr.vk_percent,
        pfe_kw=tr.pfe_kw,
        i0_percent=tr.i0_percent,
        shift_degree=tr.shift_degree,
    )
    for ln in feeder.lines:
        pp.create_line_from_parameters(
            net,
            idx[feeder.bus_index(ln.from_bus)],
            idx[feeder.bus_index(ln.to_bus)],
            length_km=1.0,
            r_ohm_per_km=ln.r_ohm,
            x_ohm_per_km=ln.x_ohm,
            c_nf_per_km=ln.c_nf,
            max_i_ka=ln.max_i_a / 1e3,
        )
    pp.create_loads(net, idx, p_mw=0.0, q_mvar=0.0)
    return net, idx
