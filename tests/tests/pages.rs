//! A click-through of every page, against a real `tusach serve --demo`: each staff page of the
//! navigation, each readers' page, and every page they link to on the same host (one level
//! deep), in Vietnamese and in English. Each must answer 200 (or a 303 to a page that does),
//! be HTML, be whole (`</html>`) and show no translation key in place of words.
//!
//! The point is the gaps between areas built apart: a link to a page nobody wrote, a page that
//! fails on the demo's real data, a key one area forgot to translate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use tusach::http::layout::{READERS_NAV, STAFF_NAV};
use tusach_tests::web::{Client, Response, Server};

/// Links of the same shape (`/records/rec-1`, `/records/rec-2`) are checked a few at a time:
/// the demo's 300 readers need not all be opened to know their page works.
const PER_SHAPE: usize = 3;

/// Every key of the Vietnamese translation files (both languages have the same keys; a unit
/// test checks).
fn translation_keys() -> BTreeSet<String> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web-ui/i18n/vi");
    let mut keys = BTreeSet::new();
    for entry in std::fs::read_dir(&folder).expect("web-ui/i18n/vi") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "txt") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("translation file");
        for line in text.lines().map(str::trim) {
            if line.starts_with('#') {
                continue;
            }
            if let Some((key, _)) = line.split_once(" = ") {
                keys.insert(key.trim().to_owned());
            }
        }
    }
    assert!(keys.len() > 50, "too few keys in {}", folder.display());
    keys
}

/// Words that look like a key (`area.some_key`: lowercase letters and underscores with dots
/// between) and are one, or start with an area of the keys (`desk.`, `opac.`…) as a key
/// missing from the files would: `Lang::t` shows a missing key as itself.
fn untranslated(body: &str, keys: &BTreeSet<String>) -> Vec<String> {
    let areas: BTreeSet<&str> = keys.iter().filter_map(|k| k.split('.').next()).collect();
    let is_word = |c: char| c.is_ascii_lowercase() || c == '_' || c == '.';
    let mut found = BTreeSet::new();
    for word in body.split(|c: char| !is_word(c)) {
        let word = word.trim_matches('.');
        let parts: Vec<&str> = word.split('.').collect();
        // `desk.js` in a script's address is a file, not a key.
        let file = parts
            .last()
            .is_some_and(|ext| ["js", "css", "csv", "json", "txt", "svg", "png"].contains(ext));
        let key_shaped = parts.len() >= 2 && parts.iter().all(|p| !p.is_empty()) && !file;
        if key_shaped && (keys.contains(word) || areas.contains(parts[0])) {
            found.insert(word.to_owned());
        }
    }
    found.into_iter().collect()
}

/// The same-host links of a page (`href="/…"`), unescaped, without the language switch,
/// static files, logout, JSON or downloads.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|href| href.starts_with('/') && !href.starts_with("//"))
        .map(|href| without_lang(&href.replace("&amp;", "&")))
        .filter(|href| {
            !href.starts_with("/static/")
                && !href.starts_with("/staff/logout")
                && !href.starts_with("/api/")
                && !href.split('?').next().unwrap_or("").ends_with(".csv")
        })
        .collect()
}

/// A path with any `lang=` parameter taken out.
fn without_lang(href: &str) -> String {
    let Some((path, query)) = href.split_once('?') else {
        return href.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("lang="))
        .collect();
    if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

/// `/staff/readers/BD0001` and `/staff/readers/BD0002` have one shape.
fn shape(href: &str) -> String {
    let (path, query) = href.split_once('?').unwrap_or((href, ""));
    let path: Vec<&str> = path
        .split('/')
        .map(|s| {
            if s.chars().any(|c| c.is_ascii_digit()) {
                "*"
            } else {
                s
            }
        })
        .collect();
    let names: Vec<&str> = query
        .split('&')
        .filter_map(|p| p.split('=').next())
        .collect();
    format!("{}?{}", path.join("/"), names.join("&"))
}

/// A browser in one language: English asks with `lang=en` every time; Vietnamese sends no
/// language and forgets any language cookie, so neither bleeds into the other.
struct Browser {
    client: Client,
    english: bool,
}

impl Browser {
    fn get(&mut self, path: &str) -> Response {
        let path = if self.english {
            let separator = if path.contains('?') { '&' } else { '?' };
            format!("{path}{separator}lang=en")
        } else {
            path.to_owned()
        };
        let response = self.client.get(&path);
        self.client.cookies.remove("lang");
        response
    }

    fn lang(&self) -> &'static str {
        if self.english { "en" } else { "vi" }
    }
}

/// Opens a page (following one 303 on this host) and lists what is wrong with it.
fn check(browser: &mut Browser, path: &str, keys: &BTreeSet<String>) -> (Vec<String>, String) {
    let lang = browser.lang();
    let mut response = browser.get(path);
    let mut at = path.to_owned();
    if response.status == 303 {
        let location = response.header("location").unwrap_or_default();
        if !location.starts_with('/') {
            return (
                vec![format!(
                    "{lang} {path}: 303 to {location:?}, not a page here"
                )],
                String::new(),
            );
        }
        at = without_lang(&location);
        response = browser.get(&at);
    }
    let mut problems = Vec::new();
    let what = if at == path {
        format!("{lang} {path}")
    } else {
        format!("{lang} {path} → {at}")
    };
    if response.status != 200 {
        let start: String = response.body.chars().take(300).collect();
        problems.push(format!("{what}: status {} {start}", response.status));
    }
    if !response.content_type.starts_with("text/html") {
        problems.push(format!("{what}: content type {:?}", response.content_type));
    }
    if !response.body.contains("</html>") {
        problems.push(format!("{what}: no </html>"));
    }
    let leaked = untranslated(&response.body, keys);
    if !leaked.is_empty() {
        problems.push(format!("{what}: untranslated {leaked:?}"));
    }
    (problems, response.body)
}

#[test]
fn every_page_of_the_navigation_and_what_it_links_to_answers_in_both_languages() {
    let server = Server::demo();
    let keys = translation_keys();
    assert!(
        untranslated("<p>nav.desk và desk.holds.title.</p>", &keys)
            == ["desk.holds.title", "nav.desk"],
        "the key finder finds keys"
    );
    assert!(
        untranslated(
            "<link href=\"/static/tusach.css\"><script src=\"/static/desk.js\"></script>",
            &keys
        )
        .is_empty()
    );
    assert_eq!(
        untranslated("<p>desk.not_written_yet</p>", &keys),
        ["desk.not_written_yet"],
        "a key missing from the files shows as itself"
    );

    let mut problems = Vec::new();
    let mut opened = 0;
    for english in [false, true] {
        // The navigation, and a search typed into each search box (the way to records,
        // facets and the catalogue's copy form).
        let staff_pages: Vec<String> = STAFF_NAV
            .iter()
            .map(|(p, _)| *p)
            .chain(["/staff/catalogue?q=nguyen"])
            .map(str::to_owned)
            .collect();
        let reader_pages: Vec<String> = ["/", "/search?q=nguyen"]
            .into_iter()
            .chain(READERS_NAV.iter().map(|(p, _)| *p))
            .map(str::to_owned)
            .collect();
        let mut staff = Browser {
            client: server.staff_client(),
            english,
        };
        let mut reader = Browser {
            client: server.client(),
            english,
        };
        for (browser, start) in [(&mut staff, staff_pages), (&mut reader, reader_pages)] {
            let mut seen: BTreeSet<String> = start.iter().cloned().collect();
            let mut per_shape: BTreeMap<String, usize> = BTreeMap::new();
            let mut next = Vec::new();
            for page in &start {
                let (found, body) = check(browser, page, &keys);
                opened += 1;
                problems.extend(found);
                for link in links(&body) {
                    let count = per_shape.entry(shape(&link)).or_default();
                    if *count < PER_SHAPE && seen.insert(link.clone()) {
                        *count += 1;
                        next.push(link);
                    }
                }
            }
            for page in &next {
                let (found, _) = check(browser, page, &keys);
                opened += 1;
                problems.extend(found);
            }
        }
    }
    assert!(opened > 40, "only {opened} pages opened");
    assert!(
        problems.is_empty(),
        "{} problems in {opened} pages:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
