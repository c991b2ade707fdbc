//! Cataloguing on a real store: copies added all or none, records created once per ISBN.

use chrono::NaiveDate;
use tusach_sync::{Store, WriteBatch};

use super::*;
use crate::demo::demo_desk;

fn open() -> (Store, Desk, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("tusach.db")).expect("open");
    crate::query_tables::attach(&mut store).expect("attach");
    let mut batch = WriteBatch::new();
    crate::catalogue::put_record(&mut batch, &crate::sample::SampleLibrary::new(1).record(0));
    store.commit(&batch).expect("record");
    (store, demo_desk("desk-a").expect("desk"), dir)
}

fn copies(record: &str, barcodes: &[&str]) -> NewCopies {
    NewCopies {
        record: record.into(),
        barcodes: barcodes.iter().map(|b| (*b).to_owned()).collect(),
        shelf: "Kệ 9 – 895.922".into(),
        item_type: "book".into(),
        acquired: chrono::NaiveDate::from_ymd_opt(2026, 9, 1).expect("day"),
    }
}

#[test]
fn copies_are_added_all_or_none() {
    let (mut store, desk, _dir) = open();
    let record = "rec-00000000";
    assert_eq!(
        add_copies(&mut store, &desk, &copies(record, &["TS1", "TS2"])).expect("add"),
        2
    );
    let feed = store.feed_len().expect("feed");
    let refused: &[(NewCopies, &str)] = &[
        (copies("rec-nope", &["TS3"]), "no record"),
        (copies(record, &["TS3", "TS1"]), "already belongs"),
        (copies(record, &["TS3", "TS3"]), "twice"),
        (copies(record, &["TS3", "<b>"]), "not a barcode"),
        (copies(record, &[]), "no barcodes"),
        (
            NewCopies {
                item_type: "dvd".into(),
                ..copies(record, &["TS3"])
            },
            "item type",
        ),
    ];
    for (asked, expected) in refused {
        let error = add_copies(&mut store, &desk, asked).expect_err("refused");
        assert!(error.to_string().contains(expected), "{error}");
    }
    assert_eq!(store.feed_len().expect("feed"), feed, "nothing written");
    let rows = db::holdings_of_record(store.connection(), record).expect("rows");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].copy.shelf, "Kệ 9 – 895.922");
    assert_eq!(
        split_barcodes("TS1\r\nTS2, TS3;TS4  TS5\n"),
        ["TS1", "TS2", "TS3", "TS4", "TS5"]
    );
}

#[test]
fn a_new_record_is_searchable_and_its_isbn_is_checked_once() {
    let (mut store, _desk, _dir) = open();
    let today = NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
    let draft = RecordDraft {
        title: "Cẩm nang nuôi ong mật".into(),
        authors: vec!["Phan Văn Lộc".into()],
        publisher: "NXB Nông nghiệp".into(),
        year: Some(2024),
        isbn: Some("978-0-306-40615-7".into()),
        language: "vie".into(),
        ddc: "638.1".into(),
        subjects: vec!["Nuôi ong".into()],
        summary: None,
    };
    let id = create_record(&mut store, &draft, today).expect("create");
    let found = crate::search::search(
        store.connection(),
        &crate::search::SearchQuery {
            text: "nuoi ong mat",
            limit: 5,
        },
    )
    .expect("search");
    assert_eq!(found[0].id, id);
    assert_eq!(found[0].isbn.as_deref(), Some("9780306406157"));
    let feed = store.feed_len().expect("feed");
    assert!(matches!(
        create_record(&mut store, &draft, today),
        Err(CatalogueError::IsbnTaken { .. })
    ));
    let bad = RecordDraft {
        isbn: Some("9780306406158".into()),
        ..draft.clone()
    };
    assert!(matches!(
        create_record(&mut store, &bad, today),
        Err(CatalogueError::InvalidIsbn(_))
    ));
    let untitled = RecordDraft {
        title: " ".into(),
        isbn: None,
        ..draft
    };
    assert!(matches!(
        create_record(&mut store, &untitled, today),
        Err(CatalogueError::NoTitle)
    ));
    assert_eq!(store.feed_len().expect("feed"), feed);
}
