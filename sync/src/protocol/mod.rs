//! The sync protocol: its wire format ([`wire`]), the scope policy hook ([`policy`]) and the
//! sans-I/O [`session::Session`]. `sync/PROTOCOL.md` documents the bytes.

pub mod policy;
pub mod session;
pub mod wire;
