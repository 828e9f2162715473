"""Target ``block``: a block appended to a real chain (``Chain.append_raw``). The input is
``part (1 byte) | bytes``: part 0 replaces the header, 1 the signature, 2 the transactions
(offsets recomputed when they still split it into the real lengths, else one transaction).
A refused block leaves height, tip, log, device counters and every balance unchanged."""

import numpy as np
from _common import atheris, check, main, unchanged

with atheris.instrument_imports():
    from gridledger.errors import GridLedgerError
    from seeds import ledger_seeds

S = ledger_seeds()
BLOB, OFFSETS = S.block.tx_blob()
PARTS = [S.block.header.encode(), S.block.signature, BLOB]


def _state(c):  # type: ignore[no-untyped-def]
    return (c.height, c.tip_hash, c.n_tx, c.log_root(), c.device_seq().tolist(),
            [c.balance(bytes(k)) for k in c.keys()])  # fmt: skip


def test_one(data: bytes) -> None:
    if not data:
        return
    part, body = data[0] % 3, data[1:]
    parts = list(PARTS)
    parts[part] = body
    offsets = OFFSETS if len(parts[2]) == len(BLOB) else np.array([0, len(parts[2])], np.int64)
    chain = S.world.chain.copy()
    before = _state(chain)
    out = check(chain.append_raw, parts[0], parts[1], parts[2], offsets)
    if isinstance(out, GridLedgerError):
        unchanged(before, _state(chain), "the chain")


if __name__ == "__main__":
    main(test_one)
