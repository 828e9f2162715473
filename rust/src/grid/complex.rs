//! The few complex-number operations the sweep needs (no dependency).

use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub};

/// A complex number, `re + j·im`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct C64 {
    pub re: f64,
    pub im: f64,
}

impl C64 {
    pub const ZERO: C64 = C64 { re: 0.0, im: 0.0 };
    pub const ONE: C64 = C64 { re: 1.0, im: 0.0 };

    pub const fn new(re: f64, im: f64) -> Self {
        Self { re, im }
    }

    pub fn conj(self) -> Self {
        Self::new(self.re, -self.im)
    }

    /// |z|².
    pub fn norm_sqr(self) -> f64 {
        self.re.mul_add(self.re, self.im * self.im)
    }

    /// |z|, without overflow for large parts.
    pub fn abs(self) -> f64 {
        self.re.hypot(self.im)
    }

    /// The argument in degrees.
    pub fn arg_deg(self) -> f64 {
        self.im.atan2(self.re).to_degrees()
    }

    pub fn is_finite(self) -> bool {
        self.re.is_finite() && self.im.is_finite()
    }
}

impl Add for C64 {
    type Output = C64;
    fn add(self, o: C64) -> C64 {
        C64::new(self.re + o.re, self.im + o.im)
    }
}

// f64 arithmetic never panics, in any build: an overflow is ±inf, and the sweep
// reports a period whose numbers stop being finite as unconverged (sweep.rs).
impl AddAssign for C64 {
    fn add_assign(&mut self, o: C64) {
        self.re += o.re;
        self.im += o.im;
    }
}

impl Sub for C64 {
    type Output = C64;
    fn sub(self, o: C64) -> C64 {
        C64::new(self.re - o.re, self.im - o.im)
    }
}

impl Neg for C64 {
    type Output = C64;
    fn neg(self) -> C64 {
        C64::new(-self.re, -self.im)
    }
}

impl Mul for C64 {
    type Output = C64;
    fn mul(self, o: C64) -> C64 {
        C64::new(
            self.re.mul_add(o.re, -(self.im * o.im)),
            self.re.mul_add(o.im, self.im * o.re),
        )
    }
}

impl Div for C64 {
    type Output = C64;
    fn div(self, o: C64) -> C64 {
        let d = o.norm_sqr();
        C64::new(
            self.re.mul_add(o.re, self.im * o.im) / d,
            self.im.mul_add(o.re, -(self.re * o.im)) / d,
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic() {
        let a = C64::new(1.0, 2.0);
        let b = C64::new(3.0, -1.0);
        assert_eq!(a * b, C64::new(5.0, 5.0));
        let q = (a * b) / b;
        assert!((q - a).abs() < 1e-15);
        assert_eq!(a.conj(), C64::new(1.0, -2.0));
        assert_eq!((a + b) - b, a);
        assert!((C64::new(0.0, 1.0).arg_deg() - 90.0).abs() < 1e-12);
    }
}
