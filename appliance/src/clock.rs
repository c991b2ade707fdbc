//! The appliance's wall clock: the system clock, corrected by what a librarian's phone said,
//! and a check that it has not gone backwards.
//!
//! A Pi has no battery clock: after a power cut it may wake up in 1970, or at the last time
//! it saved. Data is ordered by causality, never by this clock; it is used only for due dates,
//! visit days and reports. When it reads earlier than the latest time this appliance has seen
//! (its own earlier readings, or loans made on it or merged from elsewhere), staff pages say so
//! and offer the phone's time with one tap. The correction is kept as an offset in the
//! appliance's settings rather than by setting the system clock, which needs privileges the
//! web server should not have.

use chrono::{DateTime, Duration, Local, NaiveDate, Utc};
use rusqlite::Connection;

use crate::db;

const OFFSET: &str = "clock_offset_seconds";
const LATEST: &str = "clock_latest_seen";
/// How far back a reading may be before we call it implausible: NTP steps and a slow SD card
/// write should not raise the banner.
const TOLERANCE: Duration = Duration::minutes(10);
/// How often the latest reading is saved: often enough that a reboot cannot lose much.
const SAVE_EVERY: Duration = Duration::minutes(5);

#[derive(Clone, Debug)]
pub struct WallClock {
    offset: Duration,
    latest_seen: DateTime<Utc>,
    saved: DateTime<Utc>,
}

impl WallClock {
    /// Loads the correction and the latest time seen; merged loans count as seen times.
    pub fn load(conn: &Connection) -> rusqlite::Result<WallClock> {
        let offset = db::setting(conn, OFFSET)?
            .and_then(|s| s.parse::<i64>().ok())
            .map(Duration::seconds)
            .unwrap_or_default();
        let saved = db::setting(conn, LATEST)?
            .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let latest_loan = db::latest_loan_day(conn)?
            .and_then(|day| NaiveDate::parse_from_str(&day, "%Y-%m-%d").ok())
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        Ok(WallClock {
            offset,
            latest_seen: saved.max(latest_loan),
            saved,
        })
    }

    /// The corrected time now.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }

    /// Today's date where the library is (the appliance's time zone).
    pub fn today(&self) -> NaiveDate {
        self.now().with_timezone(&Local).date_naive()
    }

    /// True when the clock reads earlier than a time this appliance has already seen.
    pub fn implausible(&self) -> bool {
        self.now() + TOLERANCE < self.latest_seen
    }

    /// Notes the current reading as seen (if the clock is plausible) and saves it now and then.
    pub fn observe(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let now = self.now();
        if now > self.latest_seen {
            self.latest_seen = now;
        }
        if !self.implausible() && now - self.saved > SAVE_EVERY {
            db::set_setting(conn, LATEST, &self.latest_seen.to_rfc3339())?;
            self.saved = now;
        }
        Ok(())
    }

    /// Takes the time a librarian's phone reported as correct.
    pub fn set_from_phone(
        &mut self,
        conn: &Connection,
        phone: DateTime<Utc>,
    ) -> rusqlite::Result<()> {
        self.offset = phone - Utc::now();
        self.latest_seen = phone;
        self.saved = phone;
        db::set_setting(conn, OFFSET, &self.offset.num_seconds().to_string())?;
        db::set_setting(conn, LATEST, &phone.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let mut conn = Connection::open_in_memory().expect("open");
        db::migrate(&mut conn).expect("migrate");
        conn
    }

    #[test]
    fn a_clock_behind_what_was_seen_is_implausible_until_a_phone_corrects_it() {
        let conn = conn();
        let future = Utc::now() + Duration::days(400);
        db::set_setting(&conn, LATEST, &future.to_rfc3339()).expect("set");
        let mut clock = WallClock::load(&conn).expect("load");
        assert!(clock.implausible());
        clock.set_from_phone(&conn, future).expect("phone");
        assert!(!clock.implausible());
        let reloaded = WallClock::load(&conn).expect("reload");
        assert!(!reloaded.implausible());
        assert!((reloaded.now() - future).num_seconds().abs() < 5);
    }

    #[test]
    fn a_fresh_appliance_trusts_its_clock_and_remembers_it() {
        let conn = conn();
        let mut clock = WallClock::load(&conn).expect("load");
        assert!(!clock.implausible());
        clock.observe(&conn).expect("observe");
        assert!(db::setting(&conn, LATEST).expect("read").is_some());
    }

    #[test]
    fn a_merged_loan_from_the_future_counts_as_seen() {
        let conn = conn();
        let day = (Utc::now() + Duration::days(30))
            .format("%Y-%m-%d")
            .to_string();
        conn.execute(
            "INSERT INTO loan_index (id, scope, copy, reader, out, due, returned, renewals, desk)
             VALUES ('l', 'library:x', 'c', 'r', ?1, ?1, NULL, 0, 'd')",
            [day],
        )
        .expect("insert");
        assert!(WallClock::load(&conn).expect("load").implausible());
    }
}
