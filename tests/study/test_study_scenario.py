"""Scenarios: canonical form, stable ids, validation naming the key and the allowed names."""

from __future__ import annotations

import json

import pytest
from gridledger.errors import BadConfigurationError
from gridledger.study import PARAMS, WORKLOADS, Scenario


def test_defaults_fill_the_canonical_form() -> None:
    a = Scenario("community", {"members": 50})
    b = Scenario("community", {})
    assert a == b and a.id == b.id and a.canonical() == b.canonical()
    d = json.loads(a.canonical())
    assert set(d["params"]) == set(PARAMS["community"])
    assert list(d["params"]) == sorted(d["params"])


def test_id_changes_with_any_parameter_and_the_replicate() -> None:
    base = Scenario("community")
    assert Scenario("community", {"members": 51}).id != base.id
    assert Scenario("community", replicate=1).id != base.id
    assert Scenario("community", {"days": 7.0}).id == Scenario("community", {"days": 7}).id
    assert len(base.id) == 16 and int(base.id, 16) >= 0


def test_seed_is_shared_by_designs_compared_and_differs_otherwise() -> None:
    s = Scenario("bidding", {"scenario": "sc2"}, 3)
    assert Scenario.from_json(s.canonical()) == s
    assert 0 <= s.seed < 2**31
    other_rule = Scenario("bidding", {"scenario": "sc2", "rule": "proportional"}, 3)
    assert other_rule.id != s.id and other_rule.seed == s.seed
    assert Scenario("bidding", {"scenario": "sc2"}, 4).seed != s.seed
    assert Scenario("bidding", {"scenario": "sc3"}, 3).seed != s.seed
    ev = [Scenario("ev", {"scheduler": x}) for x in ("none", "greedy", "optimal")]
    assert len({e.seed for e in ev}) == 1 and len({e.id for e in ev}) == 3


@pytest.mark.parametrize("workload", WORKLOADS)
def test_every_workload_validates_its_defaults(workload: str) -> None:
    assert Scenario(workload).workload == workload


def test_unknown_workload_names_the_allowed_ones() -> None:
    with pytest.raises(BadConfigurationError, match="community, ev, bidding, network, market") as e:
        Scenario("grid")
    assert e.value.field == "workload"


def test_unknown_parameter_names_the_key_and_the_allowed_ones() -> None:
    with pytest.raises(BadConfigurationError, match=r"'member'.*allowed are members") as e:
        Scenario("community", {"member": 5})
    assert e.value.field == "member"


@pytest.mark.parametrize(
    ("workload", "key", "value"),
    [
        ("community", "members", 0),
        ("community", "members", 2.5),
        ("community", "members", True),
        ("community", "days", float("nan")),
        ("community", "days", -1),
        ("community", "period_minutes", 20),
        ("community", "draw", "max"),
        ("community", "start", "2019-13-01"),
        ("ev", "scheduler", "fastest"),
        ("network", "loss", 1.5),
        ("network", "nodes", 2),
        ("bidding", "scenario", "sc9"),
        ("market", "mechanism", "auction"),
    ],
)
def test_values_out_of_range_name_the_field(workload: str, key: str, value: object) -> None:
    with pytest.raises(BadConfigurationError) as e:
        Scenario(workload, {key: value}, where="study.toml: cell (x=1): ")
    assert e.value.field == key
    assert "study.toml: cell (x=1)" in str(e.value)


def test_latency_range_is_ordered() -> None:
    with pytest.raises(BadConfigurationError, match="latency_min_ms"):
        Scenario("network", {"latency_min_ms": 500.0, "latency_max_ms": 100.0})
