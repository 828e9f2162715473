"""Every bad feeder raises a typed GridError naming the element (issue 20, "Bad input")."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gridledger.errors import (
    BadConfigurationError,
    BadElementError,
    DisconnectedBusError,
    GridError,
    GridLedgerError,
    InvalidArgumentError,
    MeshedNetworkError,
    UnknownBusError,
)
from gridledger.grid import Bus, Feeder, Line, Transformer, radial_feeder

TR = Transformer("t1", "mv", "b0", sn_kva=400, vn_hv_kv=20, vn_lv_kv=0.4, vk_percent=6, vkr_percent=1.425)
BUSES = [Bus("b0"), Bus("b1"), Bus("b2")]
LINES = [Line("l1", "b0", "b1", 0.01, 0.004, 270), Line("l2", "b1", "b2", 0.01, 0.004, 270)]


def test_the_hierarchy() -> None:
    for cls in (MeshedNetworkError, DisconnectedBusError, BadElementError, UnknownBusError):
        assert issubclass(cls, GridError) and issubclass(cls, GridLedgerError) and issubclass(cls, ValueError)


def test_meshed_names_the_closing_line() -> None:
    lines = [*LINES, Line("l3", "b2", "b0", 0.01, 0.004, 270)]
    with pytest.raises(MeshedNetworkError, match="l3") as e:
        Feeder(BUSES, lines, TR)
    assert e.value.field == "lines['l3']"


def test_parallel_lines_are_a_loop() -> None:
    lines = [*LINES, Line("l1b", "b1", "b0", 0.02, 0.004, 270)]
    with pytest.raises(MeshedNetworkError, match="l1b"):
        Feeder(BUSES, lines, TR)


def test_self_loop() -> None:
    with pytest.raises(MeshedNetworkError, match="itself"):
        Line("l", "b1", "b1", 0.01, 0.004, 270)


def test_disconnected_bus_is_named() -> None:
    with pytest.raises(DisconnectedBusError, match="b3") as e:
        Feeder([*BUSES, Bus("b3")], LINES, TR)
    assert e.value.value == "b3"


def test_disconnected_island_with_a_loop_elsewhere() -> None:
    buses = [*BUSES, Bus("x1"), Bus("x2")]
    lines = [*LINES, Line("x", "x1", "x2", 0.01, 0.01, 100)]
    with pytest.raises(DisconnectedBusError, match="x1"):
        Feeder(buses, lines, TR)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("r_ohm", 0.0),
        ("r_ohm", -0.1),
        ("x_ohm", 0.0),
        ("x_ohm", float("nan")),
        ("max_i_a", 0.0),
        ("max_i_a", float("inf")),
        ("c_nf", -1.0),
        ("r_ohm", "0.1"),
        ("r_ohm", True),
    ],
)
def test_line_fields(field: str, value: object) -> None:
    kw: dict[str, Any] = {"r_ohm": 0.01, "x_ohm": 0.004, "max_i_a": 270.0, field: value}
    with pytest.raises(BadElementError) as e:
        Line("l9", "b0", "b1", **kw)
    assert e.value.field == f"lines['l9'].{field}"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sn_kva", 0.0),
        ("vn_hv_kv", -20.0),
        ("vn_lv_kv", float("nan")),
        ("vk_percent", 0.0),
        ("vkr_percent", 0.0),
        ("vkr_percent", 7.0),
        ("pfe_kw", -1.0),
        ("i0_percent", -0.1),
        ("shift_degree", float("inf")),
        ("lv_bus", "mv"),
        ("hv_bus", ""),
    ],
)
def test_transformer_fields(field: str, value: object) -> None:
    with pytest.raises(BadElementError) as e:
        replace(TR, **{field: value})  # type: ignore[arg-type]
    assert e.value.field is not None and e.value.field.startswith("transformer['t1']")


def test_bus_fields() -> None:
    with pytest.raises(BadElementError, match="vn_kv"):
        Bus("b", 0.0)
    with pytest.raises(BadElementError, match="name"):
        Bus("")
    with pytest.raises(BadElementError, match="vn_kv"):
        Feeder([Bus("b0"), Bus("b1", 0.23), Bus("b2")], LINES, TR)


def test_duplicate_names() -> None:
    with pytest.raises(BadElementError, match=r"'b1' is used twice"):
        Feeder([*BUSES, Bus("b1")], LINES, TR)
    with pytest.raises(BadElementError, match=r"'l1' is used twice"):
        Feeder(BUSES, [LINES[0], replace(LINES[1], name="l1")], TR)


def test_unknown_buses() -> None:
    with pytest.raises(UnknownBusError, match=r"lines\['l2'\]\.to_bus"):
        Feeder(BUSES, [LINES[0], replace(LINES[1], to_bus="b9")], TR)
    with pytest.raises(UnknownBusError, match="lv_bus"):
        Feeder(BUSES, LINES, replace(TR, lv_bus="b9"))
    with pytest.raises(UnknownBusError) as e:
        Feeder(BUSES, LINES, TR, members={"alice": "b1", "bob": "nowhere"})
    assert e.value.field == "members['bob']" and e.value.value == "nowhere"
    with pytest.raises(UnknownBusError, match="units"):
        Feeder(BUSES, LINES, TR, units={"pv": "b7"})
    with pytest.raises(UnknownBusError, match="chargers"):
        Feeder(BUSES, LINES, TR, chargers={"ev": "b7"})
    f = Feeder(BUSES, LINES, TR)
    with pytest.raises(UnknownBusError):
        f.bus_index("b9")
    with pytest.raises(UnknownBusError):
        f.path_lines(3)
    with pytest.raises(UnknownBusError):
        f.distance(0, -1)


def test_hv_bus_among_the_buses() -> None:
    with pytest.raises(BadElementError, match="HV"):
        Feeder([*BUSES, Bus("mv")], [*LINES, Line("l3", "b2", "mv", 0.01, 0.01, 100)], TR)


def test_bad_slack_and_frequency() -> None:
    with pytest.raises(BadElementError, match="slack_vm_pu"):
        Feeder(BUSES, LINES, TR, slack_vm_pu=0.0)
    with pytest.raises(BadElementError, match="f_hz"):
        Feeder(BUSES, LINES, TR, f_hz=float("nan"))


def test_wrong_element_types() -> None:
    with pytest.raises(BadElementError, match="buses\\[1\\]"):
        Feeder([BUSES[0], "b1"], LINES, TR)  # type: ignore[list-item]
    with pytest.raises(BadElementError, match="Transformer expected"):
        Feeder(BUSES, LINES, "t1")  # type: ignore[arg-type]
    with pytest.raises(BadElementError, match="at least"):
        Feeder([], [], TR)


def test_injection_shapes() -> None:
    f = Feeder(BUSES, LINES, TR, members={"a": "b1", "b": "b2"}, units={"pv": "b2"})
    ok = np.zeros((4, 2))
    with pytest.raises(InvalidArgumentError, match=r"member_w: shape \(4, 3\)"):
        f.injections(np.zeros((4, 3)), np.zeros((4, 1)))
    with pytest.raises(InvalidArgumentError, match="member_w"):
        f.injections(np.zeros(2), np.zeros((4, 1)))
    with pytest.raises(InvalidArgumentError, match="unit_w"):
        f.injections(ok)
    with pytest.raises(InvalidArgumentError, match="unit_w: 3 periods"):
        f.injections(ok, np.zeros((3, 1)))
    with pytest.raises(InvalidArgumentError, match=r"member_w\[1, 0\]"):
        bad = np.zeros((4, 2))
        bad[1, 0] = np.nan
        f.injections(bad, np.zeros((4, 1)))
    with pytest.raises(InvalidArgumentError, match="power_factor"):
        f.injections(ok, np.zeros((4, 1)), power_factor=0.0)
    with pytest.raises(InvalidArgumentError, match="power_factor"):
        f.injections(ok, np.zeros((4, 1)), power_factor=1.2)
    with pytest.raises(InvalidArgumentError, match="member_w"):
        f.injections([["x", "y"]], np.zeros((1, 1)))  # type: ignore[arg-type]


def test_from_dict_errors(tmp_path: Path) -> None:
    d = radial_feeder(3).to_dict()
    with pytest.raises(BadElementError, match="unknown key 'extra'"):
        Feeder.from_dict({**d, "extra": 1})
    with pytest.raises(BadElementError, match="'lines' is missing"):
        Feeder.from_dict({k: v for k, v in d.items() if k != "lines"})
    bad = {**d, "lines": [{**d["lines"][0], "r_ohm": -1.0}, *d["lines"][1:]]}
    with pytest.raises(BadElementError, match="r_ohm"):
        Feeder.from_dict(bad)
    bad = {**d, "lines": [{**d["lines"][0], "colour": "red"}, *d["lines"][1:]]}
    with pytest.raises(BadElementError, match="colour"):
        Feeder.from_dict(bad)
    bad = {**d, "buses": [{"vn_kv": 0.4}, *d["buses"][1:]]}
    with pytest.raises(BadElementError, match="buses\\[0\\]"):
        Feeder.from_dict(bad)
    with pytest.raises(BadElementError, match="list of tables"):
        Feeder.from_dict({**d, "buses": "b0"})
    with pytest.raises(InvalidArgumentError):
        Feeder.from_dict([1, 2])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="members"):
        Feeder.from_dict({**d, "members": ["m0"]})
    p = tmp_path / "bad.toml"
    p.write_text("[transformer\n")
    with pytest.raises(BadElementError, match="not valid TOML"):
        Feeder.from_toml(p)
    with pytest.raises(InvalidArgumentError, match="cannot read"):
        Feeder.from_toml(tmp_path / "missing.toml")


def test_generator_arguments() -> None:
    with pytest.raises(InvalidArgumentError, match="n_members"):
        radial_feeder(0)
    with pytest.raises(InvalidArgumentError, match="n_legs"):
        radial_feeder(3, n_legs=0)
    with pytest.raises(BadConfigurationError, match="line_type"):
        radial_feeder(3, line_type="copper wire")
    with pytest.raises(BadConfigurationError, match="transformer"):
        radial_feeder(3, transformer="1 GVA")
    with pytest.raises(InvalidArgumentError, match="span_m"):
        radial_feeder(3, span_m=-1.0)
    with pytest.raises(InvalidArgumentError, match="members"):
        radial_feeder(3, members=["a", "b"])
    with pytest.raises(InvalidArgumentError, match="units"):
        radial_feeder(3, units=["pv", "pv"])
    with pytest.raises(InvalidArgumentError, match="chargers"):
        radial_feeder(3, chargers=-1)
