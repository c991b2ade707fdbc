//! `POST /staff/desk/scan` (form: `csrf`, `code`, optional `reader`): what a scan at the desk
//! means. A reader's card chooses that reader. With a reader chosen, a copy's barcode lends
//! the copy to them; with none, it checks the copy in (and says who is waiting for it).
//! Cards and barcodes are different collections, so the code is looked up in both.
//!
//! Lends and returns answer 303 back to the desk with the result line; input errors and
//! unknown codes show the desk again with a 4xx and nothing written.

use super::desk_get::{location, render};
use super::flash::{self, Flash};
use super::{CODE, check_form_csrf, code, day, desk_error, see_other};
use crate::circulation::library::{DeskError, ReturnReceipt, ReturnSlip};
use crate::db;
use crate::http::auth::Staff;
use crate::http::input::{Field, Input};
use crate::http::{ApiError, AppState, PageRequest};

const READER: Field = Field::new("reader", "bạn đọc đang chọn", "the chosen reader");

pub fn post(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    let reader = input.optional_text(READER, 64).ok().flatten();
    match scan(state, staff, input) {
        Ok(location) => see_other(&location),
        Err(error) => {
            if let ApiError::Internal(detail) = &error {
                eprintln!("http: internal error: {detail}");
            }
            let flash = Flash::refused(error.message(false), error.message(true));
            let status = error.status();
            render(
                state,
                staff,
                request,
                reader.as_deref(),
                Some(&flash),
                status,
            )
        }
    }
}

/// What kind of thing a scanned code is.
enum Scanned {
    Reader,
    Copy { title: String },
    Unknown,
}

fn identify(state: &AppState, code: &str) -> Result<Scanned, ApiError> {
    let scope = state.desk.scope().as_str().to_owned();
    let code = code.to_owned();
    state
        .read(move |conn| {
            if db::reader_by_card(conn, &scope, &code)?.is_some() {
                return Ok(Scanned::Reader);
            }
            Ok(match db::copy_by_barcode(conn, &scope, &code)? {
                Some((_, title)) => Scanned::Copy { title },
                None => Scanned::Unknown,
            })
        })?
        .map_err(|e: rusqlite::Error| ApiError::Internal(e.to_string()))
}

fn scan(state: &AppState, staff: &Staff, input: &Input) -> Result<String, ApiError> {
    check_form_csrf(staff, input)?;
    let scanned = code(input, CODE)?;
    let reader = input.optional_text(READER, 64)?;
    if let Some(card) = &reader
        && !matches!(identify(state, card)?, Scanned::Reader)
    {
        return Err(desk_error(DeskError::UnknownReader(card.clone())));
    }
    let today = state.today();
    match (identify(state, &scanned)?, reader) {
        (Scanned::Reader, _) => Ok(location(Some(&scanned), None)),
        (Scanned::Unknown, _) => Err(ApiError::NotFound {
            vi: format!(
                "Không có thẻ bạn đọc hay cuốn sách nào mang mã {scanned}. Hãy quét lại hoặc gõ mã."
            ),
            en: format!("No reader card or copy has the code {scanned}. Scan again or type it."),
        }),
        (Scanned::Copy { title }, Some(card)) => {
            let lent = state.write(|store| state.desk.lend(store, &card, &scanned, today))?;
            let what = describe(&title, &scanned);
            let flash = match lent {
                Ok(receipt) => Flash::ok(
                    format!("Đã cho mượn {what}, hạn trả {}.", day(receipt.due)),
                    format!("Lent {what}, due {}.", day(receipt.due)),
                ),
                Err(DeskError::Refused(refusals)) => {
                    let words: Vec<_> = refusals.iter().map(super::refusal_words).collect();
                    Flash::refused(
                        format!(
                            "Không cho mượn {what}: {}",
                            words
                                .iter()
                                .map(|w| w.1.as_str())
                                .collect::<Vec<_>>()
                                .join(" ")
                        ),
                        format!(
                            "Not lent {what}: {}",
                            words
                                .iter()
                                .map(|w| w.2.as_str())
                                .collect::<Vec<_>>()
                                .join(" ")
                        ),
                    )
                }
                Err(other) => return Err(desk_error(other)),
            };
            Ok(location(Some(&card), Some(&flash::keep(flash))))
        }
        (Scanned::Copy { title }, None) => {
            let slip = state
                .write(|store| state.desk.check_in(store, &scanned, today))?
                .map_err(desk_error)?;
            let flash = return_flash(state, &slip, &describe(&title, &scanned));
            Ok(location(None, Some(&flash::keep(flash))))
        }
    }
}

/// "«Title» (TS000123)", or the barcode alone.
pub fn describe(title: &str, barcode: &str) -> String {
    if title.is_empty() {
        barcode.to_owned()
    } else {
        format!("«{title}» ({barcode})")
    }
}

/// The return receipt: returned (late?), fine owed, and who the copy is set aside for.
pub fn return_flash(state: &AppState, slip: &ReturnSlip, what: &str) -> Flash {
    let (mut vi, mut en) = match &slip.receipt {
        ReturnReceipt::Closed { .. } if slip.late_days > 0 => (
            format!("Đã nhận trả {what} (trễ {} ngày).", slip.late_days),
            format!("Checked in {what} ({} days late).", slip.late_days),
        ),
        ReturnReceipt::Closed { .. } => (
            format!("Đã nhận trả {what}."),
            format!("Checked in {what}."),
        ),
        ReturnReceipt::Recorded => (
            format!(
                "Đã nhận {what}; máy này không thấy lượt mượn nào của cuốn này, sẽ đối chiếu khi đồng bộ."
            ),
            format!(
                "Took {what} back; no loan of it is known here, it will be matched when the desks sync."
            ),
        ),
    };
    if slip.fine > 0 {
        vi.push_str(&format!(" Tiền phạt: {} đồng.", thousands(slip.fine)));
        en.push_str(&format!(" Fine owed: {} VND.", thousands(slip.fine)));
    }
    if let Some(hold) = &slip.hold {
        let scope = state.desk.scope().as_str().to_owned();
        let card = hold.reader.clone();
        let name = state
            .read(|conn| db::reader_by_card(conn, &scope, &card))
            .ok()
            .and_then(Result::ok)
            .flatten()
            .map(|r| r.name)
            .unwrap_or_default();
        let who = if name.is_empty() {
            hold.reader.clone()
        } else {
            format!("{name} ({})", hold.reader)
        };
        vi.push_str(&format!(
            " Để riêng cho bạn đọc {who} (giữ đến {}).",
            day(hold.until)
        ));
        en.push_str(&format!(
            " Set aside for reader {who} (until {}).",
            day(hold.until)
        ));
    }
    Flash::ok(vi, en)
}

/// 12000 → "12.000", the Vietnamese way.
pub fn thousands(amount: i64) -> String {
    let digits = amount.abs().to_string();
    let mut out = String::new();
    for (n, c) in digits.chars().enumerate() {
        if n > 0 && (digits.len() - n).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if amount < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    #[test]
    fn amounts_are_grouped_by_thousands_with_dots() {
        for (amount, text) in [
            (0, "0"),
            (500, "500"),
            (12_000, "12.000"),
            (1_234_567, "1.234.567"),
            (-5_000, "-5.000"),
        ] {
            assert_eq!(super::thousands(amount), text);
        }
    }
}
