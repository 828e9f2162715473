"""Standard radial LV feeders sized to a community (docs/grid.md "Model").

:func:`radial_feeder` builds the textbook European LV network: one MV/LV
transformer, ``n_legs`` cables leaving its LV busbar, and on each leg a chain
of house-connection buses, one per member, ``span_m`` apart (± 25 %, seeded).
Members are dealt to the legs in turn; PV units and EV chargers sit on the
buses of members spread evenly over the community.

The line and transformer types are pandapower's standard types, with the
values its ``std_types`` give (``tests/grid/test_pandapower_agreement.py``
checks them against pandapower when it is installed):

======================  ========  ========  =========  ========
line type               r Ω/km    x Ω/km    c nF/km    max_i A
======================  ========  ========  =========  ========
NAYY 4x50 SE            0.642     0.083     210        142
NAYY 4x120 SE           0.225     0.080     264        242
NAYY 4x150 SE           0.208     0.080     261        270
15-AL1/3-ST1A 0.4       1.8769    0.35      11         105
24-AL1/4-ST1A 0.4       1.2012    0.335     11.25      140
48-AL1/8-ST1A 0.4       0.5939    0.3       12.2       210
94-AL1/15-ST1A 0.4      0.306     0.29      13.2       350
======================  ========  ========  =========  ========

======================  ======  ==========  =====  ======  ======  ========  ======
transformer type        sn kVA  HV/LV kV    vk %   vkr %   pfe kW  i0 %      shift°
======================  ======  ==========  =====  ======  ======  ========  ======
0.25 MVA 20/0.4 kV      250     20/0.4      6      1.44    0.8     0.32      150
0.4 MVA 20/0.4 kV       400     20/0.4      6      1.425   1.35    0.3375    150
0.63 MVA 20/0.4 kV      630     20/0.4      6      1.206   1.65    0.2619    150
0.25 MVA 10/0.4 kV      250     10/0.4      4      1.2     0.6     0.24      150
0.4 MVA 10/0.4 kV       400     10/0.4      4      1.325   0.95    0.2375    150
0.63 MVA 10/0.4 kV      630     10/0.4      4      1.0794  1.18    0.1873    150
======================  ======  ==========  =====  ======  ======  ========  ======
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gridledger.errors import BadConfigurationError, InvalidArgumentError
from gridledger.grid.feeder import Bus, Feeder, Line, Transformer

__all__ = ["LINE_TYPES", "TRANSFORMER_TYPES", "LineType", "TransformerType", "radial_feeder"]


@dataclass(frozen=True)
class LineType:
    """Per-length data of a line type (pandapower's ``std_types["line"]``)."""

    r_ohm_per_km: float
    x_ohm_per_km: float
    c_nf_per_km: float
    max_i_a: float


@dataclass(frozen=True)
class TransformerType:
    """Data of a transformer type (pandapower's ``std_types["trafo"]``)."""

    sn_kva: float
    vn_hv_kv: float
    vn_lv_kv: float
    vk_percent: float
    vkr_percent: float
    pfe_kw: float
    i0_percent: float
    shift_degree: float


LINE_TYPES: dict[str, LineType] = {
    "NAYY 4x50 SE": LineType(0.642, 0.083, 210.0, 142.0),
    "NAYY 4x120 SE": LineType(0.225, 0.080, 264.0, 242.0),
    "NAYY 4x150 SE": LineType(0.208, 0.080, 261.0, 270.0),
    "15-AL1/3-ST1A 0.4": LineType(1.8769, 0.35, 11.0, 105.0),
    "24-AL1/4-ST1A 0.4": LineType(1.2012, 0.335, 11.25, 140.0),
    "48-AL1/8-ST1A 0.4": LineType(0.5939, 0.3, 12.2, 210.0),
    "94-AL1/15-ST1A 0.4": LineType(0.306, 0.29, 13.2, 350.0),
}
"""Standard LV line types, as pandapower's ``std_types`` give them."""

TRANSFORMER_TYPES: dict[str, TransformerType] = {
    "0.25 MVA 20/0.4 kV": TransformerType(250.0, 20.0, 0.4, 6.0, 1.44, 0.8, 0.32, 150.0),
    "0.4 MVA 20/0.4 kV": TransformerType(400.0, 20.0, 0.4, 6.0, 1.425, 1.35, 0.3375, 150.0),
    "0.63 MVA 20/0.4 kV": TransformerType(630.0, 20.0, 0.4, 6.0, 1.206, 1.65, 0.2619, 150.0),
    "0.25 MVA 10/0.4 kV": TransformerType(250.0, 10.0, 0.4, 4.0, 1.2, 0.6, 0.24, 150.0),
    "0.4 MVA 10/0.4 kV": TransformerType(400.0, 10.0, 0.4, 4.0, 1.325, 0.95, 0.2375, 150.0),
    "0.63 MVA 10/0.4 kV": TransformerType(630.0, 10.0, 0.4, 4.0, 1.0794, 1.18, 0.1873, 150.0),
}
"""Standard MV/LV transformer types, as pandapower's ``std_types`` give them."""


def _labels(kind: str, prefix: str, value: int | Sequence[str]) -> list[str]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if int(value) < 0:
            raise InvalidArgumentError(f"{kind} = {value}: must be ≥ 0", kind, value)
        return [f"{prefix}{i:02d}" for i in range(int(value))]
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidArgumentError(f"{kind}: a count or a sequence of labels expected", kind, value)
    out = list(value)
    if any(not isinstance(s, str) or not s for s in out) or len(set(out)) != len(out):
        raise InvalidArgumentError(f"{kind}: labels must be unique non-empty strings", kind, out[:8])
    return out


def radial_feeder(
    n_members: int,
    *,
    n_legs: int = 4,
    units: int | Sequence[str] = (),
    chargers: int | Sequence[str] = (),
    members: Sequence[str] | None = None,
    line_type: str = "NAYY 4x150 SE",
    span_m: float = 30.0,
    transformer: str = "0.4 MVA 20/0.4 kV",
    seed: int = 0,
) -> Feeder:
    """Build a standard radial LV feeder with one house-connection bus per member.

    Parameters
    ----------
    n_members
        Number of members (≥ 1); the feeder has ``n_members + 1`` buses.
    n_legs
        Cables leaving the transformer's LV busbar (≥ 1); members are dealt to them in turn.
    units, chargers
        PV units and EV chargers: a count (labels ``pv00``…, ``ev00``…) or their
        labels. Unit ``k`` of ``U`` sits on the bus of member ``k·M // U``.
    members
        Member labels (default ``m000``…, as :meth:`Community.paper` names them).
    line_type
        A key of :data:`LINE_TYPES`.
    span_m
        Mean distance between neighbouring buses on a leg (m, > 0); each span
        is drawn uniformly in ±25 % of it from ``seed``.
    transformer
        A key of :data:`TRANSFORMER_TYPES`.
    seed
        Seed of the span lengths.

    Returns
    -------
    Feeder
        Bus 0 ``lv`` (the busbar); bus ``1 + i`` is member ``i``'s; slack at 1.0 p.u.
    """
    for name, v, low in (("n_members", n_members, 1), ("n_legs", n_legs, 1)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or int(v) < low:
            raise InvalidArgumentError(f"{name} = {v!r}: an integer ≥ {low} expected", name, v)
    if line_type not in LINE_TYPES:
        raise BadConfigurationError(
            f"line_type = {line_type!r}: unknown (known: {sorted(LINE_TYPES)})", "line_type", line_type
        )
    if transformer not in TRANSFORMER_TYPES:
        raise BadConfigurationError(
            f"transformer = {transformer!r}: unknown (known: {sorted(TRANSFORMER_TYPES)})",
            "transformer",
            transformer,
        )
    if isinstance(span_m, bool) or not isinstance(span_m, numbers.Real) or not 0.0 < float(span_m) < 1e5:
        raise InvalidArgumentError(f"span_m = {span_m!r}: must lie in (0, 1e5) m", "span_m", span_m)
    m_labels = (
        [f"m{i:03d}" for i in range(int(n_members))] if members is None else _labels("members", "m", members)
    )
    if len(m_labels) != int(n_members):
        raise InvalidArgumentError(
            f"members: {len(m_labels)} labels for n_members = {n_members}", "members", len(m_labels)
        )
    u_labels = _labels("units", "pv", units)
    c_labels = _labels("chargers", "ev", chargers)
    lt = LINE_TYPES[line_type]
    tt = TRANSFORMER_TYPES[transformer]
    rng = np.random.default_rng(seed)
    spans_km = float(span_m) * 1e-3 * rng.uniform(0.75, 1.25, size=int(n_members))
    buses = [Bus("lv", tt.vn_lv_kv)] + [Bus(f"b{i + 1:03d}", tt.vn_lv_kv) for i in range(int(n_members))]
    last = ["lv"] * int(n_legs)
    lines: list[Line] = []
    for i in range(int(n_members)):
        leg = i % int(n_legs)
        to = buses[i + 1].name
        km = float(spans_km[i])
        lines.append(
            Line(
                f"l{i + 1:03d}",
                last[leg],
                to,
                r_ohm=lt.r_ohm_per_km * km,
                x_ohm=lt.x_ohm_per_km * km,
                max_i_a=lt.max_i_a,
                c_nf=lt.c_nf_per_km * km,
            )
        )
        last[leg] = to
    tr = Transformer(
        transformer,
        "mv",
        "lv",
        sn_kva=tt.sn_kva,
        vn_hv_kv=tt.vn_hv_kv,
        vn_lv_kv=tt.vn_lv_kv,
        vk_percent=tt.vk_percent,
        vkr_percent=tt.vkr_percent,
        pfe_kw=tt.pfe_kw,
        i0_percent=tt.i0_percent,
        shift_degree=tt.shift_degree,
    )
    m = len(m_labels)
    return Feeder(
        buses,
        lines,
        tr,
        members={lab: buses[i + 1].name for i, lab in enumerate(m_labels)},
        units={lab: buses[k * m // len(u_labels) + 1].name for k, lab in enumerate(u_labels)},
        chargers={lab: buses[k * m // len(c_labels) + 1].name for k, lab in enumerate(c_labels)},
    )
