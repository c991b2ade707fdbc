//! Who this device is, and whether its database is still where it was born.
//!
//! A device is an Ed25519 key made at first start; its [`DeviceId`] is the first 16 bytes of the
//! SHA-256 of the public key, and doubles as the automerge actor id of everything it writes.
//!
//! A copied SD card or a restored backup must not keep writing as the device it was copied from:
//! both copies would number their changes alike and peers would think they already hold the
//! second copy's work. So the store remembers a [`fingerprint`] of where its file lives (file
//! inode, path, machine id, board serial); when the fingerprint no longer matches, the store
//! takes a fresh identity for its new writes. This module computes keys and fingerprints; it
//! does not store them (the store's SQL does).

use std::fmt;
use std::path::Path;

use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};

/// The stable id of a device: 16 bytes derived from its public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(pub [u8; 16]);

impl DeviceId {
    pub fn from_public_key(public: &[u8; 32]) -> DeviceId {
        let digest = Sha256::digest(public);
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        DeviceId(id)
    }

    pub fn from_slice(bytes: &[u8]) -> Option<DeviceId> {
        <[u8; 16]>::try_from(bytes).ok().map(DeviceId)
    }

    /// Parses the 32-hex-digit form printed by `tusach id`.
    pub fn parse_hex(text: &str) -> Option<DeviceId> {
        let bytes = hex::decode(text.trim()).ok()?;
        DeviceId::from_slice(&bytes)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({})", &self.to_hex()[..8])
    }
}

/// The device's private key. Kept in the store's database on the data partition.
pub struct DeviceKey {
    signing: SigningKey,
}

impl DeviceKey {
    /// Makes a new key from the operating system's random source.
    pub fn generate() -> Result<DeviceKey, getrandom::Error> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)?;
        Ok(DeviceKey::from_secret(&secret))
    }

    pub fn from_secret(secret: &[u8; 32]) -> DeviceKey {
        DeviceKey {
            signing: SigningKey::from_bytes(secret),
        }
    }

    pub fn secret_bytes(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    pub fn public_bytes(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    pub fn device_id(&self) -> DeviceId {
        DeviceId::from_public_key(&self.public_bytes())
    }

    /// The key's X25519 form, the static key of Noise handshakes: one key per device, which
    /// its certificate names and every handshake proves (see `protocol::secure`).
    pub fn x25519_secret(&self) -> [u8; 32] {
        self.signing.to_scalar_bytes()
    }

    /// For signing certificates, revocations and bundles.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }
}

/// A digest of where a database file lives. It changes when the file is copied or restored
/// (new inode or path), when the data moves to another machine (machine id), or when a whole SD
/// card is cloned into another board (board serial, which a byte-for-byte clone cannot copy).
/// Moving the file with `mv` on the same file system keeps the inode but changes the path, so it
/// also counts as a move: a fresh identity costs nothing but a new actor id.
pub fn fingerprint(database: &Path) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"tusach-fingerprint-v1\0");
    if let Ok(meta) = std::fs::metadata(database) {
        use std::os::unix::fs::MetadataExt;
        hasher.update(meta.dev().to_le_bytes());
        hasher.update(meta.ino().to_le_bytes());
    }
    let canonical = std::fs::canonicalize(database).unwrap_or_else(|_| database.to_path_buf());
    hasher.update(canonical.as_os_str().as_encoded_bytes());
    hasher.update(b"\0");
    for source in [
        "/etc/machine-id",
        // Raspberry Pi boards expose their serial number through the device tree.
        "/sys/firmware/devicetree/base/serial-number",
        "/sys/class/dmi/id/product_uuid",
    ] {
        if let Ok(bytes) = std::fs::read(source) {
            hasher.update(source.as_bytes());
            hasher.update(&bytes);
        }
    }
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_id_is_derived_from_the_public_key() {
        let key = DeviceKey::from_secret(&[7u8; 32]);
        let again = DeviceKey::from_secret(&key.secret_bytes());
        assert_eq!(key.device_id(), again.device_id());
        assert_ne!(
            key.device_id(),
            DeviceKey::from_secret(&[8u8; 32]).device_id()
        );
        let hex = key.device_id().to_hex();
        assert_eq!(DeviceId::parse_hex(&hex), Some(key.device_id()));
        assert_eq!(DeviceId::parse_hex("zz"), None);
    }

    #[test]
    fn a_copied_file_has_another_fingerprint() {
        let dir = tempfile::tempdir().expect("tempdir");
        let original = dir.path().join("a.db");
        std::fs::write(&original, b"x").expect("write");
        let copy = dir.path().join("b.db");
        std::fs::copy(&original, &copy).expect("copy");
        assert_eq!(fingerprint(&original), fingerprint(&original));
        assert_ne!(fingerprint(&original), fingerprint(&copy));
    }
}
