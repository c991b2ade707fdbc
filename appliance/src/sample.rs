//! Realistic, deterministic Vietnamese library data for benches, tests and `--demo`.
//!
//! Record `n` of a given seed is always the same, whatever order records are asked for, so a
//! bench can make 100,000 records on one replica and name the same ones on another. Titles,
//! names, publishers and DDC classes follow what a commune library in Nghệ An holds: much
//! Vietnamese literature, children's books, farming and health. All text is NFC with full
//! diacritics. This module makes data (records, readers, a MARC file of the records); it does
//! not write to any store.

/// One bibliographic record as a cataloguer would enter it.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleRecord {
    pub id: String,
    pub title: String,
    pub authors: Vec<String>,
    pub publisher: String,
    pub year: i64,
    /// ISBN-13 digits (978604…), or empty for donated books without one (~10%).
    pub isbn: String,
    pub language: String,
    pub ddc: String,
    pub subjects: Vec<String>,
    pub pages: i64,
    pub summary: String,
}

impl SampleRecord {
    /// The record as the catalogue's book fields (what a MARC record maps to and from).
    pub fn book_fields(self) -> crate::cataloguing::marc::mapping::BookFields {
        crate::cataloguing::marc::mapping::BookFields {
            title: self.title,
            authors: self.authors,
            publisher: self.publisher,
            year: Some(self.year),
            isbn: Some(self.isbn).filter(|i| !i.is_empty()),
            language: self.language,
            ddc: self.ddc,
            subjects: self.subjects,
            summary: Some(self.summary).filter(|s| !s.is_empty()),
            pages: Some(self.pages),
        }
    }
}

/// A deterministic source of sample records, readers and edits.
pub struct SampleLibrary {
    seed: u64,
}

const FAMILY_NAMES: &[(&str, u32)] = &[
    ("Nguyễn", 38),
    ("Trần", 11),
    ("Lê", 9),
    ("Phạm", 7),
    ("Hoàng", 5),
    ("Huỳnh", 2),
    ("Phan", 4),
    ("Vũ", 3),
    ("Võ", 3),
    ("Đặng", 2),
    ("Bùi", 2),
    ("Đỗ", 2),
    ("Hồ", 3),
    ("Ngô", 1),
    ("Dương", 1),
    ("Lý", 1),
    ("Đinh", 1),
    ("Cao", 1),
    ("Thái", 1),
    ("Chu", 1),
];

const MIDDLE_NAMES: &[&str] = &[
    "Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quang", "Xuân", "Thu", "Đình", "Công",
    "Bảo", "Kim", "Như", "Trọng",
];

const GIVEN_NAMES: &[&str] = &[
    "An",
    "Bình",
    "Hùng",
    "Lan",
    "Mai",
    "Hương",
    "Dũng",
    "Tuấn",
    "Phương",
    "Đường",
    "Dương",
    "Hà",
    "Hải",
    "Hạnh",
    "Hiếu",
    "Hoa",
    "Huệ",
    "Khánh",
    "Linh",
    "Long",
    "Lộc",
    "Nam",
    "Nga",
    "Ngân",
    "Nhung",
    "Phúc",
    "Quân",
    "Quỳnh",
    "Sơn",
    "Tâm",
    "Thảo",
    "Thắng",
    "Thủy",
    "Trang",
    "Trung",
    "Tú",
    "Việt",
    "Vinh",
    "Yến",
    "Đạt",
    "Đông",
    "Giang",
    "Khoa",
    "Loan",
    "Nhàn",
];

const PUBLISHERS: &[&str] = &[
    "NXB Kim Đồng",
    "NXB Giáo dục Việt Nam",
    "NXB Trẻ",
    "NXB Văn học",
    "NXB Hội Nhà văn",
    "NXB Nghệ An",
    "NXB Chính trị quốc gia Sự thật",
    "NXB Khoa học và Kỹ thuật",
    "NXB Nông nghiệp",
    "NXB Phụ nữ Việt Nam",
    "NXB Lao động",
    "NXB Đại học Quốc gia Hà Nội",
    "NXB Tổng hợp TP.HCM",
    "NXB Thanh niên",
    "NXB Y học",
    "NXB Văn hóa dân tộc",
];

/// Famous works a reader will search for, with their real authors.
const CLASSICS: &[(&str, &str, &str)] = &[
    ("Truyện Kiều", "Nguyễn Du", "895.9221"),
    ("Văn tế thập loại chúng sinh", "Nguyễn Du", "895.9221"),
    ("Dế Mèn phiêu lưu ký", "Tô Hoài", "895.92233"),
    ("Chí Phèo", "Nam Cao", "895.922332"),
    ("Lão Hạc", "Nam Cao", "895.922332"),
    (
        "Cho tôi xin một vé đi tuổi thơ",
        "Nguyễn Nhật Ánh",
        "895.922334",
    ),
    ("Mắt biếc", "Nguyễn Nhật Ánh", "895.922334"),
    ("Nhật ký trong tù", "Hồ Chí Minh", "895.9221"),
    ("Số đỏ", "Vũ Trọng Phụng", "895.922332"),
    ("Vợ nhặt", "Kim Lân", "895.922332"),
    ("Tướng về hưu", "Nguyễn Huy Thiệp", "895.922334"),
    ("Nỗi buồn chiến tranh", "Bảo Ninh", "895.922334"),
    ("Thơ Xuân Quỳnh", "Xuân Quỳnh", "895.9221"),
    ("Từ ấy", "Tố Hữu", "895.9221"),
    ("Tắt đèn", "Ngô Tất Tố", "895.922332"),
    ("Những ngày thơ ấu", "Nguyên Hồng", "895.922803"),
];

/// A subject area: DDC prefixes, subject headings, title patterns and page range.
struct Area {
    weight: u32,
    ddc: &'static [&'static str],
    subjects: &'static [&'static str],
    heads: &'static [&'static str],
    tails: &'static [&'static str],
    pages: (i64, i64),
    publishers: &'static [usize],
}

const AREAS: &[Area] = &[
    Area {
        weight: 30,
        ddc: &[
            "895.92233",
            "895.922334",
            "895.922332",
            "895.9221",
            "895.922803",
        ],
        subjects: &[
            "Văn học Việt Nam",
            "Tiểu thuyết",
            "Truyện ngắn",
            "Thơ",
            "Tùy bút",
        ],
        heads: &[
            "Những ngày",
            "Mùa",
            "Dòng sông",
            "Chuyện",
            "Bến",
            "Người",
            "Tiếng",
            "Ngọn đèn",
            "Con đường",
            "Miền",
            "Khúc hát",
            "Giấc mơ",
        ],
        tails: &[
            "thơ ấu",
            "gặt",
            "quê mẹ",
            "làng Sen",
            "đò ngang",
            "lính",
            "gà gáy",
            "xứ Nghệ",
            "biên giới",
            "mưa tháng Bảy",
            "hoa gạo",
            "bên sông Lam",
            "đợi chờ",
            "không tên",
            "phía trước",
            "trên núi",
            "ngày cũ",
        ],
        pages: (90, 520),
        publishers: &[3, 4, 2, 5, 13],
    },
    Area {
        weight: 18,
        ddc: &["398.209597", "398.2", "895.92230083"],
        subjects: &["Truyện cổ tích", "Văn học dân gian", "Văn học thiếu nhi"],
        heads: &[
            "Truyện cổ tích",
            "Sự tích",
            "Truyện kể",
            "Ngụ ngôn",
            "Truyện cười",
            "Thần thoại",
        ],
        tails: &[
            "Việt Nam chọn lọc",
            "Thánh Gióng",
            "Sơn Tinh Thủy Tinh",
            "bánh chưng bánh giầy",
            "trầu cau",
            "các dân tộc thiểu số",
            "xứ Nghệ",
            "cây tre trăm đốt",
            "Tấm Cám",
            "con Rồng cháu Tiên",
            "dành cho thiếu nhi",
        ],
        pages: (24, 180),
        publishers: &[0, 1, 14],
    },
    Area {
        weight: 14,
        ddc: &["372.7", "372.21", "372.6", "372.35", "372.89"],
        subjects: &["Giáo dục tiểu học", "Sách tham khảo", "Toán", "Tiếng Việt"],
        heads: &[
            "Em học Toán",
            "Em học Tiếng Việt",
            "Vở bài tập Toán",
            "Luyện viết chữ đẹp",
            "Bài tập Tự nhiên và Xã hội",
            "Em yêu khoa học",
            "Tiếng Anh",
        ],
        tails: &[
            "lớp 1",
            "lớp 2",
            "lớp 3",
            "lớp 4",
            "lớp 5",
            "nâng cao",
            "cơ bản",
        ],
        pages: (40, 160),
        publishers: &[1, 11],
    },
    Area {
        weight: 12,
        ddc: &["633.18", "636.5", "631.5", "635", "639.3", "636.2"],
        subjects: &["Nông nghiệp", "Trồng trọt", "Chăn nuôi", "Thủy sản"],
        heads: &[
            "Kỹ thuật trồng",
            "Hướng dẫn nuôi",
            "Phòng trừ sâu bệnh cho",
            "Kỹ thuật chăm sóc",
            "Cẩm nang nuôi",
            "Bí quyết trồng",
        ],
        tails: &[
            "lúa nước",
            "gà thả vườn",
            "lợn an toàn sinh học",
            "cam Vinh",
            "chè Thanh Chương",
            "cá nước ngọt",
            "bò lai Sind",
            "rau sạch",
            "cây ăn quả",
            "ngô lai",
            "lạc",
            "vịt bầu",
        ],
        pages: (32, 200),
        publishers: &[8, 7],
    },
    Area {
        weight: 10,
        ddc: &["959.704", "959.742", "959.7041", "959.7043"],
        subjects: &["Lịch sử Việt Nam", "Nghệ An", "Địa chí"],
        heads: &[
            "Lịch sử",
            "Địa chí",
            "Danh nhân",
            "Di tích",
            "Lễ hội",
            "Văn hóa",
        ],
        tails: &[
            "Nghệ An qua các thời kỳ",
            "xứ Nghệ",
            "huyện Nam Đàn",
            "Việt Nam thời Lý – Trần",
            "kháng chiến chống Pháp",
            "làng Kim Liên",
            "các vua Hùng",
            "Nghi Lộc",
            "Diễn Châu",
        ],
        pages: (120, 800),
        publishers: &[5, 6, 15],
    },
    Area {
        weight: 8,
        ddc: &["613.2", "613.0424", "618.92", "616.9", "613.7"],
        subjects: &["Sức khỏe", "Y học thường thức", "Dinh dưỡng"],
        heads: &[
            "Cẩm nang chăm sóc sức khỏe",
            "Dinh dưỡng cho",
            "Phòng bệnh cho",
            "Sơ cứu",
            "Sống khỏe",
        ],
        tails: &[
            "gia đình",
            "trẻ em",
            "người cao tuổi",
            "phụ nữ mang thai",
            "mùa mưa bão",
            "học sinh",
            "mỗi ngày",
        ],
        pages: (48, 260),
        publishers: &[14, 9, 7],
    },
    Area {
        weight: 8,
        ddc: &["500", "523.1", "530", "570", "004", "005.133"],
        subjects: &["Khoa học thiếu nhi", "Tin học", "Khoa học phổ thông"],
        heads: &[
            "Mười vạn câu hỏi vì sao",
            "Khám phá",
            "Em tìm hiểu",
            "Tin học cho",
            "Lập trình",
            "Bách khoa",
        ],
        tails: &[
            "vũ trụ",
            "thế giới động vật",
            "cơ thể người",
            "thiếu nhi",
            "người mới bắt đầu",
            "Python",
            "trái đất",
            "thực vật",
        ],
        pages: (40, 320),
        publishers: &[0, 7, 2],
    },
];

/// splitmix64: turns (seed, n, salt) into well-spread generator seeds, so record n does not
/// depend on which records were made before it.
fn mix(seed: u64, n: u64, salt: u64) -> u64 {
    let mut z = seed
        .wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(salt.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick<'a>(rng: &mut fastrand::Rng, items: &[&'a str]) -> &'a str {
    items[rng.usize(..items.len())]
}

fn weighted<T: Copy>(rng: &mut fastrand::Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.u32(..total.max(1));
    for (item, weight) in items {
        if roll < *weight {
            return *item;
        }
        roll -= weight;
    }
    items[0].0
}

fn isbn13(rng: &mut fastrand::Rng) -> String {
    let mut digits: Vec<u32> = vec![9, 7, 8, 6, 0, 4];
    for _ in 0..6 {
        digits.push(rng.u32(0..10));
    }
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 })
        .sum();
    digits.push((10 - sum % 10) % 10);
    digits.iter().map(|d| char::from(b'0' + *d as u8)).collect()
}

impl SampleLibrary {
    pub fn new(seed: u64) -> SampleLibrary {
        SampleLibrary { seed }
    }

    fn rng(&self, n: u64, salt: u64) -> fastrand::Rng {
        fastrand::Rng::with_seed(mix(self.seed, n, salt))
    }

    /// A person's full name, family name first.
    fn person(rng: &mut fastrand::Rng) -> String {
        let family = weighted(rng, FAMILY_NAMES);
        format!(
            "{family} {} {}",
            pick(rng, MIDDLE_NAMES),
            pick(rng, GIVEN_NAMES)
        )
    }

    /// The n-th record; the same (seed, n) always gives the same record.
    pub fn record(&self, n: u64) -> SampleRecord {
        let mut rng = self.rng(n, 1);
        let id = format!("rec-{n:08}");
        let (title, authors, ddc, area) = if rng.u32(0..200) < 3 {
            let (title, author, ddc) = CLASSICS[rng.usize(..CLASSICS.len())];
            (
                title.to_owned(),
                vec![author.to_owned()],
                ddc.to_owned(),
                &AREAS[0],
            )
        } else {
            let weights: Vec<(usize, u32)> = AREAS
                .iter()
                .enumerate()
                .map(|(i, a)| (i, a.weight))
                .collect();
            let area = &AREAS[weighted(&mut rng, &weights)];
            let mut title = format!(
                "{} {}",
                pick(&mut rng, area.heads),
                pick(&mut rng, area.tails)
            );
            if rng.u32(0..10) == 0 {
                title.push_str(&format!(". Tập {}", rng.u32(1..6)));
            }
            let authors = (0..rng.usize(1..=3).min(if rng.bool() { 1 } else { 3 }))
                .map(|_| SampleLibrary::person(&mut rng))
                .collect();
            (title, authors, pick(&mut rng, area.ddc).to_owned(), area)
        };
        let mut subjects = vec![pick(&mut rng, area.subjects).to_owned()];
        if rng.bool() {
            let second = pick(&mut rng, area.subjects).to_owned();
            if !subjects.contains(&second) {
                subjects.push(second);
            }
        }
        let publisher = PUBLISHERS[area.publishers[rng.usize(..area.publishers.len())]].to_owned();
        // Collections skew recent: most books arrived in the last fifteen years.
        let year = 2026 - (rng.f64().powi(2) * 51.0) as i64;
        let isbn = if rng.u32(0..10) == 0 {
            String::new()
        } else {
            isbn13(&mut rng)
        };
        let language = weighted(&mut rng, &[("vie", 90), ("eng", 6), ("fra", 2), ("rus", 2)]);
        let pages = rng.i64(area.pages.0..=area.pages.1);
        let summary = format!(
            "{} — sách của {} dành cho bạn đọc {}.",
            title,
            publisher,
            pick(
                &mut rng,
                &[
                    "mọi lứa tuổi",
                    "thiếu nhi",
                    "thanh niên",
                    "nhà nông",
                    "học sinh"
                ]
            )
        );
        SampleRecord {
            id,
            title,
            authors,
            publisher,
            year,
            isbn,
            language: language.to_owned(),
            ddc,
            subjects,
            pages,
            summary,
        }
    }

    /// Records `0..records` as a province library's MARC21 file (ISO 2709), each with the
    /// province's control number (001 `TV…`, 003 `VN-NgheAn`), for the import bench and
    /// tests.
    pub fn marc_file(&self, records: u64) -> Vec<u8> {
        use crate::cataloguing::marc::{iso2709, mapping};
        let now = chrono::Utc::now();
        let mut file = Vec::new();
        for n in 0..records {
            let book = self.record(n).book_fields();
            let mut record = mapping::generate(&format!("TV{n:08}"), &book, None, now);
            // Both writes only fail on a record over ISO 2709's 99,999 bytes; a sample record
            // is a few hundred, so what cannot happen is skipped rather than unwrapped.
            if record.add_control_field("003", "VN-NgheAn").is_ok() {
                let _ = iso2709::write(&record, &mut file);
            }
        }
        file
    }

    /// A one-field correction a librarian would make to record n in edit round `round`
    /// (rounds from 1). Every round's value differs from every other round's, so each edit is a
    /// real change whatever was edited before.
    pub fn edit(&self, n: u64, round: u64) -> (&'static str, String) {
        let mut rng = self.rng(n, 1000 + round);
        let record = self.record(n);
        match rng.u32(0..4) {
            0 => (
                "title",
                format!("{} (tái bản lần {})", record.title, round + 1),
            ),
            1 => ("pages", (record.pages + round as i64).to_string()),
            2 => (
                "summary",
                format!("Bổ sung lần {round}: {}", record.summary),
            ),
            _ => {
                let current = PUBLISHERS
                    .iter()
                    .position(|p| *p == record.publisher)
                    .unwrap_or(0);
                let shift = 1 + (round.saturating_sub(1) as usize) % (PUBLISHERS.len() - 1);
                (
                    "publisher",
                    PUBLISHERS[(current + shift) % PUBLISHERS.len()].to_owned(),
                )
            }
        }
    }

    /// A reader's full name, deterministic by n.
    pub fn reader_name(&self, n: u64) -> String {
        SampleLibrary::person(&mut self.rng(n, 2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_combining_marks(s: &str) -> bool {
        s.chars().any(|c| ('\u{0300}'..='\u{036F}').contains(&c))
    }

    #[test]
    fn records_are_deterministic_and_independent_of_order() {
        let library = SampleLibrary::new(42);
        let later = library.record(1234);
        let _ = library.record(1);
        assert_eq!(library.record(1234), later);
        assert_ne!(SampleLibrary::new(43).record(1234), later);
    }

    #[test]
    fn text_is_precomposed_and_isbns_check_out() {
        let library = SampleLibrary::new(7);
        let mut ids = std::collections::HashSet::new();
        let mut nguyen_du = 0;
        for n in 0..2_000 {
            let r = library.record(n);
            assert!(ids.insert(r.id.clone()));
            for text in [&r.title, &r.publisher, &r.summary, &r.ddc]
                .into_iter()
                .chain(r.authors.iter())
                .chain(r.subjects.iter())
            {
                assert!(!has_combining_marks(text), "{text:?} is not NFC");
            }
            if !r.isbn.is_empty() {
                let digits: Vec<u32> = r.isbn.chars().filter_map(|c| c.to_digit(10)).collect();
                assert_eq!(digits.len(), 13);
                assert!(r.isbn.starts_with("978604"));
                let sum: u32 = digits
                    .iter()
                    .enumerate()
                    .map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 })
                    .sum();
                assert_eq!(sum % 10, 0, "bad check digit in {}", r.isbn);
            }
            if r.authors.iter().any(|a| a == "Nguyễn Du") {
                nguyen_du += 1;
            }
            assert!(!r.authors.is_empty());
        }
        assert!(
            nguyen_du > 0,
            "searches for 'nguyen du' need something to find"
        );
    }
}
