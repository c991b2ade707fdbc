//! MARC21 in and out as a district engineer runs it while `tusach serve` holds the data
//! folder: `tusach import marc` and `tusach export marc` go through serve's control socket;
//! imported records are found by the readers' search over HTTP; an export imports again as
//! the same records; damaged files import nothing and name the record. Our exports are read by
//! independent tools, yaz-marcdump (yaz) and pymarc, with the same field values as ours.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use tusach::cataloguing::marc::mapping;
use tusach::cataloguing::marc::{self, Record, iso2709};
use tusach::sample::SampleLibrary;
use tusach_tests::cli::{ok_in, tusach_in};
use tusach_tests::web::Server;

const BOOKS: usize = 50;

/// A district library's file: `BOOKS` records with the district's control numbers, one in
/// MARC-8 ("Truyện Kiều" by Nguyễn Du), and one with no title.
fn district_file() -> Vec<u8> {
    let library = SampleLibrary::new(1212);
    let now = Utc
        .with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
        .single()
        .expect("time");
    let mut file = Vec::new();
    for n in 0..BOOKS {
        let book = library.record(n as u64 + 5000).book_fields();
        let mut record: Record = mapping::generate(&format!("HN{n:06}"), &book, None, now);
        record
            .add_control_field("003", "VN-HaNoi")
            .expect("control field");
        iso2709::write(&record, &mut file).expect("fits");
    }
    file.extend(marc8_record());
    file.extend(raw_record(
        b'a',
        &[("001", b"HN-untitled"), ("245", b"10\x1fcNobody.")],
    ));
    file
}

/// "Truyện Kiều" / "Nguyễn Du" in MARC-8: marks before their letters.
fn marc8_record() -> Vec<u8> {
    raw_record(
        b' ',
        &[
            ("001", b"HN-kieu"),
            ("003", b"VN-HaNoi"),
            ("100", b"0 \x1faNguy\xe3\xe4en Du"),
            ("245", b"10\x1faTruy\xf2\xe3en Ki\xe3\xe1eu"),
            ("260", b"  \x1fbV\xe6an h\xf2oc\x1fc2015"),
        ],
    )
}

fn raw_record(charset: u8, fields: &[(&str, &[u8])]) -> Vec<u8> {
    let (mut directory, mut data) = (Vec::new(), Vec::new());
    for (tag, content) in fields {
        directory.extend(format!("{tag}{:04}{:05}", content.len() + 1, data.len()).bytes());
        data.extend_from_slice(content);
        data.push(0x1E);
    }
    directory.push(0x1E);
    data.push(0x1D);
    let base = 24 + directory.len();
    let mut record = format!(
        "{:05}nam {}22{base:05} a 4500",
        base + data.len(),
        char::from(charset)
    )
    .into_bytes();
    record.extend(directory);
    record.extend(data);
    record
}

/// `tusach import|export …` typed in `cwd` (file names relative to it); must succeed.
fn run(cwd: &Path, server: &Server, args: &[&str]) -> String {
    ok_in(cwd, server.data(), args, "")
}

/// The records of a file as plain data: leader, then each field as tag, indicators and
/// subfields (control fields as tag and content), the shape the pymarc script prints.
fn as_json(records: &[Record]) -> serde_json::Value {
    records
        .iter()
        .map(|record| {
            let mut fields: Vec<serde_json::Value> = record
                .control_fields()
                .iter()
                .map(|f| serde_json::json!([f.tag(), f.content()]))
                .collect();
            fields.extend(record.fields().iter().map(|f| {
                let subfields: Vec<serde_json::Value> = f
                    .subfields()
                    .iter()
                    .map(|s| serde_json::json!([s.code(), s.content()]))
                    .collect();
                serde_json::json!([f.tag(), f.ind1(), f.ind2(), subfields])
            }));
            serde_json::json!({"leader": record.leader(), "fields": fields})
        })
        .collect()
}

const PYMARC_DUMP: &str = r#"
import json, sys, pymarc
path, kind = sys.argv[1], sys.argv[2]
if kind == "xml":
    records = pymarc.parse_xml_to_array(path)
else:
    with open(path, "rb") as f:
        records = [r for r in pymarc.MARCReader(f, to_unicode=True)]
out = []
for r in records:
    if r is None:
        sys.exit("pymarc could not read a record")
    fields = []
    for f in r.fields:
        if f.is_control_field():
            fields.append([f.tag, f.data])
        else:
            fields.append([f.tag, f.indicator1, f.indicator2, [[s.code, s.value] for s in f.subfields]])
    out.append({"leader": str(r.leader), "fields": fields})
print(json.dumps(out))
"#;

fn pymarc(path: &Path, kind: &str) -> serde_json::Value {
    let output = Command::new("/usr/bin/python3")
        .args(["-c", PYMARC_DUMP])
        .arg(path)
        .arg(kind)
        .output()
        .expect("run python3 (tests/run installs pymarc)");
    assert!(
        output.status.success(),
        "pymarc failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("pymarc's JSON")
}

/// yaz-marcdump reads `path` (in `format`) without a complaint; returns how many records.
fn yaz_reads(path: &Path, format: &str) -> usize {
    let output = Command::new("yaz-marcdump")
        .args(["-i", format, "-o", "line", "-v"])
        .arg(path)
        .output()
        .expect("run yaz-marcdump (tests/run installs yaz)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "yaz-marcdump: {stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    for word in ["error", "Error", "warning", "Warning", "bad", "Bad"] {
        assert!(
            !stderr.contains(word) && !stdout.contains(word),
            "yaz-marcdump complains about {}: {stderr}\n{}",
            path.display(),
            stdout.lines().take(40).collect::<Vec<_>>().join("\n")
        );
    }
    // Line mode starts each record with its leader: five digits then the status.
    stdout
        .lines()
        .filter(|l| l.len() == 24 && l.as_bytes()[..5].iter().all(u8::is_ascii_digit))
        .count()
}

#[test]
fn marc_files_go_in_and_out_through_a_running_serve() {
    let server = Server::with_records(10);
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path();
    std::fs::write(dir.join("district.mrc"), district_file()).expect("write file");

    let preview = run(
        dir,
        &server,
        &["import", "marc", "district.mrc", "--dry-run"],
    );
    assert_eq!(
        preview.trim(),
        format!(
            "would create {}, merge 0, skip 1 (record {}: no title (245 $a))",
            BOOKS + 1,
            BOOKS + 2
        )
    );
    assert!(
        server.titles_found("truyen kieu").is_empty(),
        "a preview writes nothing"
    );

    let imported = run(dir, &server, &["import", "marc", "district.mrc"]);
    assert_eq!(
        imported.trim(),
        format!(
            "created {}, merged 0, skipped 1 (record {}: no title (245 $a))",
            BOOKS + 1,
            BOOKS + 2
        )
    );
    assert!(
        server
            .process
            .wait_for_stderr("import marc district.mrc`", Duration::from_secs(5)),
        "the import ran inside serve: {}",
        server.process.stderr()
    );

    // Found by the readers' search, the MARC-8 record with its Vietnamese letters whole.
    assert_eq!(server.titles_found("truyen kieu"), ["Truyện Kiều"]);
    assert_eq!(server.titles_found("Truyện Kiều"), ["Truyện Kiều"]);
    let from_pymarc = pymarc_title_of_marc8();
    assert_eq!(
        from_pymarc, "Truyện Kiều",
        "pymarc reads the MARC-8 record as we do"
    );
    let sample = SampleLibrary::new(1212).record(5000);
    assert!(
        server.titles_found(&sample.title).contains(&sample.title),
        "{:?} is found",
        sample.title
    );

    // Exports, read by yaz and pymarc with our values.
    let total = 10 + BOOKS + 1;
    let said = run(dir, &server, &["export", "marc", "all.mrc"]);
    assert!(
        said.contains(&format!("exported {total} records")),
        "{said}"
    );
    let said = run(
        dir,
        &server,
        &["export", "marc", "all.xml", "--format", "marcxml"],
    );
    assert!(
        said.contains(&format!("exported {total} records")),
        "{said}"
    );
    let (mrc, xml) = (dir.join("all.mrc"), dir.join("all.xml"));
    assert_eq!(yaz_reads(&mrc, "marc"), total);
    assert_eq!(yaz_reads(&xml, "marcxml"), total);
    let converted = |xml: &Path| {
        Command::new("yaz-marcdump")
            .args(["-i", "marcxml", "-o", "marc"])
            .arg(xml)
            .output()
            .expect("run yaz-marcdump")
            .stdout
    };
    // A record made here carries the export's time in 005, so two exports that straddle a
    // second differ there; such a pair is made again (a real difference repeats).
    for _ in 0..3 {
        if converted(&xml) == std::fs::read(&mrc).expect("read export") {
            break;
        }
        run(dir, &server, &["export", "marc", "all.mrc"]);
        run(
            dir,
            &server,
            &["export", "marc", "all.xml", "--format", "marcxml"],
        );
    }
    assert_eq!(
        converted(&xml),
        std::fs::read(&mrc).expect("read export"),
        "yaz turns our MARCXML into our ISO 2709, byte for byte"
    );
    let (_, ours) = marc::read(&std::fs::read(&mrc).expect("read export")).expect("ours");
    let (_, ours_xml) = marc::read(&std::fs::read(&xml).expect("read export")).expect("ours");
    assert_eq!(ours.len(), total);
    assert_eq!(
        as_json(&ours),
        as_json(&ours_xml),
        "both formats say the same"
    );
    assert_eq!(
        pymarc(&mrc, "iso2709"),
        as_json(&ours),
        "pymarc reads our ISO 2709"
    );
    assert_eq!(
        pymarc(&xml, "xml"),
        as_json(&ours),
        "pymarc reads our MARCXML"
    );

    // Importing the export again finds every record: nothing new.
    for file in ["all.mrc", "all.xml"] {
        let again = run(dir, &server, &["import", "marc", file]);
        assert_eq!(
            again.trim(),
            format!("created 0, merged {total}, skipped 0"),
            "{file}"
        );
    }
    let again = run(dir, &server, &["import", "marc", "district.mrc"]);
    assert!(
        again.starts_with(&format!("created 0, merged {}", BOOKS + 1)),
        "{again}"
    );

    // A selection.
    let ids: Vec<String> = ours
        .iter()
        .take(2)
        .filter_map(|r| mapping::own_number(r).map(str::to_owned))
        .collect();
    let said = run(
        dir,
        &server,
        &[
            "export",
            "marc",
            "two.xml",
            "--format",
            "marcxml",
            "--records",
            &ids.join(","),
        ],
    );
    assert!(said.contains("exported 2 records"), "{said}");

    // Damaged files import nothing and name the record.
    let good = std::fs::read(&mrc).expect("export");
    let record_starts: Vec<usize> = ours
        .iter()
        .scan(0, |at, r| {
            let start = *at;
            let mut bytes = Vec::new();
            iso2709::write(r, &mut bytes).expect("fits");
            *at += bytes.len();
            Some(start)
        })
        .collect();
    let mut bad_leader = district_file();
    bad_leader.extend(&good);
    let third = record_starts[2] + district_file().len();
    bad_leader[third..third + 5].copy_from_slice(b"0x1#2");
    std::fs::write(dir.join("bad-leader.mrc"), &bad_leader).expect("write");
    let truncated = &good[..record_starts[29] + 100];
    std::fs::write(dir.join("truncated.mrc"), truncated).expect("write");
    for (file, record, words) in [
        ("bad-leader.mrc", BOOKS + 2 + 3, "bad leader"),
        ("truncated.mrc", 30, "truncated file"),
    ] {
        let before = server.titles_found("truyen kieu");
        let refused = tusach_in(dir, server.data(), &["import", "marc", file], "");
        assert!(!refused.status.success(), "{file} was imported");
        let message = String::from_utf8_lossy(&refused.stderr);
        assert!(
            message.contains(&format!("record {record}: ")),
            "{file}: {message}"
        );
        assert!(message.contains(words), "{file}: {message}");
        assert!(
            message.contains("nothing was imported"),
            "{file}: {message}"
        );
        assert_eq!(server.titles_found("truyen kieu"), before);
    }
    let said = run(dir, &server, &["export", "marc", "after.mrc"]);
    assert!(
        said.contains(&format!("exported {total} records")),
        "nothing half-imported: {said}"
    );
}

fn pymarc_title_of_marc8() -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kieu.mrc");
    std::fs::write(&path, marc8_record()).expect("write");
    let records = pymarc(&path, "iso2709");
    records[0]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f[0] == "245")
        .and_then(|f| f[3][0][1].as_str())
        .expect("245 $a")
        .to_owned()
}
