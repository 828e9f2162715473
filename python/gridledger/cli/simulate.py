"""``gridledger simulate``: run a community on a chain over the bundled data, store it in SQLite."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from gridledger.cli.common import Command


def run(args: argparse.Namespace) -> int:
    """Run a community on a chain and print the summary table."""
    from gridledger.community import Community
    from gridledger.community import simulate as simulate_community

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
    result = simulate_community(
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


def configure(sim: argparse.ArgumentParser) -> None:
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


COMMAND = Command(
    "simulate", "run a community on a chain over the bundled data, store it in SQLite", configure, run
)
