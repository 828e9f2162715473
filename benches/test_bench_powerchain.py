"""Issue: PowerChain — 10^5 random commands replayed end to end (target ≥ 20 000 commands/s).

The workload (``_powerchain_workload.py``, seeded) is a community of 200
members and 10 storage units issuing a mix of production, sessions,
consumption, transfers, orders, cancels, banker commands, reports, expiry
sweeps and votes; only accepted commands reach the chain. ``replay`` starts
from genesis and checks everything a node would: every Ed25519 signature
(one batch, on a worker thread while the commands run), each block's link,
sealer, command root and state root, and each command's nonce, time and
rules. Blocks of 100 and of 1 000 commands (the state root is recomputed per
block, so block size matters). Also timed separately: the signature batch
alone and the replay without signatures, to show where the time goes.
"""

from __future__ import annotations

import numpy as np
import pytest
from _common import FULL, note
from _powerchain_workload import build
from gridledger import keys
from gridledger.powerchain import Block, PowerChain
from gridledger.powerchain import blocks as blocks_module
from gridledger.powerchain.codec import decode_tx
from pytest_benchmark.fixture import BenchmarkFixture

N = 10**5 if FULL else 2_000
ROUNDS = 3 if FULL else 1


@pytest.fixture(scope="module", params=[100, 1000], ids=lambda b: f"block{b}")
def chain(request: pytest.FixtureRequest) -> tuple[bytes, list[Block], int]:
    genesis, blocks = build(N, block_size=request.param)
    assert sum(len(b.commands) for b in blocks) == N
    return genesis, blocks, request.param


def test_replay(benchmark: BenchmarkFixture, chain: tuple[bytes, list[Block], int]) -> None:
    genesis, blocks, size = chain
    benchmark.group = f"9 powerchain replay: {N} commands"
    note(benchmark, f"powerchain.replay_block{size}", "ours", N, block_size=size)
    pc = benchmark.pedantic(PowerChain.replay, (genesis, blocks), rounds=ROUNDS, iterations=1)
    assert len(pc.blocks) == len(blocks)


def test_signatures_alone(benchmark: BenchmarkFixture, chain: tuple[bytes, list[Block], int]) -> None:
    _, blocks, size = chain
    if size != 100:
        pytest.skip("once is enough")
    txs = [decode_tx(c) for b in blocks for c in b.commands]
    pks, bodies, sigs = [t.public_key for t in txs], [t.body for t in txs], [t.signature for t in txs]
    benchmark.group = f"9 powerchain replay: {N} commands"
    note(benchmark, "powerchain.signatures", "info", N)
    ok = benchmark.pedantic(keys.verify_batch, (pks, bodies, sigs), rounds=ROUNDS, iterations=1)
    assert ok.all()


def test_replay_without_signatures(
    benchmark: BenchmarkFixture, chain: tuple[bytes, list[Block], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    genesis, blocks, size = chain
    benchmark.group = f"9 powerchain replay: {N} commands"
    note(benchmark, f"powerchain.rules_block{size}", "info", N, block_size=size)

    class NoCheck:
        @staticmethod
        def verify_batch(pks: list[bytes], bodies: list[bytes], sigs: list[bytes]) -> np.ndarray:
            return np.ones(len(pks), dtype=bool)

    monkeypatch.setattr(blocks_module, "keys", NoCheck)
    benchmark.pedantic(PowerChain.replay, (genesis, blocks), rounds=ROUNDS, iterations=1)
