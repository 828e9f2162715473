"""Measurements that need a fresh interpreter; prints one JSON line.

``python benches/_probe.py rss N``
    Resident memory (``/proc/self/status``) around building an N-leaf tree
    from leaf hashes: after imports, with the (N, 32) input, after the build,
    after deleting the input; and the peak (VmHWM).
``python benches/_probe.py book_rss N``
    Resident memory around an order book holding N resting orders (one
    replay of N limit orders that never cross; the inputs, tape and statuses
    deleted before the last reading).
``python benches/_probe.py time OP N REPS``
    Median wall and CPU time of one batch call (after one warm-up call), so
    that a run with ``RAYON_NUM_THREADS=1`` and one without can be compared.
    OP is hash_blake3, hash_sha256, merkle_build, proofs or verify_batch.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the probe imports gridledger lazily, after measuring its baseline
    from gridledger.hashing import Algorithm


def status() -> dict[str, int]:
    """VmRSS and VmHWM in bytes."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024
    return out


def rss(n: int) -> dict[str, object]:
    import numpy as np
    from gridledger.merkle import MerkleTree

    before = status()["VmRSS"]
    leaves = np.random.default_rng(0).integers(0, 256, (n, 32), dtype=np.uint8)
    with_input = status()["VmRSS"]
    tree = MerkleTree.from_leaf_hashes(leaves, algorithm="sha256")
    root = tree.root
    after_build = status()["VmRSS"]
    del leaves
    end = status()
    return {
        "n": n,
        "rss_before": before,
        "rss_with_input": with_input,
        "rss_after_build": after_build,
        "rss_after_del_input": end["VmRSS"],
        "hwm": end["VmHWM"],
        "delta": end["VmRSS"] - before,
        "peak_delta": end["VmHWM"] - before,
        "nbytes": tree.nbytes,
        "root": root.hex(),
    }


def book_rss(n: int) -> dict[str, object]:
    import gc

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from _streams import resting_book
    from gridledger.market import OrderBook

    before = status()["VmRSS"]
    ops = resting_book(n)
    book = OrderBook()
    with_input = status()["VmRSS"]
    tape, st = book.replay(ops)
    after_replay = status()["VmRSS"]
    assert len(book) == n and tape.height == 0 and not st.any()
    del ops, tape, st
    gc.collect()
    end = status()
    return {
        "n": n,
        "rss_before": before,
        "rss_with_input": with_input,
        "rss_after_replay": after_replay,
        "rss_after_del_input": end["VmRSS"],
        "delta": end["VmRSS"] - before,
        "peak_delta": end["VmHWM"] - before,
        "nbytes": book.nbytes,
        "resting": len(book),
    }


def batch_call(op: str, n: int) -> Callable[[], object]:
    import numpy as np
    from gridledger import hashing, keys, merkle

    rng = np.random.default_rng(1)
    if op in ("hash_blake3", "hash_sha256"):
        records = rng.integers(0, 256, (n, 64), dtype=np.uint8)
        alg: Algorithm = "blake3" if op == "hash_blake3" else "sha256"
        return lambda: hashing.hash_many(records, algorithm=alg)
    if op == "merkle_build":
        leaves = rng.integers(0, 256, (n, 64), dtype=np.uint8)
        return lambda: merkle.MerkleTree(leaves, algorithm="sha256").root
    if op == "proofs":
        tree = merkle.MerkleTree(rng.integers(0, 256, (n, 64), dtype=np.uint8))
        idx = rng.integers(0, n, min(n, 10**4))
        leaf_hashes = np.frombuffer(b"".join(tree.leaf_hash(int(i)) for i in idx), np.uint8)
        leaf_hashes = leaf_hashes.reshape(-1, 32)
        root = tree.root
        return lambda: merkle.verify_inclusion_batch(leaf_hashes, tree.inclusion_proofs(idx), root)
    if op == "verify_batch":
        sks = [keys.SigningKey.from_seed(rng.bytes(32)) for _ in range(n)]
        msgs = [f"meter {i:07d} import 1234 Wh".encode() for i in range(n)]
        sigs = [k.sign(m) for k, m in zip(sks, msgs, strict=True)]
        pks = [k.public_key for k in sks]
        return lambda: keys.verify_batch(pks, msgs, sigs)
    raise SystemExit(f"unknown op {op!r}")


def timed(op: str, n: int, reps: int) -> dict[str, object]:
    import os

    fn = batch_call(op, n)
    fn()
    walls, cpus = [], []
    for _ in range(reps):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        c1, w1 = time.process_time(), time.perf_counter()
        walls.append(w1 - w0)
        cpus.append(c1 - c0)
    return {
        "op": op,
        "n": n,
        "reps": reps,
        "rayon_threads": os.environ.get("RAYON_NUM_THREADS", "default"),
        "wall_median": statistics.median(walls),
        "cpu_median": statistics.median(cpus),
    }


def main(argv: list[str]) -> None:
    if argv[:1] == ["rss"]:
        result = rss(int(argv[1]))
    elif argv[:1] == ["book_rss"]:
        result = book_rss(int(argv[1]))
    elif argv[:1] == ["time"]:
        result = timed(argv[1], int(argv[2]), int(argv[3]))
    else:
        raise SystemExit(__doc__)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
