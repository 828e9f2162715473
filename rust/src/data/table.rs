//! The numeric body of the ENTSO-E CSV formats: one timestamp column and
//! power columns, parsed in one parallel pass into a time vector and a
//! row-major value matrix. The header is read by the caller (Python), which
//! knows what the columns mean.
//!
//! Rules: one record per line (`\n` or `\r\n`); fields separated by `,`,
//! optionally in double quotes; every line has the header's number of fields;
//! blank lines only at the end. A value cell that is empty, `-`, `n/e`, `N/E`,
//! `N/A` or `n/a` (surrounding spaces ignored) is missing (NaN); anything else
//! must be a finite decimal number. Errors name the source, the line and the
//! column, and stop the parse: no partial table is returned.

use rayon::prelude::*;

use crate::data::civil::{days_from_civil, days_in_month, US_PER_DAY, US_PER_MINUTE};
use crate::error::{CoreError, CoreResult};

mod scan;

/// How the time column is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    /// Transparency Platform intervals `dd.mm.yyyy HH:MM - dd.mm.yyyy HH:MM`;
    /// the start is read as naive local time (the caller applies the zone).
    DayMonthYearInterval,
    /// ISO 8601 with a UTC offset: `yyyy-mm-ddTHH:MM[:SS[.f]]` (or a space
    /// for `T`) followed by `Z`, `±HH:MM`, `±HHMM` or `±HH`; read as UTC.
    IsoWithOffset,
}

impl TimeFormat {
    pub fn parse(name: &str) -> CoreResult<Self> {
        match name {
            "dmy-interval" => Ok(Self::DayMonthYearInterval),
            "iso-offset" => Ok(Self::IsoWithOffset),
            other => Err(CoreError::config(
                "time_format",
                other,
                "use 'dmy-interval' or 'iso-offset'",
            )),
        }
    }
}

/// What the caller knows from the header.
#[derive(Debug, Clone)]
pub struct Layout<'a> {
    /// Shown in error messages, usually the file path.
    pub source: &'a str,
    /// 1-based line number of the first body line.
    pub first_line: usize,
    /// Every column's name, in file order (its length is the field count).
    pub columns: &'a [String],
    pub time_column: usize,
    pub time_format: TimeFormat,
    /// The columns to parse as numbers, in output order.
    pub value_columns: &'a [usize],
}

/// The parsed body, column-major: `time_us[i]` and `values[j * rows + i]`
/// for row `i` and value column `j`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub time_us: Vec<i64>,
    pub values: Vec<f64>,
    /// Some value is below zero (the caller decides whether that is an error).
    pub negative: bool,
    /// The time strictly increases from row to row.
    pub increasing: bool,
}

const MISSING: [&[u8]; 6] = [b"", b"-", b"n/e", b"N/E", b"N/A", b"n/a"];

/// Parse `body` (the bytes after the header line) according to `layout`.
///
/// The body is cut into byte chunks at line ends; a first parallel pass
/// counts each chunk's lines (so every row knows its line number and output
/// slot), a second parses the chunks straight into the output columns: by
/// the word-at-a-time scan of `scan`, or line by line for a chunk it declines.
pub fn parse_table(body: &[u8], layout: &Layout<'_>) -> CoreResult<Table> {
    parse_body(body, layout, true)
}

/// `parse_table`, with the fast path (`scan`) or only the per-line parser.
fn parse_body(body: &[u8], layout: &Layout<'_>, fast: bool) -> CoreResult<Table> {
    check_layout(layout)?;
    let end = body
        .iter()
        .rposition(|&b| b != b'\n' && b != b'\r')
        .map_or(0, |i| i + 1);
    let body = body.get(..end).unwrap_or(&[]);
    let chunks = line_chunks(body, rayon::current_num_threads() * 8);
    let counts: Vec<usize> = chunks
        .par_iter()
        .map(|c| scan::count_newlines(c) + 1)
        .collect();
    let rows: usize = counts.iter().sum();
    let width = layout.value_columns.len();
    // Output slot of each file column.
    let mut slots = vec![None; layout.columns.len()];
    for (j, &c) in layout.value_columns.iter().enumerate() {
        if let Some(s) = slots.get_mut(c) {
            *s = Some(j);
        }
    }
    let mut time_us = vec![0i64; rows];
    // NaN from the start: the fast path skips empty cells. Filled in
    // parallel and not zeroed first, as `vec!` would.
    let mut values = Vec::new();
    rayon::iter::repeat_n(f64::NAN, rows * width).collect_into_vec(&mut values);
    // Per chunk: its time slice and its slice of every value column.
    let time_parts = pieces(&mut time_us, &counts);
    let mut value_parts: Vec<Vec<&mut [f64]>> =
        chunks.iter().map(|_| Vec::with_capacity(width)).collect();
    for column in values.chunks_mut(rows.max(1)) {
        for (part, piece) in value_parts.iter_mut().zip(pieces(column, &counts)) {
            part.push(piece);
        }
    }
    let mut first_lines = Vec::with_capacity(chunks.len());
    let mut line_no = layout.first_line;
    for &n in &counts {
        first_lines.push(line_no);
        line_no += n;
    }
    let outcome: Vec<CoreResult<bool>> = chunks
        .par_iter()
        .zip(time_parts)
        .zip(value_parts)
        .zip(first_lines)
        .map(|(((chunk, times), mut cols), first)| {
            if !(fast && scan::parse_chunk(chunk, layout, &slots, times, &mut cols)) {
                for (r, (line, t)) in chunk
                    .split(|&b| b == b'\n')
                    .zip(times.iter_mut())
                    .enumerate()
                {
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    parse_line(line, first + r, layout, &slots, t, &mut cols, r)?;
                }
            }
            // While the chunk's values are still in cache; a fold without
            // early exit vectorises.
            Ok(cols
                .iter()
                .any(|c| c.iter().fold(false, |neg, &v| neg | (v < 0.0))))
        })
        .collect();
    // The first error in file order, whichever thread met it first.
    let negative = outcome
        .into_iter()
        .collect::<CoreResult<Vec<bool>>>()?
        .contains(&true);
    let increasing = time_us
        .iter()
        .zip(time_us.iter().skip(1))
        .all(|(a, b)| a < b);
    Ok(Table {
        time_us,
        values,
        negative,
        increasing,
    })
}

/// Series taken out of a wide table, concatenated: series `s` is the next
/// `lengths[s]` entries (0 when trimming left nothing).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Long {
    pub time_us: Vec<i64>,
    pub values: Vec<f64>,
    pub lengths: Vec<usize>,
}

/// The columns `order` of a column-major table (`values[j * rows + i]`) as
/// concatenated series, keeping only the rows where `keep` is true (all when
/// `None`); with `trim`, each series is cut to its first..last non-NaN value.
pub fn wide_to_long(
    time_us: &[i64],
    values: &[f64],
    width: usize,
    order: &[usize],
    trim: bool,
    keep: Option<&[bool]>,
) -> CoreResult<Long> {
    let rows = time_us.len();
    if values.len() != rows * width || keep.is_some_and(|k| k.len() != rows) {
        return Err(CoreError::invalid(
            "values",
            values.len(),
            format!("expected {width} columns of {rows} rows and a keep mask as long"),
        ));
    }
    if let Some(&j) = order.iter().find(|&&j| j >= width) {
        return Err(CoreError::invalid(
            "order",
            j,
            format!("the table has {width} columns"),
        ));
    }
    let kept: Option<Vec<usize>> = keep.map(|k| {
        k.iter()
            .enumerate()
            .filter(|(_, &b)| b)
            .map(|(i, _)| i)
            .collect()
    });
    let n_kept = kept.as_ref().map_or(rows, Vec::len);
    let column = |j: usize| values.get(j * rows..(j + 1) * rows).unwrap_or(&[]);
    let bounds: Vec<(usize, usize)> = order
        .par_iter()
        .map(|&j| {
            if !trim {
                return (0, n_kept);
            }
            let col = column(j);
            let present = |i: usize| {
                let row = kept.as_ref().map_or(Some(i), |k| k.get(i).copied());
                row.and_then(|r| col.get(r)).is_some_and(|v| !v.is_nan())
            };
            match (0..n_kept).position(present) {
                None => (0, 0),
                Some(lo) => (
                    lo,
                    (lo..n_kept).rposition(present).map_or(lo, |k| lo + k + 1),
                ),
            }
        })
        .collect();
    let lengths: Vec<usize> = bounds.iter().map(|(lo, hi)| hi - lo).collect();
    let total = lengths.iter().sum();
    // Appended series by series: plain copies (a gather under a row mask),
    // no zeroed buffer to overwrite.
    let mut out_t = Vec::with_capacity(total);
    let mut out_v = Vec::with_capacity(total);
    for (&j, &(lo, hi)) in order.iter().zip(&bounds) {
        let col = column(j);
        match &kept {
            None => {
                out_t.extend_from_slice(time_us.get(lo..hi).unwrap_or(&[]));
                out_v.extend_from_slice(col.get(lo..hi).unwrap_or(&[]));
            }
            Some(k) => {
                let rows_here = k.get(lo..hi).unwrap_or(&[]);
                out_t.extend(
                    rows_here
                        .iter()
                        .map(|&i| time_us.get(i).copied().unwrap_or(0)),
                );
                out_v.extend(
                    rows_here
                        .iter()
                        .map(|&i| col.get(i).copied().unwrap_or(f64::NAN)),
                );
            }
        }
    }
    Ok(Long {
        time_us: out_t,
        values: out_v,
        lengths,
    })
}

/// `buf` cut into consecutive pieces of `lengths` (shorter at the end if
/// `buf` runs out), for filling in parallel.
pub(crate) fn pieces<'a, T>(mut buf: &'a mut [T], lengths: &[usize]) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(lengths.len());
    for &n in lengths {
        let (head, tail) = buf.split_at_mut(n.min(buf.len()));
        out.push(head);
        buf = tail;
    }
    out
}

/// About `n` pieces of `body`, each ending at a line end (the `\n` excluded).
fn line_chunks(body: &[u8], n: usize) -> Vec<&[u8]> {
    if body.is_empty() {
        return Vec::new();
    }
    let target = (body.len() / n.max(1)).max(64 * 1024);
    let mut out = Vec::new();
    let mut rest = body;
    while rest.len() > target {
        let Some(cut) = rest
            .get(target..)
            .and_then(|tail| tail.iter().position(|&b| b == b'\n'))
        else {
            break;
        };
        let (head, tail) = rest.split_at(target + cut);
        out.push(head);
        rest = tail.get(1..).unwrap_or(&[]);
    }
    out.push(rest);
    out
}

fn check_layout(layout: &Layout<'_>) -> CoreResult<()> {
    let n = layout.columns.len();
    if layout.time_column >= n {
        return Err(CoreError::invalid(
            "time_column",
            layout.time_column,
            format!("the header has {n} columns"),
        ));
    }
    if let Some(&c) = layout.value_columns.iter().find(|&&c| c >= n) {
        return Err(CoreError::invalid(
            "value_columns",
            c,
            format!("the header has {n} columns"),
        ));
    }
    Ok(())
}

fn parse_line(
    line: &[u8],
    line_no: usize,
    layout: &Layout<'_>,
    slots: &[Option<usize>],
    time: &mut i64,
    cols: &mut [&mut [f64]],
    r: usize,
) -> CoreResult<()> {
    let src = layout.source;
    if line.is_empty() {
        return Err(CoreError::data(
            "line",
            line_no,
            format!("{src}:{line_no}: empty line inside the data"),
        ));
    }
    let mut fields = Fields { line, pos: Some(0) };
    let mut n = 0usize;
    while let Some(field) = fields.next_field() {
        let field = field.map_err(|()| {
            CoreError::data(
                "line",
                line_no,
                format!("{src}:{line_no}: unterminated quoted field"),
            )
        })?;
        if n == layout.time_column {
            *time = parse_time(field, layout.time_format).ok_or_else(|| {
                let name = column_name(layout, n);
                let text = String::from_utf8_lossy(field);
                CoreError::data(
                    name.to_owned(),
                    &text,
                    format!("{src}:{line_no}: bad timestamp '{text}' in column '{name}'"),
                )
            })?;
        } else if let Some(&Some(j)) = slots.get(n) {
            let v = parse_value(field).ok_or_else(|| {
                let name = column_name(layout, n);
                let text = String::from_utf8_lossy(trim(field)).into_owned();
                CoreError::data(
                    name.to_owned(),
                    &text,
                    format!("{src}:{line_no}: column '{name}': '{text}' is not a number"),
                )
            })?;
            if let Some(slot) = cols.get_mut(j).and_then(|c| c.get_mut(r)) {
                *slot = v;
            }
        }
        n += 1;
    }
    if n != layout.columns.len() {
        return Err(CoreError::data(
            "line",
            line_no,
            format!(
                "{src}:{line_no}: expected {} fields, found {n}",
                layout.columns.len()
            ),
        ));
    }
    Ok(())
}

fn column_name<'a>(layout: &'a Layout<'_>, n: usize) -> &'a str {
    layout.columns.get(n).map_or("?", String::as_str)
}

/// Iterator over the fields of one line; `Err(())` for an unterminated quote.
struct Fields<'a> {
    line: &'a [u8],
    pos: Option<usize>,
}

impl<'a> Fields<'a> {
    fn next_field(&mut self) -> Option<Result<&'a [u8], ()>> {
        let start = self.pos?;
        let rest = self.line.get(start..).unwrap_or(&[]);
        if rest.first() == Some(&b'"') {
            // Quoted: up to the quote that is not doubled.
            let mut j = 1;
            loop {
                match rest.get(j) {
                    None => return Some(Err(())),
                    Some(b'"') if rest.get(j + 1) == Some(&b'"') => j += 2,
                    Some(b'"') => break,
                    Some(_) => j += 1,
                }
            }
            let field = rest.get(1..j).unwrap_or(&[]);
            self.pos = match rest.get(j + 1) {
                None => None,
                Some(b',') => Some(start + j + 2),
                Some(_) => return Some(Err(())),
            };
            Some(Ok(field))
        } else {
            match rest.iter().position(|&b| b == b',') {
                Some(k) => {
                    self.pos = Some(start + k + 1);
                    Some(Ok(rest.get(..k).unwrap_or(&[])))
                }
                None => {
                    self.pos = None;
                    Some(Ok(rest))
                }
            }
        }
    }
}

fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// A power cell: NaN when missing, `None` when not a finite number.
fn parse_value(field: &[u8]) -> Option<f64> {
    let t = trim(field);
    if t.is_empty() {
        return Some(f64::NAN);
    }
    if let Some(v) = fast_decimal(t) {
        return Some(v);
    }
    if MISSING.contains(&t) {
        return Some(f64::NAN);
    }
    let v: f64 = std::str::from_utf8(t).ok()?.parse().ok()?;
    v.is_finite().then_some(v)
}

/// Exact powers of ten representable in an f64.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `[-+]digits[.digits]` with at most 15 digits, converted exactly (Clinger's
/// fast path: the integer mantissa and the power of ten are both exact in an
/// f64, so the one division is correctly rounded); `None` means "use the
/// general parser".
fn fast_decimal(t: &[u8]) -> Option<f64> {
    let (negative, body) = match t.split_first()? {
        (b'-', rest) => (true, rest),
        (b'+', rest) => (false, rest),
        _ => (false, t),
    };
    let mut mantissa = 0u64;
    let mut n_digits = 0usize;
    let mut fraction: Option<usize> = None;
    for &c in body {
        if c.is_ascii_digit() {
            mantissa = mantissa * 10 + u64::from(c - b'0');
            n_digits += 1;
            if n_digits > 15 {
                return None;
            }
            if let Some(f) = fraction.as_mut() {
                *f += 1;
            }
        } else if c == b'.' && fraction.is_none() {
            fraction = Some(0);
        } else {
            return None;
        }
    }
    if n_digits == 0 {
        return None;
    }
    let v = mantissa as f64 / POW10.get(fraction.unwrap_or(0)).copied()?;
    Some(if negative { -v } else { v })
}

/// `n` ASCII digits at `pos` as a number.
fn digits(b: &[u8], pos: usize, n: usize) -> Option<i64> {
    let s = b.get(pos..pos + n)?;
    s.iter().try_fold(0i64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

fn expect(b: &[u8], pos: usize, c: u8) -> Option<()> {
    (b.get(pos) == Some(&c)).then_some(())
}

/// The usual OPSD shape, `yyyy-mm-ddTHH:MM:SSZ` exactly, in a few word
/// operations; `None` leaves it to the general reader (which would give
/// the same answer for anything accepted here).
fn iso_z(b: &[u8], cache: &mut DateCache) -> Option<i64> {
    if b.get(19) != Some(&b'Z') || !matches!(b.get(10), Some(b'T' | b' ')) {
        return None;
    }
    let days = cache.days(b.get(..10)?.try_into().ok()?, TimeFormat::IsoWithOffset)?;
    let (h, mi, s) = b.get(11..19).and_then(hms)?;
    (h <= 23 && mi <= 59 && s <= 59)
        .then(|| days * US_PER_DAY + ((h * 60 + mi) * 60 + s) * 1_000_000)
}

/// `HH:MM:SS` as (hours, minutes, seconds), all digits checked at once.
fn hms(b: &[u8]) -> Option<(i64, i64, i64)> {
    let w = u64::from_le_bytes(b.try_into().ok()?) ^ 0x3030_3a30_303a_3030;
    let digits_ok = (w | w.wrapping_add(0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080 == 0;
    if !digits_ok || w & 0x0000_ff00_00ff_0000 != 0 {
        return None; // a byte that is not a digit, or a colon missing
    }
    let byte = |i: u32| i64::from((w >> (8 * i)) as u8);
    Some((
        byte(0) * 10 + byte(1),
        byte(3) * 10 + byte(4),
        byte(6) * 10 + byte(7),
    ))
}

/// Days since the epoch of the date in `b[..10]` (`dd.mm.yyyy` or `yyyy-mm-dd`).
fn parse_date(b: &[u8], format: TimeFormat) -> Option<i64> {
    let (y, mo, d) = match format {
        TimeFormat::DayMonthYearInterval => {
            expect(b, 2, b'.')?;
            expect(b, 5, b'.')?;
            (digits(b, 6, 4)?, digits(b, 3, 2)?, digits(b, 0, 2)?)
        }
        TimeFormat::IsoWithOffset => {
            expect(b, 4, b'-')?;
            expect(b, 7, b'-')?;
            (digits(b, 0, 4)?, digits(b, 5, 2)?, digits(b, 8, 2)?)
        }
    };
    let ok = (1..=12).contains(&mo) && d >= 1 && d <= days_in_month(y, mo);
    ok.then(|| days_from_civil(y, mo, d))
}

/// The last date read and its day number: rows come 24 to 96 a day, so
/// most timestamps reuse it.
#[derive(Debug, Default)]
pub(crate) struct DateCache(Option<([u8; 10], i64)>);

impl DateCache {
    fn days(&mut self, head: [u8; 10], format: TimeFormat) -> Option<i64> {
        match self.0 {
            Some((date, days)) if date == head => Some(days),
            _ => {
                let days = parse_date(&head, format)?;
                self.0 = Some((head, days));
                Some(days)
            }
        }
    }
}

pub fn parse_time(field: &[u8], format: TimeFormat) -> Option<i64> {
    parse_time_cached(field, format, &mut DateCache::default())
}

pub(crate) fn parse_time_cached(
    field: &[u8],
    format: TimeFormat,
    cache: &mut DateCache,
) -> Option<i64> {
    if format == TimeFormat::IsoWithOffset && field.len() == 20 {
        if let Some(t) = iso_z(field, cache) {
            return Some(t);
        }
    }
    let b = trim(field);
    let days = cache.days(b.get(..10)?.try_into().ok()?, format)?;
    let at = |h: i64, mi: i64, s: i64, frac_us: i64| {
        (h <= 23 && mi <= 59 && s <= 59)
            .then(|| days * US_PER_DAY + (h * 60 + mi) * US_PER_MINUTE + s * 1_000_000 + frac_us)
    };
    match format {
        TimeFormat::DayMonthYearInterval => {
            // dd.mm.yyyy HH:MM, then nothing or " - <end>".
            expect(b, 10, b' ')?;
            let (h, mi) = (digits(b, 11, 2)?, digits(b, 14, 2)?);
            expect(b, 13, b':')?;
            let tail = b.get(16..)?;
            if !(tail.is_empty() || tail.starts_with(b" - ")) {
                return None;
            }
            at(h, mi, 0, 0)
        }
        TimeFormat::IsoWithOffset => {
            if !matches!(b.get(10), Some(b'T' | b' ')) {
                return None;
            }
            let (h, mi) = (digits(b, 11, 2)?, digits(b, 14, 2)?);
            expect(b, 13, b':')?;
            let mut pos = 16;
            let mut s = 0;
            let mut frac_us = 0;
            if b.get(pos) == Some(&b':') {
                s = digits(b, pos + 1, 2)?;
                pos += 3;
                if b.get(pos) == Some(&b'.') {
                    pos += 1;
                    let mut scale = 100_000;
                    let start = pos;
                    while let Some(c) = b.get(pos).filter(|c| c.is_ascii_digit()) {
                        frac_us += i64::from(c - b'0') * scale;
                        scale /= 10;
                        pos += 1;
                    }
                    if pos == start {
                        return None;
                    }
                }
            }
            let offset_min = match b.get(pos..)? {
                b"Z" => 0,
                tz => {
                    let sign = match tz.first()? {
                        b'+' => 1,
                        b'-' => -1,
                        _ => return None,
                    };
                    let oh = digits(tz, 1, 2)?;
                    let om = match tz.len() {
                        3 => 0,
                        5 => digits(tz, 3, 2)?,
                        6 => {
                            expect(tz, 3, b':')?;
                            digits(tz, 4, 2)?
                        }
                        _ => return None,
                    };
                    if oh > 23 || om > 59 {
                        return None;
                    }
                    sign * (oh * 60 + om)
                }
            };
            Some(at(h, mi, s, frac_us)? - offset_min * US_PER_MINUTE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    fn layout<'a>(cols: &'a [String], fmt: TimeFormat, values: &'a [usize]) -> Layout<'a> {
        Layout {
            source: "f.csv",
            first_line: 2,
            columns: cols,
            time_column: 0,
            time_format: fmt,
            value_columns: values,
        }
    }

    #[test]
    fn iso_offsets_and_fractions() {
        let f = TimeFormat::IsoWithOffset;
        let t0 = 1_546_300_800_000_000; // 2019-01-01T00:00Z
        assert_eq!(parse_time(b"2019-01-01T00:00:00Z", f), Some(t0));
        assert_eq!(parse_time(b"2019-01-01 01:00:00+01:00", f), Some(t0));
        assert_eq!(parse_time(b"2019-01-01T01:00:00+0100", f), Some(t0));
        assert_eq!(parse_time(b"2018-12-31T23:00-01", f), Some(t0));
        assert_eq!(
            parse_time(b"2019-01-01T00:00:00.25Z", f),
            Some(t0 + 250_000)
        );
        for bad in [
            &b"2019-01-01T00:00:00"[..],
            b"2019-02-29T00:00Z",
            b"2019-01-01T24:00Z",
            b"2019-01-01T00:00:00+1",
            b"2019-01-01T00:00:00.Z",
            b"2019/01/01T00:00Z",
        ] {
            assert_eq!(parse_time(bad, f), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn transparency_intervals() {
        let f = TimeFormat::DayMonthYearInterval;
        let t0 = 1_546_300_800_000_000;
        assert_eq!(
            parse_time(b"01.01.2019 00:00 - 01.01.2019 01:00", f),
            Some(t0)
        );
        assert_eq!(parse_time(b"01.01.2019 00:00", f), Some(t0));
        assert_eq!(parse_time(b"01.01.2019 00:00 x", f), None);
        assert_eq!(parse_time(b"32.01.2019 00:00", f), None);
    }

    #[test]
    fn parses_quoted_rows_and_missing_tokens() {
        let cols = names(3);
        let body = b"\"01.01.2019 00:00 - 01.01.2019 01:00\",\"5\",\"n/e\"\r\n\
                     \"01.01.2019 01:00 - 01.01.2019 02:00\",\" 7.5 \",\"-\"\r\n\r\n";
        let t = parse_table(
            body,
            &layout(&cols, TimeFormat::DayMonthYearInterval, &[1, 2]),
        )
        .unwrap_or_default();
        assert_eq!(t.time_us.len(), 2);
        assert_eq!(t.values.first(), Some(&5.0));
        assert_eq!(t.values.get(1), Some(&7.5));
        assert!(t.values.get(2).is_some_and(|v| v.is_nan()));
        assert!(t.values.get(3).is_some_and(|v| v.is_nan()));
    }

    #[test]
    fn flags_tell_negative_values_and_time_order() {
        let cols = names(3);
        let l = layout(&cols, TimeFormat::IsoWithOffset, &[1, 2]);
        let flags = |body: &[u8]| parse_table(body, &l).map(|t| (t.negative, t.increasing));
        let a = b"2019-01-01T00:00Z,1,\n2019-01-01T01:00Z,,2\n";
        assert_eq!(flags(a), Ok((false, true)));
        let b = b"2019-01-01T00:00Z,1,-0\n2019-01-01T01:00Z,n/e,-2\n";
        assert_eq!(flags(b), Ok((true, true)));
        let c = b"2019-01-01T01:00Z,1,2\n2019-01-01T01:00Z,3,4\n";
        assert_eq!(flags(c), Ok((false, false)));
    }

    #[test]
    fn fast_decimals_equal_the_general_parser() {
        for text in [
            "0",
            "6139",
            "6139.0",
            "-7",
            "+3.25",
            "0.1",
            "0.3",
            "123456789012345",
            "99999.99999",
            ".5",
            "5.",
            "-0",
        ] {
            let general: f64 = text.parse().unwrap_or(f64::NAN);
            let fast = fast_decimal(text.as_bytes());
            assert_eq!(fast.map(f64::to_bits), Some(general.to_bits()), "{text}");
        }
        for text in ["1234567890123456", "1e3", "1.2.3", "", "-", "+", "."] {
            assert_eq!(fast_decimal(text.as_bytes()), None, "{text}");
        }
        for text in ["1.000000000000001", "1234567890123456789", "2.5e3"] {
            let general: f64 = text.parse().unwrap_or(f64::NAN);
            let value = parse_value(text.as_bytes()).map(f64::to_bits);
            assert_eq!(value, Some(general.to_bits()), "{text}");
        }
    }

    /// The fast path agrees with the per-line parser on random bodies, good
    /// and bad: the same table bit for bit, or the same error.
    #[test]
    fn fast_path_equals_the_line_parser() {
        let cells = [
            "",
            "",
            "",
            "",
            "5",
            "6139",
            "44383.25",
            "-7",
            "0.1",
            "12345678",
            "123456789",
            "-",
            "n/e",
            " 7.5 ",
            ".5",
            "5.",
            "+3",
            "1e3",
            "-0",
            "\r",
            "abc",
            "1,2",
            "\"9\"",
            "\"x",
            "\"\"",
            "\"7\"\"\"",
            "\"",
        ];
        let times = [
            "2019-01-01T00:00:00Z",
            "2019-01-01T00:15:00Z",
            "2019-01-02 01:00:00+01:00",
            "2019-03-31T02:00:00.5Z",
            "2019-01-01T00:00Z",
            "2019-13-01T00:00:00Z",
            "",
            "\"2019-01-01T00:30:00Z\"",
        ];
        let intervals = [
            "01.01.2019 00:00 - 01.01.2019 01:00",
            "31.03.2019 02:00 - 31.03.2019 03:00",
            "01.01.2019 00:15",
            "31.12.2019 23:45 - 01.01.2020 00:00",
            "32.01.2019 00:00",
            "01.01.2019 00:00 x",
            "",
            "\"01.01.2019 00:00 - 01.01.2019 00:15\"",
        ];
        let mut seed = 11u64;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize % n
        };
        for case in 0..1000 {
            let width = 2 + next(9);
            let cols = names(width);
            // The time column first, mostly; column 2 is not read.
            let time_column = if next(4) == 0 { next(width) } else { 0 };
            let values: Vec<usize> = (0..width)
                .filter(|&c| c != time_column && (c != 2 || width < 4))
                .collect();
            let (format, times) = if next(3) == 0 {
                (TimeFormat::DayMonthYearInterval, intervals)
            } else {
                (TimeFormat::IsoWithOffset, times)
            };
            let mut l = layout(&cols, format, &values);
            l.time_column = time_column;
            let rows = if case % 50 == 0 { 6000 } else { 1 + next(40) };
            // Clean bodies, some with one odd cell, some with odd cells anywhere.
            let (clean, odd) = match next(3) {
                0 => (true, None),
                1 => (true, Some((next(rows), next(width)))),
                _ => (false, None),
            };
            // Every cell in quotes, as the Transparency exports write them.
            let quote_all = next(4) == 0;
            let mut body = String::new();
            for r in 0..rows {
                for c in 0..width {
                    if c > 0 {
                        body.push(',');
                    }
                    let any = !clean || odd == Some((r, c));
                    let text = if c == time_column {
                        times.get(if any { next(times.len()) } else { next(4) })
                    } else {
                        cells.get(if any { next(cells.len()) } else { next(11) })
                    };
                    let text = text.copied().unwrap_or("");
                    if quote_all && !any {
                        body.push_str(&format!("\"{text}\""));
                    } else {
                        body.push_str(text);
                    }
                }
                if r + 1 < rows || next(4) == 0 {
                    body.push_str(if next(3) == 0 { "\r\n" } else { "\n" });
                }
                if !clean && next(200) == 0 {
                    body.push('\n');
                }
            }
            let fast = parse_body(body.as_bytes(), &l, true);
            let slow = parse_body(body.as_bytes(), &l, false);
            match (fast, slow) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a.time_us, b.time_us, "{body:?}");
                    let bits = |t: &Table| t.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&a), bits(&b), "{body:?}");
                }
                (a, b) => assert_eq!(
                    a.err().map(|e| e.to_string()),
                    b.err().map(|e| e.to_string()),
                    "{body:?}"
                ),
            }
        }
    }

    #[test]
    fn wide_to_long_orders_trims_and_drops_rows() {
        let nan = f64::NAN;
        let ts = [10, 20, 30, 40];
        // column 0: [nan, 1, nan, 2]; column 1: all NaN; column 2: [3, 4, 5, 6]
        let values = [nan, 1.0, nan, 2.0, nan, nan, nan, nan, 3.0, 4.0, 5.0, 6.0];
        let long = wide_to_long(&ts, &values, 3, &[2, 0, 1], true, None).unwrap_or_default();
        assert_eq!(long.lengths, vec![4, 3, 0]);
        assert_eq!(long.time_us, vec![10, 20, 30, 40, 20, 30, 40]);
        let keep = [true, false, true, true];
        let long = wide_to_long(&ts, &values, 3, &[0, 2], false, Some(&keep)).unwrap_or_default();
        assert_eq!(long.lengths, vec![3, 3]);
        assert_eq!(long.time_us, vec![10, 30, 40, 10, 30, 40]);
        assert_eq!(long.values.get(3..), Some(&[3.0, 5.0, 6.0][..]));
        assert!(wide_to_long(&ts, &values, 3, &[3], true, None).is_err());
        assert!(wide_to_long(&ts, &values[..5], 3, &[0], true, None).is_err());
    }

    #[test]
    fn errors_name_source_line_and_column() {
        let cols = names(3);
        let l = layout(&cols, TimeFormat::IsoWithOffset, &[2]);
        let mut body = Vec::new();
        for i in 0..10_000 {
            body.extend_from_slice(format!("2019-01-01T00:00:00Z,x,{i}\n").as_bytes());
        }
        body.extend_from_slice(b"2019-01-01T00:00:00Z,x,abc\n");
        body.extend_from_slice(b"2019-01-01T00:00:00Z,x,def\n");
        let err = parse_table(&body, &l).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("f.csv:10002: column 'c2': 'abc' is not a number")
        );
        let err = parse_table(b"2019-01-01T00:00:00Z,1\n", &l)
            .err()
            .map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("f.csv:2: expected 3 fields, found 2"));
        let err = parse_table(b"2019-01-01,1,2\n", &l)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("f.csv:2: bad timestamp '2019-01-01' in column 'c0'")
        );
        let err = parse_table(b"2019-01-01T00:00Z,1,2\n\n2019-01-01T00:00Z,1,2\n", &l)
            .err()
            .map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("f.csv:3: empty line inside the data"));
        let err = parse_table(b"\"2019-01-01T00:00Z,1,2\n", &l)
            .err()
            .map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("f.csv:2: unterminated quoted field"));
        assert!(parse_table(b"2019-01-01T00:00Z,1,inf\n", &l).is_err());
    }
}
