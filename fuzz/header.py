"""Target ``header``: ``Header.decode`` on any bytes; what decodes re-encodes to the same bytes."""

from _common import FuzzFailure, atheris, check, main

with atheris.instrument_imports():
    from gridledger.errors import GridLedgerError
    from gridledger.ledger import Header


def test_one(data: bytes) -> None:
    out = check(Header.decode, data)
    if not isinstance(out, GridLedgerError) and out.encode() != data:
        raise FuzzFailure(f"Header.decode(x).encode() != x for {data.hex()}")


if __name__ == "__main__":
    main(test_one)
