"""The project's performance gate: instruction counts of each hot path under callgrind.

Wall time on a shared machine is noise; the number of instructions a call
executes is not (to a fraction of a percent). The gate runs :func:`driver`
once under ``valgrind --tool=callgrind``, single-threaded
(``RAYON_NUM_THREADS=1``, ``PYTHONHASHSEED=0``), with
``--dump-before=getppid``: the driver calls ``os.getppid()`` between the
phases of each workload, so callgrind writes one cost dump per phase —
setup, a warm-up call, the measured call — summed over all threads. The
measured call's dump is the workload's count: interpreter start-up, imports,
input generation and first-call effects (the pool's start, lazy tables) all
fall in the other dumps.

A count that grows past :data:`TOLERANCE` over the committed baseline
(``benches/gate/baseline.json``) fails the gate, printing old, new and the
ratio, and the command that re-records the baseline after an intended change
(``bash scripts/gate.sh --record``).

``GRIDLEDGER_GATE_SLOWDOWN=1`` is a test-only switch read by the driver:
``hash_many`` then hashes every record twice (an extra hash per item), so a
test can show the gate failing on a regression.

Usage: ``python -m gridledger.bench.gate check|record|driver [--baseline FILE] [--workloads a,b]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: A count may grow by this fraction before the gate fails.
TOLERANCE = 0.03
#: How to re-record the baseline after an intended change.
RECORD = "bash scripts/gate.sh --record"
#: How the project's scripts install valgrind (Debian).
INSTALL = "apt-get update && apt-get install -y valgrind"
SLOWDOWN = "GRIDLEDGER_GATE_SLOWDOWN"


def _hash_many() -> Callable[[], object]:
    from gridledger import hashing

    recs = np.random.default_rng(1).integers(0, 256, size=(1 << 14, 64), dtype=np.uint8)
    if os.environ.get(SLOWDOWN) == "1":
        return lambda: hashing.hash_many(hashing.hash_many(recs, algorithm="blake3"), algorithm="blake3")
    return lambda: hashing.hash_many(recs, algorithm="blake3")


def _merkle_build() -> Callable[[], object]:
    from gridledger import merkle

    leaves = np.random.default_rng(2).integers(0, 256, size=(1 << 12, 32), dtype=np.uint8)
    return lambda: merkle.MerkleTree(leaves, algorithm="sha256").root


def _merkle_proofs() -> Callable[[], object]:
    from gridledger import merkle

    leaves = np.random.default_rng(2).integers(0, 256, size=(1 << 12, 32), dtype=np.uint8)
    tree = merkle.MerkleTree(leaves, algorithm="sha256")
    idx = np.arange(0, 1 << 12, 16, dtype=np.int64)
    hashes = np.frombuffer(b"".join(tree.leaf_hash(int(i)) for i in idx), np.uint8).reshape(-1, 32)
    root = tree.root
    return lambda: merkle.verify_inclusion_batch(hashes, tree.inclusion_proofs(idx), root)


def _verify_batch() -> Callable[[], object]:
    from gridledger import keys

    rng = np.random.default_rng(25519)
    signers = [keys.SigningKey.from_seed(rng.bytes(32)) for _ in range(64)]
    msgs = [f"meter {i:07d} import {i} Wh".encode() for i in range(64)]
    sigs = [k.sign(m) for k, m in zip(signers, msgs, strict=True)]
    pks = [k.public_key for k in signers]
    return lambda: keys.verify_batch(pks, msgs, sigs)


def _block_validation() -> Callable[[], object]:
    from gridledger.bench.workloads import ledger_block

    return ledger_block(64)[0]


def _auction_draw() -> Callable[[], object]:
    from gridledger.consensus import draw

    rng = np.random.default_rng(11)
    w = rng.uniform(0.1, 10.0, 1 << 14)
    keys = rng.integers(0, 256, size=(1 << 14, 32), dtype=np.uint8)
    return lambda: draw(w, bytes(32), 7, keys)


def _order_book() -> Callable[[], object]:
    from gridledger.bench.workloads import order_stream
    from gridledger.market import OrderBook

    ops = order_stream(2_000)
    return lambda: OrderBook().replay(ops)


def _powerchain() -> Callable[[], object]:
    from gridledger.bench.workloads import powerchain_chain
    from gridledger.powerchain import PowerChain

    genesis, blocks = powerchain_chain(200)
    return lambda: PowerChain.replay(genesis, blocks)


#: The gated hot paths, each at its fixed small size.
GATED: dict[str, Callable[[], Callable[[], object]]] = {
    "hash_many": _hash_many,
    "merkle_build": _merkle_build,
    "merkle_proofs": _merkle_proofs,
    "verify_batch": _verify_batch,
    "block_validation": _block_validation,
    "auction_draw": _auction_draw,
    "order_book_replay": _order_book,
    "powerchain_replay": _powerchain,
}
#: n of each gated workload (its elements per call, as in the suite).
GATE_N: dict[str, int] = {
    "hash_many": 1 << 14,
    "merkle_build": 1 << 12,
    "merkle_proofs": 256,
    "verify_batch": 64,
    "block_validation": 64,
    "auction_draw": 1 << 14,
    "order_book_replay": 2_000,
    "powerchain_replay": 200,
}


def driver(names: Sequence[str]) -> None:
    """Run each workload as setup | warm-up | measured, with ``os.getppid()`` between phases."""
    for name in names:
        fn = GATED[name]()
        os.getppid()
        fn()
        os.getppid()
        fn()
        os.getppid()


class GateError(Exception):
    """The gate cannot run (valgrind missing, a driver that failed): what, and what to do."""

    def __init__(self, what: str, hint: str) -> None:
        super().__init__(what)
        self.what, self.hint = what, hint


def valgrind() -> str:
    """Path of ``valgrind``; :class:`GateError` naming how to install it when it is missing."""
    path = shutil.which("valgrind")
    if path is None:
        raise GateError(
            "valgrind is not installed: the performance gate counts instructions with callgrind",
            f"run `bash scripts/gate.sh` (it installs valgrind as root with `{INSTALL}`), or install it so",
        )
    return path


def _segments(folder: Path, prefix: str) -> list[int]:
    """Ir of each dump callgrind wrote (``prefix.N``, N from 1, then ``prefix`` at exit), in order."""
    files = sorted(folder.glob(f"{prefix}.*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))
    files.append(folder / prefix)  # the last dump, at exit
    out = []
    for f in files:
        for line in f.read_text(errors="replace").splitlines():
            if line.startswith(("summary:", "totals:")):
                out.append(int(line.split()[1]))
                break
    return out


def measure(names: Sequence[str], env: dict[str, str] | None = None) -> dict[str, int]:
    """Instructions of the measured call of each workload, one callgrind run of :func:`driver`."""
    vg = valgrind()
    run_env = {**os.environ, **(env or {}), "RAYON_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    with tempfile.TemporaryDirectory(prefix="gridledger-gate-") as tmp:
        folder = Path(tmp)
        cmd = [
            vg, "--tool=callgrind", "--dump-before=getppid", "--dump-instr=no", "--compress-strings=no",
            f"--callgrind-out-file={folder}/cg.out", sys.executable, "-m", "gridledger.bench.gate",
            "driver", "--workloads", ",".join(names),
        ]  # fmt: skip
        out = subprocess.run(cmd, env=run_env, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise GateError(
                f"the gate's driver failed under valgrind (exit {out.returncode}):\n{out.stderr[-3000:]}",
                "run the driver without valgrind: python -m gridledger.bench.gate driver",
            )
        segs = _segments(folder, "cg.out")
    # Dumps: 3 per workload (setup, warm-up, measured), then the rest of the run at exit.
    if len(segs) != 3 * len(names) + 1:
        raise GateError(
            f"callgrind wrote {len(segs)} dumps, expected {3 * len(names) + 1}: "
            "something else called getppid",
            "report this: the driver's phase markers need another function",
        )
    return {name: segs[3 * i + 2] for i, name in enumerate(names)}


def check(baseline: dict[str, int], counts: dict[str, int], tolerance: float = TOLERANCE) -> list[str]:
    """Lines for every count past ``tolerance`` over its baseline (empty: the gate passes)."""
    bad = []
    for name, new in counts.items():
        old = baseline.get(name)
        if old is None:
            bad.append(f"{name}: no baseline (new workload); record one with `{RECORD}`")
        elif new > old * (1 + tolerance):
            bad.append(
                f"{name}: old {old:,} new {new:,} instructions, ratio {new / old:.4f} (> {1 + tolerance:.2f})"
            )
    return bad


def _table(baseline: dict[str, int], counts: dict[str, int]) -> str:
    lines = [f"{'workload':<20} {'baseline':>15} {'now':>15} {'ratio':>8}"]
    for name, new in counts.items():
        old = baseline.get(name)
        ratio = f"{new / old:.4f}" if old else "-"
        lines.append(f"{name:<20} {old or 0:>15,} {new:>15,} {ratio:>8}")
    return "\n".join(lines)


def _measure_or_say(names: Sequence[str]) -> dict[str, int] | None:
    try:
        return measure(names)
    except GateError as e:
        print(f"error: {e.what}", file=sys.stderr)
        print(f"hint: {e.hint}", file=sys.stderr)
        return None


def _record(names: Sequence[str], path: Path) -> int:
    counts = _measure_or_say(names)
    if counts is None:
        return 2
    if path.is_file() and set(names) != set(GATED):
        counts = {**json.loads(path.read_text())["counts"], **counts}  # re-record only these
    doc: dict[str, Any] = {
        "tolerance": TOLERANCE,
        "arch": platform.machine(),
        "note": "instructions of one call, callgrind, RAYON_NUM_THREADS=1; re-record: " + RECORD,
        "counts": counts,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
    print(_table(counts, counts))
    print(f"baseline written to {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``check`` (exit 1 on a regression, 2 when the gate cannot run), ``record`` or ``driver``."""
    p = argparse.ArgumentParser(prog="python -m gridledger.bench.gate", description=__doc__)
    p.add_argument("action", choices=("check", "record", "driver"))
    p.add_argument("--baseline", type=Path, default=Path("benches/gate/baseline.json"))
    p.add_argument("--workloads", default=",".join(GATED))
    args = p.parse_args(argv)
    names = [n for n in args.workloads.split(",") if n]
    unknown = [n for n in names if n not in GATED]
    if unknown:
        print(f"error: unknown gate workload(s) {', '.join(unknown)}", file=sys.stderr)
        print(f"hint: use some of {', '.join(GATED)}", file=sys.stderr)
        return 2
    if args.action == "driver":
        driver(names)
        return 0
    if args.action == "record":
        return _record(names, args.baseline)
    if not args.baseline.is_file():
        print(f"error: no gate baseline at {args.baseline}", file=sys.stderr)
        print(f"hint: record one with `{RECORD}`", file=sys.stderr)
        return 2
    recorded = json.loads(args.baseline.read_text())
    if recorded.get("arch") != platform.machine():
        print(
            f"error: the baseline {args.baseline} was recorded on {recorded.get('arch')}, this is "
            f"{platform.machine()}: instruction counts differ between architectures",
            file=sys.stderr,
        )
        print(
            f"hint: compare on {recorded.get('arch')}, or record a baseline here with `{RECORD}`",
            file=sys.stderr,
        )
        return 2
    counts = _measure_or_say(names)
    if counts is None:
        return 2
    baseline = {k: int(v) for k, v in recorded["counts"].items()}
    print(_table(baseline, counts))
    bad = check(baseline, counts)
    if bad:
        print(f"performance gate FAILED (tolerance {TOLERANCE:.0%}):", file=sys.stderr)
        for line in bad:
            print(f"  {line}", file=sys.stderr)
        print(f"if the change is intended, re-record the baseline: {RECORD}", file=sys.stderr)
        return 1
    print(f"performance gate passed: every count within {TOLERANCE:.0%} of {args.baseline}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
