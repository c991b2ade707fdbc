//! The figures of a period's report, in the order and the words a commune sends them to the
//! district. The CSV, the XLSX and the printable page all write this one list, so the three
//! always agree; the codes stay the same in every language so a district's sheet can be
//! matched line by line.

use super::{category_label, class_label};
use crate::http::i18n::Lang;
use crate::reports::{DDC_CLASSES, PeriodReport};

/// One line of a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Figure {
    /// Stable across languages and versions: `loans`, `loans_by_class.800`, …
    pub code: String,
    pub name: &'static str,
    /// The category or class a broken-down figure counts ("" for a total).
    pub group: String,
    pub value: i64,
}

/// The report's figures in `lang` (the district's files are Vietnamese).
pub(super) fn figures(lang: Lang, report: &PeriodReport) -> Vec<Figure> {
    let mut out = Vec::new();
    let mut push = |code: String, vi: &'static str, en: &'static str, group: String, value| {
        out.push(Figure {
            code,
            name: lang.pick(vi, en),
            group,
            value,
        });
    };
    let total = |code: &str| code.to_owned();
    push(
        total("loans"),
        "Lượt mượn",
        "Loans",
        String::new(),
        report.loans,
    );
    push(
        total("returns"),
        "Lượt trả",
        "Returns",
        String::new(),
        report.returns,
    );
    push(
        total("renewals"),
        "Lượt gia hạn (của sách mượn trong kỳ)",
        "Renewals (of the period's loans)",
        String::new(),
        report.renewals,
    );
    push(
        total("visits"),
        "Lượt bạn đọc đến thư viện",
        "Visits",
        String::new(),
        report.visits,
    );
    push(
        total("in_house_uses"),
        "Lượt đọc tại chỗ",
        "In-library reading",
        String::new(),
        report.in_house_uses,
    );
    push(
        total("new_readers"),
        "Bạn đọc mới đăng ký",
        "New readers",
        String::new(),
        report.new_readers,
    );
    push(
        total("first_time_borrowers"),
        "Bạn đọc mượn sách lần đầu",
        "First-time borrowers",
        String::new(),
        report.first_time_borrowers,
    );
    push(
        total("active_readers"),
        "Bạn đọc có mượn sách",
        "Readers who borrowed",
        String::new(),
        report.active_readers,
    );
    let category_code = |category: &str| {
        if category.is_empty() {
            "unknown".to_owned()
        } else {
            category.to_owned()
        }
    };
    for (category, loans) in &report.loans_by_category {
        push(
            format!("loans_by_category.{}", category_code(category)),
            "Lượt mượn theo đối tượng",
            "Loans by reader category",
            category_label(lang, category),
            *loans,
        );
    }
    for (class, (code, _, _)) in DDC_CLASSES.iter().enumerate() {
        push(
            format!("loans_by_class.{code}"),
            "Lượt mượn theo môn loại",
            "Loans by DDC class",
            class_label(lang, class),
            report.loans_by_class[class],
        );
    }
    push(
        total("loans_by_class.none"),
        "Lượt mượn theo môn loại",
        "Loans by DDC class",
        lang.pick("Chưa phân loại", "Unclassified").to_owned(),
        report.loans_unclassified,
    );
    for (category, readers) in &report.readers_by_category {
        push(
            format!("readers_by_category.{}", category_code(category)),
            "Bạn đọc theo đối tượng",
            "Readers by category",
            category_label(lang, category),
            *readers,
        );
    }
    push(
        total("readers"),
        "Tổng số bạn đọc",
        "Readers in all",
        String::new(),
        report.readers_by_category.iter().map(|(_, n)| n).sum(),
    );
    push(
        total("new_copies"),
        "Bản sách mới bổ sung",
        "Copies acquired",
        String::new(),
        report.new_copies,
    );
    for (class, (code, _, _)) in DDC_CLASSES.iter().enumerate() {
        push(
            format!("collection_by_class.{code}"),
            "Số bản sách theo môn loại",
            "Copies by DDC class",
            class_label(lang, class),
            report.collection_by_class[class],
        );
    }
    push(
        total("collection_by_class.none"),
        "Số bản sách theo môn loại",
        "Copies by DDC class",
        lang.pick("Chưa phân loại", "Unclassified").to_owned(),
        report.collection_unclassified,
    );
    push(
        total("collection"),
        "Tổng số bản sách",
        "Copies in all",
        String::new(),
        report.collection_by_class.iter().sum::<i64>() + report.collection_unclassified,
    );
    out
}

/// One figure across several libraries' reports, in the order of the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct FigureRow {
    pub code: String,
    pub name: &'static str,
    pub group: String,
    /// One value per report, in the order the reports were given.
    pub values: Vec<i64>,
}

impl FigureRow {
    pub fn total(&self) -> i64 {
        self.values.iter().sum()
    }
}

/// The figures of several reports side by side. Every list has the same figures in the same
/// order, except reader categories outside the known four, which some libraries have and
/// others not: rows are matched by code, and a library without one counts 0.
pub(super) fn side_by_side(lang: Lang, reports: &[&PeriodReport]) -> Vec<FigureRow> {
    let lists: Vec<Vec<Figure>> = reports.iter().map(|r| figures(lang, r)).collect();
    let mut rows: Vec<FigureRow> = Vec::new();
    for list in &lists {
        for figure in list {
            if !rows.iter().any(|row| row.code == figure.code) {
                rows.push(FigureRow {
                    code: figure.code.clone(),
                    name: figure.name,
                    group: figure.group.clone(),
                    values: Vec::new(),
                });
            }
        }
    }
    for row in &mut rows {
        row.values = lists
            .iter()
            .map(|list| {
                list.iter()
                    .find(|f| f.code == row.code)
                    .map_or(0, |f| f.value)
            })
            .collect();
    }
    rows
}
