//! The serial link's frames: what one side of a line tells the other, and how it survives
//! noise.
//!
//! A frame is `kind u8 ‖ body ‖ CRC-32 (IEEE, little endian) of kind and body`, COBS-encoded
//! and written between two 0x00 bytes. COBS leaves no 0x00 inside a frame, so after any garbage (a
//! flipped bit, a lost byte, a modem's "NO CARRIER" text) the reader starts afresh at the
//! next 0x00: at most the damaged frame is lost, and its CRC makes sure it is never believed.

use crate::protocol::wire::{Reader, put_varint};

/// The longest decoded frame we accept: a DATA frame's payload plus headers, with room to
/// spare. Anything longer is noise that happened to contain no 0x00.
pub const MAX_FRAME: usize = 2048;

/// What one frame says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// Opens or resumes a circuit after each (re)connection. `received` is how many bytes of
    /// the circuit's stream the sender holds, contiguous from the start; `fresh` says the
    /// sender has no earlier state for this circuit.
    Hello {
        circuit: [u8; 8],
        fresh: bool,
        received: u64,
    },
    /// Bytes of the stream, starting at `offset`.
    Data { offset: u64, bytes: Vec<u8> },
    /// The sender holds the stream contiguously up to `received`, and also these later
    /// ranges `[start, end)` (selective acknowledgement), so only the holes travel again.
    Ack {
        received: u64,
        ranges: Vec<(u64, u64)>,
    },
}

const HELLO: u8 = 1;
const DATA: u8 = 2;
const ACK: u8 = 3;
/// At most this many selective ranges in one ACK: enough for any window we keep.
pub const MAX_RANGES: usize = 8;

impl Frame {
    /// The frame as it goes on the line: COBS-encoded, ending in 0x00.
    pub fn encode(&self) -> Vec<u8> {
        let mut raw = Vec::with_capacity(16);
        match self {
            Frame::Hello {
                circuit,
                fresh,
                received,
            } => {
                raw.push(HELLO);
                raw.extend_from_slice(circuit);
                raw.push(u8::from(*fresh));
                put_varint(&mut raw, *received);
            }
            Frame::Data { offset, bytes } => {
                raw.push(DATA);
                put_varint(&mut raw, *offset);
                raw.extend_from_slice(bytes);
            }
            Frame::Ack { received, ranges } => {
                raw.push(ACK);
                put_varint(&mut raw, *received);
                let ranges = &ranges[..ranges.len().min(MAX_RANGES)];
                raw.push(ranges.len() as u8);
                // Relative to `received` and to the previous range: small numbers, few bytes.
                let mut base = *received;
                for &(start, end) in ranges {
                    put_varint(&mut raw, start.saturating_sub(base));
                    put_varint(&mut raw, end.saturating_sub(start));
                    base = end;
                }
            }
        }
        let crc = crc32fast::hash(&raw);
        raw.extend_from_slice(&crc.to_le_bytes());
        // A delimiter on both sides: whatever noise came before (a modem's message, bytes of
        // a frame cut off by a dropped call) ends here instead of spoiling this frame.
        let mut line = Vec::with_capacity(raw.len() + raw.len() / 254 + 3);
        line.push(0);
        line.extend(cobs::encode_vec(&raw));
        line.push(0);
        line
    }

    /// Parses one frame's bytes between delimiters; `None` for anything damaged.
    pub fn decode(encoded: &[u8]) -> Option<Frame> {
        if encoded.is_empty() || encoded.len() > MAX_FRAME + MAX_FRAME / 254 + 8 {
            return None;
        }
        let raw = cobs::decode_vec(encoded).ok()?;
        if raw.len() < 5 {
            return None;
        }
        let (body, crc) = raw.split_at(raw.len() - 4);
        if crc32fast::hash(body).to_le_bytes() != crc {
            return None;
        }
        let mut reader = Reader { buf: &body[1..] };
        let frame = match body[0] {
            HELLO => {
                let mut circuit = [0u8; 8];
                circuit.copy_from_slice(reader.take(8).ok()?);
                let fresh = reader.u8().ok()? != 0;
                let received = reader.varint().ok()?;
                Frame::Hello {
                    circuit,
                    fresh,
                    received,
                }
            }
            DATA => {
                let offset = reader.varint().ok()?;
                Frame::Data {
                    offset,
                    bytes: reader.rest().to_vec(),
                }
            }
            ACK => {
                let received = reader.varint().ok()?;
                let count = usize::from(reader.u8().ok()?).min(MAX_RANGES);
                let mut ranges = Vec::with_capacity(count);
                let mut base = received;
                for _ in 0..count {
                    let start = base.checked_add(reader.varint().ok()?)?;
                    let end = start.checked_add(reader.varint().ok()?)?;
                    ranges.push((start, end));
                    base = end;
                }
                Frame::Ack { received, ranges }
            }
            _ => return None,
        };
        if !reader.buf.is_empty() && !matches!(frame, Frame::Data { .. }) {
            return None;
        }
        Some(frame)
    }
}

/// Cuts the bytes read from a line into frames, whatever arrives between them.
#[derive(Default)]
pub struct Deframer {
    pending: Vec<u8>,
    /// Set after an over-long run: skip to the next delimiter.
    skipping: bool,
    /// Bytes that belonged to no good frame (noise, modem messages, damaged frames).
    pub discarded_bytes: u64,
    pub damaged_frames: u64,
}

impl Deframer {
    /// Feeds bytes from the line and returns the good frames they completed.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Frame> {
        let mut frames = Vec::new();
        for &byte in bytes {
            if byte != 0 {
                if self.skipping {
                    self.discarded_bytes += 1;
                } else if self.pending.len() > MAX_FRAME + MAX_FRAME / 254 + 8 {
                    self.discarded_bytes += self.pending.len() as u64 + 1;
                    self.pending.clear();
                    self.skipping = true;
                } else {
                    self.pending.push(byte);
                }
                continue;
            }
            self.skipping = false;
            if self.pending.is_empty() {
                continue;
            }
            match Frame::decode(&self.pending) {
                Some(frame) => frames.push(frame),
                None => {
                    self.damaged_frames += 1;
                    self.discarded_bytes += self.pending.len() as u64 + 1;
                }
            }
            self.pending.clear();
        }
        frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> Vec<Frame> {
        vec![
            Frame::Hello {
                circuit: [1, 0, 3, 0, 5, 6, 7, 0],
                fresh: true,
                received: 123_456,
            },
            Frame::Data {
                offset: 70_000,
                bytes: (0..=255u8).chain(0..40).collect(),
            },
            Frame::Data {
                offset: 0,
                bytes: vec![],
            },
            Frame::Ack {
                received: 900,
                ranges: vec![(1000, 1200), (1500, 1501)],
            },
        ]
    }

    #[test]
    fn frames_round_trip_and_contain_no_zero_but_the_delimiters() {
        for frame in samples() {
            let line = frame.encode();
            assert_eq!((line[0], line[line.len() - 1]), (0, 0));
            assert!(!line[1..line.len() - 1].contains(&0));
            let mut deframer = Deframer::default();
            assert_eq!(deframer.push(&line), vec![frame]);
        }
    }

    #[test]
    fn the_reader_recovers_at_the_next_frame_after_noise() {
        let frames = samples();
        let mut line = b"\r\nNO CARRIER\r\n".to_vec();
        for frame in &frames {
            line.extend(frame.encode());
            line.extend_from_slice(&[0x55, 0xAA, 0x00, 0x13]);
        }
        let mut deframer = Deframer::default();
        // Fed one byte at a time, as a slow line delivers it.
        let got: Vec<Frame> = line.iter().flat_map(|b| deframer.push(&[*b])).collect();
        assert_eq!(got, frames);
        assert!(deframer.damaged_frames >= 4);
    }

    #[test]
    fn every_single_damaged_byte_is_caught() {
        let line = samples()[1].encode();
        for at in 1..line.len() - 1 {
            for bit in 0..8 {
                let mut damaged = line.clone();
                damaged[at] ^= 1 << bit;
                let mut deframer = Deframer::default();
                assert!(
                    deframer.push(&damaged).is_empty(),
                    "a flipped bit at {at} went through"
                );
                // And a dropped byte.
                let mut dropped = line.clone();
                dropped.remove(at);
                assert!(Deframer::default().push(&dropped).is_empty());
            }
        }
    }
}
