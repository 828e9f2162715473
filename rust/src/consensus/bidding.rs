//! The bidding game of seed 000 §5 (SPEC §3, Tables 3–4): candidates bid
//! voting tokens each turn, the auction draw picks a winner who receives every
//! bid (its own included), so tokens are conserved.
//!
//! Each turn every active candidate (tokens > 0) bids e = ⌊E·x⌋ with x a random
//! whole percentage in [0, 100 %] (the seed's "random percentage"; SPEC: x ~ U[0, 1]
//! closed). With a continuous x ∈ [0, 1) a candidate holding one token could never
//! bid it and nobody would ever drop out; with whole percentages it bids all its
//! tokens with probability 1/101.
//! - sc1: W from the bids only (W = ê);
//! - sc2: W = α·ê + β·Â + γ·R̂ (age A = turns since the candidate last won,
//!   reputation R = turns won), no cap, no floor (risk-seeking);
//! - sc3: as sc2, and below a floor of 20 % of the start a candidate bids exactly 1;
//! - sc4: as sc3, and a bid is capped at ⌊0.4·E⌋ (risk-averse).
//!
//! Hats are shares over the bidders (0 when the sum is 0). U comes from a
//! seeded SplitMix64 stream (the game needs no chain), in (0, 1].
//!
//! Who bids ([`MinerRule`]): by default the previous turn's winner is the miner
//! (SPEC §3, seed 002 Table IV): it runs the auction and does not bid in it, the
//! other active candidates' bids go to this turn's winner, who keeps its own bid.
//! On the first turn there is no miner and everyone bids. `AllBid` is the rule
//! without a miner: every active candidate bids every turn.

use rayon::prelude::*;

use crate::consensus::draw::{winner_of, DrawRule};
use crate::error::{CoreError, CoreResult};

/// Who bids in a turn of the game.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MinerRule {
    /// The previous turn's winner runs the auction and does not bid in it.
    PreviousWinner,
    /// Every active candidate bids every turn (no miner).
    AllBid,
}

impl MinerRule {
    pub fn parse(name: &str) -> CoreResult<Self> {
        match name {
            "previous_winner" => Ok(Self::PreviousWinner),
            "all_bid" => Ok(Self::AllBid),
            _ => Err(CoreError::config(
                "miner_rule",
                format!("{name:?}"),
                "expected \"previous_winner\" or \"all_bid\"",
            )),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scenario {
    pub use_age_reputation: bool,
    /// Tokens below which a candidate bids exactly 1 (0 = no floor).
    pub floor: u64,
    /// Largest share of E one bid may take (1.0 = no cap).
    pub cap: f64,
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    /// Who bids each turn (default: everyone but the previous turn's winner).
    pub miner: MinerRule,
}

impl Scenario {
    /// sc1–sc4 with the seed's start of 100 tokens and the weights given.
    pub fn named(name: &str, start: u64, alpha: f64, beta: f64, gamma: f64) -> CoreResult<Self> {
        let floor = start / 5;
        let (ar, floor, cap) = match name {
            "sc1" => (false, 0, 1.0),
            "sc2" => (true, 0, 1.0),
            "sc3" => (true, floor, 1.0),
            "sc4" => (true, floor, 0.4),
            _ => {
                return Err(CoreError::config(
                    "scenario",
                    format!("{name:?}"),
                    "expected \"sc1\", \"sc2\", \"sc3\" or \"sc4\"",
                ))
            }
        };
        for (f, v) in [("alpha", alpha), ("beta", beta), ("gamma", gamma)] {
            if !v.is_finite() || v < 0.0 {
                return Err(CoreError::config(f, v, "α, β, γ must be finite and ≥ 0"));
            }
        }
        Ok(Self {
            use_age_reputation: ar,
            floor,
            cap,
            alpha,
            beta,
            gamma,
            miner: MinerRule::PreviousWinner,
        })
    }

    /// The same scenario under the miner rule named `"previous_winner"` or `"all_bid"`.
    pub fn with_miner_rule(self, name: &str) -> CoreResult<Self> {
        Ok(Self {
            miner: MinerRule::parse(name)?,
            ..self
        })
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): a small, fast, well-mixed stream.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole percentage in 0..=100 (modulo bias below 2^-57).
    fn percent(&mut self) -> u64 {
        self.next() % 101
    }
}

/// One run's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub wins: Vec<u32>,
    /// First turn (1-based) a candidate had 0 tokens, or 0 if never.
    pub zero_turn: Vec<u32>,
    pub tokens: Vec<u64>,
}

fn shares(x: &[f64], active: &[bool], out: &mut [f64]) {
    let sum: f64 = x
        .iter()
        .zip(active)
        .filter(|(_, a)| **a)
        .map(|(v, _)| v)
        .sum();
    for ((o, v), a) in out.iter_mut().zip(x).zip(active) {
        *o = if *a && sum > 0.0 { v / sum } else { 0.0 };
    }
}

/// Play `turns` turns from `start` tokens each; `trace` receives the tokens after every turn.
pub fn play(
    sc: &Scenario,
    rule: DrawRule,
    start: &[u64],
    turns: u32,
    seed: u64,
    mut trace: Option<&mut Vec<u64>>,
) -> Outcome {
    let n = start.len();
    let mut rng = SplitMix(seed ^ 0x6772_6964_6c65_6467);
    let mut tokens = start.to_vec();
    let mut wins = vec![0u32; n];
    let mut last_win = vec![0u32; n];
    let mut zero_turn = vec![0u32; n];
    let (mut bids, mut e, mut a, mut r) = (vec![0u64; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let (mut eh, mut ah, mut rh, mut w) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let mut ln_u = vec![0.0; n];
    // The previous turn's winner, who runs this turn's auction (PreviousWinner only).
    let mut miner: Option<usize> = None;
    let keys: Vec<[u8; 32]> = (0..n)
        .map(|i| {
            let mut k = [0u8; 32];
            k[..8].copy_from_slice(&(i as u64).to_be_bytes());
            k
        })
        .collect();
    for t in 1..=turns {
        let active: Vec<bool> = tokens.iter().map(|&x| x > 0).collect();
        if active.iter().filter(|a| **a).count() == 0 {
            break;
        }
        // The bidders: the active candidates but the miner. Should the miner be the
        // only one left with tokens, it stands itself (a block must still be made).
        let mut bidding = active.clone();
        if let Some(m) = miner {
            let others = (0..n).any(|i| i != m && active.get(i).copied().unwrap_or(false));
            if let (true, Some(b)) = (others, bidding.get_mut(m)) {
                *b = false;
            }
        }
        for i in 0..n {
            let big_e = if bidding.get(i).copied().unwrap_or(false) {
                tokens.get(i).copied().unwrap_or(0)
            } else {
                0
            };
            // Every candidate draws its x and U, bidding or not: the stream of one
            // seed is the same under both miner rules.
            let pct = rng.percent();
            let bid = if big_e == 0 {
                0
            } else if sc.floor > 0 && big_e < sc.floor {
                1
            } else {
                let raw = u64::try_from(u128::from(big_e) * u128::from(pct) / 100).unwrap_or(big_e);
                let capped = (big_e as f64 * sc.cap).floor() as u64;
                raw.min(capped).min(big_e)
            };
            if let Some(b) = bids.get_mut(i) {
                *b = bid;
            }
            if let Some(v) = e.get_mut(i) {
                *v = bid as f64;
            }
            if let Some(v) = a.get_mut(i) {
                *v = f64::from(t - last_win.get(i).copied().unwrap_or(0));
            }
            if let Some(v) = r.get_mut(i) {
                *v = f64::from(wins.get(i).copied().unwrap_or(0));
            }
            // U ∈ (0, 1]: (u + 1) / 2^64 as in the chain's draw.
            if let Some(v) = ln_u.get_mut(i) {
                *v = crate::consensus::draw::ln_u(rng.next());
            }
        }
        shares(&e, &bidding, &mut eh);
        if sc.use_age_reputation {
            shares(&a, &bidding, &mut ah);
            shares(&r, &bidding, &mut rh);
        }
        for i in 0..n {
            let wi = if !bidding.get(i).copied().unwrap_or(false) {
                0.0
            } else if sc.use_age_reputation {
                sc.alpha * eh.get(i).copied().unwrap_or(0.0)
                    + sc.beta * ah.get(i).copied().unwrap_or(0.0)
                    + sc.gamma * rh.get(i).copied().unwrap_or(0.0)
            } else {
                eh.get(i).copied().unwrap_or(0.0)
            };
            if let Some(v) = w.get_mut(i) {
                *v = wi;
            }
        }
        // Only the bidders take part (an all-zero W draws among them alike).
        let idx: Vec<usize> = (0..n)
            .filter(|i| bidding.get(*i).copied().unwrap_or(false))
            .collect();
        let ws: Vec<f64> = idx
            .iter()
            .map(|i| w.get(*i).copied().unwrap_or(0.0))
            .collect();
        let us: Vec<f64> = idx
            .iter()
            .map(|i| ln_u.get(*i).copied().unwrap_or(0.0))
            .collect();
        let ks: Vec<[u8; 32]> = idx
            .iter()
            .map(|i| keys.get(*i).copied().unwrap_or([0; 32]))
            .collect();
        let Some(win) = winner_of(rule, &ws, &us, &ks).and_then(|j| idx.get(j).copied()) else {
            break;
        };
        let pot: u64 = bids.iter().sum();
        for (tok, b) in tokens.iter_mut().zip(&bids) {
            *tok -= b;
        }
        if let Some(tok) = tokens.get_mut(win) {
            *tok += pot;
        }
        if let Some(c) = wins.get_mut(win) {
            *c += 1;
        }
        if let Some(l) = last_win.get_mut(win) {
            *l = t;
        }
        if sc.miner == MinerRule::PreviousWinner {
            miner = Some(win);
        }
        for (z, tok) in zero_turn.iter_mut().zip(&tokens) {
            if *z == 0 && *tok == 0 {
                *z = t;
            }
        }
        if let Some(tr) = trace.as_deref_mut() {
            tr.extend_from_slice(&tokens);
        }
    }
    Outcome {
        wins,
        zero_turn,
        tokens,
    }
}

/// Many seeded runs in parallel.
pub fn play_many(
    sc: &Scenario,
    rule: DrawRule,
    start: &[u64],
    turns: u32,
    seeds: &[u64],
) -> Vec<Outcome> {
    seeds
        .par_iter()
        .with_min_len(16)
        .map(|s| play(sc, rule, start, turns, *s, None))
        .collect()
}

/// Gini coefficient of non-negative holdings (0 equal, → 1 concentrated).
pub fn gini(x: &[u64]) -> f64 {
    let n = x.len();
    let total: u128 = x.iter().map(|v| u128::from(*v)).sum();
    if n == 0 || total == 0 {
        return 0.0;
    }
    let mut s: Vec<u64> = x.to_vec();
    s.sort_unstable();
    let weighted: f64 = s
        .iter()
        .enumerate()
        .map(|(i, v)| (2.0 * (i as f64 + 1.0) - n as f64 - 1.0) * *v as f64)
        .sum();
    weighted / (n as f64 * total as f64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_conserved_and_runs_repeat() {
        for name in ["sc1", "sc2", "sc3", "sc4"] {
            let sc = Scenario::named(name, 100, 0.3, 0.6, 0.1).unwrap();
            for rule in [DrawRule::ArgmaxWOverU, DrawRule::Proportional] {
                let a = play(&sc, rule, &[100; 4], 1000, 7, None);
                assert_eq!(a.tokens.iter().sum::<u64>(), 400, "{name}");
                assert_eq!(a, play(&sc, rule, &[100; 4], 1000, 7, None));
                assert_eq!(a.wins.iter().sum::<u32>(), 1000);
            }
        }
    }

    #[test]
    fn zero_turns_are_when_tokens_ran_out() {
        let sc = Scenario::named("sc1", 100, 0.3, 0.6, 0.1).unwrap();
        let mut trace = Vec::new();
        let o = play(
            &sc,
            DrawRule::ArgmaxWOverU,
            &[100; 4],
            300,
            3,
            Some(&mut trace),
        );
        for (i, z) in o.zero_turn.iter().enumerate() {
            if *z > 0 {
                assert_eq!(trace[(*z as usize - 1) * 4 + i], 0);
                if *z > 1 {
                    assert!(trace[(*z as usize - 2) * 4 + i] > 0);
                }
            }
        }
    }

    /// Who won each turn, read off runs one turn longer each.
    fn winners(sc: &Scenario, turns: u32, seed: u64) -> Vec<usize> {
        let mut prev = vec![0u32; 4];
        (1..=turns)
            .map(|t| {
                let o = play(sc, DrawRule::ArgmaxWOverU, &[100; 4], t, seed, None);
                let w = (0..4).find(|i| o.wins[*i] > prev[*i]).unwrap();
                prev = o.wins;
                w
            })
            .collect()
    }

    #[test]
    fn the_miner_does_not_bid_and_keeps_its_tokens() {
        for name in ["sc1", "sc2", "sc3", "sc4"] {
            let sc = Scenario::named(name, 100, 0.3, 0.6, 0.1).unwrap();
            let turns = 150;
            let mut trace = Vec::new();
            play(
                &sc,
                DrawRule::ArgmaxWOverU,
                &[100; 4],
                turns,
                11,
                Some(&mut trace),
            );
            let won = winners(&sc, turns, 11);
            for t in 1..turns as usize {
                let (miner, now) = (won[t - 1], won[t]);
                // The miner never wins the auction it runs, and its holding is untouched.
                assert_ne!(miner, now, "{name} turn {}", t + 1);
                assert_eq!(trace[t * 4 + miner], trace[(t - 1) * 4 + miner]);
                // The winner keeps its own bid: nobody but the winner gains.
                for i in (0..4).filter(|i| *i != now) {
                    assert!(trace[t * 4 + i] <= trace[(t - 1) * 4 + i]);
                }
            }
        }
    }

    #[test]
    fn all_bid_lets_a_winner_win_again() {
        let sc = Scenario::named("sc1", 100, 0.3, 0.6, 0.1)
            .unwrap()
            .with_miner_rule("all_bid")
            .unwrap();
        let won = winners(&sc, 150, 11);
        assert!(won.windows(2).any(|w| w[0] == w[1]));
    }

    #[test]
    fn a_lone_candidate_stands_even_as_miner() {
        let sc = Scenario::named("sc2", 100, 0.3, 0.6, 0.1).unwrap();
        let o = play(&sc, DrawRule::ArgmaxWOverU, &[100], 20, 1, None);
        assert_eq!((o.wins, o.tokens), (vec![20], vec![100]));
    }

    #[test]
    fn gini_bounds() {
        assert_eq!(gini(&[5, 5, 5, 5]), 0.0);
        assert!((gini(&[0, 0, 0, 400]) - 0.75).abs() < 1e-12);
        assert_eq!(gini(&[]), 0.0);
    }

    #[test]
    fn bad_parameters() {
        assert!(Scenario::named("sc9", 100, 0.3, 0.6, 0.1).is_err());
        assert!(Scenario::named("sc2", 100, -0.3, 0.6, 0.1).is_err());
        let sc = Scenario::named("sc2", 100, 0.3, 0.6, 0.1).unwrap();
        assert!(sc.with_miner_rule("everyone").is_err());
        assert_eq!(sc.with_miner_rule("previous_winner").unwrap(), sc);
    }
}
