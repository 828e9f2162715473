"""The auction draw, its exact win probabilities, the bidding game and PoS in a community run."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from gridledger import cli, community, consensus
from gridledger.errors import BadConfigurationError, InvalidArgumentError
from gridledger.ledger import ChainStore, Consensus, Winner, decode
from hypothesis import given, settings
from hypothesis import strategies as st


def exact_argmax(weights: list[int]) -> list[Fraction]:
    """P_i = ∫₀^{min(1, w_i/w_max)} Π_{j≠i} (1 − u·w_j/w_i) du, expanded and integrated exactly."""
    out = []
    w_max = max(weights)
    for i, wi in enumerate(weights):
        if wi == 0:
            out.append(Fraction(0))
            continue
        poly = [Fraction(1)]  # coefficients of u^k
        for j, wj in enumerate(weights):
            if j != i:
                c = Fraction(wj, wi)
                poly = [a - (c * poly[k - 1] if k else 0) for k, a in enumerate([*poly, Fraction(0)])]
        top = min(Fraction(1), Fraction(wi, w_max))
        out.append(sum((a * top ** (k + 1) / (k + 1) for k, a in enumerate(poly)), Fraction(0)))
    return out


def test_two_candidates_win_three_quarters_and_a_quarter() -> None:
    np.testing.assert_allclose(consensus.win_probabilities([2.0, 1.0]), [0.75, 0.25], atol=1e-14)
    np.testing.assert_allclose(
        consensus.win_probabilities([2.0, 1.0], "proportional"), [2 / 3, 1 / 3], atol=1e-15
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=7).filter(lambda w: sum(w) > 0))
def test_probabilities_equal_the_exact_integral(weights: list[int]) -> None:
    got = consensus.win_probabilities(np.array(weights, float))
    want = [float(x) for x in exact_argmax(weights)]
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert abs(got.sum() - 1) < 1e-12


def test_drawn_frequencies_match_the_probabilities() -> None:
    """20 000 chain-derived draws (U from the hash of each period) against the exact figures."""
    weights = np.array([3.0, 2.0, 1.0, 1.0, 0.5])
    keys = [bytes([i + 1]) * 32 for i in range(len(weights))]
    for rule in ("argmax_w_over_u", "proportional"):
        counts = np.zeros(len(weights))
        for period in range(20_000):
            counts[consensus.draw(weights, b"\x07" * 32, period, keys, rule)] += 1
        p = consensus.win_probabilities(weights, rule)
        expected = p * counts.sum()
        chi2 = float(((counts - expected) ** 2 / expected).sum())
        assert chi2 < 25.0, (rule, counts, expected)  # 4 degrees of freedom: p < 1e-4 beyond 23.5


def test_the_draw_is_what_every_node_recomputes() -> None:
    w = np.array([5.0, 1.0, 1.0])
    keys = np.frombuffer(b"".join(bytes([i]) * 32 for i in range(3)), np.uint8).reshape(3, 32)
    first = consensus.draw(w, b"\x01" * 32, 42, keys)
    assert all(consensus.draw(w, b"\x01" * 32, 42, keys) == first for _ in range(5))
    assert consensus.draw(np.zeros(3), b"\x01" * 32, 42, keys) in (0, 1, 2)


@pytest.mark.parametrize(
    ("weights", "keys"),
    [([1.0, float("nan")], 2), ([1.0, float("inf")], 2), ([1.0, -1.0], 2), ([1.0, 2.0], 3), ([], 0)],
)
def test_bad_draw_input(weights: list[float], keys: int) -> None:
    pk = np.zeros((keys, 32), np.uint8)
    with pytest.raises(InvalidArgumentError):
        consensus.draw(weights, bytes(32), 1, pk)
    if weights and keys == len(weights):
        with pytest.raises(InvalidArgumentError):
            consensus.win_probabilities(weights)


@pytest.mark.parametrize(
    ("seed", "period", "field"),
    [
        (bytes(32), -1, "period"),
        (bytes(32), 1 << 64, "period"),
        (bytes(32), 1.5, "period"),
        (bytes(32), 2.0, "period"),
        (bytes(32), "3", "period"),
        (bytes(32), None, "period"),
        ("ab" * 16, 1, "seed_hash"),
        (None, 1, "seed_hash"),
        (bytes(31), 1, "seed_hash"),
    ],
)
def test_draw_refuses_a_bad_period_or_seed_with_a_typed_error(
    seed: object, period: object, field: str
) -> None:
    """Issue 19 item 9: a negative or float period and a str seed raised OverflowError / TypeError."""
    with pytest.raises(InvalidArgumentError) as e:
        consensus.draw([1.0, 2.0], seed, period, np.zeros((2, 32), np.uint8))  # type: ignore[arg-type]
    assert e.value.field == field
    # Deliberately a NumPy integer where the signature says int: the boundary must take it.
    big = np.uint64((1 << 64) - 1)
    assert consensus.draw([1.0, 2.0], bytes(32), big, np.zeros((2, 32), np.uint8)) in (  # type: ignore[arg-type]
        0,
        1,
    )


@pytest.mark.parametrize("rule", ["argmax_w_over_u", "proportional"])
def test_win_probabilities_of_weights_whose_sum_overflows_are_exact(rule: str) -> None:
    """Issue 19 item 9: weights summing past the largest double gave all zeros."""
    huge = consensus.win_probabilities([1.5e308, 0.75e308, 0.0], rule)  # type: ignore[arg-type]
    small = consensus.win_probabilities([2.0, 1.0, 0.0], rule)  # type: ignore[arg-type]
    np.testing.assert_allclose(huge, small, rtol=0, atol=1e-13)
    assert abs(huge.sum() - 1.0) < 1e-12


def test_unknown_rule() -> None:
    with pytest.raises(BadConfigurationError):
        consensus.win_probabilities([1.0], "lottery")  # type: ignore[arg-type]


def test_the_bidding_game() -> None:
    frames = [consensus.simulate_bidding(sc, 1000, 200) for sc in consensus.SCENARIOS]
    df = pl.concat(frames)
    assert df.height == 4 * 200 * 4
    per_run = df.group_by("scenario", "seed").agg(pl.col("final_tokens").sum(), pl.col("wins").sum())
    assert (per_run["final_tokens"] == 400).all() and (per_run["wins"] == 1000).all()
    table = consensus.bidding_table(df).sort("scenario")
    share = dict(zip(table["scenario"], table["all_active_share"], strict=True))
    # The seed's qualitative result: sc1-sc3 lose a candidate, sc4 keeps all four.
    assert share["sc1"] < 0.05 and share["sc2"] < 0.05 and share["sc3"] < 0.05 and share["sc4"] > 0.8
    again = consensus.simulate_bidding("sc2", 1000, 200)
    assert again.equals(frames[1])
    traj = consensus.bidding_trajectory("sc4", seed=3, turns=50)
    assert traj.shape == (51, 4) and (traj.sum(axis=1) == 400).all()


def test_the_miner_rule_reproduces_table_4s_two_even_survivors() -> None:
    """Seed 000 Table 4: sc1-sc3 end with two survivors near 490 wins each; sc4 keeps all four.

    Under the miner rule (the previous winner runs the auction and does not bid)
    most runs do so; with everyone bidding, one candidate takes nearly every turn.
    """
    seeds = np.arange(1000, 3000)
    df = pl.concat(
        [
            consensus.simulate_bidding(sc, 1000, seeds, miner_rule=m)
            for sc in consensus.SCENARIOS
            for m in consensus.MINER_RULES
        ]
    )
    t = consensus.bidding_table(df)
    got = {(r["scenario"], r["miner_rule"]): r for r in t.iter_rows(named=True)}
    for sc in ("sc1", "sc2", "sc3"):
        ours, all_bid = got[sc, "previous_winner"], got[sc, "all_bid"]
        assert ours["two_even_share"] > 0.75, (sc, ours)
        assert 450 < ours["wins_2"] <= ours["wins_1"] < 520
        assert all_bid["two_even_share"] == 0 and all_bid["wins_1"] > 850
    assert got["sc4", "previous_winner"]["all_active_share"] > 0.95
    assert got["sc4", "previous_winner"]["two_even_share"] == 0
    # The seed's own runs sit in our table beside the distributions.
    t4 = consensus.table_4(t)
    seed = t4.filter(pl.col("source") == "seed 000").sort("scenario")
    assert seed["wins_1"].to_list() == [494, 489, 493, 337]
    assert seed["two_even_share"].to_list() == [1, 1, 1, 0]
    assert t4.height == 12


def test_a_miner_runs_the_auction_and_keeps_its_tokens() -> None:
    traj = consensus.bidding_trajectory("sc2", seed=4, turns=200)
    # Only the winner gains; the miner (the previous winner) neither wins nor pays.
    # A turn whose bids were all 0 shows no winner, so the next turn's miner is unknown.
    prev_winner = None
    alternations = 0
    for t in range(1, 201):
        gained = np.flatnonzero(traj[t] > traj[t - 1])
        assert gained.size <= 1
        if gained.size and prev_winner is not None:
            assert gained[0] != prev_winner
            assert traj[t, prev_winner] == traj[t - 1, prev_winner]
            alternations += 1
        prev_winner = int(gained[0]) if gained.size else None
    assert alternations > 100
    everyone = consensus.bidding_trajectory("sc2", seed=4, turns=200, miner_rule="all_bid")
    assert not np.array_equal(traj, everyone)
    with pytest.raises(BadConfigurationError, match="miner_rule") as e:
        consensus.simulate_bidding("sc2", 10, 2, miner_rule="nobody")  # type: ignore[arg-type]
    assert e.value.field == "miner_rule"


def test_bias_report_compares_both_rules() -> None:
    df = pl.concat(
        [consensus.simulate_bidding("sc4", 300, 100, r) for r in ("argmax_w_over_u", "proportional")]
    )
    bias = consensus.rule_bias(consensus.bidding_table(df))
    assert bias.height == 1 and {"gini_from_bias", "all_active_from_bias"} <= set(bias.columns)


@pytest.mark.parametrize(
    ("kw", "error"), [({"alpha": -0.1}, BadConfigurationError), ({"turns": 0}, InvalidArgumentError)]
)
def test_bad_game_parameters(kw: dict[str, float], error: type[Exception]) -> None:
    with pytest.raises(error):
        consensus.simulate_bidding("sc2", **kw)  # type: ignore[arg-type]
    with pytest.raises(BadConfigurationError):
        consensus.simulate_bidding("sc9", 10, 2)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kw",
    [
        {"alpha": -1.0},
        {"gamma": float("nan")},
        {"strikes": 0},
        {"fee": 1.5},
        {"draw": "dice"},
        {"grace_s": -1.0},
    ],
)
def test_bad_consensus_parameters(kw: dict[str, object]) -> None:
    with pytest.raises(BadConfigurationError):
        Consensus(producer_rule="auction", **kw)  # type: ignore[arg-type]


def test_gate_closure_before_opening_and_d_below_one_are_refused() -> None:
    c = community.Community.default(
        3, 1, consensus=Consensus(producer_rule="auction", gate_open_s=600, gate_close_s=400)
    )
    with pytest.raises(BadConfigurationError):
        c.genesis(100).encode()
    c2 = community.Community.default(3, 1, vote_validity=0)
    with pytest.raises(BadConfigurationError):
        c2.genesis(100).encode()


def test_a_community_run_uses_the_auction(tmp_path: Path) -> None:
    c = community.Community.default(8, 3, seed=2)
    r = community.simulate(c, datetime(2019, 6, 3, tzinfo=UTC), days=1, store=tmp_path / "c.sqlite")
    assert r.auction_txs > 0
    with ChainStore(tmp_path / "c.sqlite") as s:
        assert s.verify().ok
        prev_next = s.block(0).header.next_winner
        winners = 0
        for h in range(1, s.height + 1):
            b = s.block(h)
            assert b.header.miner == prev_next  # every block by the producer the chain chose
            prev_next = b.header.next_winner
            for t in b.txs:
                tx = decode(t).tx
                if isinstance(tx, Winner) and tx.winner != bytes(32):
                    winners += 1
                    assert tx.winner == b.header.next_winner
        assert winners > 10
    stats = r.chain.member_stats()
    assert stats["made"].sum() == r.blocks and stats["strikes"].sum() == 0


def test_pos_sim_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["pos-sim", "--seeds", "50", "--turns", "200", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "sc4" in out and "bias" in out
    assert (tmp_path / "trajectories_argmax_w_over_u.png").stat().st_size > 10_000
    assert "seed 000" in out and "previous_winner" in out and "all_bid" in out
    # 4 scenarios x 2 draw rules x 2 miner rules, 50 runs of 4 candidates each.
    assert pl.read_parquet(tmp_path / "bidding_runs.parquet").height == 16 * 50 * 4
