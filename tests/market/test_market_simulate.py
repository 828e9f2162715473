"""Members trading surplus virtual generation inside a community run, settled on the ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import pytest
from gridledger import cli, community
from gridledger.errors import BadConfigurationError
from gridledger.ledger import ChainStore


@pytest.mark.parametrize("market", ["call", "cda", "mcp"])
def test_trades_settle_on_chain_and_conserve_energy(
    market: Literal["call", "cda", "mcp"], tmp_path: Path
) -> None:
    # Equal shares (under pro rata every member is in surplus or in deficit together: no trade).
    c = community.Community.default(10, 1, kwp=4.0, seed=4, repartition="equal")
    r = community.simulate(
        c, datetime(2019, 6, 3, tzinfo=UTC), days=1, store=tmp_path / "c.sqlite", market=market
    )
    assert r.deals is not None and r.deals.height > 0
    net = r.allocated_wh - r.consumption_wh
    # Nobody sells more than its surplus or buys more than its deficit, in any period.
    sold = np.clip(-r.traded_wh, 0, None)
    bought = np.clip(r.traded_wh, 0, None)
    assert np.all(sold <= np.clip(net, 0, None)) and np.all(bought <= np.clip(-net, 0, None))
    assert r.traded_wh.sum() == 0  # every Wh sold was bought
    # On chain: each member holds its allocation plus what it bought minus what it sold.
    balances = [r.chain.balance(c.key(c.member_key_id(m)))[0] for m in range(10)]
    assert balances == (r.allocated_wh + r.traded_wh).sum(axis=0).tolist()
    with ChainStore(tmp_path / "c.sqlite") as s:
        assert s.verify().ok
    mf = r.market_face()
    assert (
        mf["consumption_wh"] - mf["virtual_generation_wh"] - mf["traded_wh"] == mf["market_face_wh"]
    ).all()
    if market in ("call", "cda"):
        # Individually rational: buyers pay at most their value, sellers get at least their cost.
        trader_values = community.trading.Trader(10, market, c.seed)
        for seller, buyer, price in r.deals.select("seller", "buyer", "price").iter_rows():
            assert trader_values.sell_value[seller] <= price <= trader_values.buy_value[buyer]


def test_unknown_market_is_refused() -> None:
    c = community.Community.default(3, 1)
    with pytest.raises(BadConfigurationError):
        community.simulate(c, periods=4, store=None, market="barter")  # type: ignore[arg-type]


def test_cli_market_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m.sqlite"
    args = [
        "simulate",
        "--members",
        "8",
        "--pv-units",
        "1",
        "--kwp",
        "4",
        "--repartition",
        "equal",
        "--days",
        "1",
    ]
    args += ["--quiet", "--market", "call"]
    assert cli.main([*args, "--out", str(out)]) == 0
    assert "settled on chain" in capsys.readouterr().out
