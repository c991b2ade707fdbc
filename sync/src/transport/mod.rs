//! Transports move a session's bytes and nothing more: they own sockets, buffers and timeouts;
//! the [`crate::Session`] owns every decision.
//!
//! - [`tcp`]: tokio TCP, for LAN, internet and PPP links; one-shot dial and a listener.
//! - [`memory`]: two sessions joined in-process with injected faults, for deterministic tests.
//!
//! File bundles are in [`crate::bundle`]: a file is not a conversation.

pub mod memory;
pub mod serial;
pub mod tcp;
