//! Registering readers, reading a reader's card, blocking and unblocking, and the PIN check of
//! the readers' "my loans" page.
//!
//! A registration is written twice: into the reader entity keyed by the card (what the desk,
//! the readers' pages and reports read) and as its own entity in `registrations` with a random
//! id. Two desks that give one card number to two people while apart write one reader entity,
//! which a merge fuses field by field; the two registration entities cannot fuse, so both
//! people are kept and the inbox shows the card registered twice.

use chrono::NaiveDate;
use tusach_sync::{Entity, Store, Value, WriteBatch};

use super::{Desk, DeskError, READERS, REGISTRATIONS, new_id};
use crate::circulation::readers::{self, NewReader, Reader};
use crate::db;

/// The reader entity's fields that describe the person, copied into the registration.
pub(super) const PERSON_FIELDS: [&str; 9] = [
    "name",
    "category",
    "card_expires",
    "registered",
    "class",
    "school",
    "contact",
    "pin_hash",
    "pin_salt",
];

impl Desk {
    /// Registers a new reader card on day `today` (the monthly report counts it as a new
    /// reader of that month); a card number already in use is refused.
    pub fn register_reader(
        &self,
        store: &mut Store,
        new: &NewReader,
        today: NaiveDate,
    ) -> Result<(), DeskError> {
        if self.card_in_use(store, &new.card)? {
            return Err(DeskError::CardTaken(new.card.clone()));
        }
        let mut batch = WriteBatch::new();
        self.put_registration(&mut batch, new, today)?;
        store.commit(&batch)?;
        Ok(())
    }

    /// Adds to `batch` the edits that register `new` on day `today`, after checking its
    /// category and PIN; the caller has checked the card is free (a spreadsheet import
    /// registers many readers in one commit).
    pub fn put_registration(
        &self,
        batch: &mut WriteBatch,
        new: &NewReader,
        today: NaiveDate,
    ) -> Result<(), DeskError> {
        if !readers::CATEGORIES.contains(&new.category.as_str()) {
            return Err(DeskError::Invalid(format!("category {:?}", new.category)));
        }
        let mut person: Vec<(&str, Value)> = vec![
            ("name", new.name.as_str().into()),
            ("category", new.category.as_str().into()),
            ("card_expires", super::iso(new.card_expires).into()),
            ("registered", super::iso(today).into()),
        ];
        for (field, value) in [
            ("class", &new.class),
            ("school", &new.school),
            ("contact", &new.contact),
        ] {
            if let Some(value) = value {
                person.push((field, value.as_str().into()));
            }
        }
        if let Some(pin) = &new.pin {
            if !readers::valid_pin(pin) {
                return Err(DeskError::Invalid("the PIN must be 4 to 8 digits".into()));
            }
            let salt = readers::new_salt().map_err(|e| DeskError::Random(e.to_string()))?;
            person.push(("pin_hash", readers::pin_hash(&salt, pin).into()));
            person.push(("pin_salt", salt.into()));
        }
        // The same person twice: in the reader entity keyed by the card, and as a
        // registration of their own that the reader entity names.
        let registration = new_id("reg")?;
        let key = self.key(READERS, &new.card);
        let reg_key = self.key(REGISTRATIONS, &registration);
        for (field, value) in person {
            batch
                .put(&key, field, value.clone())
                .put(&reg_key, field, value);
        }
        batch
            .put(&reg_key, "card", new.card.as_str())
            .put(&reg_key, "desk", self.desk.as_str())
            .put(&key, "registration", registration.as_str());
        Ok(())
    }

    /// Whether a reader or a registration already uses `card`.
    pub fn card_in_use(&self, store: &mut Store, card: &str) -> Result<bool, DeskError> {
        Ok(store.get(&self.key(READERS, card))?.is_some()
            || !db::registrations_of_card(store.connection(), self.scope.as_str(), card)?
                .is_empty())
    }

    /// The registration this desk knows under `card`, if the card was registered with one.
    pub(super) fn registration_of_card(
        &self,
        store: &mut Store,
        card: &str,
    ) -> Result<Option<String>, DeskError> {
        Ok(store.get(&self.key(READERS, card))?.and_then(|f| {
            f.get("registration")
                .and_then(Value::as_str)
                .map(str::to_owned)
        }))
    }

    /// Adds to `batch` the edits that make the reader entity of `card` describe the person of
    /// a registration (fields it lacks are cleared), leaving the block alone.
    pub(super) fn put_person(
        &self,
        batch: &mut WriteBatch,
        card: &str,
        registration: &str,
        person: &Entity,
    ) {
        let key = self.key(READERS, card);
        for field in PERSON_FIELDS {
            batch.put(
                &key,
                field,
                person.get(field).cloned().unwrap_or(Value::Null),
            );
        }
        batch.put(&key, "registration", registration);
    }

    /// A reader's card details.
    pub fn reader_profile(&self, store: &mut Store, card: &str) -> Result<Reader, DeskError> {
        let fields = store
            .get(&self.key(READERS, card))?
            .ok_or_else(|| DeskError::UnknownReader(card.to_owned()))?;
        Ok(Reader::from_entity(card, &fields))
    }

    /// Blocks a reader with a note (`Some`), or lifts the block (`None`).
    pub fn set_block(
        &self,
        store: &mut Store,
        card: &str,
        note: Option<&str>,
        today: NaiveDate,
    ) -> Result<(), DeskError> {
        match note {
            Some(note) => self.block_reader(store, card, note, today),
            None => {
                self.reader_profile(store, card)?;
                let key = self.key(READERS, card);
                let mut batch = WriteBatch::new();
                batch.put(&key, "blocked_note", Value::Null).put(
                    &key,
                    "blocked_since",
                    Value::Null,
                );
                store.commit(&batch)?;
                Ok(())
            }
        }
    }

    /// Whether `pin` opens this reader's "my loans" page. An unknown card is simply `false`:
    /// the page must not tell a guesser which cards exist.
    pub fn check_pin(&self, store: &mut Store, card: &str, pin: &str) -> Result<bool, DeskError> {
        Ok(store
            .get(&self.key(READERS, card))?
            .is_some_and(|fields| readers::pin_matches(&fields, pin)))
    }

    /// Sets a reader's PIN (4 to 8 digits).
    pub fn set_pin(&self, store: &mut Store, card: &str, pin: &str) -> Result<(), DeskError> {
        self.reader_profile(store, card)?;
        if !readers::valid_pin(pin) {
            return Err(DeskError::Invalid("the PIN must be 4 to 8 digits".into()));
        }
        let key = self.key(READERS, card);
        let salt = readers::new_salt().map_err(|e| DeskError::Random(e.to_string()))?;
        let hash = readers::pin_hash(&salt, pin);
        let mut batch = WriteBatch::new();
        batch
            .put(&key, "pin_hash", hash.as_str())
            .put(&key, "pin_salt", salt.as_str());
        // The registration keeps the person's PIN too: a card registered twice is untangled
        // from the registrations.
        if let Some(registration) = self.registration_of_card(store, card)? {
            let reg_key = self.key(REGISTRATIONS, &registration);
            batch
                .put(&reg_key, "pin_hash", hash)
                .put(&reg_key, "pin_salt", salt);
        }
        store.commit(&batch)?;
        Ok(())
    }
}
