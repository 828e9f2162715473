"""Target 3: Ed25519 verification against ``cryptography`` (OpenSSL).

SIGS signatures, each under its own key, side by side:

* ``keys.verify_batch`` over lists of bytes (target: ≥ 4× the cryptography loop);
* ``keys.verify`` called once per signature (target: ≥ 2×);
* the baseline: ``Ed25519PublicKey.verify`` in a loop catching
  ``InvalidSignature``, keys loaded beforehand (the baseline's best case);
  and the same loop loading each key with ``from_public_bytes`` (like for
  like: our calls take raw key bytes);
* ``verify_batch`` with one corrupted signature, and with 1 % of them: a
  failing batch equation makes the core re-check its whole chunk one by one.

Whether a batch uses both cores: ``cpu_per_wall`` (process CPU time / wall
time) is recorded here, and test_bench_system.py compares
``RAYON_NUM_THREADS=1`` with the default pool.
"""

from __future__ import annotations

import numpy as np
import pytest
from _common import SIGS, SignatureSet, cpu_per_wall, note
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from gridledger import keys
from pytest_benchmark.fixture import BenchmarkFixture

GROUP = f"3 ed25519 verify: {SIGS} signatures"


def test_cryptography_agrees(signature_set: SignatureSet) -> None:
    s = signature_set
    for key, m, sig in zip(s.crypto_keys[:50], s.msgs, s.sigs, strict=False):
        key.verify(sig, m)
    assert keys.verify_batch(s.public_keys, s.msgs, s.sigs).all()
    assert (keys.verify_batch(s.public_keys, s.msgs, s.sigs_1pct_bad) == ~s.bad).all()


def test_verify_batch(benchmark: BenchmarkFixture, signature_set: SignatureSet) -> None:
    benchmark.group = GROUP
    note(benchmark, "sig.ours_batch", "ours", SIGS)
    s = signature_set
    ok = benchmark(keys.verify_batch, s.public_keys, s.msgs, s.sigs)
    assert ok.all()
    benchmark.extra_info["cpu_per_wall"] = cpu_per_wall(
        lambda: keys.verify_batch(s.public_keys, s.msgs, s.sigs)
    )


@pytest.mark.parametrize("invalid", ["one", "1pct"])
def test_verify_batch_with_invalid(
    benchmark: BenchmarkFixture, signature_set: SignatureSet, invalid: str
) -> None:
    """One bad signature, or 1 % of them: a failing chunk is re-checked one by one."""
    benchmark.group = GROUP
    s = signature_set
    if invalid == "one":
        sigs, expect = s.sigs_one_bad, np.arange(SIGS) != SIGS // 2
    else:
        sigs, expect = s.sigs_1pct_bad, ~s.bad
    note(benchmark, f"sig.ours_batch_{invalid}_bad", "ours", SIGS)
    ok = benchmark(keys.verify_batch, s.public_keys, s.msgs, sigs)
    assert np.array_equal(ok, expect)


def test_verify_loop(benchmark: BenchmarkFixture, signature_set: SignatureSet) -> None:
    benchmark.group = GROUP
    note(benchmark, "sig.ours_loop", "ours", SIGS)
    s = signature_set
    jobs = list(zip(s.public_keys, s.msgs, s.sigs, strict=True))
    verify = keys.verify

    def run() -> int:
        return sum(verify(pk, m, sig) for pk, m, sig in jobs)

    assert benchmark(run) == SIGS


def test_cryptography_loop(benchmark: BenchmarkFixture, signature_set: SignatureSet) -> None:
    benchmark.group = GROUP
    note(benchmark, "sig.cryptography_loop", "baseline", SIGS, baseline="cryptography loop")
    s = signature_set
    jobs = list(zip(s.crypto_keys, s.msgs, s.sigs, strict=True))

    def run() -> int:
        good = 0
        for key, m, sig in jobs:
            try:
                key.verify(sig, m)
                good += 1
            except InvalidSignature:
                pass
        return good

    assert benchmark(run) == SIGS


def test_cryptography_loop_with_key_loading(benchmark: BenchmarkFixture, signature_set: SignatureSet) -> None:
    benchmark.group = GROUP
    note(benchmark, "sig.cryptography_loop_load", "baseline", SIGS)
    s = signature_set
    jobs = list(zip(s.public_keys, s.msgs, s.sigs, strict=True))
    load = Ed25519PublicKey.from_public_bytes

    def run() -> int:
        good = 0
        for pk, m, sig in jobs:
            try:
                load(pk).verify(sig, m)
                good += 1
            except InvalidSignature:
                pass
        return good

    assert benchmark(run) == SIGS
