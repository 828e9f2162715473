"""Target ``genesis``: ``Genesis.decode`` and ``Chain(genesis)`` on any bytes; what decodes
re-encodes to the same bytes."""

from _common import FuzzFailure, atheris, check, main

with atheris.instrument_imports():
    from gridledger.errors import GridLedgerError
    from gridledger.ledger import Chain, Genesis


def test_one(data: bytes) -> None:
    out = check(Genesis.decode, data)
    if isinstance(out, GridLedgerError):
        return
    again = check(out.encode)
    if again != data:
        raise FuzzFailure(f"Genesis.decode(x).encode() != x for {data.hex()}")
    check(Chain, data)


if __name__ == "__main__":
    main(test_one)
