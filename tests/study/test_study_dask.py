"""Studies on a real Dask cluster: a scheduler and worker processes on 127.0.0.1.

A worker killed mid-study, the client killed and the study resumed, a
failing cell, identical rows whatever the cluster, an unreachable scheduler.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from gridledger.errors import ClusterError
from gridledger.study import Study, read_results, run, run_cell, status

BIN = Path(sys.executable).parent
ENV = {**os.environ, "RAYON_NUM_THREADS": "1"}


class Cluster:
    def __init__(self, tmp: Path, workers: int) -> None:
        self.file = tmp / "scheduler.json"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.procs.append(
            subprocess.Popen(
                [
                    BIN / "dask",
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--no-dashboard",
                    "--scheduler-file",
                    self.file,
                ],
                env=ENV,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        deadline = time.monotonic() + 60
        while not self.file.exists() or not self.file.read_text().strip():
            assert time.monotonic() < deadline, "scheduler did not start"
            time.sleep(0.1)
        self.address = json.loads(self.file.read_text())["address"]
        self.workers = [self.add_worker(f"w{i}") for i in range(workers)]
        from distributed import Client

        with Client(self.address, timeout="30s") as c:  # type: ignore[no-untyped-call]
            c.wait_for_workers(workers, timeout=60)

    def add_worker(self, name: str) -> subprocess.Popen[bytes]:
        p = subprocess.Popen(
            [
                BIN / "dask",
                "worker",
                "--scheduler-file",
                self.file,
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--name",
                name,
                "--host",
                "127.0.0.1",
            ],
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.procs.append(p)
        return p

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("dask"), 2)
    yield c
    c.stop()


def community_study(out: Path, cells: int = 8, **extra: list[object]) -> Study:
    return Study.build(
        "community",
        name="t",
        base={"members": 6, "pv_units": 2, "days": 0.5, "start": "2019-06-03"},
        sweep={"draw": ["argmax_w_over_u", "proportional"], **extra},
        seeds=cells // 2,
        out=out,
    )


def deterministic(df: pl.DataFrame) -> pl.DataFrame:
    return df.select(sorted(c for c in df.columns if not c.startswith("meas_"))).sort("cell_id")


def test_existing_cluster_survives_a_killed_worker(cluster: Cluster, tmp_path: Path) -> None:
    study = community_study(tmp_path / "out", cells=10)
    victim = cluster.add_worker("victim")
    from distributed import Client

    with Client(cluster.address) as c:  # type: ignore[no-untyped-call]
        c.wait_for_workers(3, timeout=60)
        killed: list[int] = []

        def kill_after_first(row: dict[str, object]) -> None:
            if not killed:
                victim.send_signal(signal.SIGKILL)
                killed.append(victim.pid)

        summary = run(study, c, progress=False, on_row=kill_after_first)
    assert killed and victim.wait(timeout=10) == -signal.SIGKILL
    assert summary["ok"] == len(study) and summary["failed"] == 0
    df = read_results(study.out)
    assert df.height == len(study) and df["cell_id"].n_unique() == len(study)
    assert set(df["cell_id"]) == {c.id for c in study}
    st = status(study.out)
    assert (st.done, st.failed, st.missing) == (len(study), 0, 0)
    # Rows do not depend on the cluster: the same cells in a plain loop.
    plain = pl.DataFrame([run_cell(c.canonical()) for c in study.cells[:4]])
    ours = df.filter(pl.col("cell_id").is_in(plain["cell_id"].to_list()))
    assert deterministic(ours).equals(deterministic(plain).select(deterministic(ours).columns))


def test_local_cluster_gives_the_same_rows_and_resumes(cluster: Cluster, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    first = run(community_study(a), workers=2, progress=False)
    assert first["workers"] == 2 and first["ok"] == 8
    run(community_study(b), cluster.address, progress=False)
    assert deterministic(read_results(a)).equals(deterministic(read_results(b)))
    again = run(community_study(a), workers=1, progress=False)
    assert (again["skipped"], again["ran"]) == (8, 0)


def test_killed_client_resumes_with_every_cell_once(cluster: Cluster, tmp_path: Path) -> None:
    toml = tmp_path / "s.toml"
    toml.write_text(
        'name = "kill"\nworkload = "community"\nseeds = 6\nout = "out"\n'
        '[base]\nmembers = 6\npv_units = 2\ndays = 0.5\n[sweep]\ndraw = ["argmax_w_over_u", "proportional"]\n'
    )
    code = f"from gridledger.study import run; run({str(toml)!r}, {cluster.address!r}, progress=False)"
    proc = subprocess.Popen([sys.executable, "-c", code], env=ENV, start_new_session=True)
    results_dir = tmp_path / "out" / "results"
    deadline = time.monotonic() + 240
    while not list(results_dir.glob("*/*.parquet")):
        assert proc.poll() is None, "the study ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = len(list(results_dir.glob("*/*.parquet")))
    assert 1 <= before < 12
    summary = run(toml, cluster.address, progress=False)
    assert summary["skipped"] == before and summary["ok"] == 12 - before
    df = read_results(tmp_path / "out")
    assert df.height == 12 and df["cell_id"].n_unique() == 12


def test_a_failing_cell_is_recorded_and_the_others_go_on(cluster: Cluster, tmp_path: Path) -> None:
    # V = 10⁶ Wh breaks the cryptometer's MID bound: the cell raises when it runs.
    study = Study.build(
        "community",
        name="f",
        base={"members": 4, "pv_units": 1, "days": 0.25},
        sweep={"v_wh": [100, 1_000_000]},
        out=tmp_path / "out",
    )
    summary = run(study, cluster.address, progress=False)
    assert (summary["ok"], summary["failed"]) == (1, 1)
    df = read_results(tmp_path / "out")
    bad = df.filter(pl.col("status") == "failed")
    assert bad["error_type"][0] == "BadConfigurationError", bad["error_message"][0]
    assert bad["p_v_wh"][0] == 1_000_000
    st = status(tmp_path / "out")
    assert (st.done, st.failed, st.missing) == (1, 1, 0)
    again = run(study, cluster.address, progress=False)
    assert (again["skipped"], again["ran"], again["failed"]) == (1, 1, 1)


def test_unreachable_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    study = Study.build("bidding", name="u", base={"turns": 10}, out=tmp_path / "out")
    with pytest.raises(ClusterError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        run(study, "tcp://127.0.0.1:9", progress=False, connect_timeout_s=2)
