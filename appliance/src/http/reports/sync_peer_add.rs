//! `POST /staff/sync/peers/add` (admins, form with `csrf` and `address`): a peer's address
//! typed by hand, `HOST:PORT`, for a hub or a desk that mDNS cannot find on another subnet.
//! A valid new address is stored and dialled at once; anything else is refused with a
//! sentence that says what to type, and nothing is stored. What is stored and dialled is
//! [`crate::sync_service::manual_peers`]' business.

use super::{error_page, frame, see_other};
use crate::http::auth::Staff;
use crate::http::input::{Field, Input};
use crate::http::{ApiError, AppState, PageRequest, check_form_csrf};
use crate::sync_service::manual_peers::{self, AddressError, MAX_ADDRESSES, ManualPeerError};

const ADDRESS: Field = Field::new("address", "địa chỉ", "the address");

/// Typed addresses are an admin's setting: a librarian could point the desk anywhere.
pub(super) fn admin_form(staff: &Staff, input: &Input) -> Result<(), ApiError> {
    check_form_csrf(staff, input)?;
    if !staff.admin {
        return Err(ApiError::Forbidden);
    }
    Ok(())
}

/// The librarian's sentence for each refusal; the log gets nothing, since nothing failed.
pub(super) fn manual_peer_error(error: ManualPeerError) -> ApiError {
    let bad = |vi: String, en: String| ApiError::BadRequest { vi, en };
    const EXAMPLE: &str = "192.168.1.20:7654";
    match error {
        ManualPeerError::Invalid(AddressError::Empty) => bad(
            format!("Hãy nhập địa chỉ dạng MÁY:CỔNG, ví dụ {EXAMPLE}."),
            format!("Type an address as HOST:PORT, e.g. {EXAMPLE}."),
        ),
        ManualPeerError::Invalid(AddressError::TooLong) => bad(
            "Địa chỉ quá dài: hãy nhập tên máy hoặc địa chỉ IP và cổng.".into(),
            "The address is too long: type a host name or IP address and a port.".into(),
        ),
        ManualPeerError::Invalid(AddressError::NoPort) => bad(
            format!("Thiếu cổng: hãy nhập dạng MÁY:CỔNG, ví dụ {EXAMPLE}."),
            format!("No port: type HOST:PORT, e.g. {EXAMPLE}."),
        ),
        ManualPeerError::Invalid(AddressError::BadPort(port)) => bad(
            format!("«{port}» không phải số cổng: cổng là một số từ 1 đến 65535."),
            format!("'{port}' is not a port: a port is a number from 1 to 65535."),
        ),
        ManualPeerError::Invalid(AddressError::BadHost(host)) => bad(
            format!(
                "«{host}» không phải tên máy hay địa chỉ IP: tên máy chỉ gồm chữ không dấu, \
                 chữ số, '-' và '.'; địa chỉ IPv6 đặt trong [ ]."
            ),
            format!(
                "'{host}' is neither a host name nor an IP address: names use letters, digits, \
                 '-' and '.'; an IPv6 address goes in [ ]."
            ),
        ),
        ManualPeerError::AlreadyListed(address) => ApiError::Conflict {
            vi: format!("Địa chỉ {address} đã có trong danh sách."),
            en: format!("{address} is already in the list."),
        },
        ManualPeerError::Full => ApiError::Conflict {
            vi: format!("Danh sách đã đủ {MAX_ADDRESSES} địa chỉ: hãy xóa bớt một địa chỉ trước."),
            en: format!("The list holds {MAX_ADDRESSES} addresses already: remove one first."),
        },
        ManualPeerError::NotListed(address) => ApiError::NotFound {
            vi: format!("Địa chỉ {address} không có trong danh sách (có thể đã bị xóa)."),
            en: format!("{address} is not in the list (removed already?)."),
        },
        error @ (ManualPeerError::Settings(_) | ManualPeerError::StorePoisoned) => {
            ApiError::Internal(error.to_string())
        }
    }
}

pub fn post_form(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    let added = admin_form(staff, input).and_then(|()| {
        let typed = input.text(ADDRESS, 300)?;
        manual_peers::add(&state.sync, &typed).map_err(manual_peer_error)
    });
    match added {
        Ok(address) => {
            eprintln!("typed sync address added: {address}");
            see_other("/staff/sync#typed-addresses")
        }
        Err(error) => error_page(&frame(state, staff, request), &error, "/staff/sync"),
    }
}
