//! Readers as the library registers them: the card's details, the librarian's block, and the
//! PIN a reader types on the "my loans" page.
//!
//! What this module does not do: it decides nothing about lending ([`super::desk`] does) and
//! stores nothing itself ([`super::library::Desk`] writes the entities).
//!
//! The PIN is stored as SHA-256 over a per-reader random salt and the PIN, never as itself.
//! Not argon2: a 4-to-8-digit PIN has at most 10^8 values, so no hash makes an offline guess
//! expensive enough to matter, while argon2 on a Raspberry Pi for every "my loans" request
//! would cost a second of CPU each. What protects the PIN is the throttle in front of the page
//! and the salt (no table of precomputed hashes works across readers).

use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use tusach_sync::{Entity, Value};

use crate::db::ReaderRow;
use crate::search::fold;

use super::collation;

/// The categories the loan policy knows, as stored.
pub const CATEGORIES: [&str; 4] = ["child", "student", "teacher", "adult"];

/// A reader's card, as the staff pages show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reader {
    pub card: String,
    pub name: String,
    pub category: String,
    pub card_expires: Option<NaiveDate>,
    pub class: Option<String>,
    pub school: Option<String>,
    pub contact: Option<String>,
    pub blocked: Option<String>,
    pub blocked_since: Option<NaiveDate>,
    pub has_pin: bool,
}

/// What a librarian fills in to register a reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewReader {
    pub card: String,
    pub name: String,
    pub category: String,
    pub card_expires: NaiveDate,
    pub class: Option<String>,
    pub school: Option<String>,
    pub contact: Option<String>,
    /// 4 to 8 digits, or none (the reader cannot use "my loans" until one is set).
    pub pin: Option<String>,
}

fn text(fields: &Entity, name: &str) -> Option<String> {
    fields
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn date(fields: &Entity, name: &str) -> Option<NaiveDate> {
    text(fields, name).and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
}

impl Reader {
    pub fn from_entity(card: &str, fields: &Entity) -> Reader {
        Reader {
            card: card.to_owned(),
            name: text(fields, "name").unwrap_or_default(),
            category: text(fields, "category").unwrap_or_default(),
            card_expires: date(fields, "card_expires"),
            class: text(fields, "class"),
            school: text(fields, "school"),
            contact: text(fields, "contact"),
            blocked: text(fields, "blocked_note"),
            blocked_since: date(fields, "blocked_since"),
            has_pin: text(fields, "pin_hash").is_some(),
        }
    }
}

/// The query-table row of a reader entity (see `reader_index`).
pub fn reader_row(scope: &str, card: &str, fields: &Entity) -> ReaderRow {
    let name = text(fields, "name").unwrap_or_default();
    ReaderRow {
        scope: scope.to_owned(),
        card: card.to_owned(),
        sort_key: collation::name_key(&name),
        folded: fold::fold(&name),
        name,
        category: text(fields, "category").unwrap_or_default(),
        card_expires: text(fields, "card_expires").unwrap_or_default(),
        blocked: text(fields, "blocked_note"),
    }
}

/// 4 to 8 ASCII digits.
pub fn valid_pin(pin: &str) -> bool {
    (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// The stored hash of `pin` with `salt` (both hex text in the entity).
pub fn pin_hash(salt: &str, pin: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(salt.as_bytes());
    hasher.update(b":");
    hasher.update(pin.as_bytes());
    hex::encode(hasher.finalize())
}

/// A fresh random salt, as hex.
pub fn new_salt() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// Whether `pin` is the reader's PIN. Compared in constant time; a reader with no PIN never
/// matches.
pub fn pin_matches(fields: &Entity, pin: &str) -> bool {
    let (Some(salt), Some(stored)) = (text(fields, "pin_salt"), text(fields, "pin_hash")) else {
        return false;
    };
    if !valid_pin(pin) {
        return false;
    }
    let presented = pin_hash(&salt, pin);
    let (a, b) = (stored.as_bytes(), presented.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_pin(pin: &str) -> Entity {
        let salt = new_salt().expect("salt");
        let mut fields = Entity::new();
        fields.insert("pin_hash".into(), Value::Str(pin_hash(&salt, pin)));
        fields.insert("pin_salt".into(), Value::Str(salt));
        fields
    }

    #[test]
    fn the_pin_is_checked_against_its_salted_hash_only() {
        let fields = with_pin("2468");
        assert!(pin_matches(&fields, "2468"));
        for wrong in ["2469", "", "24680", "abcd", "246"] {
            assert!(!pin_matches(&fields, wrong), "{wrong}");
        }
        // Nothing about the PIN is stored in the clear, and two readers with the same PIN
        // have different hashes.
        let other = with_pin("2468");
        assert!(fields.values().all(|v| v.as_str() != Some("2468")));
        assert_ne!(fields.get("pin_hash"), other.get("pin_hash"));
        assert!(!pin_matches(&Entity::new(), "2468"));
    }

    #[test]
    fn pins_are_four_to_eight_digits() {
        for (pin, ok) in [
            ("1234", true),
            ("12345678", true),
            ("123", false),
            ("123456789", false),
            ("12a4", false),
            ("１２３４", false),
        ] {
            assert_eq!(valid_pin(pin), ok, "{pin}");
        }
    }
}
