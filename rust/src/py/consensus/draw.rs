//! `gridledger._core` auction draw, exact win probabilities and the bidding game.

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::consensus::bidding::{gini, play, play_many, Scenario};
use crate::consensus::draw::{self, DrawRule};
use crate::crypto::hash::Algorithm;
use crate::error::CoreError;
use crate::py::buffers::{digest, rows, slice};

fn weights<'a>(a: &'a PyReadonlyArray1<'_, f64>) -> Result<&'a [f64], CoreError> {
    slice("weights", a)
}

/// The auction winner's index (SPEC §3): U from H(seed_hash ‖ period ‖ key).
#[pyfunction]
#[pyo3(signature = (weights_, seed_hash, period, public_keys, rule = "argmax_w_over_u", algorithm = "blake3"))]
fn draw_winner(
    py: Python<'_>,
    weights_: PyReadonlyArray1<'_, f64>,
    seed_hash: &[u8],
    period: u64,
    public_keys: PyReadonlyArray2<'_, u8>,
    rule: &str,
    algorithm: &str,
) -> PyResult<usize> {
    let rule = DrawRule::parse(rule)?;
    let alg = Algorithm::parse(algorithm)?;
    let seed = digest("seed_hash", seed_hash)?;
    let w = weights(&weights_)?;
    let (data, _, _) = rows("public_keys", &public_keys, Some(32))?;
    // One copy (a few ms for 10^6 keys) into the fixed-width keys the core takes.
    let keys: Vec<[u8; 32]> = data
        .chunks_exact(32)
        .map(|c| c.try_into().unwrap_or([0; 32]))
        .collect();
    Ok(py.detach(|| draw::draw(alg, rule, w, &seed, period, &keys))?)
}

/// Exact win probabilities of each candidate under `rule`.
#[pyfunction]
#[pyo3(signature = (weights_, rule = "argmax_w_over_u"))]
fn win_probabilities<'py>(
    py: Python<'py>,
    weights_: PyReadonlyArray1<'py, f64>,
    rule: &str,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let rule = DrawRule::parse(rule)?;
    let w = weights(&weights_)?;
    let p = py.detach(|| draw::win_probabilities(rule, w))?;
    Ok(PyArray1::from_vec(py, p))
}

fn scenario(
    name: &str,
    start: u64,
    abg: (f64, f64, f64),
    miner_rule: &str,
) -> Result<Scenario, CoreError> {
    Scenario::named(name, start, abg.0, abg.1, abg.2)?.with_miner_rule(miner_rule)
}

fn check_game(candidates: usize, start: u64) -> Result<(), CoreError> {
    if candidates == 0 || candidates > 1024 {
        return Err(CoreError::invalid(
            "candidates",
            candidates,
            "must be in 1..1024",
        ));
    }
    if start == 0 {
        return Err(CoreError::invalid(
            "start",
            0,
            "candidates need tokens to bid",
        ));
    }
    Ok(())
}

/// Play the bidding game once per seed: wins, first zero turn (0 = never),
/// final tokens (each (seeds, candidates)) and the Gini of the final tokens.
#[pyfunction]
#[pyo3(signature = (scenario_, turns, seeds, rule = "argmax_w_over_u", alpha = 0.3, beta = 0.6, gamma = 0.1, candidates = 4, start = 100, miner_rule = "previous_winner"))]
#[allow(clippy::too_many_arguments)]
fn simulate_bidding<'py>(
    py: Python<'py>,
    scenario_: &str,
    turns: u32,
    seeds: PyReadonlyArray1<'py, u64>,
    rule: &str,
    alpha: f64,
    beta: f64,
    gamma: f64,
    candidates: usize,
    start: u64,
    miner_rule: &str,
) -> PyResult<Bound<'py, PyDict>> {
    check_game(candidates, start)?;
    let sc = scenario(scenario_, start, (alpha, beta, gamma), miner_rule)?;
    let rule = DrawRule::parse(rule)?;
    let seeds = slice("seeds", &seeds)?;
    let starts = vec![start; candidates];
    let out = py.detach(|| play_many(&sc, rule, &starts, turns, seeds));
    let n = out.len();
    let flat = |f: &dyn Fn(&crate::consensus::bidding::Outcome) -> Vec<i64>| -> Vec<i64> {
        out.iter().flat_map(f).collect()
    };
    let d = PyDict::new(py);
    d.set_item(
        "wins",
        PyArray1::from_vec(
            py,
            flat(&|o| o.wins.iter().map(|&x| i64::from(x)).collect()),
        )
        .reshape([n, candidates])?,
    )?;
    d.set_item(
        "zero_turn",
        PyArray1::from_vec(
            py,
            flat(&|o| o.zero_turn.iter().map(|&x| i64::from(x)).collect()),
        )
        .reshape([n, candidates])?,
    )?;
    d.set_item(
        "tokens",
        PyArray1::from_vec(
            py,
            flat(&|o| {
                o.tokens
                    .iter()
                    .map(|&x| i64::try_from(x).unwrap_or(i64::MAX))
                    .collect()
            }),
        )
        .reshape([n, candidates])?,
    )?;
    d.set_item(
        "gini",
        PyArray1::from_vec(
            py,
            out.iter().map(|o| gini(&o.tokens)).collect::<Vec<f64>>(),
        ),
    )?;
    Ok(d)
}

/// Tokens of every candidate after each turn of one game: a (turns + 1, candidates) array.
#[pyfunction]
#[pyo3(signature = (scenario_, turns, seed, rule = "argmax_w_over_u", alpha = 0.3, beta = 0.6, gamma = 0.1, candidates = 4, start = 100, miner_rule = "previous_winner"))]
#[allow(clippy::too_many_arguments)]
fn bidding_trajectory<'py>(
    py: Python<'py>,
    scenario_: &str,
    turns: u32,
    seed: u64,
    rule: &str,
    alpha: f64,
    beta: f64,
    gamma: f64,
    candidates: usize,
    start: u64,
    miner_rule: &str,
) -> PyResult<Bound<'py, PyArray2<i64>>> {
    check_game(candidates, start)?;
    let sc = scenario(scenario_, start, (alpha, beta, gamma), miner_rule)?;
    let rule = DrawRule::parse(rule)?;
    let starts = vec![start; candidates];
    let mut trace: Vec<u64> = starts.clone();
    play(&sc, rule, &starts, turns, seed, Some(&mut trace));
    // A game that ends early (everyone at 0) keeps its last state.
    while trace.len() < (turns as usize + 1) * candidates {
        let last: Vec<u64> = trace
            .get(trace.len() - candidates..)
            .unwrap_or(&[])
            .to_vec();
        trace.extend(last);
    }
    let v: Vec<i64> = trace
        .iter()
        .map(|&x| i64::try_from(x).unwrap_or(i64::MAX))
        .collect();
    PyArray1::from_vec(py, v).reshape([turns as usize + 1, candidates])
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(draw_winner, m)?)?;
    m.add_function(wrap_pyfunction!(win_probabilities, m)?)?;
    m.add_function(wrap_pyfunction!(simulate_bidding, m)?)?;
    m.add_function(wrap_pyfunction!(bidding_trajectory, m)?)?;
    Ok(())
}
