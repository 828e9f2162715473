"""Comparison tables and plots of a study folder (issue 15, item 8).

Cells are grouped by the parameters that vary in the folder (the design:
area, draw rule, market, scheduler, members, …); replicates are averaged.
Each workload has its headline figures:

- community: kWh shared inside the community (consumed from its own
  generation), self-sufficiency, concentration of block production (Gini of
  blocks mined, by draw rule);
- market: welfare against the LP optimum (efficiency), volume;
- ev: PF^(1/3) reduction by scheduler;
- bidding: survivors, largest share of wins, Gini;
- network: agreement, forks, reorganisations, approval time;
- every workload: runtime per cell.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from gridledger.errors import BadConfigurationError
from gridledger.study import results

__all__ = ["HEADLINES", "plot", "tables"]

HEADLINES: dict[str, tuple[str, ...]] = {
    "community": ("kwh_shared", "self_sufficiency", "gini_blocks", "producers", "transactions"),
    "market": ("efficiency", "welfare", "optimum", "volume_kwh", "ir_violations"),
    "ev": ("pf_reduction_pct", "pf_cuberoot", "pf_unscheduled_cuberoot", "unproven_rounds"),
    "bidding": ("survivors", "top_wins_share", "second_wins_share", "gini", "first_dropout_turn"),
    "network": ("agreed", "forks", "reorgs", "approval_median_ms", "reverted_approved"),
}


def _design(df: pl.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith("p_") and df[c].n_unique() > 1]


def tables(out: str | Path) -> dict[str, pl.DataFrame]:
    """One comparison table per workload: design columns, cells, mean headline figures, mean runtime (s).

    Raises
    ------
    BadConfigurationError
        ``out`` holds no study, or no finished cell yet.
    """
    results.status(out)  # raises when out holds no study
    df = results.read_results(out)
    if df.is_empty() or df.filter(pl.col("status") == "ok").is_empty():
        raise BadConfigurationError(f"{out}: no finished cell to report yet", "out", str(out))
    ok = df.filter(pl.col("status") == "ok")
    found = {}
    for workload in sorted(ok["workload"].unique().to_list()):
        part = ok.filter(pl.col("workload") == workload)
        part = part.select([c for c in part.columns if part[c].null_count() < part.height])
        keys = _design(part)
        figs = [c for c in HEADLINES.get(workload, ()) if c in part.columns]
        aggs = [pl.len().alias("cells")] + [pl.col(c).cast(pl.Float64).mean().alias(c) for c in figs]
        aggs.append(pl.col("meas_seconds").mean().alias("seconds_per_cell"))
        table = part.group_by(keys).agg(aggs).sort(keys) if keys else part.select(aggs)
        found[workload] = table.rename({k: k[2:] for k in keys})
    return found


def _label_keys(table: pl.DataFrame) -> list[str]:
    """Return the design columns that name a group, less those the others determine.

    A zipped axis (a data file with its area and start) would otherwise spell every
    label three times; file paths go first, then the rest from the last column.
    """
    keys = [c for c in table.columns if c not in HEADLINES_ALL and c not in ("cells", "seconds_per_cell")]
    order = sorted(keys, key=lambda k: (k not in ("load", "solar", "start", "solar_area"), -keys.index(k)))
    for k in order:
        rest = [c for c in keys if c != k]
        if rest and table.select(rest).n_unique() == table.select(keys).n_unique():
            keys = rest
    return keys


def _short(value: object) -> str:
    text = str(value)
    return Path(text).name if "/" in text else text


def _bar(ax: object, table: pl.DataFrame, value: str, title: str, keys: list[str], first: bool) -> None:
    labels = [", ".join(_short(r[k]) for k in keys) or "all" for r in table.iter_rows(named=True)]
    ax.barh(labels, table[value].to_list())  # type: ignore[attr-defined]
    ax.set_title(title)  # type: ignore[attr-defined]
    if first:
        ax.set_ylabel(", ".join(keys))  # type: ignore[attr-defined]
    else:
        ax.tick_params(labelleft=False)  # type: ignore[attr-defined]


HEADLINES_ALL = {c for v in HEADLINES.values() for c in v}

_PLOTS = {
    "community": [
        ("self_sufficiency", "self-sufficiency"),
        ("kwh_shared", "kWh shared inside the community"),
        ("gini_blocks", "Gini of blocks mined"),
    ],
    "market": [("efficiency", "welfare / LP optimum")],
    "ev": [("pf_reduction_pct", "PF^(1/3) reduction (%)")],
    "bidding": [("top_wins_share", "largest share of wins")],
    "network": [("approval_median_ms", "median approval time (ms)")],
}


def plot(out: str | Path, folder: str | Path) -> list[Path]:
    """Write the report's PNG plots to ``folder``; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dest = Path(folder)
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for workload, table in tables(out).items():
        panels = [(c, t) for c, t in _PLOTS.get(workload, []) if c in table.columns] + [
            ("seconds_per_cell", "runtime per cell (s)")
        ]
        keys = _label_keys(table)
        height = max(2.5, 0.3 * table.height + 1.5)
        fig, axes = plt.subplots(
            1, len(panels), figsize=(4 * len(panels) + 2, height), squeeze=False, sharey=True
        )
        for i, (ax, (col, title)) in enumerate(zip(axes[0], panels, strict=True)):
            _bar(ax, table, col, title, keys, i == 0)
        fig.suptitle(f"{workload}: {table['cells'].sum()} cells")
        fig.tight_layout(rect=(0, 0, 1, 0.97))  # the title above the panels' own
        path = dest / f"{workload}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written
