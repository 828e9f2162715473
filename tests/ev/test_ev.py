"""EV fleet, PF objective, schedulers, the offline bound, plots and ev-sim (SPEC §6)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from gridledger import _core, cli, data
from gridledger.errors import BadConfigurationError, BadDataError, GridLedgerError
from gridledger.ev import FleetConfig, SimResult, plot_result, simulate
from gridledger.ev.fleet import CHARGER_KW, Transactions, local_halfhour, make_fleet, make_transactions
from gridledger.ev.pf import lambda_fp, lambda_from_sums, pf
from numpy.typing import NDArray

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
    cfg = FleetConfig(evs=400, seed=2, demand="sessions")
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


# -- the per-slot stream (the seed's text) ----------------------------------------------------------
FIRST = 1_546_300_800 // 300  # 2019-01-01 00:00 UTC, 5-min rounds


def _per_slot(evs: int, days: int, seed: int = 7) -> tuple[FleetConfig, NDArray[np.int64], Transactions]:
    cfg = FleetConfig(evs=evs, seed=seed, demand="per_slot")
    txs = make_transactions(make_fleet(cfg), cfg, FIRST, 288 * days, 5)
    return cfg, local_halfhour(FIRST, 288 * days, 5, cfg.timezone), txs


def test_per_slot_connections_match_the_profile_within_binomial_error() -> None:
    # Each (EV, round) is connected with the profile's probability p: over the n·m EV-rounds of a
    # half-hour the count is Binomial(n·m, p). Every half-hour's frequency lies within 4.5 sd
    # (the chance that one of 48 honest ones does not is below 0.04 %; the seed is fixed).
    cfg, hh, txs = _per_slot(evs=200, days=20)
    trials = np.bincount(hh, minlength=48) * cfg.evs
    hits = np.bincount(hh[txs.round - FIRST], minlength=48)
    p = np.asarray(cfg.profile)
    sd = np.sqrt(p * (1 - p) / trials)
    z = (hits / trials - p) / sd
    assert np.abs(z).max() < 4.5, z
    # A sum of 48 squared z-scores is χ² with 48 degrees of freedom: 99.9 % quantile 84.0.
    assert float((z**2).sum()) < 84.0
    # One transaction per connected EV and round, rows ordered by round then EV.
    key = txs.round * cfg.evs + txs.ev
    assert (np.diff(key) > 0).all()


def test_per_slot_connections_are_independent_across_rounds() -> None:
    # Unlike sessions, being connected now says nothing about the next round: P(next | now) = p.
    cfg, hh, txs = _per_slot(evs=200, days=20)
    rounds = 288 * 20
    conn = np.zeros((rounds, cfg.evs), dtype=bool)
    conn[txs.round - FIRST, txs.ev] = True
    same = hh[:-1] == hh[1:]
    both = (conn[:-1] & conn[1:])[same].sum()
    now = conn[:-1][same].sum()
    p = np.asarray(cfg.profile)[hh[1:][same]]
    expected = float((conn[:-1][same] * p[:, None]).sum())
    sd = float(np.sqrt((conn[:-1][same] * (p * (1 - p))[:, None]).sum()))
    assert abs(both - expected) < 4.5 * sd, (both, expected, now)


def test_per_slot_two_charges_per_discharge_and_quantity_is_rating_times_round() -> None:
    cfg, _, txs = _per_slot(evs=200, days=10)
    n = len(txs)
    share = float((txs.kind > 0).mean())
    assert abs(share - 2 / 3) < 4.5 * np.sqrt(2 / 9 / n), share
    assert set(np.unique(txs.kind)) == {-1, 1}
    # Quantity = rating × 5 min (Wh): every quantity is one of the ratings' energies.
    kw = {c: r for c, name in enumerate(("slow", "fast", "rapid")) for r in [CHARGER_KW[name]]}
    wh = {c: np.round(np.asarray(r) * 5 / 60 * 1000).astype(np.int64) for c, r in kw.items()}
    assert set(np.unique(txs.quantity_wh)) <= set(np.concatenate(list(wh.values())).tolist())
    # The classes follow the mix (each transaction draws its rating afresh).
    for c, share_c in enumerate(cfg.charger_mix):
        freq = float(np.isin(txs.quantity_wh, wh[c]).mean())
        assert abs(freq - share_c) < 4.5 * np.sqrt(share_c * (1 - share_c) / n), (c, freq)
    # 120 kW × 5 min = 10 kWh, 2.3 kW × 5 min = 192 Wh (rounded half to even: 191.67 → 192).
    assert txs.quantity_wh.max() == 10_000 and txs.quantity_wh.min() == 192
    q, k = txs.quantity_wh, txs.kind
    assert (txs.grid_wh == np.where(k > 0, (900 * q + 500) // 1000, -((900 * q + 500) // 1000))).all()
    assert len(np.unique(txs.ids, axis=0)) == n


def test_per_slot_rating_draw_is_per_transaction_and_seeded() -> None:
    _, _, a = _per_slot(evs=50, days=2, seed=3)
    _, _, b = _per_slot(evs=50, days=2, seed=3)
    _, _, c = _per_slot(evs=50, days=2, seed=4)
    assert len(a) == len(b) and (a.ids == b.ids).all()  # the seed reproduces the stream
    k = min(len(a), len(c))
    assert len(a) != len(c) or not (a.ids[:k] == c.ids[:k]).all()  # another seed does not
    # One EV publishes different ratings in different rounds (not a fixed charger).
    per_ev = [np.unique(a.quantity_wh[a.ev == e]).size for e in range(50)]
    assert max(per_ev) > 1


def test_deferral_readings_set_the_rounds_a_transaction_may_execute_in() -> None:
    assert FleetConfig().defer_rounds == 2 and FleetConfig().demand == "per_slot"
    assert FleetConfig(deferral="one_round").defer_rounds == 1
    assert FleetConfig(max_defer=5).defer_rounds == 5
    for demand in ("per_slot", "sessions"):
        for deferral, d in (("within_two", 2), ("one_round", 1)):
            r = simulate(scheduler="optimal", start=START, bound=False, demand=demand, deferral=deferral)
            sc, ex = r.scenario, r.executed_round
            assert sc.max_defer == d and sc.config.demand == demand
            done = ex >= 0
            lag = ex[done] - sc.published[done]
            assert lag.min() == 0 and lag.max() == d, (demand, deferral)
            assert (sc.published[~done] >= 288 - d).all()


def test_scheduler_results_under_both_demand_models() -> None:
    # The same day, each model's own stream: every scheduler beats none and stays above the bound,
    # and per-slot demand (noise a three-round pool can net out) leaves more to gain than sessions
    # (steps a 10-minute deferral only moves).
    out: dict[str, dict[str, SimResult]] = {}
    for demand in ("per_slot", "sessions"):
        out[demand] = {
            s: simulate(scheduler=s, start=START, bound=(s == "none"), demand=demand)
            for s in ("none", "greedy", "optimal")
        }
        none = out[demand]["none"]
        for s in ("greedy", "optimal"):
            assert none.pf_bound < out[demand][s].pf < none.pf, (demand, s)
        assert out[demand]["optimal"].unproven_rounds == 0
    red = {m: 1 - out[m]["optimal"].pf_cuberoot / out[m]["none"].pf_cuberoot for m in out}
    assert red["per_slot"] > 0.33 and red["per_slot"] > red["sessions"], red
    # The published counts differ by model, and none's PF is higher with per-slot noise.
    assert out["per_slot"]["none"].pf > 3 * out["sessions"]["none"].pf


def test_stream_defer_holds_the_session_stream_fixed_while_the_deferral_varies() -> None:
    fixed = [FleetConfig(demand="sessions", max_defer=d, stream_defer=8, seed=1) for d in (2, 4, 8)]
    streams = [make_transactions(make_fleet(c), c, FIRST, 288, 5) for c in fixed]
    assert all((s.ids == streams[0].ids).all() for s in streams)
    own = [FleetConfig(demand="sessions", max_defer=d, seed=1) for d in (2, 8)]
    counts = [len(make_transactions(make_fleet(c), c, FIRST, 288, 5)) for c in own]
    assert counts[0] > counts[1]  # the stream's own deferral changes what is published
    # per_slot does not depend on the deferral at all.
    ps = [FleetConfig(max_defer=d, seed=1) for d in (1, 2, 8)]
    ids = [make_transactions(make_fleet(c), c, FIRST, 288, 5).ids for c in ps]
    assert all((x == ids[0]).all() for x in ids)


@pytest.mark.parametrize(
    ("kwargs", "field", "allowed"),
    [
        ({"demand": "hourly"}, "demand", "'per_slot', 'sessions'"),
        ({"demand": None}, "demand", "'per_slot', 'sessions'"),
        ({"deferral": "two_rounds"}, "deferral", "'within_two', 'one_round'"),
        ({"deferral": 2}, "deferral", "'within_two', 'one_round'"),
        ({"deferral": "one_round", "max_defer": 2}, "max_defer", "deferral='one_round'"),
        ({"max_defer": 13}, "max_defer", "0 … 12"),
        ({"max_defer": True}, "max_defer", "0 … 12"),
        ({"demand": "sessions", "stream_defer": 1}, "stream_defer", "2 … 12"),
    ],
)
def test_unknown_demand_model_or_deferral_reading_names_field_and_allowed_values(
    kwargs: dict[str, object], field: str, allowed: str
) -> None:
    with pytest.raises(BadConfigurationError) as e:
        FleetConfig(**kwargs).validate()  # type: ignore[arg-type]
    assert e.value.field == field and allowed in str(e.value)
    if set(kwargs) <= {"demand", "deferral"} and None not in kwargs.values():  # None: keep the config's
        with pytest.raises(BadConfigurationError) as s:
            simulate(bound=False, **kwargs)  # type: ignore[arg-type]
        assert s.value.field == field and allowed in str(s.value)


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
    charge_kw, discharge_kw = f["charge_kw"].sum(), f["discharge_kw"].sum()
    assert isinstance(charge_kw, float) and isinstance(discharge_kw, float)
    executed_kwh = (charge_kw + discharge_kw) * 5 / 60
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
    # The seed's figures 3–5 for the default model (per-slot demand, within-two deferral).
    r = runs["optimal"]
    assert r.scenario.config.demand == "per_slot" and r.scenario.max_defer == 2
    paths = plot_result(r, tmp_path)
    assert [p.name for p in paths] == ["ev_demand_hourly.png", "ev_load_profile.png", "ev_pf_window.png"]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000
    # And for the sessions variant.
    s = simulate(scheduler="optimal", days=1, start=START, bound=False, demand="sessions")
    for p in plot_result(s, tmp_path / "sessions"):
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
