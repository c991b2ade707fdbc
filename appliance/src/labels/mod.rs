//! Labels and cards: PDF sheets of spine labels (call number, Code 128 barcode, a title line)
//! and reader cards (library, name, details, card barcode) on common A4 label sheets, with
//! Vietnamese text in Noto Sans embedded in the binary.
//!
//! - [`layout`]: the named sheet presets and where the n-th label goes (with a skip, so a
//!   half-used sheet can go back into the printer).
//! - [`code128`]: which code set, and the bars of a barcode.
//! - [`spine`], [`card`]: what goes on each label, checked before anything is drawn.
//! - [`select`]: which copies or readers to print, from the query tables and the store.
//! - `text` and `pdf`: the font, normal forms and line fitting; drawing with krilla.
//!
//! What this module does not do: it knows nothing about HTTP, forms or languages (the caller
//! hands it the words to print), and it writes nothing to the store.

pub mod card;
pub mod code128;
pub mod layout;
mod pdf;
pub mod select;
pub mod spine;
pub mod text;

pub use card::{CardHeading, ReaderCard, reader_cards_pdf};
pub use layout::{LAYOUTS, Layout};
pub use spine::{SpineLabel, spine_labels_pdf};

/// Most labels in one PDF: a whole commune library's collection fits, and a request can
/// never make the appliance draw without end.
pub const MAX_LABELS: usize = 5_000;

#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("'{0}' cannot be a Code 128 barcode: use letters, digits and ASCII signs, at most 40")]
    Unencodable(String),
    #[error("no label layout is named '{0}'")]
    UnknownLayout(String),
    #[error("nothing was chosen to print")]
    NothingSelected,
    #[error("at most {MAX_LABELS} labels at a time, not {0}")]
    TooMany(usize),
    #[error("skip {skip}: a sheet has only {per_page} labels")]
    SkipTooLarge { skip: usize, per_page: usize },
    #[error("barcode {barcode} is too long for the labels of layout {layout}")]
    BarcodeTooWide {
        barcode: String,
        layout: &'static str,
    },
    #[error("no copy of this library has barcode {0}")]
    UnknownCopy(String),
    #[error("this library has no copy of record {0}")]
    NoCopiesOfRecord(String),
    #[error("no copy is on shelf {0}")]
    EmptyShelf(String),
    #[error("no reader has card {0}")]
    UnknownReader(String),
    #[error("no reader is in {0}")]
    NoReaders(String),
    #[error("the PDF could not be made: {0}")]
    Pdf(String),
    #[error(transparent)]
    Store(#[from] tusach_sync::StoreError),
    #[error(transparent)]
    Database(#[from] rusqlite::Error),
}

/// Refuses an empty or oversized print run before any work.
fn check_count(count: usize) -> Result<(), LabelError> {
    match count {
        0 => Err(LabelError::NothingSelected),
        n if n > MAX_LABELS => Err(LabelError::TooMany(n)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
