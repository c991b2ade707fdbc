//! Reader cards: the library's name, a heading, the reader's name large, a line or two about
//! the reader (category, class, expiry) and the card number as a Code 128 barcode for the
//! desk's scanner.
//!
//! The words come ready from the caller (in the library's language); this module only places
//! them and checks that every card's barcode can be printed before it draws any.

use super::code128;
use super::pdf::{self, Align, Label, PT_PER_MM};
use super::text::{self, Weight};
use super::{LabelError, Layout, check_count};

/// One reader's card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReaderCard {
    pub card: String,
    pub name: String,
    /// Short lines under the name ("Học sinh · Lớp 5A", "Hạn thẻ: 31/12/2027"); at most two
    /// are printed.
    pub details: Vec<String>,
}

/// What every card of a sheet says at the top.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardHeading {
    /// "Thư viện xã Nghi Phú".
    pub library: String,
    /// "THẺ BẠN ĐỌC".
    pub title: String,
}

struct Ready<'a> {
    card: &'a ReaderCard,
    heading: &'a CardHeading,
    modules: Vec<bool>,
}

fn padding(h_mm: f32) -> f32 {
    (h_mm * 0.065).clamp(1.2, 3.5)
}

/// A PDF of reader cards on `layout`, leaving the first `skip` cells of the sheet unused.
pub fn reader_cards_pdf(
    cards: &[ReaderCard],
    heading: &CardHeading,
    layout: &Layout,
    skip: usize,
) -> Result<Vec<u8>, LabelError> {
    check_count(cards.len())?;
    layout.cells(cards.len(), skip)?;
    let bar_width = layout.label_mm.0 - 2.0 * padding(layout.label_mm.1);
    let ready = cards
        .iter()
        .map(|card| {
            let modules = code128::modules(&card.card)?;
            if pdf::barcode_min_width_mm(modules.len()) > bar_width {
                return Err(LabelError::BarcodeTooWide {
                    barcode: card.card.clone(),
                    layout: layout.name,
                });
            }
            Ok(Ready {
                card,
                heading,
                modules,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    pdf::sheets(&ready, layout, skip, "Thẻ bạn đọc", draw)
}

fn size_for_row(row_mm: f32) -> f32 {
    row_mm * PT_PER_MM / 1.25
}

/// A line fitted to the card's width: shrunk to 70% at most, then shortened.
fn fitted(line: &str, weight: Weight, row_mm: f32, width_mm: f32) -> (String, f32) {
    let line = text::clean(line);
    let size = size_for_row(row_mm);
    let size = text::size_to_fit(&line, weight, size, size * 0.7, width_mm * PT_PER_MM);
    (text::fit(&line, weight, size, width_mm * PT_PER_MM), size)
}

fn draw(pen: &mut Label<'_, '_>, ready: &Ready<'_>) {
    let (w, h) = (pen.width_mm(), pen.height_mm());
    let pad = padding(h);
    let (inner_w, inner_h) = (w - 2.0 * pad, h - 2.0 * pad);
    let across = (pad, inner_w);
    pen.outline();

    // Each line: its text, weight, height and alignment, and the space above it.
    let mut lines = vec![
        (
            ready.heading.library.as_str(),
            Weight::Bold,
            0.11,
            Align::Centre,
            0.0,
        ),
        (
            ready.heading.title.as_str(),
            Weight::Regular,
            0.09,
            Align::Centre,
            0.0,
        ),
        (
            ready.card.name.as_str(),
            Weight::Bold,
            0.14,
            Align::Left,
            0.04,
        ),
    ];
    for detail in ready.card.details.iter().take(2) {
        lines.push((detail.as_str(), Weight::Regular, 0.085, Align::Left, 0.0));
    }
    let mut y = pad;
    for (line, weight, row, align, space) in lines {
        let row = inner_h * row;
        y += inner_h * space;
        let (fitted, size) = fitted(line, weight, row, inner_w);
        pen.text(&fitted, weight, size, across, y + row * 0.8, align);
        y += row;
    }

    let digits_row = inner_h * 0.08;
    let bars_row = inner_h * 0.22;
    let bars_top = pad + inner_h - digits_row - bars_row;
    pen.bars(&ready.modules, across, bars_top, bars_row);
    pen.text(
        &ready.card.card,
        Weight::Regular,
        size_for_row(digits_row),
        across,
        bars_top + bars_row + digits_row * 0.8,
        Align::Centre,
    );
}
