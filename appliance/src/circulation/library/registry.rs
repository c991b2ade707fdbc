//! Registering readers, reading a reader's card, blocking and unblocking, and the PIN check of
//! the readers' "my loans" page.

use chrono::NaiveDate;
use tusach_sync::{Store, Value, WriteBatch};

use super::{Desk, DeskError, READERS};
use crate::circulation::readers::{self, NewReader, Reader};

impl Desk {
    /// Registers a new reader card on day `today` (the monthly report counts it as a new
    /// reader of that month); a card number already in use is refused.
    pub fn register_reader(
        &self,
        store: &mut Store,
        new: &NewReader,
        today: NaiveDate,
    ) -> Result<(), DeskError> {
        if !readers::CATEGORIES.contains(&new.category.as_str()) {
            return Err(DeskError::Invalid(format!("category {:?}", new.category)));
        }
        let key = self.key(READERS, &new.card);
        if store.get(&key)?.is_some() {
            return Err(DeskError::CardTaken(new.card.clone()));
        }
        let mut batch = WriteBatch::new();
        self.put_reader(
            &mut batch,
            &new.card,
            &new.name,
            &new.category,
            new.card_expires,
            today,
        );
        for (field, value) in [
            ("class", &new.class),
            ("school", &new.school),
            ("contact", &new.contact),
        ] {
            if let Some(value) = value {
                batch.put(&key, field, value.as_str());
            }
        }
        if let Some(pin) = &new.pin {
            if !readers::valid_pin(pin) {
                return Err(DeskError::Invalid("the PIN must be 4 to 8 digits".into()));
            }
            let salt = readers::new_salt().map_err(|e| DeskError::Random(e.to_string()))?;
            batch
                .put(&key, "pin_hash", readers::pin_hash(&salt, pin))
                .put(&key, "pin_salt", salt);
        }
        store.commit(&batch)?;
        Ok(())
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
        let mut batch = WriteBatch::new();
        batch
            .put(&key, "pin_hash", readers::pin_hash(&salt, pin))
            .put(&key, "pin_salt", salt);
        store.commit(&batch)?;
        Ok(())
    }
}
