"""Members standing in the proof-of-stake auction during a simulated run (SPEC §3).

Each member keeps the voting tokens its virtual meter received (and what it
won); every period a member holding valid tokens, other than the period's
miner (who runs the auction and is not a candidate in it, SPEC §3), stands
with probability ``bid_probability``, offering a random non-empty share of its token outputs to
the current miner; a ``late_share`` of candidacies is sent after gate closure
and refunded. The miner then passes the on-time offers to the auction's winner.
"""

from __future__ import annotations

import random

import numpy as np
from numpy.typing import NDArray

from gridledger import _core
from gridledger.community.model import Community
from gridledger.ledger.chain import Chain

__all__ = ["Bidders"]

Holding = tuple[bytes, int, int, int]  # txid, output index, tokens, expires


class Bidders:
    """The members' token holdings and their candidacies, period by period."""

    def __init__(self, community: Community, chain: Chain, bid_probability: float, late_share: float) -> None:
        self.c = community
        self.chain = chain
        self.rng = random.Random(community.seed * 7919 + 17)
        self.bid_probability = bid_probability
        self.late_share = late_share
        self.held: list[list[Holding]] = [[] for _ in community.members]
        self.index = {
            bytes(community.key(community.member_key_id(i))): i for i in range(len(community.members))
        }
        cons = chain.genesis.consensus
        self.gate = (round(cons.gate_open_s * 1000), round(cons.gate_close_s * 1000))
        self.candidacies = self.winners = self.refunds = 0

    def credit(
        self,
        txid: bytes,
        owners: NDArray[np.int64],
        first_index: int,
        amounts: NDArray[np.int64],
        expires: int,
    ) -> None:
        """Vote outputs ``first_index, first_index + 1, …`` of ``txid`` went to members ``owners``."""
        for k, (m, a) in enumerate(zip(owners.tolist(), amounts.tolist(), strict=True)):
            self.held[m].append((txid, first_index + k, a, expires))

    def stand(
        self, period: int, miner: bytes
    ) -> tuple[bytes, NDArray[np.int64], list[int], list[tuple[int, int, int, bool]]]:
        """Encode this period's candidacies in one call; ``miner`` (the period's) does not stand.

        Returns (bodies concatenated, their offsets, signing key ids, (member,
        tokens, expires, on time) per candidacy).
        """
        key_ids: list[int] = []
        infos: list[tuple[int, int, int, bool]] = []
        sent_ms: list[int] = []
        offered: list[Holding] = []
        in_offs = [0]
        start = period * self.c.period_s * 1000
        end = start + self.c.period_s * 1000
        open_, close = start + self.gate[0], end - self.gate[1]
        miner_index = self.index.get(bytes(miner))
        for m, held in enumerate(self.held):
            valid = [h for h in held if h[3] >= period]
            self.held[m] = valid
            if m == miner_index or not valid or self.rng.random() >= self.bid_probability:
                continue
            offer = self.rng.sample(valid, self.rng.randint(1, len(valid)))
            late = self.rng.random() < self.late_share
            sent_ms.append(self.rng.randint(close + 1, end - 1) if late else self.rng.randint(open_, close))
            tokens = sum(h[2] for h in offer)
            exp = min(h[3] for h in offer)
            offered += offer
            in_offs.append(len(offered))
            key_ids.append(self.c.member_key_id(m))
            infos.append((m, tokens, exp, not late))
            self.held[m] = [h for h in valid if h not in offer]
        n = len(key_ids)
        # Each candidacy spends its offered outputs into one output: every token to the miner.
        bodies, offsets = _core.encode_candidates(
            self.chain.chain_tag,
            period,
            self.c.public_keys[np.array(key_ids, np.int64)].reshape(-1, 32),
            np.array(sent_ms, np.int64),
            np.array(in_offs, np.int64),
            np.frombuffer(b"".join(h[0] for h in offered), np.uint8).reshape(-1, 32),
            np.array([h[1] for h in offered], np.int64),
            np.arange(n + 1, dtype=np.int64),
            np.repeat(np.frombuffer(miner, np.uint8).reshape(1, 32), n, axis=0),
            np.ones(n, np.uint8),
            np.array([t for _, t, _, _ in infos], np.int64),
            np.array([e for _, _, e, _ in infos], np.uint64),
        )
        self.candidacies += n
        return bodies, offsets, key_ids, infos

    def winner(
        self, period: int, miner: bytes, cand_ids: NDArray[np.uint8], infos: list[tuple[int, int, int, bool]]
    ) -> tuple[bytes, bytes | None, list[tuple[int, int, int]]]:
        """Return the Winner body, the winner, and who gets which output.

        The outputs are (member, tokens, expires) in order.
        """
        on_time = [x for x in infos if x[3]]
        keys = [self.c.key(self.c.member_key_id(m)) for m, _, _, _ in on_time]
        won, _ = self.chain.auction(keys, [t for _, t, _, _ in on_time])
        pays: list[tuple[int, int, int]] = []
        if won is not None:
            pays.append(
                (self.index[bytes(won)], sum(t for _, t, _, _ in on_time), min(e for _, _, e, _ in on_time))
            )
        pays += [(m, t, e) for m, t, e, ok in infos if not ok]
        owners = np.stack([self.c.public_keys[self.c.member_key_id(m)] for m, _, _ in pays]) if pays else None
        body = _core.encode_auction_tx(
            "winner",
            self.chain.chain_tag,
            period,
            miner,
            cand_ids,
            np.zeros(len(cand_ids), np.int64),
            owners if owners is not None else np.zeros((0, 32), np.uint8),
            np.ones(len(pays), np.uint8),
            np.array([t for _, t, _ in pays], np.int64),
            np.array([e for _, _, e in pays], np.uint64),
            winner=won or bytes(32),
        )
        self.winners += won is not None
        self.refunds += len(pays) - (won is not None)
        return body, won, pays
