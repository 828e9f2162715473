"""Every crashing input the fuzz targets found, exactly as found (docs/fuzzing.md).

Each test asserts the promise: a typed GridLedgerError (or success) and state unchanged.
A test whose bug is being fixed on another branch is ``xfail(strict=True)`` with the
exception it raises today: when the fix merges the test passes, strict xfail turns that
into a failure, and the marker must be removed (with the KNOWN_OPEN entry in fuzzing.py).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from gridledger import merkle
from gridledger.errors import GridLedgerError, InvalidArgumentError
from gridledger.ledger import decode
from gridledger.market import OrderBook
from gridledger.network import Adversary, NetworkConfig, NetworkSim

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from powerchain_helpers import cast

ITEM9 = "issue 19 item 9 (untyped exceptions), fixed on branch ledger-rel"


def _book_state(b: OrderBook) -> tuple[object, ...]:
    return (len(b), b.best_bid, b.best_ask, b.orders())


# --- order book (test_fuzz_book) --------------------------------------------------------

# Found as OverflowError (ints beyond the core's i64/usize); the non-int cases are the same
# class (pyo3's TypeError). Fixed here: the wrappers name the argument the core refused.
BAD_ARGUMENT_CALLS = [
    pytest.param("submit", ("buy", 1, 1, 0, "limit", 2**63), "period", id="submit-period-2^63"),
    pytest.param("cancel", (2**63,), "order_id", id="cancel-2^63"),
    pytest.param("expire", (2**63,), "before_period", id="expire-2^63"),
    pytest.param("depth", (-1,), "levels", id="depth-negative"),
    pytest.param("submit", ("buy", "7", 1, 0), "price", id="submit-price-str"),
    pytest.param("submit", (1, 7, 1, 0), "side", id="submit-side-int"),
    pytest.param("reduce", (1, None), "new_quantity", id="reduce-none"),
    pytest.param("replace", (1, 2.5, 1), "price", id="replace-price-float"),
    pytest.param("cancel", (1, -(2**64)), "owner", id="cancel-owner-beyond"),
]


@pytest.mark.parametrize(("name", "args", "field"), BAD_ARGUMENT_CALLS)
def test_book_call_with_an_argument_the_core_cannot_take(
    name: str, args: tuple[object, ...], field: str
) -> None:
    book = OrderBook()
    book.submit("sell", 12, 4, owner=1)
    before = _book_state(book)
    with pytest.raises(InvalidArgumentError) as info:
        getattr(book, name)(*args)
    assert info.value.field == field
    assert _book_state(book) == before


def test_book_bounds_beyond_i64() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        OrderBook(max_price=2**63)
    assert info.value.field == "max_price"


def test_replay_three_sells_of_max_quantity_at_one_price() -> None:
    book = OrderBook()
    ops = pl.DataFrame(
        {
            "op": [0, 0, 0],
            "side": [1, 1, 1],
            "price": [5, 5, 5],
            "quantity": [2**63 - 1] * 3,
            "owner": [1, 2, 3],
        }
    )
    with pytest.raises(InvalidArgumentError):
        book.replay(ops)
    assert _book_state(book) == (0, None, None, [])


def test_replay_op_256_is_refused() -> None:
    book = OrderBook()
    with pytest.raises(InvalidArgumentError):
        book.replay(pl.DataFrame({"op": [256], "side": [0], "price": [5], "quantity": [3], "owner": [1]}))
    assert len(book) == 0


def test_replay_float_quantity_beyond_int64_is_refused_exactly() -> None:
    book = OrderBook()
    ops = pl.DataFrame(
        {"op": [0], "side": [1], "price": [5], "quantity": [9223372036854775296.0], "owner": [1]}
    )
    with pytest.raises(InvalidArgumentError, match="quantity"):
        book.replay(ops)
    assert len(book) == 0


# --- Merkle proofs (test_fuzz_merkle) ---------------------------------------------------

TREE = merkle.MerkleTree([b"a", b"b"])


# Found as OverflowError; fixed here: sizes and indices are checked to fit the core's u64.


def test_verify_inclusion_size_2_64() -> None:
    with pytest.raises(InvalidArgumentError, match="size"):
        merkle.verify_inclusion(TREE.leaf_hash(0), 0, 2**64, TREE.inclusion_proof(0), TREE.root)


def test_verify_consistency_size_2_64() -> None:
    with pytest.raises(InvalidArgumentError, match="new_size"):
        merkle.verify_consistency(1, 2**64, TREE.root_at(1), TREE.root, [])


def test_tree_index_2_64() -> None:
    with pytest.raises(InvalidArgumentError, match="index"):
        TREE.leaf_hash(2**64)


def test_verify_inclusion_batch_negative_size() -> None:
    batch = merkle.ProofBatch(np.zeros(0, np.uint64), -1, np.zeros((0, 32), np.uint8), np.zeros(1, np.int64))
    with pytest.raises(InvalidArgumentError, match=r"proofs\.size"):
        merkle.verify_inclusion_batch([], batch, TREE.root)


# --- transactions (test_fuzz_ledger) ----------------------------------------------------

# A Transfer body with no signers and no signatures.
NO_SIGNERS = bytes.fromhex(
    "474c5458010135e446180879579bc1341a0000000000000000010097ffc883c80bee7237ef95d9b9b703d4ad63e6"
    "0a21e605867682b75b8b3f4303000100000000000000ffffffffffffffff"
)


def test_decode_transfer_without_signers() -> None:
    # It decodes (IndexError before): the encoding allows it, and the chain's rules refuse it.
    tx = decode(NO_SIGNERS)
    assert type(tx.tx).__name__ == "Transfer"


# --- data.read (test_fuzz_data) ---------------------------------------------------------


def test_read_csv_with_cr_only_line_endings(tmp_path: Path) -> None:
    from gridledger import data
    from gridledger.errors import BadDataError

    p = tmp_path / "at_load_2019_60min.csv"
    p.write_bytes(b"utc_timestamp,load_mw\r2019-01-01T00:00:00Z,5852\r2019-01-01T01:00:00Z,5619\r")
    try:
        frame = data.read(p, area="AT")
    except BadDataError:
        return
    assert frame.height == 2


# --- PowerChain commands (test_fuzz_powerchain) -----------------------------------------


@pytest.mark.parametrize("command", ["set_parameter", "transfer_ent", "mint_eeuro", "energy_produced"])
def test_powerchain_amount_1e999999(command: str) -> None:
    c = cast()
    args = {
        "set_parameter": (c.A, "M"),
        "transfer_ent": (c.P, c.Q),
        "mint_eeuro": (c.K, c.Q),
        "energy_produced": (c.U1, c.P),
    }[command]
    before = (c.pc.state_root(), c.pc.pending, len(c.pc.blocks))
    with pytest.raises(InvalidArgumentError):
        getattr(c.pc, command)(*args, "1e999999")
    assert (c.pc.state_root(), c.pc.pending, len(c.pc.blocks)) == before


def test_powerchain_removing_the_sealer_changes_nothing_when_refused() -> None:
    c = cast(block_size=2)
    pc = c.pc
    pc.add_voter(c.A, c.P)
    pc.remove_voter(c.A, c.A)  # one vote of two
    before = (pc.state_root(), pc.pending, len(pc.blocks), pc.voters)
    try:
        pc.remove_voter(c.P, c.A)  # the vote passes; the automatic seal needs a voter
    except GridLedgerError:
        assert (pc.state_root(), pc.pending, len(pc.blocks), pc.voters) == before


# --- network configurations (test_fuzz_network) -----------------------------------------


def test_network_latency_nan() -> None:
    with pytest.raises(GridLedgerError):
        config = NetworkConfig(nodes=3, units=1, periods=1, latency_ms=(0.0, math.nan))
        NetworkSim(config, Adversary(partition=(frozenset(), 0, 0))).run()


def test_network_adversary_leaves_no_honest_node() -> None:
    # As found by fuzz/network.py (crash-ef0c528a…): every node equivocates or forks.
    config = NetworkConfig(
        nodes=3, units=1, periods=3, latency_ms=(21.56093810107688, 21.599204633179916),
        loss=0.12117031310072514, bid_probability=0.13177250435129756, seed=2033763135,
    )  # fmt: skip
    with pytest.raises(GridLedgerError):
        adversary = Adversary(equivocate=frozenset({1, 2}), private_fork=0, private_from=0, private_release=1)
        NetworkSim(config, adversary).run()
