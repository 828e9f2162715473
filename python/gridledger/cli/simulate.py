"""``gridledger simulate``: run a community on a chain over the bundled data, store it in SQLite."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from gridledger.cli.common import (
    ANY_FIRST_DAY,
    ANY_LAST_DAY,
    INT_MAX,
    Command,
    Day,
    Float,
    Int,
    OutFile,
    UsageError,
    add_data_options,
    add_overwrite,
    check_distinct,
    check_outputs,
    run_data,
)
from gridledger.errors import BadDataError

#: Most members one run may have (each is a key, a genesis entry and a column of every period).
MAX_MEMBERS = 100_000
#: Most PV units one run may have.
MAX_PV_UNITS = 10_000
#: Most kWp per PV unit (100 MW): keeps every period's energy far inside int64 Wh.
MAX_KWP = 100_000.0
#: Most (members + PV units) × periods one run may hold: about 1 GB of store and
#: half an hour of run time at the top; checked before anything is allocated.
MAX_CELLS = 10_000_000


def _check(args: argparse.Namespace) -> int:
    """Everything that spans several arguments, before any work; returns the periods of the run."""
    days: float = args.days
    minutes: int = args.period_minutes
    periods = round(days * 24 * 60 / minutes)
    if periods < 1:
        raise UsageError(
            f"--days {args.days:g} is shorter than one {args.period_minutes}-minute period",
            f"give --days at least {args.period_minutes / 1440:.4g} (one period), e.g. --days 1",
        )
    cells = (args.members + args.pv_units) * periods
    if cells > MAX_CELLS:
        most = MAX_CELLS // periods - args.pv_units
        raise UsageError(
            f"{args.members:,} members and {args.pv_units:,} PV units over {periods:,} periods are "
            f"{cells:,} meter-periods, more than the {MAX_CELLS:,} one run may hold",
            f"run fewer days or members: over {periods:,} periods at most {max(most, 0):,} members "
            f"with {args.pv_units:,} PV units",
        )
    check_distinct({"--out": args.out, "--market-face": args.market_face})
    if args.out.exists():
        from gridledger.ledger.store import ChainStore

        try:
            ChainStore(args.out).close()  # reads only: never modifies a file that is not a chain
        except BadDataError:
            raise UsageError(
                f"--out: {args.out} exists and is not a gridledger chain",
                "choose another --out: simulate replaces only a chain it wrote, never another file",
            ) from None
    check_outputs("--market-face", [args.market_face] if args.market_face else [], args.overwrite)
    args.load_frame, args.solar_frame = run_data(args, args.start, periods * minutes / 1440, solar=True)
    return periods


def run(args: argparse.Namespace) -> int:
    """Run a community on a chain and print the summary table."""
    from gridledger.community import Community
    from gridledger.community import simulate as simulate_community
    from gridledger.ledger import Consensus

    _check(args)
    start = datetime(args.start.year, args.start.month, args.start.day, tzinfo=UTC)

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
    out: Path = args.out
    result = simulate_community(
        community,
        start,
        args.days,
        store=out,
        overwrite=True,
        progress=not args.quiet,
        market=args.market,
        load=args.load_frame,
        solar=args.solar_frame,
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


def configure(sim: argparse.ArgumentParser) -> None:
    """Add the options of ``gridledger simulate`` to ``sim``."""
    sim.add_argument(
        "--members",
        type=Int(f"give 1 … {MAX_MEMBERS:,} members, e.g. --members 50", lo=1, hi=MAX_MEMBERS),
        default=50,
        help=f"members, 1 … {MAX_MEMBERS:,} (default 50)",
    )
    sim.add_argument(
        "--pv-units",
        type=Int(f"give 0 … {MAX_PV_UNITS:,} PV units, e.g. --pv-units 10", lo=0, hi=MAX_PV_UNITS),
        default=10,
        help=f"PV units of the VPP, 0 … {MAX_PV_UNITS:,} (default 10)",
    )
    sim.add_argument(
        "--kwp",
        type=Float(f"give each PV unit's peak power in kW, e.g. --kwp 10 (at most {MAX_KWP:g})", hi=MAX_KWP),
        default=10.0,
        help=f"kWp per PV unit, > 0 and ≤ {MAX_KWP:g} (default 10)",
    )
    sim.add_argument(
        "--v-wh",
        type=Int("give the quantum in whole Wh, 1 … 1000000, e.g. --v-wh 100", lo=1, hi=1_000_000),
        default=100,
        help="cryptometer quantum V in Wh, 1 … 10^6 (default 100)",
    )
    sim.add_argument(
        "--period-minutes",
        type=Int("give one of 5, 15, 30, 60, e.g. --period-minutes 15", lo=1, hi=60),
        default=15,
        choices=[5, 15, 30, 60],
        help="market period (default 15)",
    )
    sim.add_argument(
        "--days",
        type=Float("give the run's length in days, > 0 and ≤ 365, e.g. --days 7 or --days 0.5", hi=365),
        default=7,
        help="days to run, > 0 and ≤ 365; the data must cover the run (default 7)",
    )
    sim.add_argument(
        "--start",
        type=Day("give a day YYYY-MM-DD that the load data covers", lo=ANY_FIRST_DAY, hi=ANY_LAST_DAY),
        default=date(2019, 6, 3),
        help="first day, UTC, inside the data (default 2019-06-03; the bundled data covers 2019)",
    )
    add_data_options(sim, solar=True)
    sim.add_argument(
        "--repartition", default="pro_rata", choices=["pro_rata", "equal"], help="VPP rule (default pro_rata)"
    )
    sim.add_argument(
        "--algorithm", default="blake3", choices=["blake3", "sha256"], help="chain hash (default blake3)"
    )
    sim.add_argument(
        "--seed",
        type=Int("give a whole number 0 … 2^63 − 1, e.g. --seed 7", hi=INT_MAX),
        default=0,
        help="seed of keys and member variation, 0 … 2^63 − 1 (default 0)",
    )
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
        type=OutFile("give --out a file in an existing folder"),
        default="gridledger-chain.sqlite",
        help="SQLite file (default gridledger-chain.sqlite; "
        "an existing gridledger chain there is replaced, any other file is left alone)",
    )
    sim.add_argument(
        "--market-face",
        type=OutFile("give --market-face a Parquet file in an existing folder"),
        metavar="PARQUET",
        help="also write the market-face meters (off chain)",
    )
    sim.add_argument(
        "--market",
        choices=["call", "cda", "mcp"],
        help="members trade surplus virtual generation each period through this mechanism (default: none)",
    )
    add_overwrite(sim)
    sim.add_argument("--quiet", action="store_true", help="no progress bar")


COMMAND = Command(
    "simulate",
    "run a community on a chain over real load data, store it in SQLite",
    configure,
    run,
    {
        "start": "choose --start and --days so the run stays inside the span the data covers",
        "path": "choose another --out: simulate replaces only a chain it wrote, never another file",
        "members": f"give 1 … {MAX_MEMBERS:,} members and 0 … {MAX_PV_UNITS:,} PV units",
    },
)
