//! Sync over a serial line: a null-modem cable, a transparent radio, or a Hayes modem on a
//! phone line, at 9,600–115,200 baud, slow, noisy and cut without warning.
//!
//! - [`frame`]: COBS frames with a CRC-32, so a reader resynchronises at the next frame after
//!   any noise.
//! - [`link`]: the sans-I/O reliable stream (sliding window, selective acknowledgement,
//!   retransmission timed from the line, circuits that resume after a dropped call).
//!
//! The authenticated sync session runs over the link's stream unchanged, exactly as over TCP.

pub mod frame;
pub mod link;
