//! ENTSO-E / OPSD files: gunzip, the CSV table reader, the calendar and the
//! resampler.

pub mod civil;
pub mod inflate;
pub mod series;
pub mod table;
