//! Ed25519 signing and verification, one at a time and in batches.
//!
//! Verification rule (documented in docs/ed25519.md): RFC 8032 §5.1.7 with the
//! *cofactored* equation [8][S]B = [8]R + [8][k]A, plus strict encodings —
//! S < L, A and R canonical (y < p), and neither A nor R of small order.
//! Batch verification (the same cofactored equation, summed with 128-bit
//! coefficients, see `equation_holds`) is only a fast path: when a chunk
//! fails it is bisected down to single checks, so a batch answer always
//! equals the single answers.

use std::collections::HashMap;
use std::iter::once;
use std::sync::OnceLock;

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};

use crate::crypto::simd::decompress::decompress_many;
use ed25519_dalek::{Signer, SigningKey};
use rayon::prelude::*;
use sha2::{Digest, Sha512};

/// The fewest signatures per batch chunk.
const CHUNK: usize = 256;

/// Below this many items a batch equation does not pay: single checks.
const SINGLE_BELOW: usize = 4;

/// A failing group is split into this many parts.
const SPLIT: usize = 8;

/// BLAKE3 context of the batch coefficients z_i.
const Z_CONTEXT: &str = "gridledger 2026-11 ed25519 batch coefficients z";

/// An Ed25519 key pair from a 32-byte RFC 8032 seed (the secret is zeroised on drop).
#[derive(Clone)]
pub struct Keypair(SigningKey);

impl Keypair {
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.0.sign(msg).to_bytes()
    }

    /// Sign many messages, in parallel when it pays.
    pub fn sign_many(&self, msgs: &[&[u8]]) -> Vec<[u8; 64]> {
        if msgs.len() >= 512 {
            msgs.par_iter()
                .with_min_len(128)
                .map(|m| self.sign(m))
                .collect()
        } else {
            msgs.iter().map(|m| self.sign(m)).collect()
        }
    }
}

/// A key prepared for signing in batches: RFC 8032's expanded secret (the
/// scalar a, reduced mod ℓ, and the nonce prefix), derived once, and the
/// public key. `sign_batch` makes the same signatures as `Keypair::sign`
/// (Ed25519 is deterministic), with less work per signature: the secret is
/// not expanded again for every message (a SHA-512 and a reduction), and the
/// nonce points R of a batch are compressed with one field inversion for all
/// (Montgomery's trick, dalek's `compress_batch_alloc`) instead of one each,
/// which was about a quarter of a signature's time.
pub struct ExpandedKey {
    a: Scalar,
    prefix: [u8; 32],
    public: [u8; 32],
}

impl Drop for ExpandedKey {
    fn drop(&mut self) {
        // Best effort, like dalek's zeroize-on-drop of its expanded key.
        self.a = Scalar::ZERO;
        self.prefix = [0; 32];
    }
}

impl ExpandedKey {
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let h: [u8; 64] = Sha512::digest(seed).into();
        let mut lower = [0u8; 32];
        let mut prefix = [0u8; 32];
        lower.copy_from_slice(h.get(..32).unwrap_or(&[0; 32]));
        prefix.copy_from_slice(h.get(32..).unwrap_or(&[0; 32]));
        let a = Scalar::from_bytes_mod_order(curve25519_dalek::scalar::clamp_integer(lower));
        let public = EdwardsPoint::mul_base(&a).compress().to_bytes();
        Self { a, prefix, public }
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }

    /// The nonce r = H(prefix ‖ msg) mod ℓ.
    fn nonce(&self, msg: &[u8]) -> Scalar {
        let mut h = Sha512::new();
        h.update(self.prefix);
        h.update(msg);
        let wide: [u8; 64] = h.finalize().into();
        Scalar::from_bytes_mod_order_wide(&wide)
    }
}

/// Signatures per batch inversion in `sign_batch`: one inversion (about
/// 250 field squarings) shared by this many, at three multiplications each.
const SIGN_CHUNK: usize = 32;

/// Sign message i with key i (RFC 8032 Ed25519, the signatures of
/// `Keypair::sign`), in parallel chunks of `SIGN_CHUNK` from two chunks on.
pub fn sign_batch(items: &[(&ExpandedKey, &[u8])]) -> Vec<[u8; 64]> {
    let chunk = |part: &[(&ExpandedKey, &[u8])]| -> Vec<[u8; 64]> {
        let nonces: Vec<Scalar> = part.iter().map(|(k, m)| k.nonce(m)).collect();
        let points: Vec<EdwardsPoint> = nonces.iter().map(EdwardsPoint::mul_base).collect();
        let rs = EdwardsPoint::compress_batch_alloc(&points);
        part.iter()
            .zip(nonces.iter().zip(&rs))
            .map(|((k, m), (r, r_enc))| {
                let r_bytes = r_enc.to_bytes();
                let s = challenge(&r_bytes, &k.public, m) * k.a + r;
                let mut sig = [0u8; 64];
                let (lo, hi) = sig.split_at_mut(32);
                lo.copy_from_slice(&r_bytes);
                hi.copy_from_slice(s.as_bytes());
                sig
            })
            .collect()
    };
    if items.len() >= 2 * SIGN_CHUNK {
        items.par_chunks(SIGN_CHUNK).flat_map_iter(chunk).collect()
    } else {
        chunk(items)
    }
}

/// Sign `msg` with the 32-byte RFC 8032 seed.
pub fn sign(seed: &[u8; 32], msg: &[u8]) -> [u8; 64] {
    Keypair::from_seed(seed).sign(msg)
}

/// The public key of a seed.
pub fn public_key(seed: &[u8; 32]) -> [u8; 32] {
    Keypair::from_seed(seed).public_key()
}

/// 2^255 − 19, little-endian.
const P_LE: [u8; 32] = {
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    p
};

/// Is the y coordinate of an encoded point < p?
fn canonical_y(enc: &[u8; 32]) -> bool {
    let mut y = *enc;
    y[31] &= 0x7f;
    for i in (0..32).rev() {
        let (a, b) = (
            y.get(i).copied().unwrap_or(0),
            P_LE.get(i).copied().unwrap_or(0),
        );
        if a != b {
            return a < b;
        }
    }
    false
}

fn small_order_encodings() -> &'static [[u8; 32]; 8] {
    static ENC: OnceLock<[[u8; 32]; 8]> = OnceLock::new();
    ENC.get_or_init(|| EIGHT_TORSION.map(|p| p.compress().to_bytes()))
}

/// Encoding checks shared by single and batch verification: canonical y and
/// not small order. The small-order test ignores the x sign bit: the torsion
/// set is closed under negation, and it also catches (0, ±1) encoded with the
/// sign bit set, which decompression would otherwise accept.
fn acceptable_point_encoding(enc: &[u8; 32]) -> bool {
    let mut y = *enc;
    y[31] &= 0x7f;
    canonical_y(enc)
        && !small_order_encodings().iter().any(|t| {
            let mut ty = *t;
            ty[31] &= 0x7f;
            ty == y
        })
}

fn split_sig(sig: &[u8; 64]) -> ([u8; 32], [u8; 32]) {
    let mut r = [0u8; 32];
    let mut s = [0u8; 32];
    r.copy_from_slice(sig.get(..32).unwrap_or(&[0; 32]));
    s.copy_from_slice(sig.get(32..).unwrap_or(&[0; 32]));
    (r, s)
}

fn challenge(r: &[u8; 32], a: &[u8; 32], msg: &[u8]) -> Scalar {
    let mut h = Sha512::new();
    h.update(r);
    h.update(a);
    h.update(msg);
    let wide: [u8; 64] = h.finalize().into();
    Scalar::from_bytes_mod_order_wide(&wide)
}

/// Verify one signature under the rule above: the encoding checks of
/// `prepare`, then [S]B − [k]A − R with the cofactor cleared.
pub fn verify(public_key: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    let Some(p) = prepare(public_key, msg, sig, None) else {
        return false;
    };
    let Some(r) = CompressedEdwardsY(p.r_enc).decompress() else {
        return false;
    };
    let lhs = EdwardsPoint::vartime_double_scalar_mul_basepoint(&p.k, &(-p.a), &p.s);
    (lhs - r).mul_by_cofactor().is_identity()
}

/// One item that passed the encoding checks, with its points decompressed
/// and its challenge computed, ready for the batch equation.
struct Prepared {
    key: [u8; 32],
    a: EdwardsPoint,
    r: EdwardsPoint,
    r_enc: [u8; 32],
    s: Scalar,
    k: Scalar,
}

/// The checks and work of `Prepared` but R's decompression, which
/// `prepare_all` does for all items at once.
fn prepare(
    public_key: &[u8; 32],
    msg: &[u8],
    sig: &[u8; 64],
    cache: Option<&KeyCache>,
) -> Option<Prepared> {
    let (r_enc, s_enc) = split_sig(sig);
    if !acceptable_point_encoding(&r_enc) {
        return None;
    }
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_enc))?;
    let a = match cache.and_then(|c| c.0.get(public_key)) {
        Some(a) => *a,
        None => {
            if !acceptable_point_encoding(public_key) {
                return None;
            }
            CompressedEdwardsY(*public_key).decompress()?
        }
    };
    Some(Prepared {
        key: *public_key,
        a,
        r: EdwardsPoint::default(),
        r_enc,
        s,
        k: challenge(&r_enc, public_key, msg),
    })
}

/// `Prepared` items, `None` where an encoding is invalid; every R is
/// decompressed in one `decompress_many` call (eight at a time on IFMA).
fn prepare_all(
    keys: &[[u8; 32]],
    msgs: &[&[u8]],
    sigs: &[[u8; 64]],
    cache: Option<&KeyCache>,
) -> Vec<Option<Prepared>> {
    let mut prepared: Vec<Option<Prepared>> = keys
        .iter()
        .zip(msgs)
        .zip(sigs)
        .map(|((k, m), s)| prepare(k, m, s, cache))
        .collect();
    let r_encs: Vec<[u8; 32]> = prepared.iter().flatten().map(|p| p.r_enc).collect();
    let mut points = decompress_many(&r_encs).into_iter();
    for slot in &mut prepared {
        if slot.is_some() {
            match (points.next().flatten(), slot.as_mut()) {
                (Some(r), Some(p)) => p.r = r,
                _ => *slot = None,
            }
        }
    }
    prepared
}

/// Public keys already checked (canonical, not of small order) and decompressed,
/// so a batch that meets them again skips that work. Keys that fail the
/// checks are never cached.
#[derive(Clone, Debug, Default)]
pub struct KeyCache(HashMap<[u8; 32], EdwardsPoint>);

impl KeyCache {
    pub fn insert(&mut self, public_key: &[u8; 32]) {
        if self.0.contains_key(public_key) || !acceptable_point_encoding(public_key) {
            return;
        }
        if let Some(a) = CompressedEdwardsY(*public_key).decompress() {
            self.0.insert(*public_key, a);
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Does the cofactored batch equation
/// [8]([−Σ z_i S_i]B + Σ [z_i]R_i + Σ [z_i k_i]A_i) = 0 hold for these items?
///
/// Every item valid under the single rule satisfies it, so a failure means at
/// least one invalid item; a batch with an invalid item passes with
/// probability about 2^−128. The z_i are 128-bit and derived from the whole
/// batch (BLAKE3 over every key, R, S and challenge), as ed25519-dalek 3
/// derives them from a transcript: a signer cannot choose its items knowing
/// its coefficients. Keys met more than once enter the multiplication once.
fn equation_holds(items: &[&Prepared]) -> bool {
    let mut transcript = Vec::with_capacity(items.len() * 128);
    for p in items {
        transcript.extend_from_slice(&p.key);
        transcript.extend_from_slice(&p.r_enc);
        transcript.extend_from_slice(p.s.as_bytes());
        transcript.extend_from_slice(p.k.as_bytes());
    }
    let mut hasher = blake3::Hasher::new_derive_key(Z_CONTEXT);
    hasher.update(&transcript);
    let mut z_bytes = vec![0u8; items.len() * 16];
    hasher.finalize_xof().fill(&mut z_bytes);
    let zs: Vec<Scalar> = z_bytes
        .chunks_exact(16)
        .map(|c| {
            let mut b = [0u8; 16];
            b.copy_from_slice(c);
            Scalar::from(u128::from_le_bytes(b))
        })
        .collect();
    let mut b_coefficient = Scalar::ZERO;
    let mut slot: HashMap<&[u8; 32], usize> = HashMap::with_capacity(items.len());
    let mut a_points: Vec<EdwardsPoint> = Vec::with_capacity(items.len());
    let mut a_coefficients: Vec<Scalar> = Vec::with_capacity(items.len());
    for (p, z) in items.iter().zip(&zs) {
        b_coefficient += z * p.s;
        let zk = z * p.k;
        match slot.get(&p.key).and_then(|&j| a_coefficients.get_mut(j)) {
            Some(c) => *c += zk,
            None => {
                slot.insert(&p.key, a_points.len());
                a_points.push(p.a);
                a_coefficients.push(zk);
            }
        }
    }
    let sum = EdwardsPoint::vartime_multiscalar_mul(
        once(-b_coefficient).chain(zs).chain(a_coefficients),
        once(ED25519_BASEPOINT_POINT)
            .chain(items.iter().map(|p| p.r))
            .chain(a_points),
    );
    sum.mul_by_cofactor().is_identity()
}

/// Single checks of the items `which`.
fn single(which: &[usize], keys: &[[u8; 32]], msgs: &[&[u8]], sigs: &[[u8; 64]], out: &mut [bool]) {
    for &i in which {
        if let (Some(k), Some(m), Some(s), Some(o)) =
            (keys.get(i), msgs.get(i), sigs.get(i), out.get_mut(i))
        {
            *o = verify(k, m, s);
        }
    }
}

/// Settle the items `which` (all prepared): the batch equation over all of
/// them; where it fails, over eighths of the failing group, recursing into
/// the eighths that fail while bad items look sparse (at most half of the
/// eighths fail) and checking them one by one once they look dense. One bad
/// item among 5 000 then costs about two batch passes instead of 5 000
/// single checks; at 1 % or 10 % bad items it costs what single checks cost.
fn settle(
    which: &[usize],
    prepared: &[Option<Prepared>],
    keys: &[[u8; 32]],
    msgs: &[&[u8]],
    sigs: &[[u8; 64]],
    out: &mut [bool],
) {
    let holds = |group: &[usize]| {
        let items: Vec<&Prepared> = group
            .iter()
            .filter_map(|&i| prepared.get(i).and_then(Option::as_ref))
            .collect();
        items.len() == group.len() && equation_holds(&items)
    };
    let accept = |group: &[usize], out: &mut [bool]| {
        for &i in group {
            if let Some(o) = out.get_mut(i) {
                *o = true;
            }
        }
    };
    if which.len() <= SINGLE_BELOW {
        single(which, keys, msgs, sigs, out);
        return;
    }
    if holds(which) {
        accept(which, out);
        return;
    }
    // `failing` holds groups whose equation failed.
    let mut failing: Vec<&[usize]> = vec![which];
    while let Some(group) = failing.pop() {
        let parts: Vec<&[usize]> = group.chunks(group.len().div_ceil(SPLIT)).collect();
        let mut failed = Vec::with_capacity(parts.len());
        for part in &parts {
            if part.len() <= SINGLE_BELOW {
                single(part, keys, msgs, sigs, out);
            } else if holds(part) {
                accept(part, out);
            } else {
                failed.push(*part);
            }
        }
        if failed.len() * 2 > parts.len() {
            for part in failed {
                single(part, keys, msgs, sigs, out);
            }
        } else {
            failing.extend(failed);
        }
    }
}

fn verify_chunk(
    keys: &[[u8; 32]],
    msgs: &[&[u8]],
    sigs: &[[u8; 64]],
    out: &mut [bool],
    cache: Option<&KeyCache>,
) {
    let prepared = prepare_all(keys, msgs, sigs, cache);
    let mut which = Vec::with_capacity(prepared.len());
    for (i, (p, o)) in prepared.iter().zip(out.iter_mut()).enumerate() {
        *o = false;
        if p.is_some() {
            which.push(i);
        }
    }
    settle(&which, &prepared, keys, msgs, sigs, out);
}

/// Verify many (key, message, signature) triples; `out[i]` is the single
/// verdict for item i. Large batches use every core of the rayon pool.
pub fn verify_batch(keys: &[[u8; 32]], msgs: &[&[u8]], sigs: &[[u8; 64]], out: &mut [bool]) {
    verify_batch_cached(keys, msgs, sigs, out, None);
}

/// `verify_batch` with decompressed keys from `cache` where it has them.
pub fn verify_batch_cached(
    keys: &[[u8; 32]],
    msgs: &[&[u8]],
    sigs: &[[u8; 64]],
    out: &mut [bool],
    cache: Option<&KeyCache>,
) {
    verify_batch_split(keys, msgs, sigs, out, cache, 1);
}

/// `verify_batch_cached` cut into `pieces` chunks per thread (at least 1),
/// for a caller that runs other work on the pool at the same time and wants
/// the chunks to fill the gaps it leaves.
pub fn verify_batch_split(
    keys: &[[u8; 32]],
    msgs: &[&[u8]],
    sigs: &[[u8; 64]],
    out: &mut [bool],
    cache: Option<&KeyCache>,
    pieces: usize,
) {
    let n = out.len().min(keys.len()).min(msgs.len()).min(sigs.len());
    let (keys, msgs, sigs) = (
        keys.get(..n).unwrap_or(&[]),
        msgs.get(..n).unwrap_or(&[]),
        sigs.get(..n).unwrap_or(&[]),
    );
    let out = out.get_mut(..n).unwrap_or(&mut []);
    // One chunk per thread: a larger multiscalar multiplication costs less per
    // point (Pippenger), and a bad item costs only a split of its chunk.
    let chunk = CHUNK
        .max(
            n.div_ceil(
                rayon::current_num_threads()
                    .max(1)
                    .saturating_mul(pieces.max(1)),
            ),
        )
        .min(8192);
    if n <= chunk {
        verify_chunk(keys, msgs, sigs, out, cache);
        return;
    }
    out.par_chunks_mut(chunk)
        .zip(keys.par_chunks(chunk))
        .zip(msgs.par_chunks(chunk))
        .zip(sigs.par_chunks(chunk))
        .for_each(|(((o, k), m), s)| verify_chunk(k, m, s, o, cache));
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn seed(i: u8) -> [u8; 32] {
        [i; 32]
    }

    #[test]
    fn sign_batch_makes_dalek_s_signatures() {
        // Batches across the chunk and parallel thresholds, keys and message lengths mixed.
        for n in [0usize, 1, 2, 31, 32, 33, 64, 65, 200] {
            let keys: Vec<ExpandedKey> = (0..7u8)
                .map(|i| ExpandedKey::from_seed(&[i.wrapping_mul(37).wrapping_add(n as u8); 32]))
                .collect();
            let pairs: Vec<Keypair> = (0..7u8)
                .map(|i| Keypair::from_seed(&[i.wrapping_mul(37).wrapping_add(n as u8); 32]))
                .collect();
            let msgs: Vec<Vec<u8>> = (0..n).map(|i| vec![i as u8; i % 97]).collect();
            let items: Vec<(&ExpandedKey, &[u8])> = msgs
                .iter()
                .enumerate()
                .map(|(i, m)| (&keys[i % 7], m.as_slice()))
                .collect();
            let got = sign_batch(&items);
            assert_eq!(got.len(), n);
            for (i, (m, sig)) in msgs.iter().zip(&got).enumerate() {
                assert_eq!(keys[i % 7].public_key(), pairs[i % 7].public_key());
                assert_eq!(*sig, pairs[i % 7].sign(m), "n={n} i={i}");
                assert!(verify(&pairs[i % 7].public_key(), m, sig));
            }
        }
    }

    #[test]
    fn cached_keys_give_the_same_verdicts() {
        let n = 600;
        let seeds: Vec<[u8; 32]> = (0..n)
            .map(|i| {
                [
                    (i % 251) as u8,
                    (i / 251) as u8,
                    1,
                    2,
                    3,
                    4,
                    5,
                    6,
                    7,
                    8,
                    9,
                    10,
                    11,
                    12,
                    13,
                    14,
                    15,
                    16,
                    17,
                    18,
                    19,
                    20,
                    21,
                    22,
                    23,
                    24,
                    25,
                    26,
                    27,
                    28,
                    29,
                    30,
                ]
            })
            .collect();
        let mut keys: Vec<[u8; 32]> = seeds.iter().map(public_key).collect();
        let msgs: Vec<Vec<u8>> = (0..n).map(|i| format!("m{i}").into_bytes()).collect();
        let mut sigs: Vec<[u8; 64]> = seeds.iter().zip(&msgs).map(|(s, m)| sign(s, m)).collect();
        sigs[5][3] ^= 1;
        keys[9] = small_order_encodings()[1];
        let mut cache = KeyCache::default();
        for k in &keys {
            cache.insert(k);
        }
        assert_eq!(cache.len(), n - 1, "a small-order key must not be cached");
        let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
        let (mut a, mut b) = (vec![false; n], vec![false; n]);
        verify_batch(&keys, &refs, &sigs, &mut a);
        verify_batch_cached(&keys, &refs, &sigs, &mut b, Some(&cache));
        assert_eq!(a, b);
        assert!(!a[5] && !a[9] && a[0] && a[n - 1]);
    }

    #[test]
    fn sign_then_verify_and_tamper() {
        let sd = seed(7);
        let pk = public_key(&sd);
        let sig = sign(&sd, b"meter 42: 1000 Wh");
        assert!(verify(&pk, b"meter 42: 1000 Wh", &sig));
        assert!(!verify(&pk, b"meter 42: 1001 Wh", &sig));
        let mut bad = sig;
        bad[10] ^= 1;
        assert!(!verify(&pk, b"meter 42: 1000 Wh", &bad));
    }

    #[test]
    fn non_canonical_s_is_rejected() {
        let sd = seed(3);
        let pk = public_key(&sd);
        let sig = sign(&sd, b"x");
        // S + L is the classic malleated signature.
        let l: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut mall = sig;
        let mut carry = 0u16;
        for i in 0..32 {
            let v = u16::from(sig[32 + i]) + u16::from(l[i]) + carry;
            mall[32 + i] = v as u8;
            carry = v >> 8;
        }
        assert!(!verify(&pk, b"x", &mall));
        let mut out = [true];
        verify_batch(&[pk], &[b"x"], &[mall], &mut out);
        assert!(!out[0]);
    }

    #[test]
    fn small_order_key_is_rejected_in_both_paths() {
        // Identity key with an all-zero signature: passes the bare equation.
        let mut id = [0u8; 32];
        id[0] = 1;
        let mut sig = [0u8; 64];
        sig[0] = 1;
        assert!(!verify(&id, b"anything", &sig));
        let mut out = [true];
        verify_batch(&[id], &[b"anything"], &[sig], &mut out);
        assert!(!out[0]);
    }

    /// A key with a torsion component: valid under the cofactored rule and
    /// usually rejected by a cofactorless check (dalek's `verify_strict`);
    /// the batch equation is cofactored, so it accepts them too.
    #[test]
    fn mixed_order_key_is_valid_in_both_paths() {
        use curve25519_dalek::constants::ED25519_BASEPOINT_POINT as B;
        use ed25519_dalek::{Signature, VerifyingKey};
        let t = EIGHT_TORSION[1];
        let (mut keys, mut msgs, mut sigs) = (Vec::new(), Vec::new(), Vec::new());
        let mut cofactorless_rejects = 0;
        for i in 0u64..24 {
            let a = Scalar::from(1000 + i);
            let r = Scalar::from(77 + 3 * i);
            let pk = (a * B + t).compress().to_bytes();
            let r_enc = (r * B).compress().to_bytes();
            let msg = format!("torsion {i}").into_bytes();
            let s = r + challenge(&r_enc, &pk, &msg) * a;
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice(&r_enc);
            sig[32..].copy_from_slice(s.as_bytes());
            assert!(verify(&pk, &msg, &sig), "item {i}");
            let vk = VerifyingKey::from_bytes(&pk).unwrap();
            if vk
                .verify_strict(&msg, &Signature::from_bytes(&sig))
                .is_err()
            {
                cofactorless_rejects += 1;
            }
            keys.push(pk);
            msgs.push(msg);
            sigs.push(sig);
        }
        assert!(cofactorless_rejects > 0);
        let items: Vec<Prepared> = keys
            .iter()
            .zip(&msgs)
            .zip(&sigs)
            .map(|((k, m), s)| prepare(k, m, s, None).unwrap())
            .map(|mut p| {
                p.r = CompressedEdwardsY(p.r_enc).decompress().unwrap();
                p
            })
            .collect();
        assert!(equation_holds(&items.iter().collect::<Vec<_>>()));
        let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
        let mut out = vec![false; keys.len()];
        verify_batch(&keys, &refs, &sigs, &mut out);
        assert!(out.iter().all(|&o| o));
    }

    #[test]
    fn batch_agrees_with_single_with_bad_items_mixed_in() {
        let n = 1500;
        let seeds: Vec<[u8; 32]> = (0..n)
            .map(|i| {
                let mut s = [0u8; 32];
                s[..8].copy_from_slice(&(i as u64).to_le_bytes());
                s
            })
            .collect();
        let keys: Vec<[u8; 32]> = seeds.iter().map(public_key).collect();
        let msgs: Vec<Vec<u8>> = (0..n)
            .map(|i| format!("reading {i}").into_bytes())
            .collect();
        let good: Vec<[u8; 64]> = seeds.iter().zip(&msgs).map(|(s, m)| sign(s, m)).collect();
        let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
        // Sparse bad items (bisection), dense ones (single checks), and one.
        for step in [97, 3, 1499] {
            let mut sigs = good.clone();
            for i in (0..n).step_by(step) {
                sigs[i][5] ^= 0x40;
            }
            let mut out = vec![false; n];
            verify_batch(&keys, &refs, &sigs, &mut out);
            for i in 0..n {
                assert_eq!(out[i], verify(&keys[i], &msgs[i], &sigs[i]), "item {i}");
                assert_eq!(out[i], i % step != 0, "step {step} item {i}");
            }
        }
    }

    /// One key signing many items enters the multiplication once; a bad
    /// signature among them is still found, and only it.
    #[test]
    fn repeated_keys_share_one_point_and_bad_items_are_found() {
        let seeds: Vec<[u8; 32]> = (0..5u8).map(seed).collect();
        let n = 700;
        let keys: Vec<[u8; 32]> = (0..n).map(|i| public_key(&seeds[i % 5])).collect();
        let msgs: Vec<Vec<u8>> = (0..n).map(|i| format!("share {i}").into_bytes()).collect();
        let mut sigs: Vec<[u8; 64]> = (0..n).map(|i| sign(&seeds[i % 5], &msgs[i])).collect();
        let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
        let mut out = vec![false; n];
        verify_batch(&keys, &refs, &sigs, &mut out);
        assert!(out.iter().all(|&o| o));
        // The same key with another key's signature: the equation must fail.
        sigs.swap(10, 15);
        sigs[333][40] ^= 2;
        verify_batch(&keys, &refs, &sigs, &mut out);
        for (i, &o) in out.iter().enumerate() {
            assert_eq!(o, verify(&keys[i], &msgs[i], &sigs[i]), "item {i}");
        }
        assert!(!out[333] && out[0] && out[n - 1]);
        assert_eq!(out.iter().filter(|&&o| !o).count(), 3);
    }

    /// Cutting a batch into more pieces changes no verdict.
    #[test]
    fn pieces_do_not_change_verdicts() {
        let sd = seed(9);
        let pk = public_key(&sd);
        let msgs: Vec<Vec<u8>> = (0..40).map(|i| vec![i as u8; 50]).collect();
        let sigs: Vec<[u8; 64]> = msgs.iter().map(|m| sign(&sd, m)).collect();
        let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
        let keys = vec![pk; 40];
        let mut a = vec![false; 40];
        let mut b = vec![true; 40];
        verify_batch(&keys, &refs, &sigs, &mut a);
        verify_batch_split(&keys, &refs, &sigs, &mut b, None, 3);
        assert_eq!(a, b);
        assert!(a.iter().all(|&o| o));
    }
}
