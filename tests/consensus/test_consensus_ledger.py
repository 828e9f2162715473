"""The proof-of-stake auction on the ledger (SPEC §3): candidacies, the Winner, the
producer named in the header, fallback producers and three strikes, the no-candidate
penalty, the miner fee and equivocation evidence."""

from __future__ import annotations

import pytest
from gridledger.errors import (
    InvalidBlockError,
    InvalidSignatureError,
    InvalidTransactionError,
    NotAuthorisedError,
)
from gridledger.keys import SigningKey
from gridledger.ledger import (
    Asset,
    Candidate,
    Consensus,
    Evidence,
    Output,
    SignedTransaction,
    Winner,
)
from ledger_world import D, World, rejected

END_GRACE = 120_000


def auction_world(**kw: object) -> World:
    w = World(consensus=Consensus(producer_rule="auction", **kw))  # type: ignore[arg-type]
    w.members = [*w.members, SigningKey.from_seed(b"\x09" * 32)]
    w.__post_init__()
    return w


def fund(w: World) -> list[SignedTransaction]:
    """One period whose distribution gives members 0 and 1 one voting token each; returns it."""
    txs = w.valid_period()
    w.append(txs)
    return txs


def start_ms(w: World) -> int:
    return w.period * 900_000


def candidacy(
    w: World, who: int, dist: SignedTransaction, vote_index: int, sent_ms: int | None = None
) -> SignedTransaction:
    m = w.members[who]
    exp = w.chain.period + D - (w.chain.period - dist.tx.period)  # tokens keep their expiry
    sent = start_ms(w) + 60_000 if sent_ms is None else sent_ms
    c = Candidate(
        w.tag,
        w.period,
        m.public_key,
        sent,
        (dist.outpoint(vote_index),),
        (Output(w.chain.next_miner, 1, Asset.VOTE, exp),),
    )
    return c.sign(m)


def winner_tx(w: World, cands: list[SignedTransaction], on_time: list[bool]) -> SignedTransaction:
    offers = [c for c, t in zip(cands, on_time, strict=True) if t]
    won, _ = w.chain.auction([c.tx.candidate for c in offers], [1] * len(offers))  # type: ignore[union-attr]
    outs = []
    exp = cands[0].tx.outputs[0].expires
    if won is not None:
        outs.append(Output(won, len(offers), Asset.VOTE, exp))
    outs += [Output(c.tx.candidate, 1, Asset.VOTE, exp) for c, t in zip(cands, on_time, strict=True) if not t]  # type: ignore[union-attr]
    miner = w.miner()
    tx = Winner(
        w.tag, w.period, miner.public_key, won or bytes(32), tuple(c.outpoint(0) for c in cands), tuple(outs)
    )
    return tx.sign(miner)


def test_an_on_time_auction_names_the_next_producer() -> None:
    w = auction_world()
    dist = fund(w)[3]
    cands = [candidacy(w, 0, dist, 2), candidacy(w, 1, dist, 3)]
    win = winner_tx(w, cands, [True, True])
    block = w.seal([*cands, win])
    receipt = w.chain.append(block)
    assert receipt.winner == win.tx.winner and receipt.on_time == 2 and not receipt.penalised  # type: ignore[union-attr]
    assert w.chain.next_miner == win.tx.winner  # type: ignore[union-attr]
    assert w.chain.balance(win.tx.winner)[1] == 2  # type: ignore[union-attr]
    # The winner (and only it, on time) produces the next block.
    w.append([])
    assert w.chain.member_stats()["made"].sum() == 3


def test_the_header_must_name_the_draws_winner() -> None:
    w = auction_world()
    dist = fund(w)[3]
    cands = [candidacy(w, 0, dist, 2), candidacy(w, 1, dist, 3)]
    win = winner_tx(w, cands, [True, True])
    loser = next(m.public_key for m in w.members[:2] if m.public_key != win.tx.winner)  # type: ignore[union-attr]
    bad = w.chain.seal([c.encode() for c in [*cands, win]], w.miner(), next_winner=loser)
    rejected(w, bad, InvalidBlockError, "header.next_winner")
    wrong = Winner(
        w.tag,
        w.period,
        w.miner().public_key,
        loser,
        win.tx.inputs,  # type: ignore[union-attr]
        (Output(loser, 2, Asset.VOTE, win.tx.outputs[0].expires),),
    ).sign(w.miner())
    rejected(w, w.seal([*cands, wrong]), InvalidTransactionError, "tx[2].winner")
    rejected(w, w.seal(cands), InvalidBlockError, "txs")  # candidacies without a Winner
    w.append([*cands, win])


def test_late_candidacies_are_refunded() -> None:
    w = auction_world()
    dist = fund(w)[3]
    late = start_ms(w) + 900_000 - 1  # after gate closure (period end − 60 s)
    cands = [candidacy(w, 0, dist, 2), candidacy(w, 1, dist, 3, sent_ms=late)]
    win = winner_tx(w, cands, [True, False])
    assert win.tx.winner == w.members[0].public_key  # type: ignore[union-attr]
    receipt = w.chain.append(w.seal([*cands, win]))
    assert (receipt.on_time, receipt.late) == (1, 1)
    assert w.chain.balance(w.members[1].public_key)[1] == 1  # refunded


def test_candidacy_rules() -> None:
    w = auction_world()
    dist = fund(w)[3]
    thief = candidacy(w, 0, dist, 3)  # member 1's token
    rejected(w, w.seal([thief, winner_tx(w, [thief], [True])]), NotAuthorisedError, "tx[0].inputs[0]")
    stranger = SigningKey.from_seed(b"\x55" * 32)
    c = Candidate(
        w.tag,
        w.period,
        stranger.public_key,
        start_ms(w),
        (dist.outpoint(2),),
        (Output(w.chain.next_miner, 1, Asset.VOTE, w.period + D - 1),),
    ).sign(stranger)
    rejected(w, w.seal([c]), NotAuthorisedError, "tx[0].candidate")
    energy = Candidate(
        w.tag,
        w.period,
        w.members[0].public_key,
        start_ms(w),
        (dist.outpoint(0),),
        (Output(w.chain.next_miner, 120, Asset.VOTE, w.period),),
    ).sign(w.members[0])
    rejected(w, w.seal([energy]), InvalidTransactionError, "tx[0].inputs")
    ok = candidacy(w, 0, dist, 2)
    twice = candidacy(w, 0, dist, 2, sent_ms=start_ms(w) + 61_000)
    rejected(w, w.seal([ok, twice]), InvalidTransactionError, "tx[1].candidate")
    for _ in range(D):
        w.append([])
    expired = candidacy(w, 0, dist, 2)
    rejected(
        w, w.seal([expired, winner_tx(w, [expired], [True])]), InvalidTransactionError, "tx[0].inputs[0]"
    )


def test_no_candidate_penalises_every_member_and_draws_equally() -> None:
    w = auction_world()
    expected = w.chain.no_candidate_winner()
    receipt = w.chain.append(w.seal([]))
    assert receipt.penalised and w.chain.next_miner == expected
    assert w.chain.member_stats()["penalties"].tolist() == [1, 1, 1, 1]


def test_fallback_producers_and_their_time_windows() -> None:
    w = auction_world()
    chosen = w.chain.next_miner
    fallback = w.chain.producers()[1]
    assert fallback != chosen and set(w.chain.producers()) == {m.public_key for m in w.members}
    end = w.genesis().period_end_ms(w.period)
    early = w.chain.seal([], w.member(fallback), timestamp_ms=end + END_GRACE - 1)
    rejected(w, early, InvalidBlockError, "header.timestamp_ms")
    late_chosen = w.chain.seal([], w.member(chosen), timestamp_ms=end + END_GRACE)
    rejected(w, late_chosen, InvalidBlockError, "header.timestamp_ms")
    outsider = SigningKey.from_seed(b"\x66" * 32)
    rejected(w, w.chain.seal([], outsider), InvalidBlockError, "header.miner")
    receipt = w.chain.append(w.chain.seal([], w.member(fallback)))
    i = [m.public_key for m in w.members].index(chosen)
    assert receipt.missed == i and w.chain.member_stats()["strikes"][i] == 1


def test_a_winner_missing_three_times_is_barred_and_loses_its_reputation() -> None:
    w = auction_world(strikes=3)
    victim = w.members[2].public_key
    i = 2
    for _ in range(200):
        chosen = w.chain.next_miner
        if chosen == victim:
            w.chain.append(w.chain.seal([], w.member(w.chain.producers()[1])))
        else:
            w.append([])
        stats = w.chain.member_stats()
        if stats["strikes"][i] == 3:
            break
        assert not stats["barred"][i]
    stats = w.chain.member_stats()
    assert stats["strikes"][i] == 3 and stats["barred"][i]
    assert stats["made"][i] - stats["penalties"][i] <= 0
    assert victim not in w.chain.producers()[1:]


def test_three_strikes_bar_a_member_from_candidacy() -> None:
    w = auction_world(strikes=1)
    chosen = w.chain.next_miner
    w.chain.append(w.chain.seal([], w.member(w.chain.producers()[1])))
    i = [m.public_key for m in w.members].index(chosen)
    assert w.chain.member_stats()["barred"][i]
    assert chosen not in w.chain.producers()[1:]
    # Fund the barred member and let it stand: refused.
    while True:
        txs = w.valid_period((100, 100))
        if w.chain.next_miner != chosen:
            break
        w.append([])
    w.append(txs)
    dist = txs[3]
    if i in (0, 1):
        c = candidacy(w, i, dist, 2 + i)
        rejected(w, w.seal([c, winner_tx(w, [c], [True])]), NotAuthorisedError, "tx[0].candidate")


def test_miner_fee_is_paid_as_the_distributions_last_output() -> None:
    w = auction_world(fee=0.05)
    c1, c2, t = w.valid_period()[:3]
    vpp, m0, m1 = w.vpp.public_key, w.members[0].public_key, w.members[1].public_key
    exp = w.period + D
    miner = w.chain.next_miner
    ins = [t.outpoint(0), t.outpoint(1)]
    no_fee = w.transfer([w.vpp], ins, [Output(m0, 120), Output(m1, 80), Output(m0, 2, Asset.VOTE, exp)])
    rejected(w, w.seal([c1, c2, t, no_fee]), InvalidTransactionError, "outputs[2]")
    paid = w.transfer(
        [w.vpp], ins, [Output(m0, 110), Output(m1, 80), Output(m0, 2, Asset.VOTE, exp), Output(miner, 10)]
    )
    w.append([c1, c2, t, paid])
    assert w.chain.balance(miner)[0] >= 10
    assert w.chain.balance(vpp) == (0, 0)


def test_equivocation_evidence_confiscates_the_fee() -> None:
    w = auction_world(fee=0.05)
    c1, c2, t = w.valid_period()[:3]
    miner = w.miner()
    exp = w.period + D
    m0, m1 = w.members[0].public_key, w.members[1].public_key
    ins = [t.outpoint(0), t.outpoint(1)]
    fee_out = Output(miner.public_key, 10)
    a = w.transfer([w.vpp], ins, [Output(m0, 110), Output(m1, 80), Output(m0, 2, Asset.VOTE, exp), fee_out])
    b = w.transfer([w.vpp], ins, [Output(m0, 80), Output(m1, 110), Output(m0, 2, Asset.VOTE, exp), fee_out])
    block_a = w.seal([c1, c2, t, a])
    block_b = w.seal([c1, c2, t, b])  # the same miner signs a second block at this height
    assert block_a.header.hash() != block_b.header.hash()
    w.chain.append(block_a)
    w.seq[0] += 2
    height = block_a.height
    pair = ((block_a.header.encode(), block_a.signature), (block_b.header.encode(), block_b.signature))
    reporter = w.miner()
    fee_point = a.outpoint(3)
    ev = Evidence(w.tag, w.period, reporter.public_key, *pair, (fee_point,)).sign(reporter)
    before = w.chain.balance(miner.public_key)[0]
    receipt = w.chain.check(w.seal([ev]))
    assert receipt.evidence == 1 and receipt.fees[0] == 10
    # Wrong reporter, a single block twice, a missing confiscation: refused.
    same = Evidence(w.tag, w.period, reporter.public_key, pair[0], pair[0], (fee_point,)).sign(reporter)
    rejected(w, w.seal([same]), InvalidTransactionError, "tx[0].evidence")
    keeps = Evidence(w.tag, w.period, reporter.public_key, *pair).sign(reporter)
    rejected(w, w.seal([keeps]), InvalidTransactionError, "tx[0].inputs")
    forged = Evidence(
        w.tag, w.period, reporter.public_key, pair[0], (pair[1][0], bytes(64)), (fee_point,)
    ).sign(reporter)
    rejected(w, w.seal([forged]), InvalidSignatureError, "tx[0].evidence")
    w.chain.append(w.seal([ev]))
    assert w.chain.balance(miner.public_key)[0] == before - 10
    again = Evidence(w.tag, w.period, w.miner().public_key, *pair).sign(w.miner())
    rejected(w, w.seal([again]), InvalidTransactionError, "tx[0].evidence")
    assert height == 1


@pytest.mark.parametrize("draw", ["argmax_w_over_u", "proportional"])
def test_both_draw_rules_run_the_protocol(draw: str) -> None:
    w = auction_world(draw=draw)
    for _ in range(3):
        dist = fund(w)[3]
        # Members 0 and 1 hold the tokens; the period's miner does not stand.
        cands = [
            candidacy(w, i, dist, 2 + i) for i in (0, 1) if w.members[i].public_key != w.chain.next_miner
        ]
        w.chain.append(w.seal([*cands, winner_tx(w, cands, [True] * len(cands))]))
    assert w.chain.height == 6


def funded_miner(w: World) -> tuple[int, SignedTransaction]:
    """Fund periods until the next block's miner is member 0 or 1 (who hold voting tokens)."""
    for _ in range(50):
        dist = fund(w)[3]
        for i in (0, 1):
            if w.members[i].public_key == w.chain.next_miner:
                return i, dist
    raise AssertionError("member 0 or 1 never became the miner")


def test_the_miner_is_not_a_candidate_in_the_auction_it_runs() -> None:
    w = auction_world()
    me, dist = funded_miner(w)
    other = 1 - me
    # The miner's own candidacy is refused (SPEC §3): nothing changes.
    own = candidacy(w, me, dist, 2 + me)
    rejected(w, w.seal([own, winner_tx(w, [own], [True])]), NotAuthorisedError, "tx[0].candidate")
    both = [candidacy(w, other, dist, 2 + other), own]
    rejected(w, w.seal([*both, winner_tx(w, both, [True, True])]), NotAuthorisedError, "tx[1].candidate")
    # Another member's candidacy to the same miner is accepted and wins the auction.
    cand = candidacy(w, other, dist, 2 + other)
    receipt = w.chain.append(w.seal([cand, winner_tx(w, [cand], [True])]))
    assert receipt.winner == w.members[other].public_key and receipt.on_time == 1
    assert w.chain.next_miner == w.members[other].public_key
    # Next period the roles swap: the former miner stands, to the new one, and is accepted.
    again = candidacy(w, me, dist, 2 + me)
    assert again.tx.outputs[0].owner == w.members[other].public_key
    receipt = w.chain.append(w.seal([again, winner_tx(w, [again], [True])]))
    assert receipt.winner == w.members[me].public_key


def test_round_robin_chains_refuse_auction_transactions() -> None:
    w = World()
    dist = fund(w)[3]
    c = candidacy(w, 0, dist, 2)
    rejected(w, w.seal([c]), InvalidTransactionError, "tx[0].kind")


def test_the_last_fallback_cannot_stamp_beyond_the_next_period() -> None:
    # Issue 19 item 4: the last fallback's window had no end, so it could stamp a block a day
    # ahead and stop every later producer (a block cannot precede its parent).
    w = auction_world()
    last = w.chain.producers()[-1]
    end_next = w.genesis().period_end_ms(w.period + 1)
    far = w.chain.seal([], w.member(last), timestamp_ms=end_next + 86_400_000)
    rejected(w, far, InvalidBlockError, "header.timestamp_ms")
    w.chain.append(w.chain.seal([], w.member(last), timestamp_ms=end_next))
    w.chain.append(w.chain.seal([], w.miner()))  # the next chosen producer, at its default time
    assert w.chain.height == 2
