"""Ed25519: RFC 8032 and Wycheproof known answers, single/batch agreement."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load_json
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gridledger import keys
from gridledger.errors import InvalidArgumentError
from hypothesis import given
from hypothesis import strategies as st

RFC8032 = load_json("rfc8032_ed25519.json")["vectors"]
WYCHEPROOF = load_json("wycheproof_ed25519_test.json")
WYCHE_CASES = [(g["publicKey"]["pk"], t) for g in WYCHEPROOF["testGroups"] for t in g["tests"]]


@pytest.mark.parametrize("v", RFC8032, ids=lambda v: v["name"])
def test_rfc8032_vectors(v: dict[str, str]) -> None:
    sk = keys.SigningKey.from_seed(bytes.fromhex(v["secret_key"]))
    msg, sig = bytes.fromhex(v["message"]), bytes.fromhex(v["signature"])
    assert sk.public_key.hex() == v["public_key"]
    assert sk.sign(msg) == sig
    assert keys.verify(sk.public_key, msg, sig)
    assert bytes(sk.sign_many([msg])[0]) == sig


@pytest.mark.parametrize("pk,t", WYCHE_CASES, ids=lambda x: str(x["tcId"]) if isinstance(x, dict) else "")
def test_wycheproof_single(pk: str, t: dict[str, object]) -> None:
    msg, sig = bytes.fromhex(str(t["msg"])), bytes.fromhex(str(t["sig"]))
    try:
        got = keys.verify(bytes.fromhex(pk), msg, sig)
    except InvalidArgumentError:
        got = False  # a signature that is not 64 bytes is malformed, hence invalid
    assert got is (t["result"] == "valid"), t["comment"]


def test_wycheproof_batch_agrees_with_expected() -> None:
    well_formed = [(pk, t) for pk, t in WYCHE_CASES if len(t["sig"]) == 128]
    got = keys.verify_batch(
        [bytes.fromhex(pk) for pk, _ in well_formed],
        [bytes.fromhex(t["msg"]) for _, t in well_formed],
        [bytes.fromhex(t["sig"]) for _, t in well_formed],
    )
    assert got.tolist() == [t["result"] == "valid" for _, t in well_formed]
    assert 0 < got.sum() < len(got)


def test_signatures_match_cryptography() -> None:
    for i in range(20):
        seed = bytes([i]) * 32
        msg = f"meter reading {i}".encode()
        theirs = Ed25519PrivateKey.from_private_bytes(seed)
        assert keys.SigningKey.from_seed(seed).sign(msg) == theirs.sign(msg)


@st.composite
def signed_batch(draw: st.DrawFn) -> tuple[list[bytes], list[bytes], list[bytes]]:
    n = draw(st.integers(0, 40))
    seeds = [draw(st.binary(min_size=32, max_size=32)) for _ in range(n)]
    msgs = [draw(st.binary(max_size=64)) for _ in range(n)]
    sks = [keys.SigningKey.from_seed(s) for s in seeds]
    pks = [k.public_key for k in sks]
    sigs = [k.sign(m) for k, m in zip(sks, msgs, strict=True)]
    for i in range(n):
        kind = draw(st.sampled_from(["ok", "ok", "sig", "msg", "key", "s_high", "zero_key"]))
        if kind == "sig":
            bit = draw(st.integers(0, 511))
            s = bytearray(sigs[i])
            s[bit // 8] ^= 1 << (bit % 8)
            sigs[i] = bytes(s)
        elif kind == "msg":
            msgs[i] = msgs[i] + b"!"
        elif kind == "key":
            pks[i] = pks[(i + 1) % n]
        elif kind == "s_high":
            sigs[i] = sigs[i][:63] + bytes([sigs[i][63] | 0xF0])
        elif kind == "zero_key":
            pks[i] = bytes(32)
    return pks, msgs, sigs


@given(signed_batch())
def test_batch_and_single_agree(batch: tuple[list[bytes], list[bytes], list[bytes]]) -> None:
    pks, msgs, sigs = batch
    got = keys.verify_batch(pks, msgs, sigs)
    assert got.shape == (len(pks),) and got.dtype == np.bool_
    assert got.tolist() == [keys.verify(*t) for t in zip(pks, msgs, sigs, strict=True)]


def test_large_batch_with_bad_items_agrees_with_single() -> None:
    n = 3000  # several chunks, so the parallel path and the fallback both run
    sk = [keys.SigningKey.from_seed(i.to_bytes(32, "little")) for i in range(n)]
    msgs = [f"block {i}".encode() for i in range(n)]
    sigs = np.array([list(k.sign(m)) for k, m in zip(sk, msgs, strict=True)], dtype=np.uint8)
    sigs[::101, 7] ^= 1
    pks = np.array([list(k.public_key) for k in sk], dtype=np.uint8)
    got = keys.verify_batch(pks, msgs, sigs)
    assert got.tolist() == [i % 101 != 0 for i in range(n)]


def test_sign_many_equals_sign() -> None:
    sk = keys.SigningKey.generate()
    msgs = [bytes([i % 256]) * (i % 50) for i in range(700)]  # above the parallel threshold
    many = sk.sign_many(msgs)
    assert many.shape == (700, 64)
    assert all(bytes(many[i]) == sk.sign(m) for i, m in enumerate(msgs))
    assert keys.verify_batch([sk.public_key] * 700, msgs, many).all()


def test_message_array_form() -> None:
    sk = keys.SigningKey.from_seed(bytes(32))
    msgs = np.arange(30, dtype=np.uint8).reshape(3, 10)
    sigs = [sk.sign(r.tobytes()) for r in msgs]
    assert keys.verify_batch([sk.public_key] * 3, msgs, sigs).all()


def test_bad_inputs_raise_typed_errors() -> None:
    sk = keys.SigningKey.generate()
    sig = sk.sign(b"m")
    with pytest.raises(InvalidArgumentError) as e:
        keys.SigningKey.from_seed(b"short")
    assert e.value.field == "seed"
    with pytest.raises(InvalidArgumentError) as e2:
        keys.verify(sk.public_key[:31], b"m", sig)
    assert e2.value.field == "public_key"
    with pytest.raises(InvalidArgumentError):
        keys.verify(sk.public_key, b"m", sig + b"\x00")
    with pytest.raises(InvalidArgumentError) as e3:
        keys.verify_batch([sk.public_key, b"x"], [b"m", b"m"], [sig, sig])
    assert e3.value.field == "public_keys[1]"
    with pytest.raises(InvalidArgumentError):
        keys.verify_batch([sk.public_key], [b"m", b"n"], [sig])
    assert "public_key=" in repr(sk) and sk.seed().hex() not in repr(sk)


def test_empty_batch() -> None:
    got = keys.verify_batch([], [], [])
    assert got.shape == (0,)
