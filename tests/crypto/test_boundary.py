"""The Rust core never panics across the boundary: garbage in, typed error out.

A pyo3 ``PanicException`` derives from ``BaseException``, not ``Exception``, so
any panic escapes the ``except`` clauses below and fails the test.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from gridledger import _core
from gridledger.errors import GridLedgerError, InvalidArgumentError
from hypothesis import given
from hypothesis import strategies as st

ANY = st.one_of(
    st.none(),
    st.integers(-(2**70), 2**70),
    st.binary(max_size=80),
    st.text(max_size=10),
    st.lists(st.binary(max_size=40), max_size=5),
    st.builds(lambda n, k: np.zeros((n, k), dtype=np.uint8), st.integers(0, 4), st.integers(0, 70)),
    st.builds(lambda n: np.arange(n, dtype=np.int64), st.integers(0, 6)),
    st.builds(lambda n: np.arange(n, dtype=np.uint64), st.integers(0, 6)),
)

FUNCTIONS = [
    ("hash_one", 2),
    ("hash_rows", 2),
    ("hash_ragged", 3),
    ("leaf_hash", 2),
    ("verify_inclusion", 6),
    ("verify_consistency", 6),
    ("verify_inclusion_batch", 7),
    ("verify", 3),
    ("verify_batch", 4),
]


def _call(fn: Any, args: list[Any]) -> None:
    try:
        fn(*args)
    except (GridLedgerError, TypeError, OverflowError):
        pass


@given(st.sampled_from(FUNCTIONS), st.lists(ANY, min_size=7, max_size=7))
def test_functions_never_panic(spec: tuple[str, int], pool: list[Any]) -> None:
    name, arity = spec
    _call(getattr(_core, name), pool[:arity])


@given(st.lists(ANY, min_size=3, max_size=3), st.integers(0, 2**64 + 5), st.integers(0, 2**64 + 5))
def test_tree_methods_never_panic(pool: list[Any], a: int, b: int) -> None:
    tree = _core.MerkleTree("blake3")
    for leaf in (b"x", b"y", b"z"):
        tree.append(leaf)
    for call in (
        lambda: tree.inclusion_proof(a, b),
        lambda: tree.consistency_proof(a, b),
        lambda: tree.root_at(a),
        lambda: tree.leaf_hash(b),
        lambda: tree.inclusion_proofs(*pool[:2]),
        lambda: tree.append_leaf_hash(pool[0]),
        lambda: _core.MerkleTree.from_rows(pool[0], "sha256"),
        lambda: _core.MerkleTree.from_ragged(pool[0], pool[1]),
        lambda: _core.MerkleTree.from_leaf_hashes(pool[2]),
        lambda: _core.SigningKey(pool[0]),
    ):
        try:
            call()
        except (GridLedgerError, TypeError, OverflowError):
            pass
    assert tree.size == 3 or tree.size == 4  # at most the one valid append landed


def _non_contiguous(a: np.ndarray) -> np.ndarray:
    """Every other element of ``a`` repeated: the same values, not C-contiguous."""
    return np.repeat(a, 2, axis=0)[::2]


NON_CONTIGUOUS_CASES = [
    (
        "weights",
        lambda: _core.draw_winner(_non_contiguous(np.ones(4)), b"\0" * 32, 1, np.zeros((4, 32), np.uint8)),
    ),
    (
        "time_us",
        lambda: _core.wide_to_long(
            _non_contiguous(np.arange(2, dtype=np.int64)), np.zeros((1, 2)), [0], trim=False
        ),
    ),
    (
        "values",
        lambda: _core.wide_to_long(np.arange(2, dtype=np.int64), np.zeros((2, 4))[:, ::2], [0], trim=False),
    ),
    (
        "area",
        lambda: _core.series_runs(
            [_non_contiguous(np.zeros(2, np.uint32))], [np.zeros(2, np.uint32)], np.arange(2, dtype=np.int64)
        ),
    ),
    (
        "indices",
        lambda: _core.MerkleTree.from_leaf_hashes(np.zeros((4, 32), np.uint8)).inclusion_proofs(
            _non_contiguous(np.arange(2, dtype=np.uint64))
        ),
    ),
]


@pytest.mark.parametrize(("field", "call"), NON_CONTIGUOUS_CASES, ids=[c[0] for c in NON_CONTIGUOUS_CASES])
def test_non_contiguous_arrays_are_typed_errors_naming_the_argument(field: str, call: Any) -> None:
    with pytest.raises(InvalidArgumentError, match=rf"{field}.*C-contiguous"):
        call()


def test_misaligned_arrays_are_typed_errors_not_undefined_behaviour() -> None:
    """A field view of a packed record (or any view at an odd offset) is
    contiguous but misaligned; the core refuses it instead of reading it."""
    weights = np.frombuffer(bytes(33), dtype=np.uint8)[1:].view(np.float64)
    assert not weights.flags.aligned
    with pytest.raises(InvalidArgumentError, match=r"weights.*misaligned"):
        _core.draw_winner(weights, b"\0" * 32, 1, np.zeros((4, 32), np.uint8))
    # An empty field of a packed record: no element, still a misaligned pointer.
    empty = np.zeros(0, [("flag", "u1"), ("time_us", "<i8")])["time_us"]
    if empty.ctypes.data % 8:
        with pytest.raises(InvalidArgumentError, match=r"time_us.*misaligned"):
            _core.series_runs([np.zeros(0, np.uint32)], [np.zeros(0, np.uint32)], empty)
