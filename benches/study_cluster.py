"""Studies on Dask: the runner's overhead, its 1 → 2 worker speed-up, and the Europe run.

Issue 15 asks for three figures, measured here side by side in one run:

* **overhead**: the same cells run in a plain Python loop and on a local
  cluster of one worker; the cluster may cost at most 5 % for cells of 10 s
  or more;
* **speed-up**: the same cells on one and on two workers (≥ 1.8× on the
  2-core machine);
* **europe**: ``benches/study_europe.toml`` on a local cluster of 2 workers:
  cells, wall time, cells per hour, peak RSS of each worker.

Usage::

    python benches/study_cluster.py overhead --cells 6 --members 50 --days 130 --rounds 3 [--rayon1]
    python benches/study_cluster.py europe --out /tmp/study-europe

Every cluster is a real ``distributed.LocalCluster`` of worker *processes*, one
thread each, built the way :func:`gridledger.study.run` builds its own
(``RAYON_NUM_THREADS`` = cores ÷ workers unless ``--rayon`` is given); the
study goes through :func:`gridledger.study.run` with a ``Client``, so what is
timed is the runner a user calls. The plain loop calls the same
``run_cell`` in one process (its own subprocess, with the same
``RAYON_NUM_THREADS`` as the one-worker cluster). Prints one JSON object per
measurement on stdout and a summary table on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gridledger.study import Study, load_study
from gridledger.study import run as run_study

HERE = Path(__file__).resolve().parent
AREAS = [
    ("entsoe_transparency_60min_load.csv.gz", "AT", "2022-01-01"),
    ("entsoe_transparency_60min_load.csv.gz", "CH", "2022-01-01"),
    ("entsoe_transparency_15min_load.csv.gz", "NL", "2022-01-01"),
    ("opsd_time_series_2020-10-06_60min_load.csv.gz", "FR", "2016-01-01"),
]


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine spent not idle (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, f.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def nice_cpu_seconds() -> float:
    """CPU seconds spent by niced processes (other work at low priority), from /proc/stat."""
    with open("/proc/stat") as f:
        return int(f.readline().split()[2]) / os.sysconf("SC_CLK_TCK")


def overhead_study(cells: int, members: int, days: int, data: Path) -> Study:
    """``cells`` community cells of ``members`` members over ``days`` days: areas × draw rules."""
    areas = [AREAS[i % len(AREAS)] for i in range((cells + 1) // 2)]
    return Study.build(
        "community",
        name="dask-overhead",
        base={"members": members, "pv_units": max(1, members // 5), "days": days},
        sweep={"draw": ["argmax_w_over_u", "proportional"]},
        zip=[
            {
                "load": [str(data / f) for f, _a, _s in areas],
                "area": [a for _f, a, _s in areas],
                "start": [s for _f, _a, s in areas],
            }
        ],
        out=tempfile.mkdtemp(prefix="gl-overhead-"),
    )


def _loop_child(canonicals: list[str]) -> dict[str, Any]:
    from gridledger.study.workloads import run_cell

    t0 = time.perf_counter()
    per: list[float] = []
    for c in canonicals:
        t = time.perf_counter()
        row = run_cell(c)
        if row["status"] != "ok":
            raise RuntimeError(f"cell failed: {row}")
        per.append(time.perf_counter() - t)
    return {
        "seconds": time.perf_counter() - t0,
        "cell_seconds": per,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_loop(study: Study, rayon: int) -> dict[str, Any]:
    """Every cell with ``run_cell`` in a plain loop, in a fresh process."""
    payload = json.dumps([c.canonical() for c in study.cells])
    env = dict(os.environ, RAYON_NUM_THREADS=str(rayon))
    b0, n0 = busy_cpu_seconds(), nice_cpu_seconds()
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "_loop"],
        input=payload,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    wall = time.perf_counter() - t0
    res: dict[str, Any] = json.loads(out.stdout)
    res.update(
        mode="loop", workers=0, rayon=rayon, wall=wall, foreign_nice_cpu=(nice_cpu_seconds() - n0) / wall
    )
    res["machine_busy"] = (busy_cpu_seconds() - b0) / wall
    return res


def run_cluster(study: Study, workers: int, rayon: int | None, out: Path) -> dict[str, Any]:
    """The study through ``gridledger.study.run`` on a fresh local cluster of ``workers``."""
    from gridledger.study.runner import require_distributed

    distributed = require_distributed()
    rayon = rayon or max(1, _cores() // workers)
    shutil.rmtree(out, ignore_errors=True)
    t_start = time.perf_counter()
    cluster = distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        env={"RAYON_NUM_THREADS": str(rayon)},
    )
    client = distributed.Client(cluster)
    startup = time.perf_counter() - t_start
    try:
        client.wait_for_workers(workers)
        b0, n0 = busy_cpu_seconds(), nice_cpu_seconds()
        t0 = time.perf_counter()
        rows: list[dict[str, Any]] = []
        summary = run_study(study, client, out=out, progress=sys.stderr.isatty(), on_row=rows.append)
        wall = time.perf_counter() - t0
        foreign = (nice_cpu_seconds() - n0) / wall
        busy = (busy_cpu_seconds() - b0) / wall
        rss = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    finally:
        client.close()
        cluster.close()
    if summary["failed"]:
        raise RuntimeError(
            f"{summary['failed']} cells failed: {[r for r in rows if r['status'] != 'ok'][:1]}"
        )
    return {
        "mode": "cluster",
        "workers": workers,
        "rayon": rayon,
        "cells": summary["ran"],
        "wall": wall,
        "startup": startup,
        "seconds": summary["seconds"],
        "cell_seconds": [r["meas_seconds"] for r in rows],
        # what the cluster adds around the cells: scheduling, transfers, writing the rows
        "around_cells_s": wall - sum(float(r["meas_seconds"]) for r in rows) / workers,
        "worker_peak_rss_mb": sorted(rss.values()),
        "foreign_nice_cpu": foreign,
        "machine_busy": busy,
        "rows": rows,
    }


def _emit(res: dict[str, Any]) -> None:
    print(json.dumps({k: v for k, v in res.items() if k != "rows"}), flush=True)


def cmd_overhead(args: argparse.Namespace) -> None:
    """Plain loop against 1 and 2 workers, interleaved over ``--rounds``."""
    data = Path(args.data)
    study = overhead_study(args.cells, args.members, args.days, data)
    out = Path(tempfile.mkdtemp(prefix="gl-overhead-run-"))
    table: dict[str, list[float]] = {}
    cell_s: list[float] = []
    for r in range(args.rounds):
        runs: tuple[tuple[str, Callable[[], dict[str, Any]]], ...] = (
            ("loop", lambda: run_loop(study, max(1, _cores()))),
            ("1 worker", lambda: run_cluster(study, 1, None, out)),
            ("2 workers", lambda: run_cluster(study, 2, None, out)),
            ("loop, rayon 1", lambda: run_loop(study, 1)),
            ("1 worker, rayon 1", lambda: run_cluster(study, 1, 1, out)),
        )
        chosen = (
            args.variants.split(";") if args.variants else [n for n, _f in runs][: 5 if args.rayon1 else 3]
        )
        for name, fn in (r for r in runs if r[0] in chosen):
            res = fn()
            res.update(name=name, round=r)
            _emit(res)
            table.setdefault(name, []).append(res["seconds"] if res["mode"] == "loop" else res["wall"])
            if res["mode"] == "loop":
                cell_s += res["cell_seconds"]
    med = {k: statistics.median(v) for k, v in table.items()}
    # The loop is timed from its first cell (its interpreter start and imports excluded); a
    # cluster's time includes the workers' imports and data reads: any doubt counts against Dask.
    if cell_s:
        print(
            f"{len(study.cells)} cells, median cell {statistics.median(cell_s):.1f} s in the loop",
            file=sys.stderr,
        )
    for k, v in med.items():
        print(
            f"  {k:>18}: median {v:7.1f} s over {len(table[k])} rounds {[round(x, 1) for x in table[k]]}",
            file=sys.stderr,
        )
    pairs = {
        "overhead_1_worker": ("1 worker", "loop", -1.0),
        "speedup_1_to_2": ("1 worker", "2 workers", 0.0),
        "overhead_1_worker_rayon1": ("1 worker, rayon 1", "loop, rayon 1", -1.0),
        "speedup_1_to_2_rayon1": ("1 worker, rayon 1", "2 workers", 0.0),
    }
    summary = {k: med[a] / med[b] + d for k, (a, b, d) in pairs.items() if a in med and b in med}
    if cell_s:
        summary["median_cell_s"] = statistics.median(cell_s)
    print(json.dumps({"summary": summary}), flush=True)
    for k, v in summary.items():
        print(f"  {k}: {v:.3f}", file=sys.stderr)


def cmd_europe(args: argparse.Namespace) -> None:
    """``benches/study_europe.toml`` on a local cluster of ``--workers`` workers."""
    study = load_study(HERE / "study_europe.toml", out=args.out)
    res = run_cluster(study, args.workers, None, Path(args.out))
    rows = res["rows"]
    by_members: dict[int, list[float]] = {}
    for r in rows:
        by_members.setdefault(int(r["p_members"]), []).append(float(r["meas_seconds"]))
    res["cells_per_hour"] = res["cells"] / res["wall"] * 3600
    res["median_cell_s_by_members"] = {k: statistics.median(v) for k, v in sorted(by_members.items())}
    res["max_cell_rss_mb_by_members"] = {
        k: max(float(r["meas_peak_rss_mb"]) for r in rows if int(r["p_members"]) == k) for k in by_members
    }
    _emit(res)
    print(
        f"{res['cells']} cells in {res['wall']:.0f} s on {args.workers} workers: "
        f"{res['cells_per_hour']:.1f} cells/hour; worker peak RSS {res['worker_peak_rss_mb']} MB; "
        f"median cell {res['median_cell_s_by_members']} s",
        file=sys.stderr,
    )


def main() -> None:
    """Parse the command line and run one measurement."""
    if sys.argv[1:2] == ["_loop"]:
        print(json.dumps(_loop_child(json.loads(sys.stdin.read()))))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    o = sub.add_parser("overhead", help="plain loop against 1 and 2 workers")
    o.add_argument("--cells", type=int, default=8)
    o.add_argument("--members", type=int, default=50)
    o.add_argument("--days", type=int, default=30)
    o.add_argument("--rounds", type=int, default=2)
    o.add_argument("--rayon1", action="store_true", help="also run the loop and 1 worker on one Rust thread")
    o.add_argument(
        "--variants",
        default="",
        help="a subset separated by semicolons: loop;1 worker;2 workers;loop, rayon 1;1 worker, rayon 1",
    )
    o.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "entsoe"))
    o.set_defaults(fn=cmd_overhead)
    e = sub.add_parser("europe", help="benches/study_europe.toml on a local cluster")
    e.add_argument("--workers", type=int, default=2)
    e.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "study-europe"))
    e.set_defaults(fn=cmd_europe)
    args = ap.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
