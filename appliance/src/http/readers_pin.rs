//! A reader proves a card with its PIN: the one check behind "my loans", the catalogue's
//! reserve form and a reader's `POST /api/holds`, with its one throttle.
//!
//! Guessing is throttled in memory: after 5 wrong PINs for a card within 15 minutes, that
//! card is refused for 15 minutes (also with the right PIN). A restart forgets the count,
//! which costs a guesser a restart of the appliance — not something they can cause. The
//! throttle is shared by every page that takes a PIN, so moving from one form to another
//! gives a guesser no fresh tries.
//!
//! What this module does not do: decide what a PIN opens (each page does), or tell which of
//! card and PIN was wrong.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use warp::http::StatusCode;

use super::desk::desk_error;
use super::i18n::Lang;
use super::{ApiError, AppState};

const MAX_FAILURES: usize = 5;
const WINDOW: Duration = Duration::from_secs(15 * 60);
const LOCK: Duration = Duration::from_secs(15 * 60);
/// Cards remembered at most; a flood of made-up card numbers cannot grow memory without end.
const MAX_CARDS: usize = 10_000;

/// Wrong PINs per card (upper-cased): recent failures, and until when the card is locked.
#[derive(Default)]
struct Throttle {
    cards: HashMap<String, Attempts>,
}

#[derive(Default)]
struct Attempts {
    failures: Vec<Instant>,
    locked_until: Option<Instant>,
}

impl Throttle {
    /// Whether the card may try a PIN now.
    fn allows(&mut self, card: &str, now: Instant) -> bool {
        self.cards.retain(|_, a| {
            a.failures.retain(|t| now.duration_since(*t) < WINDOW);
            a.locked_until.is_some_and(|until| until > now) || !a.failures.is_empty()
        });
        self.cards
            .get(card)
            .and_then(|a| a.locked_until)
            .is_none_or(|until| until <= now)
    }

    /// Notes a wrong PIN; the fifth within the window locks the card for the lock time.
    fn failed(&mut self, card: &str, now: Instant) {
        if self.cards.len() >= MAX_CARDS && !self.cards.contains_key(card) {
            return;
        }
        let attempts = self.cards.entry(card.to_owned()).or_default();
        attempts.failures.push(now);
        if attempts.failures.len() >= MAX_FAILURES {
            attempts.failures.clear();
            attempts.locked_until = Some(now + LOCK);
        }
    }
}

static THROTTLE: LazyLock<Mutex<Throttle>> = LazyLock::new(|| Mutex::new(Throttle::default()));

fn wrong() -> ApiError {
    ApiError::BadRequest {
        vi: "Số thẻ hoặc mã PIN không đúng.".into(),
        en: "The card number or PIN is not right.".into(),
    }
}

/// Checks a reader's card and PIN under the throttle. `Forbidden` while the card is locked
/// (see [`refusal`] for the words a reader sees).
pub fn check_reader_pin(state: &AppState, card: &str, pin: &str) -> Result<(), ApiError> {
    let key = card.to_uppercase();
    let now = Instant::now();
    if !THROTTLE
        .lock()
        .map_err(|_| ApiError::Unavailable)?
        .allows(&key, now)
    {
        return Err(ApiError::Forbidden);
    }
    let ok = state
        .write(|store| state.desk.check_pin(store, card, pin))?
        .map_err(desk_error)?;
    if ok {
        return Ok(());
    }
    THROTTLE
        .lock()
        .map_err(|_| ApiError::Unavailable)?
        .failed(&key, now);
    Err(wrong())
}

/// The status and sentence a readers' page shows for an error of a PIN-checked form: a
/// locked card gets 429 and when to try again rather than "your session expired".
pub fn refusal(error: &ApiError, lang: Lang) -> (StatusCode, String) {
    if let ApiError::Internal(detail) = error {
        eprintln!("http: internal error: {detail}");
    }
    match error {
        ApiError::Forbidden => (
            StatusCode::TOO_MANY_REQUESTS,
            lang.pick(
                "Đã nhập sai nhiều lần. Hãy thử lại sau 15 phút hoặc hỏi thủ thư.",
                "Too many wrong tries. Try again in 15 minutes or ask the librarian.",
            )
            .to_owned(),
        ),
        other => (other.status(), other.lang_message(lang)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_wrong_pins_in_fifteen_minutes_lock_the_card_for_fifteen_more() {
        let mut throttle = Throttle::default();
        let start = Instant::now();
        let at = |minutes: u64| start + Duration::from_secs(minutes * 60);
        // Four wrong tries spread out, the first one aging out of the window: no lock.
        for minute in [0, 5, 10, 14] {
            assert!(throttle.allows("BD01", at(minute)));
            throttle.failed("BD01", at(minute));
        }
        assert!(throttle.allows("BD01", at(16)));
        throttle.failed("BD01", at(16)); // only 4 within the window (5, 10, 14, 16)
        assert!(throttle.allows("BD01", at(17)));
        throttle.failed("BD01", at(17)); // the fifth within 15 minutes: locked
        assert!(!throttle.allows("BD01", at(18)));
        assert!(!throttle.allows("BD01", at(31)));
        assert!(
            throttle.allows("BD02", at(18)),
            "other cards are not affected"
        );
        assert!(
            throttle.allows("BD01", at(33)),
            "the lock ends 15 minutes after it began"
        );
    }
}
