"""The power flow agrees with pandapower's Newton-Raphson (issue 20 item 3, docs/grid.md "Power flow").

On pandapower's own LV test networks (Kerber, Dickert), read with ``from_pandapower``, and on
generated feeders written into pandapower nets, for many seeded random load/generation snapshots:
|vm - vm_pp| <= 1e-6 p.u. and losses within 1e-6 relative (angles, line currents and the slack's
power too). pandapower is a test-only dependency (the ``test`` extra).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest
from gridledger.errors import BadElementError, MeshedNetworkError, UnknownBusError
from gridledger.grid import Feeder, PowerFlowResult, powerflow, radial_feeder
from gridledger.grid.generate import LINE_TYPES, TRANSFORMER_TYPES
from gridledger.grid.pandapower_io import from_pandapower, to_pandapower
from hypothesis import given, settings
from hypothesis import strategies as st

VM_TOL = 1e-6
LOSS_RTOL = 1e-6


def with_loads(net: Any, f: Feeder) -> list[int]:
    """Replace the net's loads and generators by one load per LV bus (set per snapshot)."""
    for table in ("load", "sgen"):
        df = getattr(net, table)
        df.drop(df.index, inplace=True)
    idx = [int(b.name) for b in f.buses]
    pp.create_loads(net, idx, p_mw=0.0, q_mvar=0.0)
    return idx


def run_pp(net: Any, p_w: np.ndarray[Any, Any], q_var: np.ndarray[Any, Any]) -> None:
    """One snapshot in pandapower: the loads are minus the net injections."""
    net.load["p_mw"] = -p_w / 1e6
    net.load["q_mvar"] = -q_var / 1e6
    pp.runpp(
        net, algorithm="nr", tolerance_mva=1e-11, calculate_voltage_angles=True, numba=False, max_iteration=30
    )


def compare(net: Any, f: Feeder, idx: list[int], r: PowerFlowResult, t: int, line_idx: list[int]) -> None:
    assert r.converged[t]
    vm = net.res_bus.vm_pu.loc[idx].to_numpy()
    va = net.res_bus.va_degree.loc[idx].to_numpy()
    np.testing.assert_allclose(r.vm_pu[t], vm, rtol=0, atol=VM_TOL)
    np.testing.assert_allclose(r.va_deg[t], va, rtol=0, atol=1e-5)
    loss_pp = (net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()) * 1e6
    assert abs(r.losses_w[t] - loss_pp) <= LOSS_RTOL * loss_pp
    trafo_pp = net.res_trafo.pl_mw.iloc[0] * 1e6
    assert abs(r.trafo_losses_w[t] - trafo_pp) <= LOSS_RTOL * trafo_pp
    i_pp = net.res_line.i_ka.loc[line_idx].to_numpy() * 1e3
    np.testing.assert_allclose(r.i_line_a[t], i_pp, rtol=1e-6, atol=1e-6)
    p_pp = net.res_ext_grid.p_mw.iloc[0] * 1e6
    assert abs(r.p_slack_w[t] - p_pp) <= 1e-6 * max(abs(p_pp), 1e3)


def snapshots(rng: np.random.Generator, t: int, n: int, scale_w: float) -> tuple[Any, Any]:
    """Households drawing up to ``scale_w`` and PV on some buses feeding in up to half of it."""
    load = rng.uniform(0.0, scale_w, size=(t, n))
    pv = rng.uniform(0.0, 0.5 * scale_w, size=(t, n)) * (rng.random((t, n)) < 0.4)
    p = pv - load
    q = -load * rng.uniform(0.0, 0.4, size=(t, n))
    return p, q


# (network, total peak draw as a share of the transformer's rating: the long mixed
# Dickert feeder is weak, loaded beyond ~30 % its end voltage collapses)
NETWORKS: dict[str, tuple[Callable[[], Any], float]] = {
    "kerber_landnetz_kabel_1": (pn.create_kerber_landnetz_kabel_1, 0.7),
    "kerber_landnetz_kabel_2": (pn.create_kerber_landnetz_kabel_2, 0.7),
    "kerber_landnetz_freileitung_1": (pn.create_kerber_landnetz_freileitung_1, 0.7),
    "kerber_dorfnetz": (pn.create_kerber_dorfnetz, 0.7),
    "kerber_vorstadtnetz_kabel_1": (pn.create_kerber_vorstadtnetz_kabel_1, 0.7),
    "dickert_long_mixed": (
        lambda: pn.create_dickert_lv_network(
            feeders_range="long", linetype="C&OHL", customer="multiple", case="bad"
        ),
        0.25,
    ),
}


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_pandapower_lv_networks(name: str) -> None:
    make, share = NETWORKS[name]
    net = make()
    f = from_pandapower(net)
    idx = with_loads(net, f)
    line_idx = [int(ln.name) for ln in f.lines]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    scale = share * f.transformer.sn_kva * 1e3 / f.n_buses
    p, q = snapshots(rng, 6, f.n_buses, scale)
    r = powerflow(f, p, q, tol_pu=1e-12)
    for t in range(p.shape[0]):
        run_pp(net, p[t], q[t])
        compare(net, f, idx, r, t, line_idx)


@settings(max_examples=12, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=60),
    legs=st.integers(min_value=1, max_value=5),
    line_type=st.sampled_from(sorted(LINE_TYPES)),
    transformer=st.sampled_from(sorted(TRANSFORMER_TYPES)),
    slack=st.floats(min_value=0.95, max_value=1.05),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_generated_feeders(
    n: int, legs: int, line_type: str, transformer: str, slack: float, seed: int
) -> None:
    g = radial_feeder(n, n_legs=legs, line_type=line_type, transformer=transformer, seed=seed % 97)
    f = Feeder(list(g.buses), list(g.lines), g.transformer, slack_vm_pu=slack)
    net, idx = to_pandapower(f)  # one load of 0 MW on every LV bus
    rng = np.random.default_rng(seed)
    # scale to the weakest of the line and the transformer so the snapshot stays solvable
    per_bus = min(0.6 * f.transformer.sn_kva * 1e3, 0.25 * LINE_TYPES[line_type].max_i_a * 400 * 1.7) / n
    p, q = snapshots(rng, 3, f.n_buses, per_bus)
    r = powerflow(f, p, q, tol_pu=1e-12)
    for t in range(p.shape[0]):
        run_pp(net, p[t], q[t])
        compare(net, f, idx, r, t, list(range(f.n_lines)))


def test_round_trip_through_pandapower() -> None:
    f = radial_feeder(25, n_legs=3, seed=5)
    net, idx = to_pandapower(f)
    g = from_pandapower(net)
    assert g.n_buses == f.n_buses and g.n_lines == f.n_lines
    assert [b.name for b in g.buses] == [str(i) for i in idx]
    p, q = snapshots(np.random.default_rng(0), 4, f.n_buses, 4e3)
    np.testing.assert_allclose(powerflow(g, p, q).vm_pu, powerflow(f, p, q).vm_pu, rtol=0, atol=1e-13)


def test_std_types_are_pandapower_s() -> None:
    net = pp.create_empty_network()
    lines = pp.available_std_types(net, "line")
    for name, lt in LINE_TYPES.items():
        row = lines.loc[name]
        assert (lt.r_ohm_per_km, lt.x_ohm_per_km, lt.c_nf_per_km) == (
            row.r_ohm_per_km,
            row.x_ohm_per_km,
            row.c_nf_per_km,
        )
        assert lt.max_i_a == pytest.approx(row.max_i_ka * 1e3)
    trafos = pp.available_std_types(net, "trafo")
    for name, tt in TRANSFORMER_TYPES.items():
        row = trafos.loc[name]
        assert tt.sn_kva == pytest.approx(row.sn_mva * 1e3)
        got = (
            tt.vn_hv_kv,
            tt.vn_lv_kv,
            tt.vk_percent,
            tt.vkr_percent,
            tt.pfe_kw,
            tt.i0_percent,
            tt.shift_degree,
        )
        want = (row.vn_hv_kv, row.vn_lv_kv, row.vk_percent, row.vkr_percent, row.pfe_kw, row.i0_percent)
        assert got == (*want, row.shift_degree)


def test_absurd_load_fails_in_both() -> None:
    net = pn.create_kerber_landnetz_kabel_1()
    f = from_pandapower(net)
    with_loads(net, f)
    p = np.full((2, f.n_buses), -1e3)
    p[1] = -5e6  # 5 MW per house on a 100 kVA transformer
    with pytest.warns(UserWarning, match="1 of 2 periods"):
        r = powerflow(f, p)
    assert r.converged.tolist() == [True, False]
    with pytest.raises(pp.LoadflowNotConverged):
        run_pp(net, p[1], np.zeros(f.n_buses))


def test_from_pandapower_refuses_what_it_cannot_model() -> None:
    net = pn.create_kerber_landnetz_kabel_1()
    lv = int(net.trafo.lv_bus.iloc[0])
    two = pn.create_kerber_landnetz_kabel_1()
    pp.create_transformer(two, int(two.trafo.hv_bus.iloc[0]), lv, "0.25 MVA 20/0.4 kV")
    with pytest.raises(BadElementError, match="2 transformers"):
        from_pandapower(two)
    tapped = pn.create_kerber_landnetz_kabel_1()
    tapped.trafo.loc[:, "tap_neutral"] = 0.0
    tapped.trafo.loc[:, "tap_pos"] = 2.0
    with pytest.raises(BadElementError, match="tap_pos"):
        from_pandapower(tapped)
    cond = pn.create_kerber_landnetz_kabel_1()
    cond.line.loc[cond.line.index[3], "g_us_per_km"] = 1.0
    with pytest.raises(BadElementError, match="g_us_per_km"):
        from_pandapower(cond)
    sw = pn.create_kerber_landnetz_kabel_1()
    pp.create_switch(sw, lv, int(sw.line.to_bus.iloc[0]), et="b", closed=True)
    with pytest.raises(BadElementError, match="bus-bus switch"):
        from_pandapower(sw)
    with pytest.raises(UnknownBusError, match="members"):
        from_pandapower(net, members={"m0": 99_999})
    with pytest.raises(UnknownBusError, match="members"):
        from_pandapower(net, members={"m0": int(net.trafo.hv_bus.iloc[0])})
    with pytest.raises(Exception, match="a pandapower network expected"):
        from_pandapower(object())


def test_open_switch_makes_a_mesh_radial() -> None:
    net = pn.create_kerber_landnetz_kabel_1()
    a, b = int(net.line.to_bus.iloc[2]), int(net.line.to_bus.iloc[-1])
    tie = pp.create_line_from_parameters(net, a, b, 0.05, 0.208, 0.08, 261.0, 0.27)
    with pytest.raises(MeshedNetworkError, match=f"'{tie}'"):
        from_pandapower(net)
    pp.create_switch(net, a, tie, et="l", closed=False)
    f = from_pandapower(net, members={"m0": b})
    assert str(tie) not in {ln.name for ln in f.lines}
    assert f.member_bus.tolist() == [f.bus_index(str(b))]
