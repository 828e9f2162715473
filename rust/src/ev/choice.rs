//! EV scheduling per round (SPEC §6, seed 003 eq. 5–8): choose which of the
//! optional pending transactions execute now.
//!
//! Every scheduler solves the same one-round problem: the forced transactions
//! (those deferred `max_defer` rounds) are already counted, and a subset S of
//! the optional ones, given as their Θ terms `w` in Wh (positive: charge,
//! negative: discharge) in priority order (oldest first), is chosen to
//! minimise |K·Σ_S w − B|. With K = W − 1 and B from the window's previous
//! slopes, that is exactly the window's slope variance (PF) with this round's
//! slope, so the minimiser maximises the block's benefit λ = 1/PF. The sum
//! must stay in `[lo, hi]` (the feeder capacity; the interval always holds 0).
//!
//! `optimal` is exact: a bitset dynamic programme over the reachable sums,
//! first over a core of the newest items with the older ones fixed, which is
//! returned only when it attains the lower bound of any integer sum, then over
//! larger cores up to all items (the full programme is exact by itself).

use crate::error::{CoreError, CoreResult};

/// A scheduler's choice for one round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// One flag per optional transaction: execute now.
    pub execute: Vec<bool>,
    /// Σ of the chosen terms (Wh).
    pub sum: i64,
    /// The objective |K·sum − B| is the least any subset can reach.
    pub proven: bool,
}

/// The schedulers of one round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheduler {
    /// Execute every optional transaction now (within the capacity).
    None,
    /// One pass, oldest first: take a transaction if it lowers the objective.
    Greedy,
    /// The exact minimum of the objective.
    Optimal,
}

impl Scheduler {
    pub fn parse(name: &str) -> CoreResult<Self> {
        match name {
            "none" => Ok(Self::None),
            "greedy" => Ok(Self::Greedy),
            "optimal" => Ok(Self::Optimal),
            _ => Err(CoreError::config(
                "scheduler",
                name,
                "use 'none', 'greedy' or 'optimal'",
            )),
        }
    }
}

fn err(k: i64, b: i128, s: i64) -> i128 {
    (i128::from(k) * i128::from(s) - b).abs()
}

fn check(w: &[i64], k: i64, lo: i64, hi: i64) -> CoreResult<()> {
    if k < 1 {
        return Err(CoreError::invalid("k", k, "must be at least 1"));
    }
    if lo > 0 || hi < 0 {
        return Err(CoreError::invalid(
            "lo, hi",
            format!("[{lo}, {hi}]"),
            "the interval must hold 0",
        ));
    }
    let limit: i64 = 1 << 40;
    for (i, &x) in w.iter().enumerate() {
        if x.abs() > limit {
            return Err(CoreError::invalid(
                format!("weights[{i}]"),
                x,
                "|w| must be below 2^40 Wh",
            ));
        }
    }
    if w.len() > 1 << 24 {
        return Err(CoreError::invalid("weights", w.len(), "at most 2^24 items"));
    }
    Ok(())
}

/// Choose the transactions to execute in one round.
pub fn choose(
    scheduler: Scheduler,
    w: &[i64],
    k: i64,
    b: i128,
    lo: i64,
    hi: i64,
) -> CoreResult<Choice> {
    check(w, k, lo, hi)?;
    Ok(match scheduler {
        Scheduler::None => all_within(w, lo, hi),
        Scheduler::Greedy => greedy(w, k, b, lo, hi),
        Scheduler::Optimal => optimal(w, k, b, lo, hi),
    })
}

/// Everything, then drop the newest terms that push the sum out of `[lo, hi]`.
fn all_within(w: &[i64], lo: i64, hi: i64) -> Choice {
    let mut execute = vec![true; w.len()];
    let mut sum: i64 = w.iter().sum();
    for (x, e) in w.iter().zip(execute.iter_mut()).rev() {
        if (sum > hi && *x > 0) || (sum < lo && *x < 0) {
            *e = false;
            sum -= *x;
        }
    }
    Choice {
        execute,
        sum,
        proven: false,
    }
}

fn greedy(w: &[i64], k: i64, b: i128, lo: i64, hi: i64) -> Choice {
    let mut sum = 0i64;
    let execute = w
        .iter()
        .map(|&x| {
            let t = sum + x;
            let take = t >= lo && t <= hi && err(k, b, t) < err(k, b, sum);
            if take {
                sum = t;
            }
            take
        })
        .collect();
    Choice {
        execute,
        sum,
        proven: false,
    }
}

/// A set of reachable sums 0..=len-1 as bits.
#[derive(Clone)]
struct Bits(Vec<u64>);

impl Bits {
    fn single_zero(bits: usize) -> Self {
        let mut v = vec![0u64; bits / 64 + 1];
        if let Some(first) = v.first_mut() {
            *first = 1;
        }
        Self(v)
    }

    fn has(&self, u: i64) -> bool {
        if u < 0 {
            return false;
        }
        let u = u as usize;
        self.0.get(u / 64).is_some_and(|w| (w >> (u % 64)) & 1 == 1)
    }

    /// self ∪ (self + a), into `out`.
    fn shift_or(&self, a: usize, out: &mut Bits) {
        out.0.clear();
        out.0.extend_from_slice(&self.0);
        let (ws, bs) = (a / 64, a % 64);
        if bs == 0 {
            for (d, s) in out.0.iter_mut().skip(ws).zip(self.0.iter()) {
                *d |= *s;
            }
        } else {
            let mut prev = 0u64;
            for (d, s) in out.0.iter_mut().skip(ws).zip(self.0.iter()) {
                *d |= (*s << bs) | (prev >> (64 - bs));
                prev = *s;
            }
        }
    }
}

/// The sum of the fixed items, and the items left free, for one phase.
struct Phase<'a> {
    free: &'a [i64],
    fixed_sum: i64,
}

/// Exact search over the free items of a phase: the best reachable sum in
/// [lo, hi] and the choice that reaches it, older items executed when possible.
fn solve_phase(p: &Phase<'_>, k: i64, b: i128, lo: i64, hi: i64) -> Option<(Vec<bool>, i64)> {
    // Substitute each discharge (negative term) by "not executed": every
    // item then adds |w| to u = sum − neg when it moves away from the base.
    let neg: i64 = p.free.iter().filter(|&&x| x < 0).sum();
    let a: Vec<usize> = p.free.iter().map(|x| x.unsigned_abs() as usize).collect();
    let total: usize = a.iter().sum();
    let base = p.fixed_sum + neg;
    let n = a.len();
    // Suffix sets S_j (sums reachable with items j..n) kept at checkpoints
    // j = n - c * step, so memory is ~ (n / step + step) sets.
    let step = ((n as f64).sqrt().ceil() as usize).max(1);
    let mut checkpoints: Vec<Bits> = Vec::with_capacity(n / step + 2);
    let mut cur = Bits::single_zero(total);
    let mut tmp = Bits(Vec::new());
    checkpoints.push(cur.clone());
    for (i, &ai) in a.iter().enumerate().rev() {
        cur.shift_or(ai, &mut tmp);
        std::mem::swap(&mut cur, &mut tmp);
        if (n - i).is_multiple_of(step) {
            checkpoints.push(cur.clone());
        }
    }
    let all = cur;
    let ulo = (lo - base).max(0);
    let uhi = (hi - base).min(total as i64);
    if ulo > uhi {
        return None;
    }
    // The error is monotone in |u - t| on each side of the real target t:
    // the nearest reachable sum below and the nearest above are the candidates.
    let f = (b - i128::from(k) * i128::from(base)).div_euclid(i128::from(k));
    let f = f.clamp(i128::from(ulo) - 1, i128::from(uhi)) as i64;
    let below = (ulo..=f).rev().find(|&u| all.has(u));
    let above = (f + 1..=uhi).find(|&u| all.has(u));
    let u = match (below, above) {
        (Some(x), Some(y)) => {
            if err(k, b, base + y) < err(k, b, base + x) {
                y
            } else {
                x
            }
        }
        (Some(x), None) | (None, Some(x)) => x,
        (None, None) => return None,
    };
    // Reconstruct forward, executing each item when the rest can still reach u.
    let mut execute = vec![false; n];
    let mut rem = u;
    for (c, checkpoint) in checkpoints.iter().enumerate().rev() {
        let upper = n - c * step;
        let lower = upper.saturating_sub(step);
        // sets[m] = S_{upper - m}, m = 0 .. upper - lower - 1.
        let mut sets: Vec<Bits> = Vec::with_capacity(upper - lower);
        let mut s = checkpoint.clone();
        sets.push(s.clone());
        for &ai in a.get(lower + 1..upper).unwrap_or(&[]).iter().rev() {
            s.shift_or(ai, &mut tmp);
            std::mem::swap(&mut s, &mut tmp);
            sets.push(s.clone());
        }
        for j in lower..upper {
            let next = sets.get(upper - j - 1);
            let ai = a.get(j).map_or(0, |&x| x as i64);
            let positive = p.free.get(j).is_some_and(|&x| x >= 0);
            // Executing a charge adds |w| to u; executing a discharge adds 0.
            let (exec_add, skip_add) = if positive { (ai, 0) } else { (0, ai) };
            if next.is_some_and(|b| b.has(rem - exec_add)) {
                if let Some(e) = execute.get_mut(j) {
                    *e = true;
                }
                rem -= exec_add;
            } else {
                rem -= skip_add;
            }
        }
    }
    let sum = p.fixed_sum
        + p.free
            .iter()
            .zip(&execute)
            .filter(|(_, &e)| e)
            .map(|(x, _)| *x)
            .sum::<i64>();
    Some((execute, sum))
}

/// The least objective any integer sum in [lo', hi'] could reach.
fn lower_bound(k: i64, b: i128, lo: i64, hi: i64) -> i128 {
    let f = b.div_euclid(i128::from(k));
    [f, f + 1]
        .iter()
        .map(|&s| s.clamp(i128::from(lo), i128::from(hi)) as i64)
        .map(|s| err(k, b, s))
        .min()
        .unwrap_or(i128::MAX)
}

/// Items of the first exact phase.
const CORE: usize = 48;

fn optimal(w: &[i64], k: i64, b: i128, lo: i64, hi: i64) -> Choice {
    let n = w.len();
    let neg: i64 = w.iter().filter(|&&x| x < 0).sum();
    let pos: i64 = w.iter().filter(|&&x| x > 0).sum();
    let bound = lower_bound(k, b, lo.max(neg), hi.min(pos));
    // The newest CORE items first: with the older ones fixed, they nearly
    // always reach the integer lower bound, at a fraction of the full cost.
    let mut core = CORE.min(n);
    loop {
        let split = n - core;
        let (older, newer) = w.split_at(split);
        // Older items first: a greedy pass decides them, aiming at the
        // target less the middle of what the core can still add.
        let core_mid: i64 = newer.iter().sum::<i64>() / 2;
        let shifted = b - i128::from(k) * i128::from(core_mid);
        let g = greedy(
            older,
            k,
            shifted,
            lo - core_mid.min(0),
            hi - core_mid.max(0),
        );
        let phase = Phase {
            free: newer,
            fixed_sum: g.sum,
        };
        if let Some((ex, sum)) = solve_phase(&phase, k, b, lo, hi) {
            let proven = err(k, b, sum) == bound;
            if proven || core == n {
                let mut execute = g.execute;
                execute.extend(ex);
                return Choice {
                    execute,
                    sum,
                    proven: proven || core == n,
                };
            }
        } else if core == n {
            // Unreachable: 0 is always in [lo, hi] and reachable.
            return Choice {
                execute: vec![false; n],
                sum: 0,
                proven: false,
            };
        }
        core = (core * 4).min(n);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn brute(w: &[i64], k: i64, b: i128, lo: i64, hi: i64) -> i128 {
        let n = w.len();
        (0u32..1 << n)
            .filter_map(|m| {
                let s: i64 = (0..n).filter(|i| m >> i & 1 == 1).map(|i| w[i]).sum();
                (s >= lo && s <= hi).then(|| err(k, b, s))
            })
            .min()
            .unwrap()
    }

    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *seed >> 33
    }

    #[test]
    fn optimal_matches_brute_force() {
        let mut seed = 7u64;
        for case in 0..400 {
            let n = (lcg(&mut seed) % 14) as usize;
            let w: Vec<i64> = (0..n)
                .map(|_| (lcg(&mut seed) % 2000) as i64 - 700)
                .collect();
            let k = 1 + (lcg(&mut seed) % 300) as i64;
            let b = (lcg(&mut seed) % 2_000_000) as i128 - 600_000;
            let (lo, hi) = if case % 3 == 0 {
                (
                    -((lcg(&mut seed) % 3000) as i64),
                    (lcg(&mut seed) % 3000) as i64,
                )
            } else {
                (i64::MIN / 4, i64::MAX / 4)
            };
            let c = choose(Scheduler::Optimal, &w, k, b, lo, hi).unwrap();
            let s: i64 = w
                .iter()
                .zip(&c.execute)
                .filter(|p| *p.1)
                .map(|p| *p.0)
                .sum();
            assert_eq!(s, c.sum);
            assert!(s >= lo && s <= hi);
            assert_eq!(
                err(k, b, s),
                brute(&w, k, b, lo, hi),
                "case {case}: {w:?} k={k} b={b}"
            );
            let g = choose(Scheduler::Greedy, &w, k, b, lo, hi).unwrap();
            assert!(err(k, b, g.sum) >= err(k, b, s));
        }
    }

    #[test]
    fn large_instances_use_the_core_and_stay_exact() {
        let mut seed = 3u64;
        let w: Vec<i64> = (0..3000)
            .map(|_| (lcg(&mut seed) % 9000) as i64 - 3000)
            .collect();
        let c = choose(
            Scheduler::Optimal,
            &w,
            287,
            287 * 12_345 + 17,
            -1 << 40,
            1 << 40,
        )
        .unwrap();
        assert!(c.proven);
        assert_eq!(err(287, 287 * 12_345 + 17, c.sum), 17);
    }

    #[test]
    fn core_first_equals_the_full_programme() {
        let mut seed = 11u64;
        for case in 0..60 {
            let n = 49 + (lcg(&mut seed) % 150) as usize;
            let w: Vec<i64> = (0..n)
                .map(|_| (lcg(&mut seed) % 12_000) as i64 - 4_000)
                .collect();
            let k = 1 + (lcg(&mut seed) % 300) as i64;
            let b = (lcg(&mut seed) % 40_000_000) as i128 - 10_000_000;
            let hi = (lcg(&mut seed) % 200_000) as i64;
            let c = choose(Scheduler::Optimal, &w, k, b, i64::MIN / 4, hi).unwrap();
            let full = Phase {
                free: &w,
                fixed_sum: 0,
            };
            let (_, s) = solve_phase(&full, k, b, i64::MIN / 4, hi).unwrap();
            assert_eq!(err(k, b, c.sum), err(k, b, s), "case {case}");
            assert!(c.proven);
        }
    }

    #[test]
    fn none_trims_newest_over_capacity() {
        let c = choose(Scheduler::None, &[5, -2, 7, 4], 1, 0, -10, 8).unwrap();
        assert_eq!(c.execute, vec![true, true, false, false]);
        assert_eq!(c.sum, 3);
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(choose(Scheduler::Greedy, &[1], 0, 0, 0, 0).is_err());
        assert!(choose(Scheduler::Greedy, &[1], 1, 0, 1, 2).is_err());
        assert!(choose(Scheduler::Greedy, &[1 << 41], 1, 0, 0, 0).is_err());
        assert!(Scheduler::parse("best").is_err());
    }

    #[test]
    fn older_items_are_preferred_on_ties() {
        // Both items alone reach the target exactly: the older one runs.
        let c = choose(Scheduler::Optimal, &[5, 5], 1, 5, -100, 100).unwrap();
        assert_eq!(c.execute, vec![true, false]);
    }
}
