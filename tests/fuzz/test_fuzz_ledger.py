"""Fuzz the ledger's decoders and its block check: transactions (Create, Transfer and the
auction's Candidate/Winner/Evidence), headers, genesis records, and whole blocks appended
to a chain (rejected => height, tip, log and every balance unchanged)."""

from __future__ import annotations

from typing import Any

import numpy as np
from fuzzing import FuzzFailure, check, fuzz_settings, mutated, unchanged
from gridledger.errors import GridLedgerError
from gridledger.ledger import Chain, Genesis, Header, decode
from hypothesis import given
from hypothesis import strategies as st
from seeds import ledger_seeds

S = ledger_seeds()


@fuzz_settings()
@given(st.one_of(mutated(S.txs), st.binary(max_size=400)), st.sampled_from(["blake3", "sha256"]))
def test_tx_decode(data: bytes, algorithm: str) -> None:
    out = check(decode, data, algorithm, known=("tx-no-signers",))
    if not isinstance(out, GridLedgerError):
        # What decodes re-encodes to the same body (no silently dropped bytes).
        if out.body != data[: len(out.body)] or out.encode() != data:
            raise FuzzFailure(f"decode is not the inverse of encode for {data.hex()}")


@fuzz_settings()
@given(st.one_of(mutated(S.headers), st.binary(max_size=260)))
def test_header_decode(data: bytes) -> None:
    out = check(Header.decode, data)
    if not isinstance(out, GridLedgerError) and out.encode() != data:
        raise FuzzFailure(f"Header.decode(x).encode() != x for {data.hex()}")


@fuzz_settings()
@given(st.one_of(mutated(S.geneses, max_edits=3), st.binary(max_size=300)))
def test_genesis_decode(data: bytes) -> None:
    out = check(Genesis.decode, data)
    if not isinstance(out, GridLedgerError):
        again = check(out.encode)
        if isinstance(again, GridLedgerError) or again != data:
            raise FuzzFailure(f"Genesis.decode(x).encode() != x for {data.hex()}")
        check(Chain, data)


def _state(c: Chain) -> tuple[Any, ...]:
    keys = c.keys()
    return (
        c.height,
        c.tip_hash,
        c.n_tx,
        c.log_root(),
        c.device_seq().tolist(),
        [c.balance(bytes(k)) for k in keys],
    )


_block = S.block
_blob, _offsets = _block.tx_blob()
_parts = [_block.header.encode(), _block.signature, _blob]


@fuzz_settings(0.5)
@given(
    st.integers(0, 2),
    mutated(_parts, max_edits=3),
    st.one_of(st.just(None), st.lists(st.integers(-3, len(_blob) + 3), max_size=8)),
)
def test_chain_append_raw(part: int, replacement: bytes, offsets: list[int] | None) -> None:
    chain = S.world.chain.copy()
    before = _state(chain)
    parts = list(_parts)
    parts[part] = replacement
    offs = _offsets if offsets is None else np.array(offsets, dtype=np.int64)
    out = check(chain.append_raw, parts[0], parts[1], parts[2], offs)
    if isinstance(out, GridLedgerError):
        unchanged(before, _state(chain), "the chain")
    else:
        assert chain.height == before[0] + 1
