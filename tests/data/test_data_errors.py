"""Bad input: typed errors naming file, line and field."""

from __future__ import annotations

import gzip
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from gridledger import cli, data
from gridledger.errors import BadConfigurationError, BadDataError

TP_HEAD = '"Time (CET/CEST)","Actual Total Load [MW] - BZN|AT"\n'


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _tp(rows: list[tuple[str, str]]) -> str:
    return TP_HEAD + "".join(f'"{t} - {t}","{v}"\n' for t, v in rows)


def test_duplicate_beyond_dst_names_the_line(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "x.csv",
        _tp([("01.01.2022 00:00", "1"), ("01.01.2022 01:00", "2"), ("01.01.2022 00:00", "3")]),
    )
    with pytest.raises(BadDataError, match=r"x\.csv:4: .*does not increase|x\.csv:\d+: duplicated") as e:
        data.read(p)
    assert e.value.field == "utc_timestamp"


def test_decreasing_timestamps(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "o.csv",
        "utc_timestamp,AT_load_actual_entsoe_transparency\n2019-01-01T01:00:00Z,5\n2019-01-01T00:00:00Z,6\n",
    )
    with pytest.raises(BadDataError, match=r"o\.csv:3: timestamp .* does not increase"):
        data.read(p)


def test_negative_load_names_line_and_column(tmp_path: Path) -> None:
    p = _write(tmp_path, "n.csv", _tp([("01.01.2022 00:00", "5"), ("01.01.2022 01:00", "-7")]))
    with pytest.raises(BadDataError, match=r"n\.csv:3: column .*BZN\|AT.*negative") as e:
        data.read(p)
    assert e.value.value == -7.0


def test_garbage_value(tmp_path: Path) -> None:
    p = _write(tmp_path, "g.csv", _tp([("01.01.2022 00:00", "5"), ("01.01.2022 01:00", "abc")]))
    with pytest.raises(BadDataError, match=r"g\.csv:3: .*'abc' is not a number"):
        data.read(p)


def test_value_in_the_missing_spring_hour(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "s.csv",
        _tp([("27.03.2022 01:00", "5"), ("27.03.2022 02:00", "6"), ("27.03.2022 03:00", "7")]),
    )
    with pytest.raises(BadDataError, match=r"s\.csv:3: .*non-existent local hour"):
        data.read(p)


def test_unknown_area_and_column(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "a.csv",
        '"Time (CET/CEST)","Actual Total Load [MW] - somewhere"\n"01.01.2022 00:00 - 01.01.2022 01:00","1"\n',
    )
    with pytest.raises(BadDataError, match="unknown area 'somewhere'") as e:
        data.read(p)
    assert e.value.field == "area"
    p2 = _write(
        tmp_path,
        "c.csv",
        "utc_timestamp,AT_load_actual_entsoe_transparency,AT_mystery\n2019-01-01T00:00:00Z,1,2\n",
    )
    with pytest.raises(BadDataError, match=r"c\.csv:1: unknown column 'AT_mystery'"):
        data.read(p2)
    p3 = _write(tmp_path, "q.csv", '"Time (CET/CEST)","Week-ahead Total Load Forecast [MW] - BZN|AT"\n')
    with pytest.raises(BadDataError, match="unknown column"):
        data.read(p3)


def test_header_only_files_read_as_empty_frames(tmp_path: Path) -> None:
    for name, text in [
        ("tp.csv", TP_HEAD),
        ("opsd.csv", "utc_timestamp,AT_load_actual_entsoe_transparency\n"),
    ]:
        frame = data.read(_write(tmp_path, name, text))
        assert frame.height == 0 and frame.columns == list(data.LONG_SCHEMA)


def test_unrecognised_format(tmp_path: Path) -> None:
    p = _write(tmp_path, "weird.csv", "hello,world\n1,2\n")
    with pytest.raises(BadDataError, match=r"weird\.csv:1: unrecognised format"):
        data.read(p)
    with pytest.raises(BadDataError, match="no such file"):
        data.read(tmp_path / "absent.csv")


def test_entsoepy_dump_without_area(tmp_path: Path) -> None:
    p = _write(tmp_path, "dump.csv", "2019-01-01 00:00:00+01:00,6139.0\n2019-01-01 00:15:00+01:00,6108.0\n")
    with pytest.raises(BadDataError, match="unknown area"):
        data.read(p)
    assert data.read(p, area="AT")["area"].to_list() == ["AT", "AT"]


def test_gap_beyond_fill_limit() -> None:
    f = data.sample_load().filter(pl.col("utc_timestamp").dt.ordinal_day() <= 3)
    holed = f.with_columns(
        pl.when(pl.int_range(pl.len()).is_between(10, 14))
        .then(None)
        .otherwise(pl.col("value_mw"))
        .alias("value_mw")
    )
    with pytest.raises(
        BadDataError, match=r"AT/load_actual: gap of 5 periods \(300 min\) from 2019-01-01T10:00"
    ) as e:
        data.resample(holed, "15m", fill_limit="2h")
    assert e.value.field == "gap"
    filled = data.resample(holed, "15m", fill_limit="5h")
    assert filled["value_mw"].null_count() == 0


def test_null_timestamps_are_named_not_a_panic() -> None:
    hole = pl.when(pl.int_range(pl.len()) == 2).then(None).otherwise(pl.col("utc_timestamp"))
    f = data.sample_load().head(4).with_columns(hole.alias("utc_timestamp"))
    calls: tuple[Callable[[], object], ...] = (lambda: data.resample(f, "15m"), lambda: data.gap_report(f))
    for call in calls:
        with pytest.raises(BadDataError, match=r"1 null timestamp.*row 2") as e:
            call()
        assert e.value.field == "utc_timestamp"


def test_bad_configuration() -> None:
    f = data.sample_load()
    with pytest.raises(BadConfigurationError):
        data.resample(f, "7m")
    with pytest.raises(BadConfigurationError):
        data.resample(f, "15m", method="cubic")
    with pytest.raises(BadConfigurationError):
        data.resample(f, "bogus")
    with pytest.raises(BadConfigurationError):
        data.scale_to_community(f, households=0)
    with pytest.raises(BadDataError, match="exactly one series"):
        data.scale_to_community(f, households=10, area="DE")


def test_cli_reports_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = _write(tmp_path, "weird.csv", "hello\n")
    assert cli.main(["data", "inspect", str(p)]) == 2
    err = capsys.readouterr().err
    assert "weird.csv:1: unrecognised format" in err and "hint:" in err


@pytest.mark.parametrize("stated", [2**28, 2**32 - 1])
def test_gzip_trailer_cannot_make_read_allocate(tmp_path: Path, stated: int) -> None:
    """Issue 19: eight bytes whose trailer states up to 4 GiB cost no memory beyond the data.

    The stated size is refused before any buffer is set aside: a DEFLATE byte inflates
    to at most 1032, so 8 bytes cannot hold more than 8256 (docs/data.md, "Limits").
    """
    p = tmp_path / "x.csv.gz"
    p.write_bytes(b"\x1f\x8b\x08\x00" + stated.to_bytes(4, "little"))
    tracemalloc.start()
    try:
        with pytest.raises(BadDataError) as info:
            data.read(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"{peak} bytes allocated for an 8-byte file"
    assert f"x.csv.gz:1: cannot read (gzip: the trailer states {stated} bytes" in str(info.value)


def test_gzip_with_a_wrong_trailer_or_bad_deflate_is_bad_data(tmp_path: Path) -> None:
    body = TP_HEAD.encode() + b"".join(
        f'"01.01.2019 {h:02d}:00 - 01.01.2019 {h:02d}:00","{6000 + h}"\n'.encode() for h in range(24)
    )
    packed = gzip.compress(body)
    assert data.read(_write_bytes(tmp_path, "ok.csv.gz", packed)).height == 24
    # A believable but wrong size: inflated into exactly that much, then refused.
    lying = packed[:-4] + (len(body) + 1).to_bytes(4, "little")
    with pytest.raises(BadDataError, match=r"lying\.csv\.gz:1: cannot read \(gzip: corrupt"):
        data.read(_write_bytes(tmp_path, "lying.csv.gz", lying))
    # A corrupt DEFLATE stream: format detection reads it through the gzip module.
    flipped = bytearray(packed)
    flipped[12] ^= 0xFF
    p = _write_bytes(tmp_path, "flip.csv.gz", bytes(flipped))
    with pytest.raises(BadDataError, match=r"flip\.csv\.gz:1: cannot read"):
        data.detect_format(p)
    with pytest.raises(BadDataError, match=r"flip\.csv\.gz:1: cannot read \(gzip: corrupt"):
        data.read(p)
    with pytest.raises(BadDataError, match=r"tail\.csv\.gz:1: cannot read \(gzip: corrupt"):
        data.read(_write_bytes(tmp_path, "tail.csv.gz", packed + b"junk\0\0\0\0"))


def _write_bytes(tmp_path: Path, name: str, blob: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(blob)
    return p
