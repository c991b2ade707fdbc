//! Enrolment codes: how a new device and a hub prove to each other that a person with the
//! code stands between them.
//!
//! The hub makes a one-time code (60 random bits, shown as `XXXX-XXXX-XXXX` in Crockford's
//! base 32 and as a QR) for a role, label and scopes its staff chose. The new device dials the
//! hub with a Noise handshake (no certificate yet) and sends `HMAC(code, "device" ‖ handshake
//! hash ‖ device key)`; the hub finds the pending code that matches, signs a certificate for
//! the key the handshake proved, and answers with `HMAC(code, "hub" ‖ handshake hash ‖ grant)`
//! so the device knows the grant comes from the holder of the same code. Binding both proofs
//! to the handshake hash means a relay in the middle holds another handshake and cannot reuse
//! them. A code works once, for fifteen minutes by default, and five wrong tries end it.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Crockford's base 32: no I, L, O or U, so a code read aloud or typed is hard to get wrong.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
pub const CODE_CHARS: usize = 12;

/// A one-time enrolment code in its canonical form (12 characters, no dashes).
#[derive(Clone, PartialEq, Eq)]
pub struct EnrolmentCode(String);

impl std::fmt::Debug for EnrolmentCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnrolmentCode(…)")
    }
}

impl EnrolmentCode {
    pub fn generate() -> Result<EnrolmentCode, getrandom::Error> {
        let mut random = [0u8; CODE_CHARS];
        getrandom::fill(&mut random)?;
        Ok(EnrolmentCode(
            random
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
                .collect(),
        ))
    }

    /// Reads a code as a person typed it: any case, with or without dashes and spaces, O for
    /// 0 and I or L for 1.
    pub fn parse(typed: &str) -> Option<EnrolmentCode> {
        let mut code = String::with_capacity(CODE_CHARS);
        for c in typed.chars() {
            let c = match c.to_ascii_uppercase() {
                '-' | ' ' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return None;
            }
            code.push(c);
        }
        (code.len() == CODE_CHARS).then_some(EnrolmentCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `XXXX-XXXX-XXXX`, for people.
    pub fn display(&self) -> String {
        let c = &self.0;
        format!("{}-{}-{}", &c[..4], &c[4..8], &c[8..])
    }

    fn mac(&self, who: &[u8], handshake_hash: &[u8], body: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.0.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(who);
        mac.update(handshake_hash);
        mac.update(body);
        mac.finalize().into_bytes().into()
    }

    /// The new device's proof: it holds the code, in this handshake, for this key.
    pub fn device_proof(&self, handshake_hash: &[u8], device_key: &[u8; 32]) -> [u8; 32] {
        self.mac(b"tusach-enrol-device\0", handshake_hash, device_key)
    }

    /// The hub's proof over the grant it sends.
    pub fn hub_proof(&self, handshake_hash: &[u8], grant: &[u8]) -> [u8; 32] {
        self.mac(b"tusach-enrol-hub\0", handshake_hash, grant)
    }
}

/// Compares two proofs in constant time.
pub fn proofs_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_as_people_type_them() {
        let code = EnrolmentCode::generate().expect("random");
        assert_eq!(code.as_str().len(), CODE_CHARS);
        assert_eq!(EnrolmentCode::parse(&code.display()), Some(code.clone()));
        assert_eq!(
            EnrolmentCode::parse(&code.display().to_lowercase()),
            Some(code.clone())
        );
        assert_eq!(
            EnrolmentCode::parse("k7pm x2qa 9frt").map(|c| c.display()),
            Some("K7PM-X2QA-9FRT".to_owned())
        );
        assert_eq!(
            EnrolmentCode::parse("oooo-iiii-llll").map(|c| c.display()),
            Some("0000-1111-1111".to_owned())
        );
        for bad in [
            "",
            "K7PM-X2QA",
            "K7PM-X2QA-9FRTX",
            "K7PM-X2QA-9FRÜ",
            "UUUU-UUUU-UUUU",
        ] {
            assert_eq!(EnrolmentCode::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn proofs_depend_on_code_handshake_and_key() {
        let code = EnrolmentCode::parse("K7PM-X2QA-9FRT").expect("code");
        let other = EnrolmentCode::parse("K7PM-X2QA-9FRV").expect("code");
        let p = code.device_proof(b"hash", &[1; 32]);
        assert!(proofs_equal(&p, &code.device_proof(b"hash", &[1; 32])));
        assert!(!proofs_equal(&p, &other.device_proof(b"hash", &[1; 32])));
        assert!(!proofs_equal(&p, &code.device_proof(b"hash2", &[1; 32])));
        assert!(!proofs_equal(&p, &code.device_proof(b"hash", &[2; 32])));
        assert!(!proofs_equal(&p, &code.hub_proof(b"hash", &[1; 32])));
    }
}
