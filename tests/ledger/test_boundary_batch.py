"""Batch paths across the boundary equal their per-item forms (issue 18 §2).

The batch encoders, ``scan_txs`` (ids, kinds and winner of whole
transactions) and ``ChainStore.block_hashes`` must give byte for byte what
one call per item gives; ``PobParent`` checks its arguments once, naming the
field, and validates blocks one by one as it does all at once.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gridledger import _core, hashing
from gridledger.errors import (
    GridLedgerError,
    InvalidArgumentError,
    InvalidTransactionError,
)
from gridledger.ledger import ChainStore, tx_ids
from gridledger.ledger.block import scan
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_world import World
from numpy.typing import NDArray

TAG = bytes(range(8))
KEY = st.binary(min_size=32, max_size=32)
INPUT = st.tuples(KEY, st.integers(0, 65535))
OUTPUT = st.tuples(KEY, st.integers(0, 1), st.integers(0, 2**63 - 1), st.integers(0, 2**64 - 1))


def _inputs(ins: list[tuple[bytes, int]]) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    txids = np.frombuffer(b"".join(t for t, _ in ins), np.uint8).reshape(-1, 32)
    return txids, np.array([i for _, i in ins], np.int64)


Columns = tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.int64], NDArray[np.uint64]]


def _outputs(outs: list[tuple[bytes, int, int, int]]) -> Columns:
    return (
        np.frombuffer(b"".join(o for o, _, _, _ in outs), np.uint8).reshape(-1, 32),
        np.array([a for _, a, _, _ in outs], np.uint8),
        np.array([m for _, _, m, _ in outs], np.int64),
        np.array([e for _, _, _, e in outs], np.uint64),
    )


def _offsets(lengths: list[int]) -> np.ndarray:
    return np.cumsum([0, *lengths]).astype(np.int64)


def _split(blob: bytes, offsets: np.ndarray) -> list[bytes]:
    o = offsets.tolist()
    return [blob[a:b] for a, b in itertools.pairwise(o)]


TRANSFER = st.tuples(
    st.lists(KEY, min_size=1, max_size=3), st.lists(INPUT, max_size=3), st.lists(OUTPUT, max_size=3)
)


@settings(max_examples=60, deadline=None)
@given(st.lists(TRANSFER, max_size=6), st.integers(0, 2**64 - 1))
def test_encode_transfers_equals_one_call_per_transfer(
    txs: list[tuple[list[bytes], list[tuple[bytes, int]], list[tuple[bytes, int, int, int]]]], period: int
) -> None:
    one = [
        _core.encode_transfer(
            TAG,
            period,
            np.frombuffer(b"".join(s), np.uint8).reshape(-1, 32),
            *(_inputs(ins) + _outputs(outs)),
        )
        for s, ins, outs in txs
    ]
    owners, assets, amounts, expires = _outputs([x for _, _, outs in txs for x in outs])
    blob, offsets = _core.encode_transfers(
        TAG,
        period,
        _offsets([len(s) for s, _, _ in txs]),
        np.frombuffer(b"".join(k for s, _, _ in txs for k in s), np.uint8).reshape(-1, 32),
        _offsets([len(i) for _, i, _ in txs]),
        *_inputs([x for _, ins, _ in txs for x in ins]),
        _offsets([len(o) for _, _, o in txs]),
        owners,
        assets,
        amounts,
        expires,
    )
    assert _split(blob, offsets) == one
    assert offsets.dtype == np.int64 and len(offsets) == len(txs) + 1


CANDIDATE = st.tuples(
    KEY, st.integers(-(2**63), 2**63 - 1), st.lists(INPUT, max_size=3), st.lists(OUTPUT, max_size=2)
)


@settings(max_examples=60, deadline=None)
@given(st.lists(CANDIDATE, max_size=6), st.integers(0, 2**64 - 1))
def test_encode_candidates_equals_one_call_per_candidacy(
    txs: list[tuple[bytes, int, list[tuple[bytes, int]], list[tuple[bytes, int, int, int]]]], period: int
) -> None:
    one = [
        _core.encode_auction_tx("candidate", TAG, period, k, *(_inputs(ins) + _outputs(outs)), sent_ms=ms)
        for k, ms, ins, outs in txs
    ]
    owners, assets, amounts, expires = _outputs([x for _, _, _, outs in txs for x in outs])
    blob, offsets = _core.encode_candidates(
        TAG,
        period,
        np.frombuffer(b"".join(k for k, _, _, _ in txs), np.uint8).reshape(-1, 32),
        np.array([ms for _, ms, _, _ in txs], np.int64),
        _offsets([len(i) for _, _, i, _ in txs]),
        *_inputs([x for _, _, ins, _ in txs for x in ins]),
        _offsets([len(o) for _, _, _, o in txs]),
        owners,
        assets,
        amounts,
        expires,
    )
    assert _split(blob, offsets) == one


def _whole(kind: int, data: st.DataObject) -> bytes:
    """A whole transaction of ``kind`` drawn from ``data``: body then one signature per signer."""
    key = data.draw(KEY)
    ins = data.draw(st.lists(INPUT, max_size=2))
    outs = data.draw(st.lists(OUTPUT, max_size=2))
    period = data.draw(st.integers(0, 2**40))
    n_sig = 1
    if kind == 0:
        body = _core.encode_create(TAG, period, key, data.draw(st.integers(0, 2**64 - 1)), 5, 1, period + 4)
    elif kind == 1:
        signers = data.draw(st.lists(KEY, min_size=1, max_size=3))
        n_sig = len(signers)
        body = _core.encode_transfer(
            TAG,
            period,
            np.frombuffer(b"".join(signers), np.uint8).reshape(-1, 32),
            *(_inputs(ins) + _outputs(outs)),
        )
    else:
        name = ["candidate", "winner"][kind - 2]
        winner = data.draw(st.sampled_from([bytes(32), bytes([7]) * 32, key]))
        body = _core.encode_auction_tx(
            name, TAG, period, key, *(_inputs(ins) + _outputs(outs)), winner=winner
        )
    return body + data.draw(st.binary(min_size=64 * n_sig, max_size=64 * n_sig))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 3), max_size=8), st.sampled_from(["blake3", "sha256"]), st.data())
def test_scan_txs_equals_decoding_each_transaction(kinds: list[int], alg: str, data: st.DataObject) -> None:
    txs = [_whole(k, data) for k in kinds]
    ids, codes, winner = scan(txs, alg)  # type: ignore[arg-type]
    decoded = [_core.decode_tx(t) for t in txs]
    one = [_core.hash_one(t[: d["body_len"]], alg) for t, d in zip(txs, decoded, strict=True)]
    assert [bytes(r) for r in ids] == one
    assert ids.shape == (len(txs), 32)
    names = ["create", "transfer", "candidate", "winner", "evidence"]
    assert [names[c] for c in codes.tolist()] == [d["kind"] for d in decoded]
    expected = None
    for d in decoded:
        if d["kind"] == "winner" and d.get("winner") != bytes(32):
            expected = d.get("winner")
    assert winner == expected
    assert (tx_ids(txs, alg) == ids).all()  # type: ignore[arg-type]


def test_scan_txs_names_the_transaction_that_does_not_decode() -> None:
    w = World()
    good = list(w.seal(w.valid_period()).txs)
    bad = [*good[:1], good[1][:-3], *good[2:]]
    with pytest.raises(InvalidTransactionError) as e:
        scan(bad)
    assert e.value.field == "txs[1]"
    with pytest.raises(InvalidArgumentError):
        _core.scan_txs(b"".join(good), np.array([0, 5], np.int64))  # offsets do not end at the length


def test_block_hashes_equal_one_hash_per_header(tmp_path: Path) -> None:
    w = World()
    store = ChainStore.create(tmp_path / "c.sqlite", w.genesis())
    w.chain = store.chain
    for _ in range(4):
        store.append(w.seal(w.valid_period()))
        w.seq[0] += 2
    headers = [store.block(h).header.encode() for h in range(store.height + 1)]
    assert store.block_hashes() == [hashing.hash_one(h, "blake3") for h in headers]
    assert store.block_hashes()[-1] == store.chain.tip_hash
    store.close()


# -- the batch encoders name the bad field -------------------------------------------------------
Z32 = np.zeros((1, 32), np.uint8)


def _transfers(**changes: Any) -> tuple[bytes, np.ndarray]:
    args: dict[str, Any] = {
        "chain_tag": TAG,
        "period": 1,
        "signer_offsets": np.array([0, 1], np.int64),
        "signers": Z32,
        "input_offsets": np.array([0, 1], np.int64),
        "input_txids": Z32,
        "input_index": np.zeros(1, np.int64),
        "output_offsets": np.array([0, 1], np.int64),
        "owners": Z32,
        "assets": np.zeros(1, np.uint8),
        "amounts": np.ones(1, np.int64),
        "expires": np.zeros(1, np.uint64),
    }
    args.update(changes)
    return _core.encode_transfers(*args.values())


@pytest.mark.parametrize(
    ("changes", "error", "field"),
    [
        ({"chain_tag": b"short"}, InvalidArgumentError, "chain_tag"),
        ({"signer_offsets": np.array([0, 2], np.int64)}, InvalidArgumentError, "signer_offsets"),
        ({"input_offsets": np.array([0], np.int64)}, InvalidArgumentError, "input_offsets"),
        ({"output_offsets": np.array([0, -1], np.int64)}, InvalidArgumentError, "output_offsets[1]"),
        ({"input_index": np.array([70000], np.int64)}, InvalidArgumentError, "input_index[0]"),
        ({"assets": np.array([2], np.uint8)}, InvalidArgumentError, "assets[0]"),
        ({"amounts": np.array([-1], np.int64)}, InvalidTransactionError, "amounts[0]"),
        ({"expires": np.zeros(2, np.uint64)}, InvalidArgumentError, "expires"),
        ({"owners": np.zeros((1, 31), np.uint8)}, InvalidArgumentError, "owners"),
        (
            {"signer_offsets": np.array([0, 256], np.int64), "signers": np.zeros((256, 32), np.uint8)},
            InvalidArgumentError,
            "signer_offsets[1]",
        ),
    ],
)
def test_encode_transfers_names_the_bad_field(changes: dict[str, Any], error: type, field: str) -> None:
    assert len(_transfers()[0]) > 0
    with pytest.raises(error) as e:
        _transfers(**changes)
    assert e.value.field == field  # type: ignore[attr-defined]


def test_encode_candidates_names_the_bad_field() -> None:
    cols = (np.array([0, 0], np.int64), np.zeros((0, 32), np.uint8), np.zeros(0, np.int64))
    outs = (np.array([0, 0], np.int64), np.zeros((0, 32), np.uint8), np.zeros(0, np.uint8))
    tail = (np.zeros(0, np.int64), np.zeros(0, np.uint64))
    blob, _ = _core.encode_candidates(TAG, 1, Z32, np.zeros(1, np.int64), *cols, *outs, *tail)
    assert blob == _core.encode_auction_tx(
        "candidate", TAG, 1, bytes(32), *cols[1:], *outs[1:], *tail, sent_ms=0
    )
    with pytest.raises(InvalidArgumentError) as e:
        _core.encode_candidates(TAG, 1, Z32, np.zeros(2, np.int64), *cols, *outs, *tail)
    assert e.value.field == "sent_ms"
    with pytest.raises(InvalidArgumentError) as e:
        _core.encode_candidates(
            TAG, 1, np.zeros((2, 32), np.uint8), np.zeros(2, np.int64), *cols, *outs, *tail
        )
    assert e.value.field == "input_offsets"


ANY = st.one_of(
    st.none(),
    st.integers(-(2**70), 2**70),
    st.binary(max_size=80),
    st.builds(lambda n, k: np.zeros((n, k), dtype=np.uint8), st.integers(0, 3), st.integers(0, 40)),
    st.builds(lambda n: np.arange(n, dtype=np.int64), st.integers(0, 4)),
    st.builds(lambda n: np.arange(n, dtype=np.uint64), st.integers(0, 4)),
    st.builds(lambda n: np.arange(n, dtype=np.uint8), st.integers(0, 4)),
)


@settings(max_examples=300)
@given(st.sampled_from([("encode_transfers", 12), ("encode_candidates", 12), ("scan_txs", 3)]), st.data())
def test_batch_functions_never_panic(spec: tuple[str, int], data: st.DataObject) -> None:
    name, arity = spec
    args = data.draw(st.lists(ANY, min_size=arity, max_size=arity))
    try:
        getattr(_core, name)(*args)
    except (GridLedgerError, TypeError, OverflowError):
        pass


# -- PobParent: checked once, naming the field -----------------------------------------------------
PUBLISHED = np.array([0, 0, 1, 2], np.int64)
GRID = np.array([100, 200, 300, 400], np.int64)
PARAMS: dict[str, Any] = {"cap_wh": 10_000, "max_defer": 2, "window": 4, "round_minutes": 5}


def _parent(**changes: Any) -> _core.PobParent:
    args: dict[str, Any] = {"published": PUBLISHED, "grid_wh": GRID, **PARAMS}
    args.update(changes)
    return _core.PobParent(args.pop("published"), args.pop("grid_wh"), **args)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"published": np.array([0, 2, 1, 3], np.int64)}, "published[2]"),
        ({"grid_wh": GRID[:3].copy()}, "grid_wh"),
        ({"executed": np.zeros(3, bool)}, "executed"),
        ({"window": 0}, "window"),
        ({"max_defer": -1}, "max_defer"),
        ({"round_minutes": 0}, "round_minutes"),
        ({"cap_wh": -5}, "cap_wh"),
        ({"slopes": np.arange(8, dtype=np.int64)[::2]}, "slopes"),
        ({"published": np.arange(8, dtype=np.int64)[::2], "grid_wh": GRID}, "published"),
    ],
)
def test_pob_parent_names_the_bad_argument(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidArgumentError) as e:
        _parent(**changes)
    assert e.value.field == field


def test_pob_parent_blocks_name_the_bad_column() -> None:
    p = _parent()
    one = np.zeros(1, np.int64)
    for args, field in [
        ((one, np.zeros(2, np.int64), np.array([0, 0], np.int64), one), "base_wh"),
        ((one, one, np.array([0], np.int64), one), "offsets"),
        ((one, one, np.array([0, 5], np.int64), one), "offsets[0]"),
    ]:
        with pytest.raises(InvalidArgumentError) as e:
            p.evaluate(*args)
        assert e.value.field == field
    with pytest.raises(InvalidArgumentError) as e:
        p.validate_chain(one, one, np.array([0, 0], np.int64), one, np.zeros(2, np.uint64))
    assert e.value.field == "lambdas"


def test_pob_parent_extend_equals_validate_chain_and_leaves_the_parent_unchanged() -> None:
    p = _parent(theta_prev=50, slopes=np.array([3, -2, 5], np.int64))
    blocks = [np.array([0, 1], np.int64), np.array([2], np.int64), np.array([3], np.int64)]
    base = np.array([1000, 1100, 900], np.int64)
    lam, theta, ok = p.evaluate(np.zeros(1, np.int64), base[:1], np.array([0, 2], np.int64), blocks[0])
    assert ok.all()
    # Claims from one block at a time, then the whole chain at once must agree.
    state, claims, thetas = p, [], []
    for r, ix in enumerate(blocks):
        lam_r, _, _ = state.evaluate(
            np.array([r], np.int64), base[r : r + 1], np.array([0, len(ix)], np.int64), ix
        )
        lam_one, theta_one, nxt = state.extend(r, int(base[r]), ix, int(lam_r[0]))
        claims.append(lam_one)
        thetas.append(theta_one)
        assert nxt.theta_prev == theta_one and nxt.executed[ix].all()
        state = nxt
    all_lam, all_theta = p.validate_chain(
        np.arange(3, dtype=np.int64),
        base,
        _offsets([len(b) for b in blocks]),
        np.concatenate(blocks),
        np.array(claims, np.uint64),
    )
    assert all_lam.tolist() == claims and all_theta.tolist() == thetas
    assert int(lam[0]) == claims[0] and int(theta[0]) == thetas[0]
    assert not p.executed.any() and p.theta_prev == 50 and len(p) == 4  # the parent is unchanged
    with pytest.raises(GridLedgerError) as e:
        p.extend(0, 1000, blocks[0], claims[0] + 1)
    assert e.value.field == "blocks[0].lambda"
