"""Running the suite: rounds that alternate ours and each peer, machine facts, the JSON document.

The JSON schema (``schema_version`` :data:`SCHEMA_VERSION`) is documented in
``docs/bench.md``; :func:`gridledger.bench.compare.load` refuses any other version.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gridledger.bench.workloads import SIZES, WORKLOADS, Prepared
from gridledger.errors import InvalidArgumentError

#: Version of the JSON document; bumped on any change a reader must know about.
SCHEMA_VERSION = 1
#: The ``schema`` field of every document.
SCHEMA_NAME = "gridledger-bench"

#: Rounds at each size (a round is one call of ours and one of each peer), and
#: the seconds after which a workload stops adding rounds (at least 3 then).
_ROUNDS = {"smoke": 1, "default": 5, "large": 7}
_BUDGET_S = {"smoke": 0.0, "default": 20.0, "large": 60.0}

#: CPU flags that change which code paths the core takes.
FLAGS = ("avx2", "avx512f", "avx512vl", "avx512ifma", "sha_ni", "bmi2", "adx", "neon", "sha2")


def check_names(names: Sequence[str] | None) -> list[str]:
    """Return the workloads to run, in suite order; an unknown name is an error listing the valid ones."""
    if not names:
        return list(WORKLOADS)
    for n in names:
        if n not in WORKLOADS:
            raise InvalidArgumentError(
                f"unknown workload {n!r}: the suite has {', '.join(WORKLOADS)}", "workload", n
            )
    return [w for w in WORKLOADS if w in names]


def check_size(size: str) -> str:
    """``size`` if it is one of :data:`SIZES`; else an error listing them."""
    if size not in SIZES:
        raise InvalidArgumentError(f"unknown size {size!r}: use one of {', '.join(SIZES)}", "size", size)
    return size


def machine() -> dict[str, Any]:
    """CPU model, logical cores, the flags that matter, OS and Python."""
    model, flags = platform.processor() or "unknown", set[str]()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name" and model in ("unknown", "", platform.machine()):
                model = value.strip()
            elif key in ("flags", "Features") and not flags:
                flags = set(value.split())
    except OSError:
        pass
    return {
        "cpu_model": model,
        "cores_logical": os.cpu_count(),
        "cpu_flags": {f: f in flags for f in FLAGS},
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def software() -> dict[str, Any]:
    """Return gridledger's version, the git commit of the checkout (if it is one) and the build profile."""
    import gridledger

    root = Path(gridledger.__file__).resolve().parents[2]
    commit: str | None = None
    dirty: bool | None = None
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout  # fmt: skip
        dirty = bool(status.strip())
    except (OSError, subprocess.SubprocessError):
        commit = None
    from gridledger import _core

    so = Path(_core.__file__ or "")
    return {
        "version": gridledger.__version__,
        "commit": commit or None,
        "dirty": dirty,
        "core": so.name,
        "rayon_threads": os.environ.get("RAYON_NUM_THREADS"),
    }


def _time(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _stats(times: list[float]) -> dict[str, float]:
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times)}


def measure(
    name: str, size: str, load: Path | None, log: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Prepare one workload and time ours and its peers alternately, round by round."""
    w = WORKLOADS[name]
    n = w.sizes[size]
    t0 = time.perf_counter()
    prep: Prepared = w.prepare(n, load)
    setup_s = time.perf_counter() - t0
    ours: list[float] = []
    peers: dict[str, list[float]] = {p: [] for p in prep.peers}
    rounds, budget = _ROUNDS[size], _BUDGET_S[size]
    start = time.perf_counter()
    r = 0
    while r < rounds:
        ours.append(_time(prep.ours))
        for p, fn in prep.peers.items():
            peers[p].append(_time(fn))
        r += 1
        if r >= min(3, rounds) and time.perf_counter() - start > budget:
            break
    mine = _stats(ours)
    out: dict[str, Any] = {
        "name": name,
        "what": w.what,
        "n": n,
        "threads": int(os.environ["RAYON_NUM_THREADS"]) if os.environ.get("RAYON_NUM_THREADS") else None,
        "parallel": w.parallel,
        "rounds": r,
        **mine,
        "throughput": prep.items / mine["median_s"] if mine["median_s"] > 0 else None,
        "unit": w.unit,
        "setup_s": setup_s,
        "peers": [
            {"name": p, **_stats(ts), "ratio": statistics.median(ts) / mine["median_s"]}
            for p, ts in peers.items()
        ],
        "skipped_peers": [{"name": p, "reason": why} for p, why in prep.skipped.items()],
        "instructions": None,
        "instructions_n": None,
    }
    if log:
        log(f"{name}: {mine['median_s'] * 1e3:.2f} ms median of {r}")
    return out


def run_suite(
    names: Sequence[str] | None = None,
    size: str = "default",
    load: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the suite in this process (the thread pool as ``RAYON_NUM_THREADS`` set it).

    Parameters
    ----------
    names
        Workloads to run (default: all of :data:`~gridledger.bench.workloads.WORKLOADS`).
    size
        One of :data:`~gridledger.bench.workloads.SIZES`.
    load
        A load file :func:`gridledger.data.read` reads (default: the bundled sample).
    log
        Called with one line as each workload finishes.

    Returns
    -------
    dict
        The JSON document (schema in ``docs/bench.md``).
    """
    chosen = check_names(names)
    check_size(size)
    if load is not None and not Path(load).is_file():
        raise InvalidArgumentError(f"load file {load} does not exist", "load", str(load))
    sw = software()  # before the run: the commit (and whether it was dirty) the figures describe
    t0 = time.perf_counter()
    results = [measure(n, size, load, log) for n in chosen]
    return {
        "schema": SCHEMA_NAME,
        "schema_version": SCHEMA_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "size": size,
        "data": str(load) if load else "bundled:at_load_2019_60min.csv",
        "gridledger": sw,
        "machine": machine(),
        "wall_s": time.perf_counter() - t0,
        "workloads": results,
    }


def add_instructions(doc: dict[str, Any]) -> dict[str, Any]:
    """Fill ``instructions`` (and ``instructions_n``) of every gated workload in ``doc``.

    The count is the gate's: one call at the gate's fixed size ``instructions_n``,
    single-threaded, under callgrind (:mod:`gridledger.bench.gate`; needs valgrind).
    """
    from gridledger.bench import gate

    names = [w["name"] for w in doc["workloads"] if w["name"] in gate.GATED]
    counts = gate.measure(list(dict.fromkeys(names))) if names else {}
    for w in doc["workloads"]:
        if w["name"] in counts:
            w["instructions"], w["instructions_n"] = counts[w["name"]], gate.GATE_N[w["name"]]
    return doc


def run_threads(
    names: Sequence[str] | None,
    size: str,
    load: Path | None,
    threads: Sequence[int],
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the suite once per thread count, each in a fresh interpreter with ``RAYON_NUM_THREADS`` set.

    The Rust pool reads ``RAYON_NUM_THREADS`` once, when it starts, so a count
    can only be set before the process touches it: each count gets its own child.
    Results are merged into one document; each workload row carries its ``threads``.
    """
    chosen = check_names(names)
    check_size(size)
    docs = []
    for t in threads:
        if t < 1:
            raise InvalidArgumentError(f"threads must be ≥ 1, got {t}", "threads", t)
        env = {**os.environ, "RAYON_NUM_THREADS": str(t)}
        cmd = [sys.executable, "-m", "gridledger.bench", "--size", size, "--workloads", ",".join(chosen)]
        if load is not None:
            cmd += ["--load", str(load)]
        if log:
            log(f"running with RAYON_NUM_THREADS={t}")
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"the bench child with {t} threads failed:\n{out.stderr}")
        docs.append(json.loads(out.stdout))
    merged: dict[str, Any] = docs[0]
    merged["gridledger"]["rayon_threads"] = ",".join(str(t) for t in threads)
    merged["workloads"] = [w for d in docs for w in d["workloads"]]
    merged["wall_s"] = sum(d["wall_s"] for d in docs)
    return add_scaling(merged)


def add_scaling(doc: dict[str, Any]) -> dict[str, Any]:
    """Fill the optional ``speedup`` and ``efficiency`` of each parallel workload row.

    For a row run with ``n`` threads whose workload also ran with 1 thread in
    the same document, ``speedup = t1 / tn`` and ``efficiency = t1 / (n · tn)``
    (medians; 1.0 is perfect scaling, 1.0 at n = 1 by definition). Rows with no
    1-thread partner, serial workloads and rows of the pool's default size get
    ``null``. Returns ``doc``, changed in place.
    """
    one = {
        w["name"]: w["median_s"]
        for w in doc["workloads"]
        if w.get("threads") == 1 and w.get("parallel") and w.get("median_s", 0) > 0
    }
    for w in doc["workloads"]:
        n, t1, tn = w.get("threads"), one.get(w["name"]), w.get("median_s", 0)
        if not (w.get("parallel") and isinstance(n, int) and n >= 1 and t1 and tn > 0):
            w["speedup"] = w["efficiency"] = None
            continue
        w["speedup"] = t1 / tn
        w["efficiency"] = t1 / (n * tn)
    return doc
