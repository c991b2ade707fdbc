//! Staff usernames and display names: what a person may type, and the one spelling the store
//! keys a staff member by.
//!
//! A username is the id of an entity that replicates to every desk of the library, so two
//! spellings of one person ("Mai.Tran", " mai.tran ") must become one key before anything is
//! stored or looked up. This module only checks and normalises text; it never reads the store.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// Shortest and longest username, in characters.
pub const USERNAME_CHARS: std::ops::RangeInclusive<usize> = 2..=32;

/// Longest display name, in characters. A name on a staff list, not a biography.
pub const DISPLAY_NAME_MAX_CHARS: usize = 80;

/// A normalised username: trimmed, lowercase, 2–32 of `a-z 0-9 . _ -`.
///
/// Built only by [`Username::parse`], so holding one means the text is a valid store id.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Username(String);

/// Why a typed username was refused. Each says what to type instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("a username needs 2 to 32 characters; this one has {0}")]
    Length(usize),
    #[error("a username may only use a-z, 0-9, '.', '_' and '-'; type it without {0:?}")]
    Character(char),
}

impl Username {
    /// Trims, lowercases and checks `typed`. Lowercasing comes first, so "Mai.Tran" is
    /// accepted as `mai.tran`; Vietnamese letters are refused rather than folded, because
    /// "hà" and "ha" are different people.
    pub fn parse(typed: &str) -> Result<Username, UsernameError> {
        let name = typed.trim().to_lowercase();
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(*c)))
        {
            return Err(UsernameError::Character(bad));
        }
        // All characters are ASCII now, so bytes are characters.
        if !USERNAME_CHARS.contains(&name.len()) {
            return Err(UsernameError::Length(name.len()));
        }
        Ok(Username(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A name fixed in this module's code (a test checks each one against [`Username::parse`]).
    pub(super) fn from_constant(name: &'static str) -> Username {
        Username(name.to_owned())
    }

    /// An entity id read back from the store, if it is exactly a valid username.
    pub(super) fn from_trusted(name: &str) -> Option<Username> {
        Username::parse(name).ok().filter(|parsed| parsed.0 == name)
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a display name was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DisplayNameError {
    #[error("type the person's name; it cannot be empty")]
    Empty,
    #[error(
        "a display name may have at most {DISPLAY_NAME_MAX_CHARS} characters; this one has {0}"
    )]
    TooLong(usize),
    #[error("a display name cannot hold control characters (tabs, line breaks)")]
    ControlCharacter,
}

/// Trims a display name and composes it (NFC), so the same name typed on a phone and on a
/// laptop with a Vietnamese keyboard is stored the same way.
pub fn normalise_display_name(typed: &str) -> Result<String, DisplayNameError> {
    let name: String = typed.trim().nfc().collect();
    if name.is_empty() {
        return Err(DisplayNameError::Empty);
    }
    if name.chars().any(char::is_control) {
        return Err(DisplayNameError::ControlCharacter);
    }
    let chars = name.chars().count();
    if chars > DISPLAY_NAME_MAX_CHARS {
        return Err(DisplayNameError::TooLong(chars));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(typed: &str, expected: Result<&str, UsernameError>) {
        let got = Username::parse(typed);
        assert_eq!(
            got.as_ref().map(Username::as_str).map_err(Clone::clone),
            expected,
            "{typed:?}"
        );
    }

    #[test]
    fn usernames_are_trimmed_lowercased_and_checked() {
        check("mai", Ok("mai"));
        check("  Mai.Tran ", Ok("mai.tran"));
        check("THU_THU-02", Ok("thu_thu-02"));
        check("ab", Ok("ab"));
        check(&"a".repeat(32), Ok(&"a".repeat(32)));
        check("", Err(UsernameError::Length(0)));
        check("   ", Err(UsernameError::Length(0)));
        check("a", Err(UsernameError::Length(1)));
        check(&"a".repeat(33), Err(UsernameError::Length(33)));
        check("<script>", Err(UsernameError::Character('<')));
        check("mai tran", Err(UsernameError::Character(' ')));
        check("hà", Err(UsernameError::Character('à')));
        check("admin@lib", Err(UsernameError::Character('@')));
    }

    #[test]
    fn display_names_are_composed_and_bounded() {
        let decomposed = "Tra\u{0302}\u{0300}n Thi\u{0323} Mai";
        assert_eq!(
            normalise_display_name(decomposed),
            Ok("Trần Thị Mai".to_owned())
        );
        assert_eq!(normalise_display_name("  "), Err(DisplayNameError::Empty));
        assert_eq!(
            normalise_display_name("a\nb"),
            Err(DisplayNameError::ControlCharacter)
        );
        assert_eq!(
            normalise_display_name(&"ư".repeat(81)),
            Err(DisplayNameError::TooLong(81))
        );
    }
}
