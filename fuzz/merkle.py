"""Target ``merkle``: proof checking on raw inputs. Layout::

    mode u8 | flags u8 | a u64 LE | b u64 LE | 32-byte chunks (the last may be short)

mode % 3: 0 ``verify_inclusion(chunk0, a, b, chunks[2:], chunk1)``, 1 ``verify_consistency(a,
b, chunk0, chunk1, chunks[2:])``, 2 ``verify_inclusion_batch`` of one proof, compared with the
single check. ``mode & 4`` picks BLAKE3, flags bit 0 negates ``a``, bit 1 adds 2^64 to ``b``.
A proof against the reference tree's root (13 leaves) verifies only if it is the tree's own."""

from _common import FuzzFailure, atheris, check, main

with atheris.instrument_imports():
    import numpy as np
    from gridledger import merkle
    from gridledger.errors import GridLedgerError

N = 13
TREE = merkle.MerkleTree([bytes([i]) * 5 for i in range(N)])
ROOT = TREE.root


def test_one(data: bytes) -> None:
    if len(data) < 18:
        return
    mode, flags = data[0], data[1]
    a, b = int.from_bytes(data[2:10], "little"), int.from_bytes(data[10:18], "little")
    a, b = -a if flags & 1 else a, b + (1 << 64) if flags & 2 else b
    rest = data[18:]
    chunks = [rest[i : i + 32] for i in range(0, len(rest), 32)] + [b"", b""]
    first, second, proof = chunks[0], chunks[1], chunks[2:-2]
    alg = "blake3" if mode & 4 else "sha256"
    if mode % 3 == 0:
        ok = check(merkle.verify_inclusion, first, a, b, proof, second, alg)
        if ok is True and alg == "sha256" and second == ROOT and b == N:
            if not (0 <= a < N and first == TREE.leaf_hash(a) and proof == TREE.inclusion_proof(a)):
                raise FuzzFailure(f"a foreign inclusion proof verified: {data.hex()}")
    elif mode % 3 == 1:
        ok = check(merkle.verify_consistency, a, b, first, second, proof, alg)
        if ok is True and alg == "sha256" and second == ROOT and b == N and 0 < a <= N:
            if first != TREE.root_at(a):
                raise FuzzFailure(f"a consistency proof verified a foreign root: {data.hex()}")
    else:
        full = [p for p in proof if len(p) == 32]
        hashes = np.frombuffer(b"".join(full), np.uint8).reshape(len(full), 32)
        idx = np.array([a % (1 << 64)], np.uint64)
        batch = merkle.ProofBatch(idx, b, hashes, np.array([0, len(full)], np.int64))
        out = check(merkle.verify_inclusion_batch, [first], batch, second, alg)
        if not isinstance(out, GridLedgerError):
            single = check(merkle.verify_inclusion, first, int(idx[0]), b, full, second, alg)
            if bool(out[0]) != (single is True):
                raise FuzzFailure(f"batch {out[0]} != single {single!r}: {data.hex()}")


if __name__ == "__main__":
    main(test_one)
