"""``gridledger bench`` and ``gridledger bench compare``: the JSON schema, comparisons and their misuse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from gridledger import bench, cli
from gridledger.bench.runner import SCHEMA_VERSION

FAST = "hash_many,merkle_build,verify_batch,data_read_resample"


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "smoke.json"
    assert cli.main(["bench", "--size", "smoke", "--workloads", FAST, "--json", str(out), "--quiet"]) == 0
    return out


def _doc(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


def _write(tmp: Path, name: str, doc: dict[str, Any]) -> str:
    p = tmp / name
    p.write_text(json.dumps(doc))
    return str(p)


def test_json_follows_the_schema(smoke: Path) -> None:
    doc = _doc(smoke)
    assert doc["schema"] == "gridledger-bench" and doc["schema_version"] == SCHEMA_VERSION
    assert doc["size"] == "smoke" and doc["data"].startswith("bundled:")
    assert {"cpu_model", "cores_logical", "cpu_flags", "os", "python"} <= doc["machine"].keys()
    assert "avx512ifma" in doc["machine"]["cpu_flags"]
    assert doc["gridledger"]["version"]
    assert [w["name"] for w in doc["workloads"]] == FAST.split(",")
    for w in doc["workloads"]:
        assert 0 < w["min_s"] <= w["median_s"] <= w["max_s"]
        assert (
            w["throughput"] == pytest.approx(w["n"] / w["median_s"], rel=1e-9)
            or w["name"] == "data_read_resample"
        )
        assert w["unit"].endswith("/s") and w["instructions"] is None
        for p in w["peers"]:
            assert p["ratio"] == pytest.approx(p["median_s"] / w["median_s"])
    peers = {
        w["name"]: {p["name"] for p in w["peers"]} | {p["name"] for p in w["skipped_peers"]}
        for w in doc["workloads"]
    }
    assert peers["hash_many"] >= {"blake3 loop", "hashlib sha256 loop"}
    assert peers["verify_batch"] == {"cryptography loop"}
    assert peers["merkle_build"] == {"pymerkle"}
    assert peers["data_read_resample"] == {"pandas"}


def test_compare_same_run_passes(smoke: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "compare", str(smoke), str(smoke)]) == 0
    out = capsys.readouterr().out
    for name in FAST.split(","):
        assert name in out


def test_compare_fails_past_the_threshold(
    smoke: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _doc(smoke)
    doc["workloads"][1]["median_s"] *= 1.5  # merkle_build 50 % slower
    slow = _write(tmp_path, "slow.json", doc)
    assert cli.main(["bench", "compare", str(smoke), slow, "--max-regression", "10"]) == 1
    captured = capsys.readouterr()
    assert "REGRESSED" in captured.out and "merkle_build" in captured.err
    assert cli.main(["bench", "compare", str(smoke), slow, "--max-regression", "60"]) == 0
    err = _misuse(["bench", "compare", str(smoke), slow, "--max-regression", "-1"], capsys)
    assert "--max-regression" in err
    changes = bench.compare(_doc(smoke), doc, 10)
    assert [c.workload for c in changes if c.regressed] == ["merkle_build"]
    assert changes[1].change == pytest.approx(0.5)


def _misuse(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert lines[0].startswith("error: ") and lines[1].startswith("hint: "), err
    return err


def test_other_schema_version_names_it(
    smoke: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _doc(smoke)
    doc["schema_version"] = SCHEMA_VERSION + 1
    other = _write(tmp_path, "v2.json", doc)
    err = _misuse(["bench", "compare", str(smoke), other], capsys)
    assert f"schema_version {SCHEMA_VERSION + 1}" in err and f"reads {SCHEMA_VERSION}" in err


def test_different_workloads_are_named(
    smoke: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _doc(smoke)
    doc["workloads"] = doc["workloads"][:-1]
    fewer = _write(tmp_path, "fewer.json", doc)
    err = _misuse(["bench", "compare", str(smoke), fewer], capsys)
    assert "only in base: data_read_resample" in err
    doc = _doc(smoke)
    doc["size"] = "default"
    err = _misuse(["bench", "compare", str(smoke), _write(tmp_path, "d.json", doc)], capsys)
    assert "different sizes" in err


def test_not_a_bench_file(smoke: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    assert "not a JSON file" in _misuse(["bench", "compare", str(junk), str(smoke)], capsys)
    junk.write_text('{"a": 1}')
    assert "not a gridledger bench result" in _misuse(["bench", "compare", str(junk), str(smoke)], capsys)


def test_unknown_workload_and_size_list_the_valid_ones(capsys: pytest.CaptureFixture[str]) -> None:
    err = _misuse(["bench", "--workloads", "hash_many,nope"], capsys)
    assert "'nope'" in err and all(w in err for w in bench.WORKLOADS)
    err = _misuse(["bench", "--size", "huge"], capsys)
    assert all(s in err for s in bench.SIZES)
    assert "threads" in _misuse(["bench", "--threads", "0"], capsys)


def test_existing_output_is_not_replaced(smoke: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = smoke.read_text()
    err = _misuse(["bench", "--size", "smoke", "--workloads", "hash_many", "--json", str(smoke)], capsys)
    assert "--overwrite" in err and smoke.read_text() == before


def test_library_refuses_unknown_names() -> None:
    from gridledger.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="hash_many") as e:
        bench.run_suite(["nope"], "smoke")
    assert e.value.field == "workload"
    with pytest.raises(InvalidArgumentError, match="smoke, default, large"):
        bench.run_suite(["hash_many"], "tiny")


def test_threads_run_in_a_child_with_the_pool_size() -> None:
    doc = bench.run_threads(["hash_many", "verify_batch"], "smoke", None, [1, 2])
    assert [(w["name"], w["threads"]) for w in doc["workloads"]] == [
        ("hash_many", 1), ("verify_batch", 1), ("hash_many", 2), ("verify_batch", 2),
    ]  # fmt: skip
    assert doc["gridledger"]["rayon_threads"] == "1,2"
    for w in doc["workloads"]:
        t1 = next(r["median_s"] for r in doc["workloads"] if r["name"] == w["name"] and r["threads"] == 1)
        assert w["speedup"] == pytest.approx(t1 / w["median_s"])
        assert w["efficiency"] == pytest.approx(t1 / (w["threads"] * w["median_s"]))


def test_scaling_is_t1_over_n_tn_and_null_without_a_one_thread_run() -> None:
    def row(name: str, threads: int | None, median: float, parallel: bool = True) -> dict[str, Any]:
        return {"name": name, "threads": threads, "median_s": median, "parallel": parallel}

    doc = {
        "workloads": [
            row("merkle_build", 1, 0.8), row("merkle_build", 2, 0.5), row("merkle_build", 4, 0.25),
            row("hash_many", 2, 0.1), row("ev_day", 1, 1.0, parallel=False), row("ev_day", 2, 1.0, False),
            row("verify_batch", None, 0.3),
        ]
    }  # fmt: skip
    rows = bench.add_scaling(doc)["workloads"]
    got = {(w["name"], w["threads"]): (w["speedup"], w["efficiency"]) for w in rows}
    assert got[("merkle_build", 1)] == (1.0, 1.0)
    assert got[("merkle_build", 2)] == pytest.approx((1.6, 0.8))
    assert got[("merkle_build", 4)] == pytest.approx((3.2, 0.8))
    assert got[("hash_many", 2)] == (None, None)  # no 1-thread run to compare with
    assert got[("ev_day", 2)] == (None, None)  # serial workload
    assert got[("verify_batch", None)] == (None, None)  # the pool's default size


def test_render_rewrites_only_the_generated_block(smoke: Path, tmp_path: Path) -> None:
    from gridledger.bench import render

    md = tmp_path / "BENCHMARKS.md"
    md.write_text("# Benchmarks\n\nNarrative that stays.\n\n## 1 Hashing\n\ntext\n")
    render.render(md, smoke)
    first = md.read_text()
    assert first.startswith("# Benchmarks\n\n" + render.START)
    assert first.count(render.START) == 1 and first.endswith(
        "Narrative that stays.\n\n## 1 Hashing\n\ntext\n"
    )
    block = first.split(render.START)[1].split(render.END)[0]
    rows = [line for line in block.splitlines() if line.startswith("| `")]
    assert [r.split("`")[1] for r in rows] == FAST.split(",")
    assert "≥ 10× PyPI blake3 loop" in rows[0] and ("yes" in rows[0] or "**no**" in rows[0])
    render.render(md, smoke)
    assert md.read_text() == first


def test_load_replaces_the_bundled_sample(tmp_path: Path) -> None:
    import shutil

    from gridledger.bench.workloads import bundled_load_path

    mine = tmp_path / "at_load_2019_60min.csv"  # the area comes from the name, as for the sample
    shutil.copy(bundled_load_path(), mine)
    doc = bench.run_suite(["data_read_resample", "ev_day"], "smoke", mine)
    assert doc["data"] == str(mine)
    row = doc["workloads"][0]
    assert row["n"] == 1 and row["throughput"] == pytest.approx(8760 / row["median_s"])
    assert [p["name"] for p in row["peers"]] == ["pandas"]
