"""Proof of benefit (SPEC §6): block validity rules and heaviest-Σλ fork choice."""

from __future__ import annotations

import numpy as np
import pytest
from gridledger.consensus.pob import PobBlock, PobChain, PobParams, Pool
from gridledger.errors import (
    DoubleSpendError,
    InvalidBlockError,
    InvalidSignatureError,
    InvalidTransactionError,
)
from gridledger.ev import FleetConfig, SimResult, simulate
from gridledger.keys import SigningKey

CHAIN_ID = bytes(range(32))
MINERS = [SigningKey.from_seed(bytes([i]) * 32) for i in range(3)]


@pytest.fixture(scope="module")
def run() -> SimResult:
    # A busy fleet (half connected at any time) so that the first rounds already trade.
    busy = FleetConfig(profile=(0.5,) * 48)
    return simulate(
        evs=60, households=120, capacity_kw=480, days=1, start="2019-03-04", bound=False, seed=3, fleet=busy
    )


def new_chain(run: SimResult) -> PobChain:
    sc = run.scenario
    pool = Pool(sc.first_round, sc.published, sc.transactions.grid_wh, sc.transactions.ids, sc.base_wh)
    params = PobParams(sc.cap_wh, sc.max_defer, sc.rounds_per_day, sc.round_minutes)
    return PobChain(pool, params, CHAIN_ID, sc.theta_prev_wh, sc.history_wh)


def ids_of(run: SimResult, rel: int) -> np.ndarray:
    return run.scenario.transactions.ids[np.flatnonzero(run.executed_round == rel)]


def block(
    chain: PobChain, parent: PobBlock | None, rel: int, ids: np.ndarray, lam: int, miner: int = 0
) -> PobBlock:
    return PobBlock.make(
        MINERS[miner],
        CHAIN_ID,
        parent,
        chain.pool.first_round + rel,
        ids,
        lam,
        chain.params.round_minutes,
        genesis_hash=chain.genesis,
    )


def build(chain: PobChain, run: SimResult, rounds: int) -> list[PobBlock]:
    lam = run.rounds["lambda"].to_numpy()
    out: list[PobBlock] = []
    for r in range(rounds):
        b = block(chain, out[-1] if out else None, r, ids_of(run, r), int(lam[r]))
        chain.add(b)
        out.append(b)
    return out


def test_the_simulated_schedule_is_a_valid_chain_and_weight_is_sum_lambda(run: SimResult) -> None:
    chain = new_chain(run)
    blocks = build(chain, run, 24)
    assert chain.tip == blocks[-1].hash()
    assert chain.weight() == int(run.rounds["lambda"][:24].cast(int).sum())
    assert [b.hash() for b in chain.best_chain()] == [b.hash() for b in blocks]


def test_a_wrong_lambda_is_rejected_and_leaves_the_chain_unchanged(run: SimResult) -> None:
    chain = new_chain(run)
    blocks = build(chain, run, 5)
    lam = int(run.rounds["lambda"][5])
    tip, weight = chain.tip, chain.weight()
    for wrong in (lam + 1, lam - 1, 0):
        with pytest.raises(InvalidBlockError) as e:
            chain.add(block(chain, blocks[-1], 5, ids_of(run, 5), wrong))
        assert e.value.field is not None and e.value.field.endswith("lambda")
    assert (chain.tip, chain.weight()) == (tip, weight)
    chain.add(block(chain, blocks[-1], 5, ids_of(run, 5), lam))  # the right claim is accepted
    assert chain.weight() == weight + lam


def test_unknown_and_already_executed_transactions_are_rejected(run: SimResult) -> None:
    chain = new_chain(run)
    blocks = build(chain, run, 6)
    ids = ids_of(run, 6)
    forged = np.vstack([ids, np.full((1, 32), 7, np.uint8)])
    with pytest.raises(InvalidTransactionError) as e:
        chain.add(block(chain, blocks[-1], 6, forged, 0))
    assert e.value.field == f"transactions[{len(ids)}]"
    # A transaction executed in round 2 on this branch, executed again.
    again = np.vstack([ids, ids_of(run, 2)[:1]])
    cand = chain.evaluate(chain.tip, [again])
    assert cand[0] == 0
    with pytest.raises(DoubleSpendError):
        chain.add(block(chain, blocks[-1], 6, again, 1))
    # The same id twice in one block.
    if len(ids):
        with pytest.raises(DoubleSpendError):
            chain.add(block(chain, blocks[-1], 6, np.vstack([ids, ids[:1]]), 1))


def test_a_transaction_from_the_future_is_rejected(run: SimResult) -> None:
    chain = new_chain(run)
    blocks = build(chain, run, 3)
    sc = run.scenario
    future = sc.transactions.ids[np.flatnonzero(sc.published > 10)[:1]]
    with pytest.raises(InvalidTransactionError):
        chain.add(block(chain, blocks[-1], 3, np.vstack([ids_of(run, 3), future]), 1))


def test_deferral_beyond_two_rounds_is_rejected(run: SimResult) -> None:
    chain = new_chain(run)
    sc = run.scenario
    blocks: list[PobBlock] = []
    # Execute nothing optional: at round 2 the transactions of round 0 are due.
    for r in range(2):
        lam = int(chain.evaluate(chain.tip, [np.zeros((0, 32), np.uint8)])[0])
        b = block(chain, blocks[-1] if blocks else None, r, np.zeros((0, 32), np.uint8), lam)
        chain.add(b)
        blocks.append(b)
    due = sc.transactions.ids[sc.published == 0]
    assert len(due) > 0
    with pytest.raises(InvalidBlockError) as e:
        chain.add(block(chain, blocks[-1], 2, due[1:], 1))
    assert e.value.field is not None and e.value.field.endswith("transactions")
    lam = int(chain.evaluate(chain.tip, [due])[0])
    chain.add(block(chain, blocks[-1], 2, due, lam))  # with all of them it is valid


def test_capacity_is_enforced(run: SimResult) -> None:
    sc = run.scenario
    pool = Pool(sc.first_round, sc.published, sc.transactions.grid_wh, sc.transactions.ids, sc.base_wh)
    tight = PobChain(pool, PobParams(int(sc.base_wh[0]), 2, sc.rounds_per_day, 5), CHAIN_ID, sc.theta_prev_wh)
    charges = sc.transactions.ids[(sc.published == 0) & (sc.transactions.grid_wh > 0)]
    assert len(charges) > 0
    assert tight.evaluate(tight.tip, [charges])[0] == 0
    with pytest.raises(InvalidBlockError):
        tight.add(block(tight, None, 0, charges, 1))


def test_bad_signature_height_and_parent_are_rejected(run: SimResult) -> None:
    chain = new_chain(run)
    blocks = build(chain, run, 2)
    good = block(chain, blocks[-1], 2, ids_of(run, 2), int(run.rounds["lambda"][2]))
    forged = PobBlock(good.header, good.lambda_fp, good.ids, bytes(64))
    with pytest.raises(InvalidSignatureError):
        chain.add(forged)
    with pytest.raises(InvalidBlockError):
        chain.add(PobBlock(good.header.with_(prev_hash=bytes(32)), good.lambda_fp, good.ids, good.signature))
    skip = block(chain, blocks[-1], 3, ids_of(run, 2), 1)
    with pytest.raises(InvalidBlockError) as e:
        chain.add(skip)
    assert e.value.field == "period"


def test_fork_choice_is_the_heaviest_chain_not_the_longest(run: SimResult) -> None:
    chain = new_chain(run)
    sc = run.scenario
    # Two competing blocks for round 0: the optimal set and "execute everything".
    best_ids = ids_of(run, 0)
    all_ids = sc.transactions.ids[sc.published == 0]
    lam = chain.evaluate(chain.tip, [best_ids, all_ids])
    assert lam[0] >= lam[1]
    a = block(chain, None, 0, best_ids, int(lam[0]), miner=1)
    b = block(chain, None, 0, all_ids, int(lam[1]), miner=2)
    chain.add(b)
    assert chain.tip == b.hash()
    chain.add(a)
    if lam[0] > lam[1]:
        assert chain.tip == a.hash()
    # The lighter branch grows longer; it wins only once its Σλ is higher.
    lam_b1 = int(chain.evaluate(b.hash(), [np.zeros((0, 32), np.uint8)])[0])
    b1 = block(chain, b, 1, np.zeros((0, 32), np.uint8), lam_b1, miner=2)
    chain.add(b1)
    w_a, w_b = chain.weight(a.hash()), chain.weight(b1.hash())
    assert chain.tip == (b1.hash() if w_b > w_a or (w_b == w_a and b1.hash() < a.hash()) else a.hash())


def test_equal_weight_ties_go_to_the_lower_tip_hash(run: SimResult) -> None:
    chain = new_chain(run)
    ids = ids_of(run, 0)
    lam = int(chain.evaluate(chain.tip, [ids])[0])
    x = block(chain, None, 0, ids, lam, miner=1)
    y = block(chain, None, 0, ids, lam, miner=2)  # same set and λ, another miner: another hash
    chain.add(x)
    chain.add(y)
    assert chain.tip == min(x.hash(), y.hash())


def test_candidates_lambda_ranks_the_optimal_set_first(run: SimResult) -> None:
    chain = new_chain(run)
    build(chain, run, 10)
    sc = run.scenario
    pending = (sc.published <= 10) & (run.executed_round >= 10)
    opt = ids_of(run, 10)
    everything = sc.transactions.ids[pending]
    due_only = sc.transactions.ids[(sc.published <= 8) & (run.executed_round >= 10)]
    lam = chain.evaluate(chain.tip, [everything, due_only, opt])
    assert int(lam[2]) == int(run.rounds["lambda"][10])
    assert lam[2] == lam.max()
    assert chain.best(chain.tip, [everything, due_only, opt]) == int(np.argmax(lam))


def test_a_shorter_heavier_chain_beats_a_longer_lighter_one(run: SimResult) -> None:
    # A two-slope window makes λ swing widely between blocks, so Σλ and length can disagree.
    sc = run.scenario
    pool = Pool(sc.first_round, sc.published, sc.transactions.grid_wh, sc.transactions.ids, sc.base_wh)
    chain = PobChain(pool, PobParams(sc.cap_wh, 2, 2, 5), CHAIN_ID, sc.theta_prev_wh, np.array([0]))
    ids0 = sc.transactions.ids[sc.published == 0]
    subsets = [ids0[[i for i in range(len(ids0)) if m >> i & 1]] for m in range(1 << min(len(ids0), 6))]
    lam0 = chain.evaluate(chain.tip, subsets)
    hi, lo = int(np.argmax(lam0)), int(np.argmin(lam0))
    assert lam0[hi] > 4 * lam0[lo]
    a = block(chain, None, 0, subsets[hi], int(lam0[hi]), miner=1)
    b0 = block(chain, None, 0, subsets[lo], int(lam0[lo]), miner=2)
    chain.add(b0)
    chain.add(a)
    assert chain.tip == a.hash()
    # Extend the light branch by its worst valid block: longer, and still lighter.
    pend = sc.transactions.ids[sc.published <= 1]
    pend = np.array([x for x in pend if not any((x == y).all() for y in subsets[lo])], np.uint8)
    cands = [pend[[i for i in range(len(pend)) if m >> i & 1]] for m in range(1 << min(len(pend), 6))]
    lam1 = chain.evaluate(b0.hash(), cands)
    w = int(np.argmin(np.where(lam1 > 0, lam1, np.iinfo(np.uint64).max)))
    b1 = block(chain, b0, 1, cands[w], int(lam1[w]), miner=2)
    chain.add(b1)
    assert chain.weight(b1.hash()) < chain.weight(a.hash())
    assert chain.tip == a.hash()  # the heaviest chain, not the longest
    assert [blk.hash() for blk in chain.best_chain()] == [a.hash()]
