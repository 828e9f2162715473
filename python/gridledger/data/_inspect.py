"""What a load file holds: areas, span, resolution, gaps, missing values, DST rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from gridledger._extras import require
from gridledger.data._formats import read_with_info
from gridledger.data._series import gap_report, resolution_minutes

__all__ = ["Inspection", "inspect", "plot_week"]


@dataclass(frozen=True)
class Inspection:
    """Summary of one file.

    Attributes
    ----------
    path, format
        The file and its detected format.
    rows
        Data lines in the file (header excluded).
    series
        One row per series: ``area, quantity, resolution_min, first, last,
        rows, missing`` (null cells) and ``gap_periods`` (missing or absent
        periods on the regular grid).
    gaps
        :func:`gap_report` of the file.
    frame
        The file in the long layout, as :func:`read` returns it.
    dst_dropped_lines, dst_repeated_lines
        Transparency exports only: the file lines of the non-existent spring
        hour (dropped) and of the repeated autumn hour (both kept, summer time first).
    """

    path: Path
    format: str
    rows: int
    series: pl.DataFrame
    gaps: pl.DataFrame
    frame: pl.DataFrame = field(repr=False)
    dst_dropped_lines: list[int] = field(default_factory=list)
    dst_repeated_lines: list[int] = field(default_factory=list)

    @property
    def areas(self) -> list[str]:
        return sorted(self.series["area"].unique().to_list())

    def to_text(self) -> str:
        """Return a human-readable report."""
        lines = [
            f"{self.path}",
            f"  format     {self.format}",
            f"  rows       {self.rows}",
            f"  areas      {', '.join(self.areas)}",
        ]
        if self.format == "transparency":
            lines.append(
                f"  DST        spring lines dropped {self.dst_dropped_lines}, "
                f"autumn lines repeated {self.dst_repeated_lines}"
            )
        lines.append("  series:")
        for r in self.series.iter_rows(named=True):
            lines.append(
                f"    {r['area']:<12} {r['quantity']:<26} {r['resolution_min']:>3} min  "
                f"{r['first']:%Y-%m-%d %H:%M} .. {r['last']:%Y-%m-%d %H:%M} UTC  "
                f"rows {r['rows']:>7}  missing {r['missing']:>6}  gap periods {r['gap_periods']:>6}"
            )
        return "\n".join(lines)


def inspect(path: str | Path, *, area: str | None = None) -> Inspection:
    """Read ``path`` and summarise it (see :class:`Inspection`)."""
    p = Path(path)
    frame, info = read_with_info(p, area=area)
    res = resolution_minutes(frame)
    gaps = gap_report(frame)
    gap_sum = gaps.group_by("area", "quantity").agg(pl.col("periods").sum().alias("gap_periods"))
    series = (
        frame.group_by("area", "quantity")
        .agg(
            pl.col("utc_timestamp").min().alias("first"),
            pl.col("utc_timestamp").max().alias("last"),
            pl.len().alias("rows"),
            pl.col("value_mw").null_count().alias("missing"),
        )
        .with_columns(
            pl.struct("area", "quantity")
            .map_elements(lambda k: res[(k["area"], k["quantity"])], return_dtype=pl.Int64)
            .alias("resolution_min")
        )
        .join(gap_sum, on=["area", "quantity"], how="left")
        .with_columns(pl.col("gap_periods").fill_null(0))
        .select("area", "quantity", "resolution_min", "first", "last", "rows", "missing", "gap_periods")
        .sort("area", "quantity")
    )
    return Inspection(
        path=p,
        format=info["format"],
        rows=info["rows"],
        frame=frame,
        series=series,
        gaps=gaps,
        dst_dropped_lines=info.get("dst_dropped_lines", []),
        dst_repeated_lines=info.get("dst_repeated_lines", []),
    )


def plot_week(frame: pl.DataFrame, start: datetime, out: str | Path, *, title: str = "") -> Path:
    """Plot every series of ``frame`` over the week from ``start`` (UTC) to a PNG.

    Needs the ``plot`` extra (matplotlib); without it raises :class:`~gridledger.errors.MissingExtraError`.
    """
    require("matplotlib", "plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    end = start + timedelta(days=7)
    week = frame.filter((pl.col("utc_timestamp") >= start) & (pl.col("utc_timestamp") < end))
    fig, ax = plt.subplots(figsize=(11, 4), dpi=110)
    for (a, q), part in week.group_by(["area", "quantity"], maintain_order=True):
        ax.step(
            part["utc_timestamp"].to_list(),
            part["value_mw"].to_list(),
            where="post",
            label=f"{a} {q}",
            lw=1,
        )
    ax.set_xlabel("UTC")
    ax.set_ylabel("MW")
    ax.set_title(title or f"week from {start:%Y-%m-%d}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=3)
    fig.autofmt_xdate()
    fig.tight_layout()
    out_path = Path(out)
    fig.savefig(out_path)
    plt.close(fig)
    return out_path
