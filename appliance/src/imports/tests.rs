//! The import page's flow on a real store, without HTTP: files told apart, a list whose title
//! column the librarian names, its preview and its run with progress to the end; a bad row
//! that writes nothing; a MARC file.

use std::sync::Mutex;

use chrono::{NaiveDate, TimeZone, Utc};
use tusach_sync::Store;

use super::*;
use crate::cataloguing::marc::iso2709;
use crate::cataloguing::marc::mapping::{self, BookFields};
use crate::demo::demo_desk;
use crate::search::{self, SearchQuery};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 7).expect("date")
}

fn open() -> (Store, Desk, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("tusach.db")).expect("open");
    crate::query_tables::attach(&mut store).expect("attach");
    (store, demo_desk("desk-a").expect("desk"), dir)
}

fn csv(name: &str, text: &str) -> ImportFile {
    ImportFile {
        name: name.into(),
        format: FileFormat::detect(name, text.as_bytes()).expect("format"),
        bytes: text.as_bytes().to_vec(),
    }
}

fn titles(store: &Store, query: &str) -> Vec<String> {
    search::search(
        store.connection(),
        &SearchQuery {
            text: query,
            limit: 10,
        },
    )
    .expect("search")
    .into_iter()
    .map(|r| r.title)
    .collect()
}

fn marc_file(titles: &[&str]) -> Vec<u8> {
    let now = Utc
        .with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
        .single()
        .expect("time");
    let mut bytes = Vec::new();
    for (n, title) in titles.iter().enumerate() {
        let book = BookFields {
            title: (*title).to_owned(),
            authors: vec!["Nguyễn Du".into()],
            language: "vie".into(),
            ..BookFields::default()
        };
        let record = mapping::generate(&format!("HN{n:04}"), &book, None, now);
        iso2709::write(&record, &mut bytes).expect("fits");
    }
    bytes
}

#[test]
fn files_are_told_apart_by_content_then_name() {
    let detect = |name: &str, bytes: &[u8]| FileFormat::detect(name, bytes).ok();
    let marc = marc_file(&["Truyện Kiều"]);
    assert_eq!(detect("huyen.mrc", &marc), Some(FileFormat::Marc));
    assert_eq!(detect("huyen.dat", &marc), Some(FileFormat::Marc));
    assert_eq!(
        detect("x.xml", b"<?xml version=\"1.0\"?><collection>"),
        Some(FileFormat::Marc)
    );
    assert_eq!(
        detect("", b"<record xmlns=\"http://www.loc.gov/MARC21/slim\">"),
        Some(FileFormat::Marc)
    );
    assert_eq!(detect("sach.csv", b"Ten sach;Nam\n"), Some(FileFormat::Csv));
    assert_eq!(detect("sach", b"Ten sach;Nam\n"), Some(FileFormat::Csv));
    assert_eq!(
        detect("sach.csv", b"PK\x03\x04 a zip"),
        Some(FileFormat::Xlsx)
    );
    assert!(matches!(
        FileFormat::detect("sach.xls", b"\xD0\xCF\x11\xE0"),
        Err(ImportError::OldExcel)
    ));
    assert!(matches!(
        FileFormat::detect("sach.pdf", b"%PDF"),
        Err(ImportError::UnknownFormat(_))
    ));
}

#[test]
fn a_list_mapped_by_the_librarian_previews_then_imports_with_progress() {
    let (store, desk, _dir) = open();
    let file = csv(
        "sach.csv",
        "Sổ đăng ký;;;\n\
         Tên truyện;Tác giả;ĐKCB;Ghi chú\n\
         Dế Mèn phiêu lưu ký;Tô Hoài;200001;\n\
         Đất rừng phương Nam;Đoàn Giỏi;200002 200003;\n",
    );
    let mut choices = ListChoices::new(RowKind::Books);
    // Before the librarian says which column is the title, nothing can be planned.
    let store = Mutex::new(store);
    {
        let mut store = store.lock().expect("store");
        assert!(matches!(
            preview(&mut store, &desk, &file, &choices, today()),
            Err(ImportError::Columns(MapError::NoHeader { .. }))
        ));
    }
    let view = columns_view(&file, &choices).expect("columns");
    assert_eq!(view.header_line, 2);
    assert_eq!(view.header_lines[0], (1, "Sổ đăng ký".to_owned()));
    let fields: Vec<Option<Field>> = view.columns.iter().map(|c| c.field).collect();
    assert_eq!(
        fields,
        [None, Some(Field::Authors), Some(Field::Barcode), None]
    );
    assert_eq!(view.columns[0].header, "Tên truyện");
    assert_eq!(
        view.columns[0].examples,
        ["Dế Mèn phiêu lưu ký", "Đất rừng phương Nam"]
    );

    choices.header_line = Some(2);
    choices.columns = Some(vec![None, Some(Field::Authors), Some(Field::Authors)]);
    assert!(matches!(
        check_columns(&file, &choices),
        Err(ImportError::Columns(MapError::FieldTwice { .. }))
    ));
    choices.columns = Some(vec![
        Some(Field::Title),
        Some(Field::Authors),
        Some(Field::Barcode),
        None,
    ]);
    check_columns(&file, &choices).expect("a good choice");
    assert_eq!(
        columns_view(&file, &choices).expect("columns").columns[0].field,
        Some(Field::Title),
        "the page shows the librarian's choice"
    );

    {
        let mut store = store.lock().expect("store");
        match preview(&mut store, &desk, &file, &choices, today()).expect("preview") {
            Preview::Books(plan) => {
                assert_eq!((plan.new_records(), plan.copies()), (2, 3));
                assert!(plan.errors.is_empty());
            }
            other => panic!("{other:?}"),
        }
        assert!(
            titles(&store, "de men").is_empty(),
            "a preview writes nothing"
        );
    }

    let progress = ImportProgress::new();
    assert_eq!(progress.view().phase, Phase::Queued);
    run(&store, &desk, &file, &choices, today(), &progress);
    let view = progress.view();
    assert_eq!(view.phase, Phase::Done);
    let outcome = view.outcome.expect("over");
    assert_eq!(
        *outcome.as_ref().as_ref().expect("imported"),
        ImportSummary::Books {
            new_records: 2,
            existing_records: 0,
            copies: 3
        }
    );
    let store = store.lock().expect("store");
    assert_eq!(titles(&store, "de men"), ["Dế Mèn phiêu lưu ký"]);
}

#[test]
fn a_bad_row_found_at_import_time_writes_nothing() {
    let (store, desk, _dir) = open();
    let store = Mutex::new(store);
    let file = csv(
        "ban-doc.csv",
        "Họ và tên,Lớp,Số thẻ,Đối tượng\n\
         Lê Thị Hoa,5A,HS-001,Học sinh\n\
         Trần Văn Bình,,GV-001,Bộ đội\n",
    );
    let progress = ImportProgress::new();
    run(
        &store,
        &desk,
        &file,
        &ListChoices::new(RowKind::Readers),
        today(),
        &progress,
    );
    let view = progress.view();
    assert_eq!(view.phase, Phase::Failed);
    match view.outcome.expect("over").as_ref() {
        Err(ImportError::BadRows(errors)) => {
            assert_eq!(errors.len(), 1);
            assert!(
                errors[0]
                    .vi()
                    .starts_with("Dòng 3, cột Đối tượng: \"Bộ đội\""),
                "{}",
                errors[0].vi()
            );
        }
        other => panic!("{other:?}"),
    }
    let mut store = store.lock().expect("store");
    assert!(
        !desk.card_in_use(&mut store, "HS-001").expect("read"),
        "the good row is not imported either"
    );
}

#[test]
fn a_marc_file_previews_and_imports_with_its_records_counted() {
    let (store, desk, _dir) = open();
    let store = Mutex::new(store);
    let file = ImportFile {
        name: "huyen.mrc".into(),
        format: FileFormat::Marc,
        bytes: marc_file(&["Truyện Kiều", "Lục Vân Tiên", ""]),
    };
    let choices = ListChoices::new(RowKind::Books);
    match preview(
        &mut store.lock().expect("store"),
        &desk,
        &file,
        &choices,
        today(),
    )
    .expect("preview")
    {
        Preview::Marc { records, plan } => {
            assert_eq!((records, plan.created(), plan.skipped().len()), (3, 2, 1));
        }
        other => panic!("{other:?}"),
    }
    let progress = ImportProgress::new();
    run(&store, &desk, &file, &choices, today(), &progress);
    let view = progress.view();
    assert_eq!(view.phase, Phase::Done, "{:?}", view.outcome);
    match view.outcome.expect("over").as_ref() {
        Ok(ImportSummary::Marc {
            records: 3,
            created: 2,
            merged: 0,
            skipped,
        }) => assert_eq!(skipped, &[(3, SkipReason::NoTitle)]),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        titles(&store.lock().expect("store"), "luc van tien"),
        ["Lục Vân Tiên"]
    );

    let damaged = ImportFile {
        bytes: file.bytes[..file.bytes.len() - 10].to_vec(),
        ..file
    };
    let progress = ImportProgress::new();
    run(&store, &desk, &damaged, &choices, today(), &progress);
    assert!(matches!(
        progress.view().outcome.expect("over").as_ref(),
        Err(ImportError::Marc(MarcError::Record { record: 3, .. }))
    ));
}
