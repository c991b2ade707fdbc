//! `POST /staff/exceptions/resolve` (form: `csrf`, `exception`, `resolution`, and `new_card`
//! for a person taking a new card) and
//! `POST /api/exceptions/resolve` (JSON with `X-CSRF-Token`): applies one of an exception's
//! resolutions as one commit. An exception already resolved (here or at another desk) is a
//! 404 that says so; a resolution the exception does not offer is a 400; both write nothing.

use chrono::NaiveDate;
use warp::http::StatusCode;

use super::{error_page, frame, internal, see_other};
use crate::circulation::exceptions::Resolution;
use crate::circulation::library::ResolveError;
use crate::http::auth::Staff;
use crate::http::input::{Field, Input};
use crate::http::{ApiError, AppState, PageRequest, check_csrf, json_error, json_reply};

const CSRF: Field = Field::new("csrf", "mã bảo vệ biểu mẫu", "the form token");
const EXCEPTION: Field = Field::new("exception", "mã việc cần xử lý", "the exception id");
const RESOLUTION: Field = Field::new("resolution", "cách xử lý", "the resolution");
const NEW_CARD: Field = Field::new("new_card", "số thẻ mới", "the new card number");

/// How a resolution travels in a form or JSON: `keep:LOAN`, `close:LOAN:YYYY-MM-DD`,
/// `acknowledge`, `retire:CARD`, or `newcard:REGISTRATION[:CARD]` (no card: the desk picks a free one, or the
/// form's `new_card` field says).
pub(super) fn token(resolution: &Resolution) -> String {
    match resolution {
        Resolution::KeepLoan { loan } => format!("keep:{loan}"),
        Resolution::CloseLoanAsReturned { loan, on } => {
            format!("close:{loan}:{}", on.format("%Y-%m-%d"))
        }
        Resolution::Acknowledge => "acknowledge".to_owned(),
        Resolution::GiveNewCard { registration, card } if card.is_empty() => {
            format!("newcard:{registration}")
        }
        Resolution::GiveNewCard { registration, card } => format!("newcard:{registration}:{card}"),
        Resolution::RetireCard { card } => format!("retire:{card}"),
    }
}

pub(super) fn parse_token(text: &str) -> Option<Resolution> {
    if text == "acknowledge" {
        return Some(Resolution::Acknowledge);
    }
    if let Some(loan) = text.strip_prefix("keep:") {
        return (!loan.is_empty()).then(|| Resolution::KeepLoan {
            loan: loan.to_owned(),
        });
    }
    if let Some(rest) = text.strip_prefix("newcard:") {
        let (registration, card) = rest.split_once(':').unwrap_or((rest, ""));
        return (!registration.is_empty()).then(|| Resolution::GiveNewCard {
            registration: registration.to_owned(),
            card: card.to_owned(),
        });
    }
    if let Some(card) = text.strip_prefix("retire:") {
        return (!card.is_empty()).then(|| Resolution::RetireCard {
            card: card.to_owned(),
        });
    }
    let rest = text.strip_prefix("close:")?;
    let (loan, on) = rest.rsplit_once(':')?;
    let on = NaiveDate::parse_from_str(on, "%Y-%m-%d").ok()?;
    (!loan.is_empty()).then(|| Resolution::CloseLoanAsReturned {
        loan: loan.to_owned(),
        on,
    })
}

fn resolve(state: &AppState, staff: &Staff, input: &Input, csrf: &str) -> Result<String, ApiError> {
    check_csrf(staff, csrf)?;
    let exception = input.text(EXCEPTION, 400)?;
    let resolution = input.text(RESOLUTION, 400)?;
    let mut resolution = parse_token(&resolution).ok_or_else(|| ApiError::BadRequest {
        vi: "Cách xử lý không hợp lệ: hãy tải lại trang “Cần xử lý” rồi chọn lại.".into(),
        en: "That resolution is not valid: reload the exceptions page and choose again.".into(),
    })?;
    if let Resolution::GiveNewCard { card, .. } = &mut resolution
        && card.is_empty()
        && let Some(typed) = input.optional_text(NEW_CARD, 64)?
    {
        *card = typed.trim().to_owned();
    }
    let today = state.today();
    match state.write(|store| state.desk.resolve(store, &exception, &resolution, today))? {
        Ok(()) => Ok(exception),
        Err(ResolveError::UnknownException(_)) => Err(ApiError::NotFound {
            vi: "Việc này không còn trong danh sách (có thể đã được xử lý ở quầy khác). Hãy tải lại trang.".into(),
            en: "This exception is no longer in the inbox (perhaps resolved at another desk). Reload the page.".into(),
        }),
        Err(ResolveError::NotOffered(..)) => Err(ApiError::BadRequest {
            vi: "Cách xử lý này không dùng được cho việc này. Hãy tải lại trang rồi chọn lại.".into(),
            en: "That resolution does not apply to this exception. Reload the page and choose again.".into(),
        }),
        Err(ResolveError::CardUnavailable(card)) => Err(ApiError::Conflict {
            vi: format!("Không cấp được thẻ số “{card}”: số này đã có người dùng hoặc không phải số thẻ. Hãy nhập số khác, hoặc để trống để quầy tự chọn."),
            en: format!("Card “{card}” cannot be given: it is in use or not a card number. Type another, or leave it empty for the desk to pick one."),
        }),
        Err(ResolveError::Desk(error)) => Err(internal(error)),
    }
}

pub fn post_form(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    let result = input
        .optional_text(CSRF, 128)
        .and_then(|csrf| resolve(state, staff, input, &csrf.unwrap_or_default()));
    match result {
        Ok(_) => see_other("/staff/exceptions?resolved=1"),
        Err(error) => error_page(&frame(state, staff, request), &error, "/staff/exceptions"),
    }
}

pub fn post_json(
    state: &AppState,
    staff: &Staff,
    input: &Input,
    csrf: &str,
) -> warp::reply::Response {
    match resolve(state, staff, input, csrf) {
        Ok(id) => json_reply(StatusCode::OK, &serde_json::json!({"resolved": id})),
        Err(error) => json_error(&error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let on = NaiveDate::from_ymd_opt(2026, 3, 4).expect("date");
        for resolution in [
            Resolution::Acknowledge,
            Resolution::KeepLoan {
                loan: "loan-ab12".into(),
            },
            Resolution::CloseLoanAsReturned {
                loan: "loan-offline-0".into(),
                on,
            },
            Resolution::GiveNewCard {
                registration: "reg-01ab".into(),
                card: String::new(),
            },
            Resolution::GiveNewCard {
                registration: "reg-01ab".into(),
                card: "BD:7".into(),
            },
            Resolution::RetireCard {
                card: "BD07".into(),
            },
        ] {
            assert_eq!(parse_token(&token(&resolution)), Some(resolution));
        }
        for bad in [
            "",
            "keep:",
            "close:loan-1",
            "close:loan-1:2026-02-30",
            "drop",
            "newcard:",
            "retire:",
        ] {
            assert_eq!(parse_token(bad), None, "{bad:?}");
        }
    }
}
