"""Issue 18 §2, before and after: one workload of the batched boundary, timed in this interpreter.

Run it once per wheel, alternating, from a folder that holds no ``gridledger``
(``PYTHONPATH`` picks the wheel)::

    for i in 1 2 3; do for v in old new; do
        PYTHONPATH=/tmp/bw/$v nice python benches/boundary_ab.py community --tag $v
    done; done

Workloads: ``community`` (200 members, 40 PV units, ``--days`` days (30) from
2019-06-01, round robin: the §5.2 community for a month), ``default`` (what a plain
``gridledger simulate`` runs: 50 members, 10 PV units, 7 days, the auction)
and ``micro`` (``tx_ids`` of 10^3 whole transactions, ``block_hashes`` of a
stored week (673 headers), and 10^3 Transfers / Candidates encoded one call each or in one
batch call where the wheel has it). Prints one JSON line; ``log_root`` lets
two wheels' runs be compared for identical chains.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from gridledger import _core
from gridledger.community import Community, simulate
from gridledger.ledger import ChainStore, Consensus, tx_ids


def community(
    members: int, pv: int, days: float, start: datetime, rule: Literal["round_robin", "auction"], out: Path
) -> dict[str, Any]:
    c = Community.default(members, pv, consensus=Consensus(producer_rule=rule))
    t0 = time.perf_counter()
    r = simulate(c, start, days, store=out)
    s = time.perf_counter() - t0
    with ChainStore(out) as st:
        root = st.chain.log_root().hex()
    return {"seconds": s, "blocks": r.blocks, "tx": r.transactions, "log_root": root}


def best(fn: Any, reps: int) -> float:
    """Median seconds of ``reps`` calls."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def micro(tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    path = tmp / "m.sqlite"
    community(50, 10, 7, datetime(2019, 6, 1, tzinfo=UTC), "round_robin", path)
    with ChainStore(path) as st:
        blocks = [st.block(h) for h in range(1, st.height + 1)]
        txs = [t for b in blocks for t in b.txs][:1000]
        out["tx_ids_1000_s"] = best(lambda: tx_ids(txs), 50)
        out["block_hashes_s"] = best(st.block_hashes, 10)
        out["blocks"] = st.height + 1
    rng = np.random.default_rng(0)
    n = 1000
    tag = bytes(8)
    signers = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    txids = rng.integers(0, 256, (2 * n, 32), dtype=np.uint8)
    idx = np.tile(np.arange(2, dtype=np.int64), n)
    owners = rng.integers(0, 256, (2 * n, 32), dtype=np.uint8)
    assets = np.tile(np.array([0, 1], np.uint8), n)
    amounts = rng.integers(1, 10**6, 2 * n, dtype=np.int64)
    expires = np.full(2 * n, 2**64 - 1, np.uint64)
    two = np.arange(n + 1, dtype=np.int64) * 2

    def per_transfer() -> None:
        for i in range(n):
            a, b = 2 * i, 2 * i + 2
            ins, outs = (txids[a:b], idx[a:b]), (owners[a:b], assets[a:b], amounts[a:b], expires[a:b])
            _core.encode_transfer(tag, 7, signers[i : i + 1], *(ins + outs))

    def per_candidate() -> None:
        for i in range(n):
            a, b = 2 * i, 2 * i + 2
            _core.encode_auction_tx(
                "candidate", tag, 7, bytes(signers[i]), txids[a:b], idx[a:b], owners[a:b], assets[a:b],
                amounts[a:b], expires[a:b], sent_ms=5,
            )  # fmt: skip

    out["transfers_1000_per_item_s"] = best(per_transfer, 10)
    out["candidates_1000_per_item_s"] = best(per_candidate, 10)
    if hasattr(_core, "encode_transfers"):
        one = np.arange(n + 1, dtype=np.int64)
        cols = (two, txids, idx, two, owners, assets, amounts, expires)
        sent = np.full(n, 5, np.int64)
        out["transfers_1000_batch_s"] = best(lambda: _core.encode_transfers(tag, 7, one, signers, *cols), 50)
        out["candidates_1000_batch_s"] = best(
            lambda: _core.encode_candidates(tag, 7, signers, sent, *cols), 50
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("workload", choices=["community", "default", "micro"])
    ap.add_argument("--tag", default="")
    ap.add_argument("--days", type=float, default=30, help="days of the community workload (default 30)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if a.workload == "community":
            start = datetime(2019, 6, 1, tzinfo=UTC)
            res = community(200, 40, a.days, start, "round_robin", tmp / "c.sqlite")
        elif a.workload == "default":
            res = community(50, 10, 7, datetime(2019, 6, 3, tzinfo=UTC), "auction", tmp / "d.sqlite")
        else:
            res = micro(tmp)
    print(json.dumps({"workload": a.workload, "tag": a.tag, "module": _core.__file__, **res}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
