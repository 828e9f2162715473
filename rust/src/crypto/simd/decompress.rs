//! Edwards point decompression, eight points at a time (AVX-512 IFMA).
//!
//! A batch of signatures needs every R as a curve point: a square root in
//! GF(2^255 − 19) per signature, about 250 field squarings. curve25519-dalek
//! does them one point at a time on 64-bit integers (`CompressedEdwardsY::
//! decompress`, 4.4 µs a point here), which made them the largest cost of a
//! block check once the multiscalar part ran on IFMA (BENCHMARKS.md §5.4).
//! Here the same computation (dalek's `sqrt_ratio_i` and the same
//! exponentiation chain) runs on eight points side by side: each limb of a
//! field element is one 512-bit vector of eight lanes, and the 52-bit
//! multiply-adds of AVX-512 IFMA form the products.
//!
//! The result must be a dalek `EdwardsPoint`, whose coordinates are private.
//! `assemble` builds it from the four coordinates by reinterpreting 20 `u64`
//! words. On first use the basepoint's words are compared with its known
//! coordinates (integers only), then a self-test compares that path with
//! dalek's own decompression on points of every kind; if anything differs
//! (another dalek layout) or the CPU lacks IFMA, `decompress_many` uses dalek's
//! `decompress` for every point. Tests compare both paths point by point, and
//! show that a layout other than this one is refused and the fallback gives
//! dalek's points (docs/ed25519.md, "Dependency policy").

// Field elements are fixed-size arrays indexed by loop counters below their
// length; no index here can be out of bounds.
#![allow(clippy::indexing_slicing)]

use std::sync::OnceLock;

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};

/// A field element in radix 2^51, limbs loosely reduced (each < 2^52).
type Limbs = [u64; 5];

const MASK51: u64 = (1 << 51) - 1;

/// The curve constant d, and sqrt(−1), canonical (dalek's values).
const EDWARDS_D: Limbs = [
    929_955_233_495_203,
    466_365_720_129_213,
    1_662_059_464_998_953,
    2_033_849_074_728_123,
    1_442_794_654_840_575,
];
const SQRT_M1: Limbs = [
    1_718_705_420_411_056,
    234_908_883_556_509,
    2_233_514_472_574_048,
    2_117_202_627_021_982,
    765_476_049_583_133,
];
const ONE: Limbs = [1, 0, 0, 0, 0];

/// dalek's `FieldElement51::from_bytes`: the low 255 bits as five 51-bit limbs.
fn from_bytes(b: &[u8; 32]) -> Limbs {
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(b.get(at..at + 8).unwrap_or(&[0; 8]));
        u64::from_le_bytes(w)
    };
    [
        word(0) & MASK51,
        (word(6) >> 3) & MASK51,
        (word(12) >> 6) & MASK51,
        (word(19) >> 1) & MASK51,
        (word(24) >> 12) & MASK51,
    ]
}

/// Carry so that every limb is < 2^51 (+ a small carry into limb 0).
fn carry(mut l: Limbs) -> Limbs {
    for i in 0..4 {
        let c = l[i] >> 51;
        l[i] &= MASK51;
        l[i + 1] += c;
    }
    let c = l[4] >> 51;
    l[4] &= MASK51;
    l[0] += 19 * c;
    l
}

/// The canonical representative (value < p, limbs < 2^51) of loosely reduced limbs.
fn canonical(l: Limbs) -> Limbs {
    let mut l = carry(carry(l));
    // q = 1 exactly when the value is ≥ p: adding 19 carries out of bit 255.
    let mut q = (l[0] + 19) >> 51;
    for limb in l.iter().skip(1) {
        q = (limb + q) >> 51;
    }
    l[0] += 19 * q;
    for i in 0..4 {
        l[i + 1] += l[i] >> 51;
        l[i] &= MASK51;
    }
    l[4] &= MASK51;
    l
}

/// −x for canonical x, canonical.
fn negate(x: Limbs) -> Limbs {
    // 2p − x limb by limb needs no borrow: every limb of 2p is ≥ 2^52 − 38.
    let two_p = [
        (MASK51 - 18) * 2,
        MASK51 * 2,
        MASK51 * 2,
        MASK51 * 2,
        MASK51 * 2,
    ];
    canonical([
        two_p[0] - x[0],
        two_p[1] - x[1],
        two_p[2] - x[2],
        two_p[3] - x[3],
        two_p[4] - x[4],
    ])
}

/// An EdwardsPoint from its extended coordinates (X : Y : Z : T), canonical limbs.
#[allow(unsafe_code)]
fn assemble(x: Limbs, y: Limbs, z: Limbs, t: Limbs) -> EdwardsPoint {
    let words: [Limbs; 4] = [x, y, z, t];
    // SAFETY: `EdwardsPoint` (curve25519-dalek 5.0.x, see Cargo.toml) is
    // four `FieldElement51`, each a `[u64; 5]`: 160 bytes of plain integers
    // with no invalid bit patterns, so any 20 words are a valid value
    // (`transmute` also refuses to compile if the sizes differ). Which word
    // is which coordinate is not guaranteed by Rust for a `repr(Rust)`
    // struct; `fast_path_agrees` checks it on first use and, if it is not
    // X, Y, Z, T in that order, `assemble` is never used.
    unsafe { std::mem::transmute::<[Limbs; 4], EdwardsPoint>(words) }
}

/// Finish one point from the vector stage's outputs (dalek's `sqrt_ratio_i`
/// and `decompress::step_2`). All inputs are loosely reduced limbs.
struct Lane {
    u: Limbs,
    neg_u: Limbs,
    neg_u_i: Limbs,
    r: Limbs,
    r_i: Limbs,
    check: Limbs,
}

/// x, or `None` if y is not the y coordinate of a curve point.
fn finish_x(l: &Lane, sign: bool) -> Option<Limbs> {
    let check = canonical(l.check);
    let correct = check == canonical(l.u);
    let flipped = check == canonical(l.neg_u);
    let flipped_i = check == canonical(l.neg_u_i);
    if !(correct || flipped) {
        return None;
    }
    let mut r = if flipped || flipped_i {
        canonical(l.r_i)
    } else {
        canonical(l.r)
    };
    if r[0] & 1 == 1 {
        r = negate(r);
    }
    Some(if sign { negate(r) } else { r })
}

#[cfg(target_arch = "x86_64")]
mod ifma {
    //! The vector stage: eight field elements per `[__m512i; 5]`.
    use super::{Lane, Limbs, EDWARDS_D, MASK51, ONE, SQRT_M1};
    use std::arch::x86_64::*;

    type Fe = [__m512i; 5];

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn splat(c: &Limbs) -> Fe {
        c.map(|w| _mm512_set1_epi64(w as i64))
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    #[allow(unsafe_code)]
    fn to_lanes(v: __m512i) -> [u64; 8] {
        // SAFETY: __m512i and [u64; 8] are both 64 bytes of plain integers.
        unsafe { std::mem::transmute::<__m512i, [u64; 8]>(v) }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn load(lanes: &[Limbs; 8]) -> Fe {
        let limb = |k: usize| {
            let w = |j: usize| lanes[j][k] as i64;
            _mm512_set_epi64(w(7), w(6), w(5), w(4), w(3), w(2), w(1), w(0))
        };
        [limb(0), limb(1), limb(2), limb(3), limb(4)]
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn store(a: &Fe) -> [Limbs; 8] {
        let cols = a.map(|v| to_lanes(v));
        let mut out = [[0u64; 5]; 8];
        for (j, o) in out.iter_mut().enumerate() {
            for (k, c) in cols.iter().enumerate() {
                o[k] = c[j];
            }
        }
        out
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn times19(x: __m512i) -> __m512i {
        let x16 = _mm512_slli_epi64::<4>(x);
        let x2 = _mm512_slli_epi64::<1>(x);
        _mm512_add_epi64(_mm512_add_epi64(x16, x2), x)
    }

    /// Carry limbs (each < 2^63) down to < 2^51 + 19·2^12.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn carry(mut r: Fe) -> Fe {
        let m = _mm512_set1_epi64(MASK51 as i64);
        for i in 0..4 {
            let c = _mm512_srli_epi64::<51>(r[i]);
            r[i] = _mm512_and_si512(r[i], m);
            r[i + 1] = _mm512_add_epi64(r[i + 1], c);
        }
        let c = _mm512_srli_epi64::<51>(r[4]);
        r[4] = _mm512_and_si512(r[4], m);
        r[0] = _mm512_add_epi64(r[0], times19(c));
        r
    }

    /// Columns c[k] of weight 2^(51k), k < 10, each < 2^58, reduced mod p.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn reduce(c: [__m512i; 10]) -> Fe {
        // 2^255 ≡ 19: column k + 5 folds into column k (< 20·2^58 < 2^63).
        let r = [
            _mm512_add_epi64(c[0], times19(c[5])),
            _mm512_add_epi64(c[1], times19(c[6])),
            _mm512_add_epi64(c[2], times19(c[7])),
            _mm512_add_epi64(c[3], times19(c[8])),
            _mm512_add_epi64(c[4], times19(c[9])),
        ];
        carry(r)
    }

    /// a·b. IFMA splits each 104-bit product at bit 52: the low half has
    /// weight 2^(51(i+j)), the high half 2·2^(51(i+j+1)).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) fn mul(a: &Fe, b: &Fe) -> Fe {
        let z = _mm512_setzero_si512();
        let mut lo = [z; 10];
        let mut hi = [z; 10];
        for i in 0..5 {
            for j in 0..5 {
                lo[i + j] = _mm512_madd52lo_epu64(lo[i + j], a[i], b[j]);
                hi[i + j + 1] = _mm512_madd52hi_epu64(hi[i + j + 1], a[i], b[j]);
            }
        }
        let mut c = [z; 10];
        for k in 0..10 {
            c[k] = _mm512_add_epi64(lo[k], _mm512_slli_epi64::<1>(hi[k]));
        }
        reduce(c)
    }

    /// a², with each cross product formed once and doubled.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn square(a: &Fe) -> Fe {
        let z = _mm512_setzero_si512();
        let (mut dlo, mut dhi, mut xlo, mut xhi) = ([z; 10], [z; 10], [z; 10], [z; 10]);
        for i in 0..5 {
            dlo[2 * i] = _mm512_madd52lo_epu64(dlo[2 * i], a[i], a[i]);
            dhi[2 * i + 1] = _mm512_madd52hi_epu64(dhi[2 * i + 1], a[i], a[i]);
            for j in i + 1..5 {
                xlo[i + j] = _mm512_madd52lo_epu64(xlo[i + j], a[i], a[j]);
                xhi[i + j + 1] = _mm512_madd52hi_epu64(xhi[i + j + 1], a[i], a[j]);
            }
        }
        let mut c = [z; 10];
        for k in 0..10 {
            // diagonal lo + 2·diagonal hi + 2·cross lo + 4·cross hi
            let d = _mm512_add_epi64(dlo[k], _mm512_slli_epi64::<1>(dhi[k]));
            let x = _mm512_add_epi64(
                _mm512_slli_epi64::<1>(xlo[k]),
                _mm512_slli_epi64::<2>(xhi[k]),
            );
            c[k] = _mm512_add_epi64(d, x);
        }
        reduce(c)
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn pow2k(a: &Fe, k: u32) -> Fe {
        let mut x = square(a);
        for _ in 1..k {
            x = square(&x);
        }
        x
    }

    /// a + 16p − b (limbs of 16p ≥ 2^55 − 304 > any b limb), carried.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn sub(a: &Fe, b: &Fe) -> Fe {
        let p16 = [
            16 * (MASK51 - 18),
            16 * MASK51,
            16 * MASK51,
            16 * MASK51,
            16 * MASK51,
        ];
        let mut r = *a;
        for k in 0..5 {
            let t = _mm512_add_epi64(a[k], _mm512_set1_epi64(p16[k] as i64));
            r[k] = _mm512_sub_epi64(t, b[k]);
        }
        carry(r)
    }

    /// x^((p − 5)/8) = x^(2^252 − 3), dalek's chain (`pow22501`, `pow_p58`).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn pow_p58(x: &Fe) -> Fe {
        let t0 = square(x);
        let t1 = pow2k(&t0, 2);
        let t2 = mul(x, &t1);
        let t3 = mul(&t0, &t2);
        let t4 = square(&t3);
        let t5 = mul(&t2, &t4);
        let t7 = mul(&pow2k(&t5, 5), &t5);
        let t9 = mul(&pow2k(&t7, 10), &t7);
        let t11 = mul(&pow2k(&t9, 20), &t9);
        let t13 = mul(&pow2k(&t11, 10), &t7);
        let t15 = mul(&pow2k(&t13, 50), &t13);
        let t17 = mul(&pow2k(&t15, 100), &t15);
        let t19 = mul(&pow2k(&t17, 50), &t13);
        mul(x, &pow2k(&t19, 2))
    }

    /// The vector stage of decompressing eight y coordinates.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) fn stage(ys: &[Limbs; 8]) -> [Lane; 8] {
        let one = splat(&ONE);
        let y = load(ys);
        let yy = square(&y);
        let u = sub(&yy, &one);
        // d·y² + 1: the product's limbs are < 2^51 + 2^17, so + 1 stays < 2^52.
        let mut v = mul(&yy, &splat(&EDWARDS_D));
        v[0] = _mm512_add_epi64(v[0], one[0]);
        let v3 = mul(&square(&v), &v);
        let v7 = mul(&square(&v3), &v);
        let r = mul(&mul(&u, &v3), &pow_p58(&mul(&u, &v7)));
        let check = mul(&v, &square(&r));
        let zero = splat(&[0; 5]);
        let neg_u = sub(&zero, &u);
        let i = splat(&SQRT_M1);
        let neg_u_i = mul(&neg_u, &i);
        let r_i = mul(&r, &i);
        let [u, neg_u, neg_u_i, r, r_i, check] =
            [&u, &neg_u, &neg_u_i, &r, &r_i, &check].map(|v| store(v));
        std::array::from_fn(|j| Lane {
            u: u[j],
            neg_u: neg_u[j],
            neg_u_i: neg_u_i[j],
            r: r[j],
            r_i: r_i[j],
            check: check[j],
        })
    }

    /// x·y for eight lanes.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) fn mul_lanes(x: &[Limbs; 8], y: &[Limbs; 8]) -> [Limbs; 8] {
        store(&mul(&load(x), &load(y)))
    }
}

/// Eight points through the vector stage. Call only when the CPU has
/// AVX-512F and IFMA (`ifma_available`).
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
fn eight(encs: &[[u8; 32]; 8]) -> [Option<EdwardsPoint>; 8] {
    let ys: [Limbs; 8] = encs.map(|e| from_bytes(&e));
    // SAFETY: callers check `ifma_available()`, which ran
    // `is_x86_feature_detected!` for both features these functions enable.
    let lanes = unsafe { ifma::stage(&ys) };
    let xs: [Option<Limbs>; 8] =
        std::array::from_fn(|j| finish_x(&lanes[j], encs[j][31] >> 7 == 1));
    let x_or_zero = xs.map(|x| x.unwrap_or([0; 5]));
    // SAFETY: as above.
    let ts = unsafe { ifma::mul_lanes(&x_or_zero, &ys) };
    std::array::from_fn(|j| xs[j].map(|x| assemble(x, canonical(ys[j]), ONE, canonical(ts[j]))))
}

fn ifma_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512ifma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Does the vector path give dalek's points, exactly? Checked once per process.
fn fast_path_agrees() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| ifma_available() && layout_is_ours() && self_test())
}

/// Is an `EdwardsPoint` four radix-2^51 `[u64; 5]` in the order X, Y, Z, T?
/// Read off dalek's basepoint with integer comparisons only, so that a
/// different layout (another backend's limbs) never reaches dalek's
/// arithmetic through `assemble`.
#[allow(unsafe_code)]
fn layout_is_ours() -> bool {
    use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
    // SAFETY: the reverse of `assemble`: 160 bytes of plain integers read as
    // 20 u64 words (any bit pattern is a valid u64; sizes are checked by
    // `transmute` at compile time).
    let words = unsafe { std::mem::transmute::<EdwardsPoint, [Limbs; 4]>(ED25519_BASEPOINT_POINT) };
    is_basepoint_in_our_layout(&words)
}

/// Are these 20 words the basepoint as X, Y, Z, T in radix 2^51 (Z = 1)?
fn is_basepoint_in_our_layout(words: &[Limbs; 4]) -> bool {
    const B: [Limbs; 4] = [
        [
            1_738_742_601_995_546,
            1_146_398_526_822_698,
            2_070_867_633_025_821,
            562_264_141_797_630,
            587_772_402_128_613,
        ],
        [
            1_801_439_850_948_184,
            1_351_079_888_211_148,
            450_359_962_737_049,
            900_719_925_474_099,
            1_801_439_850_948_198,
        ],
        ONE,
        [
            1_841_354_044_333_475,
            16_398_895_984_059,
            755_974_180_946_558,
            900_171_276_175_154,
            1_821_297_809_914_039,
        ],
    ];
    *words == B
}

#[cfg(target_arch = "x86_64")]
fn self_test() -> bool {
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT as B, EIGHT_TORSION};
    use curve25519_dalek::scalar::Scalar;
    // Multiples of B, with torsion and negated, the torsion points, y = 0,
    // and y that are not on the curve (2, 3 are not; found by dalek below).
    let mut encs: Vec<[u8; 32]> = Vec::new();
    for k in 1u64..=24 {
        let p = Scalar::from(k * 7919 + 3) * B;
        encs.push(p.compress().to_bytes());
        encs.push((-p).compress().to_bytes());
        encs.push((p + EIGHT_TORSION[(k % 8) as usize]).compress().to_bytes());
    }
    encs.extend(EIGHT_TORSION.iter().map(|t| t.compress().to_bytes()));
    for y in 0u8..8 {
        let mut e = [0u8; 32];
        e[0] = y;
        encs.push(e);
        e[31] = 0x80;
        encs.push(e);
    }
    let dalek: Vec<Option<EdwardsPoint>> = encs
        .iter()
        .map(|e| CompressedEdwardsY(*e).decompress())
        .collect();
    let ours = vector_path(&encs);
    dalek.iter().zip(&ours).all(|(d, o)| match (d, o) {
        (None, None) => true,
        (Some(d), Some(o)) => {
            o.compress() == d.compress()
                && o == d
                && (o + B).compress() == (d + B).compress()
                && (o + o).compress() == (d + d).compress()
        }
        _ => false,
    })
}

#[cfg(not(target_arch = "x86_64"))]
fn self_test() -> bool {
    false
}

/// The vector path for every point (whole groups of eight; the tail padded).
#[cfg(target_arch = "x86_64")]
fn vector_path(encs: &[[u8; 32]]) -> Vec<Option<EdwardsPoint>> {
    let mut out = Vec::with_capacity(encs.len());
    for group in encs.chunks(8) {
        let mut block = [[0u8; 32]; 8];
        for (b, e) in block.iter_mut().zip(group) {
            *b = *e;
        }
        out.extend(eight(&block).into_iter().take(group.len()));
    }
    out
}

/// `CompressedEdwardsY(e).decompress()` for every encoding, eight at a time
/// on CPUs with AVX-512 IFMA (the same points, about 5× faster), one at a
/// time through dalek elsewhere.
pub fn decompress_many(encs: &[[u8; 32]]) -> Vec<Option<EdwardsPoint>> {
    decompress_gated(encs, encs.len() >= 8 && fast_path_agrees())
}

/// The vector path when `fast` (the checks passed), dalek's otherwise.
fn decompress_gated(encs: &[[u8; 32]], fast: bool) -> Vec<Option<EdwardsPoint>> {
    #[cfg(target_arch = "x86_64")]
    if fast {
        return vector_path(encs);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = fast;
    encs.iter()
        .map(|e| CompressedEdwardsY(*e).decompress())
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::ED25519_BASEPOINT_POINT as B;
    use curve25519_dalek::scalar::Scalar;

    #[test]
    fn the_vector_path_is_taken_here() {
        assert!(
            layout_is_ours(),
            "curve25519-dalek's EdwardsPoint layout changed"
        );
        // This machine has IFMA; elsewhere the test only checks the fallback.
        if ifma_available() {
            assert!(fast_path_agrees(), "the self-test must pass on IFMA CPUs");
        }
    }

    /// A dalek patch release that stores points differently (other field
    /// order, other limbs, another Z) fails the layout check, and the
    /// fallback then gives dalek's own points for every kind of encoding.
    #[test]
    fn another_layout_fails_closed_to_dalek() {
        // SAFETY: as in `layout_is_ours`.
        #[allow(unsafe_code)]
        let words = unsafe { std::mem::transmute::<EdwardsPoint, [Limbs; 4]>(B) };
        assert!(is_basepoint_in_our_layout(&words));
        let [x, y, z, t] = words;
        // The same integers, limbs carried differently (as a backend keeping
        // loosely reduced limbs would hold them).
        let recarried = |l: Limbs| [l[0] + (1 << 51), l[1] - 1, l[2], l[3], l[4]];
        let doubled = |l: Limbs| l.map(|w| w * 2);
        for other in [
            [y, x, z, t],
            [x, y, t, z],
            [t, x, y, z],
            [recarried(x), recarried(y), z, recarried(t)],
            [doubled(x), doubled(y), doubled(z), doubled(t)],
        ] {
            assert!(!is_basepoint_in_our_layout(&other));
        }
        let mut encs: Vec<[u8; 32]> = (0u64..40)
            .map(|k| (Scalar::from(k) * B).compress().to_bytes())
            .collect();
        encs.extend((0u8..24).map(|i| [i.wrapping_mul(37); 32]));
        let fallback = decompress_gated(&encs, false);
        for (e, f) in encs.iter().zip(&fallback) {
            assert_eq!(*f, CompressedEdwardsY(*e).decompress());
        }
        assert!(fallback.iter().filter(|p| p.is_none()).count() > 5);
        if fast_path_agrees() {
            assert_eq!(decompress_gated(&encs, true), fallback);
        }
    }

    #[test]
    fn same_points_as_dalek_for_random_encodings() {
        // Random 32-byte strings: about half are y coordinates of points.
        let mut encs = Vec::new();
        let mut seed = [7u8; 32];
        for _ in 0..4000 {
            seed = *blake3::hash(&seed).as_bytes();
            encs.push(seed);
        }
        for k in 0u64..1000 {
            encs.push((Scalar::from(k) * B).compress().to_bytes());
        }
        // y ≥ p (non-canonical) and y = p − 1, p, p + 1.
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        for d in 0u8..20 {
            let mut e = p;
            e[0] = 0xed_u8.wrapping_add(d);
            encs.push(e);
            e[31] |= 0x80;
            encs.push(e);
        }
        let ours = decompress_many(&encs);
        let mut points = 0;
        for (e, o) in encs.iter().zip(&ours) {
            let d = CompressedEdwardsY(*e).decompress();
            assert_eq!(d.is_some(), o.is_some(), "{e:?}");
            if let (Some(d), Some(o)) = (d, o) {
                points += 1;
                assert_eq!(d, *o);
                assert_eq!((d + B).compress(), (o + B).compress());
                assert_eq!(d.compress(), o.compress());
            }
        }
        assert!(points > 2500, "{points}");
    }

    #[test]
    fn field_helpers() {
        // canonical of p + 5 is 5; negate(0) = 0; x + (−x) = 0.
        let p_plus_5 = [MASK51 - 18 + 5, MASK51, MASK51, MASK51, MASK51];
        assert_eq!(canonical(p_plus_5), [5, 0, 0, 0, 0]);
        assert_eq!(negate([0; 5]), [0; 5]);
        let x = canonical(from_bytes(&[0x5a; 32]));
        let n = negate(x);
        let sum = canonical([
            x[0] + n[0],
            x[1] + n[1],
            x[2] + n[2],
            x[3] + n[3],
            x[4] + n[4],
        ]);
        assert_eq!(sum, [0; 5]);
    }

    /// The vector product against a 128-bit reference, on random limbs and on
    /// the largest limbs the bounds allow (every limb 2^52 − 1).
    #[cfg(target_arch = "x86_64")]
    #[test]
    #[allow(unsafe_code)]
    fn vector_mul_matches_a_reference() {
        if !ifma_available() {
            return;
        }
        fn reference(a: Limbs, b: Limbs) -> Limbs {
            let mut c = [0u128; 9];
            for i in 0..5 {
                for j in 0..5 {
                    c[i + j] += u128::from(a[i]) * u128::from(b[j]);
                }
            }
            let mut out = [0u64; 5];
            let mut carry = 0u128;
            for k in 0..5 {
                let fold = if k + 5 < 9 { 19 * c[k + 5] } else { 0 };
                let v = c[k] + fold + carry;
                out[k] = (v as u64) & MASK51;
                carry = v >> 51;
            }
            // carry < 2^80: fold it back in two steps.
            let folded = carry * 19;
            let lo = (folded as u64) & MASK51;
            let hi = (folded >> 51) as u64;
            out[0] += lo;
            out[1] += hi;
            canonical(carry_all(out))
        }
        fn carry_all(l: Limbs) -> Limbs {
            super::carry(super::carry(l))
        }
        let max = (1u64 << 52) - 1;
        let mut seed = [11u8; 32];
        let mut xs = [[max; 5]; 8];
        let mut ys = [[max; 5]; 8];
        for j in 2..8 {
            seed = *blake3::hash(&seed).as_bytes();
            xs[j] = from_bytes(&seed).map(|w| w << 1 | 1);
            seed = *blake3::hash(&seed).as_bytes();
            ys[j] = from_bytes(&seed);
        }
        ys[1] = [1, 0, 0, 0, 0];
        // SAFETY: IFMA checked above.
        let got = unsafe { ifma::mul_lanes(&xs, &ys) };
        for j in 0..8 {
            assert!(got[j].iter().all(|&w| w < 1 << 52), "lane {j} bounds");
            assert_eq!(canonical(got[j]), reference(xs[j], ys[j]), "lane {j}");
        }
    }
}
