//! Label sheets as the shops sell them: named A4 presets, each a grid of equal labels, and the
//! arithmetic that puts the n-th label of a print run on its page and cell.
//!
//! Lengths are millimetres, measured from the sheet's top-left corner, as the sheet makers
//! print them on the packet. This module draws nothing and knows no PDF units.

use super::LabelError;

/// A4, portrait.
pub const A4_MM: (f32, f32) = (210.0, 297.0);

/// One kind of label sheet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Layout {
    /// The name forms and URLs use ("a4-3x8").
    pub name: &'static str,
    pub columns: u32,
    pub rows: u32,
    /// One label's width and height.
    pub label_mm: (f32, f32),
    /// The top-left corner of the first label.
    pub margin_mm: (f32, f32),
    /// From one label's left (top) edge to the next one's: the label plus the gap.
    pub pitch_mm: (f32, f32),
}

/// The sheets a commune library is likely to have, in the order forms offer them.
pub const LAYOUTS: &[Layout] = &[
    // 24 labels 70 × 37 mm, edge to edge across the width (the most common sheet in
    // Vietnamese stationery shops, Tomy/Decal A4 24-up).
    Layout {
        name: "a4-3x8",
        columns: 3,
        rows: 8,
        label_mm: (70.0, 37.0),
        margin_mm: (0.0, 0.5),
        pitch_mm: (70.0, 37.0),
    },
    // 21 labels 63.5 × 38.1 mm with 2.54 mm gaps (Avery L7160 and its copies).
    Layout {
        name: "a4-3x7",
        columns: 3,
        rows: 7,
        label_mm: (63.5, 38.1),
        margin_mm: (7.2, 15.15),
        pitch_mm: (66.04, 38.1),
    },
    // 40 small labels 48.5 × 25.4 mm: spine labels for thin books.
    Layout {
        name: "a4-4x10",
        columns: 4,
        rows: 10,
        label_mm: (48.5, 25.4),
        margin_mm: (8.0, 21.5),
        pitch_mm: (48.5, 25.4),
    },
    // 10 business cards 85 × 54 mm (the size of an ID card) with a 10 mm gap between the
    // columns: reader cards.
    Layout {
        name: "a4-2x5-cards",
        columns: 2,
        rows: 5,
        label_mm: (85.0, 54.0),
        margin_mm: (15.0, 13.5),
        pitch_mm: (95.0, 54.0),
    },
];

/// Where one label goes: its page (from 0) and its rectangle on that page, in millimetres.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    pub page: usize,
    pub x_mm: f32,
    pub y_mm: f32,
    pub w_mm: f32,
    pub h_mm: f32,
}

impl Layout {
    /// The preset called `name`.
    pub fn named(name: &str) -> Result<&'static Layout, LabelError> {
        LAYOUTS
            .iter()
            .find(|l| l.name == name)
            .ok_or_else(|| LabelError::UnknownLayout(name.chars().take(40).collect()))
    }

    pub fn per_page(&self) -> usize {
        (self.columns * self.rows) as usize
    }

    /// The cells of `count` labels after `skip` cells already used on the first sheet, row by
    /// row from the top left, as a half-used sheet goes back into the printer.
    pub fn cells(&self, count: usize, skip: usize) -> Result<Vec<Cell>, LabelError> {
        let per_page = self.per_page();
        if skip >= per_page {
            return Err(LabelError::SkipTooLarge { skip, per_page });
        }
        Ok((skip..skip + count)
            .map(|slot| {
                let on_page = slot % per_page;
                let (column, row) = (
                    on_page % self.columns as usize,
                    on_page / self.columns as usize,
                );
                Cell {
                    page: slot / per_page,
                    x_mm: self.margin_mm.0 + column as f32 * self.pitch_mm.0,
                    y_mm: self.margin_mm.1 + row as f32 * self.pitch_mm.1,
                    w_mm: self.label_mm.0,
                    h_mm: self.label_mm.1,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_fits_on_a4_without_overlaps() {
        for layout in LAYOUTS {
            let cells = layout.cells(layout.per_page(), 0).expect("cells");
            for cell in &cells {
                assert!(cell.x_mm >= 0.0 && cell.y_mm >= 0.0, "{}", layout.name);
                assert!(
                    cell.x_mm + cell.w_mm <= A4_MM.0 + 0.01,
                    "{} {cell:?}",
                    layout.name
                );
                assert!(
                    cell.y_mm + cell.h_mm <= A4_MM.1 + 0.01,
                    "{} {cell:?}",
                    layout.name
                );
                assert_eq!(cell.page, 0);
            }
            for (i, a) in cells.iter().enumerate() {
                for b in &cells[i + 1..] {
                    let apart = a.x_mm + a.w_mm <= b.x_mm + 0.01
                        || b.x_mm + b.w_mm <= a.x_mm + 0.01
                        || a.y_mm + a.h_mm <= b.y_mm + 0.01
                        || b.y_mm + b.h_mm <= a.y_mm + 0.01;
                    assert!(apart, "{}: {a:?} overlaps {b:?}", layout.name);
                }
            }
        }
    }

    #[test]
    fn presets_have_the_sizes_the_packets_say() {
        let check = |name: &str, per_page: usize, size: (f32, f32)| {
            let layout = Layout::named(name).expect(name);
            assert_eq!((layout.per_page(), layout.label_mm), (per_page, size));
        };
        check("a4-3x8", 24, (70.0, 37.0));
        check("a4-4x10", 40, (48.5, 25.4));
        check("a4-2x5-cards", 10, (85.0, 54.0));
        check("a4-3x7", 21, (63.5, 38.1));
        assert!(matches!(
            Layout::named("letter-5x2"),
            Err(LabelError::UnknownLayout(name)) if name == "letter-5x2"
        ));
    }

    #[test]
    fn skip_starts_on_a_later_cell_and_spills_onto_the_next_page() {
        let layout = Layout::named("a4-3x8").expect("preset");
        let cells = layout.cells(5, 22).expect("cells");
        // Cells 22 and 23 are the last row's middle and right; then page 2 starts top left.
        assert_eq!(
            (cells[0].page, cells[0].x_mm, cells[0].y_mm),
            (0, 70.0, 259.5)
        );
        assert_eq!((cells[1].page, cells[1].x_mm), (0, 140.0));
        assert_eq!((cells[2].page, cells[2].x_mm, cells[2].y_mm), (1, 0.0, 0.5));
        assert_eq!((cells[4].page, cells[4].x_mm), (1, 140.0));
        let unskipped = layout.cells(1, 0).expect("cells");
        assert_eq!((unskipped[0].x_mm, unskipped[0].y_mm), (0.0, 0.5));
    }

    #[test]
    fn a_skip_of_a_whole_sheet_or_more_is_refused() {
        let layout = Layout::named("a4-4x10").expect("preset");
        assert!(layout.cells(1, 39).is_ok());
        assert!(matches!(
            layout.cells(1, 40),
            Err(LabelError::SkipTooLarge {
                skip: 40,
                per_page: 40
            })
        ));
    }
}
