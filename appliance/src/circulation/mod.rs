//! Circulation: lending, renewing and returning, the rules behind them, and the exceptions
//! inbox for what merged events from several desks cannot settle.
//!
//! - [`policy`]: the reader category × item type matrix (a rule for every pair) and closed days.
//! - [`desk`]: the decisions a desk makes, as pure functions, so every replica decides alike
//!   offline.
//! - [`exceptions`]: double loans, returns without a loan, loans despite a block, each with
//!   its resolutions.
//!
//! Status is derived, never stored: a copy is on loan because an open loan exists. Not yet
//! here: loans, copies and readers as store entities with their query tables, and the desk's
//! HTTP pages.

pub mod desk;
pub mod exceptions;
pub mod policy;
