//! The pages' words in Vietnamese (the default) and English, from `web-ui/i18n/*.txt`.
//!
//! Each file holds `key = text` lines; both must have the same keys (a test checks). A page
//! asks `lang.t("nav.desk")`; a key missing from the files shows as the key itself, so a
//! forgotten translation is visible rather than blank.

use std::collections::HashMap;
use std::sync::LazyLock;

const VI_TEXT: &str = include_str!("../../../web-ui/i18n/vi.txt");
const EN_TEXT: &str = include_str!("../../../web-ui/i18n/en.txt");

static VI: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| parse(VI_TEXT));
static EN: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| parse(EN_TEXT));

fn parse(text: &'static str) -> HashMap<&'static str, &'static str> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once(" = "))
        .map(|(key, value)| (key.trim(), value.trim()))
        .collect()
}

/// The language a page is rendered in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    /// `lang=en` in the query wins, then the `lang` cookie; Vietnamese otherwise.
    pub fn choose(query: Option<&str>, cookie: Option<&str>) -> Lang {
        match query.or(cookie) {
            Some("en") => Lang::En,
            _ => Lang::Vi,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }

    pub fn is_english(self) -> bool {
        self == Lang::En
    }

    /// The text for `key` in this language.
    pub fn t(self, key: &'static str) -> &'static str {
        let table = match self {
            Lang::Vi => &VI,
            Lang::En => &EN,
        };
        table.get(key).copied().unwrap_or(key)
    }

    /// Picks between two inline texts, for messages built with values.
    pub fn pick<T>(self, vi: T, en: T) -> T {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_keys_and_no_empty_text() {
        let vi = parse(VI_TEXT);
        let en = parse(EN_TEXT);
        let mut missing_en: Vec<_> = vi.keys().filter(|k| !en.contains_key(*k)).collect();
        let mut missing_vi: Vec<_> = en.keys().filter(|k| !vi.contains_key(*k)).collect();
        missing_en.sort();
        missing_vi.sort();
        assert!(missing_en.is_empty(), "missing in en.txt: {missing_en:?}");
        assert!(missing_vi.is_empty(), "missing in vi.txt: {missing_vi:?}");
        assert!(vi.values().chain(en.values()).all(|v| !v.is_empty()));
        assert_eq!(Lang::Vi.t("nav.desk"), "Quầy mượn trả");
        assert_eq!(Lang::En.t("nav.desk"), "Circulation desk");
    }

    #[test]
    fn every_line_is_a_key_and_a_text() {
        for (name, text) in [("vi.txt", VI_TEXT), ("en.txt", EN_TEXT)] {
            for line in text.lines().map(str::trim) {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                assert!(line.contains(" = "), "{name}: not 'key = text': {line}");
            }
        }
    }
}
