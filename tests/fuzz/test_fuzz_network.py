"""Fuzz network configurations: any NetworkConfig and Adversary (node indices, losses,
latencies, probabilities, periods) either runs to a report or is refused with a
GridLedgerError before anything runs."""

from __future__ import annotations

import math

from fuzzing import FuzzFailure, check, fuzz_settings, is_open
from gridledger.errors import GridLedgerError
from gridledger.ledger import Consensus
from gridledger.network import Adversary, NetworkConfig, NetworkSim
from hypothesis import given
from hypothesis import strategies as st

# While "network-config" is open (fuzzing.KNOWN_OPEN) only valid values are drawn: node
# indices in range, loss and probabilities in [0, 1], latencies and periods ≥ 0.
VALID = is_open("network-config")


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, object], dict[str, object]]:
    nodes = draw(st.integers(3, 5) if VALID else st.integers(-1, 5))
    node = st.integers(0, max(nodes, 3) - 1) if VALID else st.integers(-2, 7)
    periods = draw(st.integers(1, 3) if VALID else st.integers(-2, 3))
    prob = (
        st.floats(0, 1)
        if VALID
        else st.one_of(st.floats(0, 1), st.floats(allow_nan=True, allow_infinity=True))
    )
    lo = draw(st.floats(0, 500) if VALID else st.floats(-100, 500) | st.just(math.nan))
    hi = draw(st.floats(lo, lo + 500) if VALID else st.floats(-100, 1000) | st.just(math.nan))
    config = dict(
        nodes=nodes,
        units=draw(st.integers(1, 2) if VALID else st.integers(-1, 2)),
        periods=periods,
        latency_ms=(lo, hi),
        loss=draw(st.floats(0, 0.5) if VALID else prob),
        bid_probability=draw(prob),
        consensus=Consensus(producer_rule="auction"),
        seed=draw(st.integers(0, 2**32) if VALID else st.integers(-(2**65), 2**65)),
        share_validation=draw(st.booleans()),
    )
    span = st.integers(0, periods + 1) if VALID else st.integers(-2, 6)
    fork = draw(st.none() | node)
    adversary: dict[str, object] = dict(
        withhold=frozenset(draw(st.lists(node, max_size=2))),
        equivocate=frozenset(draw(st.lists(node, max_size=2))),
        private_fork=fork,
        private_from=draw(span),
        private_release=draw(span),
        vpp_double_spend=frozenset(draw(st.lists(span, max_size=2))),
        partition=draw(st.none() | st.tuples(st.frozensets(node, max_size=2), span, span)),
    )
    bad = adversary["withhold"] | adversary["equivocate"] | {fork}  # type: ignore[operator]
    if VALID and len(bad) >= nodes:
        adversary.update(private_fork=None, withhold=frozenset())  # one honest
    return config, adversary


def _run(config: dict[str, object], adversary: dict[str, object]) -> object:
    # Built inside the check: a refused configuration is refused when it is made.
    return NetworkSim(NetworkConfig(**config), Adversary(**adversary)).run()  # type: ignore[arg-type]


@fuzz_settings(0.25)
@given(configs())
def test_network_config(ca: tuple[dict[str, object], dict[str, object]]) -> None:
    config, adversary = ca
    out = check(_run, config, adversary)
    if not isinstance(out, GridLedgerError):
        summary = out.summary()  # type: ignore[attr-defined]
        periods = config["periods"]
        assert isinstance(periods, int)
        if summary["height"] > max(periods, 0):
            raise FuzzFailure(f"height {summary['height']} after {periods} periods")
