//! The ten main classes of the Dewey Decimal Classification, which district reports count by.

/// The main classes 000–900 by their first digit: (code, Vietnamese name, English name).
pub const DDC_CLASSES: [(&str, &str, &str); 10] = [
    (
        "000",
        "Tổng quát, tin học",
        "Computer science & general works",
    ),
    ("100", "Triết học, tâm lý học", "Philosophy & psychology"),
    ("200", "Tôn giáo", "Religion"),
    ("300", "Khoa học xã hội", "Social sciences"),
    ("400", "Ngôn ngữ", "Language"),
    ("500", "Khoa học tự nhiên", "Science"),
    ("600", "Công nghệ, khoa học ứng dụng", "Technology"),
    ("700", "Nghệ thuật, giải trí", "Arts & recreation"),
    ("800", "Văn học", "Literature"),
    ("900", "Lịch sử, địa lý", "History & geography"),
];

/// The main class (0–9) of a DDC number such as "895.922", or `None` when it is not one.
pub fn ddc_class(ddc: &str) -> Option<usize> {
    let ddc = ddc.trim();
    let digits: Vec<char> = ddc.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() != 3 {
        return None;
    }
    digits[0].to_digit(10).map(|d| d as usize)
}
