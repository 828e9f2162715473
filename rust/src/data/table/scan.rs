//! The fast path of the body parser: chunks scanned eight bytes at a time
//! for separators (SWAR), so an empty cell costs a few instructions and a
//! short number a few word operations; a cell wholly in quotes is read
//! inside them. Any irregularity sends the chunk back to the per-line
//! parser, which gives the same values and names the fault.

use super::{parse_time_cached, parse_value, DateCache, Layout, POW10};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;
const ZEROS: u64 = 0x3030_3030_3030_3030;

/// The high bit of every byte of `w` equal to `c`. Exact: no carry crosses
/// a byte, unlike the shorter "has zero byte" trick.
fn eq_mask(w: u64, c: u8) -> u64 {
    let x = w ^ (ONES * u64::from(c));
    !(((x & !HIGH) + !HIGH) | x) & HIGH
}

/// The low `n` bytes of a word (all of it from 8 on).
fn keep(n: usize) -> u64 {
    1u64.checked_shl(8 * n as u32).map_or(u64::MAX, |b| b - 1)
}

fn word(bytes: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    if let Some(head) = buf.get_mut(..bytes.len()) {
        head.copy_from_slice(bytes);
    }
    u64::from_le_bytes(buf)
}

/// Number of `\n` in `bytes`. The per-block byte sums vectorise; a checked
/// `sum` would not (overflow-checks are on in release).
pub(super) fn count_newlines(bytes: &[u8]) -> usize {
    let mut blocks = bytes.chunks_exact(64);
    let mut n = 0usize;
    for block in &mut blocks {
        let in_block = block
            .iter()
            .fold(0u8, |acc, &b| acc.wrapping_add(u8::from(b == b'\n')));
        n += usize::from(in_block);
    }
    n + blocks.remainder().iter().filter(|&&b| b == b'\n').count()
}

/// Parse a chunk straight into `times` and `cols`, which
/// start as NaN (empty cells are skipped); `false` when the fast path does
/// not apply or the chunk has a fault (the caller re-parses it line by line,
/// overwriting whatever was written here).
pub(super) fn parse_chunk(
    chunk: &[u8],
    layout: &Layout<'_>,
    slots: &[Option<usize>],
    times: &mut [i64],
    cols: &mut [&mut [f64]],
) -> bool {
    let mut out = Out {
        chunk,
        layout,
        slots,
        times,
        cols,
        dates: DateCache::default(),
    };
    let (ncols, time_column) = (layout.columns.len(), layout.time_column);
    // A quote makes a time or value cell fail to parse (and the chunk fall
    // back) anyway; only a column the parse skips could hide one.
    let skipped = (0..ncols).any(|n| n != time_column && slots.get(n).is_none_or(Option::is_none));
    // Kept in locals, not in `out`, so they stay in registers.
    let (mut row, mut field, mut start) = (0usize, 0usize, 0usize);
    let mut base = 0usize;
    while base < chunk.len() {
        let w = chunk.get(base..base + 8).map_or_else(
            || word(chunk.get(base..).unwrap_or(&[])),
            |b| u64::from_le_bytes(b.try_into().unwrap_or_default()),
        );
        if skipped && eq_mask(w, b'"') != 0 {
            return false;
        }
        let newlines = eq_mask(w, b'\n');
        let commas = eq_mask(w, b',');
        let mut m = commas | newlines;
        while m != 0 {
            let bit = m & m.wrapping_neg();
            m ^= bit;
            let k = bit.trailing_zeros() / 8;
            let p = base + k as usize;
            let line_end = newlines & bit != 0;
            if p == start && !line_end && field != time_column {
                // A run of empty cells: each comma right after this one ends
                // one more (up to the time column, which must not be empty).
                let run = ((!(commas >> (8 * k)) & HIGH).trailing_zeros() / 8) as usize;
                let run = match time_column.checked_sub(field) {
                    Some(gap) if gap > 0 => run.min(gap),
                    _ => run,
                };
                field += run;
                start = p + run;
                m &= !keep(k as usize + run);
                continue;
            }
            if line_end || field == time_column {
                if !out.cell(field, row, start, p, line_end) {
                    return false;
                }
                if line_end {
                    if field + 1 != ncols {
                        return false;
                    }
                    row += 1;
                    field = 0;
                } else {
                    field += 1;
                }
            } else {
                if p != start && !value_cell(chunk, start, p, slots.get(field), out.cols, row) {
                    return false;
                }
                field += 1;
            }
            start = p + 1;
        }
        base += 8;
    }
    // The last line has no `\n`.
    out.cell(field, row, start, chunk.len(), true)
        && field + 1 == ncols
        && row + 1 == out.times.len()
}

/// Where the cells go.
struct Out<'a, 'l, 'c> {
    chunk: &'a [u8],
    layout: &'a Layout<'l>,
    slots: &'a [Option<usize>],
    times: &'a mut [i64],
    cols: &'a mut [&'c mut [f64]],
    dates: DateCache,
}

impl Out<'_, '_, '_> {
    /// Field `n` of row `r`, `chunk[start..end]`, when it is the time or the
    /// last of its line (`line_end`: its `\r` dropped; it may be empty).
    #[inline(never)]
    fn cell(&mut self, n: usize, r: usize, start: usize, end: usize, line_end: bool) -> bool {
        let end = if line_end && end > start && self.chunk.get(end - 1) == Some(&b'\r') {
            end - 1
        } else {
            end
        };
        if n != self.layout.time_column {
            return end == start
                || value_cell(self.chunk, start, end, self.slots.get(n), self.cols, r);
        }
        let (start, end) = unquoted(self.chunk, start, end);
        let text = self.chunk.get(start..end).unwrap_or(&[]);
        match (
            parse_time_cached(text, self.layout.time_format, &mut self.dates),
            self.times.get_mut(r),
        ) {
            (Some(t), Some(slot)) => {
                *slot = t;
                true
            }
            _ => false,
        }
    }
}

/// The inside of a cell in double quotes (the Transparency exports quote
/// every cell). Quotes anywhere else stay, and the cell then fails to parse:
/// only the line parser reads a quoted comma or a doubled quote.
#[inline(always)]
fn unquoted(chunk: &[u8], start: usize, end: usize) -> (usize, usize) {
    if chunk.get(start) != Some(&b'"') {
        return (start, end);
    }
    if end >= start + 2 && chunk.get(end - 1) == Some(&b'"') {
        (start + 1, end - 1)
    } else {
        (start, end)
    }
}

/// A non-empty cell `chunk[start..end]` of the column with output `slot`
/// (none: not read); `false` if it is not a number.
#[inline(always)]
fn value_cell(
    chunk: &[u8],
    start: usize,
    end: usize,
    slot: Option<&Option<usize>>,
    cols: &mut [&mut [f64]],
    row: usize,
) -> bool {
    let Some(&Some(j)) = slot else {
        return true;
    };
    let (start, end) = unquoted(chunk, start, end);
    let len = end - start;
    if len == 0 {
        return true; // `""`: already NaN
    }
    // Plain `match`es: a closure here was not inlined.
    let word = match chunk.get(start..start + 8) {
        Some(b) if len <= 8 => Some(u64::from_le_bytes(b.try_into().unwrap_or_default())),
        _ => None,
    };
    let quick = match word {
        Some(w) => word_decimal(w, len),
        None => None,
    };
    let v = match quick {
        Some(v) => v,
        None => match parse_value(chunk.get(start..end).unwrap_or(&[])) {
            Some(v) => v,
            None => return false,
        },
    };
    if let Some(out) = cols.get_mut(j).and_then(|c| c.get_mut(row)) {
        *out = v;
    }
    true
}

/// `[-]digits[.digits]` in the low `len` bytes of `w` (first byte lowest,
/// `len` from 1 to 8): the same value as `fast_decimal` (the same integer
/// mantissa, the same exact power of ten) in a few word operations; `None`
/// for anything else.
#[inline(always)]
fn word_decimal(w: u64, len: usize) -> Option<f64> {
    let negative = w & 0xff == u64::from(b'-');
    let (w, len) = if negative {
        (w >> 8, len.checked_sub(1)?)
    } else {
        (w, len)
    };
    // The field in the top `len` bytes, zero bytes (zero digits) below.
    let shift = 64u32.checked_sub(8 * u32::try_from(len).ok()?)?;
    let w = w.checked_shl(shift)?;
    let (digits, frac) = match eq_mask(w, b'.') {
        0 => (w ^ ZEROS.checked_shl(shift)?, 0),
        dot => {
            // Close the gap the point leaves, keeping the last digit on top.
            let q = dot.trailing_zeros() / 8;
            let below = w & ((1u64 << (8 * q)) - 1);
            let above = w.checked_shr(8 * (q + 1)).unwrap_or(0) << (8 * q);
            let w = (below | above) << 8;
            (w ^ ZEROS.checked_shl(shift + 8)?, 7 - q as usize)
        }
    };
    if (digits | digits.wrapping_add(0x7676_7676_7676_7676)) & HIGH != 0 {
        return None; // not all digits (or a second point)
    }
    // Lemire's eight-digit conversion.
    let v = digits.wrapping_mul(10).wrapping_add(digits >> 8);
    let mask = 0x0000_00ff_0000_00ff;
    let v = ((v & mask)
        .wrapping_mul(0x000f_4240_0000_0064)
        .wrapping_add(((v >> 16) & mask).wrapping_mul(0x0000_2710_0000_0001)))
        >> 32;
    let x = v as f64 / POW10.get(frac).copied()?;
    Some(if negative { -x } else { x })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_counts_are_exact() {
        let w = u64::from_le_bytes(*b",a\n,\x80\xac,\x00");
        assert_eq!(eq_mask(w, b','), 0x0080_0000_8000_0080);
        assert_eq!(eq_mask(w, b'\n'), 0x0000_0000_0080_0000);
        assert_eq!(eq_mask(w, 0), 0x8000_0000_0000_0000);
        let text: Vec<u8> = (0..1000u32)
            .map(|i| if i % 7 == 0 { b'\n' } else { b'x' })
            .collect();
        assert_eq!(count_newlines(&text), 143);
    }

    /// Whatever `word_decimal` accepts, it reads to the bits `parse_value`
    /// gives, whatever bytes follow the field in the word.
    #[test]
    fn word_decimals_equal_parse_value() {
        let alphabet = b"0123456789.-+ e";
        let mut texts: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..4 {
            let longer: Vec<Vec<u8>> = texts
                .iter()
                .flat_map(|t| {
                    alphabet.iter().map(move |&c| {
                        let mut t = t.clone();
                        t.push(c);
                        t
                    })
                })
                .collect();
            texts.extend(longer);
        }
        let mut seed = 7u64;
        for _ in 0..200_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let len = (seed >> 60) as usize % 9 + 1;
            let text: Vec<u8> = (0..len)
                .map(|i| {
                    let pick = (seed >> (8 + 5 * i)) as usize % 13;
                    alphabet.get(pick.min(11)).copied().unwrap_or(b'0')
                })
                .collect();
            texts.push(text);
        }
        let mut accepted = 0;
        for text in &texts {
            for junk in [&b""[..], b",", b",12345678", b"\r\n9.5,"] {
                let mut padded = text.clone();
                padded.extend_from_slice(junk);
                let w = word(padded.get(..8.min(padded.len())).unwrap_or(&[]));
                if let Some(v) = word_decimal(w, text.len()) {
                    accepted += 1;
                    let reference = parse_value(text).map(f64::to_bits);
                    assert_eq!(
                        Some(v.to_bits()),
                        reference,
                        "{:?}",
                        String::from_utf8_lossy(text)
                    );
                }
            }
        }
        assert!(accepted > 100_000, "{accepted}");
        for (text, value) in [
            ("6139", 6139.0),
            ("44383.25", 44383.25),
            ("-7", -7.0),
            (".5", 0.5),
        ] {
            let w = word(text.as_bytes());
            assert_eq!(word_decimal(w, text.len()), Some(value), "{text}");
        }
    }
}
