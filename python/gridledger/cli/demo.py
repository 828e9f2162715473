"""``gridledger demo``: sign a day of bundled meter readings and prove one is in a Merkle tree."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, timedelta

import polars as pl

from gridledger import __version__, data, hashing, keys, merkle
from gridledger.cli.common import Command, Day, Int
from gridledger.errors import InvalidArgumentError
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


def configure(d: argparse.ArgumentParser) -> None:
    """Add the options of ``gridledger demo`` to ``d``."""
    d.add_argument(
        "--date",
        type=Day(
            "give a day of the bundled sample, 2019-01-01 … 2019-12-31, e.g. --date 2019-06-21",
            lo=date(2019, 1, 1),
            hi=date(2019, 12, 31),
        ),
        default=date(2019, 6, 21),
        help="a day of 2019 (default 2019-06-21)",
    )
    d.add_argument(
        "--index",
        type=Int("give the hour of the reading, 0 … 23 (UTC), e.g. --index 12", hi=23),
        default=12,
        help="which reading to prove, 0 … 23 (default 12: noon UTC)",
    )
    d.add_argument(
        "--algorithm",
        choices=["sha256", "blake3"],
        default="sha256",
        help="Merkle hash (default sha256)",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``gridledger demo``; returns the exit status."""
    return demo(args.date, args.index, args.algorithm)


COMMAND = Command(
    "demo",
    "sign a day of bundled meter readings and prove one is in a Merkle tree",
    configure,
    run,
    {
        "date": "give --date a day of 2019, e.g. --date 2019-06-21",
        "index": "give --index an hour of the day, 0 … 23",
    },
)
