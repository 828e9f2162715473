"""What one cell runs: a :class:`~gridledger.study.Scenario` in, one row of figures out (issue 15).

Each workload calls the library's own entry point with the scenario's
parameters and the seed derived from its id, and returns a flat dict of
numbers. Figures that are measurements of the machine (wall time, memory)
carry the prefix ``meas_``; every other figure depends only on the scenario,
so a cell's row is the same whichever worker runs it (tested).
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from gridledger.study import sources
from gridledger.study.scenario import Scenario

__all__ = ["gini", "run_cell", "run_scenario"]

Row = dict[str, Any]


def gini(values: Any) -> float:
    """Gini coefficient of non-negative values (0 equal, → 1 concentrated)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = len(x)
    if n == 0 or x.sum() == 0:
        return 0.0
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * x.sum()))


def _community_inputs(p: dict[str, Any]) -> tuple[pl.DataFrame, pl.DataFrame]:
    load = sources.load_series(p["load"], p["area"])
    sources.check_covers(load, p["load"], p["area"], p["start"], p["days"])
    solar = sources.solar_series(p["solar"], p["solar_area"], p["start"], p["days"])
    sources.check_covers(solar, p["solar"], p["solar_area"], p["start"], p["days"])
    return load, solar


def _feeder(p: dict[str, Any], community: Any) -> Any:
    """Return the scenario's feeder: generated (``"radial"``) or read from a TOML file."""
    from gridledger.errors import BadConfigurationError
    from gridledger.grid.feeder import Feeder
    from gridledger.grid.generate import radial_feeder

    members = [m.label for m in community.members]
    units = [u.label for u in community.units]
    if p["grid"] == "radial":
        return radial_feeder(
            len(members),
            n_legs=p["grid_legs"],
            members=members,
            units=units,
            line_type=p["grid_line"],
            span_m=p["grid_span_m"],
            seed=community.seed,
        )
    feeder = Feeder.from_toml(p["grid"])
    if list(feeder.members) != members or list(feeder.units) != units:
        raise BadConfigurationError(
            f"{p['grid']}: the feeder must place the community's {len(members)} members and {len(units)} "
            f"PV units by their labels, in order ({members[:2]}…, {units[:2]}…)",
            "grid",
            p["grid"],
        )
    return feeder


def _grid_figures(
    p: dict[str, Any], community: Any, feeder: Any, r: Any, generation: Any, artefacts: Path | None
) -> Row:
    """Return the losses, violations and loadings of the run on its feeder (``grid_*`` figures)."""
    from gridledger.grid.report import dso_report, write_injections

    h = community.period_minutes / 60
    load_w, _q = feeder.injections(
        -r.consumption_wh / h,
        np.zeros((r.consumption_wh.shape[0], len(feeder.units))) if len(feeder.units) else None,
    )
    pv_w = np.zeros_like(load_w)
    if len(feeder.units):
        np.add.at(pv_w.T, np.asarray(feeder.unit_bus), (generation / h).T)
    # The losses' allocation the run recorded on chain (simulate(grid=feeder)), per member.
    allocation = pl.DataFrame(
        {"member": list(feeder.members), "loss_wh": r.grid.loss_by_member()}
        if r.grid is not None
        else {"member": [], "loss_wh": []},
        schema={"member": pl.String, "loss_wh": pl.Int64},
    )
    rep = dso_report(
        feeder,
        load_w,
        pv_w,
        period_hours=h,
        hosting=p["hosting"],
        allocation=allocation if r.grid is not None else None,
    )
    if artefacts is not None:
        import json

        (artefacts / "feeder.json").write_text(json.dumps(feeder.to_dict()))
        write_injections(artefacts / "injections.parquet", feeder, load_w, pv_w)
        if r.grid is not None:
            allocation.write_parquet(artefacts / "losses.parquet")
    s = rep.summary()
    row: Row = {
        "grid_buses": feeder.n_buses,
        "grid_losses_kwh": rep.losses_kwh,
        "grid_losses_settled_kwh": int(r.grid.losses_wh.sum()) / 1000 if r.grid is not None else 0.0,
        "grid_violation_hours": rep.violation_hours,
        "grid_voltage_violation_hours": rep.voltage_hours,
        "grid_overload_hours": rep.overload_hours,
        "grid_line_loading_max": s["line_loading_max"],
        "grid_trafo_loading_max": rep.trafo_loading_max,
        "grid_vm_min_pu": s["vm_min_pu"],
        "grid_vm_max_pu": s["vm_max_pu"],
        "grid_hosting_scale": rep.hosting_scale if rep.hosting_scale is not None else float("nan"),
    }
    return row


def _community(sc: Scenario, artefacts: Path | None) -> Row:
    from gridledger.community import Community, simulate
    from gridledger.community.inputs import community_inputs
    from gridledger.community.trading import GridMarket
    from gridledger.ledger import Consensus

    p = dict(sc.params)
    load, solar = _community_inputs(p)
    community = Community.default(
        p["members"],
        p["pv_units"],
        kwp=p["kwp"],
        v_wh=p["v_wh"],
        seed=sc.seed,
        period_minutes=p["period_minutes"],
        repartition=p["repartition"],
        algorithm=p["algorithm"],
        consensus=Consensus(producer_rule=p["consensus"], draw=p["draw"]),
    )
    start = datetime.fromisoformat(p["start"]).replace(tzinfo=UTC)
    store = artefacts / "chain.sqlite" if artefacts is not None else None
    feeder = _feeder(p, community) if p["grid"] != "none" else None
    market: Any = None if p["market"] == "none" else p["market"]
    fees = (p["fee_bus"], p["fee_feeder"], p["fee_transformer"])
    if feeder is not None and market is not None and (any(fees) or p["congestion"]):
        from gridledger.grid.fees import Tariff

        tariff = Tariff(*fees) if any(fees) else None
        market = GridMarket(market, feeder, tariff, congestion=p["congestion"])
    periods = round(p["days"] * 24 * 60 / community.period_minutes)
    inputs = community_inputs(community, start, periods, load=load, solar=solar)
    r = simulate(
        community,
        start,
        p["days"],
        store=store,
        inputs=inputs,
        market=market,
        bid_probability=p["bid_probability"],
        grid=feeder,
    )
    s = r.summary()
    consumption = int(r.consumption_wh.sum())
    shared = int(np.minimum(r.allocated_wh, r.consumption_wh).sum())
    made = np.asarray(r.chain.member_stats()["made"], dtype=np.int64)
    grid = (
        _grid_figures(p, community, feeder, r, inputs.generation_wh, artefacts) if feeder is not None else {}
    )
    if feeder is not None and r.deals is not None and "fee" in r.deals.columns:
        grid["grid_fees_eur"] = float((r.deals["quantity"] * r.deals["fee"]).sum()) / 1e6
    return grid | {
        "blocks": int(s["blocks"]),
        "transactions": int(s["transactions"]),
        "creates": int(s["creates"]),
        "transfers": int(s["transfers"]),
        "auction_txs": int(s["auction_txs"]),
        "kwh_distributed": float(s["kwh_distributed"]),
        "kwh_consumed": consumption / 1000,
        "kwh_shared": shared / 1000,
        "self_sufficiency": shared / consumption if consumption else 0.0,
        "signatures_made": int(s["signatures_made"]),
        "signatures_verified": int(s["signatures_verified"]),
        "max_period_error_wh": float(s["max_period_error_wh"]),
        "chain_vs_mid_pct": float(s["chain_vs_mid_pct"]),
        "market_kwh": float(s["market_kwh"]),
        "market_deals": int(s["market_deals"]),
        "producers": int((made > 0).sum()),
        "gini_blocks": gini(made) if p["consensus"] == "auction" else 0.0,
        "meas_store_bytes": int(s["store_bytes"]),
    }


def _ev(sc: Scenario, artefacts: Path | None) -> Row:
    from gridledger import ev

    p = dict(sc.params)
    load = sources.load_series(p["load"], p["area"])
    sources.check_covers(load, p["load"], p["area"], p["start"], p["days"])
    r = ev.simulate(
        p["households"],
        p["capacity_kw"],
        p["evs"],
        p["round_minutes"],
        p["days"],
        p["scheduler"],
        sc.seed,
        load,
        start=p["start"],
        bound=p["bound"],
        demand=p["demand"],
        deferral=p["deferral"],
    )
    un = r.days_frame["pf_unscheduled"].to_numpy()
    un_cbrt = float(np.mean(np.cbrt(un)))
    if artefacts is not None:
        r.rounds.write_parquet(artefacts / "rounds.parquet")
    return {
        "pf": r.pf,
        "pf_cuberoot": r.pf_cuberoot,
        "pf_unscheduled": float(np.mean(un)),
        "pf_unscheduled_cuberoot": un_cbrt,
        "pf_reduction_pct": 100 * (1 - r.pf_cuberoot / un_cbrt) if un_cbrt else 0.0,
        "pf_bound": r.pf_bound,
        "unproven_rounds": r.unproven_rounds,
    }


def _bidding(sc: Scenario, artefacts: Path | None) -> Row:
    from gridledger.consensus import simulate_bidding

    p = dict(sc.params)
    f = simulate_bidding(
        p["scenario"],
        p["turns"],
        [sc.seed],
        p["rule"],
        alpha=p["alpha"],
        beta=p["beta"],
        gamma=p["gamma"],
        miner_rule=p["miner_rule"],
    )
    wins = np.sort(f["wins"].to_numpy())[::-1]
    zero = f["zero_turn"].drop_nulls()
    return {
        "gini": float(f["gini"][0]),
        "survivors": int((f["final_tokens"] > 0).sum()),
        "top_wins_share": float(wins[0] / p["turns"]),
        "second_wins_share": float(wins[1] / p["turns"]) if len(wins) > 1 else 0.0,
        "first_dropout_turn": int(zero.min()) if zero.len() else -1,  # type: ignore[arg-type]
    }


def _network(sc: Scenario, artefacts: Path | None) -> Row:
    from gridledger.ledger import Consensus
    from gridledger.network import Adversary, NetworkConfig, NetworkSim

    p = dict(sc.params)
    adversary = {
        "none": Adversary(),
        "withhold": Adversary(withhold=frozenset({1})),
        "equivocate": Adversary(equivocate=frozenset({1})),
        "vpp_double_spend": Adversary(vpp_double_spend=frozenset({p["periods"] // 2})),
    }[p["adversary"]]
    config = NetworkConfig(
        nodes=p["nodes"],
        units=p["units"],
        periods=p["periods"],
        latency_ms=(p["latency_min_ms"], p["latency_max_ms"]),
        loss=p["loss"],
        bid_probability=p["bid_probability"],
        consensus=Consensus(producer_rule="auction", draw=p["draw"]),
        seed=sc.seed,
    )
    s = NetworkSim(config, adversary).run().summary()
    return {k: (int(v) if isinstance(v, bool) else v) for k, v in s.items()}


def _market(sc: Scenario, artefacts: Path | None) -> Row:
    from gridledger.community import Community, simulate
    from gridledger.community.trading import Trader
    from gridledger.ledger import Consensus
    from gridledger.market import market_stats

    p = dict(sc.params)
    q = {**p, "period_minutes": 15}
    load, solar = _community_inputs(q)
    community = Community.default(
        p["members"],
        p["pv_units"],
        kwp=p["kwp"],
        seed=sc.seed,
        repartition=p["repartition"],
        consensus=Consensus(),
    )
    start = datetime.fromisoformat(p["start"]).replace(tzinfo=UTC)
    r = simulate(community, start, p["days"], store=None, load=load, solar=solar)
    trader = Trader(p["members"], p["mechanism"], sc.seed)
    welfare = optimum = 0.0
    volume = ir = periods = 0
    for i, period in enumerate(r.periods):
        alloc, cons = r.allocated_wh[i], r.consumption_wh[i]
        deals = trader.period(int(period), alloc, cons)
        net = alloc - cons
        owners = np.flatnonzero(net != 0)
        if not (net > 0).any() or not (net < 0).any():
            continue
        periods += 1
        orders = pl.DataFrame(
            {
                "owner": owners,
                "side": ["sell" if net[o] > 0 else "buy" for o in owners],
                "quantity": np.abs(net[owners]),
                "price": np.where(net[owners] > 0, trader.sell_value[owners], trader.buy_value[owners]),
            }
        )
        trades = pl.DataFrame(
            {
                "buyer": [d.buyer for d in deals],
                "seller": [d.seller for d in deals],
                "quantity": [d.quantity for d in deals],
                "price": [d.price for d in deals],
            },
            schema={"buyer": pl.Int64, "seller": pl.Int64, "quantity": pl.Int64, "price": pl.Int64},
        )
        st = market_stats(trades, orders)
        welfare += st.welfare
        optimum += st.optimum
        volume += st.volume
        ir += len(st.ir_violations)
    return {
        "market_periods": periods,
        "welfare": welfare,
        "optimum": optimum,
        "efficiency": welfare / optimum if optimum else 1.0,
        "volume_kwh": volume / 1000,
        "ir_violations": ir,
    }


_RUNNERS: dict[str, Callable[[Scenario, Path | None], Row]] = {
    "community": _community,
    "ev": _ev,
    "bidding": _bidding,
    "network": _network,
    "market": _market,
}


def run_scenario(sc: Scenario, artefacts: Path | None = None) -> Row:
    """Run one scenario and return its figures (``meas_seconds`` and ``meas_peak_rss_mb`` added)."""
    t0 = time.perf_counter()
    row = _RUNNERS[sc.workload](sc, artefacts)
    row["meas_seconds"] = time.perf_counter() - t0
    row["meas_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row["meas_pid"] = os.getpid()
    return row


def run_cell(canonical: str, artefacts: str | None = None) -> Row:
    """Run one cell as a Dask task: a scenario's canonical JSON in, its result row out.

    A cell that raises returns a row with ``status = "failed"`` and the
    error's type and message, so one bad cell never stops a study.
    """
    sc = Scenario.from_json(canonical)
    base: Row = {"cell_id": sc.id, "workload": sc.workload, "replicate": sc.replicate, "seed": sc.seed}
    base.update({f"p_{k}": v for k, v in sc.params.items()})
    try:
        folder = None
        if artefacts is not None:
            folder = Path(artefacts) / sc.id
            folder.mkdir(parents=True, exist_ok=True)
        figures = run_scenario(sc, folder)
    except Exception as e:  # recorded, not hidden: the row says what failed and why
        return {**base, "status": "failed", "error_type": type(e).__name__, "error_message": str(e)[:2000]}
    return {**base, "status": "ok", "error_type": None, "error_message": None, **figures}
