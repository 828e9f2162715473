from __future__ import annotations

import polars as pl
import pytest
from gridledger import data
from gridledger.errors import InvalidArgumentError
from gridledger.meters import MeterReading
from hypothesis import given
from hypothesis import strategies as st


@given(st.integers(-(2**40), 2**40), st.integers(1, 2**32 - 1), st.integers(0, 2**63 - 1))
def test_reading_roundtrip(start: int, duration: int, energy: int) -> None:
    r = MeterReading(start, duration, energy)
    enc = r.encode()
    assert len(enc) == 25 and enc[:5] == b"GLMR\x01"
    assert MeterReading.decode(enc) == r


def test_reading_rejects_bad_values() -> None:
    with pytest.raises(InvalidArgumentError) as e:
        MeterReading(0, 900, -1)
    assert e.value.field == "energy_wh"
    with pytest.raises(InvalidArgumentError):
        MeterReading(0, 0, 5)
    with pytest.raises(InvalidArgumentError):
        MeterReading(0, 900, 1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        MeterReading.decode(b"GLMR\x02" + bytes(20))
    with pytest.raises(InvalidArgumentError):
        MeterReading.decode(b"short")


def test_sample_load_is_the_bundled_austrian_year() -> None:
    df = data.sample_load()
    assert df.columns == ["utc_timestamp", "area", "quantity", "value_mw"]
    assert df["area"].unique().to_list() == ["AT"]
    assert df["quantity"].unique().to_list() == ["load_actual"]
    assert df.schema["utc_timestamp"] == pl.Datetime("us", "UTC")
    assert df.height == 8760 and df["value_mw"].null_count() == 0
    assert str(df["utc_timestamp"][0]) == "2019-01-01 00:00:00+00:00"
    assert str(df["utc_timestamp"][-1]) == "2019-12-31 23:00:00+00:00"
    steps = df["utc_timestamp"].diff().drop_nulls().dt.total_seconds().unique().to_list()
    assert steps == [3600]
    assert df["value_mw"].head(2).to_list() == [5852.0, 5619.0]
    mean = df["value_mw"].mean()
    assert isinstance(mean, float) and 4000 < mean < 9000  # Austria's load, in MW
