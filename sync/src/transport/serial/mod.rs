//! Sync over a serial line: a null-modem cable, a transparent radio, or a Hayes modem on a
//! phone line, at 9,600–115,200 baud, slow, noisy and cut without warning.
//!
//! - [`frame`]: COBS frames with a CRC-32, so a reader resynchronises at the next frame after
//!   any noise.
//! - [`link`]: the sans-I/O reliable stream (sliding window, selective acknowledgement,
//!   retransmission timed from the line, circuits that resume after a dropped call).
//! - [`modem`]: Hayes AT commands: set up, dial, answer, hang up.
//! - [`port`]: opening the device exclusively, with errors a librarian can act on.
//! - [`call`]: a sync session over the line, call after call: the caller redials, the
//!   answerer answers; both resume the circuit.
//!
//! The authenticated sync session runs over the link's stream unchanged, exactly as over TCP.

pub mod call;
pub mod frame;
pub mod link;
pub mod modem;
pub mod port;

pub use call::{CallPolicy, SerialError, SerialLine, SerialReport, answer_calls, sync_over_serial};
pub use modem::{ModemError, ModemSettings};
pub use port::{Device, PortError};
