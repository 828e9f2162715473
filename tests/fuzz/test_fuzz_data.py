"""Fuzz ``data.read`` with garbled ENTSO-E files: byte mutations of real files (the heads of
the Transparency, OPSD and entsoe-py files in ``fuzz/corpus/data``), as plain CSV, as gzip
(the CSV's bytes mutated then compressed, or the compressed bytes themselves mutated) and
in a zip archive. A file reads or fails with BadDataError; what reads is the long layout."""

from __future__ import annotations

import gzip
import io
import tempfile
import zipfile
from pathlib import Path

from fuzzing import FuzzFailure, apply_mutations, check, fuzz_settings, is_open
from gridledger import data
from gridledger.errors import BadDataError, GridLedgerError
from hypothesis import given
from hypothesis import strategies as st

CORPUS = Path(__file__).resolve().parents[2] / "fuzz" / "corpus" / "data"
FILES = sorted(CORPUS.iterdir())
RAW = [p.read_bytes() for p in FILES]
CSV = [gzip.decompress(b) if b[:2] == b"\x1f\x8b" else b for b in RAW]
TMP = Path(tempfile.mkdtemp(prefix="gridledger-fuzz-"))

EDIT = st.tuples(
    st.integers(0, 6), st.integers(0, 1 << 20), st.integers(0, 1 << 16), st.binary(min_size=1, max_size=9)
)
TOKENS = [b",", b"\r", b"\n", b"\r\n", b'"', b"-", b"n/e", b"1e999999", b"NaN", b"\xff", b"\x00", b";",
          b"2019-13-45T99:00:00Z", b"31.02.2022 25:00 - 01.01.2022 00:00", b"-5"]  # fmt: skip
TOKEN_EDIT = st.tuples(st.just(2), st.integers(0, 1 << 20), st.just(0), st.sampled_from(TOKENS))

#: While "gzip-trailer" is open, no file may claim a larger size than this in its trailer.
MAX_TRAILER = 1 << 26


def _tame_trailer(b: bytes) -> bytes:
    if is_open("gzip-trailer") and b[:2] == b"\x1f\x8b" and len(b) >= 4:
        if int.from_bytes(b[-4:], "little") > MAX_TRAILER:
            b = b[:-4] + MAX_TRAILER.to_bytes(4, "little")
    return b


def _container(i: int, edits: list[tuple[int, int, int, bytes]], how: int) -> bytes:
    if how == 0:  # plain CSV, mutated
        return apply_mutations(CSV[i], edits)
    if how == 1:  # mutated CSV, gzip-compressed
        return gzip.compress(apply_mutations(CSV[i], edits), mtime=0)
    if how == 2:  # the compressed file itself mutated
        return apply_mutations(gzip.compress(CSV[i], mtime=0), edits)
    if how == 3:  # the real file as stored, bytes mutated
        return apply_mutations(RAW[i], edits)
    if how == 5:  # mutated, then its line endings made CR-only (old Mac) or CRLF
        ending = b"\r" if edits and edits[0][2] % 2 else b"\r\n"
        return apply_mutations(CSV[i], edits[1:]).replace(b"\r\n", b"\n").replace(b"\n", ending)
    buf = io.BytesIO()  # a zip archive: not a supported format
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("load.csv", apply_mutations(CSV[i], edits))
    return buf.getvalue()


@fuzz_settings(0.5)
@given(
    st.integers(0, len(FILES) - 1),
    st.lists(st.one_of(EDIT, TOKEN_EDIT), max_size=4),
    st.integers(0, 5),
    st.sampled_from([None, "AT", "x"]),
)
def test_read(i: int, edits: list[tuple[int, int, int, bytes]], how: int, area: str | None) -> None:
    body = _tame_trailer(_container(i, edits, how))
    path = TMP / FILES[i].name
    path.write_bytes(body)
    frame = check(data.read, path, area=area, known=("csv-cr-only",))
    if isinstance(frame, GridLedgerError):
        if not isinstance(frame, BadDataError) and "known open" not in str(frame):
            raise FuzzFailure(f"data.read raised {type(frame).__name__}, not BadDataError: {frame}")
        return
    if dict(frame.schema) != dict(data.LONG_SCHEMA):
        raise FuzzFailure(f"data.read returned schema {frame.schema}")
