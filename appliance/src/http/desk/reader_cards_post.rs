//! `POST /staff/readers/cards` (form: `csrf`, `what` = `cards` | `category` | `class`, `cards`
//! one per line, `category`, `class`, `layout`, `skip`): reader cards as a PDF download
//! ("thẻ-bạn-đọc-YYYY-MM-DD.pdf"). The cards are printed in Vietnamese, the library's
//! language, whatever language the page is shown in.

use super::day;
use super::desk_get::category_name;
use super::reader_cards_get::render;
use crate::circulation::readers::{CATEGORIES, Reader};
use crate::http::auth::Staff;
use crate::http::i18n::Lang;
use crate::http::input::{Field, Input};
use crate::http::labels::{codes, label_error, layout_and_skip, pdf_download};
use crate::http::{ApiError, AppState, PageRequest, check_form_csrf};
use crate::labels::select::{self, ReaderChoice};
use crate::labels::{CardHeading, ReaderCard, reader_cards_pdf};

const WHAT: Field = Field::new("what", "cách chọn bạn đọc", "which readers");
const CARDS: Field = Field::new("cards", "số thẻ", "the card numbers");
const CATEGORY: Field = Field::new("category", "đối tượng bạn đọc", "the reader category");
const CLASS: Field = Field::new("class", "lớp", "the class");

/// The cards print in the library's language.
const PRINTED: Lang = Lang::Vi;

fn choice(input: &Input) -> Result<ReaderChoice, ApiError> {
    Ok(
        match input
            .choice(WHAT, &["cards", "category", "class"])?
            .as_str()
        {
            "category" => ReaderChoice::Category(input.choice(CATEGORY, &CATEGORIES)?),
            "class" => ReaderChoice::Class(input.text(CLASS, 40)?),
            _ => ReaderChoice::Cards(codes(input, CARDS)?),
        },
    )
}

/// What a card says about its reader: category and class, then until when it is valid.
fn card_of(reader: &Reader) -> ReaderCard {
    let mut first = category_name(PRINTED, &reader.category).to_owned();
    if let Some(class) = &reader.class {
        first.push_str(&format!(" · {} {class}", PRINTED.t("labels.card.class")));
    }
    if let Some(school) = &reader.school {
        first.push_str(&format!(" · {school}"));
    }
    let mut details = vec![first];
    if let Some(until) = reader.card_expires {
        details.push(format!(
            "{} {}",
            PRINTED.t("labels.card.valid_until"),
            day(until)
        ));
    }
    ReaderCard {
        card: reader.card.clone(),
        name: reader.name.clone(),
        details,
    }
}

fn make(state: &AppState, input: &Input) -> Result<Vec<u8>, ApiError> {
    let choice = choice(input)?;
    let (layout, skip) = layout_and_skip(input)?;
    let readers = state
        .write(|store| select::readers(store, state.desk.scope(), &choice))?
        .map_err(label_error)?;
    let cards: Vec<ReaderCard> = readers.iter().map(card_of).collect();
    let heading = CardHeading {
        library: state.library.name.clone(),
        title: PRINTED.t("labels.card.heading").to_owned(),
    };
    reader_cards_pdf(&cards, &heading, layout, skip).map_err(label_error)
}

pub fn post(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    match check_form_csrf(staff, input).and_then(|()| make(state, input)) {
        Ok(pdf) => {
            let today = state.today().format("%Y-%m-%d");
            pdf_download(
                pdf,
                &format!("thẻ-bạn-đọc-{today}"),
                &format!("the-ban-doc-{today}"),
            )
        }
        Err(error) => {
            if let ApiError::Internal(detail) = &error {
                eprintln!("http: reader cards: {detail}");
            }
            render(state, staff, request, input, Some(&error))
        }
    }
}
