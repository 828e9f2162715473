"""EV fleet, PF objective, schedulers, the offline bound, plots and ev-sim (SPEC §6)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from gridledger import _core, cli, data
from gridledger.errors import BadConfigurationError, BadDataError, GridLedgerError
from gridledger.ev import FleetConfig, SimResult, plot_result, simulate
from gridledger.ev.fleet import local_halfhour, make_fleet, make_transactions
from gridledger.ev.pf import lambda_fp, lambda_from_sums, pf

START = "2019-01-15"


@pytest.fixture(scope="module")
def runs() -> dict[str, SimResult]:
    return {
        s: simulate(scheduler=s, days=1, start=START, bound=(s == "none"))
        for s in ("none", "greedy", "optimal", "receding_horizon")
    }


# -- fleet -----------------------------------------------------------------------------------------
def test_fleet_classes_capacities_and_efficiencies() -> None:
    cfg = FleetConfig(evs=2000, seed=1)
    f = make_fleet(cfg)
    slow, fast, rapid = (f.charger_kw[f.charger_class == c] for c in range(3))
    assert slow.max() <= 3.0 and 7.0 <= fast.min() and fast.max() <= 22.0
    assert set(np.unique(rapid)) <= {43.0, 50.0, 120.0}
    assert (f.min_charge_wh < f.capacity_wh).all()


def test_transactions_follow_the_profile_and_the_2_to_1_ratio() -> None:
    cfg = FleetConfig(evs=400, seed=2)
    fleet = make_fleet(cfg)
    first = 1_546_300_800 // 300  # 2019-01-01 00:00 UTC, 5-min rounds
    txs = make_transactions(fleet, cfg, first, 288 * 3, 5)
    hh = local_halfhour(first, 288 * 3, 5, cfg.timezone)
    per_hh = np.bincount(hh[txs.round - first], minlength=48) / np.bincount(hh, minlength=48)
    night, morning, evening = per_hh[2:10].mean(), per_hh[14:18].mean(), per_hh[36:42].mean()
    assert morning > 2 * night and evening > 2 * night
    # Sessions charge or discharge 2:1; charging sessions also publish longer (bigger headroom).
    share = (txs.kind > 0).mean()
    assert 0.55 < share < 0.85
    # Θ terms: v·q for a charge, −ϖ·q for a discharge (thousandths, half up).
    q, k = txs.quantity_wh, txs.kind
    assert (txs.grid_wh == np.where(k > 0, (900 * q + 500) // 1000, -((900 * q + 500) // 1000))).all()
    assert len(np.unique(txs.ids, axis=0)) == len(txs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"evs": 0}, "evs"),
        ({"v_permille": 0}, "v_permille"),
        ({"varpi_permille": 1001}, "varpi_permille"),
        ({"charger_mix": (0.5, 0.5, 0.5)}, "charger_mix"),
        ({"capacity_kwh": (50.0, 20.0)}, "capacity_kwh"),
        ({"min_charge_fraction": 1.0}, "min_charge_fraction"),
        ({"max_defer": -1}, "max_defer"),
        ({"profile": (0.1,) * 47}, "profile"),
    ],
)
def test_ev_parameters_out_of_range_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(BadConfigurationError) as e:
        FleetConfig(**kwargs).validate()  # type: ignore[arg-type]
    assert e.value.field == field


# -- PF and λ --------------------------------------------------------------------------------------
def test_pf_is_the_variance_of_slopes_and_lambda_its_exact_inverse() -> None:
    theta_wh = [1000, 1060, 1060, 1120, 1120]  # slopes 60, 0, 60, 0 Wh per 5 min
    kw = np.asarray(theta_wh) * 12 / 1000
    assert pf(kw) == pytest.approx(0.1296)
    assert lambda_fp(theta_wh, 5) == int(1e12 / 0.1296)
    assert lambda_fp([5, 5, 5], 5) == 2**64 - 1


def test_simulated_lambda_is_the_inverse_of_the_rolling_window_pf(runs: dict[str, SimResult]) -> None:
    r = runs["optimal"]
    sc = r.scenario
    theta = np.concatenate([[sc.theta_prev_wh], (r.rounds["theta_kw"].to_numpy() * 1000 / 12).round()])
    slopes = np.concatenate([sc.history_wh, np.diff(theta)]).astype(np.int64)
    k = len(sc.history_wh)
    for i in (0, 100, 287):
        window = slopes[max(0, k + i - 287) : k + i + 1]
        t, s1, s2 = len(window), int(window.sum()), int((window.astype(object) ** 2).sum())
        assert int(r.rounds["lambda"][i]) == lambda_from_sums(t, s1, s2, 5)


# -- schedulers ------------------------------------------------------------------------------------
def test_every_transaction_executes_within_two_rounds(runs: dict[str, SimResult]) -> None:
    for name, r in runs.items():
        pub = r.scenario.published
        ex = r.executed_round
        done = ex >= 0
        assert (ex[done] >= pub[done]).all() and (ex[done] <= pub[done] + 2).all(), name
        # Only the last two rounds' transactions may still be pending at the end.
        assert (pub[~done] >= len(r.scenario.base_wh) - 2).all(), name
    assert (runs["none"].executed_round == runs["none"].scenario.published).all()


def test_schedulers_lower_pf_and_none_is_bounded(runs: dict[str, SimResult]) -> None:
    none = runs["none"]
    assert none.pf == pytest.approx(none.pf_unscheduled)
    for name in ("greedy", "optimal", "receding_horizon"):
        assert runs[name].pf < none.pf, name
        assert runs[name].pf >= none.pf_bound, name
    assert runs["optimal"].unproven_rounds == 0
    assert none.pf_bound > 0 and none.pf_bound_cuberoot == pytest.approx(none.pf_bound ** (1 / 3))


def test_optimal_maximises_each_rounds_lambda_given_its_state() -> None:
    # A round's exact choice against brute force over every subset.
    rng = np.random.default_rng(4)
    for _ in range(30):
        w = rng.integers(-3000, 9000, size=int(rng.integers(1, 11))).astype(np.int64)
        k, b = int(rng.integers(1, 288)), int(rng.integers(-(10**7), 10**7))
        flags, total, proven = _core.ev_choose("optimal", w, k, b, -(1 << 50), 20_000)
        assert proven and total == int(w[flags].sum())
        best = min(
            abs(k * s - b)
            for m in range(1 << len(w))
            if (s := int(sum(int(w[i]) for i in range(len(w)) if m >> i & 1))) <= 20_000
        )
        assert abs(k * total - b) == best


def test_frame_columns_and_energy(runs: dict[str, SimResult]) -> None:
    r = runs["greedy"]
    f = r.rounds
    assert f.height == 288
    assert {"utc_timestamp", "base_kw", "theta_kw", "charge_kw", "discharge_kw", "lambda"} <= set(f.columns)
    done = r.executed_round >= 0
    q = r.scenario.transactions.quantity_wh
    executed_kwh = float((f["charge_kw"].sum() + f["discharge_kw"].sum()) * 5 / 60)
    assert executed_kwh == pytest.approx(q[done].sum() / 1000)


def test_competing_miners_the_block_of_highest_lambda_wins(runs: dict[str, SimResult]) -> None:
    r = simulate(scheduler="none", rivals=("greedy", "optimal"), days=1, start=START, bound=False)
    assert sum(r.wins.values()) == 288 and set(r.wins) == {"0:none", "1:greedy", "2:optimal"}
    # "none" wins only where its block is as good as the best (ties go to it).
    assert r.wins["2:optimal"] > r.wins["0:none"]
    assert r.pf < runs["none"].pf
    assert r.rounds["miner"].value_counts().height <= 3
    with pytest.raises(BadConfigurationError) as e:
        simulate(rivals=("fastest",), bound=False)
    assert e.value.field == "rivals[0]"


def test_progress_reports_each_day_of_the_bound() -> None:
    seen: list[tuple[str, int, int]] = []
    simulate(scheduler="none", evs=20, households=40, capacity_kw=160, days=2, start=START,
             progress=lambda *a: seen.append(a))  # fmt: skip
    assert seen == [("bound", 1, 2), ("bound", 2, 2)]


# -- bad input -------------------------------------------------------------------------------------
def test_bad_input_raises_typed_errors_naming_the_field() -> None:
    short = data.sample_load().filter(pl.col("utc_timestamp") < pl.datetime(2019, 1, 1, 12, time_zone="UTC"))
    with pytest.raises(BadDataError) as e:
        simulate(load=short, bound=False)
    assert e.value.field == "load"
    with pytest.raises(BadDataError) as e:
        simulate(days=2, start="2019-12-31", bound=False)
    assert e.value.field == "load"
    for kwargs, field in [
        ({"scheduler": "best"}, "scheduler"),
        ({"evs": 0}, "evs"),
        ({"households": 0}, "households"),
        ({"capacity_kw": -1.0}, "capacity_kw"),
        ({"round_minutes": 7}, "round_minutes"),
        ({"days": 0}, "days"),
    ]:
        with pytest.raises(BadConfigurationError) as c:
            simulate(bound=False, **kwargs)  # type: ignore[arg-type]
        assert c.value.field == field


def test_native_calls_reject_bad_arguments() -> None:
    z = np.zeros(0, np.int64)
    with pytest.raises(GridLedgerError):
        _core.ev_simulate(
            "optimal", np.array([3, 1], np.int64), np.array([1, 1], np.int64), z, 0, z, 1, 2, 4, 5
        )
    with pytest.raises(GridLedgerError):
        _core.ev_simulate("fastest", z, z, z, 0, z, 1, 2, 4, 5)


# -- plots and CLI ---------------------------------------------------------------------------------
def test_plots_render(runs: dict[str, SimResult], tmp_path: Path) -> None:
    paths = plot_result(runs["optimal"], tmp_path)
    assert [p.name for p in paths] == ["ev_demand_hourly.png", "ev_load_profile.png", "ev_pf_window.png"]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000


def test_ev_sim_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["ev-sim", "--evs", "40", "--households", "80", "--capacity-kw", "320", "--start", START]
    args += ["--scheduler", "optimal", "--plots", str(tmp_path), "--rounds", str(tmp_path / "r.parquet")]
    rc = cli.main([*args, "--quiet"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "optimal" in out and "offline bound" in out and "PF^(1/3)" in out
    assert (tmp_path / "ev_load_profile.png").exists()
    assert pl.read_parquet(tmp_path / "r.parquet")["scheduler"].unique().sort().to_list() == [
        "none",
        "optimal",
    ]
    assert cli.main(["ev-sim", "--evs", "0", "--quiet"]) == 2
    assert "evs" in capsys.readouterr().err


def test_ev_sim_cli_with_rivals(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["ev-sim", "--evs", "40", "--households", "80", "--capacity-kw", "320", "--start", START]
    args += ["--scheduler", "optimal", "--rivals", "greedy,none", "--no-bound", "--quiet"]
    assert cli.main(args) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "rounds won per miner" in x)
    wins = dict(w.rsplit(" ", 1) for w in line.split(": ", 1)[1].split(", "))
    assert set(wins) == {"0:optimal", "1:greedy", "2:none"}
    assert sum(int(v) for v in wins.values()) == 288  # one winner per 5-minute round of the day
    assert cli.main([*args[:-4], "--rivals", "fastest", "--quiet"]) == 2
    assert "rivals[0]" in capsys.readouterr().err
