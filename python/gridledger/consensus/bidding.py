"""The bidding game of seed 000 §5 (SPEC §3, Tables 3–4), over many seeded runs.

Four candidates A, B, C and G start with 100 voting tokens; each turn every
active candidate except the miner bids e = ⌊E·x⌋ (x a random whole
percentage), the draw picks a winner who receives every bid, 1 000 turns. The
miner is the previous turn's winner: it runs the auction and does not bid in it
(SPEC §3, seed 002 Table IV; ``miner_rule="all_bid"`` lets everyone bid). sc1: W from the bids only;
sc2: W = αÊ + βÂ + γR̂ (β > α > γ); sc3: as sc2 with a floor (below 20 % of
the start a candidate bids exactly 1); sc4: as sc3 with bids capped at 40 % of
E. The games run in the Rust core, many seeds in parallel.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gridledger import _core
from gridledger._extras import require
from gridledger.consensus.draw import Rule
from gridledger.errors import BadConfigurationError, InvalidArgumentError

__all__ = [
    "CANDIDATES",
    "MINER_RULES",
    "SCENARIOS",
    "MinerRule",
    "Scenario",
    "bidding_table",
    "bidding_trajectory",
    "plot_trajectories",
    "rule_bias",
    "seed_table_4",
    "simulate_bidding",
    "table_4",
]

Scenario = Literal["sc1", "sc2", "sc3", "sc4"]
SCENARIOS: tuple[Scenario, ...] = ("sc1", "sc2", "sc3", "sc4")
CANDIDATES = ("A", "B", "C", "G")
MinerRule = Literal["previous_winner", "all_bid"]
#: ``previous_winner``: the previous turn's winner runs the auction and does not bid
#: (the default); ``all_bid``: every active candidate bids every turn.
MINER_RULES: tuple[MinerRule, ...] = ("previous_winner", "all_bid")
#: A run "splits evenly" when exactly two candidates survive and each won this share of the turns.
EVEN_SPLIT = (0.45, 0.55)
SEED_TABLE_4 = {  # seed 000 Table 4: wins of A, B, C, G; all active at 1000; stop turn
    "sc1": ((17, 485, 4, 494), False, 70),
    "sc2": ((489, 16, 488, 7), False, 55),
    "sc3": ((493, 14, 491, 2), False, 45),
    "sc4": ((173, 337, 188, 302), True, None),
}


def _check(alpha: float, beta: float, gamma: float) -> None:
    for name, v in (("alpha", alpha), ("beta", beta), ("gamma", gamma)):
        if not (np.isfinite(v) and v >= 0):
            raise BadConfigurationError(f"{name} must be finite and ≥ 0, got {v}", name, v)


def _miner_rule(miner_rule: str) -> None:
    if miner_rule not in MINER_RULES:
        raise BadConfigurationError(
            f"miner_rule must be one of {', '.join(MINER_RULES)}, got {miner_rule!r}",
            "miner_rule",
            miner_rule,
        )


def _seeds(seeds: int | Sequence[int] | NDArray[np.integer]) -> NDArray[np.uint64]:
    if isinstance(seeds, int):
        if seeds < 1:
            raise InvalidArgumentError("seeds must be ≥ 1 run", "seeds", seeds)
        return np.arange(seeds, dtype=np.uint64)
    s = np.asarray(seeds)
    if s.ndim != 1 or s.size == 0 or s.dtype.kind not in "iu" or np.any(s < 0):
        raise InvalidArgumentError("seeds must be a non-empty 1-D sequence of integers ≥ 0", "seeds", None)
    return np.ascontiguousarray(s, dtype=np.uint64)


def simulate_bidding(
    scenario: Scenario,
    turns: int = 1000,
    seeds: int | Sequence[int] | NDArray[np.integer] = 1000,
    rule: Rule = "argmax_w_over_u",
    *,
    alpha: float = 0.3,
    beta: float = 0.6,
    gamma: float = 0.1,
    start: int = 100,
    miner_rule: MinerRule = "previous_winner",
) -> pl.DataFrame:
    """Play the game once per seed.

    ``miner_rule``: ``"previous_winner"`` (the previous turn's winner runs the
    auction and does not bid; SPEC §3) or ``"all_bid"`` (everyone bids). The
    same seed draws the same x and U under both.

    Returns one row per (seed, candidate): ``scenario``, ``rule``,
    ``miner_rule``, ``seed``, ``candidate``, ``wins`` (turns), ``zero_turn``
    (first turn at 0 tokens, null if never), ``final_tokens`` (tokens) and
    ``gini`` (of the run's final tokens).
    """
    _check(alpha, beta, gamma)
    _miner_rule(miner_rule)
    if turns < 1:
        raise InvalidArgumentError("turns must be ≥ 1", "turns", turns)
    s = _seeds(seeds)
    r = _core.simulate_bidding(
        scenario, turns, s, rule, alpha, beta, gamma, len(CANDIDATES), start, miner_rule
    )
    n, k = r["wins"].shape
    zero = r["zero_turn"].ravel()
    return pl.DataFrame(
        {
            "scenario": [scenario] * (n * k),
            "rule": [rule] * (n * k),
            "miner_rule": [miner_rule] * (n * k),
            "seed": np.repeat(s.astype(np.int64), k),
            "candidate": list(CANDIDATES) * n,
            "wins": r["wins"].ravel(),
            "zero_turn": pl.Series(np.where(zero > 0, zero, 0)).replace(0, None),
            "final_tokens": r["tokens"].ravel(),
            "gini": np.repeat(r["gini"], k),
        }
    )


def bidding_trajectory(
    scenario: Scenario,
    seed: int = 0,
    turns: int = 1000,
    rule: Rule = "argmax_w_over_u",
    *,
    alpha: float = 0.3,
    beta: float = 0.6,
    gamma: float = 0.1,
    start: int = 100,
    miner_rule: MinerRule = "previous_winner",
) -> NDArray[np.int64]:
    """Tokens of A, B, C, G after each turn of one run: a ``(turns + 1, 4)`` array."""
    _check(alpha, beta, gamma)
    _miner_rule(miner_rule)
    return _core.bidding_trajectory(
        scenario, turns, seed, rule, alpha, beta, gamma, len(CANDIDATES), start, miner_rule
    )


def bidding_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Table 4 as distributions over seeds, per scenario, miner rule and draw rule.

    Columns: wins of the candidate that won most / second / third / least
    (mean over runs, so the seed's single-run figures compare), the share of
    runs ending with exactly two survivors that each won 45–55 % of the turns
    (``two_even_share``, the seed's sc1–sc3), the share of runs where all four
    are still active at the end, the median and 10th–90th percentile turn at
    which the first candidate dropped out, and the mean Gini.
    """
    lo, hi = EVEN_SPLIT
    per_run = frame.group_by("scenario", "miner_rule", "rule", "seed").agg(
        pl.col("wins").sort(descending=True).alias("ranked"),
        pl.col("zero_turn").min().alias("first_drop"),
        pl.col("final_tokens").gt(0).all().alias("all_active"),
        (
            (pl.col("final_tokens").gt(0).sum() == 2)
            & (
                pl.col("wins")
                .filter(pl.col("final_tokens").gt(0))
                .truediv(pl.col("wins").sum())
                .is_between(lo, hi)
                .all()
            )
        ).alias("two_even"),
        pl.col("gini").first(),
    )
    return (
        per_run.with_columns(*(pl.col("ranked").list.get(i).alias(f"wins_{i + 1}") for i in range(4)))
        .group_by("scenario", "miner_rule", "rule")
        .agg(
            *(pl.col(f"wins_{i + 1}").mean() for i in range(4)),
            pl.col("two_even").mean().alias("two_even_share"),
            pl.col("all_active").mean().alias("all_active_share"),
            pl.col("first_drop").median().alias("first_drop_median"),
            pl.col("first_drop").quantile(0.1).alias("first_drop_p10"),
            pl.col("first_drop").quantile(0.9).alias("first_drop_p90"),
            pl.col("gini").mean().alias("gini_mean"),
            pl.len().alias("runs"),
        )
        .sort(
            "scenario",
            pl.col("miner_rule").replace_strict(MINER_RULES, list(range(len(MINER_RULES)))),
            "rule",
        )
    )


def seed_table_4() -> pl.DataFrame:
    """Seed 000's Table 4 (one run per scenario) in :func:`bidding_table`'s columns.

    ``wins_1`` … ``wins_4``: the wins of the candidate that won most … least
    (turns); ``two_even_share`` and ``all_active_share`` are 1 or 0 for the
    single run; ``first_drop_median``: the turn the seed's run stopped (null
    when all four stayed active).
    """
    lo, hi = EVEN_SPLIT
    rows = []
    for sc, (wins, all_active, stop) in SEED_TABLE_4.items():
        ranked = sorted(wins, reverse=True)
        total = sum(wins)
        even = not all_active and all(lo <= w / total <= hi for w in ranked[:2])
        rows.append(
            {
                "scenario": sc,
                **{f"wins_{i + 1}": float(w) for i, w in enumerate(ranked)},
                "two_even_share": float(even),
                "all_active_share": float(all_active),
                "first_drop_median": None if stop is None else float(stop),
            }
        )
    return pl.DataFrame(rows, schema_overrides={"first_drop_median": pl.Float64})


def table_4(table: pl.DataFrame, rule: Rule = "argmax_w_over_u") -> pl.DataFrame:
    """Return the seed's Table 4 beside ours under each miner rule, for one draw rule.

    One row per (scenario, source): ``seed 000`` (the seed's single run), then
    each miner rule in ``table`` (means over runs); columns as
    :func:`seed_table_4`.
    """
    cols = ["scenario", *(f"wins_{i + 1}" for i in range(4)), "two_even_share", "all_active_share"]
    cols.append("first_drop_median")
    ours = (
        table.filter(pl.col("rule") == rule)
        .select(pl.col("miner_rule").alias("source"), *cols)
        .with_columns(pl.col("first_drop_median").cast(pl.Float64))
    )
    seed = seed_table_4().select(pl.lit("seed 000").alias("source"), *cols)
    order: dict[str, int] = {"seed 000": 0, **{m: i + 1 for i, m in enumerate(MINER_RULES)}}
    return (
        pl.concat([seed, ours], how="vertical_relaxed")
        .sort("scenario", pl.col("source").replace_strict(order, default=len(order)))
        .select("scenario", "source", *cols[1:])
    )


def rule_bias(table: pl.DataFrame) -> pl.DataFrame:
    """How much of the concentration comes from the bias of argmax W/U.

    Per scenario and miner rule: the mean Gini and the share of runs keeping
    all four candidates under both draw rules, and the differences
    (argmax − proportional).
    """
    keep = ("scenario", "miner_rule", "gini_mean", "all_active_share")
    a = table.filter(pl.col("rule") == "argmax_w_over_u").select(*keep)
    p = table.filter(pl.col("rule") == "proportional").select(*keep)
    return (
        a.join(p, on=["scenario", "miner_rule"], suffix="_proportional")
        .rename({"gini_mean": "gini_argmax", "all_active_share": "all_active_argmax"})
        .with_columns(
            (pl.col("gini_argmax") - pl.col("gini_mean_proportional")).alias("gini_from_bias"),
            (pl.col("all_active_argmax") - pl.col("all_active_share_proportional")).alias(
                "all_active_from_bias"
            ),
        )
        .sort("scenario", pl.col("miner_rule").replace_strict(MINER_RULES, list(range(len(MINER_RULES)))))
    )


def plot_trajectories(
    path: str | Path,
    scenarios: Sequence[Scenario] = SCENARIOS,
    *,
    seed: int = 0,
    turns: int = 1000,
    rule: Rule = "argmax_w_over_u",
    miner_rule: MinerRule = "previous_winner",
) -> Path:
    """Token trajectories of one run per scenario, as seed 000's figures 1–2 (PNG).

    Needs the ``plot`` extra (matplotlib); without it raises :class:`~gridledger.errors.MissingExtraError`.
    """
    _miner_rule(miner_rule)
    require("matplotlib", "plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(scenarios), 1, figsize=(9, 2.4 * len(scenarios)), sharex=True, squeeze=False)
    for ax, sc in zip(axes[:, 0], scenarios, strict=True):
        traj = bidding_trajectory(sc, seed, turns, rule, miner_rule=miner_rule)
        for j, name in enumerate(CANDIDATES):
            ax.plot(traj[:, j], label=name, linewidth=1)
        ax.set_ylabel("tokens")
        ax.set_title(f"{sc} ({rule}, {miner_rule}, seed {seed})", fontsize=9)
        ax.set_ylim(-5, 4 * 100 + 15)
    axes[0, 0].legend(ncol=4, fontsize=8, loc="upper right")
    axes[-1, 0].set_xlabel("turn")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
