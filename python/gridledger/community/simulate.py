"""Running a community on a chain, one block per market period (issue: community ledger).

Each period: every cryptometer signs a ``Create`` per V Wh counted; each unit
passes its quanta (and their voting tokens) to the VPP in one ``Transfer``;
the VPP distributes the period's energy and tokens to the members' virtual
generation meters by the repartition rule, in one ``Transfer``; the period's
producer (round robin) seals the block and the chain validates it in one call
into the Rust core before it is stored. Consumption stays off chain: the
market-face meter (consumption − virtual generation) is computed for the DSO.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from numpy.typing import NDArray

from gridledger import _core
from gridledger.community.bidders import Bidders
from gridledger.community.inputs import CommunityInputs, community_inputs
from gridledger.community.model import Community
from gridledger.community.repartition import allocate, ideal_shares
from gridledger.community.trading import Deal, GridMarket, Mechanism, Trader
from gridledger.errors import BadDataError
from gridledger.ledger.chain import Chain
from gridledger.ledger.store import ChainStore
from gridledger.ledger.tx import NEVER
from gridledger.meters.accuracy import AccuracyReport, accuracy_report
from gridledger.meters.cryptometer import Cryptometer, Quanta

if TYPE_CHECKING:
    from gridledger.grid.feeder import Feeder
    from gridledger.grid.losses import LossRule
    from gridledger.grid.outcome import GridOutcome

__all__ = ["SimulationResult", "simulate"]


@dataclass
class SimulationResult:
    """What a run produced.

    Attributes
    ----------
    community
        The community that ran.
    periods
        ``(P,)`` period indices, one block each.
    path
        The chain's SQLite file (None for an in-memory run).
    chain
        The chain state after the last block.
    blocks, creates, transfers
        Blocks appended (genesis excluded) and transactions by kind.
    distributed_wh, distributed_votes
        Energy and voting tokens the VPP distributed.
    signatures_made, signatures_verified
        Ed25519 signatures produced and checked (block headers included).
    seconds
        Wall time of the run, inputs included.
    store_bytes
        Size of the SQLite file (and WAL) at the end.
    allocated_wh, allocated_votes
        ``(P, M)`` int32: what each member's virtual meter received per period
        (Wh, voting tokens).
    consumption_wh
        ``(P, M)`` int32: the members' consumption (Wh, off chain).
    accuracy
        :class:`~gridledger.meters.AccuracyReport`.
    grid
        :class:`~gridledger.grid.outcome.GridOutcome` of a run on a feeder (``grid=``), else None.
    traded_wh
        ``(P, M)`` int32: bought − sold on the local market per period (Wh); all
        zero, and never written (so it takes no memory), when no market ran.
    deals
        The market's deals, or None when no market ran.

    Notes
    -----
    The ``(P, M)`` arrays are int32 (int64 before; see CHANGELOG): a 1 000-member
    year is 35 040 × 1 000 of them, 140 MB each instead of 280 MB. Every value
    is bounded by one period's energy or one member's consumption in a period
    (2^31 − 1 Wh is 2.1 GWh); :func:`simulate` checks the bounds before it
    narrows and raises a typed error beyond them. Sums over them (``.sum()``)
    accumulate in int64.
    """

    community: Community
    periods: NDArray[np.int64]
    path: Path | None
    chain: Chain
    blocks: int = 0
    creates: int = 0
    transfers: int = 0
    auction_txs: int = 0
    distributed_wh: int = 0
    distributed_votes: int = 0
    signatures_made: int = 0
    signatures_verified: int = 0
    seconds: float = 0.0
    store_bytes: int = 0
    allocated_wh: NDArray[np.int32] = field(default_factory=lambda: np.zeros((0, 0), np.int32))
    allocated_votes: NDArray[np.int32] = field(default_factory=lambda: np.zeros((0, 0), np.int32))
    consumption_wh: NDArray[np.int32] = field(default_factory=lambda: np.zeros((0, 0), np.int32))
    accuracy: AccuracyReport | None = None
    traded_wh: NDArray[np.int32] = field(default_factory=lambda: np.zeros((0, 0), np.int32))
    deals: pl.DataFrame | None = None
    grid: GridOutcome | None = None

    @property
    def transactions(self) -> int:
        """The number of transactions written: Creates, Transfers, auction transactions and loss records."""
        return self.creates + self.transfers + self.auction_txs + (self.grid.records if self.grid else 0)

    def market_face(self) -> pl.DataFrame:
        """Return the market-face meter per member and period: consumption − virtual generation (Wh).

        Computed for the DSO and never written on chain. Columns: ``period``,
        ``member``, ``consumption_wh``, ``virtual_generation_wh`` (the VPP's
        allocation), ``traded_wh`` (bought − sold on the local market, when a
        market ran) and ``market_face_wh`` = consumption − allocation − traded;
        all int64.
        """
        p, m = self.consumption_wh.shape
        labels = [x.label for x in self.community.members]
        alloc = self.allocated_wh.astype(np.int64)
        consumption = self.consumption_wh.astype(np.int64)
        traded = (
            self.traded_wh.astype(np.int64)
            if self.traded_wh.shape == self.allocated_wh.shape
            else np.zeros_like(alloc)
        )
        virtual = alloc + traded
        return pl.DataFrame(
            {
                "period": np.repeat(self.periods, m),
                "member": pl.Series(labels * p, dtype=pl.Categorical),
                "consumption_wh": consumption.ravel(),
                "virtual_generation_wh": alloc.ravel(),
                "traded_wh": traded.ravel(),
                "market_face_wh": (consumption - virtual).ravel(),
            }
        )

    def summary(self) -> dict[str, float | int | str]:
        """Return the figures of the summary table."""
        acc = self.accuracy.summary() if self.accuracy else {}
        tx = self.transactions
        return {
            "members": len(self.community.members),
            "pv_units": len(self.community.units),
            "period_minutes": self.community.period_minutes,
            "blocks": self.blocks,
            "transactions": tx,
            "creates": self.creates,
            "transfers": self.transfers,
            "auction_txs": self.auction_txs,
            "kwh_distributed": self.distributed_wh / 1000,
            "votes_distributed": self.distributed_votes,
            "signatures_made": self.signatures_made,
            "signatures_verified": self.signatures_verified,
            "max_period_error_wh": float(acc.get("max_period_error_wh", 0.0)),
            "chain_vs_mid_pct": 100 * float(acc.get("chain_vs_mid", 0.0)),
            "seconds": self.seconds,
            "blocks_per_s": self.blocks / self.seconds if self.seconds else 0.0,
            "tx_per_s": tx / self.seconds if self.seconds else 0.0,
            "store_bytes": self.store_bytes,
            "market_kwh": float(self.deals["quantity"].sum()) / 1000 if self.deals is not None else 0.0,
            "market_deals": self.deals.height if self.deals is not None else 0,
            "bytes_per_tx": self.store_bytes / tx if tx else 0.0,
        }


class _Builder:
    """Encodes and signs one period's transactions in a few batch calls."""

    def __init__(self, community: Community, chain: Chain) -> None:
        self.c = community
        self.tag = chain.chain_tag
        self.alg = community.algorithm
        self.vpp = community.public_keys[0:1]
        self.members = community.public_keys[1 : 1 + len(community.members)]
        first_dev = community.device_key_id(0)
        self.devices = community.public_keys[first_dev : first_dev + len(community.units)]
        self.dev_ids = np.arange(first_dev, first_dev + len(community.units), dtype=np.int64)
        self.votes = community.votes_per_quantum
        self.v = np.array([u.v_wh for u in community.units], dtype=np.int64)
        self.last_votes: tuple[bytes, NDArray[np.int64], NDArray[np.int64], int, int] | None = None

    def _transfers(
        self,
        period: int,
        signers: NDArray[np.uint8],
        inputs: tuple[NDArray[np.int64], NDArray[np.uint8], NDArray[np.int64]],
        outputs: tuple[
            NDArray[np.int64], NDArray[np.uint8], NDArray[np.uint8], NDArray[np.int64], NDArray[np.uint64]
        ],
    ) -> tuple[bytes, NDArray[np.int64]]:
        """One-signer Transfers in one call: (bodies, offsets); inputs and outputs are CSR columns."""
        signer_offsets = np.arange(len(signers) + 1, dtype=np.int64)
        in_offs, txids, idx = inputs
        out_offs, owners, assets, amounts, expires = outputs
        return _core.encode_transfers(
            self.tag,
            period,
            signer_offsets,
            signers,
            in_offs,
            txids,
            idx,
            out_offs,
            owners,
            assets,
            amounts,
            expires,
        )

    def settle(
        self, period: int, deals: list[Deal], alloc: NDArray[np.int64]
    ) -> tuple[NDArray[np.uint8], bytes, NDArray[np.int64]]:
        """One Transfer per seller: its distribution output of the period to its buyers, change back."""
        assert self.last_energy is not None
        d_id, e_to = self.last_energy
        index = {int(m): k for k, m in enumerate(e_to.tolist())}
        by_seller: dict[int, list[Deal]] = {}
        for d in deals:
            by_seller.setdefault(d.seller, []).append(d)
        sellers = list(by_seller)
        owners: list[int] = []
        amounts: list[int] = []
        out_offs = [0]
        for s in sellers:
            pay: dict[int, int] = {}
            for d in by_seller[s]:
                pay[d.buyer] = pay.get(d.buyer, 0) + d.quantity
            change = int(alloc[s]) - sum(pay.values())
            owners += [*pay, *([s] if change > 0 else [])]
            amounts += [*pay.values(), *([change] if change > 0 else [])]
            out_offs.append(len(owners))
        n, m = len(sellers), len(owners)
        rows = np.array(sellers, np.int64)
        bodies, offs = self._transfers(
            period,
            self.members[rows],
            (
                np.arange(n + 1, dtype=np.int64),
                np.repeat(np.frombuffer(d_id, np.uint8).reshape(1, 32), n, axis=0),
                np.array([index[s] for s in sellers], np.int64),
            ),
            (
                np.array(out_offs, np.int64),
                self.members[np.array(owners, np.int64)],
                np.zeros(m, np.uint8),
                np.array(amounts, np.int64),
                np.full(m, NEVER, np.uint64),
            ),
        )
        keys = [self.c.member_key_id(s) for s in sellers]
        ids, blob, offsets = self.c.keyring.sign_bodies(np.array(keys, np.int64), bodies, offs, self.alg)
        return ids, blob, offsets

    def period(
        self,
        period: int,
        quanta: NDArray[np.int64],
        seq0: NDArray[np.int64],
        alloc: NDArray[np.int64],
        votes: NDArray[np.int64],
    ) -> tuple[NDArray[np.uint8], bytes, NDArray[np.int64], int, int]:
        """(ids, whole transactions concatenated, their offsets, creates, transfers) of one period."""
        units = np.flatnonzero(quanta)
        self.last_votes = None
        self.last_energy: tuple[bytes, NDArray[np.int64]] | None = None
        if not len(units):
            return np.zeros((0, 32), np.uint8), b"", np.zeros(1, np.int64), 0, 0
        expires = period + self.c.vote_validity
        counts = quanta[units]
        dev_rows = np.repeat(units, counts)
        seqs = (np.concatenate([np.arange(seq0[u], seq0[u] + quanta[u]) for u in units])).astype(np.uint64)
        bodies, offs = _core.encode_creates(
            self.tag,
            period,
            self.devices[dev_rows],
            seqs,
            self.v[dev_rows],
            np.full(len(dev_rows), self.votes, np.int64),
            expires,
        )
        ids_c, blob_c, offs_c = self.c.keyring.sign_bodies(self.dev_ids[dev_rows], bodies, offs, self.alg)
        n_out = 2 if self.votes else 1
        # One Transfer per unit: its quanta's outputs in, the sums out to the VPP.
        n_units = len(units)
        in_offs = np.zeros(n_units + 1, np.int64)
        np.cumsum(counts * n_out, out=in_offs[1:])
        sums = np.column_stack([counts * self.v[units], counts * self.votes])[:, :n_out]
        t_bodies, t_offs = self._transfers(
            period,
            self.devices[units],
            (
                in_offs,
                np.repeat(ids_c, n_out, axis=0),
                np.tile(np.arange(n_out, dtype=np.int64), len(ids_c)),
            ),
            (
                np.arange(n_units + 1, dtype=np.int64) * n_out,
                np.repeat(self.vpp, n_units * n_out, axis=0),
                np.tile(np.array([0, 1][:n_out], np.uint8), n_units),
                np.ascontiguousarray(sums, dtype=np.int64).ravel(),
                np.tile(np.array([NEVER, expires][:n_out], np.uint64), n_units),
            ),
        )
        ids_t, blob_t, offs_t = self.c.keyring.sign_bodies(self.dev_ids[units], t_bodies, t_offs, self.alg)
        # The VPP's distribution: every unit transfer in, the repartition out.
        d_txids = np.repeat(ids_t, n_out, axis=0)
        d_idx = np.tile(np.arange(n_out, dtype=np.int64), len(units))
        e_to = np.flatnonzero(alloc)
        v_to = np.flatnonzero(votes)
        owners = np.concatenate([self.members[e_to], self.members[v_to]])
        d_assets = np.concatenate([np.zeros(len(e_to), np.uint8), np.ones(len(v_to), np.uint8)])
        d_amounts = np.concatenate([alloc[e_to], votes[v_to]]).astype(np.int64)
        d_exp = np.concatenate([np.full(len(e_to), NEVER, np.uint64), np.full(len(v_to), expires, np.uint64)])
        d_body, d_offs = self._transfers(
            period,
            self.vpp,
            (np.array([0, len(d_txids)], np.int64), d_txids, d_idx),
            (np.array([0, len(owners)], np.int64), owners, d_assets, d_amounts, d_exp),
        )
        ids_d, blob_d, _d = self.c.keyring.sign_bodies(np.zeros(1, np.int64), d_body, d_offs, self.alg)
        # Where the members' voting tokens went (for the auction's bidders).
        self.last_votes = (ids_d[0].tobytes(), v_to, votes[v_to].astype(np.int64), len(e_to), expires)
        self.last_energy = (ids_d[0].tobytes(), e_to)
        ids = np.concatenate([ids_c, ids_t, ids_d])
        offsets = np.concatenate(
            [offs_c, offs_t[1:] + len(blob_c), [len(blob_c) + len(blob_t) + len(blob_d)]]
        ).astype(np.int64)
        return ids, blob_c + blob_t + blob_d, offsets, len(dev_rows), len(units) + 1


def _int32(a: NDArray[np.int64], name: str) -> NDArray[np.int32]:
    """Return ``a`` as int32, or raise a BadDataError naming ``name`` and the first value out of range."""
    lo, hi = np.iinfo(np.int32).min, np.iinfo(np.int32).max
    if a.size:
        bad = np.flatnonzero((a.ravel() < lo) | (a.ravel() > hi))
        if len(bad):
            i, j = np.unravel_index(int(bad[0]), a.shape)
            v = int(a[i, j])
            raise BadDataError(
                f"{name}[{i}, {j}] = {v} Wh is beyond int32 ({lo}..{hi}), SimulationResult's type",
                name,
                v,
            )
    return a.astype(np.int32)


def _ideal_totals(energy: NDArray[np.float64], weights: NDArray[np.generic]) -> NDArray[np.float64]:
    """Return per member the sum over periods of :func:`ideal_shares` (all the accuracy report reads).

    Computed over blocks of periods and accumulated row after row, as numpy's
    ``ideal_shares(...).sum(axis=0)`` does, so the totals are the same to the bit
    without the (P, M) float array.
    """
    w = np.asarray(weights)
    n, m = w.shape
    rows = max(1, (1 << 20) // max(m, 1))
    total = np.zeros((1, m))
    for k in range(0, n, rows):
        block = ideal_shares(energy[k : k + rows], w[k : k + rows])
        total = np.concatenate([total, block]).sum(axis=0, keepdims=True)
    out: NDArray[np.float64] = total[0]
    return out


def _progress(enabled: bool, total: int):  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("[bold]simulate"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("periods"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=True,
    )


def simulate(
    community: Community,
    start: datetime = datetime(2019, 6, 3, tzinfo=UTC),
    days: float = 7,
    *,
    periods: int | None = None,
    store: str | Path | None = "gridledger-chain.sqlite",
    overwrite: bool = True,
    inputs: CommunityInputs | None = None,
    load: pl.DataFrame | None = None,
    solar: pl.DataFrame | None = None,
    progress: bool = False,
    bid_probability: float = 0.3,
    late_share: float = 0.02,
    market: Mechanism | GridMarket | None = None,
    grid: Feeder | None = None,
    loss_rule: str | LossRule = "throughput",
) -> SimulationResult:
    """Run ``community`` from ``start`` for ``days`` (or ``periods``) market periods.

    Parameters
    ----------
    community
        The :class:`Community`.
    start
        First period's start (UTC; the bundled data covers 2019).
    days, periods
        Length of the run; ``periods`` wins when given.
    store
        SQLite file to write the chain to; ``None`` keeps it in memory only.
    overwrite
        Replace an existing gridledger chain at ``store`` (never another file).
    inputs
        Precomputed :class:`CommunityInputs`; otherwise built from ``load``
        and ``solar`` (bundled Austria 2019 by default).
    progress
        Show a progress bar on stderr.
    bid_probability, late_share
        On an auction chain: the chance that a member holding valid voting
        tokens stands in a period, and the share of candidacies sent late.
    market
        ``"call"``, ``"cda"`` or ``"mcp"``: members with surplus virtual
        generation sell to members in deficit each period through that
        mechanism, settled on the ledger (:mod:`gridledger.community.trading`);
        a :class:`~gridledger.community.trading.GridMarket` runs that mechanism on a
        feeder, with the DSO's fees by distance and the congestion rule.
    grid
        A :class:`~gridledger.grid.feeder.Feeder` whose members and units are the community's (by
        label): one batched power flow over the run, violations counted, and each period's losses
        allocated by ``loss_rule`` and recorded on chain by the VPP (docs/grid.md "Losses").
    loss_rule
        ``"throughput"`` or a :class:`~gridledger.grid.losses.LossRule`.

    Returns
    -------
    SimulationResult
    """
    t0 = time.perf_counter()
    n = periods if periods is not None else round(days * 24 * 60 / community.period_minutes)
    inp = inputs or community_inputs(community, start, n, load=load, solar=solar)
    P = inp.consumption_wh.shape[0]
    meters = [Cryptometer(u.v_wh, community.period_s, u.meter) for u in community.units]
    counted: list[Quanta] = [
        m.count(inp.generation_wh[:, j], u.meter_error)
        for j, (m, u) in enumerate(zip(meters, community.units, strict=True))
    ]
    quanta = np.column_stack([q.quanta for q in counted]) if counted else np.zeros((P, 0), np.int64)
    v = np.array([u.v_wh for u in community.units], dtype=np.int64)
    energy = (quanta * v).sum(axis=1).astype(np.int64)
    vote_total = quanta.sum(axis=1).astype(np.int64) * community.votes_per_quantum
    weights = community.rule.weights(inp.periods, energy, inp.consumption_wh)
    # int32 (P, M) results: a share never exceeds its period's energy, which allocate checks.
    alloc = allocate(energy, weights, inp.periods, dtype=np.int32)
    alloc_votes = allocate(vote_total, weights, inp.periods, dtype=np.int32)
    mid_total = np.sum([q.mid_wh for q in counted], axis=0) if counted else np.zeros(P)
    ideal_wh = _ideal_totals(mid_total, weights)
    del weights  # (P, M): 280 MB for a 1 000-member year, not needed past this point
    grid_run = None
    if grid is not None:  # power flow, violations and loss shares before anything is written
        from gridledger.grid.outcome import GridRun

        grid_run = GridRun(grid, community, inp, alloc, loss_rule)
    consumption = _int32(inp.consumption_wh, "consumption_wh")
    # the units' output, the congestion rule's base flows: kept only when a market runs
    generation = inp.generation_wh if market is not None else None
    periods_ = inp.periods
    del inp  # when the inputs are ours, their int64 (P, M) consumption is freed here

    genesis = community.genesis(int(periods_[0]))
    st: ChainStore | None = None
    if store is not None:
        st = ChainStore.create(store, genesis, overwrite=overwrite)
        chain = st.chain
    else:
        chain = Chain(genesis, keep_blocks=False)
    builder = _Builder(community, chain)
    seq = np.ones(len(community.units), dtype=np.int64)
    auction = genesis.consensus.producer_rule == "auction"
    trader = (
        Trader.create(market, len(community.members), community.seed, community.period_minutes)
        if market is not None
        else None
    )
    # Written only when a market runs: np.zeros' pages take no memory until then.
    traded = np.zeros((P, len(community.members)), np.int32)
    bidders = Bidders(community, chain, bid_probability, late_share)
    member_of = {community.key(community.member_key_id(i)): i for i in range(len(community.members))}
    result = SimulationResult(community, periods_, Path(store) if store is not None else None, chain)
    # The store writes block i on its own thread while block i + 1 is built, signed and checked.
    writer = st.pipeline() if st is not None else None
    try:
        with _progress(progress, P) as bar:
            task = bar.add_task("periods", total=P)
            for i in range(P):
                p = int(periods_[i])
                ids, blob, offsets, n_c, n_t = builder.period(p, quanta[i], seq, alloc[i], alloc_votes[i])
                seq += quanta[i]
                if trader is not None and builder.last_energy is not None:
                    deals = trader.period(
                        p,
                        alloc[i].astype(np.int64),
                        consumption[i].astype(np.int64),
                        generation[i] if generation is not None else None,
                    )
                    if deals:
                        ids_s, blob_s, offs_s = builder.settle(p, deals, alloc[i])
                        offsets = np.concatenate([offsets, offs_s[1:] + len(blob)])
                        blob = blob + blob_s
                        ids = np.concatenate([ids, ids_s])
                        n_t += len(ids_s)
                        for d in deals:
                            traded[i, d.buyer] += d.quantity
                            traded[i, d.seller] -= d.quantity
                if grid_run is not None:  # the VPP's loss record, beside the distribution
                    ids_l, blob_l, _l = grid_run.record(i, p, chain.chain_tag)
                    offsets = np.concatenate([offsets, [len(blob) + len(blob_l)]])
                    blob = blob + blob_l
                    ids = np.concatenate([ids, ids_l])
                miner_pk = chain.next_miner
                miner = community.member_key_id(member_of[miner_pk])
                next_winner, pays, n_a = None, None, 0
                if auction:
                    bodies, offs, key_ids, infos = bidders.stand(p, miner_pk)
                    if key_ids:
                        ids_k, blob_k, offs_k = community.keyring.sign_bodies(
                            np.array(key_ids, np.int64), bodies, offs, community.algorithm
                        )
                        w_body, next_winner, pays = bidders.winner(p, miner_pk, ids_k, infos)
                        ids_w, blob_w, _w = community.keyring.sign_bodies(
                            np.array([miner], np.int64),
                            w_body,
                            np.array([0, len(w_body)], np.int64),
                            community.algorithm,
                        )
                        offsets = np.concatenate(
                            [offsets, offs_k[1:] + len(blob), [len(blob) + len(blob_k) + len(blob_w)]]
                        )
                        blob = blob + blob_k + blob_w
                        ids = np.concatenate([ids, ids_k, ids_w])
                        n_a = len(key_ids) + 1
                    if next_winner is None:
                        next_winner = chain.no_candidate_winner()
                header = chain.next_header(ids, next_winner=next_winner)
                hb = header.encode()
                sig = community.keyring.sign_ids(
                    np.array([miner], np.int64),
                    np.frombuffer(_core.hash_one(hb, community.algorithm), np.uint8).reshape(1, 32),
                )[0].tobytes()
                receipt = (writer.append_raw if writer is not None else chain.append_raw)(
                    hb, sig, blob, offsets
                )
                if auction and builder.last_votes is not None:
                    d_id, v_to, amounts, first, exp = builder.last_votes
                    bidders.credit(d_id, v_to, first, amounts, exp)
                if pays:
                    w_id = ids[-1].tobytes()
                    for k, (m, t, e) in enumerate(pays):
                        bidders.credit(w_id, np.array([m]), k, np.array([t]), e)
                result.blocks += 1
                result.creates += n_c
                result.transfers += n_t
                result.auction_txs += n_a
                result.signatures_made += len(ids) + 1
                result.signatures_verified += receipt.signatures
                if i % 16 == 15 or i == P - 1:
                    bar.update(task, completed=i + 1)
    finally:
        try:
            if writer is not None:
                writer.close()  # every accepted block on disk, or the write's error
        finally:
            if st is not None:
                result.store_bytes = st.size_bytes()
                st.close()
    del quanta  # (P, U) int64: not needed past the loop; the report below is built at the run's peak
    result.distributed_wh = int(alloc.sum())
    result.distributed_votes = int(alloc_votes.sum())
    result.allocated_wh = alloc
    result.traded_wh = traded
    result.deals = trader.frame() if trader is not None else None
    result.allocated_votes = alloc_votes
    result.consumption_wh = consumption
    result.grid = grid_run.outcome() if grid_run is not None else None
    result.accuracy = accuracy_report(
        periods_,
        [u.label for u in community.units],
        counted,
        v.tolist(),
        [m.label for m in community.members],
        alloc,
        ideal_wh,
    )
    result.seconds = time.perf_counter() - t0
    return result
