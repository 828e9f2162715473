//! Exact AC power flow of a radial feeder by backward/forward sweep, over
//! many periods at once (SPEC §11, docs/grid.md "Power flow").
//!
//! Per unit on the LV buses' nominal voltage and a base power `s_base`. The
//! slack is the HV side of the transformer; the transformer is pandapower's
//! "t" model: half the short-circuit impedance on each side of a magnetising
//! branch, an ideal transformer at nominal tap (its voltage-angle shift only
//! offsets the angles, which are returned minus `shift_deg`). Loads are
//! constant power; lines are π sections (series `r + jx`, half the shunt
//! susceptance at each end).
//!
//! One sweep: with the bus voltages `V`, every bus draws
//! `y_sh·V − conj(S/V)` (its shunts and its net injection `S`); summing
//! those up the tree gives each line's series current and the current `J0`
//! the transformer feeds; the transformer gives bus 0's voltage from `J0`
//! exactly, and the voltages follow down the tree. The sweep repeats until no
//! bus voltage moves by `tol` p.u.; a period that has not by `max_iter`
//! sweeps, or whose numbers stop being finite, is reported unconverged, its
//! rows NaN.

use rayon::prelude::*;

use crate::error::{CoreError, CoreResult};
use crate::grid::complex::C64;

/// The feeder as the caller describes it (indices as `gridledger.grid.Feeder`).
#[derive(Debug, Clone)]
pub struct FeederSpec<'a> {
    /// `(B,)` parent bus of each bus; `-1` for bus 0, the transformer's LV bus.
    pub parent: &'a [i64],
    /// `(L,)` the bus each line feeds (its end away from the transformer).
    pub line_bus: &'a [i64],
    /// `(L,)` series resistance, reactance and total shunt susceptance (p.u.).
    pub r_pu: &'a [f64],
    pub x_pu: &'a [f64],
    pub b_pu: &'a [f64],
    /// Transformer: series impedance of the HV half, of the LV half, and the
    /// magnetising admittance `g − jb` (p.u., referred to the LV side).
    pub z_hv: C64,
    pub z_lv: C64,
    pub y_m: C64,
    /// The slack voltage referred to the LV side (p.u. of the LV buses).
    pub v_src: f64,
    /// Subtracted from every voltage angle (degrees): the vector group's shift.
    pub shift_deg: f64,
    /// Base power (VA) and base current (A) of the per-unit system.
    pub s_base_va: f64,
    pub i_base_a: f64,
}

/// When to stop.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Largest change of any bus voltage (p.u.) that ends the sweeps.
    pub tol_pu: f64,
    /// Most sweeps per period.
    pub max_iter: u32,
}

/// A validated feeder, nodes relabelled breadth first (every parent before
/// its children), ready to sweep.
#[derive(Debug, Clone)]
pub struct Radial {
    /// Parent node of each node (node 0 points at itself).
    up: Vec<usize>,
    /// Original bus of each node.
    bus: Vec<usize>,
    /// Original line feeding each node (`usize::MAX` for node 0).
    line: Vec<usize>,
    /// Series impedance and half the shunt admittance of the line feeding each node.
    z: Vec<C64>,
    y_half: Vec<C64>,
    /// All shunt admittance at each node.
    y_node: Vec<C64>,
    z_hv: C64,
    z_lv: C64,
    y_m: C64,
    /// `1 + z_hv·y_m`, checked non-zero.
    den: C64,
    v_src: C64,
    shift_deg: f64,
    s_base: f64,
    i_base: f64,
}

/// Per-period results, flat row-major `(T, B)` / `(T, L)` / `(T,)`.
#[derive(Debug, Clone, Default)]
pub struct Solution {
    pub vm_pu: Vec<f64>,
    pub va_deg: Vec<f64>,
    pub i_line_a: Vec<f64>,
    pub line_loss_w: Vec<f64>,
    pub p_hv_w: Vec<f64>,
    pub q_hv_var: Vec<f64>,
    pub s_hv_va: Vec<f64>,
    pub trafo_loss_w: Vec<f64>,
    pub converged: Vec<bool>,
    pub iterations: Vec<i64>,
}

fn finite(field: &str, v: f64) -> CoreResult<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(CoreError::invalid(field, v, "must be finite"))
    }
}

fn positive(field: &str, v: f64) -> CoreResult<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(CoreError::invalid(field, v, "must be finite and > 0"))
    }
}

impl Radial {
    /// Check `spec` (a tree rooted at bus 0, finite impedances) and relabel it.
    pub fn new(spec: &FeederSpec<'_>) -> CoreResult<Self> {
        let n = spec.parent.len();
        if n == 0 {
            return Err(CoreError::invalid(
                "parent",
                "0 buses",
                "a feeder has at least bus 0",
            ));
        }
        let n_line = spec.line_bus.len();
        if n_line != n - 1 {
            return Err(CoreError::invalid(
                "line_bus",
                format!("{n_line} lines"),
                format!("a radial feeder of {n} buses has {} lines", n - 1),
            ));
        }
        for (field, a) in [
            ("r_pu", spec.r_pu),
            ("x_pu", spec.x_pu),
            ("b_pu", spec.b_pu),
        ] {
            if a.len() != n_line {
                return Err(CoreError::invalid(
                    field,
                    format!("{} values", a.len()),
                    format!("expected one per line ({n_line})"),
                ));
            }
        }
        if spec.parent.first() != Some(&-1) {
            return Err(CoreError::invalid(
                "parent[0]",
                spec.parent.first().copied().unwrap_or(0),
                "bus 0 (the transformer's LV bus) has parent -1",
            ));
        }
        let mut parent = vec![0usize; n];
        for (b, (&p, slot)) in spec
            .parent
            .iter()
            .zip(parent.iter_mut())
            .enumerate()
            .skip(1)
        {
            *slot = usize::try_from(p)
                .ok()
                .filter(|&p| p < n && p != b)
                .ok_or_else(|| CoreError::invalid(format!("parent[{b}]"), p, "not a bus index"))?;
        }
        // the line feeding each bus
        let mut feed = vec![usize::MAX; n];
        for (l, &b) in spec.line_bus.iter().enumerate() {
            let bi = usize::try_from(b)
                .ok()
                .filter(|&b| b >= 1 && b < n)
                .ok_or_else(|| {
                    CoreError::invalid(format!("line_bus[{l}]"), b, "not a bus index ≥ 1")
                })?;
            match feed.get_mut(bi) {
                Some(slot) if *slot == usize::MAX => *slot = l,
                _ => {
                    return Err(CoreError::invalid(
                        format!("line_bus[{l}]"),
                        b,
                        "two lines feed this bus (a loop)",
                    ))
                }
            }
        }
        // children lists, then breadth-first order from bus 0
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (b, &p) in parent.iter().enumerate().skip(1) {
            if let Some(c) = children.get_mut(p) {
                c.push(b);
            }
        }
        let mut order = Vec::with_capacity(n);
        order.push(0usize);
        let mut i = 0;
        while let Some(&b) = order.get(i) {
            if let Some(c) = children.get(b) {
                order.extend_from_slice(c);
            }
            i += 1; // bounded: i < order.len(), which the break below keeps near n
            if order.len() > n {
                break;
            }
        }
        if order.len() != n {
            let mut reached = vec![false; n];
            for &b in &order {
                if let Some(r) = reached.get_mut(b) {
                    *r = true;
                }
            }
            let lost = reached.iter().position(|&r| !r).unwrap_or(0);
            return Err(CoreError::invalid(
                format!("parent[{lost}]"),
                spec.parent.get(lost).copied().unwrap_or(0),
                "this bus has no path to bus 0 (a loop in parent)",
            ));
        }
        let mut node_of = vec![0usize; n];
        for (k, &b) in order.iter().enumerate() {
            if let Some(s) = node_of.get_mut(b) {
                *s = k;
            }
        }
        let mut up = vec![0usize; n];
        let mut line = vec![usize::MAX; n];
        let mut z = vec![C64::ZERO; n];
        let mut y_half = vec![C64::ZERO; n];
        let mut y_node = vec![C64::ZERO; n];
        for (k, &b) in order.iter().enumerate().skip(1) {
            let l = feed.get(b).copied().unwrap_or(usize::MAX);
            let pb = parent.get(b).copied().unwrap_or(0);
            let pk = node_of.get(pb).copied().unwrap_or(0);
            let r = spec.r_pu.get(l).copied().unwrap_or(f64::NAN);
            let x = spec.x_pu.get(l).copied().unwrap_or(f64::NAN);
            let sh = spec.b_pu.get(l).copied().unwrap_or(f64::NAN);
            if l == usize::MAX {
                return Err(CoreError::invalid(
                    format!("parent[{b}]"),
                    pb,
                    "no line feeds this bus",
                ));
            }
            if !(r.is_finite() && x.is_finite() && r >= 0.0 && (r > 0.0 || x != 0.0)) {
                return Err(CoreError::invalid(
                    format!("r_pu[{l}], x_pu[{l}]"),
                    format!("{r}, {x}"),
                    "a line needs a finite, non-zero impedance with r ≥ 0",
                ));
            }
            if !(sh.is_finite() && sh >= 0.0) {
                return Err(CoreError::invalid(
                    format!("b_pu[{l}]"),
                    sh,
                    "must be finite and ≥ 0",
                ));
            }
            let yh = C64::new(0.0, sh / 2.0);
            if let (Some(u), Some(li), Some(zz), Some(yy)) = (
                up.get_mut(k),
                line.get_mut(k),
                z.get_mut(k),
                y_half.get_mut(k),
            ) {
                *u = pk;
                *li = l;
                *zz = C64::new(r, x);
                *yy = yh;
            }
            // f64 sums of checked finite inputs (no overflow panic; ±inf at worst,
            // which the sweep reports as unconverged).
            if let Some(y) = y_node.get_mut(k) {
                *y += yh;
            }
            if let Some(y) = y_node.get_mut(pk) {
                *y += yh;
            }
        }
        for (field, c) in [("z_hv", spec.z_hv), ("z_lv", spec.z_lv), ("y_m", spec.y_m)] {
            if !c.is_finite() {
                return Err(CoreError::invalid(
                    field,
                    format!("{c:?}"),
                    "must be finite",
                ));
            }
        }
        let den = C64::ONE + spec.z_hv * spec.y_m;
        if den.norm_sqr() == 0.0 || (spec.z_hv + spec.z_lv).norm_sqr() == 0.0 {
            return Err(CoreError::invalid(
                "z_hv",
                format!("{:?}", spec.z_hv),
                "the transformer's impedance must be non-zero",
            ));
        }
        Ok(Self {
            up,
            bus: order,
            line,
            z,
            y_half,
            y_node,
            z_hv: spec.z_hv,
            z_lv: spec.z_lv,
            y_m: spec.y_m,
            den,
            v_src: C64::new(positive("v_src", spec.v_src)?, 0.0),
            shift_deg: finite("shift_deg", spec.shift_deg)?,
            s_base: positive("s_base_va", spec.s_base_va)?,
            i_base: positive("i_base_a", spec.i_base_a)?,
        })
    }

    pub fn n_buses(&self) -> usize {
        self.bus.len()
    }

    pub fn n_lines(&self) -> usize {
        self.bus.len().saturating_sub(1)
    }

    /// Solve every period of `p_w`, `q_var` (`(T, B)` row-major net
    /// injections, W and var), in parallel over the periods.
    pub fn solve(&self, p_w: &[f64], q_var: &[f64], opts: Options) -> CoreResult<Solution> {
        let n = self.n_buses();
        if !p_w.len().is_multiple_of(n) {
            return Err(CoreError::invalid(
                "p_w",
                format!("{} values", p_w.len()),
                format!("expected (T, {n})"),
            ));
        }
        if q_var.len() != p_w.len() {
            return Err(CoreError::invalid(
                "q_var",
                format!("{} values", q_var.len()),
                format!("expected the shape of p_w ({} values)", p_w.len()),
            ));
        }
        for (field, a) in [("p_w", p_w), ("q_var", q_var)] {
            if let Some(i) = a.iter().position(|v| !v.is_finite()) {
                let v = a.get(i).copied().unwrap_or(f64::NAN);
                return Err(CoreError::invalid(
                    format!("{field}[{}, {}]", i / n, i % n),
                    v,
                    "must be finite",
                ));
            }
        }
        if !(opts.tol_pu.is_finite() && opts.tol_pu > 0.0) {
            return Err(CoreError::invalid(
                "tol_pu",
                opts.tol_pu,
                "must be finite and > 0",
            ));
        }
        if opts.max_iter == 0 {
            return Err(CoreError::invalid("max_iter", 0, "must be ≥ 1"));
        }
        let t = p_w.len() / n;
        let nl = self.n_lines();
        // Line outputs are written in chunks of at least one value, so that a
        // feeder without lines still yields one chunk per period.
        let lw = nl.max(1);
        let mut out = Solution {
            vm_pu: vec![0.0; t * n],
            va_deg: vec![0.0; t * n],
            i_line_a: vec![0.0; t * lw],
            line_loss_w: vec![0.0; t * lw],
            p_hv_w: vec![0.0; t],
            q_hv_var: vec![0.0; t],
            s_hv_va: vec![0.0; t],
            trafo_loss_w: vec![0.0; t],
            converged: vec![false; t],
            iterations: vec![0; t],
        };
        let mut hv: Vec<Summary> = vec![Summary::default(); t];
        (
            p_w.par_chunks(n),
            q_var.par_chunks(n),
            out.vm_pu.par_chunks_mut(n),
            out.va_deg.par_chunks_mut(n),
            out.i_line_a.par_chunks_mut(lw),
            out.line_loss_w.par_chunks_mut(lw),
            hv.par_iter_mut(),
        )
            .into_par_iter()
            .for_each_init(
                || Scratch::new(n),
                |ws, (p, q, vm, va, il, ll, sum)| {
                    *sum = self.period(ws, p, q, opts, Rows { vm, va, il, ll });
                },
            );
        for (k, s) in hv.iter().enumerate() {
            if let (Some(a), Some(b), Some(c), Some(d), Some(e), Some(f)) = (
                out.p_hv_w.get_mut(k),
                out.q_hv_var.get_mut(k),
                out.s_hv_va.get_mut(k),
                out.trafo_loss_w.get_mut(k),
                out.converged.get_mut(k),
                out.iterations.get_mut(k),
            ) {
                (*a, *b, *c, *d, *e, *f) =
                    (s.p_hv, s.q_hv, s.s_hv, s.loss, s.converged, s.iterations);
            }
        }
        if nl == 0 {
            out.i_line_a.clear();
            out.line_loss_w.clear();
        }
        Ok(out)
    }

    /// The sweeps of one period; writes its rows (NaN when unconverged).
    fn period(
        &self,
        ws: &mut Scratch,
        p: &[f64],
        q: &[f64],
        opts: Options,
        rows: Rows<'_>,
    ) -> Summary {
        let inv = 1.0 / self.s_base;
        for ((s, &b), v) in ws.s.iter_mut().zip(&self.bus).zip(ws.v.iter_mut()) {
            let pb = p.get(b).copied().unwrap_or(0.0);
            let qb = q.get(b).copied().unwrap_or(0.0);
            *s = C64::new(pb * inv, qb * inv);
            *v = self.v_src;
        }
        let tol2 = opts.tol_pu * opts.tol_pu;
        let mut converged = false;
        let mut iterations = 0i64;
        for it in 1..=opts.max_iter {
            iterations = i64::from(it);
            let j0 = self.backward(ws);
            let dv = self.forward(ws, j0);
            if !dv.is_finite() {
                break;
            }
            if dv < tol2 {
                converged = true;
                break;
            }
        }
        if converged {
            let j0 = self.backward(ws);
            converged = j0.is_finite();
            if converged {
                return self.write(ws, j0, rows, iterations);
            }
        }
        for r in [rows.vm, rows.va, rows.il, rows.ll] {
            r.fill(f64::NAN);
        }
        Summary {
            p_hv: f64::NAN,
            q_hv: f64::NAN,
            s_hv: f64::NAN,
            loss: f64::NAN,
            converged: false,
            iterations,
        }
    }

    /// Currents up the tree from `ws.v`: `ws.acc[k]` becomes the series
    /// current of the line feeding node k; returns the current out of the
    /// transformer's LV terminal.
    fn backward(&self, ws: &mut Scratch) -> C64 {
        for (((a, &v), &s), &y) in ws.acc.iter_mut().zip(&ws.v).zip(&ws.s).zip(&self.y_node) {
            *a = y * v - (s / v).conj();
        }
        for k in (1..self.bus.len()).rev() {
            let (Some(&a), Some(&u)) = (ws.acc.get(k), self.up.get(k)) else {
                continue;
            };
            if let Some(t) = ws.acc.get_mut(u) {
                // f64: cannot panic; a non-finite current fails the convergence check
                *t += a;
            }
        }
        ws.acc.first().copied().unwrap_or(C64::ZERO)
    }

    /// The middle node of the transformer's T for an LV current `j0`.
    fn mid(&self, j0: C64) -> C64 {
        (self.v_src - self.z_hv * j0) / self.den
    }

    /// Voltages down the tree from the currents; returns the largest squared
    /// change (squared: no square root per bus in the hot loop).
    fn forward(&self, ws: &mut Scratch, j0: C64) -> f64 {
        let v0 = self.mid(j0) - self.z_lv * j0;
        let mut dv = 0.0f64;
        if let Some(v) = ws.v.first_mut() {
            dv = (v0 - *v).norm_sqr();
            *v = v0;
        }
        for k in 1..self.bus.len() {
            let (Some(&u), Some(&z), Some(&a)) = (self.up.get(k), self.z.get(k), ws.acc.get(k))
            else {
                continue;
            };
            let vp = ws.v.get(u).copied().unwrap_or(C64::ZERO);
            let new = vp - z * a;
            if let Some(v) = ws.v.get_mut(k) {
                let d = (new - *v).norm_sqr();
                // NaN-propagating max: a NaN change must end the period as failed
                dv = if d.is_nan() || d > dv { d } else { dv };
                *v = new;
            }
        }
        dv
    }

    fn write(&self, ws: &Scratch, j0: C64, rows: Rows<'_>, iterations: i64) -> Summary {
        for (k, (&b, &v)) in self.bus.iter().zip(&ws.v).enumerate() {
            if let (Some(m), Some(a)) = (rows.vm.get_mut(b), rows.va.get_mut(b)) {
                *m = v.abs();
                *a = v.arg_deg() - self.shift_deg;
            }
            let (Some(&l), Some(&u), Some(&z), Some(&yh), Some(&i)) = (
                self.line.get(k),
                self.up.get(k),
                self.z.get(k),
                self.y_half.get(k),
                ws.acc.get(k),
            ) else {
                continue;
            };
            let vp = ws.v.get(u).copied().unwrap_or(C64::ZERO);
            let i_from = (i + yh * vp).abs();
            let i_to = (i - yh * v).abs();
            if let (Some(ia), Some(lw)) = (rows.il.get_mut(l), rows.ll.get_mut(l)) {
                *ia = i_from.max(i_to) * self.i_base;
                *lw = i.norm_sqr() * z.re * self.s_base;
            }
        }
        let vm = self.mid(j0);
        let i_hv = j0 + self.y_m * vm;
        let s_hv = self.v_src * i_hv.conj();
        let v0 = vm - self.z_lv * j0;
        let s_lv = v0 * j0.conj();
        Summary {
            p_hv: s_hv.re * self.s_base,
            q_hv: s_hv.im * self.s_base,
            s_hv: s_hv.abs() * self.s_base,
            loss: (s_hv.re - s_lv.re) * self.s_base,
            converged: true,
            iterations,
        }
    }
}

/// One period's rows of the outputs.
struct Rows<'a> {
    vm: &'a mut [f64],
    va: &'a mut [f64],
    il: &'a mut [f64],
    ll: &'a mut [f64],
}

#[derive(Debug, Clone, Copy, Default)]
struct Summary {
    p_hv: f64,
    q_hv: f64,
    s_hv: f64,
    loss: f64,
    converged: bool,
    iterations: i64,
}

/// Per-thread working vectors (node order).
struct Scratch {
    v: Vec<C64>,
    s: Vec<C64>,
    acc: Vec<C64>,
}

impl Scratch {
    fn new(n: usize) -> Self {
        Self {
            v: vec![C64::ZERO; n],
            s: vec![C64::ZERO; n],
            acc: vec![C64::ZERO; n],
        }
    }
}

#[cfg(test)]
mod tests;
