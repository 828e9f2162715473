"""Running a study's cells on Dask (issue 15, items 4, 6, 7 and 9).

``scheduler=None`` starts a :class:`distributed.LocalCluster` of worker
*processes* with one thread each and sets ``RAYON_NUM_THREADS`` on them so
that workers × Rust threads never exceed the machine's cores. An address
(``"tcp://host:8786"``) or a :class:`distributed.Client` uses that cluster as
it is. One task per cell; the client writes each row as its task finishes
(:mod:`gridledger.study.results`), so a study killed at any moment resumes
where it stopped, with every cell present exactly once. A worker that dies
mid-task has its task run again elsewhere by Dask; the row is written once,
by the client, under the cell's id.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gridledger._extras import require
from gridledger.errors import BadConfigurationError, ClusterError
from gridledger.study import results
from gridledger.study.studyfile import Study, load_study
from gridledger.study.workloads import run_cell

__all__ = ["RunSummary", "run"]


def require_distributed() -> Any:
    """Return the ``distributed`` module, or :class:`MissingExtraError` naming the ``study`` extra."""
    return require("distributed", "study")


class RunSummary(dict[str, Any]):
    """What :func:`run` did.

    ``cells``, ``skipped`` (already done), ``ran``, ``ok``, ``failed``,
    ``seconds``, ``workers``, ``dashboard`` and the output folder ``out``.
    """


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _client(scheduler: Any, workers: int | None, timeout_s: float) -> tuple[Any, Any, bool]:
    """(client, cluster or None, whether we own the client)."""
    distributed = require_distributed()
    if scheduler is None:
        n = workers or _cores()
        if not 1 <= n <= 4096:
            raise BadConfigurationError(f"workers must be from 1 to 4096, got {n}", "workers", n)
        rayon = max(1, _cores() // n)
        cluster = distributed.LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            env={"RAYON_NUM_THREADS": str(rayon)},
        )
        return distributed.Client(cluster), cluster, True
    if isinstance(scheduler, distributed.Client):
        return scheduler, None, False
    if not isinstance(scheduler, str) or not scheduler:
        raise BadConfigurationError(
            f"scheduler must be an address or a Client, got {scheduler!r}", "scheduler", scheduler
        )
    if workers is not None:
        raise BadConfigurationError(
            "workers applies to the local cluster only; an existing cluster keeps its workers",
            "workers",
            workers,
        )
    try:
        client = distributed.Client(scheduler, timeout=f"{timeout_s}s")
    except (OSError, TimeoutError) as e:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {scheduler} ({e})", "scheduler", scheduler
        ) from None
    return client, None, True


def run(
    study: Study | str | Path,
    scheduler: Any = None,
    *,
    workers: int | None = None,
    out: str | Path | None = None,
    artefacts: bool = False,
    progress: bool = True,
    on_row: Callable[[dict[str, Any]], None] | None = None,
    connect_timeout_s: float = 10.0,
) -> RunSummary:
    """Run every cell of ``study`` not yet in its results dataset.

    Parameters
    ----------
    study
        A :class:`Study` or the path of a study file (validated whole before
        any task is submitted).
    scheduler
        ``None`` for a local cluster, a scheduler address, or a ``Client``.
    workers
        Worker processes of the local cluster (default: one per core).
    out
        Output folder (default the study's own).
    artefacts
        Also keep each cell's chain (SQLite) or per-round frame under ``out/cells``.
    progress
        A rich progress bar (done, failed, running, ETA) on stderr.
    on_row
        Called with each row as it is written (for tests and notebooks).
    connect_timeout_s
        How long to try reaching an existing scheduler.

    Returns
    -------
    RunSummary

    Raises
    ------
    BadConfigurationError, BadDataError
        The study is invalid, or ``out`` holds another study.
    ClusterError
        The scheduler cannot be reached.
    """
    if not isinstance(study, Study):
        study = load_study(study, out=out)
    folder = Path(out).resolve() if out is not None else study.out
    ids = [c.id for c in study.cells]
    results.open_folder(folder, study.name, study.workload, ids)
    done = results.done_ids(folder)
    todo = [c for c in study.cells if c.id not in done]
    summary = RunSummary(
        cells=len(study.cells), skipped=len(study.cells) - len(todo), ran=0, ok=0, failed=0, out=str(folder)
    )
    t0 = time.perf_counter()
    if not todo:
        summary.update(seconds=0.0, workers=0, dashboard=None)
        return summary
    client, cluster, owned = _client(scheduler, workers, connect_timeout_s)
    try:
        distributed = require_distributed()
        info = client.scheduler_info()
        summary["workers"] = len(info.get("workers", {}))
        summary["dashboard"] = client.dashboard_link if cluster is not None or owned else None
        art = str(folder / "cells") if artefacts else None
        futures = [
            client.submit(run_cell, c.canonical(), art, key=f"gridledger-cell-{c.id}", pure=False, retries=2)
            for c in todo
        ]
        bar = _Progress(len(todo), progress, summary["dashboard"])
        with bar:
            for fut in distributed.as_completed(futures):
                try:
                    row = fut.result()
                except Exception as e:  # the task itself died (a worker killed too often)
                    cell = next(c for c in todo if f"gridledger-cell-{c.id}" == fut.key)
                    row = {
                        "cell_id": cell.id,
                        "workload": cell.workload,
                        "replicate": cell.replicate,
                        "seed": cell.seed,
                        **{f"p_{k}": v for k, v in cell.params.items()},
                        "status": "failed",
                        "error_type": type(e).__name__,
                        "error_message": str(e)[:2000],
                    }
                results.write_row(folder, row)
                fut.release()
                summary["ran"] += 1
                summary["ok" if row["status"] == "ok" else "failed"] += 1
                bar.advance(row["status"] == "ok", sum(f.status == "pending" for f in futures))
                if on_row is not None:
                    on_row(row)
    finally:
        if owned:
            client.close()
        if cluster is not None:
            cluster.close()
    summary["seconds"] = time.perf_counter() - t0
    return summary


class _Progress:
    """A rich bar: done, failed, running, ETA; the dashboard's address above it."""

    def __init__(self, total: int, enabled: bool, dashboard: str | None) -> None:
        self.enabled = enabled
        self.total = total
        self.failed = 0
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        console = Console(file=sys.stderr)
        if dashboard:
            console.print(f"Dask dashboard: {dashboard}")
        self.bar = Progress(
            TextColumn("cells"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed, {task.fields[pending]} pending"),
            TimeRemainingColumn(),
            console=console,
        )
        self.task = self.bar.add_task("cells", total=total, failed=0, pending=total)

    def __enter__(self) -> _Progress:
        if self.enabled:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.bar.__exit__(None, None, None)

    def advance(self, ok: bool, pending: int) -> None:
        self.failed += not ok
        if self.enabled:
            self.bar.update(self.task, advance=1, failed=self.failed, pending=pending)
