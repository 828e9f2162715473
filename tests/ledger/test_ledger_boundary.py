"""The ledger's native entry points never panic: garbage in, typed error out."""

from __future__ import annotations

from typing import Any

import numpy as np
from gridledger import _core
from gridledger.errors import GridLedgerError
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_world import World

ANY = st.one_of(
    st.none(),
    st.integers(-(2**70), 2**70),
    st.binary(max_size=300),
    st.text(max_size=10),
    st.lists(st.tuples(st.binary(max_size=40), st.text(max_size=4)), max_size=3),
    st.builds(lambda n, k: np.zeros((n, k), dtype=np.uint8), st.integers(0, 4), st.integers(0, 40)),
    st.builds(lambda n: np.arange(n, dtype=np.int64), st.integers(0, 6)),
    st.builds(lambda n: np.arange(n, dtype=np.uint64), st.integers(0, 6)),
    st.builds(lambda n: np.arange(n, dtype=np.uint8), st.integers(0, 6)),
)

FUNCTIONS = [
    ("encode_create", 7),
    ("encode_creates", 7),
    ("encode_transfer", 9),
    ("decode_tx", 1),
    ("encode_header", 9),
    ("decode_header", 1),
    ("tx_root", 2),
    ("tx_proof", 3),
    ("encode_genesis", 8),
    ("decode_genesis", 1),
    ("ChainState", 1),
    ("KeyRing", 1),
]


def _call(fn: Any, args: list[Any]) -> None:
    try:
        fn(*args)
    except (GridLedgerError, TypeError, OverflowError):
        pass


@settings(max_examples=300)
@given(st.sampled_from(FUNCTIONS), st.lists(ANY, min_size=9, max_size=9))
def test_functions_never_panic(spec: tuple[str, int], pool: list[Any]) -> None:
    name, arity = spec
    _call(getattr(_core, name), pool[:arity])


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400), st.integers(0, 3), st.data())
def test_mutated_blocks_never_panic_and_never_change_state(
    noise: bytes, which: int, data: st.DataObject
) -> None:
    w = World()
    good = w.seal(w.valid_period())
    header, sig, txs = good.header.encode(), good.signature, list(good.txs)
    pos = data.draw(st.integers(0, len(txs[which]) - 1))
    txs[which] = txs[which][:pos] + noise + txs[which][pos + len(noise) :]
    blob = b"".join(txs)
    offsets = np.cumsum([0, *map(len, txs)]).astype(np.int64)
    state = w.chain._state
    before = (state.height, state.tip_hash, state.n_tx, state.n_utxo)
    try:
        state.append(header, sig, blob, offsets)
        assert noise == good.txs[which][pos : pos + len(noise)], "a changed transaction was accepted"
    except GridLedgerError:
        assert (state.height, state.tip_hash, state.n_tx, state.n_utxo) == before
    for bad in (lambda: state.commit(b"x"), lambda: state.keys(2**40), lambda: state.block_proof(5, 99)):
        try:
            bad()
        except (GridLedgerError, OverflowError):
            pass


def test_keyring_rejects_bad_indices_and_shapes() -> None:
    ring = _core.KeyRing(bytes(64))
    for call in (
        lambda: ring.sign_ids(np.array([2], np.int64), np.zeros((1, 32), np.uint8)),
        lambda: ring.sign_ids(np.array([-1], np.int64), np.zeros((1, 32), np.uint8)),
        lambda: ring.sign_ids(np.array([0, 1], np.int64), np.zeros((1, 32), np.uint8)),
        lambda: ring.sign_bodies(np.array([0], np.int64), b"abc", np.array([0, 4], np.int64)),
        lambda: _core.KeyRing(bytes(33)),
    ):
        try:
            call()
            raise AssertionError("accepted")
        except GridLedgerError:
            pass
