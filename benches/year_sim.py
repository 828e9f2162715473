"""A community simulated and stored for a year: the issue's throughput and store-size target.

Target (issue: community ledger): one year (35 040 periods of 15 minutes) of a
200-member community with 40 PV units simulated and stored in at most 10
minutes on this machine, at most 2 KB per transaction on disk.

Usage::

    python benches/year_sim.py --members 200 --pv-units 40 --days 365 --out /tmp/year.sqlite

PV stays proportional to the members unless ``--pv-units`` is given: one
10 kWp unit per 5 members. Prints one JSON line on stdout: the run's
figures (seconds, blocks/s, tx/s), the store's size on disk after closing
(the WAL checkpointed into the file), bytes per transaction, the peak RSS,
and how many cores other processes kept busy meanwhile (``foreign_cpu``, from
/proc/stat: the machine is shared).
``--profile FILE`` writes cProfile statistics of the run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gridledger.community import Community, simulate


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine spent not idle (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, f.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def run(
    members: int,
    pv_units: int | None,
    days: float,
    out: Path,
    start: datetime,
    profile: Path | None = None,
    consensus: str = "round_robin",
) -> dict[str, Any]:
    from gridledger.ledger import Consensus

    units = members // 5 if pv_units is None else pv_units
    community = Community.default(
        members=members,
        pv_units=units,
        kwp=10.0,
        consensus=Consensus(producer_rule=consensus),  # type: ignore[arg-type]
    )
    b0, c0, t0 = busy_cpu_seconds(), time.process_time(), time.perf_counter()
    if profile is None:
        result = simulate(community, start=start, days=days, store=out)
    else:
        import cProfile

        with cProfile.Profile() as prof:
            result = simulate(community, start=start, days=days, store=out)
        prof.dump_stats(profile)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    foreign = max(0.0, busy_cpu_seconds() - b0 - cpu) / wall
    s = result.summary()
    tx = result.transactions
    on_disk = sum(p.stat().st_size for p in (out, Path(f"{out}-wal")) if p.exists())
    return {
        "members": members,
        "pv_units": units,
        "days": days,
        "start": start.date().isoformat(),
        "periods": len(result.periods),
        "blocks": result.blocks,
        "transactions": tx,
        "creates": result.creates,
        "transfers": result.transfers,
        "signatures_verified": result.signatures_verified,
        "kwh_distributed": s["kwh_distributed"],
        "seconds": round(result.seconds, 2),
        "wall_seconds": round(wall, 2),
        "blocks_per_s": round(result.blocks / result.seconds, 1),
        "tx_per_s": round(tx / result.seconds, 1),
        "store_bytes": on_disk,
        "store_bytes_open": result.store_bytes,
        "bytes_per_tx": round(on_disk / tx, 1) if tx else None,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "tip_hash": result.chain.tip_hash.hex(),
        # What the chain state holds at the end (n_ids: absent before bounded memory).
        "n_utxo": result.chain._state.n_utxo,
        "n_ids": getattr(result.chain._state, "n_ids", None),
        "cpu_seconds": round(cpu, 2),
        "cpu_per_wall": round(cpu / wall, 2),
        "foreign_cpu": round(foreign, 2),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--members", type=int, default=200)
    ap.add_argument("--pv-units", type=int, default=None, help="default: members / 5")
    ap.add_argument("--days", type=float, default=365)
    ap.add_argument("--start", default="2019-01-01", help="UTC date (the bundled data covers 2019)")
    ap.add_argument("--out", type=Path, required=True, help="the SQLite file (replaced if a chain)")
    ap.add_argument("--profile", type=Path, default=None, help="write cProfile statistics here")
    ap.add_argument(
        "--consensus",
        default="round_robin",
        choices=["round_robin", "auction"],
        help="block producers (default round_robin, the community-ledger issue's setting)",
    )
    a = ap.parse_args(argv)
    start = datetime.fromisoformat(a.start).replace(tzinfo=UTC)
    print(json.dumps(run(a.members, a.pv_units, a.days, a.out, start, a.profile, a.consensus)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
