"""Fuzz the loss record (issue 20): its decoder, and blocks carrying a mutated record appended to
a chain (rejected => height, tip, log and every balance unchanged)."""

from __future__ import annotations

from typing import Any

from fuzzing import FuzzFailure, check, fuzz_settings, mutated, unchanged
from gridledger.errors import GridLedgerError
from gridledger.ledger import Chain, Losses, LossShare, decode
from hypothesis import given
from hypothesis import strategies as st
from ledger_world import World


def _world_and_records() -> tuple[World, list[bytes]]:
    w = World()
    w.append(w.valid_period())
    keys = [k.public_key for k in w.members]
    recs = [
        Losses(w.tag, w.period, w.vpp.public_key, 7, (LossShare(keys[0], 5), LossShare(keys[2], 2))),
        Losses(w.tag, w.period, w.vpp.public_key, 0),
        Losses(w.tag, w.period, w.vpp.public_key, 2**63 - 1, (LossShare(keys[1], 2**63 - 1),)),
    ]
    return w, [r.sign(w.vpp).encode() for r in recs]


W, RECORDS = _world_and_records()


@fuzz_settings()
@given(st.one_of(mutated(RECORDS), st.binary(max_size=200).map(lambda b: RECORDS[1][:22] + b)))
def test_loss_record_decode(data: bytes) -> None:
    out = check(decode, data)
    if not isinstance(out, GridLedgerError):
        if out.encode() != data:
            raise FuzzFailure(f"decode is not the inverse of encode for {data.hex()}")
        if isinstance(out.tx, Losses) and out.tx.body() != out.body:
            raise FuzzFailure(f"Losses.body() differs from the decoded body for {data.hex()}")


def _state(c: Chain) -> tuple[Any, ...]:
    return (c.height, c.tip_hash, c.n_tx, c.log_root(), [c.balance(bytes(k)) for k in c.keys()])


@fuzz_settings(0.5)
@given(mutated(RECORDS[:1], max_edits=3))
def test_chain_append_with_a_mutated_loss_record(record: bytes) -> None:
    chain = W.chain.copy()
    before = _state(chain)
    txs = [t.encode() for t in W.valid_period()] + [record]
    block = check(chain.seal, txs, W.miner())
    if isinstance(block, GridLedgerError):
        return
    out = check(chain.append, block)
    if isinstance(out, GridLedgerError):
        unchanged(before, _state(chain), "the chain")
    elif record != RECORDS[0]:
        rec = decode(record).tx
        if not isinstance(rec, Losses) or sum(s.loss_wh for s in rec.shares) != rec.total_wh:
            raise FuzzFailure(f"a block with a non-conserving loss record was accepted: {record.hex()}")
