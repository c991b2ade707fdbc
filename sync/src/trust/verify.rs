//! Deciding whether a peer is a member: walk its certificate chain up to the network root,
//! check every signature, expiry and revocation, and return the scopes it may exchange.
//!
//! The caller supplies the time (the protocol core reads no clock) and the revoked keys it
//! knows of (revocations are data in the store; see [`super::revocation`]).

use std::collections::HashSet;

use super::cert::{ALL_SCOPES, Certificate, Chain, MAX_CHAIN, MemberRole};
use crate::identity::DeviceId;
use crate::protocol::policy::ScopeSet;

/// Why a chain is not accepted. Each one is recorded with the refused attempt.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    #[error("the device presented no membership certificate")]
    NoCertificate,
    #[error("this device is not enrolled in a network yet")]
    NotEnrolled,
    #[error("the certificate is for another key than the one the device proved it holds")]
    KeyMismatch,
    #[error("a certificate's signature is not valid")]
    BadSignature,
    #[error("the certificate chain does not lead to this network's root")]
    UnknownIssuer,
    #[error("a certificate in the chain was issued by a device that is not a hub")]
    IssuerNotHub,
    #[error("a certificate claims scopes its issuer does not hold")]
    ScopeEscalation,
    #[error("the certificate chain is longer than {MAX_CHAIN}")]
    ChainTooLong,
    #[error("the certificate expired")]
    Expired,
    #[error("the device's membership was revoked")]
    Revoked,
}

/// A verified member: who it is and what it may exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    pub device: DeviceId,
    pub key: [u8; 32],
    pub role: MemberRole,
    pub label: String,
    pub scopes: ScopeSet,
    pub expires_at: u64,
}

/// What a device trusts: its network's root key and the keys revoked so far.
#[derive(Clone, Debug, Default)]
pub struct TrustAnchor {
    pub root: Option<[u8; 32]>,
    pub revoked: HashSet<[u8; 32]>,
}

impl TrustAnchor {
    /// Checks that `chain` makes the holder of `proven_key` (the Ed25519 key the handshake
    /// proved) a current member of this network.
    pub fn verify(
        &self,
        proven_key: &[u8; 32],
        chain: &Chain,
        now: u64,
    ) -> Result<Membership, TrustError> {
        let root = self.root.ok_or(TrustError::NotEnrolled)?;
        let leaf = chain.leaf().ok_or(TrustError::NoCertificate)?;
        if leaf.subject != *proven_key {
            return Err(TrustError::KeyMismatch);
        }
        if chain.0.len() > MAX_CHAIN {
            return Err(TrustError::ChainTooLong);
        }
        for (i, cert) in chain.0.iter().enumerate() {
            check_one(cert, now, &self.revoked)?;
            let above = chain.0.get(i + 1);
            match above {
                Some(parent) => {
                    if parent.subject != cert.issuer {
                        return Err(TrustError::UnknownIssuer);
                    }
                    if parent.role != MemberRole::Hub {
                        return Err(TrustError::IssuerNotHub);
                    }
                    if !scopes_within(&cert.scopes, &parent.scopes) {
                        return Err(TrustError::ScopeEscalation);
                    }
                }
                None => {
                    if cert.issuer != root {
                        return Err(TrustError::UnknownIssuer);
                    }
                }
            }
        }
        Ok(Membership {
            device: leaf.device(),
            key: leaf.subject,
            role: leaf.role,
            label: leaf.label.clone(),
            scopes: leaf.scope_set(),
            expires_at: leaf.expires_at,
        })
    }
}

fn check_one(cert: &Certificate, now: u64, revoked: &HashSet<[u8; 32]>) -> Result<(), TrustError> {
    if !cert.signature_is_valid() {
        return Err(TrustError::BadSignature);
    }
    if cert.expires_at <= now {
        return Err(TrustError::Expired);
    }
    if revoked.contains(&cert.subject) {
        return Err(TrustError::Revoked);
    }
    Ok(())
}

/// Are `child` scopes all held by `parent`? A hub may only hand out what it holds.
pub fn scopes_within(child: &[String], parent: &[String]) -> bool {
    if parent.iter().any(|s| s == ALL_SCOPES) {
        return true;
    }
    child.iter().all(|s| s != ALL_SCOPES && parent.contains(s))
}

/// The scopes two members may exchange: what the peer may hold, narrowed to what we may.
pub fn shared_scopes(ours: &ScopeSet, theirs: &ScopeSet) -> ScopeSet {
    match (ours, theirs) {
        (ScopeSet::All, other) | (other, ScopeSet::All) => other.clone(),
        (ScopeSet::Only(a), ScopeSet::Only(b)) => {
            ScopeSet::Only(a.intersection(b).cloned().collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::trust::cert::CertificateRequest;

    fn issue(
        role: MemberRole,
        subject: &SigningKey,
        issuer: &SigningKey,
        scopes: &[&str],
        expires: u64,
    ) -> Certificate {
        Certificate::issue(
            CertificateRequest {
                role,
                subject: subject.verifying_key().to_bytes(),
                issued_at: 0,
                expires_at: expires,
                label: "x".into(),
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
            },
            issuer,
        )
    }

    #[test]
    fn chains_are_walked_to_the_root_and_every_rule_holds() {
        let root = SigningKey::from_bytes(&[1; 32]);
        let hub = SigningKey::from_bytes(&[2; 32]);
        let desk = SigningKey::from_bytes(&[3; 32]);
        let stranger = SigningKey::from_bytes(&[4; 32]);
        let anchor = TrustAnchor {
            root: Some(root.verifying_key().to_bytes()),
            revoked: HashSet::new(),
        };
        let hub_cert = issue(MemberRole::Hub, &hub, &root, &["network", "library:a"], 100);
        let desk_cert = issue(
            MemberRole::Appliance,
            &desk,
            &hub,
            &["network", "library:a"],
            100,
        );
        let desk_key = desk.verifying_key().to_bytes();
        let good = Chain(vec![desk_cert.clone(), hub_cert.clone()]);
        let member = anchor.verify(&desk_key, &good, 50).expect("valid chain");
        assert_eq!(member.scopes, ScopeSet::of(["network", "library:a"]));

        assert_eq!(
            anchor.verify(&desk_key, &good, 100),
            Err(TrustError::Expired)
        );
        assert_eq!(
            anchor.verify(&stranger.verifying_key().to_bytes(), &good, 50),
            Err(TrustError::KeyMismatch)
        );
        assert_eq!(
            anchor.verify(&desk_key, &Chain::default(), 50),
            Err(TrustError::NoCertificate)
        );
        // Without the hub's certificate the chain does not reach the root.
        assert_eq!(
            anchor.verify(&desk_key, &Chain(vec![desk_cert.clone()]), 50),
            Err(TrustError::UnknownIssuer)
        );
        // A self-made root is not this network's root.
        let fake = Chain(vec![issue(
            MemberRole::Appliance,
            &stranger,
            &stranger,
            &["*"],
            100,
        )]);
        assert_eq!(
            anchor.verify(&stranger.verifying_key().to_bytes(), &fake, 50),
            Err(TrustError::UnknownIssuer)
        );
        // An appliance cannot enrol others, and a hub cannot hand out more than it holds.
        let by_desk = issue(MemberRole::Appliance, &stranger, &desk, &["network"], 100);
        let chain = Chain(vec![by_desk, desk_cert.clone(), hub_cert.clone()]);
        assert_eq!(
            anchor.verify(&stranger.verifying_key().to_bytes(), &chain, 50),
            Err(TrustError::IssuerNotHub)
        );
        let greedy = issue(
            MemberRole::Appliance,
            &desk,
            &hub,
            &["network", "library:b"],
            100,
        );
        assert_eq!(
            anchor.verify(&desk_key, &Chain(vec![greedy, hub_cert.clone()]), 50),
            Err(TrustError::ScopeEscalation)
        );
        // Revoking the hub revokes everything below it.
        let mut revoked = anchor.clone();
        revoked.revoked.insert(hub.verifying_key().to_bytes());
        assert_eq!(
            revoked.verify(&desk_key, &good, 50),
            Err(TrustError::Revoked)
        );
        assert_eq!(
            TrustAnchor::default().verify(&desk_key, &good, 50),
            Err(TrustError::NotEnrolled)
        );
    }

    #[test]
    fn shared_scopes_narrow_to_both_sides() {
        let a = ScopeSet::of(["network", "library:a"]);
        let b = ScopeSet::of(["network", "library:b"]);
        assert_eq!(shared_scopes(&a, &b), ScopeSet::of(["network"]));
        assert_eq!(shared_scopes(&ScopeSet::All, &a), a);
        assert!(scopes_within(&["network".into()], &["*".into()]));
        assert!(!scopes_within(&["*".into()], &["network".into()]));
    }
}
