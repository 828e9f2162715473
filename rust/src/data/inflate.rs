//! Gunzipping whole files with libdeflate, 2-3x faster than zlib's
//! streaming inflate on the ENTSO-E exports (BENCHMARKS.md §4). The only
//! `unsafe` of the crate: three FFI calls, each with its SAFETY note. The safe
//! wrapper `libdeflater` inflates as fast but does not report how much input
//! a member used, so it cannot tell a whole file from the first of several
//! members (BENCHMARKS.md §4).
//!
//! Memory follows the content, not the trailer. A member's last four bytes
//! state its size (ISIZE), but a corrupt or hostile file can state anything:
//! eight bytes that claim 4 GiB. A stated size is believed only when the
//! compressed bytes could hold it ([`MAX_RATIO`] per byte, DEFLATE's limit);
//! otherwise, and for files of several members, the output grows by doubling
//! while it inflates, never past what the rest of the input can hold nor past
//! [`MAX_INFLATED`]. Anything else is a `BadData` error naming the file.

use crate::error::{CoreError, CoreResult};

/// The most one compressed byte can inflate to: a 258-byte match coded in two
/// bits (RFC 1951), so 1032 bytes per byte.
pub const MAX_RATIO: usize = 1032;
/// The largest inflated file accepted: 2 GiB, some 40 times the largest
/// ENTSO-E or OPSD export the readers know.
pub const MAX_INFLATED: usize = 1 << 31;

/// The uncompressed size a gzip member's trailer states (ISIZE, mod 2^32).
pub fn gzip_size(data: &[u8]) -> Option<usize> {
    let tail: [u8; 4] = data.get(data.len().checked_sub(4)?..)?.try_into().ok()?;
    usize::try_from(u32::from_le_bytes(tail)).ok()
}

/// The most `compressed` bytes can inflate to, capped by `limit`.
pub fn inflate_bound(compressed: usize, limit: usize) -> usize {
    compressed.saturating_mul(MAX_RATIO).min(limit)
}

/// The size the trailer states, once checked against what `data` can hold:
/// `None` without a trailer, an error when the stated size is impossible
/// (more than [`MAX_RATIO`] per compressed byte) or beyond [`MAX_INFLATED`]
/// (the last member alone inflates to at least ISIZE bytes).
pub fn stated_size(data: &[u8], source: &str) -> CoreResult<Option<usize>> {
    let Some(size) = gzip_size(data) else {
        return Ok(None);
    };
    if size > data.len().saturating_mul(MAX_RATIO) {
        return Err(fault(
            source,
            "gzip size",
            size,
            format!(
                "the trailer states {size} bytes, more than {} compressed bytes can hold",
                data.len()
            ),
        ));
    }
    if size > MAX_INFLATED {
        return Err(over_limit(source, size, MAX_INFLATED));
    }
    Ok(Some(size))
}

/// Gunzip `data` into `out`, which must be exactly [`gzip_size`] long.
/// `false` when that is not the whole story (several members, 4 GiB or
/// more, corrupt data): the caller then uses [`gunzip`], which also names the
/// fault.
pub fn gunzip_into(data: &[u8], out: &mut [u8]) -> bool {
    let Some(d) = Decompressor::new() else {
        return false;
    };
    matches!(
        d.inflate(data, out),
        Inflated::Member { used_in, used_out } if used_in == data.len() && used_out == out.len()
    )
}

/// Gunzip every member of `data` (RFC 1952 allows several, concatenated),
/// growing the output as it inflates, up to [`MAX_INFLATED`] bytes.
pub fn gunzip(data: &[u8], source: &str) -> CoreResult<Vec<u8>> {
    gunzip_limited(data, source, MAX_INFLATED)
}

fn gunzip_limited(data: &[u8], source: &str, limit: usize) -> CoreResult<Vec<u8>> {
    let d = Decompressor::new().ok_or_else(|| corrupt(source, "no memory for a decompressor"))?;
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let start = out.len();
        let room = inflate_bound(rest.len(), limit.saturating_sub(start));
        // A CSV inflates some 4-10x: start there, double on demand.
        let mut want = rest.len().saturating_mul(4).max(1 << 16);
        loop {
            want = want.min(room);
            out.resize(start + want, 0);
            let buf = out.get_mut(start..).unwrap_or_default();
            match d.inflate(rest, buf) {
                Inflated::Member { used_in, used_out } if used_in > 0 => {
                    out.truncate(start + used_out);
                    rest = rest.get(used_in..).unwrap_or_default();
                    break;
                }
                Inflated::NoRoom if want < room => want = want.saturating_mul(2),
                Inflated::NoRoom if room < rest.len().saturating_mul(MAX_RATIO) => {
                    return Err(over_limit(source, start + room + 1, limit));
                }
                _ => return Err(corrupt(source, "corrupt or truncated data")),
            }
        }
    }
    Ok(out)
}

fn fault(source: &str, field: &str, value: impl std::fmt::Display, why: String) -> CoreError {
    CoreError::data(
        field,
        value,
        format!("{source}:1: cannot read (gzip: {why})"),
    )
}

fn corrupt(source: &str, why: &str) -> CoreError {
    fault(source, "path", source, why.to_owned())
}

fn over_limit(source: &str, at_least: usize, limit: usize) -> CoreError {
    fault(
        source,
        "inflated size",
        at_least,
        format!("inflates to at least {at_least} bytes, more than the limit of {limit}"),
    )
}

/// What one call to libdeflate made of the input.
enum Inflated {
    /// One whole member: the compressed bytes it used, the bytes it wrote.
    Member { used_in: usize, used_out: usize },
    /// The member inflates to more than the output can take.
    NoRoom,
    /// Not a valid gzip member.
    Bad,
}

/// A libdeflate decompressor, freed on drop.
struct Decompressor(*mut libdeflate_sys::libdeflate_decompressor);

impl Decompressor {
    fn new() -> Option<Self> {
        // SAFETY: a plain allocation; null (out of memory) is checked.
        #[allow(unsafe_code)]
        let d = unsafe { libdeflate_sys::libdeflate_alloc_decompressor() };
        (!d.is_null()).then_some(Self(d))
    }

    /// Inflate the first gzip member of `data` into `out`.
    fn inflate(&self, data: &[u8], out: &mut [u8]) -> Inflated {
        let (mut used_in, mut used_out) = (0usize, 0usize);
        // SAFETY: `self.0` is a live decompressor owned by `self`; the input
        // and output pointers and lengths come from slices that outlive the
        // call, and libdeflate writes at most `out.len()` bytes and the two
        // counters.
        #[allow(unsafe_code)]
        let result = unsafe {
            libdeflate_sys::libdeflate_gzip_decompress_ex(
                self.0,
                data.as_ptr().cast(),
                data.len(),
                out.as_mut_ptr().cast(),
                out.len(),
                &raw mut used_in,
                &raw mut used_out,
            )
        };
        match result {
            libdeflate_sys::libdeflate_result_LIBDEFLATE_SUCCESS => {
                Inflated::Member { used_in, used_out }
            }
            libdeflate_sys::libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE => Inflated::NoRoom,
            _ => Inflated::Bad,
        }
    }
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: allocated by libdeflate_alloc_decompressor, freed once.
        #[allow(unsafe_code)]
        unsafe {
            libdeflate_sys::libdeflate_free_decompressor(self.0);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    // "hello\n" gzipped (gzip -n).
    const HELLO: [u8; 26] = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9,
        0xe7, 0x02, 0x00, 0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00,
    ];

    /// 100 000 zero bytes gzipped (Python's gzip.compress, mtime 0): 132
    /// bytes, a ratio of 758.
    fn zeros() -> Vec<u8> {
        let head = [
            0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xed, 0xc1, 0x31, 0x01,
            0x00, 0x00, 0x00, 0xc2, 0xa0, 0xf5, 0x4f, 0x6d, 0x0d, 0x0f, 0xa0,
        ];
        let tail = [
            0x00, 0x00, 0x80, 0x57, 0x03, 0x7d, 0x95, 0x11, 0xd4, 0xa0, 0x86, 0x01, 0x00,
        ];
        [&head[..], &[0u8; 94], &tail].concat()
    }

    #[test]
    fn one_member_inflates_and_anything_else_declines() {
        let n = gzip_size(&HELLO).unwrap_or(0);
        let mut out = vec![0u8; n];
        assert!(gunzip_into(&HELLO, &mut out));
        assert_eq!(out, b"hello\n");
        let mut two = HELLO.to_vec();
        two.extend_from_slice(&HELLO);
        let mut out = vec![0u8; gzip_size(&two).unwrap_or(0)];
        assert!(!gunzip_into(&two, &mut out));
        let mut corrupt = HELLO;
        corrupt[12] ^= 0xff;
        let mut out = vec![0u8; 6];
        assert!(!gunzip_into(&corrupt, &mut out));
        assert_eq!(gzip_size(&[1, 2]), None);
    }

    #[test]
    fn a_stated_size_beyond_the_data_is_refused_before_any_allocation() {
        // Issue 19: eight bytes whose trailer states 4 GiB - 1.
        let eight = [0x1f, 0x8b, 0x08, 0x00, 0xff, 0xff, 0xff, 0xff];
        let err = stated_size(&eight, "x.csv.gz").unwrap_err().to_string();
        assert!(err.contains("x.csv.gz:1: cannot read"), "{err}");
        assert!(
            err.contains("states 4294967295 bytes, more than 8 compressed"),
            "{err}"
        );
        // Up to 1032 bytes a byte is possible, so believed (then checked).
        let mut lie = HELLO;
        lie[22..].copy_from_slice(&(26 * 1032u32).to_le_bytes());
        assert_eq!(stated_size(&lie, "x").unwrap(), Some(26 * 1032));
        lie[22..].copy_from_slice(&(26 * 1032u32 + 1).to_le_bytes());
        assert!(stated_size(&lie, "x").is_err());
        assert!(gunzip(&eight, "x").is_err());
    }

    #[test]
    fn members_inflate_whole_growing_the_output() {
        let mut two = HELLO.to_vec();
        two.extend_from_slice(&zeros());
        two.extend_from_slice(&HELLO);
        let out = gunzip(&two, "x").unwrap();
        assert_eq!(out.len(), 6 + 100_000 + 6);
        assert_eq!(&out[..6], b"hello\n");
        assert!(out[6..100_006].iter().all(|&b| b == 0));
        assert_eq!(&out[100_006..], b"hello\n");
        assert_eq!(gunzip(&zeros(), "x").unwrap().len(), 100_000);
        assert_eq!(gunzip(&[], "x").unwrap(), b"");
    }

    #[test]
    fn corrupt_truncated_and_oversized_files_are_bad_data() {
        for bad in [&HELLO[..20], &HELLO[..2], b"not gzip at all".as_slice()] {
            let err = gunzip(bad, "f.gz").unwrap_err();
            assert!(matches!(err, CoreError::BadData { .. }), "{err}");
            assert!(
                err.to_string().starts_with("f.gz:1: cannot read (gzip: "),
                "{err}"
            );
        }
        let mut trailing = HELLO.to_vec();
        trailing.extend_from_slice(b"junk");
        assert!(gunzip(&trailing, "f.gz").is_err());
        let err = gunzip_limited(&zeros(), "f.gz", 50_000).unwrap_err();
        assert!(matches!(err, CoreError::BadData { .. }), "{err}");
        assert!(
            err.to_string().contains("more than the limit of 50000"),
            "{err}"
        );
        assert_eq!(
            gunzip_limited(&zeros(), "f.gz", 100_000).unwrap().len(),
            100_000
        );
    }
}
