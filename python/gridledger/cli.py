"""The ``gridledger`` command line.

Results go to stdout, logs and errors to stderr (an error may be followed by a
``hint:`` line); exit status 0 on success, 1 when a check fails, 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from gridledger import __version__, data, hashing, keys, merkle
from gridledger.errors import GridLedgerError, InvalidArgumentError
from gridledger.meters import MeterReading

DEMO_SEED_LABEL = b"gridledger demo meter, not a secret"


def _day_readings(day: date) -> list[MeterReading]:
    load = data.sample_load()
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    rows = load.filter(
        (pl.col("utc_timestamp") >= start) & (pl.col("utc_timestamp") < start + timedelta(days=1))
    )
    if rows.height == 0:
        raise InvalidArgumentError(f"no bundled readings on {day} (the sample covers 2019)", "date", str(day))
    # MW averaged over one hour = MWh; × 10^6 gives integer Wh.
    return [
        MeterReading(int(ts.timestamp()), 3600, round(mw * 1_000_000))
        for ts, mw in rows.select("utc_timestamp", "value_mw").iter_rows()
    ]


def demo(day: date, index: int, algorithm: str) -> int:
    """Sign a day of readings, build a Merkle tree, prove and verify one reading."""
    readings = _day_readings(day)
    if not 0 <= index < len(readings):
        raise InvalidArgumentError(f"--index must be in 0..{len(readings) - 1}", "index", index)
    meter = keys.SigningKey.from_seed(hashing.blake3(DEMO_SEED_LABEL))
    encoded = [r.encode() for r in readings]
    signatures = meter.sign_many(encoded)
    sig_ok = keys.verify_batch([meter.public_key] * len(encoded), encoded, signatures)
    leaves = [e + bytes(s) for e, s in zip(encoded, signatures, strict=True)]
    tree = merkle.MerkleTree(leaves, algorithm=algorithm)  # type: ignore[arg-type]
    proof = tree.inclusion_proof(index)
    leaf = merkle.leaf_hash(leaves[index], algorithm)  # type: ignore[arg-type]
    ok = merkle.verify_inclusion(leaf, index, tree.size, proof, tree.root, algorithm)  # type: ignore[arg-type]
    forged = MeterReading(readings[index].start_s, 3600, readings[index].energy_wh + 1).encode()
    forged_leaf = merkle.leaf_hash(forged + bytes(signatures[index]), algorithm)  # type: ignore[arg-type]
    forged_ok = merkle.verify_inclusion(forged_leaf, index, tree.size, proof, tree.root, algorithm)  # type: ignore[arg-type]

    r = readings[index]
    out = sys.stdout
    print(
        f"gridledger {__version__} demo: Austria's hourly load on {day}, "
        f"as {len(readings)} signed meter readings",
        file=out,
    )
    print(f"  meter public key   {meter.public_key.hex()}", file=out)
    print(f"  signatures         {int(sig_ok.sum())}/{len(sig_ok)} verify (one batch call)", file=out)
    print(
        f"  Merkle root        {tree.root.hex()}  ({algorithm}, RFC 6962, {tree.size} leaves)",
        file=out,
    )
    print(f"  reading {index:<10} {r.start:%Y-%m-%d %H:%M} UTC, {r.energy_wh:,} Wh", file=out)
    print(f"  inclusion proof    {len(proof)} hashes", file=out)
    for i, h in enumerate(proof):
        print(f"    [{i}] {h.hex()}", file=out)
    print(f"  proof verifies     {ok}", file=out)
    print(f"  forged reading (+1 Wh) verifies  {forged_ok}", file=out)
    print(f"  {data.ATTRIBUTION}", file=out)
    return 0 if (ok and not forged_ok and bool(sig_ok.all())) else 1


def data_inspect(path: str, area: str | None, plot: str | None, week: date | None) -> int:
    """Print what a load file holds; optionally plot a week of it as PNG."""
    report = data.inspect(path, area=area)
    print(report.to_text())
    if plot:
        frame = report.frame
        first = frame["utc_timestamp"].min()
        assert isinstance(first, datetime)
        start = datetime(week.year, week.month, week.day, tzinfo=UTC) if week else first
        out = data.plot_week(frame, start, plot, title=f"{Path(path).name}: week from {start:%Y-%m-%d}")
        print(f"plot written to {out}", file=sys.stderr)
    return 0


def simulate(args: argparse.Namespace) -> int:
    """Run a community on a chain and print the summary table."""
    from gridledger.community import Community
    from gridledger.community import simulate as run

    start = datetime(args.start.year, args.start.month, args.start.day, tzinfo=UTC)
    from gridledger.ledger import Consensus

    community = Community.default(
        args.members,
        args.pv_units,
        kwp=args.kwp,
        v_wh=args.v_wh,
        seed=args.seed,
        period_minutes=args.period_minutes,
        repartition=args.repartition,
        algorithm=args.algorithm,
        consensus=Consensus(producer_rule=args.consensus, draw=args.draw),
    )
    out = Path(args.out)
    result = run(
        community, start, args.days, store=out, overwrite=True, progress=not args.quiet, market=args.market
    )
    _summary_table(result)
    if args.market_face:
        result.market_face().write_parquet(args.market_face)
        print(f"market-face meters written to {args.market_face}", file=sys.stderr)
    first = int(result.periods[0])
    print(
        f"chain written to {out}; check it with `gridledger verify {out}` and prove an allocation "
        f"with `gridledger prove {out} --member m000 --period {first + len(result.periods) // 2}`",
        file=sys.stderr,
    )
    return 0 if result.accuracy is None or result.accuracy.summary()["within_v"] else 1


def _summary_table(result: object) -> None:
    from rich.console import Console
    from rich.table import Table

    from gridledger.community import SimulationResult

    assert isinstance(result, SimulationResult)
    s = result.summary()
    acc = result.accuracy.summary() if result.accuracy else {}
    c = result.community
    t = Table(
        title=f"gridledger simulate: {s['members']} members, {s['pv_units']} PV units, "
        f"{s['period_minutes']}-minute periods"
    )
    t.add_column("", style="bold")
    t.add_column("value", justify="right")
    v_max = max((u.v_wh for u in c.units), default=0)
    rows = [
        ("blocks (one per period)", f"{s['blocks']:,}"),
        (
            "transactions",
            f"{s['transactions']:,}  ({s['creates']:,} Create, {s['transfers']:,} Transfer, "
            f"{s['auction_txs']:,} Candidate/Winner)",
        ),
        ("kWh distributed to virtual meters", f"{s['kwh_distributed']:,.1f}"),
        ("voting tokens distributed", f"{s['votes_distributed']:,}"),
        ("signatures made / verified", f"{s['signatures_made']:,} / {s['signatures_verified']:,}"),
        ("block producers", _producers(result)),
        ("local market", _market(result)),
        ("accuracy: worst period |chain − MID|", f"{s['max_period_error_wh']:.1f} Wh  (V = {v_max} Wh)"),
        ("accuracy: chain vs MID over the run", f"{100 * float(acc.get('chain_vs_mid', 0.0)):+.4f} %"),
        ("run time", f"{s['seconds']:.2f} s  ({s['blocks_per_s']:,.0f} blocks/s, {s['tx_per_s']:,.0f} tx/s)"),
        ("store", f"{float(s['store_bytes']) / 1e6:,.1f} MB  ({s['bytes_per_tx']:,.0f} B per transaction)"),
    ]
    for k, v in rows:
        t.add_row(k, v)
    import os
    import shutil

    width = max(110, shutil.get_terminal_size((110, 24)).columns)
    Console(no_color=bool(os.environ.get("NO_COLOR")), width=width).print(t)


def _producers(result: object) -> str:
    from gridledger.community import SimulationResult

    assert isinstance(result, SimulationResult)
    if result.chain.genesis.consensus.producer_rule != "auction":
        return "round robin"
    st = result.chain.member_stats()
    made = np.asarray(st["made"])
    return (
        f"PoS auction: {int((made > 0).sum())} members mined, at most {int(made.max())} blocks each, "
        f"{int(st['strikes'].sum())} strikes"
    )


def _market(result: object) -> str:
    from gridledger.community import SimulationResult

    assert isinstance(result, SimulationResult)
    if result.deals is None:
        return "none (--market call|cda|mcp to trade surplus)"
    d = result.deals
    volume = int(d["quantity"].sum())
    kwh = volume / 1000
    mean = int((d["quantity"] * d["price"]).sum()) / max(1, volume)
    return f"{d.height:,} deals, {kwh:,.1f} kWh at {mean / 10:.1f} ct/kWh on average, settled on chain"


def verify_chain(path: str) -> int:
    """Re-verify a stored chain from genesis."""
    from gridledger.ledger.store import ChainStore

    with ChainStore(path) as store:
        report = store.verify()
    print(report)
    return 0 if report.ok else 1


def prove(path: str, member: str, period: str) -> int:
    """Print a member's allocation in a period with its inclusion proofs."""
    from gridledger.ledger.proofs import prove_allocation
    from gridledger.ledger.store import ChainStore

    with ChainStore(path) as store:
        p = _period_arg(period, store.genesis.period_s)
        proof = prove_allocation(store, member, p)
    print(proof.to_text())
    return 0 if proof.verify() else 1


def pos_sim(args: argparse.Namespace) -> int:
    """The bidding game sc1–sc4 under both draw rules: Table 4 as distributions, plots, bias."""
    import time

    from gridledger import consensus

    t0 = time.perf_counter()
    frames = [
        consensus.simulate_bidding(
            sc, args.turns, args.seeds, rule, alpha=args.alpha, beta=args.beta, gamma=args.gamma
        )
        for sc in consensus.SCENARIOS
        for rule in ("argmax_w_over_u", "proportional")
    ]
    table = consensus.bidding_table(pl.concat(frames))
    seconds = time.perf_counter() - t0
    with pl.Config(
        tbl_rows=20, tbl_cols=20, tbl_width_chars=200, float_precision=3, tbl_hide_dataframe_shape=True
    ):
        print(
            f"Bidding game (seed 000 §5): {args.seeds} seeds x {args.turns} turns per scenario and rule, "
            f"alpha={args.alpha} beta={args.beta} gamma={args.gamma} ({seconds:.1f} s)"
        )
        print(table)
        print(
            "Seed 000 Table 4 (one run each): sc1 wins 17/485/4/494, stop at 70; sc2 489/16/488/7, 55; "
            "sc3 493/14/491/2, 45; sc4 173/337/188/302, all active at 1000"
        )
        print("How much comes from the bias of argmax W/U (argmax minus proportional):")
        print(consensus.rule_bias(table))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for rule in ("argmax_w_over_u", "proportional"):
            png = consensus.plot_trajectories(
                out / f"trajectories_{rule}.png", seed=args.plot_seed, turns=args.turns, rule=rule
            )
            print(f"plot written to {png}", file=sys.stderr)
        pl.concat(frames).write_parquet(out / "bidding_runs.parquet")
    return 0


def _period_arg(value: str, period_s: int) -> int:
    if value.lstrip("-").isdigit():
        return int(value)
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidArgumentError(
            f"--period must be a period index or an ISO time (2019-06-05T12:00), got {value!r}",
            "period",
            value,
        ) from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return int(ts.timestamp()) // period_s


def ev_sim(args: argparse.Namespace) -> int:
    """``gridledger ev-sim``: the seed-003 microgrid under each scheduler, PF and the bound."""
    import os
    import shutil
    import time

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from gridledger import ev

    names = list(ev.SCHEDULERS) if args.scheduler == "all" else [args.scheduler]
    if "none" not in names:
        names = ["none", *names]
    # Competing miners join the greedy and optimal runs (none stays the unscheduled baseline).
    rivals = tuple(r for r in (args.rivals or "").split(",") if r)
    console = Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")))
    results: dict[str, ev.SimResult] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        disable=args.quiet,
    ) as bar:
        rh_days = args.days if "receding_horizon" in names else 0
        task = bar.add_task("ev-sim", total=len(names) + rh_days + (0 if args.no_bound else args.days))
        for i, name in enumerate(names):
            bar.update(task, description=f"scheduler {name}")
            t0 = time.perf_counter()
            want_bound = i == 0 and not args.no_bound

            def tick(stage: str, done: int, total: int, name: str = name) -> None:
                what = "offline bound" if stage == "bound" else f"scheduler {name}"
                bar.update(task, description=f"{what}, day {done}/{total}", advance=1)

            results[name] = ev.simulate(
                households=args.households,
                capacity_kw=args.capacity_kw,
                evs=args.evs,
                round_minutes=args.round_minutes,
                days=args.days,
                scheduler=name,
                seed=args.seed,
                start=args.start,
                bound=want_bound,
                horizon=args.horizon,
                rivals=rivals if name in ("greedy", "optimal") else (),
                progress=tick,
            )
            print(f"{name}: {time.perf_counter() - t0:.2f} s", file=sys.stderr)
            bar.update(task, advance=1)
    base = results["none"]
    bound, bound_c = base.pf_bound, base.pf_bound_cuberoot
    sc = base.scenario
    t = Table(
        title=f"gridledger ev-sim: {args.households} households, {args.capacity_kw:g} kW, {args.evs} EVs, "
        f"{args.round_minutes}-min rounds, {args.days} day(s) from {sc.start.date()}, "
        f"{len(sc.published):,} transactions"
    )
    for col in ("scheduler", "PF (kW²)", "PF^(1/3)", "vs none", "PF^(1/3) − bound", "schedule s"):
        t.add_column(col, justify="left" if col == "scheduler" else "right")
    c0 = base.pf_cuberoot
    for name, r in results.items():
        gap = "" if np.isnan(bound_c) else f"{r.pf_cuberoot - bound_c:.2f}"
        t.add_row(
            name,
            f"{r.pf:,.1f}",
            f"{r.pf_cuberoot:.2f}",
            f"{100 * (r.pf_cuberoot / c0 - 1):+.1f} %" if name != "none" else "",
            gap,
            f"{r.seconds:.2f}",
        )
    if not np.isnan(bound):
        t.add_row(
            "offline bound (QP)",
            f"{bound:,.1f}",
            f"{bound_c:.2f}",
            f"{100 * (bound_c / c0 - 1):+.1f} %",
            "0",
            "",
        )
    width = max(100, shutil.get_terminal_size((100, 24)).columns)
    Console(no_color=bool(os.environ.get("NO_COLOR")), width=width).print(t)
    for name, r in results.items():
        if len(r.wins) > 1:
            won = ", ".join(f"{k} {v}" for k, v in r.wins.items())
            print(f"{name} against rivals, rounds won per miner: {won}")
    if args.plots:
        shown = results[names[-1]]
        for path in ev.plot_result(shown, args.plots):
            print(f"wrote {path}", file=sys.stderr)
    if args.rounds:
        frames = [r.rounds.with_columns(pl.lit(n).alias("scheduler")) for n, r in results.items()]
        pl.concat(frames).write_parquet(args.rounds)
        print(f"per-round frames written to {args.rounds}", file=sys.stderr)
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gridledger", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--version", action="version", version=f"gridledger {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="sign a day of bundled meter readings and prove one is in a Merkle tree")
    d.add_argument(
        "--date",
        type=date.fromisoformat,
        default=date(2019, 6, 21),
        help="a day of 2019 (default 2019-06-21)",
    )
    d.add_argument("--index", type=int, default=12, help="which reading to prove (default 12: noon UTC)")
    d.add_argument(
        "--algorithm",
        choices=["sha256", "blake3"],
        default="sha256",
        help="Merkle hash (default sha256)",
    )
    sim = sub.add_parser(
        "simulate", help="run a community on a chain over the bundled data, store it in SQLite"
    )
    sim.add_argument("--members", type=int, default=50, help="members (default 50)")
    sim.add_argument("--pv-units", type=int, default=10, help="PV units of the VPP (default 10)")
    sim.add_argument("--kwp", type=float, default=10.0, help="kWp per PV unit (default 10)")
    sim.add_argument("--v-wh", type=int, default=100, help="cryptometer quantum V in Wh (default 100)")
    sim.add_argument(
        "--period-minutes", type=int, default=15, choices=[5, 15, 30, 60], help="market period (default 15)"
    )
    sim.add_argument("--days", type=float, default=7, help="days to run (default 7)")
    sim.add_argument(
        "--start",
        type=date.fromisoformat,
        default=date(2019, 6, 3),
        help="first day, in 2019 (default 2019-06-03)",
    )
    sim.add_argument(
        "--repartition", default="pro_rata", choices=["pro_rata", "equal"], help="VPP rule (default pro_rata)"
    )
    sim.add_argument(
        "--algorithm", default="blake3", choices=["blake3", "sha256"], help="chain hash (default blake3)"
    )
    sim.add_argument("--seed", type=int, default=0, help="seed of keys and member variation (default 0)")
    sim.add_argument(
        "--consensus",
        default="auction",
        choices=["auction", "round_robin"],
        help="block producer rule (default auction: the proof-of-stake auction)",
    )
    sim.add_argument(
        "--draw",
        default="argmax_w_over_u",
        choices=["argmax_w_over_u", "proportional"],
        help="the auction's draw rule (default argmax_w_over_u, the seeds' rule)",
    )
    sim.add_argument(
        "--out",
        default="gridledger-chain.sqlite",
        help="SQLite file (default gridledger-chain.sqlite; "
        "an existing gridledger chain there is replaced, any other file is left alone)",
    )
    sim.add_argument("--market-face", metavar="PARQUET", help="also write the market-face meters (off chain)")
    sim.add_argument(
        "--market",
        choices=["call", "cda", "mcp"],
        help="members trade surplus virtual generation each period through this mechanism (default: none)",
    )
    sim.add_argument("--quiet", action="store_true", help="no progress bar")
    ver = sub.add_parser("verify", help="re-verify a stored chain from genesis")
    ver.add_argument("file", help="a chain written by gridledger simulate")
    pr = sub.add_parser("prove", help="a member's allocation in a period, with its inclusion proofs")
    pr.add_argument("file", help="a chain written by gridledger simulate")
    pr.add_argument("--member", required=True, help="member label (m007), index or public key hex")
    pr.add_argument("--period", required=True, help="period index, or an ISO UTC time inside the period")
    ps = sub.add_parser(
        "pos-sim", help="the proof-of-stake bidding game sc1-sc4 over many seeds, both draw rules"
    )
    ps.add_argument("--seeds", type=int, default=1000, help="runs per scenario and rule (default 1000)")
    ps.add_argument("--turns", type=int, default=1000, help="turns per run (default 1000)")
    ps.add_argument("--alpha", type=float, default=0.3, help="weight of tokens offered (default 0.3)")
    ps.add_argument("--beta", type=float, default=0.6, help="weight of age (default 0.6)")
    ps.add_argument("--gamma", type=float, default=0.1, help="weight of reputation (default 0.1)")
    ps.add_argument("--out", metavar="DIR", help="write trajectory plots (PNG) and every run (Parquet) here")
    ps.add_argument("--plot-seed", type=int, default=0, help="the run the plots show (default 0)")
    ev = sub.add_parser(
        "ev-sim", help="EV charging by proof of benefit (seed 003): PF per scheduler and the offline bound"
    )
    ev.add_argument("--households", type=int, default=200, help="households (default 200)")
    ev.add_argument("--capacity-kw", type=float, default=800.0, help="feeder capacity in kW (default 800)")
    ev.add_argument("--evs", type=int, default=100, help="EVs (default 100)")
    ev.add_argument("--round-minutes", type=int, default=5, help="round (block) length (default 5)")
    ev.add_argument("--days", type=int, default=1, help="days to run (default 1)")
    ev.add_argument("--start", default=None, help="first day, UTC (default the load's first day: 2019-01-01)")
    ev.add_argument(
        "--scheduler",
        default="all",
        choices=["all", "none", "greedy", "optimal", "receding_horizon"],
        help="the scheduler to run besides none (default all)",
    )
    ev.add_argument(
        "--horizon", type=int, default=12, help="look-ahead rounds of receding_horizon (default 12)"
    )
    ev.add_argument(
        "--rivals",
        metavar="LIST",
        help="competing miners for the greedy and optimal runs, comma-separated (none, greedy, optimal): "
        "each round the block of highest λ wins",
    )
    ev.add_argument("--seed", type=int, default=0, help="seed of the fleet and its transactions (default 0)")
    ev.add_argument("--no-bound", action="store_true", help="skip the offline QP bound")
    ev.add_argument(
        "--plots", metavar="DIR", help="write the seed's figures (PNG) for the last scheduler here"
    )
    ev.add_argument("--rounds", metavar="PARQUET", help="write every scheduler's per-round frame here")
    ev.add_argument("--quiet", action="store_true", help="no progress bar")
    dp = sub.add_parser("data", help="inspect ENTSO-E / OPSD load files")
    dsub = dp.add_subparsers(dest="data_command", required=True)
    ins = dsub.add_parser("inspect", help="areas, span, resolution, gaps and missing counts of a file")
    ins.add_argument(
        "file", help="a Transparency Platform export, OPSD CSV or entsoe-py dump (.csv or .csv.gz)"
    )
    ins.add_argument("--area", help="area code when neither header nor file name carries it")
    ins.add_argument("--plot", metavar="PNG", help="also plot a week of the file to this PNG")
    ins.add_argument(
        "--week",
        type=date.fromisoformat,
        help="first day of the plotted week (default: the file's first day)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gridledger`` command."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            return demo(args.date, args.index, args.algorithm)
        if args.command == "data":
            return data_inspect(args.file, args.area, args.plot, args.week)
        if args.command == "simulate":
            return simulate(args)
        if args.command == "verify":
            return verify_chain(args.file)
        if args.command == "prove":
            return prove(args.file, args.member, args.period)
        if args.command == "pos-sim":
            return pos_sim(args)
        if args.command == "ev-sim":
            return ev_sim(args)
    except GridLedgerError as e:
        print(f"error: {e}", file=sys.stderr)
        print(f"hint: run `gridledger {args.command} --help` for the accepted values", file=sys.stderr)
        return 2
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
