//! The sweep against closed forms, energy balance, failure and bad input.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;

const OPTS: Options = Options {
    tol_pu: 1e-12,
    max_iter: 100,
};

fn spec<'a>(
    parent: &'a [i64],
    line_bus: &'a [i64],
    r: &'a [f64],
    x: &'a [f64],
    b: &'a [f64],
) -> FeederSpec<'a> {
    FeederSpec {
        parent,
        line_bus,
        r_pu: r,
        x_pu: x,
        b_pu: b,
        z_hv: C64::new(0.005, 0.01),
        z_lv: C64::new(0.005, 0.01),
        y_m: C64::ZERO,
        v_src: 1.0,
        shift_deg: 0.0,
        s_base_va: 1e6,
        i_base_a: 1e6 / (3f64.sqrt() * 400.0),
    }
}

/// Two buses, one load: |V|² solves |V|⁴ + (2(RP + XQ) − 1)|V|² + |Z|²|S|² = 0.
#[test]
fn two_bus_matches_the_closed_form() {
    let (r, x) = (0.03, 0.02);
    let net = Radial::new(&spec(&[-1, 0], &[1], &[r], &[x], &[0.0])).unwrap();
    let (p, q) = (0.8, 0.3); // consumption, p.u.
    let sol = net.solve(&[0.0, -p * 1e6], &[0.0, -q * 1e6], OPTS).unwrap();
    assert!(sol.converged[0]);
    let (rt, xt) = (r + 0.01, x + 0.02);
    let a = 1.0 - 2.0 * (rt * p + xt * q);
    let v2 = (a + (a * a - 4.0 * (rt * rt + xt * xt) * (p * p + q * q)).sqrt()) / 2.0;
    assert!(
        (sol.vm_pu[1] - v2.sqrt()).abs() < 1e-10,
        "{} vs {}",
        sol.vm_pu[1],
        v2.sqrt()
    );
    let i2 = (p * p + q * q) / v2;
    let line_loss = i2 * r * 1e6;
    assert!((sol.line_loss_w[0] - line_loss).abs() < 1e-4);
    assert!((sol.trafo_loss_w[0] - i2 * 0.01 * 1e6).abs() < 1e-4);
    // energy balance: the slack pays the load and the losses
    assert!((sol.p_hv_w[0] - (p * 1e6 + i2 * rt * 1e6)).abs() < 1e-4);
    assert!((sol.i_line_a[0] - i2.sqrt() * 1e6 / (3f64.sqrt() * 400.0)).abs() < 1e-6);
}

/// No load: only the magnetising branch draws, g·|V_m|² of active power.
#[test]
fn no_load_draws_the_iron_losses() {
    let mut s = spec(&[-1, 0], &[1], &[0.01], &[0.01], &[0.0]);
    s.y_m = C64::new(0.002, -0.008);
    let net = Radial::new(&s).unwrap();
    let sol = net.solve(&[0.0, 0.0], &[0.0, 0.0], OPTS).unwrap();
    let vm = C64::new(1.0, 0.0) / (C64::ONE + s.z_hv * s.y_m);
    let iron = 0.002 * vm.norm_sqr() * 1e6;
    let copper = (s.y_m * vm).norm_sqr() * 0.005 * 1e6;
    assert!((sol.trafo_loss_w[0] - iron - copper).abs() < 1e-6);
    assert!((sol.p_hv_w[0] - sol.trafo_loss_w[0]).abs() < 1e-6);
    assert!((sol.vm_pu[0] - vm.abs()).abs() < 1e-12);
    assert!((sol.vm_pu[1] - vm.abs()).abs() < 1e-12);
}

/// A branched tree with shunts: the slack's power is the injections plus
/// every loss, whatever the bus numbering.
#[test]
fn energy_balances_on_a_tree() {
    // bus 3 hangs on bus 2, which hangs on 0; bus 1 on 3; lines listed out of order
    let parent = [-1, 3, 0, 2, 2];
    let line_bus = [4, 1, 2, 3];
    let r = [0.02, 0.03, 0.01, 0.04];
    let x = [0.01, 0.01, 0.005, 0.02];
    let b = [1e-4, 2e-4, 1e-4, 0.0];
    let net = Radial::new(&spec(&parent, &line_bus, &r, &x, &b)).unwrap();
    let p = [0.0, -2e5, 1e5, -3e5, -5e4, 0.0, 4e5, -1e5, -1e5, 2e4];
    let q = [0.0, -5e4, 0.0, -1e5, -1e4, 0.0, 0.0, -2e4, 0.0, 0.0];
    let sol = net.solve(&p, &q, OPTS).unwrap();
    for t in 0..2 {
        assert!(sol.converged[t]);
        let inj: f64 = p[t * 5..t * 5 + 5].iter().sum();
        let lines: f64 = sol.line_loss_w[t * 4..t * 4 + 4].iter().sum();
        let balance = sol.p_hv_w[t] + inj - lines - sol.trafo_loss_w[t];
        assert!(balance.abs() < 1e-6, "period {t}: {balance}");
        assert!(sol.iterations[t] >= 2);
    }
    // the line feeding bus 1 carries bus 1's current only (it is a leaf)
    let i1 = sol.i_line_a[1];
    let s1 = (2e5f64.powi(2) + 5e4f64.powi(2)).sqrt() / 1e6;
    let expected = s1 / sol.vm_pu[1] * 1e6 / (3f64.sqrt() * 400.0);
    assert!((i1 - expected).abs() / expected < 1e-3);
}

#[test]
fn absurd_load_is_reported_unconverged() {
    let net = Radial::new(&spec(&[-1, 0], &[1], &[0.05], &[0.05], &[0.0])).unwrap();
    let sol = net
        .solve(&[0.0, -1e5, 0.0, -1e9], &[0.0, 0.0, 0.0, 0.0], OPTS)
        .unwrap();
    assert_eq!(sol.converged, vec![true, false]);
    assert!(sol.vm_pu[2].is_nan() && sol.vm_pu[3].is_nan());
    assert!(sol.p_hv_w[1].is_nan() && sol.line_loss_w[1].is_nan());
    assert!(sol.vm_pu[1] > 0.9);
}

#[test]
fn a_single_bus_feeder_has_no_lines() {
    let net = Radial::new(&spec(&[-1], &[], &[], &[], &[])).unwrap();
    let sol = net.solve(&[-1e4, -2e4], &[0.0, 0.0], OPTS).unwrap();
    assert!(sol.i_line_a.is_empty() && sol.line_loss_w.is_empty());
    assert_eq!(sol.converged, vec![true, true]);
    assert!(sol.vm_pu[1] < sol.vm_pu[0]);
}

#[test]
fn bad_input_is_named() {
    let field = |e: CoreError| e.field_value().0.to_owned();
    let z = [0.01];
    let e = Radial::new(&spec(&[-1, 1], &[1], &z, &z, &[0.0])).unwrap_err();
    assert_eq!(field(e), "parent[1]");
    let e = Radial::new(&spec(
        &[-1, 2, 1],
        &[1, 2],
        &[0.1, 0.1],
        &[0.1, 0.1],
        &[0.0, 0.0],
    ))
    .unwrap_err();
    assert!(field(e).starts_with("parent["));
    let e = Radial::new(&spec(
        &[-1, 0, 0],
        &[1, 1],
        &[0.1, 0.1],
        &[0.1, 0.1],
        &[0.0, 0.0],
    ))
    .unwrap_err();
    assert_eq!(field(e), "line_bus[1]");
    let e = Radial::new(&spec(&[-1, 0], &[1], &[0.0], &[0.0], &[0.0])).unwrap_err();
    assert_eq!(field(e), "r_pu[0], x_pu[0]");
    let e = Radial::new(&spec(&[-1, 0], &[1], &[f64::NAN], &z, &[0.0])).unwrap_err();
    assert_eq!(field(e), "r_pu[0], x_pu[0]");
    let e = Radial::new(&spec(&[-1, 0], &[], &[], &[], &[])).unwrap_err();
    assert_eq!(field(e), "line_bus");
    let mut s = spec(&[-1, 0], &[1], &z, &z, &[0.0]);
    s.v_src = 0.0;
    assert_eq!(field(Radial::new(&s).unwrap_err()), "v_src");
    let net = Radial::new(&spec(&[-1, 0], &[1], &z, &z, &[0.0])).unwrap();
    let e = net
        .solve(&[0.0, 0.0, f64::NAN], &[0.0; 3], OPTS)
        .unwrap_err();
    assert_eq!(field(e), "p_w");
    let e = net
        .solve(&[0.0, f64::INFINITY], &[0.0; 2], OPTS)
        .unwrap_err();
    assert_eq!(field(e), "p_w[0, 1]");
    let e = net.solve(&[0.0, 0.0], &[0.0], OPTS).unwrap_err();
    assert_eq!(field(e), "q_var");
    let bad = Options {
        tol_pu: 0.0,
        max_iter: 5,
    };
    assert_eq!(
        field(net.solve(&[0.0, 0.0], &[0.0; 2], bad).unwrap_err()),
        "tol_pu"
    );
}
