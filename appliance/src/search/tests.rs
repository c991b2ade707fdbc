//! Search on a real store with its query tables: what a reader types and what comes back.

use tusach_sync::{Store, WriteBatch};

use super::*;
use crate::catalogue::{put_record, record_key};
use crate::sample::SampleRecord;

fn record(id: &str, title: &str, author: &str) -> SampleRecord {
    SampleRecord {
        id: id.into(),
        title: title.into(),
        authors: vec![author.into()],
        publisher: "NXB Văn học".into(),
        year: 2015,
        isbn: String::new(),
        language: "vie".into(),
        ddc: "895.9221".into(),
        subjects: vec!["Văn học Việt Nam".into()],
        pages: 200,
        summary: String::new(),
    }
}

struct Library {
    store: Store,
    _dir: tempfile::TempDir,
}

fn library(records: &[SampleRecord]) -> Library {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("tusach.db")).expect("open");
    crate::query_tables::attach(&mut store).expect("attach");
    let mut batch = WriteBatch::new();
    for r in records {
        put_record(&mut batch, r);
    }
    store.commit(&batch).expect("commit");
    Library { store, _dir: dir }
}

fn ids(library: &Library, text: &str) -> Vec<String> {
    search(library.store.connection(), &SearchQuery { text, limit: 20 })
        .expect("search")
        .into_iter()
        .map(|r| r.id)
        .collect()
}

fn classics() -> Vec<SampleRecord> {
    vec![
        record("kieu", "Truyện Kiều", "Nguyễn Du"),
        record("de-men", "Dế Mèn phiêu lưu ký", "Tô Hoài"),
        record("duong", "Con đường làng", "Trần Văn Nam"),
        record("dương", "Dương liễu", "Lê Thị Hoa"),
        record("đương", "Đương đầu", "Phạm Văn An"),
        record("hoa-old", "Hòa bình", "Nguyễn Văn Bình"),
        record("thuy", "Thuý Kiều", "Hồ Xuân Hương"),
    ]
}

#[test]
fn an_unaccented_query_finds_accented_text() {
    let library = library(&classics());
    assert_eq!(ids(&library, "nguyen du"), vec!["kieu"]);
    assert_eq!(ids(&library, "NGUYEN DU"), vec!["kieu"]);
    assert_eq!(ids(&library, "truyen kieu"), vec!["kieu"]);
    assert_eq!(ids(&library, "de men"), vec!["de-men"]);
}

#[test]
fn an_accented_query_finds_the_same_and_typed_prefixes_match() {
    let library = library(&classics());
    assert_eq!(ids(&library, "Nguyễn Du"), vec!["kieu"]);
    assert_eq!(ids(&library, "truy"), vec!["kieu"]);
    assert_eq!(ids(&library, "Dế M"), vec!["de-men"]);
}

#[test]
fn old_and_new_tone_placement_are_the_same_word() {
    let library = library(&classics());
    assert_eq!(ids(&library, "hoà bình"), vec!["hoa-old"]);
    assert_eq!(ids(&library, "hòa bình"), vec!["hoa-old"]);
    assert_eq!(ids(&library, "thúy kiều"), vec!["thuy"]);
}

#[test]
fn an_accented_query_ranks_the_exact_word_first() {
    let library = library(&classics());
    // All three fold to "duong"; the accented query puts its own word first.
    let found = ids(&library, "đường");
    assert_eq!(
        found.first().map(String::as_str),
        Some("duong"),
        "{found:?}"
    );
    let found = ids(&library, "đương");
    assert_eq!(
        found.first().map(String::as_str),
        Some("đương"),
        "{found:?}"
    );
    let found = ids(&library, "dương");
    assert_eq!(
        found.first().map(String::as_str),
        Some("dương"),
        "{found:?}"
    );
    assert_eq!(ids(&library, "duong").len(), 3);
}

#[test]
fn an_isbn_is_looked_up_with_or_without_hyphens() {
    let mut with_isbn = record("isbn", "Kỹ thuật trồng lúa nước", "Lê Văn Nam");
    with_isbn.isbn = "9786040123456".into();
    let library = library(&[with_isbn]);
    assert_eq!(ids(&library, "9786040123456"), vec!["isbn"]);
    assert_eq!(ids(&library, "978-604-01-2345-6"), vec!["isbn"]);
}

#[test]
fn odd_input_is_harmless() {
    let library = library(&classics());
    for text in [
        "",
        "   ",
        "\"",
        "AND OR NOT",
        "*",
        "kieu\" OR \"x",
        "NEAR(a b)",
        "(((",
        "\u{0301}",
    ] {
        let result = search(library.store.connection(), &SearchQuery { text, limit: 20 });
        assert!(result.is_ok(), "{text:?}: {result:?}");
    }
    assert_eq!(ids(&library, "kieu\" OR \"x"), Vec::<String>::new());
}

#[test]
fn edits_deletes_and_merged_records_keep_the_index_in_step() {
    let mut library = library(&classics());
    let mut batch = WriteBatch::new();
    batch.put(&record_key("kieu"), "title", "Đoạn trường tân thanh");
    batch.delete(&record_key("de-men"));
    library.store.commit(&batch).expect("commit");
    assert_eq!(ids(&library, "doan truong"), vec!["kieu"]);
    assert!(ids(&library, "truyen kieu").is_empty());
    assert!(ids(&library, "de men").is_empty());

    // A second device receives everything through a sync and can search it at once.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut other = Store::open(&dir.path().join("tusach.db")).expect("open");
    crate::query_tables::attach(&mut other).expect("attach");
    let mut plan = library
        .store
        .plan_for(&other.knowledge(|_| true).expect("knowledge"), |_| true)
        .expect("plan");
    while let Some(batch) = library.store.next_batch(&mut plan, 1 << 20).expect("batch") {
        other.apply_batch(&batch).expect("apply");
    }
    let found: Vec<String> = search(
        other.connection(),
        &SearchQuery {
            text: "doan truong",
            limit: 5,
        },
    )
    .expect("search")
    .into_iter()
    .map(|r| r.id)
    .collect();
    assert_eq!(found, vec!["kieu"]);
}

#[test]
fn attaching_to_a_store_that_predates_the_index_fills_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tusach.db");
    {
        let mut store = Store::open(&path).expect("open");
        let mut batch = WriteBatch::new();
        for r in classics() {
            put_record(&mut batch, &r);
        }
        store.commit(&batch).expect("commit");
    }
    let mut store = Store::open(&path).expect("reopen");
    crate::query_tables::attach(&mut store).expect("attach");
    let found = search(
        store.connection(),
        &SearchQuery {
            text: "nguyen du",
            limit: 5,
        },
    )
    .expect("search");
    assert_eq!(found.len(), 1);
}

#[test]
fn whole_words_rank_before_words_still_being_typed() {
    let library = library(&[
        record("many-nguyen", "Nguyễn Nguyễn Nguyễn", "Nguyễn Văn Dương"),
        record("poet", "Thơ chọn lọc", "Nguyễn Du"),
    ]);
    assert_eq!(ids(&library, "nguyen du"), vec!["poet", "many-nguyen"]);
    assert_eq!(ids(&library, "nguyen duo"), vec!["many-nguyen"]);
}

#[test]
fn a_copy_barcode_finds_its_record() {
    let mut library = library(&classics());
    let desk = crate::demo::demo_desk("d").expect("desk");
    let mut batch = WriteBatch::new();
    desk.put_copy_on_shelf(&mut batch, "TS000042", "de-men", "book", "Kệ 9");
    library.store.commit(&batch).expect("copy");
    assert_eq!(ids(&library, "TS000042"), vec!["de-men"]);
    assert_eq!(ids(&library, "ts000042"), vec!["de-men"]);
    assert!(ids(&library, "TS999999").is_empty());
}

#[test]
fn facets_count_decades_languages_subjects_and_libraries_and_filter_by_them() {
    let mut records = classics();
    records[0].year = 1994;
    records[1].year = 1999;
    records[1].language = "eng".into();
    records[2].subjects = vec!["Văn học Việt Nam".into(), "Làng quê".into()];
    let mut library = library(&records);
    let desk = crate::demo::demo_desk("d").expect("desk");
    let mut batch = WriteBatch::new();
    desk.put_copy_on_shelf(&mut batch, "TS1", "kieu", "book", "Kệ 9");
    desk.put_copy_on_shelf(&mut batch, "TS2", "kieu", "book", "Kệ 9");
    desk.put_copy_on_shelf(&mut batch, "TS3", "duong", "book", "Kệ 9");
    library.store.commit(&batch).expect("copies");
    let conn = library.store.connection();
    let all = search_faceted(conn, "van hoc", &Filters::default(), 20).expect("search");
    assert_eq!(all.total, 7);
    assert!(!all.capped);
    assert_eq!(all.facets.decades, vec![(2010, 5), (1990, 2)]);
    assert_eq!(
        all.facets.languages,
        vec![("vie".to_owned(), 6), ("eng".to_owned(), 1)]
    );
    assert_eq!(all.facets.subjects[0], ("Văn học Việt Nam".to_owned(), 7));
    assert_eq!(all.facets.subjects[1], ("Làng quê".to_owned(), 1));
    assert_eq!(all.facets.libraries, vec![("xa-nghi-phu".to_owned(), 2)]);

    let nineties = Filters {
        decade: Some(1990),
        ..Filters::default()
    };
    let found = search_faceted(conn, "van hoc", &nineties, 20).expect("search");
    assert_eq!(found.total, 2);
    assert_eq!(found.facets.languages.len(), 2);
    let held = Filters {
        library: Some("xa-nghi-phu".into()),
        language: Some("vie".into()),
        ..Filters::default()
    };
    let mut found: Vec<String> = search_faceted(conn, "van hoc", &held, 20)
        .expect("search")
        .records
        .into_iter()
        .map(|r| r.id)
        .collect();
    found.sort();
    assert_eq!(found, ["duong", "kieu"]);
    let page = search_faceted(conn, "van hoc", &Filters::default(), 3).expect("search");
    assert_eq!((page.records.len(), page.total), (3, 7));
}

#[test]
fn the_index_check_finds_tables_that_differ_from_the_documents() {
    let mut library = library(&classics());
    let clean = check_index(&mut library.store).expect("check");
    assert_eq!(clean.records, 7);
    assert!(clean.problems.is_empty(), "{:?}", clean.problems);

    // A title changed behind the store's back, and a search row lost.
    let conn = library.store.connection();
    conn.execute(
        "UPDATE record_index SET title = 'Truyện Kiều (sửa tay)' WHERE id = 'kieu'",
        [],
    )
    .expect("update");
    let rowid: i64 = conn
        .query_row(
            "SELECT rowid FROM record_index WHERE id = 'thuy'",
            [],
            |r| r.get(0),
        )
        .expect("rowid");
    conn.execute("DELETE FROM record_search WHERE rowid = ?1", [rowid])
        .expect("delete");
    let damaged = check_index(&mut library.store).expect("check");
    let said = damaged.problems.join("\n");
    assert!(said.contains("kieu: the index holds"), "{said}");
    assert!(
        said.contains("thuy: the search table does not find it"),
        "{said}"
    );
    assert!(said.contains("the search table has 6 rows for 7"), "{said}");
}
