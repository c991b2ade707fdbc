//! The result line of a desk action, kept in memory for the page the action redirects to.
//!
//! Post/redirect/get: a lend or return answers 303 to `/staff/desk?…&result=ID`, and the desk
//! page shows result ID. Reloading that page shows the line again and changes nothing. The
//! text lives here rather than in the URL so nobody can craft a link that shows a librarian a
//! made-up message; after a restart old IDs simply show nothing.

use std::collections::VecDeque;
use std::sync::{LazyLock, Mutex};

use crate::http::i18n::Lang;

/// How many recent results are kept: a busy afternoon's worth.
const KEPT: usize = 500;

/// One result line, in both languages.
#[derive(Clone, Debug)]
pub struct Flash {
    pub ok: bool,
    pub vi: String,
    pub en: String,
}

impl Flash {
    pub fn ok(vi: String, en: String) -> Flash {
        Flash { ok: true, vi, en }
    }

    pub fn refused(vi: String, en: String) -> Flash {
        Flash { ok: false, vi, en }
    }

    pub fn text(&self, lang: Lang) -> &str {
        lang.pick(&self.vi, &self.en)
    }
}

/// The results kept, newest last, and how many were ever kept (for IDs).
#[derive(Default)]
struct Kept {
    count: u64,
    lines: VecDeque<(String, Flash)>,
}

static RESULTS: LazyLock<Mutex<Kept>> = LazyLock::new(|| Mutex::new(Kept::default()));

/// Keeps a result; returns the ID the redirect names.
pub fn keep(flash: Flash) -> String {
    let Ok(mut results) = RESULTS.lock() else {
        return String::new();
    };
    results.count += 1;
    // A counter plus a little randomness: IDs of one run never repeat, and one of another
    // run (before a restart) does not show someone else's line.
    let mut salt = [0u8; 4];
    let _ = getrandom::fill(&mut salt);
    let id = format!("{}{}", results.count, hex::encode(salt));
    results.lines.push_back((id.clone(), flash));
    while results.lines.len() > KEPT {
        results.lines.pop_front();
    }
    id
}

/// The result an ID names, if it is still kept.
pub fn find(id: &str) -> Option<Flash> {
    let results = RESULTS.lock().ok()?;
    results
        .lines
        .iter()
        .rev()
        .find(|(kept, _)| kept == id)
        .map(|(_, flash)| flash.clone())
}
