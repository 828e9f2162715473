"""Target ``keys``: keys and signatures on raw inputs. ``mode u8`` then, by ``mode % 3``:
0 ``SigningKey.from_seed(rest)``; 1 ``verify(pk32, msg, sig64)`` from ``pk | sig | msg``;
2 ``verify_batch`` of items ``pk32 | sig64 | len u8 | msg``, compared with ``verify``. A
signature under one of the reference keys verifies only if that key made it."""

from _common import FuzzFailure, atheris, check, main

with atheris.instrument_imports():
    from gridledger import keys
    from gridledger.errors import GridLedgerError

K = {k.public_key: k for k in (keys.SigningKey.from_seed(bytes([i]) * 32) for i in range(3))}


def _forged(pk: bytes, msg: bytes, sig: bytes) -> bool:
    return pk in K and sig != K[pk].sign(msg)


def test_one(data: bytes) -> None:
    if not data:
        return
    mode, rest = data[0] % 3, data[1:]
    if mode == 0:
        k = check(keys.SigningKey.from_seed, rest)
        if not isinstance(k, GridLedgerError) and not keys.verify(k.public_key, b"m", k.sign(b"m")):
            raise FuzzFailure(f"a key's own signature does not verify: {rest.hex()}")
    elif mode == 1:
        pk, sig, msg = rest[:32], rest[32:96], rest[96:]
        if check(keys.verify, pk, msg, sig) is True and _forged(pk, msg, sig):
            raise FuzzFailure(f"a forgery verified: {rest.hex()}")
    else:
        items = []
        while len(rest) >= 97:
            n = rest[96]
            items.append((rest[:32], rest[97 : 97 + n], rest[32:96]))
            rest = rest[97 + n :]
        out = check(keys.verify_batch, [i[0] for i in items], [i[1] for i in items], [i[2] for i in items])
        if not isinstance(out, GridLedgerError):
            single = [keys.verify(*i) for i in items]
            if out.tolist() != single:
                raise FuzzFailure(f"verify_batch {out.tolist()} != verify {single}")
            if any(ok and _forged(*i) for ok, i in zip(single, items, strict=True)):
                raise FuzzFailure("a forgery verified in a batch")


if __name__ == "__main__":
    main(test_one)
