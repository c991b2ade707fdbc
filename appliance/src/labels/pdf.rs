//! Drawing label sheets with krilla: A4 pages, one [`Label`] pen per cell with text and
//! barcode bars in millimetres from the label's top-left corner.
//!
//! Everything that can be refused (a barcode, a layout, a skip) is checked before a page is
//! started, by the callers in `spine` and `card`; drawing itself cannot fail, only the final
//! serialisation can (a krilla limit), and that is a [`LabelError::Pdf`].

use krilla::Document;
use krilla::color::luma;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

use super::LabelError;
use super::code128::QUIET_ZONE_MODULES;
use super::layout::{A4_MM, Cell, Layout};
use super::text::{self, BOLD, REGULAR, Weight};

pub const PT_PER_MM: f32 = 72.0 / 25.4;

/// Narrowest bar we print: three dots of a 300 dpi printer, which a phone camera and zbar
/// still read. A barcode that would need narrower bars does not fit its label.
pub const MIN_MODULE_MM: f32 = 0.25;
/// Widest bar: wider only makes the barcode longer, not easier to read.
pub const MAX_MODULE_MM: f32 = 0.5;

/// The width a barcode of `modules` needs at the narrowest bars, quiet zones included.
pub fn barcode_min_width_mm(modules: usize) -> f32 {
    (modules + 2 * QUIET_ZONE_MODULES) as f32 * MIN_MODULE_MM
}

struct Fonts {
    regular: Font,
    bold: Font,
}

impl Fonts {
    fn load() -> Result<Fonts, LabelError> {
        let load = |bytes: &'static [u8]| {
            Font::new(bytes.into(), 0).ok_or_else(|| LabelError::Pdf("the embedded font".into()))
        };
        Ok(Fonts {
            regular: load(REGULAR)?,
            bold: load(BOLD)?,
        })
    }
}

/// A PDF of `items` on `layout`, after `skip` used cells, each drawn by `draw`.
pub fn sheets<T>(
    items: &[T],
    layout: &Layout,
    skip: usize,
    title: &str,
    draw: impl Fn(&mut Label<'_, '_>, &T),
) -> Result<Vec<u8>, LabelError> {
    let cells = layout.cells(items.len(), skip)?;
    let fonts = Fonts::load()?;
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(title.to_owned())
            .creator("Tủ Sách".to_owned())
            .language("vi".to_owned()),
    );
    let settings = PageSettings::from_wh(A4_MM.0 * PT_PER_MM, A4_MM.1 * PT_PER_MM)
        .ok_or_else(|| LabelError::Pdf("the A4 page size".into()))?;
    let pages = cells.last().map_or(0, |c| c.page + 1);
    let mut placed = items.iter().zip(&cells).peekable();
    for page_number in 0..pages {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        while let Some((item, cell)) = placed.next_if(|(_, cell)| cell.page == page_number) {
            let mut label = Label {
                surface: &mut surface,
                cell: *cell,
                fonts: &fonts,
            };
            draw(&mut label, item);
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| LabelError::Pdf(format!("{e:?}")))
}

/// The pen for one label.
pub struct Label<'s, 'p> {
    surface: &'s mut Surface<'p>,
    cell: Cell,
    fonts: &'s Fonts,
}

/// Where a line of text sits across its label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Centre,
    Right,
}

impl Label<'_, '_> {
    pub fn width_mm(&self) -> f32 {
        self.cell.w_mm
    }

    pub fn height_mm(&self) -> f32 {
        self.cell.h_mm
    }

    fn point(&self, x_mm: f32, y_mm: f32) -> Point {
        Point::from_xy(
            (self.cell.x_mm + x_mm) * PT_PER_MM,
            (self.cell.y_mm + y_mm) * PT_PER_MM,
        )
    }

    /// One line of (cleaned, fitted) text whose baseline is `baseline_mm` from the label's
    /// top, aligned within `x_mm .. x_mm + w_mm`.
    pub fn text(
        &mut self,
        line: &str,
        weight: Weight,
        size_pt: f32,
        (x_mm, w_mm): (f32, f32),
        baseline_mm: f32,
        align: Align,
    ) {
        if line.is_empty() {
            return;
        }
        let slack = (w_mm - text::width(line, weight, size_pt) / PT_PER_MM).max(0.0);
        let x = match align {
            Align::Left => x_mm,
            Align::Centre => x_mm + slack / 2.0,
            Align::Right => x_mm + slack,
        };
        let font = match weight {
            Weight::Regular => self.fonts.regular.clone(),
            Weight::Bold => self.fonts.bold.clone(),
        };
        let start = self.point(x, baseline_mm);
        self.surface.set_fill(Some(Fill::default()));
        self.surface.draw_text(
            start,
            font,
            size_pt,
            line,
            false,
            TextDirection::LeftToRight,
        );
    }

    /// Code 128 bars centred in `x_mm .. x_mm + w_mm`, from `y_mm` down `h_mm`: the widest
    /// bars (up to [`MAX_MODULE_MM`]) that fit with a quiet zone each side. The caller checked
    /// with [`barcode_min_width_mm`] that the area is wide enough.
    pub fn bars(&mut self, modules: &[bool], (x_mm, w_mm): (f32, f32), y_mm: f32, h_mm: f32) {
        let total = (modules.len() + 2 * QUIET_ZONE_MODULES) as f32;
        let module = (w_mm / total).min(MAX_MODULE_MM);
        let left = x_mm + (w_mm - module * modules.len() as f32) / 2.0;
        let mut path = PathBuilder::new();
        let mut start = None;
        // One rectangle per bar (a run of dark modules), so a wide bar has no seams.
        for (i, bar) in modules.iter().chain([&false]).enumerate() {
            match (bar, start) {
                (true, None) => start = Some(i),
                (false, Some(from)) => {
                    let top_left = self.point(left + from as f32 * module, y_mm);
                    if let Some(rect) = Rect::from_xywh(
                        top_left.x,
                        top_left.y,
                        (i - from) as f32 * module * PT_PER_MM,
                        h_mm * PT_PER_MM,
                    ) {
                        path.push_rect(rect);
                    }
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(path) = path.finish() {
            self.surface.set_fill(Some(Fill::default()));
            self.surface.draw_path(&path);
        }
    }

    /// A light hairline around the label, a guide for scissors on plain paper.
    pub fn outline(&mut self) {
        let corner = self.point(0.0, 0.0);
        let Some(rect) = Rect::from_xywh(
            corner.x,
            corner.y,
            self.cell.w_mm * PT_PER_MM,
            self.cell.h_mm * PT_PER_MM,
        ) else {
            return;
        };
        let mut path = PathBuilder::new();
        path.push_rect(rect);
        let Some(path) = path.finish() else {
            return;
        };
        self.surface.set_fill(None);
        self.surface.set_stroke(Some(Stroke {
            paint: luma::Color::new(170).into(),
            width: 0.3,
            opacity: NormalizedF32::ONE,
            ..Default::default()
        }));
        self.surface.draw_path(&path);
        self.surface.set_stroke(None);
    }
}
