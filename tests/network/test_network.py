"""The network simulation and its adversaries (issue: proof of stake, items 3-4): in every
case the honest majority ends on one valid chain and nothing valid is lost."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from gridledger.errors import BadConfigurationError
from gridledger.ledger import Candidate, Consensus, Create, Evidence, Transfer, decode
from gridledger.network import Adversary, NetworkConfig, NetworkReport, NetworkSim
from gridledger.network.sim import FIRST_PERIOD as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def kinds(sim: NetworkSim, report: NetworkReport) -> dict[int, list[str]]:
    """Per period of the final chain, the kinds of its transactions (distributions marked)."""
    out: dict[int, list[str]] = {}
    vpp = sim.vpp.public_key
    for e in report.final[1:]:
        names = []
        for t in e.block.txs:
            tx = decode(t).tx
            if isinstance(tx, Transfer) and tx.signers == (vpp,):
                names.append("distribution")
            else:
                names.append(type(tx).__name__.lower())
        out[e.block.period] = names
    return out


def run(cfg: NetworkConfig, adv: Adversary | None = None) -> tuple[NetworkSim, NetworkReport]:
    sim = NetworkSim(cfg, adv)
    return sim, sim.run()


def assert_one_chain(sim: NetworkSim, r: NetworkReport, periods: int) -> None:
    assert r.agreed, "honest nodes end on different tips"
    assert r.height == periods and [e.block.period for e in r.final[1:]] == list(range(F, F + periods))
    assert r.reverted_approved == 0


def test_an_honest_network_agrees_and_loses_nothing() -> None:
    sim, r = run(NetworkConfig(periods=16, seed=3))
    assert_one_chain(sim, r, 16)
    assert r.forks == 0 and r.max_reorg_depth == 0 and r.messages > 0
    assert 0 < r.summary()["approval_median_ms"] < 1000
    k = kinds(sim, r)
    # Every quantum the devices signed is on the chain: the last Create number of each device.
    creates = [tx for e in r.final for t in e.block.txs if isinstance(tx := decode(t).tx, Create)]
    for j, dev in enumerate(sim.devices):
        seqs = sorted(c.seq for c in creates if c.device == dev.public_key)
        assert seqs == list(range(1, sim.seq[j] + 1))
    assert sum(n.count("winner") for n in k.values()) >= 10  # the auction ran


class Recording(NetworkSim):
    """A network that also keeps every transaction a node broadcast."""

    def __init__(self, cfg: NetworkConfig) -> None:
        super().__init__(cfg)
        self.sent: list[bytes] = []

    def broadcast_tx(self, src: int, tx: bytes, targets: list[int] | None = None) -> None:
        self.sent.append(tx)
        super().broadcast_tx(src, tx, targets)


def test_the_miner_does_not_stand_in_the_auction_it_runs() -> None:
    sim = Recording(NetworkConfig(periods=12, bid_probability=1.0, seed=5))
    r = sim.run()
    assert_one_chain(sim, r, 12)
    cands = [t for t in (decode(b).tx for b in sim.sent) if isinstance(t, Candidate)]
    assert len(cands) >= 12
    # Every candidacy goes to a miner other than the candidate (SPEC §3) ...
    assert all(c.outputs[0].owner != c.candidate for c in cands)
    # ... and so every one on the final chain was sent to its block's miner and accepted.
    on_chain = [(decode(t).tx, e.block.header.miner) for e in r.final[1:] for t in e.block.txs]
    standing = [(t, m) for t, m in on_chain if isinstance(t, Candidate)]
    assert standing and all(t.candidate != m for t, m in standing)


def test_a_lossy_slow_network_still_converges() -> None:
    sim, r = run(NetworkConfig(periods=16, loss=0.05, latency_ms=(50.0, 3000.0), seed=1))
    assert_one_chain(sim, r, 16)
    assert r.lost_messages > 0


def test_a_vpp_double_spend_keeps_one_distribution() -> None:
    spend = frozenset({F + 3, F + 5})
    sim, r = run(NetworkConfig(periods=10, seed=2), Adversary(vpp_double_spend=spend))
    assert_one_chain(sim, r, 10)
    k = kinds(sim, r)
    for p, names in k.items():
        assert names.count("distribution") <= 1, p
    for p in spend:
        assert k[p].count("distribution") == 1, f"period {p} lost its energy"
    # Energy is conserved: what the distributions paid equals what the units passed on.
    vpp = sim.vpp.public_key
    paid = passed = 0
    for e in r.final:
        for t in e.block.txs:
            tx = decode(t).tx
            if isinstance(tx, Transfer) and tx.signers == (vpp,):
                paid += sum(o.amount for o in tx.outputs if o.asset == 0)
            elif isinstance(tx, Transfer) and tx.signers[0] in {d.public_key for d in sim.devices}:
                passed += sum(o.amount for o in tx.outputs if o.asset == 0)
    assert paid == passed


def test_an_equivocating_miner_is_caught_and_its_fee_confiscated() -> None:
    cfg = NetworkConfig(periods=20, seed=4, consensus=Consensus(producer_rule="auction", fee=0.05))
    sim, r = run(cfg, Adversary(equivocate=frozenset({2})))
    assert_one_chain(sim, r, 20)
    evidence = [tx for e in r.final for t in e.block.txs if isinstance(tx := decode(t).tx, Evidence)]
    assert evidence, "no evidence of equivocation on the chain"
    assert all(ev.first[0] != ev.second[0] for ev in evidence)
    assert r.forks >= len(evidence)


def test_a_withholding_winner_gets_three_strikes() -> None:
    sim, r = run(NetworkConfig(periods=40, seed=0), Adversary(withhold=frozenset({1})))
    assert_one_chain(sim, r, 40)
    stats = r.final[-1].chain.member_stats()
    assert stats["strikes"][1] == 3 and bool(stats["barred"][1])
    assert all(s == 0 for i, s in enumerate(stats["strikes"]) if i != 1)
    assert all(e.block.header.miner != sim.members[1].public_key for e in r.final[1:])


def test_a_private_fork_of_unchosen_blocks_is_rejected() -> None:
    adv = Adversary(private_fork=3, private_from=F + 4, private_release=F + 12)
    sim, r = run(NetworkConfig(periods=20, seed=0), adv)
    assert_one_chain(sim, r, 20)
    assert sim.private, "the attacker built nothing"
    private = {b.header.hash("blake3") for b in sim.private}
    for n in sim.nodes:
        assert not private & set(n.blocks), f"node {n.index} holds an attacker block"
    assert all(any("InvalidBlockError" in why for why in inv.values()) for inv in r.invalid_seen)


def test_a_partitioned_minority_rejoins_the_majority_chain() -> None:
    adv = Adversary(partition=(frozenset({5, 6}), F + 6, F + 12))
    sim, r = run(NetworkConfig(periods=24, seed=0), adv)
    assert_one_chain(sim, r, 24)
    assert r.forks > 0 and r.max_reorg_depth >= 1  # the minority built a branch and dropped it
    for i in (5, 6):
        assert sim.nodes[i].reorgs, f"node {i} never switched"
    for i in range(5):
        assert not sim.nodes[i].reorgs, "a majority node reorganised"


def test_shared_validation_changes_nothing() -> None:
    adv = Adversary(equivocate=frozenset({2}))
    cfg = NetworkConfig(periods=10, seed=4, consensus=Consensus(producer_rule="auction", fee=0.05))
    shared = NetworkSim(cfg, adv).run()
    alone = NetworkSim(NetworkConfig(**{**cfg.__dict__, "share_validation": False}), adv).run()
    assert shared.tips == alone.tips and shared.messages == alone.messages
    assert shared.invalid_seen == alone.invalid_seen and shared.reorgs == alone.reorgs


def test_runs_are_deterministic() -> None:
    a = NetworkSim(NetworkConfig(periods=8, seed=9)).run()
    b = NetworkSim(NetworkConfig(periods=8, seed=9)).run()
    assert a.tips == b.tips and a.messages == b.messages and a.approval_ms == b.approval_ms


def test_bad_configuration() -> None:
    from gridledger.errors import GridLedgerError

    with pytest.raises(GridLedgerError):
        NetworkSim(NetworkConfig(nodes=2))


NAN = float("nan")


@pytest.mark.parametrize(
    ("make", "field", "value"),
    [
        (lambda: NetworkConfig(nodes=2), "nodes", 2),
        (lambda: NetworkConfig(nodes=3.0), "nodes", 3.0),  # type: ignore[arg-type]
        (lambda: NetworkConfig(periods=-1), "periods", -1),
        (lambda: NetworkConfig(units=-2), "units", -2),
        (lambda: NetworkConfig(loss=1.5), "loss", 1.5),
        (lambda: NetworkConfig(loss=-0.1), "loss", -0.1),
        (lambda: NetworkConfig(loss=NAN), "loss", NAN),
        (lambda: NetworkConfig(bid_probability=NAN), "bid_probability", NAN),
        (lambda: NetworkConfig(latency_ms=(-5.0, 10.0)), "latency_ms", (-5.0, 10.0)),
        (lambda: NetworkConfig(latency_ms=(50.0, 10.0)), "latency_ms", (50.0, 10.0)),
        (lambda: NetworkConfig(latency_ms=(0.0, NAN)), "latency_ms", (0.0, NAN)),
        (lambda: NetworkConfig(seed=True), "seed", True),
        (lambda: Adversary(withhold=frozenset({-1})), "withhold", -1),
        (lambda: Adversary(private_fork=-3), "private_fork", -3),
        (lambda: Adversary(private_from=F + 5, private_release=F + 2), "private_release", F + 2),
        (lambda: Adversary(partition=(frozenset({1}), F + 5, F + 2)), "partition.last", F + 2),
        (lambda: Adversary(equivocate={1.5}), "equivocate", 1.5),  # type: ignore[arg-type]
        (lambda: NetworkSim(NetworkConfig(nodes=3), Adversary(private_fork=3)), "private_fork", 3),
        (lambda: NetworkSim(NetworkConfig(nodes=3), Adversary(withhold=frozenset({7}))), "withhold", 7),
        (lambda: NetworkSim(NetworkConfig(nodes=4), Adversary(equivocate=frozenset({4}))), "equivocate", 4),
        (
            lambda: NetworkSim(NetworkConfig(nodes=4), Adversary(partition=(frozenset({4}), F, F + 1))),
            "partition.nodes",
            4,
        ),
        (
            lambda: NetworkSim(NetworkConfig(nodes=3), Adversary(withhold=frozenset({0, 1}), private_fork=2)),
            "adversary",
            [0, 1, 2],
        ),
    ],
)
def test_a_bad_network_configuration_is_a_typed_error_naming_the_field(
    make: Callable[[], object], field: str, value: object
) -> None:
    # Issue 19 item 5: these raised IndexError or were silently accepted.
    with pytest.raises(BadConfigurationError) as e:
        make()
    assert e.value.field == field
    assert (
        e.value.value == value
        or (value != value and e.value.value != e.value.value)
        or (isinstance(value, tuple) and repr(e.value.value) == repr(value))
    )


def test_lossy_honest_network_reverts_no_approved_block() -> None:
    # Issue 19 item 5: a node acknowledged blocks of two branches (one per height), both were
    # approved, and "the highest approved block wins" then dropped the lower one.
    sim, r = run(NetworkConfig(nodes=3, periods=5, loss=0.2, seed=9))
    assert r.reverted_approved == 0
    assert r.agreed
    for n in sim.nodes:
        acked = [h for h, v in n.acks.items() if n.index in v and h in n.blocks]
        assert set(acked) <= set(n.chain_hashes(n.locked)), "a node acknowledged beside its own chain"


@pytest.mark.parametrize("seed", [24, 68])
def test_an_equivocator_under_loss_leaves_honest_nodes_agreed(seed: int) -> None:
    # Issue 19 item 5: without announcements after the last period, a lost last block left the
    # honest nodes on different tips.
    cfg = NetworkConfig(
        nodes=5, periods=6, loss=0.05, seed=seed, consensus=Consensus(producer_rule="auction", fee=0.05)
    )
    _, r = run(cfg, Adversary(equivocate=frozenset({1})))
    assert r.agreed and r.reverted_approved == 0


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[NetworkConfig, Adversary]:
    nodes = draw(st.integers(3, 6))
    periods = draw(st.integers(2, 6))
    cfg = NetworkConfig(
        nodes=nodes,
        periods=periods,
        loss=draw(st.sampled_from([0.0, 0.05, 0.1, 0.2, 0.3, 0.5])),
        latency_ms=draw(st.sampled_from([(20.0, 400.0), (50.0, 3000.0)])),
        seed=draw(st.integers(0, 2**32 - 1)),
        consensus=Consensus(producer_rule="auction", fee=0.05),
    )
    who = draw(st.integers(0, nodes - 1))
    kind = draw(st.sampled_from(["honest", "equivocate", "withhold", "private", "double_spend", "partition"]))
    adv = {
        "honest": Adversary(),
        "equivocate": Adversary(equivocate=frozenset({who})),
        "withhold": Adversary(withhold=frozenset({who})),
        "private": Adversary(private_fork=who, private_from=F + 1, private_release=F + periods - 1),
        "double_spend": Adversary(vpp_double_spend=frozenset({F + periods // 2})),
        # A minority cut off for a while; the links are back before the run ends.
        "partition": Adversary(partition=(frozenset(range((nodes - 1) // 2)), F, F + periods - 2)),
    }[kind]
    return cfg, adv


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_honest_nodes_never_revert_an_approved_block_and_end_on_one_tip(
    scenario: tuple[NetworkConfig, Adversary],
) -> None:
    cfg, adv = scenario
    sim, r = run(cfg, adv)
    assert r.reverted_approved == 0
    assert r.agreed, f"honest nodes end split: {[t.hex()[:8] for t in r.tips]}"
    # Approved blocks (by what any honest node saw) lie on one chain: the final one.
    final = {e.hash for e in r.final}
    for n in sim.honest():
        for h in n.blocks:
            if n.approved(h):
                assert h in final, f"node {n.index} saw an approved block off the final chain"


def test_a_node_with_a_fast_clock_does_not_stop_the_chain() -> None:
    # Issue 19 item 4: a block stamped a day ahead was valid, and since a block cannot precede its
    # parent, every honest producer after it was rejected: the chain stopped.
    sim, r = run(NetworkConfig(nodes=5, periods=12, seed=0), Adversary(fast_clock=frozenset({1})))
    assert_one_chain(sim, r, 12)
    stamped = [why for inv in r.invalid_seen for why in inv.values() if "timestamp_ms" in why]
    assert stamped, "the fast clock never produced"
    assert all(e.block.header.miner != sim.members[1].public_key for e in r.final[1:])
