"""The workloads of ``gridledger bench``: what each one runs, at which size, against which peers.

Each :class:`Workload` prepares its inputs once (outside the timing), checks
that ours and every peer agree on the result, and hands back callables that
the runner times alternately (:mod:`gridledger.bench.runner`). A peer is a
package from PyPI doing the same work (``blake3``, ``cryptography``,
``pymerkle``, ``pandas``); it is never a dependency of gridledger, and one
that is not installed is skipped and reported, never a failure.
"""

from __future__ import annotations

import hashlib
import importlib
import itertools
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

#: The sizes a suite runs at, smallest first.
SIZES = ("smoke", "default", "large")

#: Seed hash and period of the auction draw workload.
_DRAW_SEED = bytes(range(32))
_DRAW_PERIOD = 1_717_200_000 // 900


@dataclass
class Prepared:
    """A workload ready to time: ours, the peers, and the peers that could not run.

    Attributes
    ----------
    items
        Elements one call processes (records, leaves, signatures, …): the
        throughput is ``items / seconds``.
    ours
        One call of gridledger's side.
    peers
        Peer name → one call of the peer doing the same work.
    skipped
        Peer name → why it did not run (package missing, input it cannot read).
    """

    items: int
    ours: Callable[[], object]
    peers: dict[str, Callable[[], object]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Workload:
    """One named workload of the suite.

    Attributes
    ----------
    name
        Its name on the command line and in the JSON (``"hash_many"``).
    what
        One line: what a call does.
    unit
        The throughput's unit (``"records/s"``).
    sizes
        ``n`` at each of :data:`SIZES`.
    parallel
        Whether the work runs on the Rust thread pool (``--threads`` matters).
    prepare
        ``prepare(n, load)`` builds the inputs, checks agreement, returns :class:`Prepared`.
    """

    name: str
    what: str
    unit: str
    sizes: Mapping[str, int]
    parallel: bool
    prepare: Callable[[int, Path | None], Prepared]


def _peer(module: str) -> tuple[Any, str | None]:
    """Import a peer package, or say why not (the report names what to install)."""
    try:
        return importlib.import_module(module), None
    except ImportError:
        return None, f"{module} is not installed (pip install {module.split('.')[0]})"


def _records(n: int, width: int, seed: int) -> NDArray[np.uint8]:
    return np.random.default_rng(seed).integers(0, 256, size=(n, width), dtype=np.uint8)


# -- hashing, Merkle, signatures -------------------------------------------------------------------
def _hash_many(n: int, _load: Path | None) -> Prepared:
    from gridledger import hashing

    recs = _records(n, 64, 1)
    rows = [r.tobytes() for r in recs]
    p = Prepared(n, lambda: hashing.hash_many(recs, algorithm="blake3"))
    b3, why = _peer("blake3")
    if b3 is None:
        p.skipped["blake3 loop"] = str(why)
    else:
        h = b3.blake3
        assert hashing.hash_many(recs[:8], algorithm="blake3").tobytes() == b"".join(
            h(r).digest() for r in rows[:8]
        ), "our BLAKE3 digests differ from PyPI blake3's"
        p.peers["blake3 loop"] = lambda: [h(r).digest() for r in rows]
    sha = hashlib.sha256
    p.peers["hashlib sha256 loop"] = lambda: [sha(r).digest() for r in rows]
    return p


def _leaves(n: int) -> tuple[NDArray[np.uint8], list[bytes]]:
    leaves = _records(n, 32, 2)
    return leaves, [r.tobytes() for r in leaves]


def _pymerkle_tree(pm: Any, rows: list[bytes]) -> Any:
    tree = pm.InmemoryTree(algorithm="sha256")
    for leaf in rows:
        tree.append_entry(leaf)
    tree.get_root()
    return tree


def _merkle_build(n: int, _load: Path | None) -> Prepared:
    from gridledger import merkle

    leaves, rows = _leaves(n)
    p = Prepared(n, lambda: merkle.MerkleTree(leaves, algorithm="sha256").root)
    pm, why = _peer("pymerkle")
    if pm is None:
        p.skipped["pymerkle"] = str(why)
    else:
        root = merkle.MerkleTree(leaves, algorithm="sha256").root
        assert _pymerkle_tree(pm, rows).get_root() == root, "pymerkle's root differs from ours"
        p.peers["pymerkle"] = lambda: _pymerkle_tree(pm, rows).get_root()
    return p


def _merkle_proofs(n: int, _load: Path | None) -> Prepared:
    """Generate and verify ``n`` inclusion proofs in a tree of 16·n leaves."""
    from gridledger import merkle

    leaves, rows = _leaves(16 * n)
    tree = merkle.MerkleTree(leaves, algorithm="sha256")
    root = tree.root
    idx = np.random.default_rng(3).choice(len(rows), n, replace=False).astype(np.int64)
    hashes = np.frombuffer(b"".join(tree.leaf_hash(int(i)) for i in idx), np.uint8).reshape(-1, 32)

    def ours() -> bool:
        return bool(merkle.verify_inclusion_batch(hashes, tree.inclusion_proofs(idx), root).all())

    assert ours(), "our proofs do not verify"
    p = Prepared(n, ours)
    pm, why = _peer("pymerkle")
    if pm is None:
        p.skipped["pymerkle"] = str(why)
    else:
        ptree = _pymerkle_tree(pm, rows)
        size = len(rows)
        jobs = [(int(i) + 1, bytes(hashes[k])) for k, i in enumerate(idx)]  # pymerkle is 1-based

        def theirs() -> int:
            for i, leaf in jobs:
                pm.verify_inclusion(leaf, root, ptree.prove_inclusion(i, size))  # raises on failure
            return len(jobs)

        theirs()
        p.peers["pymerkle"] = theirs
    return p


def _verify_batch(n: int, _load: Path | None) -> Prepared:
    from gridledger import keys

    rng = np.random.default_rng(25519)
    signers = [keys.SigningKey.from_seed(rng.bytes(32)) for _ in range(n)]
    msgs = [f"meter {i:07d} 2024-06-01T12:15Z import {i % 5000} Wh".encode() for i in range(n)]
    sigs = [k.sign(m) for k, m in zip(signers, msgs, strict=True)]
    pks = [k.public_key for k in signers]
    assert keys.verify_batch(pks, msgs, sigs).all(), "our signatures do not verify"
    p = Prepared(n, lambda: keys.verify_batch(pks, msgs, sigs))
    ed, why = _peer("cryptography.hazmat.primitives.asymmetric.ed25519")
    if ed is None:
        p.skipped["cryptography loop"] = str(why)
    else:
        loaded = [ed.Ed25519PublicKey.from_public_bytes(pk) for pk in pks]
        jobs = list(zip(loaded, msgs, sigs, strict=True))

        def theirs() -> int:
            for key, m, s in jobs:
                key.verify(s, m)  # raises InvalidSignature on failure
            return len(jobs)

        theirs()
        p.peers["cryptography loop"] = theirs
    return p


# -- the ledger: one block of transfers ------------------------------------------------------------
def _join(txs: list[bytes]) -> tuple[bytes, NDArray[np.int64]]:
    offsets = np.zeros(len(txs) + 1, np.int64)
    np.cumsum([len(t) for t in txs], out=offsets[1:])
    return b"".join(txs), offsets


def ledger_block(n: int) -> tuple[Callable[[], object], Any]:
    """Return a chain whose members hold one output each, and a block of ``n`` transfers spending them.

    Returns ``check`` (one ``ChainState.check`` of the block: every signature,
    the Merkle root, the UTXO rules; it appends nothing, so it repeats) and the chain.
    """
    from gridledger import _core
    from gridledger.ledger import NEVER, Chain, DeviceEntry, Genesis, MemberEntry

    first, each = 1_717_200_000 // 900, 1_000
    alg: Literal["sha256"] = "sha256"
    seeds = b"".join(hashlib.sha256(f"gridledger bench key {i}".encode()).digest() for i in range(n + 2))
    ring = _core.KeyRing(seeds)
    pks = ring.public_keys()

    def key(i: int) -> bytes:
        return bytes(pks[i].tobytes())

    genesis = Genesis(
        algorithm=alg,
        period_s=900,
        first_period=first,
        vote_validity=4,
        vpp=key(0),
        members=tuple(MemberEntry(key(1 + i), f"m{i:05d}") for i in range(n)),
        devices=(DeviceEntry(key(n + 1), each * n, 0, "pv0"),),
        name="gridledger bench",
    )
    chain = Chain(genesis.encode(), keep_blocks=False)
    tag = chain.chain_tag

    def sign(signers: list[int], bodies: list[bytes]) -> tuple[NDArray[np.uint8], list[bytes]]:
        blob, offsets = _join(bodies)
        ids, signed, offs = ring.sign_bodies(np.array(signers, np.int64), blob, offsets, alg)
        o = offs.tolist()
        return ids, [signed[a:b] for a, b in itertools.pairwise(o)]

    def transfer(
        signer: int, inputs: list[tuple[bytes, int]], outputs: list[tuple[int, int]], period: int
    ) -> bytes:
        k = len(outputs)
        return bytes(
            _core.encode_transfer(
                tag,
                period,
                pks[signer : signer + 1],
                np.frombuffer(b"".join(t for t, _ in inputs), np.uint8).reshape(-1, 32),
                np.array([i for _, i in inputs], np.int64),
                pks[[o for o, _ in outputs]],
                np.zeros(k, np.uint8),
                np.array([a for _, a in outputs], np.int64),
                np.full(k, NEVER, np.uint64),
            )
        )

    def seal(txs: list[bytes]) -> tuple[bytes, bytes, bytes, NDArray[np.int64]]:
        blob, offsets = _join(txs)
        ids = np.frombuffer(
            b"".join(_core.hash_one(t[: _core.decode_tx(t)["body_len"]], alg) for t in txs), np.uint8
        ).reshape(-1, 32)
        header = chain.next_header(ids).encode()
        miner = 1 + chain.height % n
        block_hash = np.frombuffer(_core.hash_one(header, alg), np.uint8).reshape(1, 32)
        sig = ring.sign_ids(np.array([miner], np.int64), block_hash)[0].tobytes()
        return header, sig, blob, offsets

    dev = n + 1
    (c_id,), (c_tx,) = sign([dev], [_core.encode_create(tag, first, key(dev), 1, each * n, 0, 0)])
    (u_id,), (u_tx,) = sign([dev], [transfer(dev, [(c_id.tobytes(), 0)], [(0, each * n)], first)])
    dist = transfer(0, [(u_id.tobytes(), 0)], [(1 + i, each) for i in range(n)], first)
    (d_id,), (d_tx,) = sign([0], [dist])
    chain.append_raw(*seal([c_tx, u_tx, d_tx]))
    did = d_id.tobytes()
    period = chain.period + 1
    bodies = [transfer(1 + i, [(did, i)], [(1 + (i + 1) % n, 600), (1 + i, 400)], period) for i in range(n)]
    block = seal(sign([1 + i for i in range(n)], bodies)[1])

    def check() -> object:
        return chain._state.check(*block)

    return check, chain


def _block_validation(n: int, _load: Path | None) -> Prepared:
    check, _ = ledger_block(n)
    check()
    p = Prepared(n, check)
    p.skipped["pure-Python validator"] = "not packaged: it lives in benches/_pyvalidator.py (pytest benches)"
    return p


# -- consensus, market, PowerChain ------------------------------------------------------------------
def _python_draw(w: list[float], klist: list[bytes], h: Callable[[bytes], Any]) -> int:
    """Draw in pure Python: U from H(seed ‖ period ‖ key), argmax W/U (ties: the smaller key)."""
    prefix = _DRAW_SEED + _DRAW_PERIOD.to_bytes(8, "little")
    best, best_key, best_pk = -1, -1.0, b""
    for i, pk in enumerate(klist):
        u = int.from_bytes(h(prefix + pk).digest()[:8], "little")
        k = w[i] * 2.0**64 / (u + 1)
        if k > best_key or (k == best_key and pk < best_pk):
            best, best_key, best_pk = i, k, pk
    return best


def _auction_draw(n: int, _load: Path | None) -> Prepared:
    """Prepare the draw over ``n`` members: a BLAKE3 chain (the default) against a Python loop.

    The baseline loop uses hashlib's SHA-256 (the target's baseline); each is
    checked to name the winner of a loop with the same hash.
    """
    from gridledger.consensus import draw

    rng = np.random.default_rng(11)
    w = rng.uniform(0.1, 10.0, n)
    keys = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    klist, wl = [k.tobytes() for k in keys], w.tolist()
    p = Prepared(n, lambda: draw(w, _DRAW_SEED, _DRAW_PERIOD, keys, algorithm="blake3"))
    sha = hashlib.sha256
    assert _python_draw(wl, klist, sha) == draw(w, _DRAW_SEED, _DRAW_PERIOD, keys, algorithm="sha256"), (
        "the hashlib draw names another winner than ours on a SHA-256 chain"
    )
    p.peers["hashlib sha256 loop"] = lambda: _python_draw(wl, klist, sha)
    b3, why = _peer("blake3")
    if b3 is None:
        p.skipped["blake3 loop"] = str(why)
    else:
        assert _python_draw(wl, klist, b3.blake3) == p.ours(), "the PyPI blake3 draw names another winner"
        p.peers["blake3 loop"] = lambda: _python_draw(wl, klist, b3.blake3)
    return p


def order_stream(n: int, seed: int = 7) -> NDArray[np.void]:
    """``n`` order-book operations: limit, IOC and market orders around a mid price, cancels of live ones."""
    dtype = np.dtype(
        [("op", "u1"), ("side", "u1"), ("kind", "u1"), ("price", "i8"), ("quantity", "i8"),
         ("owner", "i8"), ("order_id", "i8"), ("period", "i8")]
    )  # fmt: skip
    rng = random.Random(seed)
    ops = np.zeros(n, dtype)
    live: list[int] = []
    next_id = 1
    for i in range(n):
        r = rng.random()
        if r < 0.25 and live:
            oid = live.pop(rng.randrange(len(live)))
            ops[i] = (1, 0, 0, 0, 0, 0, oid, 0)
            continue
        side = rng.randrange(2)
        kind = 0 if r < 0.9 else (2 if r < 0.97 else 1)
        offset = rng.randrange(0, 50)
        price = 100_000 + (offset if side == 1 else -offset) + rng.randrange(-5, 6)
        ops[i] = (0, side, kind, price, rng.randrange(1, 100), rng.randrange(1, 1000), next_id, 0)
        if kind == 0:
            live.append(next_id)
        next_id += 1
    return ops


def _order_book(n: int, _load: Path | None) -> Prepared:
    from gridledger.market import OrderBook

    ops = order_stream(n)

    def ours() -> int:
        tape, _status = OrderBook().replay(ops)
        return tape.height

    ours()
    p = Prepared(n, ours)
    p.skipped["pure-Python reference book"] = (
        "not packaged: it lives in tests/market_reference.py (pytest benches)"
    )
    return p


def powerchain_chain(n: int, block_size: int = 100, seed: int = 7) -> tuple[bytes, list[Any]]:
    """Genesis and blocks of ``n`` accepted PowerChain commands of a 200-member community (seeded mix)."""
    from gridledger.errors import GridLedgerError
    from gridledger.powerchain import ManualClock, PowerChain, Wallet

    rng = random.Random(seed)
    clock = ManualClock(1_700_000_000)
    voter, banker = Wallet.named("voter"), Wallet.named("banker")
    people = [Wallet.named(f"user{i}") for i in range(200)]
    meters = [Wallet.named(f"unit{i}") for i in range(10)]
    pc = PowerChain(voter, clock=clock, block_size=block_size)
    pc.change_banker(voter, banker)
    for i, m in enumerate(meters):
        pc.register_storage_unit(voter, m, people[i])
    kinds = ["produce", "consume", "transfer_ent", "transfer_eeuro", "order", "mint"]
    weights = [20, 16, 16, 12, 16, 6]
    done = pc.pending + len(pc.blocks) * block_size

    def amount(hi: int) -> Decimal:
        return Decimal(rng.randrange(1, hi * 1000)) / 1000

    while done < n:
        kind = rng.choices(kinds, weights)[0]
        who, other, unit = rng.choice(people), rng.choice(people), rng.choice(meters)
        clock.advance(rng.randrange(0, 3))
        try:
            if kind == "produce":
                pc.energy_produced(unit, who, Decimal(rng.randrange(1, 5_000_000)) / 1000)
            elif kind == "consume":
                pc.energy_consumed(unit, who, Decimal(rng.randrange(1, 3_000_000)) / 1000)
            elif kind == "transfer_ent":
                pc.transfer_ent(who, other, amount(2))
            elif kind == "transfer_eeuro":
                pc.transfer_eeuro(who, other, amount(2))
            elif kind == "order":
                side = rng.choice(("buy", "sell"))
                pc.add_order(who, side, Decimal(rng.randrange(50, 150)) / 1000, amount(2))
            else:
                pc.mint_eeuro(banker, who, amount(20))
        except GridLedgerError:
            continue
        done += 1
    pc.seal()
    return pc.genesis, list(pc.blocks)


def _powerchain(n: int, _load: Path | None) -> Prepared:
    from gridledger.powerchain import PowerChain

    genesis, blocks = powerchain_chain(n)
    PowerChain.replay(genesis, blocks)
    return Prepared(n, lambda: PowerChain.replay(genesis, blocks))


# -- data and the simulations ------------------------------------------------------------------------
def bundled_load_path() -> Path:
    """Return the bundled ENTSO-E/OPSD sample: Austria's hourly load, 2019."""
    from importlib import resources

    return Path(str(resources.files("gridledger.data").joinpath("_bundled/at_load_2019_60min.csv")))


def _data(copies: int, load: Path | None) -> Prepared:
    """Read and resample the file to 15 minutes, ``copies`` times per call (n = rows read)."""
    from gridledger import data

    path = load or bundled_load_path()
    rows = data.read(path).height

    def ours() -> object:
        return [data.resample(data.read(path), "15m") for _ in range(copies)]

    ours()
    p = Prepared(rows * copies, ours)
    pd, why = _peer("pandas")
    if pd is None:
        p.skipped["pandas"] = str(why)
    elif data.detect_format(path) != "opsd":
        p.skipped["pandas"] = "the pandas peer reads OPSD CSVs only (like the bundled sample)"
    else:

        def theirs() -> object:
            out = []
            for _ in range(copies):
                wide = pd.read_csv(path, parse_dates=["utc_timestamp"], index_col="utc_timestamp")
                wide = wide.drop(columns=[c for c in wide.columns if "timestamp" in c])
                step = wide.index.to_series().diff().mode().iloc[0]
                k = int(step / pd.Timedelta(minutes=15))
                fine = pd.date_range(
                    wide.index[0], wide.index[-1] + step - pd.Timedelta(minutes=15), freq="15min"
                )
                out.append(wide.asfreq(step).reindex(fine).ffill(limit=k - 1).melt(ignore_index=False))
            return out

        theirs()
        p.peers["pandas"] = theirs
    return p


def _load_frame(load: Path | None) -> Any:
    if load is None:
        return None
    from gridledger import data

    return data.read(load)


def _community(members: int, load: Path | None) -> Prepared:
    from gridledger.community import Community, simulate

    frame = _load_frame(load)
    start = datetime(2019, 6, 3, tzinfo=UTC)

    def ours() -> object:
        return simulate(Community.default(members, 10), start, 7, store=None, load=frame)

    return Prepared(members * 7 * 96, ours)


def _ev(evs: int, load: Path | None) -> Prepared:
    from gridledger.ev import simulate

    frame = _load_frame(load)

    def ours() -> object:
        return simulate(
            households=2 * evs, evs=evs, capacity_kw=8.0 * evs, days=1, load=frame, start="2019-01-07"
        )

    return Prepared(evs, ours)


def _study(members: int, load: Path | None) -> Prepared:
    from gridledger.study import Scenario, run_scenario

    params: dict[str, Any] = {"members": members, "pv_units": 4, "days": 1.0}
    if load is not None:
        params["load"] = str(load)
    sc = Scenario("community", params)
    return Prepared(members * 96, lambda: run_scenario(sc))


#: Every workload of the suite, in the order they run.
WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload("hash_many", "BLAKE3 of n records of 64 B, one call", "records/s",
                 {"smoke": 10**3, "default": 10**6, "large": 10**6}, True, _hash_many),
        Workload("merkle_build", "RFC 6962 SHA-256 tree of n 32-B leaves", "leaves/s",
                 {"smoke": 2**10, "default": 2**17, "large": 2**20}, True, _merkle_build),
        Workload("merkle_proofs", "n inclusion proofs made and verified (tree of 16·n leaves)", "proofs/s",
                 {"smoke": 100, "default": 10**4, "large": 10**4}, True, _merkle_proofs),
        Workload("verify_batch", "n Ed25519 signatures, distinct keys, one call", "signatures/s",
                 {"smoke": 100, "default": 10**4, "large": 10**4}, True, _verify_batch),
        Workload("block_validation", "one ledger block of n transfers (1 in, 2 out) checked", "transfers/s",
                 {"smoke": 200, "default": 10**4, "large": 10**4}, True, _block_validation),
        Workload("auction_draw", "the auction draw over n candidates (BLAKE3 chain)", "candidates/s",
                 {"smoke": 10**4, "default": 10**6, "large": 10**6}, True, _auction_draw),
        Workload("order_book_replay", "OrderBook.replay of n operations", "ops/s",
                 {"smoke": 3_000, "default": 10**5, "large": 10**6}, False, _order_book),
        Workload("powerchain_replay", "PowerChain.replay of n commands from genesis", "commands/s",
                 {"smoke": 500, "default": 5_000, "large": 10**5}, True, _powerchain),
        Workload("data_read_resample", "read the load file and resample it to 15 min (n copies)", "rows/s",
                 {"smoke": 1, "default": 5, "large": 20}, False, _data),
        Workload("community_week", "a community of n members, 10 PV units, one week", "member-periods/s",
                 {"smoke": 5, "default": 50, "large": 200}, False, _community),
        Workload("ev_day", "one day of n EVs (optimal scheduler)", "EVs/s",
                 {"smoke": 10, "default": 100, "large": 400}, False, _ev),
        Workload("study_cell", "one study cell: a community of n members for a day", "member-periods/s",
                 {"smoke": 5, "default": 20, "large": 50}, False, _study),
    )
}  # fmt: skip
