//! The USB stick from the staff pages, as a librarian and a district engineer use it: real
//! `tusach serve` processes for an appliance and its hub, each with a folder standing for its
//! stick (`serve --stick-dir`). The appliance exports for the hub, the hub imports and writes a
//! receipt, the receipt goes back. Then the stick's troubles: none plugged in, a full one (a
//! small tmpfs mounted on the folder), a read-only one (a read-only bind mount), a damaged
//! bundle, a bundle for another device.
//!
//! The mounts need root, as CI runs these tests; without it they fail and say so rather than
//! pass having checked nothing. Every mount is undone by a guard, even when a check fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use tusach::sync_service::stick::{BundleName, short_id};
use tusach_sync::DeviceId;
use tusach_tests::cli::{device_id, ok};
use tusach_tests::network::{enrol, join};
use tusach_tests::web::{Client, Response, Server};

const LIBRARY: &str = "xa-nghi-phu";
/// The hub serves a library of its own, so that its first admin never meets the appliance's.
const HUB_LIBRARY: &str = "huyen-nghi-loc";
/// A stick this small cannot hold the appliance's bundle.
const SMALL_STICK: &str = "16k";
const SMALL_STICK_BYTES: u64 = 16 * 1024;

/// A mount made for one test, undone when dropped.
struct Mounted {
    point: PathBuf,
}

impl Mounted {
    /// A tmpfs of `size` on `point`: a stick with that much room.
    fn tmpfs(point: &Path, size: &str) -> Mounted {
        require_root();
        let options = format!("size={size}");
        run(
            "mount",
            &["-t", "tmpfs", "-o", &options, "tusach-test-stick"],
            point,
        );
        Mounted {
            point: point.to_owned(),
        }
    }

    /// `source` on `point`, read-only: a locked stick.
    fn read_only(source: &Path, point: &Path) -> Mounted {
        require_root();
        let source = source.to_str().expect("a UTF-8 path");
        run("mount", &["--bind", source], point);
        // The guard exists before the remount, so a failed remount still unmounts.
        let mounted = Mounted {
            point: point.to_owned(),
        };
        run("mount", &["-o", "remount,bind,ro"], point);
        mounted
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let plain = Command::new("umount").arg(&self.point).status();
        if !plain.is_ok_and(|s| s.success()) {
            // Busy (a server still reading it): detach now, freed when the reader lets go.
            let _ = Command::new("umount").arg("-l").arg(&self.point).status();
        }
    }
}

fn run(program: &str, args: &[&str], point: &Path) {
    let output = Command::new(program)
        .args(args)
        .arg(point)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} {} failed: {}",
        point.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn require_root() {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    assert_eq!(
        uid, "0",
        "the stick tests mount a small tmpfs and a read-only bind mount, which needs root: \
         run them as root (CI does), e.g. `sudo -E cargo test -p tusach-tests --test stick`"
    );
}

/// An appliance of [`LIBRARY`] joined to its hub, with 300 records the hub does not have yet,
/// and a third member (a mule) that bundles can be meant for instead.
struct District {
    dir: tempfile::TempDir,
    hub: PathBuf,
    appliance: PathBuf,
    other: PathBuf,
}

impl District {
    fn new() -> District {
        let dir = tempfile::tempdir().expect("tempdir");
        let (hub, appliance, other) = (
            dir.path().join("hub"),
            dir.path().join("appliance"),
            dir.path().join("other"),
        );
        join(&hub, &appliance, LIBRARY);
        enrol(&hub, &other, None);
        ok(&appliance, &["dev", "seed", "--records", "300"]);
        District {
            dir,
            hub,
            appliance,
            other,
        }
    }

    /// An empty folder standing for a stick.
    fn stick(&self, name: &str) -> PathBuf {
        let stick = self.dir.path().join(name);
        std::fs::create_dir_all(&stick).expect("a stick folder");
        stick
    }

    fn serve_appliance(&self, stick: &Path) -> Server {
        Server::start(self.appliance.clone(), &["--stick-dir", path(stick)], None)
    }

    fn serve_hub(&self, stick: &Path) -> Server {
        Server::start(
            self.hub.clone(),
            &["--library", HUB_LIBRARY, "--stick-dir", path(stick)],
            None,
        )
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn id(data: &Path) -> DeviceId {
    DeviceId::parse_hex(&device_id(data)).expect("a device id")
}

/// The name a bundle from `maker` for `destination` has on a stick, made at a fixed minute.
fn bundle_name(maker: &Path, destination: &Path, minute: u32) -> String {
    let made = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
        .and_then(|d| d.and_hms_opt(9, minute, 0))
        .expect("a time");
    BundleName::new(&id(maker), &id(destination), made, false).file_name()
}

fn export(client: &mut Client, to: &Path) -> Response {
    client.post_form("/staff/stick/export", &[("to", &device_id(to))])
}

fn import(client: &mut Client) -> Response {
    let response = client.post_form("/staff/stick/import", &[]);
    assert_eq!(response.status, 200, "{}", response.body);
    response
}

/// The file an export wrote, from its answer.
fn exported(response: &Response) -> String {
    assert_eq!(response.status, 200, "{}", response.body);
    response
        .body
        .split("data-exported=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no exported file in {}", response.body))
        .to_owned()
}

/// The row of `file` in an import's answer.
fn row<'a>(response: &'a Response, file: &str) -> &'a str {
    let start = response
        .body
        .find(&format!("data-file=\"{file}\""))
        .unwrap_or_else(|| panic!("no row for {file} in {}", response.body));
    let rest = &response.body[start..];
    &rest[..rest.find("</tr>").expect("the row ends")]
}

fn attribute(row: &str, name: &str) -> String {
    row.split(&format!("{name}=\""))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

/// What importing `file` did (`data-outcome`), and what became of its receipt.
fn outcome(response: &Response, file: &str) -> (String, String) {
    let row = row(response, file);
    (
        attribute(row, "data-outcome"),
        attribute(row, "data-receipt"),
    )
}

/// A refusal on the stick page: the status, and the Vietnamese sentence in an alert.
fn assert_refused(response: &Response, status: u16, words: &str) {
    assert_eq!(response.status, status, "{}", response.body);
    assert!(
        response.body.contains("role=\"alert\"") && response.body.contains(words),
        "expected «{words}» in an alert: {}",
        response.body
    );
}

fn files_on(stick: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(stick)
        .expect("the stick can be listed")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

fn sync_status(client: &mut Client) -> serde_json::Value {
    let response = client.get("/api/sync/status");
    assert_eq!(response.status, 200, "{}", response.body);
    response.json()
}

/// How many changes the device holds.
fn changes(client: &mut Client) -> i64 {
    sync_status(client)["changes"].as_i64().expect("changes")
}

/// How many changes the device holds that `peer` is not known to have.
fn pending_for(client: &mut Client, peer: &Path) -> i64 {
    let peer = device_id(peer);
    let status = sync_status(client);
    status["peers"]
        .as_array()
        .and_then(|peers| peers.iter().find(|p| p["device"] == peer.as_str()))
        .and_then(|p| p["pending"].as_i64())
        .unwrap_or_else(|| panic!("no pending count for {peer} in {status}"))
}

#[test]
fn a_bundle_goes_to_the_hub_by_stick_and_its_receipt_comes_back() {
    let district = District::new();
    let appliance_stick = district.stick("appliance-stick");
    let hub_stick = district.stick("hub-stick");
    let appliance = district.serve_appliance(&appliance_stick);
    let hub = district.serve_hub(&hub_stick);
    let mut librarian = appliance.staff_client();
    let mut engineer = hub.staff_client();

    let page = librarian.get("/staff/stick");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("data-sticks"), "{}", page.body);
    assert!(
        page.body.contains("Xuất cho máy chủ huyện"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("<option value=\"{}\"", device_id(&district.hub))),
        "the hub is a destination: {}",
        page.body
    );
    assert!(
        librarian
            .get("/staff/sync")
            .body
            .contains("href=\"/staff/stick\""),
        "the sync page leads to the stick page"
    );
    let pending = pending_for(&mut librarian, &district.hub);
    assert!(pending > 0, "the seeded records are pending for the hub");

    // A form without its token writes nothing.
    let mut forger = librarian.clone();
    forger.csrf = "wrong".into();
    assert_eq!(export(&mut forger, &district.hub).status, 403);
    assert!(files_on(&appliance_stick).is_empty());

    let file = exported(&export(&mut librarian, &district.hub));
    assert!(
        file.starts_with(&format!(
            "tusach-{}-cho-{}-",
            short_id(&id(&district.appliance)),
            short_id(&id(&district.hub))
        )) && file.ends_with(".tsb"),
        "{file}"
    );
    assert_eq!(files_on(&appliance_stick), std::slice::from_ref(&file));

    // The engineer carries the stick to the hub.
    std::fs::copy(appliance_stick.join(&file), hub_stick.join(&file)).expect("copy");
    let before = changes(&mut engineer);
    let imported = import(&mut engineer);
    assert_eq!(outcome(&imported, &file).0, "applied");
    assert!(
        row(&imported, &file).contains("thay đổi mới"),
        "{}",
        imported.body
    );
    assert!(
        changes(&mut engineer) > before,
        "the appliance's changes are at the hub"
    );
    let (_, receipt) = outcome(&imported, &file);
    assert_eq!(receipt, "written", "{}", imported.body);
    let receipts: Vec<String> = files_on(&hub_stick)
        .into_iter()
        .filter(|f| f.ends_with("-bien-nhan.tsb"))
        .collect();
    assert_eq!(receipts.len(), 1, "{:?}", files_on(&hub_stick));
    let receipt = &receipts[0];

    // Importing again is harmless and says so.
    let again = import(&mut engineer);
    assert_eq!(outcome(&again, &file).0, "already_had");
    assert_eq!(
        files_on(&hub_stick).len(),
        2,
        "the receipt was replaced, not added"
    );

    // The receipt goes back: the appliance now knows the hub has everything.
    std::fs::copy(hub_stick.join(receipt), appliance_stick.join(receipt)).expect("copy");
    let back = import(&mut librarian);
    assert_eq!(outcome(&back, receipt).0, "receipt", "{}", back.body);
    assert_eq!(
        outcome(&back, &file).0,
        "for_another_device",
        "its own bundle for the hub is not for the appliance"
    );
    assert_eq!(pending_for(&mut librarian, &district.hub), 0);

    // Pulled out: the page and both forms say there is no stick.
    std::fs::rename(&appliance_stick, district.dir.path().join("in-a-pocket")).expect("pull");
    assert!(librarian.get("/staff/stick").body.contains("data-no-stick"));
    assert_refused(
        &export(&mut librarian, &district.hub),
        409,
        "Không tìm thấy USB",
    );
    assert_refused(
        &librarian.post_form("/staff/stick/import", &[]),
        409,
        "Không tìm thấy USB",
    );
}

#[test]
fn a_full_or_read_only_stick_is_told_and_keeps_no_half_bundle() {
    let district = District::new();
    let stick = district.stick("stick");
    let appliance = district.serve_appliance(&stick);
    let mut librarian = appliance.staff_client();

    {
        let _small = Mounted::tmpfs(&stick, SMALL_STICK);
        assert_refused(&export(&mut librarian, &district.hub), 409, "USB đã đầy");
        assert_eq!(
            files_on(&stick),
            Vec::<String>::new(),
            "neither a bundle nor its temporary file is left on a full stick"
        );
    }
    {
        let _locked = Mounted::read_only(&stick, &stick);
        let refused = export(&mut librarian, &district.hub);
        assert_refused(&refused, 409, "chỉ đọc");
        assert!(files_on(&stick).is_empty());
    }
    // The same export fits a stick with room, and would not have fitted the small one.
    let file = exported(&export(&mut librarian, &district.hub));
    let size = std::fs::metadata(stick.join(&file))
        .expect("the bundle")
        .len();
    assert!(
        size > SMALL_STICK_BYTES,
        "the bundle ({size} bytes) must outgrow the small stick for its test to mean anything"
    );
}

#[test]
fn an_import_checks_each_file_whole_and_skips_what_is_not_for_it() {
    let district = District::new();
    let stick = district.stick("hub-stick");
    let elsewhere = district.stick("appliance-stick");
    // Made before anyone serves the folders: the appliance's bundle for the hub, and one the
    // hub made for the third member.
    let good = bundle_name(&district.appliance, &district.hub, 0);
    ok(
        &district.appliance,
        &[
            "sync",
            "--bundle-out",
            path(&elsewhere.join(&good)),
            "--for",
            &device_id(&district.hub),
        ],
    );
    let for_other = bundle_name(&district.hub, &district.other, 0);
    ok(
        &district.hub,
        &[
            "sync",
            "--bundle-out",
            path(&stick.join(&for_other)),
            "--for",
            &device_id(&district.other),
        ],
    );
    let bytes = std::fs::read(elsewhere.join(&good)).expect("the bundle");
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x55;
    let flipped_name = bundle_name(&district.appliance, &district.hub, 1);
    std::fs::write(stick.join(&flipped_name), flipped).expect("write");
    let cut_name = bundle_name(&district.appliance, &district.hub, 2);
    std::fs::write(stick.join(&cut_name), &bytes[..bytes.len() - 100]).expect("write");
    // Renamed by hand: its name no longer says whom it is for, and it does not open here.
    std::fs::copy(stick.join(&for_other), stick.join("chep-tay.tsb")).expect("copy");

    let hub = district.serve_hub(&stick);
    let mut engineer = hub.staff_client();
    let before = changes(&mut engineer);
    let imported = import(&mut engineer);
    assert_eq!(outcome(&imported, &flipped_name).0, "damaged");
    assert_eq!(outcome(&imported, &cut_name).0, "damaged");
    assert!(
        row(&imported, &cut_name).contains("Tệp bị hỏng hoặc chép chưa hết"),
        "{}",
        imported.body
    );
    assert_eq!(outcome(&imported, &for_other).0, "for_another_device");
    assert!(
        row(&imported, &for_other).contains("dành cho máy khác")
            && row(&imported, &for_other).contains("mule"),
        "the other device is named: {}",
        imported.body
    );
    assert_eq!(outcome(&imported, "chep-tay.tsb").0, "cannot_open");
    assert_eq!(changes(&mut engineer), before, "nothing was applied");
    assert!(
        !files_on(&stick).iter().any(|f| f.contains("bien-nhan")),
        "no receipt for what was not imported: {:?}",
        files_on(&stick)
    );

    // A locked stick still imports; only the receipt cannot be written.
    {
        let _locked = Mounted::read_only(&elsewhere, &stick);
        let imported = import(&mut engineer);
        assert_eq!(
            outcome(&imported, &good),
            ("applied".to_owned(), "read_only".to_owned()),
            "{}",
            imported.body
        );
        assert!(
            row(&imported, &good).contains("chỉ đọc"),
            "{}",
            imported.body
        );
        assert_eq!(files_on(&stick), std::slice::from_ref(&good));
    }
    assert!(
        changes(&mut engineer) > before,
        "the good bundle was applied"
    );
}
