//! The sync protocol: its wire format ([`wire`]), the scope policy hook ([`policy`]), the
//! sans-I/O [`session::Session`] and the authenticated, encrypted [`secure::SecureSession`]
//! every transport runs it inside. `sync/PROTOCOL.md` documents the bytes.

pub mod pacing;
pub mod policy;
pub mod resume;
pub mod secure;
pub mod session;
pub mod wire;
