"""Target ``data``: ``gridledger.data.read`` on any file content (the seeds are real
Transparency, OPSD and entsoe-py files, plain and gzip). A file reads into the long layout
or fails with BadDataError. While KNOWN_OPEN lists "gzip-trailer", a gzip trailer's size
is capped at 64 MiB before the file is written (the open bug allocates that size)."""

import os
import tempfile
from pathlib import Path

from _common import FuzzFailure, atheris, check, is_open, main

with atheris.instrument_imports():
    from gridledger import data
    from gridledger.errors import BadDataError, GridLedgerError

PATH = Path(tempfile.mkdtemp(prefix="gridledger-fuzz-")) / f"load-{os.getpid()}.csv"
MAX_TRAILER = 1 << 26


def test_one(raw: bytes) -> None:
    if (
        is_open("gzip-trailer")
        and raw[:2] == b"\x1f\x8b"
        and int.from_bytes(raw[-4:], "little") > MAX_TRAILER
    ):
        raw = raw[:-4] + MAX_TRAILER.to_bytes(4, "little")
    PATH.write_bytes(raw)
    frame = check(data.read, PATH, area="AT", known=("csv-cr-only",))
    if isinstance(frame, GridLedgerError):
        if not isinstance(frame, BadDataError) and "known open" not in str(frame):
            raise FuzzFailure(f"data.read raised {type(frame).__name__}, not BadDataError: {frame}")
    elif dict(frame.schema) != dict(data.LONG_SCHEMA):
        raise FuzzFailure(f"data.read returned schema {frame.schema}")


if __name__ == "__main__":
    main(test_one)
