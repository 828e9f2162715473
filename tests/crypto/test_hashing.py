from __future__ import annotations

import hashlib

import numpy as np
import pytest
from conftest import load_json
from gridledger import hashing
from gridledger.errors import BadConfigurationError, InvalidArgumentError
from hypothesis import given
from hypothesis import strategies as st

BLAKE3 = load_json("blake3_test_vectors.json")


def _input(n: int) -> bytes:
    return bytes(i % 251 for i in range(n))


@pytest.mark.parametrize("case", BLAKE3["cases"], ids=lambda c: f"len{c['input_len']}")
def test_blake3_official_vectors(case: dict[str, object]) -> None:
    want = bytes.fromhex(str(case["hash"]))[:32]
    assert hashing.blake3(_input(int(str(case["input_len"])))) == want


def test_blake3_official_vectors_as_one_batch() -> None:
    inputs = [_input(c["input_len"]) for c in BLAKE3["cases"]]
    got = hashing.hash_many(inputs)
    want = np.array([list(bytes.fromhex(c["hash"])[:32]) for c in BLAKE3["cases"]], dtype=np.uint8)
    np.testing.assert_array_equal(got, want)


@given(st.binary(max_size=3000))
def test_sha256_matches_hashlib(data: bytes) -> None:
    assert hashing.sha256(data) == hashlib.sha256(data).digest()
    assert hashing.sha256(bytearray(data)) == hashing.sha256(memoryview(data))


@given(st.lists(st.binary(max_size=200), max_size=50), st.sampled_from(["blake3", "sha256"]))
def test_hash_many_equals_single_hashes(items: list[bytes], algorithm: str) -> None:
    single = hashing.blake3 if algorithm == "blake3" else hashing.sha256
    got = hashing.hash_many(items, algorithm)  # type: ignore[arg-type]
    assert got.shape == (len(items), 32) and got.dtype == np.uint8
    assert [bytes(r) for r in got] == [single(x) for x in items]


@pytest.mark.parametrize("n", [0, 1, 3000])  # 3000 crosses the parallel threshold
@pytest.mark.parametrize("algorithm", ["blake3", "sha256"])
def test_hash_many_array_equals_list(n: int, algorithm: str) -> None:
    rng = np.random.default_rng(n)
    arr = rng.integers(0, 256, size=(n, 64), dtype=np.uint8)
    from_array = hashing.hash_many(arr, algorithm)  # type: ignore[arg-type]
    from_list = hashing.hash_many([r.tobytes() for r in arr], algorithm)  # type: ignore[arg-type]
    np.testing.assert_array_equal(from_array, from_list)
    # A non-contiguous view is copied visibly, giving the same digests.
    wide = np.zeros((n, 128), dtype=np.uint8)
    wide[:, ::2] = arr
    np.testing.assert_array_equal(hashing.hash_many(wide[:, ::2], algorithm), from_array)  # type: ignore[arg-type]


def test_zero_width_rows_hash_the_empty_string() -> None:
    got = hashing.hash_many(np.zeros((3, 0), dtype=np.uint8))
    assert all(bytes(r) == hashing.blake3(b"") for r in got)


def test_bad_inputs_raise_typed_errors() -> None:
    with pytest.raises(BadConfigurationError) as e:
        hashing.hash_many([b"x"], "md5")  # type: ignore[arg-type]
    assert e.value.field == "algorithm" and "md5" in str(e.value.value)
    with pytest.raises(InvalidArgumentError) as e2:
        hashing.hash_many([b"x", "y"])  # type: ignore[list-item]
    assert e2.value.field == "items[1]"
    with pytest.raises(InvalidArgumentError):
        hashing.hash_many(np.zeros((2, 3), dtype=np.int32))
    with pytest.raises(InvalidArgumentError):
        hashing.hash_many(np.zeros(5, dtype=np.uint8))
    with pytest.raises(InvalidArgumentError):
        hashing.blake3("text")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        hashing.hash_many(b"not a list")  # type: ignore[arg-type]
