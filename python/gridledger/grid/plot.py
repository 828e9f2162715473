"""Plots of a DSO report (docs/grid.md "DSO report").

A bus × time voltage heat map and loading duration curves. Needs the ``plot``
extra (matplotlib).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gridledger._extras import require

if TYPE_CHECKING:
    from gridledger.grid.feeder import Feeder
    from gridledger.grid.report import DSOReport

__all__ = ["plot_report"]


def plot_report(report: DSOReport, feeder: Feeder, out_dir: str | Path) -> list[Path]:
    """Write ``voltage_heatmap.png`` and ``loading_duration.png`` to ``out_dir``; return their paths.

    The heat map shows every bus's voltage (p.u.) in every period, the EN 50160
    band's edges marked on the colour bar. The duration curves sort each line's
    loading (and the transformer's) from highest to lowest over the run: the
    share of time an element is loaded above a level is read off the x axis.
    """
    require("matplotlib", "plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    flow = report.flow
    t = flow.vm_pu.shape[0]
    hours = np.arange(t) * report.period_hours
    paths = []
    fig, ax = plt.subplots(figsize=(10, 4 + 0.05 * feeder.n_buses))
    extent = (0.0, max(t * report.period_hours, report.period_hours), feeder.n_buses - 0.5, -0.5)
    im = ax.imshow(flow.vm_pu.T, aspect="auto", cmap="coolwarm", extent=extent, vmin=0.88, vmax=1.12)
    bar = fig.colorbar(im, ax=ax, label="voltage (p.u.)")
    for edge in (0.9, 1.1):
        bar.ax.axhline(edge, color="black", linewidth=1)
    ax.set_xlabel("time (h)")
    ax.set_ylabel("bus")
    if feeder.n_buses <= 40:
        ax.set_yticks(range(feeder.n_buses), [b.name for b in feeder.buses], fontsize=7)
    ax.set_title(f"Bus voltages ({report.violation_hours:g} h with violations)")
    paths.append(out / "voltage_heatmap.png")
    fig.savefig(paths[-1], dpi=100, bbox_inches="tight")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    share = (np.arange(t) + 1) / max(t, 1) * 100
    order = np.argsort(-np.nanmax(flow.line_loading, axis=0)) if t else np.arange(feeder.n_lines)
    for k, l_idx in enumerate(order):
        curve = np.sort(flow.line_loading[:, l_idx])[::-1]
        ax.plot(
            share,
            curve * 100,
            linewidth=1.2 if k < 5 else 0.6,
            label=feeder.lines[l_idx].name if k < 5 else None,
        )
    ax.plot(share, np.sort(flow.trafo_loading)[::-1] * 100, color="black", linewidth=2, label="transformer")
    ax.axhline(100, color="red", linestyle="--", linewidth=1)
    ax.set_xlabel("share of the run (%)")
    ax.set_ylabel("loading (%)")
    ax.set_title(f"Loading duration curves ({hours[-1] + report.period_hours if t else 0:g} h)")
    ax.legend(fontsize=7)
    paths.append(out / "loading_duration.png")
    fig.savefig(paths[-1], dpi=100, bbox_inches="tight")
    plt.close(fig)
    return paths
