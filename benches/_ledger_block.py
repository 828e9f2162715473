"""The block of the validation target: N transfers of 1 input and 2 outputs, each signed by its owner.

A SHA-256 chain (so that the pure-Python validator can use hashlib) whose
genesis registers N members (keys from one ``_core.KeyRing``: 0 the VPP,
1..N the members, N + 1 one PV unit with V = 1 000·N Wh and no voting
tokens). Block 1 gives every member an output: the unit's Create, its
transfer to the VPP, and the VPP's distribution of 1 000 Wh to each member.
Block 2, the measured one, has N transfers: member i spends its 1 000 Wh,
paying 600 Wh to member i + 1 and 400 Wh back to itself.

``python benches/_ledger_block.py time N REPS`` prints one JSON line: the
median wall and CPU time of ``ChainState.check`` on that block in a fresh
interpreter (so ``RAYON_NUM_THREADS=1`` can be compared with the default pool).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np
from gridledger import _core
from gridledger._shapes import BlockCheck
from gridledger.ledger import NEVER, Chain, DeviceEntry, Genesis, MemberEntry
from numpy.typing import NDArray

FIRST_PERIOD = 1_717_200_000 // 900  # 2024-06-01 00:00 UTC, 15-minute periods
WH_EACH = 1_000


@dataclass(frozen=True)
class RawBlock:
    """A block as the core and the pure-Python validator both take it."""

    header: bytes
    signature: bytes
    blob: bytes
    offsets: NDArray[np.int64]

    @property
    def offset_list(self) -> list[int]:
        return [int(x) for x in self.offsets]

    def txs(self) -> list[bytes]:
        o = self.offset_list
        return [self.blob[a:b] for a, b in itertools.pairwise(o)]


def join(txs: list[bytes]) -> tuple[bytes, NDArray[np.int64]]:
    offsets = np.zeros(len(txs) + 1, np.int64)
    np.cumsum([len(t) for t in txs], out=offsets[1:])
    return b"".join(txs), offsets


class LedgerBench:
    """A chain holding ``n`` members' outputs, and builders of blocks that spend them."""

    def __init__(self, n: int, algorithm: str = "sha256") -> None:
        self.n = n
        self.alg = algorithm
        seeds = b"".join(hashlib.sha256(f"gridledger bench key {i}".encode()).digest() for i in range(n + 2))
        self.ring = _core.KeyRing(seeds)
        self.pks = self.ring.public_keys()
        self.genesis = Genesis(
            algorithm=algorithm,  # type: ignore[arg-type]
            period_s=900,
            first_period=FIRST_PERIOD,
            vote_validity=4,
            vpp=self.key(0),
            members=tuple(MemberEntry(self.key(1 + i), f"m{i:05d}") for i in range(n)),
            devices=(DeviceEntry(self.key(n + 1), WH_EACH * n, 0, "pv0"),),
            name="validation benchmark",
        )
        self.genesis_raw = self.genesis.encode()
        self.chain = Chain(self.genesis_raw, keep_blocks=False)
        self.tag = self.chain.chain_tag
        self.setup_blocks: list[RawBlock] = []
        self.dist_id = self._setup()

    def key(self, ring_index: int) -> bytes:
        return bytes(self.pks[ring_index].tobytes())

    def sign(self, ring_index: list[int], bodies: list[bytes]) -> tuple[NDArray[np.uint8], list[bytes]]:
        """Ids and whole signed transactions of ``bodies``, body i signed by key ``ring_index[i]``."""
        blob, offsets = join(bodies)
        ids, signed, offs = self.ring.sign_bodies(np.array(ring_index, np.int64), blob, offsets, self.alg)
        o = offs.tolist()
        return ids, [signed[a:b] for a, b in itertools.pairwise(o)]

    def transfer_body(
        self,
        signer: int,
        inputs: list[tuple[bytes, int]],
        outputs: list[tuple[int, int]],
        period: int | None = None,
        tag: bytes | None = None,
    ) -> bytes:
        """A transfer body: ring key ``signer`` signs, outputs are (ring key, Wh) of energy."""
        k = len(outputs)
        return _core.encode_transfer(
            self.tag if tag is None else tag,
            self.chain.period + 1 if period is None else period,
            self.pks[signer : signer + 1],
            np.frombuffer(b"".join(t for t, _ in inputs), np.uint8).reshape(-1, 32),
            np.array([i for _, i in inputs], np.int64),
            self.pks[[o for o, _ in outputs]],
            np.zeros(k, np.uint8),
            np.array([a for _, a in outputs], np.int64),
            np.full(k, NEVER, np.uint64),
        )

    def _setup(self) -> bytes:
        """Block 1: Create → the VPP → 1 000 Wh to every member. Returns the distribution's id."""
        n, period = self.n, FIRST_PERIOD
        dev = n + 1
        v_wh = WH_EACH * n
        create = _core.encode_create(self.tag, period, self.key(dev), 1, v_wh, 0, 0)
        (c_id,), (c_tx,) = self.sign([dev], [create])
        unit = self.transfer_body(dev, [(c_id.tobytes(), 0)], [(0, v_wh)], period)
        (u_id,), (u_tx,) = self.sign([dev], [unit])
        dist = self.transfer_body(0, [(u_id.tobytes(), 0)], [(1 + i, WH_EACH) for i in range(n)], period)
        (d_id,), (d_tx,) = self.sign([0], [dist])
        block = self.seal([c_tx, u_tx, d_tx])
        self.chain.append_raw(block.header, block.signature, block.blob, block.offsets)
        self.setup_blocks.append(block)
        return bytes(d_id)

    def transfers(
        self, spenders: list[int], pay: tuple[int, int] = (600, 400), signers: list[int] | None = None
    ) -> list[bytes]:
        """Member i spends its setup output: ``pay[0]`` Wh to member i + 1, ``pay[1]`` back to itself.

        ``signers`` (member indices) sign instead of the owners (for the rejected cases).
        """
        n = self.n
        who = spenders if signers is None else signers
        bodies = [
            self.transfer_body(1 + w, [(self.dist_id, i)], [(1 + (i + 1) % n, pay[0]), (1 + i, pay[1])])
            for i, w in zip(spenders, who, strict=True)
        ]
        return self.sign([1 + w for w in who], bodies)[1]

    def seal(self, txs: list[bytes]) -> RawBlock:
        """The next block of ``txs`` (whole transactions), signed by its round-robin producer."""
        blob, offsets = join(txs)
        ids = np.frombuffer(
            b"".join(_core.hash_one(t[: _core.decode_tx(t)["body_len"]], self.alg) for t in txs), np.uint8
        ).reshape(-1, 32)
        header = self.chain.next_header(ids).encode()
        miner = 1 + self.chain.height % self.n  # member (h − 1) mod M produces height h
        block_hash = np.frombuffer(_core.hash_one(header, self.alg), np.uint8).reshape(1, 32)
        sig = self.ring.sign_ids(np.array([miner], np.int64), block_hash)[0].tobytes()
        return RawBlock(header, sig, blob, offsets)

    def block(self) -> RawBlock:
        """The measured block: every member's transfer, in member order."""
        return self.seal(self.transfers(list(range(self.n))))

    def check(self, b: RawBlock) -> BlockCheck:
        """Our validation: one ``ChainState.check`` call (changes nothing)."""
        return self.chain._state.check(b.header, b.signature, b.blob, b.offsets)


def timed(n: int, reps: int) -> dict[str, object]:
    import os

    bench = LedgerBench(n)
    b = bench.block()
    bench.check(b)
    walls, cpus = [], []
    for _ in range(reps):
        c0, w0 = time.process_time(), time.perf_counter()
        bench.check(b)
        c1, w1 = time.process_time(), time.perf_counter()
        walls.append(w1 - w0)
        cpus.append(c1 - c0)
    return {
        "n": n,
        "reps": reps,
        "rayon_threads": os.environ.get("RAYON_NUM_THREADS", "default"),
        "wall_median": statistics.median(walls),
        "cpu_median": statistics.median(cpus),
    }


def main(argv: list[str]) -> None:
    if argv[:1] != ["time"] or len(argv) != 3:
        raise SystemExit(__doc__)
    print(json.dumps(timed(int(argv[1]), int(argv[2]))))


if __name__ == "__main__":
    main(sys.argv[1:])
