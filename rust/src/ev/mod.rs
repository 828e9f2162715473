//! EV scheduling (SPEC §6): one round's exact choice.

pub mod choice;
