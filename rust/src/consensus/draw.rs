//! The proof-of-stake auction draw (SPEC §3, seeds 000–002) and its exact
//! win probabilities.
//!
//! Every node derives the same U_k ∈ (0, 1] from the chain:
//! U_k = (u + 1) / 2^64 with u the first 8 bytes (little-endian) of
//! H(previous block hash ‖ period as u64 LE ‖ public key of k). The winner is
//! the argmax of a key: W/U (the seeds' rule) or U^(1/W) (Efraimidis–Spirakis,
//! `proportional`, P(win) ∝ W). Keys are compared in the log domain
//! (ln W − ln U, resp. ln U / W), the same monotone transform on every node;
//! ties go to the lower public key. When every weight is 0 all candidates
//! count as weight 1 (the draw is then uniform).

use rayon::prelude::*;

use crate::crypto::hash::{Algorithm, Digest};
use crate::error::{CoreError, CoreResult};

/// Candidates per rayon task when hashing U.
const PAR_MIN: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrawRule {
    /// argmax W / U: the seeds' rule; not proportional to W.
    ArgmaxWOverU,
    /// argmax U^(1/W): P(win) = W / ΣW.
    Proportional,
}

impl DrawRule {
    pub fn parse(name: &str) -> CoreResult<Self> {
        match name {
            "argmax_w_over_u" => Ok(Self::ArgmaxWOverU),
            "proportional" => Ok(Self::Proportional),
            _ => Err(CoreError::config(
                "rule",
                format!("{name:?}"),
                "expected \"argmax_w_over_u\" or \"proportional\"",
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::ArgmaxWOverU => "argmax_w_over_u",
            Self::Proportional => "proportional",
        }
    }
}

/// Check weights: finite and ≥ 0.
pub fn check_weights(weights: &[f64]) -> CoreResult<()> {
    if let Some((i, w)) = weights
        .iter()
        .enumerate()
        .find(|(_, w)| !w.is_finite() || **w < 0.0)
    {
        return Err(CoreError::invalid(
            format!("weights[{i}]"),
            w,
            "weights must be finite and ≥ 0",
        ));
    }
    Ok(())
}

/// u of one candidate: the first 8 bytes (LE) of H(prev ‖ period ‖ key).
pub fn u_of(alg: Algorithm, prev_hash: &Digest, period: u64, key: &[u8; 32]) -> u64 {
    let h = alg.hash_parts(&[prev_hash, &period.to_le_bytes(), key]);
    let mut b = [0u8; 8];
    b.copy_from_slice(h.get(..8).unwrap_or(&[0; 8]));
    u64::from_le_bytes(b)
}

/// ln U with U = (u + 1) / 2^64, in (−44.4, 0].
pub fn ln_u(u: u64) -> f64 {
    // u + 1 ≤ 2^64 is exact in f64 only up to 2^53; the rounding is the same on every node.
    ((u as f64) + 1.0).ln() - 64.0 * std::f64::consts::LN_2
}

/// The key a rule maximises, in the log domain.
pub fn key(rule: DrawRule, w: f64, ln_u: f64) -> f64 {
    match rule {
        DrawRule::ArgmaxWOverU => {
            if w > 0.0 {
                w.ln() - ln_u
            } else {
                f64::NEG_INFINITY
            }
        }
        DrawRule::Proportional => {
            if w > 0.0 {
                ln_u / w
            } else {
                f64::NEG_INFINITY
            }
        }
    }
}

/// Is (k, key i) ahead of (bk, key j)? Higher key wins; ties go to the lower public key.
fn ahead(k: f64, ki: Option<&[u8; 32]>, bk: f64, kj: Option<&[u8; 32]>) -> bool {
    k > bk || (k == bk && ki < kj)
}

/// The best (key, index) among candidates; weights count as 1 when `uniform`.
fn best_of(
    rule: DrawRule,
    weights: &[f64],
    ln_us: &[f64],
    keys: &[[u8; 32]],
    uniform: bool,
) -> Option<(f64, usize)> {
    let mut best: Option<(f64, usize)> = None;
    for (i, (w, lu)) in weights.iter().zip(ln_us).enumerate() {
        let k = key(rule, if uniform { 1.0 } else { *w }, *lu);
        if best.is_none_or(|(bk, j)| ahead(k, keys.get(i), bk, keys.get(j))) {
            best = Some((k, i));
        }
    }
    best
}

/// Index of the winner among candidates given their ln U (all weights 0: uniform).
pub fn winner_of(
    rule: DrawRule,
    weights: &[f64],
    ln_us: &[f64],
    keys: &[[u8; 32]],
) -> Option<usize> {
    let uniform = weights.iter().all(|w| *w == 0.0);
    best_of(rule, weights, ln_us, keys, uniform).map(|(_, i)| i)
}

/// The draw: the winner's index among candidates with `weights` and `keys`.
pub fn draw(
    alg: Algorithm,
    rule: DrawRule,
    weights: &[f64],
    prev_hash: &Digest,
    period: u64,
    keys: &[[u8; 32]],
) -> CoreResult<usize> {
    check_weights(weights)?;
    if weights.len() != keys.len() {
        return Err(CoreError::invalid(
            "public_keys",
            format!("{} keys", keys.len()),
            format!("expected one per weight ({})", weights.len()),
        ));
    }
    if weights.is_empty() {
        return Err(CoreError::invalid(
            "weights",
            0,
            "the draw needs at least one candidate",
        ));
    }
    let uniform = weights.iter().all(|w| *w == 0.0);
    // Each chunk hashes its keys and keeps its best (key, index); the chunks'
    // bests are then compared with the same rule, so the result does not
    // depend on how the work was split.
    let chunk_best = |(c, (ws, ks)): (usize, (&[f64], &[[u8; 32]]))| -> Option<(f64, usize)> {
        let mut us = vec![0u64; ks.len()];
        match alg {
            Algorithm::Blake3 => {
                crate::crypto::simd::lanes::blake3_u(prev_hash, period, ks, &mut us)
            }
            Algorithm::Sha256 => {
                for (u, k) in us.iter_mut().zip(ks) {
                    *u = u_of(alg, prev_hash, period, k);
                }
            }
        }
        let lus: Vec<f64> = us.into_iter().map(ln_u).collect();
        best_of(rule, ws, &lus, ks, uniform).map(|(k, i)| (k, c * PAR_MIN + i))
    };
    let chunks = weights.chunks(PAR_MIN).zip(keys.chunks(PAR_MIN));
    let bests: Vec<(f64, usize)> = if keys.len() > PAR_MIN {
        weights
            .par_chunks(PAR_MIN)
            .zip(keys.par_chunks(PAR_MIN))
            .enumerate()
            .filter_map(chunk_best)
            .collect()
    } else {
        chunks.enumerate().filter_map(chunk_best).collect()
    };
    let mut win: Option<(f64, usize)> = None;
    for (k, i) in bests {
        if win.is_none_or(|(bk, j)| ahead(k, keys.get(i), bk, keys.get(j))) {
            win = Some((k, i));
        }
    }
    win.map(|(_, i)| i)
        .ok_or_else(|| CoreError::invalid("weights", 0, "the draw needs at least one candidate"))
}

/// Gauss–Legendre nodes and weights on [−1, 1] (Newton on P_n).
fn gauss_legendre(n: usize) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(n);
    let nf = n as f64;
    for i in 0..n {
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (nf + 0.5)).cos();
        let mut dp = 1.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, x);
            for k in 2..=n {
                let kf = k as f64;
                let p2 = ((2.0 * kf - 1.0) * x * p1 - (kf - 1.0) * p0) / kf;
                p0 = p1;
                p1 = p2;
            }
            let pn = if n == 0 { 1.0 } else { p1 };
            let pm = if n <= 1 { 1.0 } else { p0 };
            dp = nf * (x * pn - pm) / (x * x - 1.0);
            let dx = pn / dp;
            x -= dx;
            if dx.abs() < 1e-16 {
                break;
            }
        }
        out.push((x, 2.0 / ((1.0 - x * x) * dp * dp)));
    }
    out
}

/// Exact win probabilities of the rule (to double precision).
///
/// `proportional`: w_i / Σw. `argmax_w_over_u`: with t = u / w_i,
/// P_i = w_i ∫₀^{1/w_max} Π_{j≠i} (1 − t·w_j) dt = w_i ∫ F(t) / (1 − t·w_i) dt,
/// F(t) = Π_j (1 − t·w_j): one product per quadrature node serves every i.
/// The integrand is a polynomial; composite Gauss–Legendre on geometric
/// panels (where F decays) is refined until the result settles.
pub fn win_probabilities(rule: DrawRule, weights: &[f64]) -> CoreResult<Vec<f64>> {
    check_weights(weights)?;
    let n = weights.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    // Both rules depend on the ratios of the weights only. Weights whose sum
    // overflows (two of 1e308) are divided by the largest first, so the sum
    // is finite (≤ n); otherwise they are used as given.
    let w_top = weights.iter().copied().fold(0.0, f64::max);
    let mut total: f64 = weights.iter().sum();
    let scaled: Vec<f64>;
    let weights = if total.is_finite() {
        weights
    } else {
        scaled = weights.iter().map(|x| x / w_top).collect();
        total = scaled.iter().sum();
        &scaled
    };
    let w: Vec<f64> = if total > 0.0 {
        weights.iter().map(|x| x / total).collect()
    } else {
        vec![1.0 / n as f64; n]
    };
    if rule == DrawRule::Proportional || n == 1 {
        return Ok(w);
    }
    let w_max = w.iter().copied().fold(0.0, f64::max);
    let end = 1.0 / w_max;
    // F falls like exp(−t·Σw) = exp(−t): geometric panels from ~2^-12 on.
    let mut edges = vec![0.0];
    let mut e = end.min(1.0 / 4096.0);
    while e < end {
        edges.push(e);
        e *= 2.0;
    }
    edges.push(end);
    let mut prev: Option<Vec<f64>> = None;
    let mut order = 16;
    loop {
        let probs = integrate(&w, &edges, order);
        if let Some(p) = &prev {
            let diff = p
                .iter()
                .zip(&probs)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            if diff < 1e-14 || order >= 512 {
                return Ok(probs);
            }
        }
        prev = Some(probs);
        order *= 2;
    }
}

fn integrate(w: &[f64], edges: &[f64], order: usize) -> Vec<f64> {
    let gl = gauss_legendre(order);
    let mut nodes = Vec::with_capacity(gl.len() * edges.len());
    for pair in edges.windows(2) {
        if let [a, b] = pair {
            let (mid, half) = ((a + b) / 2.0, (b - a) / 2.0);
            for (x, g) in &gl {
                nodes.push((mid + half * x, g * half));
            }
        }
    }
    // F(t) at every node, as a log-sum when n is large (no underflow surprises).
    let f: Vec<f64> = nodes
        .par_iter()
        .map(|(t, _)| w.iter().map(|wj| 1.0 - t * wj).product::<f64>())
        .collect();
    w.par_iter()
        .map(|wi| {
            let s: f64 = nodes
                .iter()
                .zip(&f)
                .map(|((t, g), fk)| {
                    let d = 1.0 - t * wi;
                    if d > 0.0 {
                        g * fk / d
                    } else {
                        0.0
                    }
                })
                .sum();
            (wi * s).clamp(0.0, 1.0)
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn two_candidates_give_three_quarters() {
        let p = win_probabilities(DrawRule::ArgmaxWOverU, &[2.0, 1.0]).unwrap();
        assert!(
            (p[0] - 0.75).abs() < 1e-13 && (p[1] - 0.25).abs() < 1e-13,
            "{p:?}"
        );
        let q = win_probabilities(DrawRule::Proportional, &[2.0, 1.0]).unwrap();
        assert!((q[0] - 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn probabilities_sum_to_one_and_order_by_weight() {
        let w = [5.0, 1.0, 3.0, 3.0, 0.5, 9.0];
        let p = win_probabilities(DrawRule::ArgmaxWOverU, &w).unwrap();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{p:?}");
        assert!(p[5] > p[0] && p[0] > p[2] && (p[2] - p[3]).abs() < 1e-14 && p[4] < p[1]);
        let z = win_probabilities(DrawRule::ArgmaxWOverU, &[0.0, 0.0]).unwrap();
        assert!((z[0] - 0.5).abs() < 1e-12);
    }

    #[test]
    fn weights_whose_sum_overflows_keep_their_probabilities() {
        for rule in [DrawRule::ArgmaxWOverU, DrawRule::Proportional] {
            let big = win_probabilities(rule, &[f64::MAX, f64::MAX / 2.0, 0.0]).unwrap();
            let small = win_probabilities(rule, &[2.0, 1.0, 0.0]).unwrap();
            for (a, b) in big.iter().zip(&small) {
                assert!((a - b).abs() < 1e-13, "{rule:?}: {big:?} vs {small:?}");
            }
        }
    }

    #[test]
    fn three_equal_and_zero_weights() {
        let p = win_probabilities(DrawRule::ArgmaxWOverU, &[1.0, 1.0, 1.0, 0.0]).unwrap();
        for x in &p[..3] {
            assert!((x - 1.0 / 3.0).abs() < 1e-13, "{p:?}");
        }
        assert!(p[3].abs() < 1e-15);
    }

    #[test]
    fn draw_is_deterministic_and_checks_input() {
        let keys: Vec<[u8; 32]> = (0..50u8).map(|i| [i; 32]).collect();
        let w: Vec<f64> = (0..50).map(|i| f64::from(i % 7)).collect();
        let a = draw(
            Algorithm::Blake3,
            DrawRule::ArgmaxWOverU,
            &w,
            &[3; 32],
            9,
            &keys,
        )
        .unwrap();
        let b = draw(
            Algorithm::Blake3,
            DrawRule::ArgmaxWOverU,
            &w,
            &[3; 32],
            9,
            &keys,
        )
        .unwrap();
        assert_eq!(a, b);
        assert!(w[a] > 0.0);
        assert!(draw(
            Algorithm::Blake3,
            DrawRule::Proportional,
            &[1.0, f64::NAN],
            &[0; 32],
            1,
            &keys[..2]
        )
        .is_err());
        assert!(draw(
            Algorithm::Blake3,
            DrawRule::Proportional,
            &[1.0, -1.0],
            &[0; 32],
            1,
            &keys[..2]
        )
        .is_err());
        assert!(draw(
            Algorithm::Blake3,
            DrawRule::Proportional,
            &[1.0],
            &[0; 32],
            1,
            &keys[..2]
        )
        .is_err());
        assert!(draw(
            Algorithm::Blake3,
            DrawRule::Proportional,
            &[],
            &[0; 32],
            1,
            &[]
        )
        .is_err());
        assert!(DrawRule::parse("lottery").is_err());
    }

    #[test]
    fn chunked_parallel_draw_equals_the_plain_definition() {
        let n = 3 * PAR_MIN + 17;
        let keys: Vec<[u8; 32]> = (0..n)
            .map(|i| {
                let mut k = [0u8; 32];
                k[..8]
                    .copy_from_slice(&(i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
                k
            })
            .collect();
        // Many zero and equal weights, so ties and empty chunks are exercised.
        let w: Vec<f64> = (0..n)
            .map(|i| {
                if i < PAR_MIN {
                    0.0
                } else {
                    f64::from((i % 5) as u32)
                }
            })
            .collect();
        for alg in [Algorithm::Blake3, Algorithm::Sha256] {
            for rule in [DrawRule::ArgmaxWOverU, DrawRule::Proportional] {
                let lus: Vec<f64> = keys
                    .iter()
                    .map(|k| ln_u(u_of(alg, &[9; 32], 77, k)))
                    .collect();
                let want = winner_of(rule, &w, &lus, &keys).unwrap();
                assert_eq!(draw(alg, rule, &w, &[9; 32], 77, &keys).unwrap(), want);
                let zeros = vec![0.0; n];
                let want0 = winner_of(rule, &zeros, &lus, &keys).unwrap();
                assert_eq!(draw(alg, rule, &zeros, &[9; 32], 77, &keys).unwrap(), want0);
            }
        }
    }

    #[test]
    fn u_is_in_the_unit_interval() {
        assert!(ln_u(u64::MAX) <= 0.0 && ln_u(u64::MAX) > -1e-15);
        assert!(ln_u(0) > -44.4);
    }
}
