"""Fuzz keys and signatures: SigningKey.from_seed, verify and verify_batch on mutated real
RFC 8032 vectors and arbitrary bytes and arrays; the batch agrees with the single check and
nothing but the signer's signature verifies."""

from __future__ import annotations

import numpy as np
from fuzzing import FuzzFailure, check, fuzz_settings, mutated
from gridledger import keys
from gridledger.errors import GridLedgerError
from hypothesis import given
from hypothesis import strategies as st

K = [keys.SigningKey.from_seed(bytes([i]) * 32) for i in range(3)]
MSGS = [b"", b"abc", bytes(range(100))]
SIGS = [k.sign(m) for k in K for m in MSGS]
PKS = [k.public_key for k in K]
VALID = {(k.public_key, m, k.sign(m)) for k in K for m in MSGS}

BYTES = st.one_of(st.binary(max_size=80), st.none(), st.text(max_size=4), st.integers(-1, 2**70))


@fuzz_settings()
@given(st.one_of(mutated([k.seed() for k in K]), BYTES))
def test_from_seed(seed: object) -> None:
    k = check(keys.SigningKey.from_seed, seed)
    if not isinstance(k, GridLedgerError):
        sig = k.sign(b"m")
        if not keys.verify(k.public_key, b"m", sig):
            raise FuzzFailure(f"a key's own signature does not verify: seed {seed!r}")


@fuzz_settings()
@given(
    st.one_of(mutated(PKS, max_edits=2), BYTES),
    st.one_of(st.sampled_from(MSGS), mutated(MSGS, max_edits=2)),
    st.one_of(mutated(SIGS, max_edits=2), BYTES),
)
def test_verify(pk: object, msg: bytes, sig: object) -> None:
    ok = check(keys.verify, pk, msg, sig)
    if ok is True and (pk, msg, sig) not in VALID:
        raise FuzzFailure(f"a forgery verified: {pk!r} {msg!r} {sig!r}")


ITEM = st.tuples(
    st.one_of(st.sampled_from(PKS), mutated(PKS, max_edits=1)),
    st.one_of(st.sampled_from(MSGS), mutated(MSGS, max_edits=1)),
    st.one_of(st.sampled_from(SIGS), mutated(SIGS, max_edits=1)),
)


@fuzz_settings()
@given(st.lists(ITEM, max_size=8), st.integers(0, 3), st.integers(0, 2))
def test_verify_batch(items: list[tuple[bytes, bytes, bytes]], shape: int, drop: int) -> None:
    pks = [a for a, _, _ in items]
    msgs = [b for _, b, _ in items]
    sigs = [c for _, _, c in items]
    args: list[object] = [pks, msgs, sigs]
    if shape == 1 and all(len(p) == 32 for p in pks) and all(len(s) == 64 for s in sigs):
        rows = [np.frombuffer(b"".join(x), np.uint8).reshape(len(x), -1) if x else x for x in (pks, sigs)]
        args = [rows[0], msgs, rows[1]]
        if msgs and len({len(m) for m in msgs}) == 1 and msgs[0]:
            args[1] = np.frombuffer(b"".join(msgs), np.uint8).reshape(len(msgs), -1)
    elif shape == 2 and items:
        args[drop] = list(args[drop])[:-1]  # type: ignore[call-overload]
    elif shape == 3:
        args[drop] = np.zeros((len(items), 7, 2), np.uint8)
    out = check(keys.verify_batch, *args)
    if not isinstance(out, GridLedgerError):
        single = [keys.verify(*it) for it in items]
        if out.tolist() != single:
            raise FuzzFailure(f"verify_batch {out.tolist()} != verify {single} for {items!r}")
