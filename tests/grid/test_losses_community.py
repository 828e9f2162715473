"""A community run on a feeder (issue 20 items 4-5): one power flow, violations, losses settled on chain."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from gridledger import community
from gridledger.errors import BadConfigurationError, GridLedgerError, NonConvergenceError
from gridledger.grid import radial_feeder
from gridledger.grid.losses import Custom, LossAllocationError
from gridledger.ledger import ChainStore, Losses, decode, prove_allocation, prove_loss_share
from gridledger.ledger.genesis import Consensus

START = datetime(2019, 6, 3, tzinfo=UTC)
P = 96


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[community.SimulationResult, Path]:
    path = tmp_path_factory.mktemp("grid") / "chain.sqlite"
    c = community.Community.default(members=8, pv_units=3, seed=4, consensus=Consensus())
    feeder = radial_feeder(8, units=3, n_legs=2)
    return community.simulate(c, START, periods=P, store=path, grid=feeder), path


def test_a_run_on_a_feeder_settles_its_losses_on_chain(run: tuple[community.SimulationResult, Path]) -> None:
    result, path = run
    g = result.grid
    assert g is not None
    assert g.records == P == result.blocks
    assert result.transactions == result.creates + result.transfers + result.auction_txs + P
    assert g.losses_wh.shape == (P,) and g.loss_shares_wh.shape == (P, 8)
    assert (g.losses_wh > 0).all()  # the transformer's iron losses at least
    assert g.loss_shares_wh.sum(axis=1).tolist() == g.losses_wh.tolist()
    assert g.loss_by_member().sum() == g.losses_wh.sum()
    assert g.loss_shares_wh.dtype == np.int32  # 4 bytes a cell
    assert np.allclose(g.losses_wh, np.floor(g.losses_w * 900 / 3600 + 0.5))
    # A strong urban feeder: no violations; beyond the transformer's iron losses (a day of
    # 1.35 kW), the losses are a small part of the energy drawn.
    assert g.violations.periods_with_violations == 0
    iron_kwh = 1.35 * P / 4
    assert (
        iron_kwh * 0.99
        < float(g.summary()["losses_kwh"])
        < iron_kwh + 0.05 * result.consumption_wh.sum() / 1000
    )
    with ChainStore(path) as st:
        assert st.verify().ok
        noon = int(result.periods[48])
        for m in range(8):
            proof = prove_loss_share(st, m, noon)
            assert proof.verify(st.chain.log_root())
            assert proof.loss_wh == int(g.loss_shares_wh[48, m])
            assert proof.total_wh == int(g.losses_wh[48])
        alloc = prove_allocation(st, 0, noon)
        assert alloc.block_proof == proof.block_proof
        # The record sits after the period's distribution in the same block.
        txs = [decode(t).tx for t in st.block(proof.height).txs]
        assert isinstance(txs[-1], Losses)


def test_the_same_run_without_a_grid_writes_the_same_chain_but_the_records(tmp_path: Path) -> None:
    c = community.Community.default(members=4, pv_units=1, seed=2, consensus=Consensus())
    plain = community.simulate(c, START, periods=8, store=None)
    gridded = community.simulate(c, START, periods=8, store=None, grid=radial_feeder(4, units=1))
    assert plain.grid is None
    assert np.array_equal(plain.allocated_wh, gridded.allocated_wh)
    assert gridded.transactions == plain.transactions + 8


def test_verify_rejects_a_tampered_loss_record(
    run: tuple[community.SimulationResult, Path], tmp_path: Path
) -> None:
    _, path = run
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(path.read_bytes())
    with closing(sqlite3.connect(copy, isolation_level=None)) as db:
        seq, data = db.execute(
            "SELECT seq, data FROM txs WHERE kind = 5 ORDER BY seq LIMIT 1 OFFSET 40"
        ).fetchone()
        b = bytearray(data)
        b[22 + 32 + 8 + 4 + 32] ^= 1  # the first share's Wh: the shares no longer sum to the total
        db.execute("UPDATE txs SET data = ? WHERE seq = ?", (bytes(b), seq))
    with ChainStore(copy) as st:
        report = st.verify()
    assert not report.ok
    assert report.height == 41


def test_a_weak_feeder_counts_its_violations() -> None:
    c = community.Community.default(members=6, pv_units=6, kwp=30.0, seed=1, consensus=Consensus())
    weak = radial_feeder(6, units=6, n_legs=1, line_type="15-AL1/3-ST1A 0.4", span_m=250.0)
    r = community.simulate(c, START, periods=P, store=None, grid=weak)
    v = r.grid.violations if r.grid is not None else None
    assert v is not None
    assert v.overvoltage.sum() > 0  # midday PV pushes the far end of the leg above 1.1 p.u.
    assert v.overvoltage[:16].sum() == 0  # none at night
    assert v.bus_periods[0] == 0  # the busbar is held by the transformer
    assert v.bus_periods[-1] >= v.bus_periods[1]  # the far end worst
    assert v.line_periods.sum() > 0  # the thin overhead line overloads at the PV peak
    assert r.grid is not None and r.grid.summary()["periods_with_violations"] == v.periods_with_violations > 0


def test_a_feeder_that_does_not_fit_the_community_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    c = community.Community.default(members=4, pv_units=1, seed=2)
    path = tmp_path / "chain.sqlite"
    with pytest.raises(BadConfigurationError, match="m003") as e:
        community.simulate(c, START, periods=4, store=path, grid=radial_feeder(3, units=1))
    assert e.value.field == "grid.members"
    with pytest.raises(BadConfigurationError, match="pv01"):
        community.simulate(c, START, periods=4, store=path, grid=radial_feeder(4, units=2))
    with pytest.raises(BadConfigurationError, match="grid"):
        community.simulate(c, START, periods=4, store=path, grid="feeder.toml")  # type: ignore[arg-type]
    rule = Custom(lambda p, cons, a: -np.ones(cons.shape), name="negative")
    with pytest.raises(LossAllocationError, match="negative"):
        community.simulate(c, START, periods=4, store=path, grid=radial_feeder(4, units=1), loss_rule=rule)
    with pytest.raises(GridLedgerError, match="loss rule"):
        community.simulate(c, START, periods=4, store=path, grid=radial_feeder(4, units=1), loss_rule="nodal")
    assert not path.exists()


def test_the_cli_proves_a_loss_share_and_verifies_the_chain(
    run: tuple[community.SimulationResult, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from gridledger import cli

    result, path = run
    noon = str(int(result.periods[48]))
    assert cli.main(["prove", str(path), "--member", "m003", "--period", noon, "--losses"]) == 0
    out = capsys.readouterr().out
    assert result.grid is not None
    assert f"loss share    {int(result.grid.loss_shares_wh[48, 3])} Wh" in out
    assert "verifies      True" in out
    assert cli.main(["prove", str(path), "--member", "m003", "--period", noon]) == 0
    assert "allocation" in capsys.readouterr().out
    assert cli.main(["verify", str(path)]) == 0


def test_periods_without_a_power_flow_solution_are_named_and_nothing_is_written(tmp_path: Path) -> None:
    # 200 MWh a year per member at the end of 12 km of thin overhead line: no operating point exists.
    c = community.Community.default(members=4, pv_units=1, seed=2, consensus=Consensus(), annual_kwh=200000.0)
    hopeless = radial_feeder(4, units=1, n_legs=1, line_type="15-AL1/3-ST1A 0.4", span_m=3000.0)
    path = tmp_path / "chain.sqlite"
    with pytest.raises(NonConvergenceError, match="did not converge in 4 of 4 periods") as e:
        community.simulate(c, datetime(2019, 1, 3, 17, tzinfo=UTC), periods=4, store=path, grid=hopeless)
    assert e.value.field == "periods" and e.value.value == [1718372, 1718373, 1718374, 1718375]
    assert not path.exists()
