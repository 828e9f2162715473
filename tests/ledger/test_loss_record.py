"""The VPP's loss record (issue 20): encoding, ledger rules, the store and the proof of a member's share."""

from __future__ import annotations

from pathlib import Path

import pytest
from gridledger.errors import InvalidArgumentError, InvalidTransactionError, NotAuthorisedError
from gridledger.keys import SigningKey
from gridledger.ledger import (
    ChainStore,
    Create,
    Losses,
    LossShare,
    SignedTransaction,
    decode,
    prove_allocation,
    prove_loss_share,
)
from ledger_world import World, rejected

P0 = 1_717_440  # the period of block 1


def record(
    w: World, shares: dict[int, int], total: int | None = None, by: SigningKey | None = None
) -> SignedTransaction:
    signer = by or w.vpp
    rec = Losses(
        w.tag,
        w.period,
        signer.public_key,
        sum(shares.values()) if total is None else total,
        tuple(LossShare(w.members[m].public_key, wh) for m, wh in sorted(shares.items())),
    )
    return rec.sign(signer, algorithm=w.algorithm)


def test_a_loss_record_round_trips_and_lands_beside_the_distribution() -> None:
    w = World()
    rec = record(w, {0: 5, 2: 2})
    back = decode(rec.encode())
    assert back == rec
    assert isinstance(back.tx, Losses)
    assert back.tx.share_of(w.members[0].public_key) == 5
    assert back.tx.share_of(w.members[1].public_key) == 0
    w.append([*w.valid_period(), rec])
    assert w.chain.height == 1
    # A period with no distribution and no losses still takes an (empty) record.
    w.append([record(w, {})])
    assert w.chain.height == 2


@pytest.mark.parametrize(
    ("shares", "total", "error", "field"),
    [
        ({0: 5, 2: 2}, 8, InvalidTransactionError, "tx[4].shares"),
        ({0: 5, 2: 2}, 6, InvalidTransactionError, "tx[4].shares"),
        ({0: 0, 2: 2}, 2, InvalidTransactionError, "tx[4].shares[0].loss_wh"),
        ({0: 2**63 - 1, 1: 2**63 - 1, 2: 2}, 0, InvalidTransactionError, "tx[4].shares[2].loss_wh"),
    ],
)
def test_a_loss_record_that_does_not_conserve_is_rejected(
    shares: dict[int, int], total: int, error: type[Exception], field: str
) -> None:
    w = World()
    bad = w.seal([*w.valid_period(), record(w, shares, total)])
    rejected(w, bad, error, field)  # type: ignore[arg-type]


def test_only_the_vpp_records_losses_once_per_period_for_members_in_order() -> None:
    w = World()
    rejected(w, w.seal([record(w, {0: 1}, by=w.members[0])]), NotAuthorisedError, "tx[0].vpp")
    rejected(w, w.seal([record(w, {0: 1}), record(w, {1: 1})]), InvalidTransactionError, "tx[1].kind")
    rec = Losses(
        w.tag,
        w.period,
        w.vpp.public_key,
        3,
        (LossShare(w.members[2].public_key, 1), LossShare(w.members[0].public_key, 2)),
    )
    rejected(w, w.seal([rec.sign(w.vpp)]), InvalidTransactionError, "tx[0].shares[1].member")
    stranger = Losses(w.tag, w.period, w.vpp.public_key, 1, (LossShare(w.devices[0].public_key, 1),))
    rejected(w, w.seal([stranger.sign(w.vpp)]), NotAuthorisedError, "tx[0].shares[0].member")
    late = Losses(w.tag, w.period - 1, w.vpp.public_key, 0)
    rejected(w, w.seal([late.sign(w.vpp)]), InvalidTransactionError, "tx[0].period")
    w.append([record(w, {0: 1})])


def test_bad_fields_are_typed_errors() -> None:
    w = World()
    with pytest.raises(InvalidArgumentError, match="member"):
        LossShare(b"short", 1)
    with pytest.raises(InvalidTransactionError, match="loss_wh"):
        LossShare(w.members[0].public_key, -1)
    with pytest.raises(InvalidTransactionError, match="total_wh"):
        Losses(w.tag, w.period, w.vpp.public_key, -1).body()
    with pytest.raises(InvalidArgumentError, match="vpp"):
        Losses(w.tag, w.period, b"x" * 31, 0).body()
    with pytest.raises(InvalidArgumentError, match="keys"):
        Losses(w.tag, w.period, w.vpp.public_key, 0).sign(w.members[0])


def _stored_run(tmp_path: Path) -> tuple[World, Path]:
    w = World()
    path = tmp_path / "chain.sqlite"
    with ChainStore.create(path, w.genesis()) as st:
        w.chain = st.chain
        put(w, st, [*w.valid_period(), record(w, {0: 5, 2: 2})])
        put(w, st, [record(w, {})])
        put(w, st, [*w.valid_period((50, 150)), record(w, {1: 9})])
    return w, path


def put(w: World, st: ChainStore, txs: list[SignedTransaction]) -> None:
    st.append(w.seal(txs))
    w.seq[0] += sum(isinstance(t.tx, Create) for t in txs)


def test_the_store_round_trips_and_proves_a_loss_share(tmp_path: Path) -> None:
    _, path = _stored_run(tmp_path)
    with ChainStore(path) as st:
        assert st.verify().ok
        p0 = st.height_of_period(P0)
        blk = st.block(p0)
        assert isinstance(decode(blk.txs[-1]).tx, Losses)
        proof = prove_loss_share(st, "m0", P0)
        assert (proof.loss_wh, proof.total_wh) == (5, 7)
        assert proof.verify()
        assert proof.verify(st.chain.log_root())
        alloc = prove_allocation(st, "m0", P0)
        # Same block, same log: the two proofs share the block path.
        assert (alloc.header, alloc.block_proof, alloc.log_root) == (
            proof.header,
            proof.block_proof,
            proof.log_root,
        )
        none = prove_loss_share(st, 1, P0)
        assert none.loss_wh == 0 and none.verify()
        assert prove_loss_share(st, "m1", P0 + 2).loss_wh == 9
        assert prove_loss_share(st, "m2", P0 + 1).total_wh == 0
        assert "loss share" in proof.to_text()


def test_a_tampered_loss_proof_does_not_verify(tmp_path: Path) -> None:
    from dataclasses import replace

    _, path = _stored_run(tmp_path)
    with ChainStore(path) as st:
        proof = prove_loss_share(st, "m0", P0)
        assert not replace(proof, loss_wh=4).verify()
        assert not replace(proof, total_wh=8).verify()
        assert not replace(proof, member_key=bytes(32)).verify()
        assert not replace(proof, vpp=bytes(32)).verify()
        assert not replace(proof, tx=proof.tx[:-1] + bytes([proof.tx[-1] ^ 1])).verify()  # signature
        assert not replace(proof, period=proof.period + 1).verify()
        assert not proof.verify(bytes(32))


def test_a_run_without_losses_has_nothing_to_prove(tmp_path: Path) -> None:
    w = World()
    path = tmp_path / "chain.sqlite"
    with ChainStore.create(path, w.genesis()) as st:
        w.chain = st.chain
        put(w, st, w.valid_period())
        with pytest.raises(InvalidArgumentError, match="no loss record"):
            prove_loss_share(st, "m0", P0)


def test_the_store_verify_rejects_an_edited_loss_record(tmp_path: Path) -> None:
    import sqlite3

    _, path = _stored_run(tmp_path)
    with sqlite3.connect(path) as db:
        (seq, data) = db.execute("SELECT seq, data FROM txs WHERE kind = 5 ORDER BY seq LIMIT 1").fetchone()
        edited = bytearray(data)
        edited[22 + 32 + 8 + 4 + 32] ^= 1  # the first share's Wh
        db.execute("UPDATE txs SET data = ? WHERE seq = ?", (bytes(edited), seq))
    with ChainStore(path) as st:
        report = st.verify()
        assert not report.ok
