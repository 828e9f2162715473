"""Every ledger rule (SPEC §2, docs/ledger.md) accepts a valid case and rejects a broken one,
with a typed error naming the field, and a rejected block leaves the chain unchanged."""

from __future__ import annotations

import pytest
from gridledger.errors import (
    DoubleSpendError,
    InsufficientFundsError,
    InvalidBlockError,
    InvalidSignatureError,
    InvalidTransactionError,
    NotAuthorisedError,
)
from gridledger.hashing import hash_one
from gridledger.ledger import Asset, Block, Outpoint, Output, SignedTransaction, Transfer
from ledger_world import D, V, World, rejected


@pytest.fixture(params=["blake3", "sha256"])
def world(request: pytest.FixtureRequest) -> World:
    return World(algorithm=request.param)


def test_a_valid_period_and_an_empty_period_append(world: World) -> None:
    world.append(world.valid_period())
    world.append([])
    assert world.chain.height == 2
    m0, m1 = world.members[0].public_key, world.members[1].public_key
    assert world.chain.balance(m0) == (120, 1)
    assert world.chain.balance(m1) == (80, 1)
    assert world.chain.balance(world.vpp.public_key) == (0, 0)
    assert world.chain.n_tx == 4


def test_invalid_signature(world: World) -> None:
    txs = world.valid_period()
    bad = SignedTransaction(txs[3].tx, txs[3].body, (bytes(64),), txs[3].id)
    rejected(world, world.seal([*txs[:3], bad]), InvalidSignatureError, "tx[3].signatures[0]")
    wrong_key = txs[3].tx.sign(world.vpp, algorithm=world.algorithm)
    assert isinstance(wrong_key.tx, Transfer)
    world.append([*txs[:3], wrong_key])


def test_header_signature_and_miner(world: World) -> None:
    txs = world.valid_period()
    good = world.seal(txs)
    forged = Block(good.header, bytes(64), good.txs)
    rejected(world, forged, InvalidSignatureError, "header.signature")
    other = next(k for k in world.members if k.public_key != world.chain.next_miner)
    by_other = world.chain.seal([t.encode() for t in txs], other)
    by_other = Block(by_other.header.with_(miner=other.public_key), b"", by_other.txs)
    by_other = Block(by_other.header, other.sign(by_other.header.hash(world.algorithm)), by_other.txs)
    rejected(world, by_other, InvalidBlockError, "header.miner")
    world.chain.append(good)


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("prev_hash", lambda h: h.with_(prev_hash=bytes(32))),
        ("tx_root", lambda h: h.with_(tx_root=bytes(32))),
        ("height", lambda h: h.with_(height=h.height + 1)),
        ("period", lambda h: h.with_(period=h.period + 1, timestamp_ms=h.timestamp_ms + 900_000)),
        ("n_tx", lambda h: h.with_(n_tx=h.n_tx + 1)),
        ("timestamp_ms", lambda h: h.with_(timestamp_ms=h.timestamp_ms - 1)),
        ("chain_id", lambda h: h.with_(chain_id=bytes(32))),
        ("next_winner", lambda h: h.with_(next_winner=h.miner if h.miner != h.next_winner else bytes(32))),
    ],
)
def test_header_rules(world: World, field: str, change: object) -> None:
    txs = world.valid_period()
    good = world.seal(txs)
    header = change(good.header)  # type: ignore[operator]
    bad = Block(header, world.miner().sign(header.hash(world.algorithm)), good.txs)
    rejected(world, bad, InvalidBlockError, f"header.{field}")
    world.chain.append(good)


def test_double_spend_within_a_block(world: World) -> None:
    c = world.create()
    vpp = world.vpp.public_key
    a = world.transfer([world.devices[0]], [c.outpoint(0)], [Output(vpp, V)])
    b = world.transfer([world.devices[0]], [c.outpoint(0)], [Output(vpp, V - 1), Output(vpp, 1)])
    err = rejected(world, world.seal([c, a, b]), DoubleSpendError, "tx[2].inputs[0]")
    assert "already spent in this block" in str(err)
    twice = world.transfer([world.devices[0]], [c.outpoint(0), c.outpoint(0)], [Output(vpp, 2 * V)])
    rejected(world, world.seal([c, twice]), DoubleSpendError, "tx[1].inputs[1]")
    rejected(world, world.seal([c, a, a]), DoubleSpendError, "tx[2]")
    world.append([c, a])


def test_double_spend_across_blocks(world: World) -> None:
    txs = world.valid_period()
    world.append(txs)
    m0 = world.members[0]
    dist = txs[3]
    spend = world.transfer([m0], [dist.outpoint(0)], [Output(world.members[2].public_key, 120)])
    world.append([spend])
    again = world.transfer([m0], [dist.outpoint(0)], [Output(world.members[1].public_key, 120)])
    err = rejected(world, world.seal([again]), DoubleSpendError, "tx[0].inputs[0]")
    assert "earlier block" in str(err)
    rejected(world, world.seal([spend]), DoubleSpendError, "tx[0]")


def test_outputs_above_inputs(world: World) -> None:
    txs = world.valid_period()
    world.append(txs)
    m0 = world.members[0]
    over = world.transfer([m0], [txs[3].outpoint(0)], [Output(world.members[1].public_key, 121)])
    rejected(world, world.seal([over]), InsufficientFundsError, "tx[0].outputs")
    votes = world.transfer(
        [m0], [txs[3].outpoint(0)], [Output(world.members[1].public_key, 1, Asset.VOTE, world.period + D)]
    )
    rejected(world, world.seal([votes]), InsufficientFundsError, "tx[0].outputs")
    with_fee = world.transfer([m0], [txs[3].outpoint(0)], [Output(world.members[1].public_key, 119)])
    receipt = world.chain.check(world.seal([with_fee]))
    assert receipt.fees == (1, 0)
    world.append([with_fee])


def test_unknown_and_missing_inputs(world: World) -> None:
    txs = world.valid_period()
    world.append(txs)
    m0 = world.members[0]
    to = world.members[1].public_key
    unknown = world.transfer([m0], [Outpoint(bytes(range(32)), 0)], [Output(to, 1)])
    err = rejected(world, world.seal([unknown]), InvalidTransactionError, "tx[0].inputs[0]")
    assert "unknown input" in str(err)
    no_index = world.transfer([m0], [Outpoint(txs[3].id, 60)], [Output(to, 1)])
    rejected(world, world.seal([no_index]), InvalidTransactionError, "tx[0].inputs[0]")
    world.append([world.transfer([m0], [txs[3].outpoint(0)], [Output(to, 120)])])


def test_ownership(world: World) -> None:
    txs = world.valid_period()
    world.append(txs)
    thief = world.members[2]
    steal = world.transfer([thief], [txs[3].outpoint(0)], [Output(thief.public_key, 120)])
    rejected(world, world.seal([steal]), NotAuthorisedError, "tx[0].inputs[0]")
    m0, m1 = world.members[0], world.members[1]
    idle_signer = world.transfer([m0, thief], [txs[3].outpoint(0)], [Output(thief.public_key, 120)])
    rejected(world, world.seal([idle_signer]), InvalidTransactionError, "tx[0].signers")
    both = world.transfer([m0, m1], [txs[3].outpoint(0), txs[3].outpoint(1)], [Output(thief.public_key, 200)])
    world.append([both])
    assert world.chain.balance(thief.public_key)[0] == 200


def test_units_pay_only_the_vpp_and_the_vpp_distributes_exactly(world: World) -> None:
    c = world.create()
    dev = world.devices[0]
    m0 = world.members[0].public_key
    elsewhere = world.transfer([dev], [c.outpoint(0)], [Output(m0, V)])
    rejected(world, world.seal([c, elsewhere]), NotAuthorisedError, "tx[1].outputs[0].owner")
    short = world.transfer([dev], [c.outpoint(0)], [Output(world.vpp.public_key, V - 1)])
    rejected(world, world.seal([c, short]), InvalidTransactionError, "tx[1].outputs")
    txs = world.valid_period()
    d = txs[3].tx
    assert isinstance(d, Transfer)
    keeps_some = Transfer(d.chain_tag, d.period, d.signers, d.inputs, (Output(m0, 199), *d.outputs[2:]))
    err = rejected(
        world,
        world.seal([*txs[:3], keeps_some.sign(world.vpp, algorithm=world.algorithm)]),
        InvalidTransactionError,
        "outputs",
    )
    assert "repartition must sum to the input" in str(err)
    world.append(txs)


def test_creates_follow_the_registry(world: World) -> None:
    stranger = World().members[0]
    assert stranger.public_key not in [d.public_key for d in world.devices]
    from gridledger.keys import SigningKey
    from gridledger.ledger import Create

    rogue_key = SigningKey.from_seed(b"\x42" * 32)
    alg = world.algorithm
    rogue = Create.quantum(world.tag, world.period, rogue_key.public_key, 1, V).sign(rogue_key, algorithm=alg)
    rejected(world, world.seal([rogue]), NotAuthorisedError, "tx[0].device")
    big = Create.quantum(world.tag, world.period, world.devices[0].public_key, 1, V + 1).sign(
        world.devices[0],
        algorithm=alg,
    )
    rejected(world, world.seal([big]), InvalidTransactionError, "tx[0].outputs")
    gap = world.create(0, 2)
    rejected(world, world.seal([gap]), InvalidTransactionError, "tx[0].seq")
    first = world.create(0, 1)
    world.append([first])
    replay = world.create(0, 1)
    rejected(world, world.seal([replay]), InvalidTransactionError, "tx[0].seq")
    world.append([world.create(0, 2)])


def test_transactions_for_closed_or_future_periods(world: World) -> None:
    world.append([])
    m = world.valid_period()
    vpp = world.vpp.public_key
    c = world.create()
    late = world.transfer([world.devices[0]], [c.outpoint(0)], [Output(vpp, V)], period=world.period - 1)
    err = rejected(world, world.seal([c, late]), InvalidTransactionError, "tx[1].period")
    assert "closed" in str(err)
    early = world.transfer([world.devices[0]], [c.outpoint(0)], [Output(vpp, V)], period=world.period + 1)
    err = rejected(world, world.seal([c, early]), InvalidTransactionError, "tx[1].period")
    assert "not started" in str(err)
    world.append(m)


def test_voting_tokens_expire_after_d_periods(world: World) -> None:
    txs = world.valid_period()
    world.append(txs)
    m0 = world.members[0]
    vote = txs[3].outpoint(2)
    exp = world.chain.period + D
    for _ in range(D - 1):
        world.append([])
    in_time = world.transfer([m0], [vote], [Output(world.members[2].public_key, 1, Asset.VOTE, exp)])
    world.chain.check(world.seal([in_time]))  # the last valid period
    world.append([])
    late = world.transfer([m0], [vote], [Output(world.members[2].public_key, 1, Asset.VOTE, exp)])
    err = rejected(world, world.seal([late]), InvalidTransactionError, "tx[0].inputs[0]")
    assert "expired" in str(err)


def test_votes_keep_their_expiry(world: World) -> None:
    txs = world.valid_period()
    world.append(txs)
    m0 = world.members[0]
    exp = world.chain.period + D
    refreshed = world.transfer([m0], [txs[3].outpoint(2)], [Output(m0.public_key, 1, Asset.VOTE, exp + 5)])
    rejected(world, world.seal([refreshed]), InvalidTransactionError, "tx[0].outputs[0].expires")
    world.append([world.transfer([m0], [txs[3].outpoint(2)], [Output(m0.public_key, 1, Asset.VOTE, exp)])])


def test_zero_amounts_and_empty_outputs(world: World) -> None:
    txs = world.valid_period()
    world.append(txs)
    m0 = world.members[0]
    zero = world.transfer([m0], [txs[3].outpoint(0)], [Output(m0.public_key, 0)])
    rejected(world, world.seal([zero]), InvalidTransactionError, "tx[0].outputs[0].amount")
    burn = world.transfer([m0], [txs[3].outpoint(0)], [])
    rejected(world, world.seal([burn]), InvalidTransactionError, "tx[0].outputs")


def test_negative_or_non_integer_amounts_are_refused_when_built() -> None:
    owner = World().members[0].public_key
    for bad in (-1, 1.5, "3", 2**63, True):
        with pytest.raises(InvalidTransactionError):
            Output(owner, bad)  # type: ignore[arg-type]


def test_another_chains_transactions_are_refused(world: World) -> None:
    other = World(algorithm=world.algorithm)
    other.members = other.members[:2]
    other.__post_init__()
    assert other.chain.chain_tag != world.chain.chain_tag
    foreign = other.create()
    rejected(world, world.seal([foreign]), InvalidTransactionError, "tx[0].chain_tag")


def test_garbage_transactions_are_typed_errors(world: World) -> None:
    txs = world.valid_period()
    good = world.seal(txs)
    for cut in (0, 5, 40, len(good.txs[0]) - 1):
        broken = Block(good.header, good.signature, (good.txs[0][:cut], *good.txs[1:]))
        rejected(world, broken, InvalidTransactionError, "tx[0]")
    world.chain.append(good)


def test_ids_commit_to_bodies_not_signatures(world: World) -> None:
    t = world.create()
    assert t.id == hash_one(t.body, world.algorithm)
    assert len(t.encode()) == len(t.body) + 64


def test_a_block_is_stamped_by_the_end_of_the_next_period(world: World) -> None:
    # Issue 19 item 4: a far-future timestamp was accepted, and since a block cannot precede its
    # parent, every honest producer after it (stamping the end of its period) was then rejected.
    g = world.genesis()
    p = world.period
    for late in (g.period_end_ms(p + 1) + 1, g.period_end_ms(p) + 86_400_000):
        block = world.chain.seal([], world.miner(), timestamp_ms=late)
        rejected(world, block, InvalidBlockError, "header.timestamp_ms")
    # The latest allowed stamp leaves the next producer its default time (the end of its period).
    world.chain.append(world.chain.seal([], world.miner(), timestamp_ms=g.period_end_ms(p + 1)))
    world.append(world.valid_period())
    assert world.chain.height == 2 and world.chain.tip.timestamp_ms == g.period_end_ms(p + 1)
