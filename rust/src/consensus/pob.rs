//! Proof of benefit (SPEC §6, seed 003 §4): the round-by-round EV schedule
//! and the validity of the blocks that carry it.
//!
//! A pool of transactions, sorted by the round they were published in, each
//! with its Θ term in Wh (v·q for a charge, −ϖ·q for a discharge). A block of
//! round r executes a subset of the pending ones. It is valid when every
//! index is a known transaction published by r and not yet executed, every
//! transaction published at r − max_defer and still pending is in it (no
//! more deferral), the optional part stays under the feeder capacity, and its
//! claimed benefit λ is the one recomputed here from the window of the last
//! `window` slopes of Θ (integers only, so every validator agrees).

use std::collections::VecDeque;

use crate::error::{CoreError, CoreResult, Rule};
use crate::ev::choice::{choose, Scheduler};

/// λ is stored as floor(LAMBDA_SCALE · λ[kW⁻²]).
pub const LAMBDA_SCALE: i128 = 1_000_000_000_000;

/// The fixed parameters every validator shares.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Feeder capacity per round (Wh per round).
    pub cap_wh: i64,
    /// Rounds a transaction may wait before it must execute.
    pub max_defer: i64,
    /// Slopes in the PF window of λ (the seed: one day of rounds).
    pub window: usize,
    /// Round length (minutes), for λ's unit.
    pub round_minutes: i64,
}

impl Params {
    pub fn check(&self) -> CoreResult<()> {
        if self.window < 1 {
            return Err(CoreError::invalid(
                "window",
                self.window,
                "must be at least 1",
            ));
        }
        if !(0..=1000).contains(&self.max_defer) {
            return Err(CoreError::invalid("max_defer", self.max_defer, "0 … 1000"));
        }
        if !(1..=1440).contains(&self.round_minutes) {
            return Err(CoreError::invalid(
                "round_minutes",
                self.round_minutes,
                "1 … 1440",
            ));
        }
        if self.cap_wh < 0 {
            return Err(CoreError::invalid("cap_wh", self.cap_wh, "must be ≥ 0"));
        }
        Ok(())
    }
}

/// Exact λ of a window of `t` slopes (Wh per round) with Σl = s1, Σl² = s2:
/// floor(LAMBDA_SCALE / PF[kW²]), u64::MAX for a flat window.
pub fn lambda_from_sums(t: i128, s1: i128, s2: i128, round_minutes: i64) -> CoreResult<u64> {
    let overflow = || CoreError::invalid("slopes", format!("t={t}"), "λ overflows 128 bits");
    let n = t
        .checked_mul(s2)
        .and_then(|a| s1.checked_mul(s1).and_then(|b| a.checked_sub(b)))
        .ok_or_else(overflow)?;
    if n < 0 {
        return Err(CoreError::invalid("s2", s2, "t·Σl² < (Σl)²"));
    }
    if n == 0 {
        return Ok(u64::MAX);
    }
    let dt = i128::from(round_minutes);
    // 1/PF = t² · 10⁶ · Δt² / (3600 · N) with Θ in Wh per round of Δt minutes.
    let num = LAMBDA_SCALE
        .checked_mul(t * t)
        .and_then(|x| x.checked_mul(1_000_000 * dt * dt))
        .ok_or_else(overflow)?;
    let den = n.checked_mul(3600).ok_or_else(overflow)?;
    Ok(u64::try_from(num / den).unwrap_or(u64::MAX))
}

/// The rolling window of slopes and the last Θ of one branch.
#[derive(Debug, Clone)]
pub struct Window {
    slopes: VecDeque<i64>,
    s1: i128,
    s2: i128,
    /// Θ of the branch's last round (Wh per round).
    pub theta_prev: i64,
}

impl Window {
    /// A window holding `slopes` (oldest first; only the last `window − 1` are kept).
    pub fn new(theta_prev: i64, slopes: &[i64], window: usize) -> Self {
        let keep = window.saturating_sub(1);
        let tail = slopes
            .get(slopes.len().saturating_sub(keep)..)
            .unwrap_or(&[]);
        let mut w = Self {
            slopes: VecDeque::with_capacity(window),
            s1: 0,
            s2: 0,
            theta_prev,
        };
        for &x in tail {
            w.slopes.push_back(x);
            w.s1 += i128::from(x);
            w.s2 += i128::from(x) * i128::from(x);
        }
        w
    }

    /// λ if the next round's Θ were `theta`.
    pub fn lambda_with(&self, theta: i64, p: &Params) -> CoreResult<u64> {
        let x = i128::from(theta) - i128::from(self.theta_prev);
        let t = self.slopes.len() as i128 + 1;
        lambda_from_sums(t, self.s1 + x, self.s2 + x * x, p.round_minutes)
    }

    /// Append the round whose Θ is `theta`.
    pub fn push(&mut self, theta: i64, window: usize) {
        let x = theta - self.theta_prev;
        self.slopes.push_back(x);
        self.s1 += i128::from(x);
        self.s2 += i128::from(x) * i128::from(x);
        while self.slopes.len() > window.saturating_sub(1) {
            if let Some(old) = self.slopes.pop_front() {
                self.s1 -= i128::from(old);
                self.s2 -= i128::from(old) * i128::from(old);
            }
        }
        self.theta_prev = theta;
    }

    /// The per-round objective |K·Σ − B| of `ev::choice::choose` for a round whose
    /// fixed part of Θ is `base`: minimising it maximises λ.
    fn target(&self, base: i64) -> (i64, i128) {
        let k = self.slopes.len() as i64;
        if k == 0 {
            return (1, i128::from(self.theta_prev) - i128::from(base));
        }
        let b = self.s1 - i128::from(k) * (i128::from(base) - i128::from(self.theta_prev));
        (k, b)
    }
}

/// The transaction pool: publication round (ascending) and Θ term per transaction.
#[derive(Debug, Clone, Copy)]
pub struct Pool<'a> {
    pub published: &'a [i64],
    pub grid_wh: &'a [i64],
}

impl Pool<'_> {
    pub fn check(&self) -> CoreResult<()> {
        if self.published.len() != self.grid_wh.len() {
            return Err(CoreError::invalid(
                "grid_wh",
                self.grid_wh.len(),
                format!(
                    "must have the length of published ({})",
                    self.published.len()
                ),
            ));
        }
        if let Some(i) = self
            .published
            .windows(2)
            .position(|w| matches!(w, [a, b] if a > b))
        {
            return Err(CoreError::invalid(
                format!("published[{}]", i + 1),
                self.published.get(i + 1).copied().unwrap_or(0),
                "the pool must be sorted by publication round",
            ));
        }
        Ok(())
    }

    /// Index range of the transactions published in round `r`.
    fn published_in(&self, r: i64) -> std::ops::Range<usize> {
        let lo = self.published.partition_point(|&x| x < r);
        let hi = self.published.partition_point(|&x| x <= r);
        lo..hi
    }
}

/// One proposed block: its round, the base load P of the round (Wh), the
/// executed pool indices and the λ it claims.
#[derive(Debug, Clone, Copy)]
pub struct Proposal<'a> {
    pub round: i64,
    pub base_wh: i64,
    pub indices: &'a [i64],
    pub lambda: u64,
}

/// Check rules 1–4 of one block against the parent state (not its claimed
/// λ); return its recomputed λ and Θ.
/// `executed` is the parent branch's flags; it is left unchanged.
pub fn evaluate(
    pool: &Pool<'_>,
    executed: &[bool],
    win: &Window,
    p: &Params,
    b: &Proposal<'_>,
) -> CoreResult<(u64, i64)> {
    let n = pool.published.len();
    let mut seen: Vec<usize> = Vec::with_capacity(b.indices.len());
    let mut forced_in = 0usize;
    let (mut forced_sum, mut optional_sum) = (0i64, 0i64);
    let due = b.round - p.max_defer;
    for (j, &raw) in b.indices.iter().enumerate() {
        let field = || format!("transactions[{j}]");
        let i = usize::try_from(raw)
            .ok()
            .filter(|&i| i < n)
            .ok_or_else(|| {
                CoreError::rule(Rule::Transaction, field(), raw, "unknown transaction")
            })?;
        let published = pool.published.get(i).copied().unwrap_or(i64::MAX);
        if published > b.round {
            return Err(CoreError::rule(
                Rule::Transaction,
                field(),
                raw,
                format!(
                    "published in round {published}, after the block's round {}",
                    b.round
                ),
            ));
        }
        if executed.get(i).copied().unwrap_or(true) {
            return Err(CoreError::rule(
                Rule::DoubleSpend,
                field(),
                raw,
                "transaction already executed",
            ));
        }
        seen.push(i);
        let w = pool.grid_wh.get(i).copied().unwrap_or(0);
        if published <= due {
            forced_in += 1;
            forced_sum += w;
        } else {
            optional_sum += w;
        }
    }
    seen.sort_unstable();
    if let Some(d) = seen.windows(2).find_map(|w| match w {
        [a, b] if a == b => Some(*a),
        _ => None,
    }) {
        return Err(CoreError::rule(
            Rule::DoubleSpend,
            "transactions",
            d,
            "transaction executed twice in the block",
        ));
    }
    let pending_due = pool
        .published_in(due)
        .filter(|&i| !executed.get(i).copied().unwrap_or(true))
        .count();
    if forced_in != pending_due {
        return Err(CoreError::rule(
            Rule::Block,
            "transactions",
            format!("{forced_in} of {pending_due} due"),
            format!("every transaction published in round {due} must execute now"),
        ));
    }
    let base = b.base_wh + forced_sum;
    let room = (p.cap_wh - base).max(0);
    if optional_sum > room {
        return Err(CoreError::rule(
            Rule::Block,
            "transactions",
            format!("{optional_sum} Wh optional"),
            format!("above the capacity left ({room} Wh)"),
        ));
    }
    let theta = base + optional_sum;
    Ok((win.lambda_with(theta, p)?, theta))
}

/// `evaluate`, and the claimed λ must be the recomputed one.
pub fn validate(
    pool: &Pool<'_>,
    executed: &[bool],
    win: &Window,
    p: &Params,
    b: &Proposal<'_>,
) -> CoreResult<(u64, i64)> {
    let (lambda, theta) = evaluate(pool, executed, win, p, b)?;
    if lambda != b.lambda {
        return Err(CoreError::rule(
            Rule::Block,
            "lambda",
            b.lambda,
            format!("the benefit recomputes to {lambda}"),
        ));
    }
    Ok((lambda, theta))
}

/// Validate a sequence of blocks extending one parent state, all or nothing.
/// Returns λ and Θ of each block; the error names the first bad block.
pub fn validate_chain(
    pool: &Pool<'_>,
    executed: &[bool],
    mut win: Window,
    p: &Params,
    blocks: &[Proposal<'_>],
) -> CoreResult<Vec<(u64, i64)>> {
    pool.check()?;
    p.check()?;
    let mut done = executed.to_vec();
    let mut out = Vec::with_capacity(blocks.len());
    let mut last_round: Option<i64> = None;
    for (k, b) in blocks.iter().enumerate() {
        if last_round.is_some_and(|r| b.round != r + 1) {
            return Err(CoreError::rule(
                Rule::Block,
                format!("blocks[{k}].round"),
                b.round,
                "rounds must follow one another",
            ));
        }
        last_round = Some(b.round);
        let (lambda, theta) = validate(pool, &done, &win, p, b).map_err(|e| prefix(e, k))?;
        for &i in b.indices {
            if let Some(d) = usize::try_from(i).ok().and_then(|i| done.get_mut(i)) {
                *d = true;
            }
        }
        win.push(theta, p.window);
        out.push((lambda, theta));
    }
    Ok(out)
}

fn prefix(e: CoreError, k: usize) -> CoreError {
    match e {
        CoreError::Rule {
            rule,
            field,
            value,
            reason,
        } => CoreError::Rule {
            rule,
            field: format!("blocks[{k}].{field}"),
            value,
            reason,
        },
        other => other,
    }
}

/// The result of a round-by-round run.
#[derive(Debug, Clone)]
pub struct Run {
    /// Round in which each transaction executed, −1 if still pending at the end.
    pub executed_round: Vec<i64>,
    /// Θ of each round (Wh per round).
    pub theta_wh: Vec<i64>,
    /// λ of each round's block.
    pub lambda: Vec<u64>,
    /// The miner whose block won each round.
    pub winner: Vec<u32>,
    /// Rounds whose choice was not proven optimal (only `optimal` proves).
    pub unproven: usize,
}

/// Run competing miners over `base_wh.len()` rounds starting at round 0
/// (`pool.published` relative to it): each round, the due transactions
/// execute, every miner proposes the optional set its scheduler picks on the
/// current chain, and the block of highest λ wins (ties: the first miner).
pub fn simulate(
    miners: &[Scheduler],
    pool: &Pool<'_>,
    base_wh: &[i64],
    mut win: Window,
    p: &Params,
) -> CoreResult<Run> {
    pool.check()?;
    p.check()?;
    if miners.is_empty() {
        return Err(CoreError::invalid("miners", 0, "at least one miner"));
    }
    let n = pool.published.len();
    let mut executed_round = vec![-1i64; n];
    let mut theta_wh = Vec::with_capacity(base_wh.len());
    let mut lambda = Vec::with_capacity(base_wh.len());
    let mut winner = Vec::with_capacity(base_wh.len());
    let mut unproven = 0usize;
    let mut pending: Vec<usize> = Vec::new();
    let mut next = 0usize;
    let mut weights: Vec<i64> = Vec::new();
    let mut optional: Vec<usize> = Vec::new();
    for (r, &base_load) in base_wh.iter().enumerate() {
        let r = r as i64;
        while next < n && pool.published.get(next).is_some_and(|&x| x <= r) {
            pending.push(next);
            next += 1;
        }
        let due = r - p.max_defer;
        let mut base = base_load;
        optional.clear();
        weights.clear();
        for &i in &pending {
            let w = pool.grid_wh.get(i).copied().unwrap_or(0);
            if pool.published.get(i).is_some_and(|&x| x <= due) {
                base += w;
                if let Some(e) = executed_round.get_mut(i) {
                    *e = r;
                }
            } else {
                optional.push(i);
                weights.push(w);
            }
        }
        let hi = (p.cap_wh - base).max(0);
        let (k, b) = win.target(base);
        let mut best: Option<(u64, usize, crate::ev::choice::Choice)> = None;
        for (m, &s) in miners.iter().enumerate() {
            let c = choose(s, &weights, k, b, i64::MIN / 4, hi)?;
            let l = win.lambda_with(base + c.sum, p)?;
            if best.as_ref().is_none_or(|(bl, _, _)| l > *bl) {
                best = Some((l, m, c));
            }
        }
        let Some((l, m, c)) = best else {
            return Err(CoreError::invalid("miners", 0, "at least one miner"));
        };
        if !c.proven {
            unproven += 1;
        }
        for (&i, &e) in optional.iter().zip(&c.execute) {
            if e {
                if let Some(x) = executed_round.get_mut(i) {
                    *x = r;
                }
            }
        }
        pending.retain(|&i| executed_round.get(i).is_some_and(|&x| x < 0));
        let theta = base + c.sum;
        lambda.push(l);
        winner.push(m as u32);
        win.push(theta, p.window);
        theta_wh.push(theta);
    }
    Ok(Run {
        executed_round,
        theta_wh,
        lambda,
        winner,
        unproven,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const P: Params = Params {
        cap_wh: 10_000,
        max_defer: 2,
        window: 4,
        round_minutes: 5,
    };

    #[test]
    fn lambda_is_the_inverse_variance() {
        // slopes 0, 60, 0, 60 Wh per 5 min = 0, 0.72, 0, 0.72 kW: variance 0.1296 kW².
        let l = lambda_from_sums(4, 120, 7200, 5).unwrap();
        assert_eq!(l, (1e12 / 0.1296_f64) as u64);
        assert_eq!(lambda_from_sums(3, 30, 300, 5).unwrap(), u64::MAX);
        assert!(lambda_from_sums(2, 10, 1, 5).is_err());
    }

    #[test]
    fn window_keeps_the_last_slopes() {
        let mut w = Window::new(0, &[], 3);
        for th in [10, 30, 30, 70] {
            w.push(th, 3);
        }
        assert_eq!(w.slopes, [0, 40]);
        assert_eq!(w.theta_prev, 70);
    }

    fn pool() -> (Vec<i64>, Vec<i64>) {
        (vec![0, 0, 1, 2, 2], vec![500, -300, 800, 200, 400])
    }

    #[test]
    fn simulated_blocks_validate_and_forged_ones_do_not() {
        let (pb, gw) = pool();
        let pool = Pool {
            published: &pb,
            grid_wh: &gw,
        };
        let base = [1000, 1200, 900, 1100, 1000];
        let run = simulate(
            &[Scheduler::Optimal],
            &pool,
            &base,
            Window::new(1000, &[], 4),
            &P,
        )
        .unwrap();
        let mut per_round: Vec<Vec<i64>> = vec![vec![]; base.len()];
        for (i, &r) in run.executed_round.iter().enumerate() {
            assert!(r >= pb[i] && r <= pb[i] + 2);
            per_round[r as usize].push(i as i64);
        }
        let blocks: Vec<Proposal<'_>> = per_round
            .iter()
            .enumerate()
            .map(|(r, ix)| Proposal {
                round: r as i64,
                base_wh: base[r],
                indices: ix,
                lambda: run.lambda[r],
            })
            .collect();
        let ok =
            validate_chain(&pool, &[false; 5], Window::new(1000, &[], 4), &P, &blocks).unwrap();
        assert_eq!(ok.iter().map(|x| x.1).collect::<Vec<_>>(), run.theta_wh);
        // A wrong λ is rejected.
        let mut bad = blocks.clone();
        bad[2].lambda += 1;
        let e =
            validate_chain(&pool, &[false; 5], Window::new(1000, &[], 4), &P, &bad).unwrap_err();
        assert_eq!(e.field_value().0, "blocks[2].lambda");
    }

    #[test]
    fn rules_reject_unknown_double_missing_and_over_capacity() {
        let (pb, gw) = pool();
        let pool = Pool {
            published: &pb,
            grid_wh: &gw,
        };
        let win = Window::new(1000, &[], 4);
        let lam = |ix: &[i64], round: i64, exec: &[bool]| {
            let b = Proposal {
                round,
                base_wh: 1000,
                indices: ix,
                lambda: 0,
            };
            validate(&pool, exec, &win, &P, &b)
        };
        let fresh = [false; 5];
        // Unknown index, future transaction, repeated index, already executed.
        assert!(matches!(
            lam(&[7], 0, &fresh),
            Err(CoreError::Rule {
                rule: Rule::Transaction,
                ..
            })
        ));
        assert!(matches!(
            lam(&[2], 0, &fresh),
            Err(CoreError::Rule {
                rule: Rule::Transaction,
                ..
            })
        ));
        assert!(matches!(
            lam(&[0, 0], 0, &fresh),
            Err(CoreError::Rule {
                rule: Rule::DoubleSpend,
                ..
            })
        ));
        let mut done = fresh;
        done[0] = true;
        assert!(matches!(
            lam(&[0], 1, &done),
            Err(CoreError::Rule {
                rule: Rule::DoubleSpend,
                ..
            })
        ));
        // Round 2: transactions 0 and 1 are due and must be in the block.
        let e = lam(&[0], 2, &fresh).unwrap_err();
        assert_eq!(e.field_value().0, "transactions");
        // Optional charge above the capacity left.
        let tight = Params { cap_wh: 1200, ..P };
        let b = Proposal {
            round: 1,
            base_wh: 1000,
            indices: &[2],
            lambda: 0,
        };
        assert!(validate(&pool, &fresh, &win, &tight, &b).is_err());
        // An accepting case: the right λ.
        let want = win.lambda_with(1000 + 800, &P).unwrap();
        let b = Proposal {
            round: 1,
            base_wh: 1000,
            indices: &[2],
            lambda: want,
        };
        assert_eq!(validate(&pool, &fresh, &win, &P, &b).unwrap(), (want, 1800));
    }

    #[test]
    fn the_block_of_highest_lambda_wins_the_round() {
        let (pb, gw) = pool();
        let pool = Pool {
            published: &pb,
            grid_wh: &gw,
        };
        let base = [1000, 1200, 900, 1100, 1000];
        let win = Window::new(1000, &[40, -70, 10], 4);
        let miners = [Scheduler::None, Scheduler::Greedy, Scheduler::Optimal];
        let all = simulate(&miners, &pool, &base, win.clone(), &P).unwrap();
        let opt = simulate(&[Scheduler::Optimal], &pool, &base, win.clone(), &P).unwrap();
        // The exact miner's block is never beaten, so the chain is the optimal one.
        assert_eq!(all.lambda, opt.lambda);
        // On one state, the winner's λ is the best of the miners' λ.
        let two = simulate(&miners[..2], &pool, &base[..1], win.clone(), &P).unwrap();
        let none = simulate(&miners[..1], &pool, &base[..1], win.clone(), &P).unwrap();
        let greedy = simulate(&miners[1..2], &pool, &base[..1], win, &P).unwrap();
        assert_eq!(two.lambda[0], none.lambda[0].max(greedy.lambda[0]));
        let want = u32::from(greedy.lambda[0] > none.lambda[0]);
        assert_eq!(two.winner[0], want);
    }

    #[test]
    fn optimal_block_has_the_highest_lambda_of_all_subsets() {
        let (pb, gw) = pool();
        let pool = Pool {
            published: &pb,
            grid_wh: &gw,
        };
        let win = Window::new(1000, &[40, -70, 10], 4);
        let run = simulate(&[Scheduler::Optimal], &pool, &[1000], win.clone(), &P).unwrap();
        let best = (0u32..4)
            .filter_map(|m| {
                let ix: Vec<i64> = (0..2).filter(|i| m >> i & 1 == 1).collect();
                let th = 1000 + ix.iter().map(|&i| gw[i as usize]).sum::<i64>();
                win.lambda_with(th, &P).ok()
            })
            .max()
            .unwrap();
        assert_eq!(run.lambda[0], best);
    }
}
