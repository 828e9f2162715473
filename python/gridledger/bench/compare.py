"""``bench compare``: every workload's change between two result files, and which ones regressed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridledger.bench.runner import SCHEMA_NAME, SCHEMA_VERSION
from gridledger.errors import BadDataError, InvalidArgumentError


def load(path: Path | str) -> dict[str, Any]:
    """Read a result file and check that it is a ``gridledger bench`` document of this schema version.

    Raises
    ------
    BadDataError
        Not JSON, not a bench document, or another ``schema_version`` (field ``schema_version``).
    """
    p = Path(path)
    try:
        doc = json.loads(p.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadDataError(f"{p}: not a JSON file ({e})", "path", str(p)) from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA_NAME:
        raise BadDataError(
            f'{p}: not a gridledger bench result (no "schema": "{SCHEMA_NAME}")', "schema", str(p)
        )
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise BadDataError(
            f"{p} has schema_version {doc.get('schema_version')!r}; this gridledger reads {SCHEMA_VERSION}",
            "schema_version",
            doc.get("schema_version"),
        )
    rows = doc.get("workloads")
    if not isinstance(rows, list) or not all(
        isinstance(r, dict) and isinstance(r.get("name"), str) and isinstance(r.get("median_s"), int | float)
        for r in rows
    ):
        raise BadDataError(
            f'{p}: "workloads" must be a list of rows with name and median_s', "workloads", str(p)
        )
    return doc


def key(row: dict[str, Any]) -> str:
    """Return a workload row's identity: its name, and ``@T`` when it ran with ``T`` threads."""
    t = row.get("threads")
    return f"{row['name']}@{t}" if t else str(row["name"])


@dataclass(frozen=True)
class Change:
    """One workload's change from base to new (``change`` = new / base − 1 of the median seconds)."""

    workload: str
    base_s: float
    new_s: float
    change: float
    regressed: bool


def compare(base: dict[str, Any], new: dict[str, Any], max_regression_pct: float = 10.0) -> list[Change]:
    """Each workload's change; ``regressed`` when its median grew by more than ``max_regression_pct`` %.

    Raises
    ------
    InvalidArgumentError
        The two documents ran different sizes or different workload sets (the message names them).
    """
    if not 0 <= max_regression_pct <= 1e6:
        raise InvalidArgumentError(
            f"max_regression_pct must be in 0 … 1e6, got {max_regression_pct}",
            "max_regression",
            max_regression_pct,
        )
    if base.get("size") != new.get("size"):
        raise InvalidArgumentError(
            f"the files ran different sizes: base {base.get('size')!r}, new {new.get('size')!r}",
            "size",
            (base.get("size"), new.get("size")),
        )
    b = {key(r): r for r in base["workloads"]}
    n = {key(r): r for r in new["workloads"]}
    if b.keys() != n.keys():
        only_b = sorted(b.keys() - n.keys())
        only_n = sorted(n.keys() - b.keys())
        parts = []
        if only_b:
            parts.append(f"only in base: {', '.join(only_b)}")
        if only_n:
            parts.append(f"only in new: {', '.join(only_n)}")
        raise InvalidArgumentError(
            f"the files hold different workloads ({'; '.join(parts)})", "workloads", parts
        )
    out = []
    for k, rb in b.items():
        bs, ns = float(rb["median_s"]), float(n[k]["median_s"])
        change = ns / bs - 1 if bs > 0 else 0.0
        out.append(Change(k, bs, ns, change, change * 100 > max_regression_pct))
    return out
