//! The MARC codec, mapping and import on hand-made records: MARC-8 against pymarc's table,
//! Vietnamese letters, each kind of damaged file naming its record, and imports on a store.

use chrono::{NaiveDate, TimeZone, Utc};
use tusach_sync::Store;

use super::import::{Outcome, SkipReason};
use super::mapping::{BookFields, control_numbers};
use super::marc8::{self, Marc8Error};
use super::*;
use crate::db;

/// An ISO 2709 record from its fields' raw bytes (tag, content without the field terminator),
/// with leader/09 `charset` (b' ' MARC-8, b'a' UTF-8).
pub(super) fn iso(charset: u8, fields: &[(&str, &[u8])]) -> Vec<u8> {
    let mut directory = Vec::new();
    let mut data = Vec::new();
    for (tag, content) in fields {
        directory.extend_from_slice(
            format!("{tag}{:04}{:05}", content.len() + 1, data.len()).as_bytes(),
        );
        data.extend_from_slice(content);
        data.push(iso2709::FIELD_END);
    }
    directory.push(iso2709::FIELD_END);
    data.push(iso2709::RECORD_END);
    let base = 24 + directory.len();
    let length = base + data.len();
    let mut record =
        format!("{length:05}nam {}22{base:05} a 4500", char::from(charset)).into_bytes();
    record.extend_from_slice(&directory);
    record.extend_from_slice(&data);
    record
}

/// A data field's content: indicators then subfields, each `(code, value bytes)`.
pub(super) fn field(indicators: &str, subfields: &[(&str, &[u8])]) -> Vec<u8> {
    let mut bytes = indicators.as_bytes().to_vec();
    for (code, value) in subfields {
        bytes.push(iso2709::SUBFIELD_START);
        bytes.extend_from_slice(code.as_bytes());
        bytes.extend_from_slice(value);
    }
    bytes
}

/// "Truyện Kiều" by Nguyễn Du, as a district library would send it, in UTF-8.
pub(super) fn kieu(number: &str, isbn: &str) -> Vec<u8> {
    iso(
        b'a',
        &[
            ("001", number.as_bytes()),
            ("003", b"VN-TVQG"),
            ("008", b"150312s2015    vm            000 1 vie d"),
            (
                "020",
                &field("  ", &[("a", format!("{isbn} (bìa mềm)").as_bytes())]),
            ),
            ("041", &field("0 ", &[("a", b"vie")])),
            ("082", &field("04", &[("a", b"895.9221/1"), ("2", b"23")])),
            (
                "100",
                &field("0 ", &[("a", "Nguyễn Du,".as_bytes()), ("d", b"1765-1820")]),
            ),
            (
                "245",
                &field(
                    "10",
                    &[
                        ("a", "Truyện Kiều :".as_bytes()),
                        ("b", "Đoạn trường tân thanh /".as_bytes()),
                        ("c", "Nguyễn Du.".as_bytes()),
                    ],
                ),
            ),
            (
                "260",
                &field(
                    "  ",
                    &[
                        ("a", "H. :".as_bytes()),
                        ("b", "Văn học,".as_bytes()),
                        ("c", b"2015."),
                    ],
                ),
            ),
            ("300", &field("  ", &[("a", b"215 tr. ;"), ("c", b"21 cm")])),
            (
                "520",
                &field("  ", &[("a", "Truyện thơ lục bát.".as_bytes())]),
            ),
            ("650", &field(" 7", &[("a", "Văn học Việt Nam".as_bytes())])),
            ("650", &field(" 7", &[("a", "Thơ lục bát.".as_bytes())])),
            (
                "700",
                &field(
                    "1 ",
                    &[("a", "Đào Duy Anh,".as_bytes()), ("e", b"chu giai")],
                ),
            ),
        ],
    )
}

fn problem_of(bytes: &[u8]) -> (Option<usize>, String) {
    match read(bytes) {
        Ok(_) => panic!("read a damaged file"),
        Err(error) => (error.record(), error.to_string()),
    }
}

#[test]
fn marc8_table_agrees_with_pymarc() {
    let table = include_str!("marc8_pymarc.txt");
    let mut checked = 0;
    let mut known = Vec::new();
    for line in table.lines().filter(|l| !l.starts_with('#')) {
        let (byte, points) = line.split_once('\t').expect("two columns");
        let byte = u8::from_str_radix(byte, 16).expect("hex byte");
        let expected: String = points
            .split(' ')
            .map(|p| char::from_u32(u32::from_str_radix(p, 16).expect("hex")).expect("char"))
            .collect();
        let input = if byte >= 0xE0 {
            vec![byte, b'a']
        } else {
            vec![b'a', byte]
        };
        assert_eq!(
            marc8::decode(&input).as_deref(),
            Ok(expected.as_str()),
            "{byte:#04x}"
        );
        known.push(byte);
        checked += 1;
    }
    assert_eq!(checked, 65, "pymarc's table has 36 letters and 29 marks");
    for byte in (0xA1..=0xFE).filter(|b| !known.contains(b)) {
        assert_eq!(
            marc8::decode(&[b'a', byte]),
            Err(Marc8Error::UnknownByte { byte, offset: 1 }),
            "{byte:#04x} is not MARC-8 Latin"
        );
    }
}

#[test]
fn marc8_vietnamese_marks_come_after_their_letters() {
    let cases: &[(&[u8], &str)] = &[
        (b"Truy\xf2\xe3en Ki\xe3\xe1eu", "Truyện Kiều"),
        (b"Nguy\xe3\xe4en Du", "Nguyễn Du"),
        (b"Ti\xe3\xe2eng Vi\xf2\xe3et", "Tiếng Việt"),
        (b"\xb3\xbd\xe1\xbcng", "đường"),
        (b"\xa3\xe3\xe2at n\xbd\xe2\xbcc", "Đất nước"),
        (b"\xe6\xe2a", "ắ"),
        (b"Th\xe3\xe0o", "Thổ"),
        // The default sets, selected explicitly, change nothing.
        (b"\x1b(Babc\x1b)!Exyz\x1bs", "abcxyz"),
        // A mark with no letter after it is dropped, as pymarc does.
        (b"abc\xe1", "abc"),
        (b"", ""),
    ];
    for (bytes, expected) in cases {
        let text = marc8::decode(bytes).expect("decodes");
        assert_eq!(&text, expected, "{bytes:x?}");
        assert!(unicode_normalization::is_nfc(&text));
    }
}

#[test]
fn marc8_refuses_other_character_sets() {
    let cases: &[(&[u8], usize, &str)] = &[
        (b"ab\x1bgabc", 2, "ESC g"),
        (b"\x1b$1!!!", 0, "ESC $ 1"),
        (b"x\x1b(N", 1, "ESC ( N"),
        (b"x\x1b", 1, "ESC"),
    ];
    for (bytes, offset, sequence) in cases {
        assert_eq!(
            marc8::decode(bytes),
            Err(Marc8Error::OtherCharset {
                offset: *offset,
                sequence: (*sequence).to_owned()
            })
        );
    }
    assert_eq!(
        marc8::decode(b"a\x07"),
        Err(Marc8Error::UnknownByte { byte: 7, offset: 1 })
    );
}

#[test]
fn utf8_records_round_trip_byte_for_byte() {
    let mut file = kieu("00012", "978-604-69-0001-6");
    file.extend(kieu("00013", "9786046900023"));
    let (format, records) = read(&file).expect("reads");
    assert_eq!(format, Format::Iso2709);
    assert_eq!(records.len(), 2);
    let mut written = Vec::new();
    for record in &records {
        iso2709::write(record, &mut written).expect("fits");
    }
    assert_eq!(written, file);
    let xml = marcxml::write(&records);
    let (format, again) = read(&xml).expect("reads its own MARCXML");
    assert_eq!(format, Format::MarcXml);
    assert_eq!(again, records);
}

#[test]
fn marc8_records_are_decoded_and_say_utf8() {
    let file = iso(
        b' ',
        &[
            ("001", b"77"),
            ("100", &field("0 ", &[("a", b"Nguy\xe3\xe4en Du")])),
            (
                "245",
                &field("10", &[("a", b"Truy\xf2\xe3en Ki\xe3\xe1eu")]),
            ),
        ],
    );
    let (_, records) = read(&file).expect("reads MARC-8");
    let book = BookFields::of_marc(&records[0]);
    assert_eq!(book.title, "Truyện Kiều");
    assert_eq!(book.authors, ["Nguyễn Du"]);
    assert_eq!(records[0].leader().as_bytes()[9], b'a');
}

#[test]
fn damaged_files_name_the_record_and_the_problem() {
    let good = kieu("1", "9786046900016");
    let with = |damaged: Vec<u8>| -> Vec<u8> {
        let mut file = good.clone();
        file.extend(&damaged);
        file.extend(&good);
        file
    };
    let mut bad_leader = good.clone();
    bad_leader[0..5].copy_from_slice(b"12x45");
    let mut wrong_length = good.clone();
    let longer = format!("{:05}", good.len() + 7);
    wrong_length[0..5].copy_from_slice(longer.as_bytes());
    let mut unknown_charset = good.clone();
    unknown_charset[9] = b'b';
    let mut bad_directory = good.clone();
    // The first entry (001) now starts far beyond the record's end.
    bad_directory[24 + 7..24 + 12].copy_from_slice(b"90000");
    let bad_utf8 = iso(b'a', &[("245", &field("10", &[("a", b"Truy\xe1\xbb")]))]);
    let cjk = iso(b' ', &[("245", &field("10", &[("a", b"\x1b$1!!!")]))]);
    let mut truncated = good.clone();
    truncated.extend(&good[..good.len() / 2]);
    let cases: Vec<(Vec<u8>, Option<usize>, &str)> = vec![
        (
            with(bad_leader),
            Some(2),
            "bad leader: the record length \"12x45\"",
        ),
        (with(wrong_length), Some(2), "wrong lengths"),
        (with(unknown_charset), Some(2), "unknown character set"),
        (
            with(bad_directory),
            Some(2),
            "field 001 (entry 1) runs past the end",
        ),
        (
            with(bad_utf8),
            Some(2),
            "field 245 is not valid UTF-8 (at byte 4)",
        ),
        (with(cjk), Some(2), "switches to a character set other than"),
        (truncated, Some(2), "truncated file"),
        (
            good[..10].to_vec(),
            Some(1),
            "before its leader is complete",
        ),
        (Vec::new(), None, "no MARC records"),
        (b"\n\n".to_vec(), None, "no MARC records"),
    ];
    for (bytes, record, words) in cases {
        let (got_record, message) = problem_of(&bytes);
        assert_eq!(got_record, record, "{message}");
        assert!(message.contains(words), "{message:?} should say {words:?}");
        if let Some(record) = record {
            assert!(
                message.starts_with(&format!("record {record}: ")),
                "{message}"
            );
        }
    }
}

#[test]
fn damaged_marcxml_names_the_record() {
    let one = r#"<record><leader>00000nam a2200000 a 4500</leader><datafield tag="245" ind1="1" ind2="0"><subfield code="a">Một</subfield></datafield></record>"#;
    let cases: Vec<(Vec<u8>, Option<usize>, &str)> = vec![
        (
            format!("<collection>{one}{one}<record><leader>short</leader></record></collection>")
                .into_bytes(),
            Some(3),
            "not MARCXML",
        ),
        (
            format!("<collection>{one}<record><datafield").into_bytes(),
            Some(2),
            "not MARCXML",
        ),
        (
            [
                format!("<collection>{one}<record><datafield tag=\"245\"><subfield code=\"a\">")
                    .as_bytes(),
                b"\xff\xfe",
                b"</subfield></datafield></record></collection>",
            ]
            .concat(),
            Some(2),
            "not valid UTF-8",
        ),
        (
            b"<collection></collection>".to_vec(),
            None,
            "no MARC records",
        ),
        // Found by the fuzzer: ISO 2709 would not read this indicator back.
        (
            format!("<collection>{one}<record><datafield tag=\"245\" ind1=\"&#x7F;\" ind2=\" \"><subfield code=\"a\">x</subfield></datafield></record></collection>").into_bytes(),
            Some(2),
            "field 245: an indicator is not an ASCII letter, digit or blank",
        ),
        // Found by the fuzzer: ISO 2709 would read it back as a control field.
        (
            format!("<collection>{one}<record><datafield tag=\"007\"><subfield code=\"a\">x</subfield></datafield></record></collection>").into_bytes(),
            Some(2),
            "field 007: a data field cannot have a control field's tag",
        ),
    ];
    for (bytes, record, words) in cases {
        let (got_record, message) = problem_of(&bytes);
        assert_eq!(got_record, record, "{message}");
        assert!(message.contains(words), "{message:?} should say {words:?}");
    }
}

#[test]
fn mapping_reads_what_a_commune_library_uses() {
    let (_, records) = read(&kieu("00012", "978-604-69-0001-6")).expect("reads");
    let book = BookFields::of_marc(&records[0]);
    assert_eq!(
        book,
        BookFields {
            title: "Truyện Kiều : Đoạn trường tân thanh".into(),
            authors: vec!["Nguyễn Du".into(), "Đào Duy Anh".into()],
            publisher: "Văn học".into(),
            year: Some(2015),
            isbn: Some("9786046900016".into()),
            language: "vie".into(),
            ddc: "895.92211".into(),
            subjects: vec!["Văn học Việt Nam".into(), "Thơ lục bát".into()],
            summary: Some("Truyện thơ lục bát.".into()),
            pages: Some(215),
        }
    );
    assert_eq!(control_numbers(&records[0]), ["(VN-TVQG)00012"]);
}

#[test]
fn mapping_falls_back_to_008_and_264() {
    let file = iso(
        b'a',
        &[
            ("008", b"990101s1999    vm            000 0 fre d"),
            ("035", &field("  ", &[("a", b"(OCoLC)123")])),
            ("245", &field("00", &[("a", b"Nguy\xe1\xbb\x85n V.")])),
            ("264", &field(" 0", &[("b", b"Printer")])),
            (
                "264",
                &field(" 1", &[("b", "Kim Đồng,".as_bytes()), ("c", b"[2019]")]),
            ),
            ("300", &field("  ", &[("a", b"xii trang")])),
        ],
    );
    let (_, records) = read(&file).expect("reads");
    let book = BookFields::of_marc(&records[0]);
    assert_eq!(book.title, "Nguyễn V.", "an initial keeps its full stop");
    assert_eq!(book.publisher, "Kim Đồng");
    assert_eq!(book.year, Some(2019));
    assert_eq!(book.language, "fre");
    assert_eq!(book.pages, None);
    assert_eq!(control_numbers(&records[0]), ["(OCoLC)123"]);
}

#[test]
fn unedited_records_export_as_they_came_and_edits_show() {
    let file = kieu("00012", "9786046900016");
    let (_, records) = read(&file).expect("reads");
    let now = Utc
        .with_ymd_and_hms(2026, 12, 7, 8, 0, 0)
        .single()
        .expect("time");
    let original = records[0].clone();
    let unchanged = mapping::overlay(original.clone(), &BookFields::of_marc(&original), now);
    let mut bytes = Vec::new();
    iso2709::write(&unchanged, &mut bytes).expect("fits");
    assert_eq!(bytes, file);

    let mut edited = BookFields::of_marc(&original);
    edited.title = "Truyện Kiều (bản mới)".into();
    edited.authors = vec!["Nguyễn Du".into()];
    edited.pages = Some(300);
    let out = mapping::overlay(original.clone(), &edited, now);
    assert_eq!(BookFields::of_marc(&out), edited);
    assert_eq!(out.get_field_values("245", "a"), ["Truyện Kiều (bản mới)"]);
    assert_eq!(
        out.get_field_values("245", "c"),
        ["Nguyễn Du."],
        "untouched subfields stay"
    );
    assert!(out.get_fields("700").is_empty());
    assert_eq!(out.get_field_values("300", "c"), ["21 cm"]);
    assert_eq!(
        out.get_field_values("082", "a"),
        ["895.9221/1"],
        "unedited fields stay as they came"
    );
    assert_eq!(
        out.get_control_fields("005")[0].content(),
        "20261207080000.0"
    );
}

#[test]
fn records_made_here_get_a_generated_record() {
    let book = BookFields {
        title: "Dế Mèn phiêu lưu ký".into(),
        authors: vec!["Tô Hoài".into(), "Tạ Huy Long".into()],
        publisher: "Kim Đồng".into(),
        year: Some(2020),
        isbn: Some("9786042088121".into()),
        language: "vie".into(),
        ddc: "895.9223".into(),
        subjects: vec!["Truyện thiếu nhi".into(), "Văn học Việt Nam".into()],
        summary: Some("Cuộc phiêu lưu của chú Dế Mèn.".into()),
        pages: Some(144),
    };
    let now = Utc
        .with_ymd_and_hms(2026, 12, 7, 8, 0, 0)
        .single()
        .expect("time");
    let record = mapping::generate(
        "rec-0011223344556677",
        &book,
        NaiveDate::from_ymd_opt(2026, 3, 1),
        now,
    );
    assert_eq!(BookFields::of_marc(&record), book);
    let tags: Vec<&str> = record.fields().iter().map(|f| f.tag()).collect();
    assert_eq!(
        tags,
        [
            "020", "041", "082", "100", "245", "260", "300", "520", "650", "650", "700"
        ]
    );
    let fixed = record.get_control_fields("008")[0].content().to_owned();
    assert_eq!(fixed.len(), 40);
    assert_eq!(&fixed[0..15], "260301s2020    ");
    assert_eq!(&fixed[35..38], "vie");
    let mut bytes = Vec::new();
    iso2709::write(&record, &mut bytes).expect("fits");
    let (_, again) = read(&bytes).expect("reads back");
    assert_eq!(mapping::own_number(&again[0]), Some("rec-0011223344556677"));
    assert_eq!(BookFields::of_marc(&again[0]), book);
}

fn open() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("tusach.db")).expect("open");
    crate::query_tables::attach(&mut store).expect("attach");
    (store, dir)
}

fn import(store: &mut Store, file: &[u8], dry_run: bool) -> import::ImportPlan {
    let (format, count) = check(file).expect("reads");
    let (_, records) = records(file).expect("reads again");
    let mut plan = import::plan(store, format, records).expect("plan");
    assert_eq!(plan.outcomes.len(), count);
    if !dry_run {
        import::apply(
            store,
            &mut plan,
            NaiveDate::from_ymd_opt(2026, 12, 7).expect("day"),
        )
        .expect("apply");
    }
    plan
}

#[test]
fn imports_create_merge_and_skip_and_are_searchable() {
    let (mut store, _dir) = open();
    let no_title = iso(
        b'a',
        &[("001", b"9"), ("245", &field("10", &[("c", b"nobody")]))],
    );
    let mut file = kieu("00012", "9786046900016");
    file.extend(kieu("00013", "9786046900023"));
    file.extend(&no_title);
    file.extend(kieu("00014", "9786046900023"));

    let preview = import(&mut store, &file, true);
    assert_eq!((preview.created(), preview.merged()), (2, 0));
    assert_eq!(
        preview.skipped(),
        [(3, &SkipReason::NoTitle), (4, &SkipReason::SameAsRecord(2))]
    );
    assert_eq!(
        db::record_count(store.connection()).expect("count"),
        0,
        "a preview writes nothing"
    );

    let plan = import(&mut store, &file, false);
    assert_eq!(
        (plan.created(), plan.merged(), plan.skipped().len()),
        (2, 0, 2)
    );
    let found = crate::search::search(
        store.connection(),
        &crate::search::SearchQuery {
            text: "truyen kieu",
            limit: 10,
        },
    )
    .expect("search");
    assert_eq!(found.len(), 2, "{found:?}");

    // The same file again: every book is known, by ISBN or control number.
    let again = import(&mut store, &file, false);
    assert_eq!((again.created(), again.merged()), (0, 2));
    assert_eq!(db::record_count(store.connection()).expect("count"), 2);

    // A record known only by its control number fills what ours lacks.
    let id = plan.created_ids()[0].to_owned();
    let mut batch = tusach_sync::WriteBatch::new();
    crate::catalogue::put_field(&mut batch, &id, "publisher", "");
    store.commit(&batch).expect("blank the publisher");
    let without_isbn = iso(
        b'a',
        &[
            ("001", b"00012"),
            ("003", b"VN-TVQG"),
            ("245", &field("10", &[("a", b"Other title")])),
            ("260", &field("  ", &[("b", b"NXB Tr\xe1\xba\xbb")])),
        ],
    );
    let preview = import(&mut store, &without_isbn, true);
    let Outcome::Merge { into, fill, .. } = &preview.outcomes[0] else {
        panic!("not a merge: {:?}", preview.outcomes)
    };
    assert_eq!(into, &id);
    assert_eq!(fill, &[("publisher", tusach_sync::Value::from("NXB Trẻ"))]);
    let merged = import(&mut store, &without_isbn, false);
    assert_eq!(merged.merged(), 1);
    let row = db::record_by_id(store.connection(), &id)
        .expect("row")
        .expect("there");
    assert_eq!(
        row.title, "Truyện Kiều : Đoạn trường tân thanh",
        "a merge keeps our title"
    );
    assert_eq!(row.publisher, "NXB Trẻ");
}

#[test]
fn exports_import_again_as_the_same_records() {
    let (mut store, _dir) = open();
    let mut batch = tusach_sync::WriteBatch::new();
    let library = crate::sample::SampleLibrary::new(7);
    for n in 0..20 {
        crate::catalogue::put_record(&mut batch, &library.record(n));
    }
    store.commit(&batch).expect("sample records");
    import(&mut store, &kieu("00012", "9786046900016"), false);
    let now = Utc
        .with_ymd_and_hms(2026, 12, 7, 8, 0, 0)
        .single()
        .expect("time");
    let records = export::records(&mut store, None, now).expect("export");
    assert_eq!(records.len(), 21);
    for format in [Format::Iso2709, Format::MarcXml] {
        let bytes = export::write(&records, format).expect("write");
        let plan = import(&mut store, &bytes, false);
        assert_eq!(
            (plan.created(), plan.merged(), plan.skipped().len()),
            (0, 21, 0),
            "{format:?}"
        );
        assert!(
            plan.outcomes.iter().all(|o| matches!(o, Outcome::Merge { fill, control_numbers: None, marc: None, .. } if fill.is_empty())),
            "re-importing our export changes nothing: {:?}",
            plan.outcomes
        );
    }
    assert_eq!(db::record_count(store.connection()).expect("count"), 21);
    let one = [records[3].0.clone()];
    let selected = export::records(&mut store, Some(&one), now).expect("selection");
    assert_eq!(selected.len(), 1);
    assert!(matches!(
        export::records(&mut store, Some(&["rec-nope".to_owned()]), now),
        Err(export::ExportError::UnknownRecord(_))
    ));
}

#[test]
fn a_large_import_counts_its_records_into_the_store_shard_by_shard() {
    let (mut store, _dir) = open();
    let file = crate::sample::SampleLibrary::new(3).marc_file(400);
    let (format, _) = check(&file).expect("reads");
    let (_, records) = records(&file).expect("reads again");
    let mut plan = import::plan(&mut store, format, records).expect("plan");
    let writing = plan.created() + plan.merged();
    let mut told = Vec::new();
    import::apply_counting(
        &mut store,
        &mut plan,
        NaiveDate::from_ymd_opt(2026, 12, 7).expect("day"),
        &mut |done| told.push(done),
    )
    .expect("apply");
    assert!(told.windows(2).all(|w| w[0] <= w[1]), "{told:?}");
    assert_eq!(told.last(), Some(&writing));
    // One step per shard the records fall in (64 of them for 400 records), not one at the end.
    assert!(told.len() > 32, "{} steps", told.len());
    assert_eq!(
        db::record_count(store.connection()).expect("count"),
        writing as i64
    );
}
