//! How chunk bytes are kept on disk: zstd when it saves space, raw otherwise. Tiny chunks (a
//! single 100-byte change) do not shrink under zstd, snapshots usually do.

use super::StoreError;

pub(crate) const RAW: i64 = 0;
pub(crate) const ZSTD: i64 = 1;

/// zstd level 3: the library's default, a good size/speed balance on a Pi.
const LEVEL: i32 = 3;

pub(crate) fn encode_chunk(bytes: &[u8]) -> (i64, Vec<u8>) {
    if bytes.len() >= 256
        && let Ok(compressed) = zstd::bulk::compress(bytes, LEVEL)
        && compressed.len() < bytes.len()
    {
        return (ZSTD, compressed);
    }
    (RAW, bytes.to_vec())
}

pub(crate) fn decode_chunk(codec: i64, data: &[u8]) -> Result<Vec<u8>, StoreError> {
    match codec {
        RAW => Ok(data.to_vec()),
        ZSTD => zstd::stream::decode_all(data)
            .map_err(|e| StoreError::Corrupt(format!("a chunk does not decompress: {e}"))),
        other => Err(StoreError::Corrupt(format!("unknown chunk codec {other}"))),
    }
}
