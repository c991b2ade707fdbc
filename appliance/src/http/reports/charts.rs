//! Bar charts as inline SVG, drawn on the server: no JavaScript, no chart library, a few
//! hundred bytes each. Every chart is accessible: the SVG has a `<title>`, every bar its own
//! `<title>` with label and value (what a screen reader or a long press shows), and the
//! numbers follow in a small table.

use std::fmt::Write as _;

use crate::http::html::escape;

/// One bar: its label (plain text, escaped here) and value.
pub struct Bar {
    pub label: String,
    pub value: i64,
}

const WIDTH: i64 = 360;
const COLOUR: &str = "#2b6cb0";

/// Vertical bars with short labels under them (months, say).
pub fn columns(name: &str, title: &str, data_label: &str, bars: &[Bar]) -> String {
    let height = 180;
    let top = 16;
    let bottom = 20;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let count = bars.len().max(1) as i64;
    let slot = WIDTH / count;
    let bar_width = (slot * 7 / 10).max(1);
    let mut svg = open_svg(name, title, WIDTH, height);
    for (n, bar) in bars.iter().enumerate() {
        let h = bar.value.max(0) * (height - top - bottom) / max;
        let x = n as i64 * slot + (slot - bar_width) / 2;
        let y = height - bottom - h;
        let _ = write!(
            svg,
            "<rect class=\"bar\" x=\"{x}\" y=\"{y}\" width=\"{bar_width}\" height=\"{h}\" fill=\"{COLOUR}\"><title>{label}: {value}</title></rect>\
<text x=\"{cx}\" y=\"{ty}\" font-size=\"10\" text-anchor=\"middle\">{value}</text>\
<text x=\"{cx}\" y=\"{ly}\" font-size=\"11\" text-anchor=\"middle\">{label}</text>",
            label = escape(&bar.label),
            value = bar.value,
            cx = x + bar_width / 2,
            ty = (y - 3).max(10),
            ly = height - 5,
        );
    }
    svg.push_str("</svg>");
    figure(svg, title, data_label, bars)
}

/// Horizontal bars with their label above each (long labels: titles, classes).
pub fn rows(name: &str, title: &str, data_label: &str, bars: &[Bar]) -> String {
    let row = 34;
    let height = (bars.len() as i64 * row).max(row);
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let mut svg = open_svg(name, title, WIDTH, height);
    for (n, bar) in bars.iter().enumerate() {
        let y = n as i64 * row;
        let w = bar.value.max(0) * (WIDTH - 50) / max;
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{ly}\" font-size=\"12\">{label}</text>\
<rect class=\"bar\" x=\"0\" y=\"{by}\" width=\"{w}\" height=\"14\" fill=\"{COLOUR}\"><title>{label}: {value}</title></rect>\
<text x=\"{vx}\" y=\"{vy}\" font-size=\"11\">{value}</text>",
            label = escape(&bar.label),
            value = bar.value,
            ly = y + 12,
            by = y + 16,
            vx = w + 4,
            vy = y + 28,
        );
    }
    svg.push_str("</svg>");
    figure(svg, title, data_label, bars)
}

fn open_svg(name: &str, title: &str, width: i64, height: i64) -> String {
    format!(
        "<svg class=\"chart\" data-chart=\"{name}\" viewBox=\"0 0 {width} {height}\" role=\"img\" \
aria-labelledby=\"chart-{name}\" xmlns=\"http://www.w3.org/2000/svg\" \
style=\"width:100%;height:auto;max-width:40rem\"><title id=\"chart-{name}\">{title}</title>",
        name = escape(name),
        title = escape(title),
    )
}

fn figure(svg: String, title: &str, data_label: &str, bars: &[Bar]) -> String {
    let mut html = format!(
        "<figure><figcaption><h2>{}</h2></figcaption>{svg}<details><summary>{}</summary><table>",
        escape(title),
        escape(data_label)
    );
    for bar in bars {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(&bar.label),
            bar.value
        );
    }
    html.push_str("</table></details></figure>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    fn months() -> Vec<Bar> {
        (1..=12)
            .map(|m| Bar {
                label: format!("{m}"),
                value: m * 3,
            })
            .collect()
    }

    #[test]
    fn a_year_chart_has_one_bar_per_month_and_a_table() {
        let html = columns("loans", "Lượt mượn", "Số liệu", &months());
        assert_eq!(html.matches("class=\"bar\"").count(), 12);
        assert_eq!(html.matches("<tr>").count(), 12);
        assert!(html.contains("<title id=\"chart-loans\">Lượt mượn</title>"));
        assert!(html.contains("<title>12: 36</title>"));
    }

    #[test]
    fn labels_are_escaped_and_empty_charts_draw() {
        let bars = [Bar {
            label: "<script>alert(1)</script> & co".into(),
            value: 0,
        }];
        for html in [
            rows("top", "<b>", "x", &bars),
            columns("top", "<b>", "x", &bars),
        ] {
            assert!(!html.contains("<script>"), "{html}");
            assert!(!html.contains("<b>"), "{html}");
            assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
        }
        assert!(rows("none", "t", "x", &[]).contains("</svg>"));
    }
}
