"""The results dataset of a study folder (issue 15, items 5 and 6).

Layout of ``DIR``::

    study.json                              the study's name, workload and cell ids
    results/workload=<w>/<cell id>.parquet  one row per finished cell (ok or failed)
    cells/<cell id>/                        optional per-cell artefacts (chain, per-round frames)

Each finished cell is written to a temporary file and renamed into place, so
a row is either whole or absent whatever kills the process, and a cell's file
name is its id, so it is present at most once. The Parquet files form one
hive-partitioned dataset (``pl.scan_parquet(DIR / "results")``). A failed
cell's row has ``status = "failed"`` with the error's type and message; a
re-run retries failed and missing cells and skips the ones that are ``ok``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from gridledger.errors import BadConfigurationError

__all__ = ["Status", "open_folder", "read_results", "status", "write_row"]

MANIFEST = "study.json"
_FORMAT = 1


def _results(out: Path) -> Path:
    return out / "results"


def open_folder(out: Path, name: str, workload: str, cell_ids: list[str]) -> None:
    """Create ``out`` for a study, or check that it holds this study's results.

    Raises
    ------
    BadConfigurationError
        ``out`` is a file, or holds another study's results (the hint: use
        another ``--out``, or delete the folder to start over).
    """
    if out.exists() and not out.is_dir():
        raise BadConfigurationError(f"{out} is a file, not a study folder", "out", str(out))
    man = out / MANIFEST
    if man.exists():
        try:
            old = json.loads(man.read_text())
            same = old.get("name") == name and old.get("workload") == workload
        except (OSError, ValueError, AttributeError):
            same = False
        if not same:
            raise BadConfigurationError(
                f"{out} holds the results of another study ({man} names another study or is unreadable)",
                "out",
                str(out),
            )
        known = set(old.get("cells", []))
    else:
        if out.exists() and any(out.iterdir()):
            raise BadConfigurationError(
                f"{out} is not empty and holds no study: refusing to write results into it", "out", str(out)
            )
        known = set()
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"format": _FORMAT, "name": name, "workload": workload, "cells": sorted(known | set(cell_ids))}
    tmp = out / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, man)
    for stale in _results(out).glob("workload=*/.*.tmp"):
        stale.unlink(missing_ok=True)


def _schema_row(row: dict[str, Any]) -> pl.DataFrame:
    # Strings for the error columns even when they are None, so every file of a
    # partition has the same schema.
    frame = pl.DataFrame([row])
    return frame.with_columns(pl.col("error_type", "error_message").cast(pl.String))


def write_row(out: Path, row: dict[str, Any]) -> Path:
    """Write one cell's row atomically (temporary file, fsync, rename); replaces a failed row."""
    folder = _results(out) / f"workload={row['workload']}"
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{row['cell_id']}.parquet"
    tmp = folder / f".{row['cell_id']}.{os.getpid()}.tmp"
    _schema_row(row).drop("workload").write_parquet(tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)
    return final


def read_results(out: str | Path, workload: str | None = None) -> pl.DataFrame:
    """Every finished cell's row (ok and failed), one per cell, as one frame."""
    root = _results(Path(out))
    files = sorted(root.glob(f"workload={workload or '*'}/*.parquet"))
    if not files:
        return pl.DataFrame()
    frames = []
    for f in files:
        w = f.parent.name.split("=", 1)[1]
        frames.append(pl.read_parquet(f).with_columns(pl.lit(w).alias("workload")))
    return pl.concat(frames, how="diagonal_relaxed")


def done_ids(out: Path) -> set[str]:
    """Ids of the cells whose row says ``ok``."""
    df = read_results(out)
    if df.is_empty():
        return set()
    return set(df.filter(pl.col("status") == "ok")["cell_id"].to_list())


@dataclass(frozen=True)
class Status:
    """Cells of a study folder: ``done`` (ok), ``failed`` and ``missing`` (not run yet)."""

    name: str
    workload: str
    cells: int
    done: int
    failed: int
    missing: int
    failures: pl.DataFrame


def status(out: str | Path) -> Status:
    """Return what a study folder holds.

    Raises
    ------
    BadConfigurationError
        ``out`` holds no study (no ``study.json``).
    """
    out = Path(out)
    man = out / MANIFEST
    try:
        m = json.loads(man.read_text())
    except FileNotFoundError:
        raise BadConfigurationError(f"{out} holds no study ({MANIFEST} missing)", "out", str(out)) from None
    except (OSError, ValueError) as e:
        raise BadConfigurationError(f"{man} is unreadable ({e})", "out", str(out)) from None
    ids = set(m["cells"])
    df = read_results(out)
    if df.is_empty():
        ok, bad = (
            set(),
            pl.DataFrame(schema={"cell_id": pl.String, "error_type": pl.String, "error_message": pl.String}),
        )
    else:
        df = df.filter(pl.col("cell_id").is_in(list(ids)))
        ok = set(df.filter(pl.col("status") == "ok")["cell_id"].to_list())
        bad = df.filter(pl.col("status") == "failed").select("cell_id", "error_type", "error_message")
    return Status(
        m["name"], m["workload"], len(ids), len(ok), bad.height, len(ids) - len(ok) - bad.height, bad
    )
