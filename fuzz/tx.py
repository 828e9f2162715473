"""Target ``tx``: ``gridledger.ledger.decode`` on any bytes (Create, Transfer, Candidate,
Winner, Evidence); what decodes re-encodes to the same bytes."""

from _common import FuzzFailure, atheris, check, main

with atheris.instrument_imports():
    from gridledger.errors import GridLedgerError
    from gridledger.ledger import decode


def test_one(data: bytes) -> None:
    for algorithm in ("blake3", "sha256"):
        out = check(decode, data, algorithm, known=("tx-no-signers",))
        if not isinstance(out, GridLedgerError) and out.encode() != data:
            raise FuzzFailure(f"decode(x).encode() != x for {data.hex()}")


if __name__ == "__main__":
    main(test_one)
