//! The continuous double auction (SPEC §4): the order book and its level ladder.

pub mod book;
mod ladder;
