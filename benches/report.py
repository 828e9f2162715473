"""Markdown report of a pytest-benchmark JSON file: medians, target ratios, scaling.

Usage::

    python benches/report.py out/bench.json [> out/report.md]

Each benchmark carries ``extra_info`` written by ``_common.note``: a stable
``key``, a ``role`` (ours / baseline / series / info) and ``n``, the elements
one call handles. A ratio is the baseline's median over ours (a speed-up) —
both medians come from the same run, side by side — except the Merkle build's
"within 2× of hash_many", which is ours over the baseline (a slowdown).

The machine may be shared: "foreign CPU" is how many cores other processes
kept busy while a benchmark ran (from /proc/stat, recorded by conftest.py);
a parallel batch call measured next to ~1 foreign core runs on one core.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    name: str
    ours: str
    baseline: str
    #: "speedup": baseline / ours ≥ goal; "slowdown": ours / baseline ≤ goal; goal None: info
    kind: str
    goal: float | None
    #: the parallel-scaling probe of the same call: gives the ratio on one thread
    single: str | None = None


TARGETS = [
    Target("1 hash_many blake3 (array) vs PyPI blake3 loop", "hash.blake3.ours_array",
           "hash.blake3.loop", "speedup", 10, "parallel.hash_blake3"),
    Target("1 hash_many blake3 (list of bytes) vs PyPI blake3 loop", "hash.blake3.ours_list",
           "hash.blake3.loop", "speedup", None),
    Target("1 hash_many sha256 (array) vs hashlib loop", "hash.sha256.ours_array",
           "hash.sha256.loop", "speedup", 5, "parallel.hash_sha256"),
    Target("1 hash_many sha256 (list of bytes) vs hashlib loop", "hash.sha256.ours_list",
           "hash.sha256.loop", "speedup", None),
    Target("2 Merkle build+root vs pymerkle", "merkle.build.ours", "merkle.build.pymerkle",
           "speedup", 100, "parallel.merkle_build"),
    Target("2 Merkle build+root vs hash_many of 2n−1 × 65 B (slowdown)", "merkle.build.ours",
           "merkle.build.hash_many_2n-1", "slowdown", 2),
    Target("2 proofs: inclusion_proofs + verify_inclusion_batch vs pymerkle",
           "merkle.proofs.ours_batch", "merkle.proofs.pymerkle", "speedup", 50, "parallel.proofs"),
    Target("2 proofs: inclusion_proof + verify_inclusion loop vs pymerkle",
           "merkle.proofs.ours_loop", "merkle.proofs.pymerkle", "speedup", None),
    Target("3 verify_batch vs cryptography loop", "sig.ours_batch", "sig.cryptography_loop",
           "speedup", 4, "parallel.verify_batch"),
    Target("3 verify (loop) vs cryptography loop", "sig.ours_loop", "sig.cryptography_loop",
           "speedup", 2),
    Target("3 verify_batch vs cryptography loop incl. from_public_bytes", "sig.ours_batch",
           "sig.cryptography_loop_load", "speedup", None),
    Target("3 verify_batch, 1 invalid, vs cryptography loop", "sig.ours_batch_one_bad",
           "sig.cryptography_loop", "speedup", None),
    Target("3 verify_batch, 1 % invalid, vs cryptography loop", "sig.ours_batch_1pct_bad",
           "sig.cryptography_loop", "speedup", None),
    Target("3 verify_batch, 1 % invalid, vs verify_batch all valid (slowdown)",
           "sig.ours_batch_1pct_bad", "sig.ours_batch", "slowdown", None),
    Target("5 ChainState.check (block of transfers) vs pure-Python validator", "ledger.check.ours",
           "ledger.check.python", "speedup", 20, "parallel.ledger_check"),
    *(t for stream in ("exchange_core", "submit_cancel_aggressive") for t in (
        Target(f"7 {stream}: replay vs reference engine (per op)", f"market.{stream}.ours",
               f"market.{stream}.reference", "speedup", 50),
        Target(f"7 {stream}: replay vs cython-orderbook", f"market.{stream}.ours",
               f"market.{stream}.cython_orderbook", "speedup", 3),
        Target(f"7 {stream}: replay vs pyorderbook", f"market.{stream}.ours",
               f"market.{stream}.pyorderbook", "speedup", 3),
        Target(f"7 {stream}: replay vs nanobook calls (its valid prefix)", f"market.{stream}.ours_prefix",
               f"market.{stream}.nanobook_calls", "speedup", 3),
        Target(f"7 {stream}: replay vs nanobook Exchange.replay (its valid prefix)",
               f"market.{stream}.ours_prefix", f"market.{stream}.nanobook_replay", "speedup", 3),
    )),
    Target("7 per-call OrderBook.submit vs nanobook submit_limit", "market.submit.ours",
           "market.submit.nanobook", "speedup", None),
]  # fmt: skip

MEMORY_LIMIT = 100 * 10**6  # "under 100 MB"


def fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def fmt_ratio(r: float) -> str:
    return f"{r:.1f}×" if r >= 10 else f"{r:.2f}×"


def load(path: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    with open(path) as f:
        data = json.load(f)
    by_key = {}
    for b in data["benchmarks"]:
        key = b.get("extra_info", {}).get("key")
        if key:
            by_key[key] = b
    return data, by_key


def header(data: dict[str, Any]) -> list[str]:
    m, c = data.get("machine_info", {}), data.get("commit_info", {})
    cpu = m.get("cpu", {})
    scales = {b.get("extra_info", {}).get("scale") for b in data["benchmarks"]}
    return [
        f"- run: {data.get('datetime', '?')}, pytest-benchmark {data.get('version', '?')}, "
        f"scale: {', '.join(sorted(s for s in scales if s))}",
        f"- commit: {c.get('id', '?')[:12]}{' (dirty tree)' if c.get('dirty') else ''}",
        f"- python: {m.get('python_implementation', '?')} {m.get('python_version', '?')}, "
        f"cpu: {cpu.get('brand_raw') or m.get('processor') or '?'}, "
        f"{cpu.get('count', '?')} logical cpus",
    ]


def all_benchmarks(data: dict[str, Any]) -> list[str]:
    rows = [
        "| group | benchmark | n | median | per element | IQR | rounds | CPU/wall | foreign CPU |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    not_timings = ("parallel.", "merkle.memory", "ledger.check.paired", "market.memory")
    timed = [
        b for b in data["benchmarks"] if not b.get("extra_info", {}).get("key", "").startswith(not_timings)
    ]
    for b in sorted(timed, key=lambda b: (b.get("group") or "", b["stats"]["median"])):
        s, x = b["stats"], b.get("extra_info", {})
        n = int(x.get("n", 1)) or 1
        rows.append(
            f"| {b.get('group', '')} | `{b['name']}` | {n} | {fmt_time(s['median'])} | "
            f"{fmt_time(s['median'] / n)} | {fmt_time(s['iqr'])} | {s['rounds']} | "
            f"{x.get('cpu_per_wall', '')} | {x.get('foreign_cpu', '')} |"
        )
    return rows


def targets(by_key: dict[str, dict[str, Any]]) -> list[str]:
    rows = [
        "| target | ours (median) | baseline (median) | ratio | goal | met | foreign CPU "
        "| ratio, ours on 1 thread |",
        "|---|---:|---:|---:|---:|:---:|---:|---:|",
    ]
    for t in TARGETS:
        o, b = by_key.get(t.ours), by_key.get(t.baseline)
        if o is None or b is None:
            rows.append(f"| {t.name} | missing | missing | | | |")
            continue
        # per element: the reference engine runs a prefix of the stream
        no, nb = (int(x.get("extra_info", {}).get("n", 1)) or 1 for x in (o, b))
        mo, mb = o["stats"]["median"] * nb / no, b["stats"]["median"]
        smoke = o.get("extra_info", {}).get("scale") != "full"
        if t.kind == "speedup":
            ratio, goal = mb / mo, f"≥ {t.goal:g}×" if t.goal else "info"
            met = t.goal is not None and ratio >= t.goal
        else:
            ratio, goal = mo / mb, f"≤ {t.goal:g}×" if t.goal else "info"
            met = t.goal is not None and ratio <= t.goal
        verdict = "" if t.goal is None else ("n/a (smoke)" if smoke else ("yes" if met else "NO"))
        rows.append(
            f"| {t.name} | {fmt_time(mo)} | {fmt_time(mb)} | {fmt_ratio(ratio)} | {goal} | {verdict} "
            f"| {foreign(o)} / {foreign(b)} | {one_thread(t, by_key, mb)} |"
        )
    return rows


def one_thread(t: Target, by_key: dict[str, dict[str, Any]], baseline_median: float) -> str:
    """Baseline median over our call's median with RAYON_NUM_THREADS=1 (probe)."""
    p = by_key.get(t.single or "")
    if p is None:
        return ""
    t1 = p["extra_info"]["t1"]
    return f"{fmt_ratio(baseline_median / t1)} ({fmt_time(t1)})"


def foreign(b: dict[str, Any]) -> str:
    """Cores other processes kept busy while the benchmark ran (shared machine)."""
    v = b.get("extra_info", {}).get("foreign_cpu")
    return "?" if v is None else f"{v:.2f}"


def per_element(data: dict[str, Any]) -> list[str]:
    rows = [
        "| algorithm | call | batch size | median per call | per element |",
        "|---|---|---:|---:|---:|",
    ]
    series = [b for b in data["benchmarks"] if b.get("extra_info", {}).get("role") == "series"]
    for b in sorted(series, key=lambda b: (b["extra_info"]["key"], b["extra_info"]["n"])):
        key, n, med = b["extra_info"]["key"], b["extra_info"]["n"], b["stats"]["median"]
        alg = key.split(".")[1]
        call = {
            "one_ours": f"gridledger.hashing.{alg}(r)",
            "one_baseline": "blake3.blake3(r).digest()" if alg == "blake3" else "hashlib.sha256(r).digest()",
        }.get(key.split(".")[2], "hash_many(array)")
        rows.append(f"| {alg} | `{call}` | {n} | {fmt_time(med)} | {fmt_time(med / n)} |")
    return rows


def scaling(by_key: dict[str, dict[str, Any]]) -> list[str]:
    rows = [
        "| batch call | n | RAYON_NUM_THREADS=1 | default pool | speed-up | CPU/wall (default) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key in sorted(k for k in by_key if k.startswith("parallel.")):
        x = by_key[key]["extra_info"]
        rows.append(
            f"| {key.removeprefix('parallel.')} | {x['n']} | {fmt_time(x['t1'])} | "
            f"{fmt_time(x['tN'])} | {fmt_ratio(x['speedup'])} | {x['cpu_per_wall']} |"
        )
    return rows


def memory(by_key: dict[str, dict[str, Any]]) -> list[str]:
    b = by_key.get("merkle.memory")
    if b is None:
        return ["(no memory measurement)"]
    x = b["extra_info"]

    def mb(v: int) -> str:
        return f"{v / 1e6:.1f} MB ({v / 2**20:.1f} MiB)"

    ok = x["delta"] < MEMORY_LIMIT
    return [
        f"Tree of {x['n']} leaves from leaf hashes, fresh interpreter (`benches/_probe.py rss {x['n']}`):",
        "",
        f"- RSS after imports: {mb(x['rss_before'])}; with the (n, 32) input: "
        f"{mb(x['rss_with_input'])}; after the build: {mb(x['rss_after_build'])}; "
        f"after `del` of the input: {mb(x['rss_after_del_input'])}",
        f"- **resident delta (tree alone): {mb(x['delta'])}** — "
        f"{'under' if ok else 'OVER'} 100 MB; peak delta (VmHWM): {mb(x['peak_delta'])}",
        f"- `tree.nbytes`: {mb(x['nbytes'])}",
    ]


def paired(by_key: dict[str, dict[str, Any]]) -> list[str]:
    """Ours and the baseline alternated round by round (test_bench_ledger.py)."""
    b = by_key.get("ledger.check.paired")
    if b is None:
        return ["(not run)"]
    x = b["extra_info"]["paired"]
    return [
        f"{x['rounds']} pairs, block of {x['n']} transfers: ours median {fmt_time(x['ours_median_s'])}, "
        f"pure Python median {fmt_time(x['python_median_s'])}; **ratio median "
        f"{fmt_ratio(x['ratio_median'])}** (min {fmt_ratio(x['ratio_min'])}, "
        f"max {fmt_ratio(x['ratio_max'])}), foreign CPU {foreign(b)}",
    ]


def market(data: dict[str, Any], by_key: dict[str, dict[str, Any]]) -> list[str]:
    """§7: absolute rates, the paired rounds and the memory probe."""
    rows = ["| benchmark | ops | median | ops/s |", "|---|---:|---:|---:|"]
    for b in data["benchmarks"]:
        x = b.get("extra_info", {})
        key = x.get("key", "")
        if key.startswith("market.") and x.get("role") in ("ours", "baseline"):
            n = int(x["n"])
            rows.append(f"| `{key}` | {n} | {fmt_time(b['stats']['median'])} | "
                        f"{n / b['stats']['median']:,.0f} |")  # fmt: skip
    for stream in ("exchange_core", "submit_cancel_aggressive"):
        p = by_key.get(f"market.{stream}.paired")
        if p is None:
            continue
        x = p["extra_info"]["paired"]
        rows += ["", f"Paired rounds, {stream} ({x['rounds']} rounds; n={x['n']}, reference on "
                 f"{x['ref_n']}, nanobook's prefix {x['prefix_n']}), foreign CPU {foreign(p)}:", "",
                 "| engine | ops/s (median) | ratio to ours (median of rounds) |",
                 "|---|---:|---:|"]  # fmt: skip
        for name, rate in x["ops_per_s"].items():
            r = x["ratios"].get(name)
            rows.append(f"| {name} | {rate:,.0f} | {'' if r is None else fmt_ratio(r)} |")
    m = by_key.get("market.memory")
    if m is not None:
        x = m["extra_info"]["memory"]
        rows += ["", f"{x['n']} resting orders (`benches/_probe.py book_rss {x['n']}`): resident delta "
                 f"{x['delta'] / 1e6:.1f} MB (peak {x['peak_delta'] / 1e6:.1f} MB), "
                 f"`book.nbytes` {x['nbytes'] / 1e6:.1f} MB"]  # fmt: skip
    return rows


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit(__doc__)
    data, by_key = load(argv[0])
    out = [
        "## Run",
        "",
        *header(data),
        "",
        "## Targets (ratios of medians measured side by side in this run)",
        "",
        *targets(by_key),
        "",
        "## Block validation, paired rounds",
        "",
        *paired(by_key),
        "",
        "## Order book (§7)",
        "",
        *market(data, by_key),
        "",
        "## hash_many per element vs batch size",
        "",
        *per_element(data),
        "",
        "## Parallel scaling (fresh interpreters, back to back)",
        "",
        *scaling(by_key),
        "",
        "## Merkle tree memory",
        "",
        *memory(by_key),
        "",
        "## All benchmarks",
        "",
        *all_benchmarks(data),
        "",
    ]
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
