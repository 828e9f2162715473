"""The seed's figures 3–5 for a :class:`~gridledger.ev.SimResult` (PNG, matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from gridledger._extras import require
from gridledger.ev.simulate import SimResult

__all__ = ["plot_result"]


def _hour_of_day(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col("utc_timestamp").dt.hour().alias("hour"))


def plot_result(result: SimResult, out_dir: str | Path, *, day: int = 0) -> list[Path]:
    """Write the figures; returns their paths.

    - ``ev_demand_hourly.png`` (seed Fig. 3): charge and discharge demand per
      UTC hour of the day, requested (before) and executed (after), kWh per
      hour averaged over the days.
    - ``ev_pf_window.png`` (seed Fig. 4): PF of the last-24-h window after
      each round of day ``day``, without scheduling and with the scheduler.
    - ``ev_load_profile.png`` (seed Fig. 5): day ``day``'s base load, Θ
      without scheduling and Θ with the scheduler (kW per round).

    Needs the ``plot`` extra (matplotlib); without it raises :class:`~gridledger.errors.MissingExtraError`.
    """
    require("matplotlib", "plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sc = result.scenario
    r = sc.rounds_per_day
    f = result.rounds
    h = sc.round_minutes / 60.0
    hourly = (
        _hour_of_day(f)
        .group_by("hour")
        .agg(
            [
                (pl.col(c).sum() * h / sc.days).alias(c)
                for c in ("charge_requested_kw", "charge_kw", "discharge_requested_kw", "discharge_kw")
            ]
        )
        .sort("hour")
    )
    paths = []
    fig, ax = plt.subplots(figsize=(10, 4.2))
    x = hourly["hour"].to_numpy()
    wd = 0.2
    ax.bar(x - 1.5 * wd, hourly["charge_requested_kw"], wd, color="#1f3b73", label="charge, requested")
    ax.bar(x - 0.5 * wd, hourly["charge_kw"], wd, color="#2e8b57", label="charge, executed")
    ax.bar(x + 0.5 * wd, hourly["discharge_requested_kw"], wd, color="#6a8fd1", label="discharge, requested")
    ax.bar(x + 1.5 * wd, hourly["discharge_kw"], wd, color="#8fd19e", label="discharge, executed")
    ax.set_xlabel("hour of the day (UTC)")
    ax.set_ylabel("energy at the battery (kWh per hour)")
    ax.set_title(f"EV demand before and after scheduling ({result.scheduler}, {sc.days} day(s), mean)")
    ax.set_xticks(range(0, 24, 2))
    ax.legend(ncols=2, fontsize=8)
    fig.tight_layout()
    paths.append(out / "ev_demand_hourly.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    day = min(max(day, 0), sc.days - 1)
    part = f.slice(day * r, r)
    t = part["utc_timestamp"].to_numpy()
    fig, ax = plt.subplots(figsize=(10, 4.2))
    ax.plot(t, part["base_kw"], color="grey", lw=1, label="households P(t)")
    ax.plot(t, part["theta_unscheduled_kw"], color="black", lw=0.9, label="Θ, no scheduling")
    ax.plot(t, part["theta_kw"], color="tab:red", lw=0.9, label=f"Θ, {result.scheduler}")
    ax.set_ylabel("kW (mean over the round)")
    ax.set_title(f"Load profile of {part['utc_timestamp'][0].date()} (UTC)")
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    paths.append(out / "ev_load_profile.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    def rolling_pf(theta_kw: np.ndarray) -> np.ndarray:
        th = np.concatenate([[float(sc.kw(sc.theta_prev_wh))], theta_kw])
        sl = np.diff(th)
        hist = sc.kw(sc.history_wh)[-(r - 1) :] if r > 1 else np.zeros(0)
        full = np.concatenate([hist, sl])
        k = len(hist)
        return np.array([full[max(0, k + i - r + 1) : k + i + 1].var() for i in range(len(sl))])

    pf_none = rolling_pf(f["theta_unscheduled_kw"].to_numpy())[day * r : (day + 1) * r]
    pf_s = rolling_pf(f["theta_kw"].to_numpy())[day * r : (day + 1) * r]
    fig, ax = plt.subplots(figsize=(10, 4.2))
    ax.plot(t, pf_none, color="black", marker="o", ms=2, lw=0.8, label="no scheduling")
    ax.plot(t, pf_s, color="tab:red", ls="--", marker="*", ms=3, lw=0.8, label=result.scheduler)
    ax.set_ylabel("PF of the last 24 h (kW²)")
    ax.set_title("Power fluctuation over the day")
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    paths.append(out / "ev_pf_window.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths
