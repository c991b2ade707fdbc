//! CSV as Excel opens it: UTF-8 with a byte-order mark (without it Excel shows Vietnamese as
//! mojibake), CRLF line ends and RFC 4180 quoting. Hand-written: it is a dozen lines, and a
//! crate would add a dependency for less than that.

/// The byte-order mark Excel looks for.
pub const BOM: &str = "\u{feff}";

/// One CSV field: quoted when it holds a comma, quote or line break, with quotes doubled.
/// A text that a spreadsheet would take for a formula (`=`, `+`, `-`, `@` first) gets a
/// leading `'`, so a library name can never run as a formula on the district's computer.
pub fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r', ';']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// One CSV line, with its CRLF.
pub fn line(fields: &[&str]) -> String {
    let mut out = fields
        .iter()
        .map(|f| field(f))
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        for (text, expected) in [
            ("Văn học", "Văn học"),
            ("Tổng quát, tin học", "\"Tổng quát, tin học\""),
            ("sách \"hay\"", "\"sách \"\"hay\"\"\""),
            ("hai\ndòng", "\"hai\ndòng\""),
            ("=1+1", "'=1+1"),
            ("-5", "'-5"),
            ("", ""),
        ] {
            assert_eq!(field(text), expected, "{text:?}");
        }
        assert_eq!(line(&["a", "b,c", "12"]), "a,\"b,c\",12\r\n");
        assert_eq!(BOM.as_bytes(), [0xEF, 0xBB, 0xBF]);
    }
}
