//! Circulation: lending, renewing and returning, the rules behind them, and the exceptions
//! inbox for what merged events from several desks cannot settle.
//!
//! - [`policy`]: the reader category × item type matrix (a rule for every pair) and closed days.
//! - [`desk`]: the decisions a desk makes, as pure functions, so every replica decides alike
//!   offline.
//! - [`exceptions`]: double loans, returns without a loan, loans despite a block, each with
//!   its resolutions.
//! - [`holds`]: the reservation queue and who gets a returned copy.
//! - [`readers`]: reader cards, their query-table rows and the PIN of "my loans".
//! - [`collation`]: the Vietnamese sort key for people's names.
//! - [`library`]: copies, readers, loans and returns as store entities, and the [`library::Desk`]
//!   that turns a scan into a decision and a durable write.
//!
//! Status is derived, never stored: a copy is on loan because an open loan exists. Not yet
//! here: the desk's HTTP pages.

pub mod collation;
pub mod desk;
pub mod exceptions;
pub mod holds;
pub mod library;
pub mod policy;
pub mod readers;
