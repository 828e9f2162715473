"""How one cell's cost grows: time, memory and store size against members and days (issue 15).

Runs ``benches/year_sim.py`` for every (members, days) of the grid, each in its own
process so that its peak RSS is its own, smallest cells first (the 1 000-member
year, the longest, last), and prints one table and the fitted growth law::

    python benches/cell_growth.py --python .venv-bench/bin/python --jsonl /tmp/growth.jsonl

Each cell's JSON line (``year_sim.py``'s, with ``cpu_seconds``) is appended to
``--jsonl`` as it finishes; a cell already there is not run again (``--rerun``
runs it again), so an interrupted grid resumes. ``--table-only`` prints the table
of what the file holds. PV stays one 10 kWp unit per 5 members; every cell starts
on ``--start`` (2019-01-01: the 365-day cells are whole years).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent


def run_cell(python: str, members: int, days: float, start: str, out_dir: Path) -> dict[str, Any]:
    """Run one cell in a fresh interpreter and return its JSON figures."""
    out = out_dir / f"cell-{members}-{days:g}.sqlite"
    cmd = [
        python,
        str(HERE / "year_sim.py"),
        "--members",
        str(members),
        "--days",
        str(days),
        "--start",
        start,
        "--out",
        str(out),
    ]
    try:
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    finally:
        for p in (out, Path(f"{out}-wal"), Path(f"{out}-shm")):
            p.unlink(missing_ok=True)
    row: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return row


def _lsq(columns: list[np.ndarray], y: np.ndarray) -> tuple[list[float], float]:
    """Fit by least relative error (each cell weighs the same): coefficients and the worst error."""
    a = np.column_stack(columns)
    coef, *_ = np.linalg.lstsq(a / y[:, None], np.ones_like(y), rcond=None)
    worst = float(np.max(np.abs(a @ coef - y) / y))
    return [float(c) for c in coef], worst


def fit(rows: list[dict[str, Any]]) -> list[str]:
    """The growth law: time and store against transactions, RSS against members × periods and live outputs."""
    if len(rows) < 3:
        return ["(fewer than 3 cells: no fit)"]
    tx = np.array([r["transactions"] for r in rows], float)
    cells = np.array([r["members"] * r["periods"] for r in rows], float)
    utxo = np.array([r["n_utxo"] for r in rows], float)
    sec = np.array([r["seconds"] for r in rows], float)
    cpu = np.array([r.get("cpu_seconds", np.nan) for r in rows], float)
    rss = np.array([r["peak_rss_bytes"] for r in rows], float)
    store = np.array([r["store_bytes"] for r in rows], float)
    one = np.ones_like(tx)
    out = []
    (a, b), w = _lsq([one, tx], sec)
    out.append(
        f"wall seconds ≈ {a:.2f} + {b * 1e6:.1f} µs × transactions (worst cell off by {100 * w:.0f} %)"
    )
    if np.all(np.isfinite(cpu)):
        (a, b), w = _lsq([one, tx], cpu)
        out.append(f"CPU seconds  ≈ {a:.2f} + {b * 1e6:.1f} µs × transactions (worst {100 * w:.0f} %)")
    (a, b), w = _lsq([one, tx], store)
    out.append(f"store bytes  ≈ {a / 1e6:.1f} MB + {b:.0f} B × transactions (worst {100 * w:.0f} %)")
    (a, b), w = _lsq([one, cells], rss)
    out.append(f"peak RSS     ≈ {a / 1e6:.0f} MB + {b:.1f} B × members × periods (worst {100 * w:.0f} %)")
    (a, b, c), w = _lsq([one, cells, utxo], rss)
    out.append(
        f"peak RSS     ≈ {a / 1e6:.0f} MB + {b:.1f} B × members × periods + {c:.1f} B × live outputs "
        f"(worst {100 * w:.0f} %)"
    )
    return out


def table(rows: list[dict[str, Any]]) -> str:
    """A markdown table of the cells."""
    head = (
        "| members | PV units | days | transactions | seconds | CPU s | tx/s | peak RSS | store | "
        "B/tx | foreign CPU |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    for r in sorted(rows, key=lambda r: (r["members"], r["days"])):
        lines.append(
            f"| {r['members']} | {r['pv_units']} | {r['days']:g} | {r['transactions']:,} | "
            f"{r['seconds']:.1f} | {r.get('cpu_seconds', float('nan')):.1f} | {r['tx_per_s']:,.0f} | "
            f"{r['peak_rss_bytes'] / 1e6:,.0f} MB | {r['store_bytes'] / 1e6:,.0f} MB | "
            f"{r['bytes_per_tx'] or 0:.0f} | {r['foreign_cpu']:.2f} |"
        )
    return "\n".join(lines).replace(",", " ")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", default=sys.executable, help="interpreter with gridledger (a release build)")
    ap.add_argument("--members", type=int, nargs="+", default=[50, 200, 1000])
    ap.add_argument("--days", type=float, nargs="+", default=[7, 30, 365])
    ap.add_argument("--start", default="2019-01-01")
    ap.add_argument(
        "--jsonl", type=Path, required=True, help="cells' results, appended; done cells are skipped"
    )
    ap.add_argument(
        "--out-dir", type=Path, default=None, help="where the stores go (deleted after each cell)"
    )
    ap.add_argument("--rerun", action="store_true", help="run cells already in --jsonl again")
    ap.add_argument("--table-only", action="store_true")
    a = ap.parse_args(argv)

    def load() -> list[dict[str, Any]]:
        if not a.jsonl.exists():
            return []
        return [json.loads(x) for x in a.jsonl.read_text().splitlines() if x.strip()]

    if not a.table_only:
        grid = sorted(((m, d) for m in a.members for d in a.days), key=lambda c: c[0] * c[1])
        with tempfile.TemporaryDirectory(dir=a.out_dir) as tmp:
            for m, d in grid:
                if not a.rerun and any(r["members"] == m and r["days"] == d for r in load()):
                    continue
                row = run_cell(a.python, m, d, a.start, Path(tmp))
                with a.jsonl.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                print(
                    f"members {m} days {d:g}: {row['seconds']} s, RSS {row['peak_rss_bytes'] / 1e6:.0f} MB",
                    file=sys.stderr,
                    flush=True,
                )
    rows = load()
    print(table(rows))
    print()
    print("\n".join(fit(rows)))


if __name__ == "__main__":
    main()
