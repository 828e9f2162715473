"""The feeder model: derived indices, distances, injections, round trips (docs/grid.md "Model")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gridledger.grid import Bus, Feeder, Line, Transformer, radial_feeder
from gridledger.grid.generate import LINE_TYPES, TRANSFORMER_TYPES

TR = Transformer("t1", "mv", "b0", sn_kva=400, vn_hv_kv=20, vn_lv_kv=0.4, vk_percent=6, vkr_percent=1.425)


def small() -> Feeder:
    """b0 - b1 - b2 and b0 - b3 - b4, b3 - b5; buses listed with the LV bus not first."""
    buses = [Bus(n) for n in ("b1", "b2", "b0", "b3", "b4", "b5")]
    lines = [
        Line("l1", "b0", "b1", 0.01, 0.004, 270),
        Line("l2", "b2", "b1", 0.01, 0.004, 270),  # written child -> parent
        Line("l3", "b0", "b3", 0.01, 0.004, 270),
        Line("l4", "b3", "b4", 0.01, 0.004, 270),
        Line("l5", "b3", "b5", 0.01, 0.004, 270),
    ]
    return Feeder(buses, lines, TR, members={"a": "b2", "b": "b4", "c": "b0"}, units={"pv": "b5"})


def test_bus_zero_is_the_lv_bus_and_the_tree_is_oriented() -> None:
    f = small()
    assert [b.name for b in f.buses] == ["b0", "b1", "b2", "b3", "b4", "b5"]
    assert f.n_buses == 6 and f.n_lines == 5
    assert f.parent.tolist() == [-1, 0, 1, 0, 3, 3]
    assert f.parent_line.tolist() == [-1, 0, 1, 2, 3, 4]
    assert f.member_bus.tolist() == [2, 4, 0]
    assert f.unit_bus.tolist() == [5]
    assert f.bus_index("b4") == 4
    assert f.path_lines(2).tolist() == [0, 1]
    assert f.path_lines(5).tolist() == [2, 4]
    assert f.path_lines(0).tolist() == []
    inc = f.incidence
    assert inc.dtype == np.int8 and inc.shape == (5, 6)
    for b in range(6):
        assert np.flatnonzero(inc[:, b]).tolist() == sorted(f.path_lines(b).tolist())


def test_distance_classes() -> None:
    f = small()
    assert f.distance(2, 2) == "bus"
    assert f.distance(1, 2) == "feeder"
    assert f.distance(4, 5) == "feeder"
    assert f.distance(2, 4) == "transformer"
    assert f.distance(0, 4) == "transformer"
    assert f.distance(0, 0) == "bus"


def test_injections_sum_per_bus_with_power_factor() -> None:
    f = small()
    member = np.array([[-1000.0, -500.0, 200.0], [-10.0, 0.0, -20.0]])
    unit = np.array([[300.0], [0.0]])
    p, q = f.injections(member, unit)
    assert p.shape == q.shape == (2, 6)
    assert p[0].tolist() == [200.0, 0.0, -1000.0, 0.0, -500.0, 300.0]
    assert not q.any()
    p2, q2 = f.injections(member, unit, power_factor=0.95)
    np.testing.assert_array_equal(p2, p)
    tan = np.tan(np.arccos(0.95))
    assert q2[0, 2] == pytest.approx(-1000.0 * tan)
    assert q2[0, 0] == 0.0  # a member that injects draws no reactive power
    assert q2[0, 5] == 0.0  # nor does a PV unit
    assert q2[1, 0] == pytest.approx(-20.0 * tan)


def test_immutable_and_read_only_arrays() -> None:
    f = small()
    with pytest.raises(AttributeError):
        f.slack_vm_pu = 1.05
    with pytest.raises(ValueError, match="read-only"):
        f.parent[1] = 3
    with pytest.raises(TypeError):
        f.members["d"] = "b1"  # type: ignore[index]


def test_dict_and_toml_round_trip(tmp_path: Path) -> None:
    f = radial_feeder(12, n_legs=3, units=2, chargers=["ev-a"])
    d = f.to_dict()
    assert Feeder.from_dict(d) == f
    text = [
        f"slack_vm_pu = {d['slack_vm_pu']}",
        "[transformer]",
        *(f"{k} = {v!r}".replace("'", '"') for k, v in d["transformer"].items()),
    ]
    for b in d["buses"]:
        text += ["[[buses]]", f'name = "{b["name"]}"', f"vn_kv = {b['vn_kv']}"]
    for ln in d["lines"]:
        text += ["[[lines]]", *(f"{k} = {v!r}".replace("'", '"') for k, v in ln.items())]
    for table in ("members", "units", "chargers"):
        text += [f"[{table}]", *(f'"{k}" = "{v}"' for k, v in d[table].items())]
    path = tmp_path / "feeder.toml"
    path.write_text("\n".join(text) + "\n")
    assert Feeder.from_toml(path) == f


def test_generator_shapes_and_types() -> None:
    f = radial_feeder(99, n_legs=4, units=10, chargers=5, seed=3)
    assert f.n_buses == 100 and f.n_lines == 99
    assert list(f.members)[:2] == ["m000", "m001"]
    assert len(f.units) == 10 and len(f.chargers) == 5
    lt = LINE_TYPES["NAYY 4x150 SE"]
    for ln in f.lines:
        km = ln.r_ohm / lt.r_ohm_per_km
        assert 0.0225 <= km <= 0.0375
        assert ln.x_ohm == pytest.approx(lt.x_ohm_per_km * km)
        assert ln.max_i_a == 270.0
    # four legs: exactly four lines leave bus 0, the legs are chains
    assert int((f.parent == 0).sum()) == 4
    assert f.distance(1, 5) == "feeder" and f.distance(1, 2) == "transformer"
    assert f.transformer.sn_kva == TRANSFORMER_TYPES["0.4 MVA 20/0.4 kV"].sn_kva
    assert radial_feeder(99, seed=3) == radial_feeder(99, seed=3)
    assert radial_feeder(99, seed=3) != radial_feeder(99, seed=4)


def test_a_single_member_feeder() -> None:
    f = radial_feeder(1, n_legs=4)
    assert f.n_buses == 2 and f.distance(0, 1) == "transformer"
