"""Reading and resampling every ENTSO-E file: gridledger.data against pandas and polars.

Target (issue: ENTSO-E data layer): reading and resampling every file in
shared/data/entsoe and raw/ at least 5x faster than the same work in pandas,
side by side in one run. Both produce the long layout on a 15-minute grid;
``test_same_result`` checks that they agree (rows and energy per file).

The reader alone against ``polars.read_csv`` (issue 18 §3: does the
hand-written CSV body parser earn its place next to the library we already
depend on?): ``data.read`` against the same long frame built with polars
(``benches/_polars_data.py``, checked identical by ``test_polars_same_frame``)
and against ``polars.read_csv`` by itself.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import polars as pl
import pytest
from _common import FULL
from _pandas_data import read_and_resample
from _polars_data import read as polars_read
from _polars_data import read_csv_only
from gridledger import data
from pytest_benchmark.fixture import BenchmarkFixture

ENTSOE = Path(__file__).resolve().parents[2] / "shared" / "data" / "entsoe"
ALL_FILES = sorted(ENTSOE.glob("*.csv*")) + sorted((ENTSOE / "raw").glob("*.gz"))
FILES = ALL_FILES if FULL else [f for f in ALL_FILES if f.stat().st_size < 250_000]


def ours() -> list[pl.DataFrame]:
    return [data.resample(data.read(f), "15m") for f in FILES]


def theirs() -> list[object]:
    return [read_and_resample(f) for f in FILES]


def ours_read() -> list[pl.DataFrame]:
    return [data.read(f) for f in FILES]


def polars_long() -> list[pl.DataFrame]:
    return [polars_read(f) for f in FILES]


def polars_csv() -> list[pl.DataFrame]:
    return [read_csv_only(f) for f in FILES]


def test_same_result() -> None:
    for f, a, b in zip(FILES, ours(), theirs(), strict=True):
        assert a.height == len(b), f.name  # type: ignore[arg-type]
        ea = float(a["value_mw"].sum())
        eb = float(b["value_mw"].sum())  # type: ignore[index]
        assert ea == pytest.approx(eb, rel=1e-12), f.name


@pytest.mark.benchmark(group="data: read + resample every file to 15 min")
def test_gridledger_data(benchmark: BenchmarkFixture) -> None:
    benchmark.pedantic(ours, rounds=5 if FULL else 1, iterations=1)


@pytest.mark.benchmark(group="data: read + resample every file to 15 min")
def test_pandas_baseline(benchmark: BenchmarkFixture) -> None:
    benchmark.pedantic(theirs, rounds=5 if FULL else 1, iterations=1)


@pytest.mark.benchmark(group="data: paired rounds, pandas time / ours")
def test_paired_ratio(benchmark: BenchmarkFixture) -> None:
    """The two pipelines alternated round by round, so both see the same machine.

    On a shared two-core VM the separate groups above can land minutes apart
    under different foreign load; the ratio of each adjacent pair, and its
    median over the rounds, is the figure BENCHMARKS.md quotes. Written to
    ``extra_info`` and to ``out/bench_data_paired.json``.
    """
    rounds = 9 if FULL else 1
    pairs: list[tuple[float, float]] = []

    def alternate() -> None:
        for _ in range(rounds):
            t0 = time.perf_counter()
            ours()
            t1 = time.perf_counter()
            theirs()
            pairs.append((t1 - t0, time.perf_counter() - t1))

    benchmark.pedantic(alternate, rounds=1, iterations=1)
    ratios = sorted(p / o for o, p in pairs)
    summary = {
        "rounds": rounds,
        "ours_median_s": statistics.median(o for o, _ in pairs),
        "pandas_median_s": statistics.median(p for _, p in pairs),
        "ratio_median": statistics.median(ratios),
        "ratio_min": ratios[0],
        "ratio_max": ratios[-1],
        "pairs_s": pairs,
    }
    benchmark.extra_info["paired"] = summary
    out = Path(__file__).resolve().parents[1] / "out"
    out.mkdir(exist_ok=True)
    (out / "bench_data_paired.json").write_text(json.dumps(summary, indent=1))


def test_polars_same_frame() -> None:
    """The polars reader gives data.read's frame exactly: rows, order, labels, timestamps and values."""
    strings = (pl.col("area").cast(pl.String), pl.col("quantity").cast(pl.String))
    for f, a, b in zip(FILES, ours_read(), polars_long(), strict=True):
        assert a.schema == b.schema, f.name
        assert a.with_columns(*strings).equals(b.with_columns(*strings)), f.name
    for f, wide in zip(FILES, polars_csv(), strict=True):
        assert wide.height > 0, f.name


@pytest.mark.benchmark(group="data: read every file (no resampling)")
def test_read_gridledger(benchmark: BenchmarkFixture) -> None:
    benchmark.pedantic(ours_read, rounds=5 if FULL else 1, iterations=1)


@pytest.mark.benchmark(group="data: read every file (no resampling)")
def test_read_polars(benchmark: BenchmarkFixture) -> None:
    benchmark.pedantic(polars_long, rounds=5 if FULL else 1, iterations=1)


@pytest.mark.benchmark(group="data: read every file (no resampling)")
def test_read_polars_csv_only(benchmark: BenchmarkFixture) -> None:
    benchmark.pedantic(polars_csv, rounds=5 if FULL else 1, iterations=1)


@pytest.mark.benchmark(group="data: paired rounds, polars time / ours (read)")
def test_paired_read_polars(benchmark: BenchmarkFixture) -> None:
    """data.read, the polars reader and polars.read_csv alone, alternated round by round.

    Per round the ratios polars-long / ours and read_csv-only / ours; their
    medians, minima and maxima go to ``extra_info`` and to
    ``out/bench_data_polars_paired.json``.
    """
    rounds = 9 if FULL else 1
    rows: list[tuple[float, float, float]] = []

    def alternate() -> None:
        for _ in range(rounds):
            t0 = time.perf_counter()
            ours_read()
            t1 = time.perf_counter()
            polars_long()
            t2 = time.perf_counter()
            polars_csv()
            rows.append((t1 - t0, t2 - t1, time.perf_counter() - t2))

    benchmark.pedantic(alternate, rounds=1, iterations=1)
    long_ratios = sorted(p / o for o, p, _ in rows)
    csv_ratios = sorted(c / o for o, _, c in rows)
    summary = {
        "rounds": rounds,
        "ours_median_s": statistics.median(o for o, _, _ in rows),
        "polars_long_median_s": statistics.median(p for _, p, _ in rows),
        "polars_csv_only_median_s": statistics.median(c for _, _, c in rows),
        "long_ratio_median": statistics.median(long_ratios),
        "long_ratio_min": long_ratios[0],
        "long_ratio_max": long_ratios[-1],
        "csv_only_ratio_median": statistics.median(csv_ratios),
        "csv_only_ratio_min": csv_ratios[0],
        "csv_only_ratio_max": csv_ratios[-1],
        "rounds_s": rows,
    }
    benchmark.extra_info["paired_polars"] = summary
    out = Path(__file__).resolve().parents[1] / "out"
    out.mkdir(exist_ok=True)
    (out / "bench_data_polars_paired.json").write_text(json.dumps(summary, indent=1))
