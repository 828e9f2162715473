//! BLAKE3 and SHA-256 over single inputs and over batches of records.
//!
//! Batches are flat buffers: either fixed-stride records (an `(n, k)` uint8
//! array) or ragged records delimited by offsets. Large batches are split
//! across the rayon pool; small ones stay on the calling thread, where the
//! pool's hand-off would cost more than the hashing. BLAKE3 over fixed-width
//! records of at most one chunk (1024 bytes) hashes 4, 8 or 16 records at
//! once, one per SIMD lane (`simd::lanes::blake3_fixed`); SHA-256 and ragged
//! records go one at a time.

use rayon::prelude::*;
use sha2::{Digest as _, Sha256};

use crate::crypto::simd::lanes::{blake3_fixed, CHUNK_LEN};
use crate::error::{CoreError, CoreResult};

/// A 32-byte digest.
pub type Digest = [u8; 32];

/// Records per rayon task: below this a batch is hashed on one thread.
const PAR_MIN_RECORDS: usize = 2048;

/// The hash function of a chain (SPEC §2: BLAKE3 by default, SHA-256 selectable).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Blake3,
    Sha256,
}

impl Algorithm {
    /// Parse `"blake3"` or `"sha256"` (case-insensitive, `sha-256` accepted).
    pub fn parse(name: &str) -> CoreResult<Self> {
        match name.to_ascii_lowercase().as_str() {
            "blake3" => Ok(Self::Blake3),
            "sha256" | "sha-256" => Ok(Self::Sha256),
            _ => Err(CoreError::config(
                "algorithm",
                format!("{name:?}"),
                "unknown hash algorithm; expected \"blake3\" or \"sha256\"",
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Blake3 => "blake3",
            Self::Sha256 => "sha256",
        }
    }

    /// Hash the concatenation of `parts` without copying them together.
    pub fn hash_parts(self, parts: &[&[u8]]) -> Digest {
        match self {
            Self::Blake3 => {
                let mut h = blake3::Hasher::new();
                for p in parts {
                    h.update(p);
                }
                *h.finalize().as_bytes()
            }
            Self::Sha256 => {
                let mut h = Sha256::new();
                for p in parts {
                    h.update(p);
                }
                h.finalize().into()
            }
        }
    }

    /// Hash one input.
    pub fn hash(self, data: &[u8]) -> Digest {
        match self {
            Self::Blake3 => *blake3::hash(data).as_bytes(),
            Self::Sha256 => Sha256::digest(data).into(),
        }
    }
}

/// Hash every record of `data` (cut as `records` says); writes `n * 32` bytes to `out`.
pub fn hash_records_into(
    alg: Algorithm,
    data: &[u8],
    records: Records<'_>,
    out: &mut [u8],
) -> CoreResult<()> {
    let n = records.len(data.len(), out.len() / 32)?;
    if out.len() != n * 32 {
        return Err(CoreError::invalid(
            "out",
            format!("{} bytes", out.len()),
            format!("expected {}", n * 32),
        ));
    }
    if let (Algorithm::Blake3, Records::Fixed(width)) = (alg, records) {
        if width <= CHUNK_LEN {
            return blake3_fixed_par(&[], data, width, out);
        }
    }
    let hash_one =
        |(i, o): (usize, &mut [u8])| o.copy_from_slice(&alg.hash(records.record(data, i)));
    if n < PAR_MIN_RECORDS {
        out.chunks_exact_mut(32).enumerate().for_each(hash_one);
    } else {
        out.par_chunks_exact_mut(32)
            .with_min_len(PAR_MIN_RECORDS)
            .enumerate()
            .for_each(hash_one);
    }
    Ok(())
}

/// BLAKE3 of the records `prefix ‖ data[i·width..(i+1)·width]` (each at most
/// one chunk) into `out`, many lanes at a time (`simd::lanes`), split across
/// the rayon pool in tasks of `PAR_MIN_RECORDS` records when the batch is large.
pub fn blake3_fixed_par(
    prefix: &[u8],
    data: &[u8],
    width: usize,
    out: &mut [u8],
) -> CoreResult<()> {
    let n = out.len() / 32;
    if n < 2 * PAR_MIN_RECORDS {
        return blake3_fixed(prefix, data, width, out);
    }
    if Some(data.len()) != n.checked_mul(width) {
        // The same error the one-task path gives.
        return blake3_fixed(prefix, data, width, out);
    }
    out.par_chunks_mut(PAR_MIN_RECORDS * 32)
        .enumerate()
        .try_for_each(|(t, o)| {
            let first = t * PAR_MIN_RECORDS;
            let d = data
                .get(first * width..(first + o.len() / 32) * width)
                .unwrap_or(&[]);
            blake3_fixed(prefix, d, width, o)
        })
}

/// Hash `data` cut into records of `stride` bytes; writes `n * 32` bytes to `out`
/// (with `stride == 0`, `out.len() / 32` empty records).
pub fn hash_fixed_into(
    alg: Algorithm,
    data: &[u8],
    stride: usize,
    out: &mut [u8],
) -> CoreResult<()> {
    hash_records_into(alg, data, Records::Fixed(stride), out)
}

/// Hash ragged records: record `i` is `data[offsets[i]..offsets[i + 1]]`.
pub fn hash_ragged_into(
    alg: Algorithm,
    data: &[u8],
    offsets: &[usize],
    out: &mut [u8],
) -> CoreResult<()> {
    hash_records_into(alg, data, Records::Ragged(offsets), out)
}

/// Offsets must start at 0, never decrease and end at `len`.
pub fn check_offsets(offsets: &[usize], len: usize) -> CoreResult<()> {
    if offsets.first().copied().unwrap_or(0) != 0 || offsets.last().copied().unwrap_or(0) != len {
        return Err(CoreError::invalid(
            "offsets",
            format!("{} entries", offsets.len()),
            "must start at 0 and end at the data length",
        ));
    }
    if let Some(i) = offsets
        .windows(2)
        .position(|w| matches!(w, [a, b] if a > b))
    {
        return Err(CoreError::invalid(
            format!("offsets[{}]", i + 1),
            "decreasing",
            "offsets must not decrease",
        ));
    }
    Ok(())
}

/// How a flat buffer is cut into records.
#[derive(Clone, Copy, Debug)]
pub enum Records<'a> {
    Fixed(usize),
    Ragged(&'a [usize]),
}

impl Records<'_> {
    /// The number of records; `Fixed(0)` has `empty` empty records.
    pub fn len(&self, data_len: usize, empty: usize) -> CoreResult<usize> {
        match self {
            Records::Fixed(0) => Ok(empty),
            Records::Fixed(stride) => {
                if !data_len.is_multiple_of(*stride) {
                    return Err(CoreError::invalid(
                        "data",
                        format!("{data_len} bytes"),
                        format!("not a whole number of {stride}-byte records"),
                    ));
                }
                Ok(data_len / stride)
            }
            Records::Ragged(offsets) => {
                check_offsets(offsets, data_len)?;
                Ok(offsets.len().saturating_sub(1))
            }
        }
    }

    /// Record `i` (empty when out of range).
    pub fn record<'d>(&self, data: &'d [u8], i: usize) -> &'d [u8] {
        let (a, b) = match self {
            Records::Fixed(stride) => (i * stride, (i + 1) * stride),
            Records::Ragged(offsets) => (
                offsets.get(i).copied().unwrap_or(0),
                offsets.get(i + 1).copied().unwrap_or(0),
            ),
        };
        data.get(a..b).unwrap_or(&[])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn hex(d: &[u8]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn empty_inputs_match_known_digests() {
        assert_eq!(
            hex(&Algorithm::Sha256.hash(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&Algorithm::Blake3.hash(b"")),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
    }

    #[test]
    fn parts_equal_concatenation() {
        for alg in [Algorithm::Blake3, Algorithm::Sha256] {
            assert_eq!(alg.hash_parts(&[b"ab", b"", b"cd"]), alg.hash(b"abcd"));
        }
    }

    #[test]
    fn batches_equal_single_hashes_at_every_size() {
        for n in [0usize, 1, 7, PAR_MIN_RECORDS + 3] {
            let data: Vec<u8> = (0..n * 5).map(|i| (i % 251) as u8).collect();
            let mut out = vec![0u8; n * 32];
            hash_fixed_into(Algorithm::Blake3, &data, 5, &mut out).unwrap();
            let offsets: Vec<usize> = (0..=n).map(|i| i * 5).collect();
            let mut out2 = vec![0u8; n * 32];
            hash_ragged_into(Algorithm::Blake3, &data, &offsets, &mut out2).unwrap();
            assert_eq!(out, out2);
            for i in 0..n {
                assert_eq!(
                    &out[i * 32..(i + 1) * 32],
                    &Algorithm::Blake3.hash(&data[i * 5..(i + 1) * 5])
                );
            }
        }
    }

    #[test]
    fn bad_shapes_are_errors() {
        let mut out = vec![0u8; 32];
        assert!(hash_fixed_into(Algorithm::Sha256, &[0u8; 5], 2, &mut out).is_err());
        assert!(hash_ragged_into(Algorithm::Sha256, &[0u8; 5], &[0, 6], &mut out).is_err());
        assert!(
            hash_ragged_into(Algorithm::Sha256, &[0u8; 5], &[0, 3, 2, 5], &mut [0u8; 96]).is_err()
        );
        assert!(Algorithm::parse("md5").is_err());
    }
}
