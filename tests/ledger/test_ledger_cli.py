"""gridledger simulate / verify / prove, and the proofs they print."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest
from gridledger import cli, merkle
from gridledger.ledger.proofs import prove_allocation
from gridledger.ledger.store import ChainStore

ARGS = ["--members", "6", "--pv-units", "2", "--days", "1", "--quiet"]


@pytest.fixture(scope="module")
def chain_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "chain.sqlite"
    assert cli.main(["simulate", *ARGS, "--out", str(path)]) == 0
    return path


def test_simulate_prints_the_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "c.sqlite"
    mf = tmp_path / "mf.parquet"
    assert cli.main(["simulate", *ARGS, "--out", str(out), "--market-face", str(mf)]) == 0
    text = capsys.readouterr().out
    for row in (
        "blocks (one per period)",
        "transactions",
        "kWh distributed",
        "signatures made / verified",
        "accuracy",
        "run time",
        "store",
    ):
        assert row in text, row
    assert "96" in text and mf.exists()
    # Running again replaces the chain it wrote, never another file.
    assert cli.main(["simulate", *ARGS, "--out", str(out)]) == 0
    other = tmp_path / "notes.txt"
    other.write_text("keep me")
    assert cli.main(["simulate", *ARGS, "--out", str(other)]) == 2
    assert other.read_text() == "keep me"


def test_verify(chain_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["verify", str(chain_file)]) == 0
    assert "chain valid: 97 blocks" in capsys.readouterr().out
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(chain_file.read_bytes())
    with sqlite3.connect(bad) as db:
        db.execute("UPDATE outputs SET amount = amount + 1 WHERE height = 50 AND asset = 0 AND owner = 1")
    assert cli.main(["verify", str(bad)]) == 1
    assert "INVALID at height 50" in capsys.readouterr().out
    with ChainStore(bad) as s:
        report = s.verify()
    assert (report.ok, report.height, report.blocks) == (False, 50, 49)  # 1..49 passed before it
    assert report.transactions > 0 and report.signatures > report.blocks
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 10)
    assert cli.main(["verify", str(junk)]) == 2
    err = capsys.readouterr().err
    assert "not a gridledger chain" in err and "hint:" in err


def test_prove(chain_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with ChainStore(chain_file) as s:
        period = s.genesis.first_period + 48  # noon
    assert cli.main(["prove", str(chain_file), "--member", "m002", "--period", str(period)]) == 0
    out = capsys.readouterr().out
    assert "verifies      True" in out and "m002" in out
    assert cli.main(["prove", str(chain_file), "--member", "2", "--period", "2019-06-03T12:05"]) == 0
    assert out.splitlines()[2] == capsys.readouterr().out.splitlines()[2]  # same allocation line
    assert cli.main(["prove", str(chain_file), "--member", "m999", "--period", str(period)]) == 2
    assert cli.main(["prove", str(chain_file), "--member", "m001", "--period", "3"]) == 2
    assert cli.main(["prove", str(chain_file), "--member", "m001", "--period", "noon"]) == 2


def test_allocation_proofs_check_against_the_published_root(chain_file: Path) -> None:
    with ChainStore(chain_file) as s:
        period = s.genesis.first_period + 50
        proof = prove_allocation(s, "m001", period)
        root = s.chain.log_root()
        assert proof.verify(root) and proof.log_root == root
        assert proof.energy_wh > 0
        wrong_amount = dataclasses.replace(proof, energy_wh=proof.energy_wh + 1)
        assert not wrong_amount.verify(root)
        assert not proof.verify(bytes(32))
        wrong_index = dataclasses.replace(proof, tx_index=proof.tx_index - 1)
        assert not wrong_index.verify(root)
        forged = bytearray(proof.tx)
        forged[-100] ^= 1
        assert not dataclasses.replace(proof, tx=bytes(forged)).verify(root)
        # The log of the first 40 blocks is a prefix of today's (consistency proof).
        old = s.chain.log_root(40)
        cp = s.chain.consistency_proof(40)
        alg = s.genesis.algorithm
        assert merkle.verify_consistency(40, s.height + 1, old, root, cp, alg)
        assert not merkle.verify_consistency(40, s.height + 1, bytes(32), root, cp, alg)
        # A block proof from the chain state equals the store's log.
        hashes = s.block_hashes()
        log = merkle.MerkleTree(hashes, alg)
        assert log.root == root
        assert s.chain.block_proof(7) == log.inclusion_proof(7)
