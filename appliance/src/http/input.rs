//! What a state-changing request sent, from an HTML form or a JSON body, checked field by
//! field with a message a librarian understands.
//!
//! Every field is looked up by name and checked before the library is called, so a request
//! with a missing field, a wrong type, markup in text or an oversized value writes nothing.
//! Text may not contain `<` or `>` (no title or name needs them, and refusing them keeps
//! markup out of the data for every other program that reads it); pages escape everything
//! anyway.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::ApiError;

/// The largest request body any state-changing endpoint accepts.
pub const MAX_BODY_BYTES: u64 = 64 * 1024;

/// A field's name in both languages, for messages.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub vi: &'static str,
    pub en: &'static str,
}

impl Field {
    pub const fn new(name: &'static str, vi: &'static str, en: &'static str) -> Field {
        Field { name, vi, en }
    }
}

/// The fields of one request.
#[derive(Clone, Debug, Default)]
pub struct Input {
    fields: Map<String, Value>,
}

fn bad(vi: String, en: String) -> ApiError {
    ApiError::BadRequest { vi, en }
}

impl Input {
    /// A URL-encoded form: every value is text.
    pub fn from_form(form: HashMap<String, String>) -> Input {
        Input {
            fields: form
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        }
    }

    /// A JSON body, which must be one object.
    pub fn from_json(body: &[u8]) -> Result<Input, ApiError> {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(fields)) => Ok(Input { fields }),
            Ok(_) => Err(bad(
                "Nội dung gửi lên phải là một đối tượng JSON.".into(),
                "The body must be a JSON object.".into(),
            )),
            Err(e) => Err(bad(
                format!("Nội dung gửi lên không phải JSON hợp lệ ({e})."),
                format!("The body is not valid JSON ({e})."),
            )),
        }
    }

    /// The names of the fields sent, in order (for a handler that takes any of several).
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.fields.keys()
    }

    pub fn has(&self, name: &str) -> bool {
        self.fields.get(name).is_some_and(|v| !v.is_null())
    }

    /// A raw field, for handlers that read something unusual.
    pub fn raw(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }

    /// Required text: trimmed, not empty, at most `max_chars`, no markup or control characters.
    pub fn text(&self, field: Field, max_chars: usize) -> Result<String, ApiError> {
        self.optional_text(field, max_chars)?.ok_or_else(|| {
            bad(
                format!("Thiếu {}.", field.vi),
                format!("{} is missing.", capitalise(field.en)),
            )
        })
    }

    /// Optional text: `None` when absent or blank.
    pub fn optional_text(
        &self,
        field: Field,
        max_chars: usize,
    ) -> Result<Option<String>, ApiError> {
        let text = match self.fields.get(field.name) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(text)) => text.trim(),
            Some(Value::Number(n)) => {
                return Ok(Some(n.to_string())).and_then(|t| check_text(field, t, max_chars));
            }
            Some(_) => {
                return Err(bad(
                    format!("{} phải là chữ.", capitalise(field.vi)),
                    format!("{} must be text.", capitalise(field.en)),
                ));
            }
        };
        if text.is_empty() {
            return Ok(None);
        }
        check_text(field, Some(text.to_owned()), max_chars)
    }

    /// A required secret (a password): taken exactly as typed — not trimmed, any character
    /// allowed, since it is never shown — and at most `max_chars` long.
    pub fn secret(&self, field: Field, max_chars: usize) -> Result<String, ApiError> {
        match self.fields.get(field.name) {
            Some(Value::String(text)) if !text.is_empty() => {
                if text.chars().count() > max_chars {
                    Err(bad(
                        format!(
                            "{} quá dài (tối đa {max_chars} ký tự).",
                            capitalise(field.vi)
                        ),
                        format!(
                            "{} is too long (at most {max_chars} characters).",
                            capitalise(field.en)
                        ),
                    ))
                } else {
                    Ok(text.clone())
                }
            }
            Some(Value::String(_)) | None | Some(Value::Null) => Err(bad(
                format!("Thiếu {}.", field.vi),
                format!("{} is missing.", capitalise(field.en)),
            )),
            Some(_) => Err(bad(
                format!("{} phải là chữ.", capitalise(field.vi)),
                format!("{} must be text.", capitalise(field.en)),
            )),
        }
    }

    /// A required whole number within `range`.
    pub fn number(
        &self,
        field: Field,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<i64, ApiError> {
        let value = match self.fields.get(field.name) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => {
                Some(s.trim().parse::<i64>().map_err(|_| not_a_number(field))?)
            }
            Some(_) => return Err(not_a_number(field)),
        };
        let Some(value) = value else {
            return Err(bad(
                format!("Thiếu {}.", field.vi),
                format!("{} is missing.", capitalise(field.en)),
            ));
        };
        if !range.contains(&value) {
            return Err(bad(
                format!(
                    "{} phải từ {} đến {}.",
                    capitalise(field.vi),
                    range.start(),
                    range.end()
                ),
                format!(
                    "{} must be from {} to {}.",
                    capitalise(field.en),
                    range.start(),
                    range.end()
                ),
            ));
        }
        Ok(value)
    }

    /// A required date, `YYYY-MM-DD`.
    pub fn date(&self, field: Field) -> Result<NaiveDate, ApiError> {
        let text = self.text(field, 10)?;
        NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
            bad(
                format!(
                    "{} phải là ngày dạng năm-tháng-ngày, ví dụ 2026-09-05.",
                    capitalise(field.vi)
                ),
                format!("{} must be a date like 2026-09-05.", capitalise(field.en)),
            )
        })
    }

    /// A required choice among `allowed` values.
    pub fn choice(&self, field: Field, allowed: &[&str]) -> Result<String, ApiError> {
        let value = self.text(field, 64)?;
        if allowed.contains(&value.as_str()) {
            Ok(value)
        } else {
            Err(bad(
                format!(
                    "{} không hợp lệ: chọn một trong {}.",
                    capitalise(field.vi),
                    allowed.join(", ")
                ),
                format!(
                    "{} is not valid: choose one of {}.",
                    capitalise(field.en),
                    allowed.join(", ")
                ),
            ))
        }
    }
}

fn not_a_number(field: Field) -> ApiError {
    bad(
        format!("{} phải là một số.", capitalise(field.vi)),
        format!("{} must be a number.", capitalise(field.en)),
    )
}

fn check_text(
    field: Field,
    text: Option<String>,
    max_chars: usize,
) -> Result<Option<String>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    if text.contains(['<', '>']) {
        return Err(bad(
            format!("{} không được chứa ký tự < hoặc >.", capitalise(field.vi)),
            format!("{} may not contain < or >.", capitalise(field.en)),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(bad(
            format!(
                "{} chứa ký tự điều khiển không hợp lệ.",
                capitalise(field.vi)
            ),
            format!("{} contains control characters.", capitalise(field.en)),
        ));
    }
    if text.chars().count() > max_chars {
        return Err(bad(
            format!(
                "{} quá dài (tối đa {max_chars} ký tự).",
                capitalise(field.vi)
            ),
            format!(
                "{} is too long (at most {max_chars} characters).",
                capitalise(field.en)
            ),
        ));
    }
    Ok(Some(
        unicode_normalization::UnicodeNormalization::nfc(text.as_str()).collect(),
    ))
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CARD: Field = Field::new("card", "số thẻ bạn đọc", "the reader's card number");
    const DAYS: Field = Field::new("days", "số ngày", "the number of days");

    fn json(text: &str) -> Input {
        Input::from_json(text.as_bytes()).expect("json")
    }

    #[test]
    fn fields_are_checked_with_messages_in_both_languages() {
        let cases: &[(&str, &str)] = &[
            ("{}", "Thiếu số thẻ bạn đọc."),
            (r#"{"card": 12}"#, ""),
            (r#"{"card": ["x"]}"#, "Số thẻ bạn đọc phải là chữ."),
            (
                r#"{"card": "<script>alert(1)</script>"}"#,
                "Số thẻ bạn đọc không được chứa ký tự < hoặc >.",
            ),
            (r#"{"card": "   "}"#, "Thiếu số thẻ bạn đọc."),
        ];
        for (body, expected) in cases {
            match json(body).text(CARD, 20) {
                Ok(_) => assert!(expected.is_empty(), "{body} should fail"),
                Err(ApiError::BadRequest { vi, en }) => {
                    assert_eq!(&vi, expected, "{body}");
                    assert!(!en.is_empty());
                }
                Err(other) => panic!("{other:?}"),
            }
        }
        assert!(
            json(r#"{"card": "BD0001BD0001BD0001BD0001"}"#)
                .text(CARD, 20)
                .is_err()
        );
        assert!(Input::from_json(b"[1]").is_err());
        assert!(Input::from_json(b"{not json").is_err());
    }

    #[test]
    fn numbers_dates_and_choices() {
        assert_eq!(
            json(r#"{"days": "14"}"#).number(DAYS, 1..=60).expect("n"),
            14
        );
        assert!(json(r#"{"days": 0}"#).number(DAYS, 1..=60).is_err());
        assert!(json(r#"{"days": "mười"}"#).number(DAYS, 1..=60).is_err());
        assert!(json(r#"{"days": true}"#).number(DAYS, 1..=60).is_err());
        let day = Field::new("day", "ngày", "the day");
        assert!(json(r#"{"day": "2026-02-30"}"#).date(day).is_err());
        assert!(json(r#"{"day": "2026-02-28"}"#).date(day).is_ok());
        assert!(json(r#"{"card": "x"}"#).choice(CARD, &["a", "b"]).is_err());
    }

    #[test]
    fn text_is_normalised_to_nfc() {
        let decomposed = "Nguye\u{302}\u{303}n Du";
        let input = Input::from_form(HashMap::from([("card".to_owned(), decomposed.to_owned())]));
        assert_eq!(input.text(CARD, 40).expect("text"), "Nguyễn Du");
    }
}
