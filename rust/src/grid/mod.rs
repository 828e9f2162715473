//! The grid (SPEC §11): an exact AC power flow of a radial LV feeder over
//! many periods in one call.

pub mod complex;
pub mod sweep;
