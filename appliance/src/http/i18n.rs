//! The pages' words in Vietnamese (the default) and English, from `web-ui/i18n/{vi,en}/*.txt`
//! (one file per area of the app, embedded in the binary).
//!
//! Each file holds `key = text` lines; both languages must have the same keys (a test checks).
//! A page asks `lang.t("nav.desk")`; a key missing from the files shows as the key itself, so
//! a forgotten translation is visible rather than blank.

use std::collections::HashMap;
use std::sync::LazyLock;

use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../web-ui/i18n/"]
struct Translations;

static VI: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| load("vi/"));
static EN: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| load("en/"));

/// Every `key = text` of one language. The texts live as long as the program: they are
/// read once, at the first page.
fn load(language: &str) -> HashMap<String, &'static str> {
    let mut table = HashMap::new();
    for name in Translations::iter().filter(|n| n.starts_with(language)) {
        if let Some(file) = Translations::get(&name) {
            let text: &'static str = Box::leak(
                String::from_utf8_lossy(&file.data)
                    .into_owned()
                    .into_boxed_str(),
            );
            for (key, value) in parse(text) {
                table.insert(key.to_owned(), value);
            }
        }
    }
    table
}

fn parse(text: &'static str) -> Vec<(&'static str, &'static str)> {
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
        let mut missing_en: Vec<_> = VI.keys().filter(|k| !EN.contains_key(*k)).collect();
        let mut missing_vi: Vec<_> = EN.keys().filter(|k| !VI.contains_key(*k)).collect();
        missing_en.sort();
        missing_vi.sort();
        assert!(missing_en.is_empty(), "missing in en/: {missing_en:?}");
        assert!(missing_vi.is_empty(), "missing in vi/: {missing_vi:?}");
        assert!(VI.values().chain(EN.values()).all(|v| !v.is_empty()));
        assert_eq!(Lang::Vi.t("nav.desk"), "Quầy mượn trả");
        assert_eq!(Lang::En.t("nav.desk"), "Circulation desk");
    }

    #[test]
    fn every_line_is_a_key_and_a_text() {
        for name in Translations::iter() {
            let file = Translations::get(&name).expect("listed file");
            let text = String::from_utf8_lossy(&file.data).into_owned();
            for line in text.lines().map(str::trim) {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                assert!(line.contains(" = "), "{name}: not 'key = text': {line}");
            }
        }
    }
}
