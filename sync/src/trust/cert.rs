//! Membership certificates: who a device is in the network, byte for byte.
//!
//! A certificate says "the device with Ed25519 key S is a member of this network as a
//! (appliance | hub | mule) for label L, may exchange scopes X, until time T", signed by an
//! issuer key. The network's root key signs the first hub's certificate; a hub signs the
//! certificates of the devices it enrols. A device presents its certificate and the issuers'
//! certificates above it (a [`Chain`], leaf first) in every handshake; a verifier walks the
//! chain up to the network root it trusts ([`super::verify`]).
//!
//! Layout of one certificate (`sync/PROTOCOL.md` §5): `version u8 (1) | role u8 | subject 32 |
//! issuer 32 | issued_at varint | expires_at varint | label str | scope count varint | scopes
//! str… | signature 64`, where `str` is a varint length and UTF-8 bytes and the signature is
//! Ed25519 by `issuer` over `"tusach-cert-v1\0"` followed by every byte before it. This module
//! encodes, decodes, signs and checks one signature; it decides nothing about trust.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::identity::DeviceId;
use crate::protocol::policy::ScopeSet;
use crate::protocol::wire::{Reader, WireError, put_str, put_varint};
use crate::store::Scope;

pub const CERT_VERSION: u8 = 1;
const SIGNING_CONTEXT: &[u8] = b"tusach-cert-v1\0";
/// The scope name that stands for every scope (a province or district hub holding them all).
pub const ALL_SCOPES: &str = "*";
/// Longest chain a verifier walks: leaf, up to three hubs, then the root.
pub const MAX_CHAIN: usize = 4;

/// What a member device does; chosen at enrolment.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum MemberRole {
    /// A library's appliance (a desk, the Pi on the shelf).
    Appliance,
    /// A district or province hub: holds many libraries and may enrol devices.
    Hub,
    /// A district staff laptop that carries data between libraries and the hub.
    Mule,
}

impl MemberRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Appliance => "appliance",
            MemberRole::Hub => "hub",
            MemberRole::Mule => "mule",
        }
    }

    pub fn parse(text: &str) -> Option<MemberRole> {
        match text {
            "appliance" => Some(MemberRole::Appliance),
            "hub" => Some(MemberRole::Hub),
            "mule" => Some(MemberRole::Mule),
            _ => None,
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            MemberRole::Appliance => 1,
            MemberRole::Hub => 2,
            MemberRole::Mule => 3,
        }
    }

    fn from_u8(n: u8) -> Option<MemberRole> {
        match n {
            1 => Some(MemberRole::Appliance),
            2 => Some(MemberRole::Hub),
            3 => Some(MemberRole::Mule),
            _ => None,
        }
    }
}

/// One signed membership certificate.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Certificate {
    pub role: MemberRole,
    /// The member's Ed25519 public key; its device id is derived from it.
    pub subject: [u8; 32],
    /// The key that signed this certificate: the network root or a hub's device key.
    pub issuer: [u8; 32],
    /// Unix seconds, as the issuer's clock read them. Informational: a Pi without a clock
    /// must not refuse a certificate because it believes it is 1970.
    pub issued_at: u64,
    /// Unix seconds after which the certificate is no longer accepted.
    pub expires_at: u64,
    /// What the member serves, as its issuer named it (the appliance puts a library id here).
    pub label: String,
    /// The scopes the member may hold and exchange; `*` is every scope.
    pub scopes: Vec<String>,
    pub signature: [u8; 64],
}

/// What goes into a certificate before it is signed.
#[derive(Clone, Debug)]
pub struct CertificateRequest {
    pub role: MemberRole,
    pub subject: [u8; 32],
    pub issued_at: u64,
    pub expires_at: u64,
    pub label: String,
    pub scopes: Vec<String>,
}

impl Certificate {
    /// Signs `request` with `issuer`.
    pub fn issue(request: CertificateRequest, issuer: &SigningKey) -> Certificate {
        let mut cert = Certificate {
            role: request.role,
            subject: request.subject,
            issuer: issuer.verifying_key().to_bytes(),
            issued_at: request.issued_at,
            expires_at: request.expires_at,
            label: request.label,
            scopes: request.scopes,
            signature: [0; 64],
        };
        let mut signed = SIGNING_CONTEXT.to_vec();
        cert.encode_unsigned(&mut signed);
        cert.signature = issuer.sign(&signed).to_bytes();
        cert
    }

    /// The member's device id.
    pub fn device(&self) -> DeviceId {
        DeviceId::from_public_key(&self.subject)
    }

    /// The scopes as a set; `*` anywhere means every scope.
    pub fn scope_set(&self) -> ScopeSet {
        if self.scopes.iter().any(|s| s == ALL_SCOPES) {
            ScopeSet::All
        } else {
            ScopeSet::of(self.scopes.iter().map(String::as_str))
        }
    }

    /// Is the issuer's signature over this certificate valid?
    pub fn signature_is_valid(&self) -> bool {
        let Ok(issuer) = VerifyingKey::from_bytes(&self.issuer) else {
            return false;
        };
        let mut signed = SIGNING_CONTEXT.to_vec();
        self.encode_unsigned(&mut signed);
        issuer
            .verify_strict(&signed, &Signature::from_bytes(&self.signature))
            .is_ok()
    }

    fn encode_unsigned(&self, out: &mut Vec<u8>) {
        out.push(CERT_VERSION);
        out.push(self.role.to_u8());
        out.extend_from_slice(&self.subject);
        out.extend_from_slice(&self.issuer);
        put_varint(out, self.issued_at);
        put_varint(out, self.expires_at);
        put_str(out, &self.label);
        put_varint(out, self.scopes.len() as u64);
        for scope in &self.scopes {
            put_str(out, scope);
        }
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        self.encode_unsigned(out);
        out.extend_from_slice(&self.signature);
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Certificate, WireError> {
        if r.u8()? != CERT_VERSION {
            return Err(WireError::Malformed("unknown certificate version"));
        }
        let role = MemberRole::from_u8(r.u8()?).ok_or(WireError::Malformed("unknown role"))?;
        let subject = fixed::<32>(r)?;
        let issuer = fixed::<32>(r)?;
        let issued_at = r.varint()?;
        let expires_at = r.varint()?;
        let label = r.string()?;
        if label.len() > 128 {
            return Err(WireError::Malformed("certificate label too long"));
        }
        let count = r.count()?;
        if count > 256 {
            return Err(WireError::Malformed("too many scopes in a certificate"));
        }
        let mut scopes = Vec::with_capacity(count);
        for _ in 0..count {
            let scope = r.string()?;
            if scope != ALL_SCOPES && Scope::new(scope.clone()).is_none() {
                return Err(WireError::Malformed("invalid scope in a certificate"));
            }
            scopes.push(scope);
        }
        let signature = fixed::<64>(r)?;
        Ok(Certificate {
            role,
            subject,
            issuer,
            issued_at,
            expires_at,
            label,
            scopes,
            signature,
        })
    }
}

pub(crate) fn fixed<const N: usize>(r: &mut Reader<'_>) -> Result<[u8; N], WireError> {
    let mut out = [0u8; N];
    out.copy_from_slice(r.take(N)?);
    Ok(out)
}

/// A certificate and the issuers' certificates above it, leaf first. A device enrolled
/// directly by the root has a chain of one.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Chain(pub Vec<Certificate>);

impl Chain {
    pub fn leaf(&self) -> Option<&Certificate> {
        self.0.first()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `count u8 | certificates…`
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![self.0.len() as u8];
        for cert in &self.0 {
            cert.encode(&mut out);
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Chain, WireError> {
        let mut r = Reader { buf: bytes };
        let chain = Chain::read(&mut r)?;
        if !r.buf.is_empty() {
            return Err(WireError::Malformed(
                "trailing bytes after a certificate chain",
            ));
        }
        Ok(chain)
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Chain, WireError> {
        let count = usize::from(r.u8()?);
        if count > MAX_CHAIN {
            return Err(WireError::Malformed("certificate chain too long"));
        }
        let mut certs = Vec::with_capacity(count);
        for _ in 0..count {
            certs.push(Certificate::read(r)?);
        }
        Ok(Chain(certs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(subject: [u8; 32]) -> CertificateRequest {
        CertificateRequest {
            role: MemberRole::Appliance,
            subject,
            issued_at: 1_700_000_000,
            expires_at: 1_900_000_000,
            label: "xa-nghi-phu".into(),
            scopes: vec!["network".into(), "library:xa-nghi-phu".into()],
        }
    }

    #[test]
    fn a_certificate_round_trips_and_its_signature_covers_every_field() {
        let root = SigningKey::from_bytes(&[1; 32]);
        let cert = Certificate::issue(request([9; 32]), &root);
        assert!(cert.signature_is_valid());
        let chain = Chain(vec![cert.clone()]);
        let bytes = chain.to_bytes();
        assert_eq!(Chain::from_bytes(&bytes).expect("decode"), chain);
        // Any flipped bit before the signature breaks it (or the decoding).
        for i in 1..bytes.len() - 64 {
            let mut bad = bytes.clone();
            bad[i] ^= 0x01;
            if let Ok(decoded) = Chain::from_bytes(&bad) {
                assert!(
                    !decoded.0[0].signature_is_valid(),
                    "flipping byte {i} kept the signature valid"
                );
            }
        }
    }

    #[test]
    fn truncated_and_oversized_chains_are_refused() {
        let root = SigningKey::from_bytes(&[1; 32]);
        let bytes = Chain(vec![Certificate::issue(request([9; 32]), &root)]).to_bytes();
        for cut in 0..bytes.len() {
            assert!(Chain::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert!(Chain::from_bytes(&[9]).is_err());
    }
}
