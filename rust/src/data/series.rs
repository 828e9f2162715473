//! Time series on regular grids: native resolution, gap filling and
//! energy-preserving resampling, for many series at once (the engine behind
//! `gridledger.data.resample`, `fill_gaps`, `gap_report`).
//!
//! Input: the series concatenated, `offsets[s]..offsets[s+1]` delimiting
//! series `s`, timestamps in µs (strictly increasing within a series) and
//! mean power per interval with NaN for missing. Rules (documented for users
//! in `docs/data.md`):
//!
//! * native resolution: the most common step (the smallest on a tie); it
//!   must be whole minutes and every timestamp must lie on its grid;
//! * absent timestamps become missing periods on the regular grid;
//! * filling (optional, up to a limit in minutes): an interior run of missing
//!   periods is interpolated on a straight line between its neighbours; a run
//!   at either end holds the nearest value; a longer run is an error;
//! * upsampling by `k`: `Step` repeats the mean power (each fine period gets
//!   1/k of the energy); `Linear` draws a line through the coarse periods'
//!   centres and shifts each coarse period so its fine periods average
//!   exactly to it, falling back to `Step` where that would go negative;
//! * downsampling by `k`: the mean of the `k` fine periods of each coarse
//!   period aligned to UTC multiples of the target; missing if any is.

use std::borrow::Cow;

use rayon::prelude::*;

use crate::data::civil::{format_us, US_PER_MINUTE};
use crate::error::{CoreError, CoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsample {
    Step,
    Linear,
}

impl Upsample {
    pub fn parse(name: &str) -> CoreResult<Self> {
        match name {
            "step" => Ok(Self::Step),
            "linear" => Ok(Self::Linear),
            other => Err(CoreError::config("method", other, "use 'step' or 'linear'")),
        }
    }
}

/// What to do with every series.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// One label per series for messages, e.g. `AT/load_actual`.
    pub labels: &'a [String],
    /// Target period in minutes; `None` keeps each series' native resolution.
    pub target_min: Option<i64>,
    pub method: Upsample,
    /// Fill runs of missing periods up to this many minutes.
    pub fill_limit_min: Option<i64>,
}

/// The result; when `changed` is false every series was already regular at
/// the target and nothing was filled, and the vectors are empty (the input
/// is the answer).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resampled {
    pub time_us: Vec<i64>,
    pub values: Vec<f64>,
    pub offsets: Vec<usize>,
    pub native_min: Vec<i64>,
    pub changed: bool,
}

#[derive(Debug, Clone, Copy)]
struct Plan {
    /// Native step, minutes.
    r: i64,
    /// Periods on the regular native grid.
    n: usize,
    /// Output periods, first output timestamp, output step µs.
    out_len: usize,
    out_start: i64,
    out_step: i64,
    target: i64,
}

pub fn resample(
    time_us: &[i64],
    values: &[f64],
    offsets: &[usize],
    req: &Request<'_>,
) -> CoreResult<Resampled> {
    check_input(time_us, values, offsets, req)?;
    let plans = offsets
        .par_windows(2)
        .zip(req.labels.par_iter())
        .map(|(w, label)| {
            let (a, b) = (
                w.first().copied().unwrap_or(0),
                w.get(1).copied().unwrap_or(0),
            );
            plan(time_us.get(a..b).unwrap_or(&[]), label, req.target_min)
        })
        .collect::<CoreResult<Vec<Plan>>>()?;
    let native_min = plans.iter().map(|p| p.r).collect();
    let identity = plans.iter().zip(offsets.windows(2)).all(|(p, w)| {
        let len = w.get(1).copied().unwrap_or(0) - w.first().copied().unwrap_or(0);
        p.target == p.r && p.n == len
    });
    if identity && (req.fill_limit_min.is_none() || !values.iter().any(|v| v.is_nan())) {
        return Ok(Resampled {
            native_min,
            ..Resampled::default()
        });
    }
    let mut out_offsets = Vec::with_capacity(plans.len() + 1);
    out_offsets.push(0usize);
    for p in &plans {
        out_offsets.push(out_offsets.last().copied().unwrap_or(0) + p.out_len);
    }
    let total = out_offsets.last().copied().unwrap_or(0);
    // Appended series by series: the output is mostly memory traffic, and a
    // zeroed buffer filled in parallel costs more than one sequential write.
    let mut out_t = Vec::with_capacity(total);
    let mut out_v = Vec::with_capacity(total);
    for ((p, w), label) in plans.iter().zip(offsets.windows(2)).zip(req.labels) {
        let (a, b) = (
            w.first().copied().unwrap_or(0),
            w.get(1).copied().unwrap_or(0),
        );
        let ts = time_us.get(a..b).unwrap_or(&[]);
        let vs = values.get(a..b).unwrap_or(&[]);
        run(ts, vs, p, req, label, &mut out_t, &mut out_v)?;
    }
    Ok(Resampled {
        time_us: out_t,
        values: out_v,
        offsets: out_offsets,
        native_min,
        changed: true,
    })
}

/// Where each run of equal `(area, quantity)` codes starts, and whether the
/// time strictly increases within every run (a step as numpy's wrapping
/// `diff` sees it): how a long frame splits into series. The codes come in
/// chunks (a frame's columns may be chunked), which together cover the rows.
pub fn runs(
    area: &[&[u32]],
    quantity: &[&[u32]],
    time_us: &[i64],
) -> CoreResult<(Vec<usize>, bool)> {
    let len = |chunks: &[&[u32]]| chunks.iter().map(|c| c.len()).sum::<usize>();
    if len(area) != time_us.len() || len(quantity) != time_us.len() {
        return Err(CoreError::invalid(
            "quantity",
            len(quantity),
            format!("expected {} codes of each, one per row", time_us.len()),
        ));
    }
    let mut area = area.iter().flat_map(|c| c.iter().copied());
    let mut quantity = quantity.iter().flat_map(|c| c.iter().copied());
    let mut time = time_us.iter().copied();
    let (Some(mut pa), Some(mut pq), Some(mut pt)) = (area.next(), quantity.next(), time.next())
    else {
        return Ok((vec![], true));
    };
    let mut starts = vec![0];
    let mut increasing = true;
    for (i, ((a, q), t)) in area.zip(quantity).zip(time).enumerate() {
        let new = a != pa || q != pq;
        if new {
            starts.push(i + 1);
        }
        increasing &= new || t.wrapping_sub(pt) > 0;
        (pa, pq, pt) = (a, q, t);
    }
    Ok((starts, increasing))
}

fn check_input(
    time_us: &[i64],
    values: &[f64],
    offsets: &[usize],
    req: &Request<'_>,
) -> CoreResult<()> {
    if time_us.len() != values.len() {
        return Err(CoreError::invalid(
            "values",
            values.len(),
            format!("expected {} values, one per timestamp", time_us.len()),
        ));
    }
    if offsets.first() != Some(&0)
        || offsets.last() != Some(&time_us.len())
        || offsets.windows(2).any(|w| w.first() > w.get(1))
    {
        return Err(CoreError::invalid(
            "offsets",
            format!("{} offsets", offsets.len()),
            "must rise from 0 to the number of rows",
        ));
    }
    if req.labels.len() + 1 != offsets.len() {
        return Err(CoreError::invalid(
            "labels",
            req.labels.len(),
            format!("expected {} labels", offsets.len().saturating_sub(1)),
        ));
    }
    if let Some(t) = req.target_min.filter(|&t| t <= 0) {
        return Err(CoreError::config("every", t, "must be positive minutes"));
    }
    if let Some(l) = req.fill_limit_min.filter(|&l| l < 0) {
        return Err(CoreError::config("fill_limit", l, "must be ≥ 0 minutes"));
    }
    Ok(())
}

/// The most common positive step (smallest on a tie), counted run by run,
/// and whether it is the only step (the series is then regular).
fn native_step(ts: &[i64], label: &str) -> CoreResult<(i64, bool)> {
    let mut counts: Vec<(i64, usize)> = Vec::new();
    let mut run: Option<(i64, usize)> = None;
    for (i, w) in ts.windows(2).enumerate() {
        let d = w.get(1).copied().unwrap_or(0) - w.first().copied().unwrap_or(0);
        if d <= 0 {
            let when = format!("{}Z", format_us(w.get(1).copied().unwrap_or(0)));
            return Err(CoreError::data(
                "utc_timestamp",
                &when,
                format!(
                    "{label}: timestamp {when} (row {} of the series) does not increase \
                     (duplicated or unsorted)",
                    i + 1
                ),
            ));
        }
        match &mut run {
            Some((step, n)) if *step == d => *n += 1,
            _ => {
                if let Some(r) = run.take() {
                    add(&mut counts, r);
                }
                run = Some((d, 1));
            }
        }
    }
    if let Some(r) = run {
        add(&mut counts, r);
    }
    let single = counts.len() == 1;
    counts
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|&(step, _)| (step, single))
        .ok_or_else(|| {
            CoreError::data(
                "utc_timestamp",
                ts.len(),
                format!("{label}: one row only, the resolution is unknown"),
            )
        })
}

fn add(counts: &mut Vec<(i64, usize)>, (step, n): (i64, usize)) {
    match counts.iter_mut().find(|(s, _)| *s == step) {
        Some((_, c)) => *c += n,
        None => counts.push((step, n)),
    }
}

fn plan(ts: &[i64], label: &str, target_min: Option<i64>) -> CoreResult<Plan> {
    let (step, regular) = native_step(ts, label)?;
    if step % US_PER_MINUTE != 0 {
        return Err(CoreError::data(
            "utc_timestamp",
            step,
            format!("{label}: resolution {step} µs is not whole minutes"),
        ));
    }
    let r = step / US_PER_MINUTE;
    let t0 = ts.first().copied().unwrap_or(0);
    let off_grid = if regular {
        None // one step throughout: every timestamp is on the grid
    } else {
        ts.iter().find(|&&t| (t - t0) % step != 0)
    };
    if let Some(&t) = off_grid {
        let when = format!("{}Z", format_us(t));
        return Err(CoreError::data(
            "utc_timestamp",
            &when,
            format!("{label}: timestamp {when} is off the {r}-minute grid"),
        ));
    }
    let last = ts.last().copied().unwrap_or(t0);
    let n = usize::try_from((last - t0) / step).unwrap_or(0) + 1;
    let target = target_min.unwrap_or(r);
    let (out_len, out_start) = if target == r {
        (n, t0)
    } else if target < r {
        if r % target != 0 {
            return Err(CoreError::config(
                "every",
                format!("{target}m"),
                format!("{label}: {r}-minute data cannot be cut into {target}-minute periods"),
            ));
        }
        (n * usize::try_from(r / target).unwrap_or(1), t0)
    } else {
        if target % r != 0 {
            return Err(CoreError::config(
                "every",
                format!("{target}m"),
                format!("{label}: {r}-minute data does not tile {target}-minute periods"),
            ));
        }
        let k = usize::try_from(target / r).unwrap_or(1);
        let span = target * US_PER_MINUTE;
        let first_bin = t0 - t0.rem_euclid(span);
        let lead = usize::try_from((t0 - first_bin) / step).unwrap_or(0);
        ((lead + n).div_ceil(k), first_bin)
    };
    Ok(Plan {
        r,
        n,
        out_len,
        out_start,
        out_step: target * US_PER_MINUTE,
        target,
    })
}

fn run(
    ts: &[i64],
    vs: &[f64],
    p: &Plan,
    req: &Request<'_>,
    label: &str,
    out_t: &mut Vec<i64>,
    out_v: &mut Vec<f64>,
) -> CoreResult<()> {
    let step = p.r * US_PER_MINUTE;
    let t0 = ts.first().copied().unwrap_or(0);
    let mut grid: Cow<'_, [f64]> = if p.n == vs.len() {
        Cow::Borrowed(vs)
    } else {
        let mut g = vec![f64::NAN; p.n];
        for (&t, &v) in ts.iter().zip(vs) {
            if let Some(slot) = usize::try_from((t - t0) / step)
                .ok()
                .and_then(|i| g.get_mut(i))
            {
                *slot = v;
            }
        }
        Cow::Owned(g)
    };
    if let Some(limit) = req.fill_limit_min {
        if grid.iter().any(|v| v.is_nan()) {
            fill(grid.to_mut(), limit / p.r, p.r, t0, step, label)?;
        }
    }
    let (t_start, v_start) = (out_t.len(), out_v.len());
    out_t.extend((0..p.out_len).map(|i| p.out_start + i64::try_from(i).unwrap_or(0) * p.out_step));
    if p.target == p.r {
        out_v.extend_from_slice(grid.get(..p.out_len).unwrap_or(&[]));
    } else if p.target < p.r {
        let k = usize::try_from(p.r / p.target).unwrap_or(1);
        match req.method {
            Upsample::Step => {
                for &v in grid.iter() {
                    out_v.extend(std::iter::repeat_n(v, k));
                }
            }
            Upsample::Linear => {
                out_v.resize(v_start + p.out_len, 0.0);
                upsample_linear(&grid, k, out_v.get_mut(v_start..).unwrap_or(&mut []));
            }
        }
    } else {
        let k = usize::try_from(p.target / p.r).unwrap_or(1);
        let lead = usize::try_from((t0 - p.out_start) / step).unwrap_or(0);
        out_v.extend((0..p.out_len).map(|b| downsample(&grid, k, lead, b)));
    }
    // Exactly `out_len` each, whatever happened above.
    out_t.resize(t_start + p.out_len, 0);
    out_v.resize(v_start + p.out_len, f64::NAN);
    Ok(())
}

/// Fill runs of NaN no longer than `limit` periods (see the module rules).
fn fill(g: &mut [f64], limit: i64, r: i64, t0: i64, step: i64, label: &str) -> CoreResult<()> {
    let n = g.len();
    let mut i = 0;
    while i < n {
        if !g.get(i).is_some_and(|v| v.is_nan()) {
            i += 1;
            continue;
        }
        let start = i;
        while g.get(i).is_some_and(|v| v.is_nan()) {
            i += 1;
        }
        let len = i - start;
        if i64::try_from(len).unwrap_or(i64::MAX) > limit {
            let when = format!(
                "{}Z",
                format_us(t0 + i64::try_from(start).unwrap_or(0) * step)
            );
            let minutes = i64::try_from(len).unwrap_or(0) * r;
            return Err(CoreError::data(
                "gap",
                format!("{when}+{minutes}min"),
                format!(
                    "{label}: gap of {len} periods ({minutes} min) from {when} exceeds \
                     the fill limit of {limit} periods"
                ),
            ));
        }
        let left = start.checked_sub(1).and_then(|j| g.get(j).copied());
        let right = g.get(i).copied();
        let Some(run) = g.get_mut(start..i) else {
            continue;
        };
        match (left, right) {
            (Some(a), Some(b)) => {
                let denom = (len + 1) as f64;
                for (j, slot) in run.iter_mut().enumerate() {
                    *slot = a + (b - a) * (j + 1) as f64 / denom;
                }
            }
            (Some(a), None) => run.fill(a),
            (None, Some(b)) => run.fill(b),
            (None, None) => {} // nothing to fill from: stays missing
        }
    }
    Ok(())
}

fn upsample_step(g: &[f64], k: usize, out: &mut [f64]) {
    for (block, &v) in out.chunks_mut(k).zip(g) {
        block.fill(v);
    }
}

fn upsample_linear(g: &[f64], k: usize, out: &mut [f64]) {
    let valid: Vec<(f64, f64)> = g
        .iter()
        .enumerate()
        .filter(|(_, v)| !v.is_nan())
        .map(|(i, &v)| ((i * k) as f64 + (k as f64 - 1.0) / 2.0, v))
        .collect();
    if g.len() < 2 || valid.is_empty() {
        upsample_step(g, k, out);
        return;
    }
    // Piecewise-linear interpolation through the valid centres, constant
    // beyond the first and last (as numpy.interp).
    let mut seg = 0usize;
    for (x, slot) in out.iter_mut().enumerate() {
        let x = x as f64;
        while valid.get(seg + 1).is_some_and(|&(c, _)| c <= x) {
            seg += 1;
        }
        let (c0, v0) = valid.get(seg).copied().unwrap_or((0.0, 0.0));
        *slot = match valid.get(seg + 1) {
            Some(&(c1, v1)) if x > c0 => v0 + (v1 - v0) * (x - c0) / (c1 - c0),
            _ => v0,
        };
    }
    for (block, &v) in out.chunks_mut(k).zip(g) {
        if v.is_nan() {
            block.fill(v);
            continue;
        }
        let shift = v - block.iter().sum::<f64>() / k as f64;
        if block.iter().any(|&f| f + shift < 0.0) {
            block.fill(v);
        } else {
            block.iter_mut().for_each(|f| *f += shift);
        }
    }
}

/// Bin `b`: the mean of its `k` fine periods, NaN if any is missing or the
/// series only partly covers it.
fn downsample(g: &[f64], k: usize, lead: usize, b: usize) -> f64 {
    let lo = b * k;
    let hi = lo + k;
    if lo < lead || hi > lead + g.len() {
        return f64::NAN;
    }
    let fine = g.get(lo - lead..hi - lead).unwrap_or(&[]);
    fine.iter().sum::<f64>() / k as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: i64 = US_PER_MINUTE;

    fn req(labels: &[String], target: Option<i64>, fill: Option<i64>) -> Request<'_> {
        Request {
            labels,
            target_min: target,
            method: Upsample::Step,
            fill_limit_min: fill,
        }
    }

    #[test]
    fn regular_series_at_its_resolution_is_unchanged() {
        let labels = vec!["a".to_owned()];
        let ts: Vec<i64> = (0..4).map(|i| i * 60 * M).collect();
        let r = resample(
            &ts,
            &[1.0, 2.0, 3.0, 4.0],
            &[0, 4],
            &req(&labels, Some(60), None),
        );
        assert_eq!(r.map(|r| (r.changed, r.native_min)), Ok((false, vec![60])));
    }

    #[test]
    fn step_and_mean_conserve_energy_and_gaps_become_nan() {
        let labels = vec!["a".to_owned()];
        let ts = [0, 60 * M, 180 * M];
        let up = resample(
            &ts,
            &[4.0, 8.0, 2.0],
            &[0, 3],
            &req(&labels, Some(15), None),
        )
        .unwrap_or_default();
        assert_eq!(up.values.len(), 16);
        assert_eq!(up.values.get(..4), Some(&[4.0; 4][..]));
        assert!(up
            .values
            .get(8..12)
            .is_some_and(|b| b.iter().all(|v| v.is_nan())));
        assert_eq!(up.time_us.get(1), Some(&(15 * M)));
        let down = resample(
            &ts,
            &[4.0, 8.0, 2.0],
            &[0, 3],
            &req(&labels, Some(120), None),
        )
        .unwrap_or_default();
        assert_eq!(down.values.first(), Some(&6.0));
        assert!(down.values.get(1).is_some_and(|v| v.is_nan()));
    }

    #[test]
    fn fill_interpolates_inside_and_holds_at_the_ends() {
        let mut g = [f64::NAN, 1.0, f64::NAN, f64::NAN, 4.0, f64::NAN];
        assert!(fill(&mut g, 2, 60, 0, 60 * M, "a").is_ok());
        assert_eq!(g, [1.0, 1.0, 2.0, 3.0, 4.0, 4.0]);
        let mut g = [1.0, f64::NAN, f64::NAN, f64::NAN, 4.0];
        let e = fill(&mut g, 2, 60, 0, 60 * M, "a")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("a: gap of 3 periods (180 min) from 1970-01-01T01:00Z exceeds the fill limit of 2 periods")
        );
    }

    #[test]
    fn linear_upsampling_keeps_each_mean() {
        let g = [1.0, 3.0, 2.0, f64::NAN, 5.0];
        let mut out = vec![0.0; 20];
        upsample_linear(&g, 4, &mut out);
        for (block, &v) in out.chunks(4).zip(&g) {
            let mean = block.iter().sum::<f64>() / 4.0;
            assert!(v.is_nan() && mean.is_nan() || (mean - v).abs() < 1e-12);
            assert!(block.iter().all(|&f| f.is_nan() || f >= 0.0));
        }
    }

    #[test]
    fn runs_split_by_codes_and_check_time() {
        let r = runs(
            &[&[0, 0, 1], &[1, 0]],
            &[&[2], &[2, 2, 3, 3]],
            &[5, 6, 1, 1, 9],
        );
        assert_eq!(r, Ok((vec![0, 2, 3, 4], true)));
        let r = runs(&[&[0, 0, 0]], &[&[1, 1, 1]], &[5, 6, 6]);
        assert_eq!(r, Ok((vec![0], false)));
        assert_eq!(runs(&[], &[&[]], &[]), Ok((vec![], true)));
        assert!(runs(&[&[0]], &[], &[0]).is_err());
    }

    #[test]
    fn bad_series_are_typed_errors() {
        let labels = vec!["AT/load_actual".to_owned()];
        let one = resample(&[0], &[1.0], &[0, 1], &req(&labels, None, None));
        assert!(matches!(one, Err(CoreError::BadData { .. })));
        let off = resample(
            &[0, 60 * M, 61 * M + M * 60],
            &[1.0; 3],
            &[0, 3],
            &req(&labels, None, None),
        );
        assert!(off.is_err());
        let cut = resample(
            &[0, 60 * M],
            &[1.0; 2],
            &[0, 2],
            &req(&labels, Some(25), None),
        );
        assert!(matches!(cut, Err(CoreError::BadConfiguration { .. })));
        let back = resample(&[60 * M, 0], &[1.0; 2], &[0, 2], &req(&labels, None, None));
        assert!(matches!(back, Err(CoreError::BadData { .. })));
    }
}
