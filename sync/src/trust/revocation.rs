//! Revocations: signed statements that a key is no longer a member.
//!
//! A revocation is signed by the network root or by a hub whose own chain is valid, and is
//! stored as an entity of the network scope (collection [`REVOCATIONS`], id = the revoked
//! device's id), so it replicates to every device like any other data and takes effect wherever
//! it arrives. Once a device has verified a revocation it also keeps the revoked key in a
//! local table that nothing removes: a member that later deletes the entity cannot un-revoke
//! anyone.
//!
//! Layout: `version u8 (1) | subject 32 | revoked_at varint | reason str | issuer chain |
//! issuer 32 | signature 64`; the signature is Ed25519 by `issuer` over `"tusach-revoke-v1\0"`
//! and every byte before it. A root revocation carries an empty issuer chain.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use super::cert::{Chain, MemberRole, fixed};
use super::verify::TrustAnchor;
use crate::protocol::wire::{Reader, WireError, put_str, put_varint};

/// The network-scope collection holding revocations.
pub const REVOCATIONS: &str = "trust.revocations";
const SIGNING_CONTEXT: &[u8] = b"tusach-revoke-v1\0";
const VERSION: u8 = 1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    pub subject: [u8; 32],
    pub revoked_at: u64,
    pub reason: String,
    pub issuer_chain: Chain,
    pub issuer: [u8; 32],
    pub signature: [u8; 64],
}

impl Revocation {
    /// Signs a revocation of `subject` by `issuer` (the root key, with an empty chain, or a hub
    /// key with its chain).
    pub fn sign(
        subject: [u8; 32],
        revoked_at: u64,
        reason: &str,
        issuer: &SigningKey,
        issuer_chain: Chain,
    ) -> Revocation {
        let mut revocation = Revocation {
            subject,
            revoked_at,
            reason: reason.chars().take(200).collect(),
            issuer_chain,
            issuer: issuer.verifying_key().to_bytes(),
            signature: [0; 64],
        };
        let mut signed = SIGNING_CONTEXT.to_vec();
        revocation.encode_unsigned(&mut signed);
        revocation.signature = issuer.sign(&signed).to_bytes();
        revocation
    }

    fn encode_unsigned(&self, out: &mut Vec<u8>) {
        out.push(VERSION);
        out.extend_from_slice(&self.subject);
        put_varint(out, self.revoked_at);
        put_str(out, &self.reason);
        out.extend_from_slice(&self.issuer_chain.to_bytes());
        out.extend_from_slice(&self.issuer);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_unsigned(&mut out);
        out.extend_from_slice(&self.signature);
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Revocation, WireError> {
        let mut r = Reader { buf: bytes };
        if r.u8()? != VERSION {
            return Err(WireError::Malformed("unknown revocation version"));
        }
        let subject = fixed::<32>(&mut r)?;
        let revoked_at = r.varint()?;
        let reason = r.string()?;
        let issuer_chain = Chain::read(&mut r)?;
        let issuer = fixed::<32>(&mut r)?;
        let signature = fixed::<64>(&mut r)?;
        if !r.buf.is_empty() {
            return Err(WireError::Malformed("trailing bytes after a revocation"));
        }
        Ok(Revocation {
            subject,
            revoked_at,
            reason,
            issuer_chain,
            issuer,
            signature,
        })
    }

    /// Is this revocation made by someone entitled to revoke in the network `anchor` trusts?
    /// A hub's revocation counts while the hub itself is a valid member (judged with the
    /// revocations known so far, and `now`).
    pub fn is_valid(&self, anchor: &TrustAnchor, now: u64) -> bool {
        let Ok(issuer) = VerifyingKey::from_bytes(&self.issuer) else {
            return false;
        };
        let mut signed = SIGNING_CONTEXT.to_vec();
        self.encode_unsigned(&mut signed);
        if issuer
            .verify_strict(&signed, &Signature::from_bytes(&self.signature))
            .is_err()
        {
            return false;
        }
        if anchor.root == Some(self.issuer) {
            return true;
        }
        matches!(
            anchor.verify(&self.issuer, &self.issuer_chain, now),
            Ok(member) if member.role == MemberRole::Hub
        )
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::trust::cert::{Certificate, CertificateRequest};

    #[test]
    fn only_the_root_or_a_valid_hub_can_revoke() {
        let root = SigningKey::from_bytes(&[1; 32]);
        let hub = SigningKey::from_bytes(&[2; 32]);
        let desk = SigningKey::from_bytes(&[3; 32]);
        let anchor = TrustAnchor {
            root: Some(root.verifying_key().to_bytes()),
            revoked: HashSet::new(),
        };
        let hub_chain = Chain(vec![Certificate::issue(
            CertificateRequest {
                role: MemberRole::Hub,
                subject: hub.verifying_key().to_bytes(),
                issued_at: 0,
                expires_at: 100,
                label: "huyen".into(),
                scopes: vec!["*".into()],
            },
            &root,
        )]);
        let target = desk.verifying_key().to_bytes();
        let by_root = Revocation::sign(target, 10, "lost", &root, Chain::default());
        let by_hub = Revocation::sign(target, 10, "stolen", &hub, hub_chain);
        let by_desk = Revocation::sign(target, 10, "spite", &desk, Chain::default());
        for (revocation, valid) in [(&by_root, true), (&by_hub, true), (&by_desk, false)] {
            let decoded = Revocation::from_bytes(&revocation.to_bytes()).expect("decode");
            assert_eq!(&decoded, revocation);
            assert_eq!(decoded.is_valid(&anchor, 50), valid, "{}", decoded.reason);
        }
        let mut tampered = by_hub.clone();
        tampered.subject = [7; 32];
        assert!(!tampered.is_valid(&anchor, 50));
        assert!(
            !by_hub.is_valid(&anchor, 100),
            "the hub's certificate expired"
        );
    }
}
