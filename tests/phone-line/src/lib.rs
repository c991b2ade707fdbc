//! A bad serial line between two pseudo-terminals, and optionally a Hayes modem at each end
//! and a phone call between them: the instrument the serial transport's tests talk to through
//! real serial I/O.
//!
//! - `config`: what the command line asked for, checked.
//! - `wire`: one direction of the line: pacing at the baud rate, delay, noise.
//! - `hayes`: the AT command language, parsed; result codes as text.
//! - `exchange`: both wires, cuts, and the two modems and their call; sans-I/O.
//! - `port`: a pty pair in raw mode behind a symlink, its slave held open.
//! - `serve`: the `poll` loop between the ptys and the exchange.
//! - `stats`: the counters as JSON, written atomically.
//!
//! It knows nothing of the sync protocol or the appliance, and never looks at the bytes it
//! carries except to find `+++` and AT commands in modem mode.

pub mod config;
pub mod exchange;
pub mod hayes;
pub mod port;
pub mod serve;
pub mod stats;
pub mod wire;
