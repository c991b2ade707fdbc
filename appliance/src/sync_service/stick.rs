//! The USB stick a district engineer carries between sites: where one is plugged in, a
//! sealed bundle written to it for one member ("Xuất cho máy chủ huyện"), and every bundle on
//! it meant for this device read back ("Nhập từ USB"), with a receipt written beside each.
//!
//! **Where.** By default a stick is any file system mounted under `/media/` (the Pi image
//! mounts a stick's partition at `/media/usb`; desktops use `/media/<user>/<label>`) or
//! `/run/media/<user>/<label>`, as `/proc/self/mounts` lists them; `serve --stick-dir DIR`
//! names the folders instead (each one a stick while it exists). Bundles go in the stick's top
//! folder, named `tusach-<maker>-cho-<destination>-<YYYYMMDD-HHMM>.tsb` ([`BundleName`]), each
//! device by the first 8 hex digits of its id; a receipt ends in `-bien-nhan.tsb`. The name
//! lets an import skip another device's bundle without trying to open it, and say whose it is.
//!
//! **Whole or nothing.** A bundle is written beside its name and renamed
//! ([`SyncService::write_bundle`]), so a full or pulled stick never holds half of one; a
//! bundle is checked whole before anything of it is applied (`tusach_sync::bundle`). One
//! damaged bundle does not stop the others on the stick: each file gets its own
//! [`FileOutcome`].
//!
//! It renders nothing: the staff page turns [`Exported`], [`StickError`] and [`ImportReport`]
//! into words. It never deletes a file on a stick (the stick is the engineer's).

use std::path::{Path, PathBuf};

use tusach_sync::DeviceId;
use tusach_sync::bundle::{BundleError, BundleSummary, SealError};

use super::{SyncError, SyncService};

/// The extension of bundle files on a stick ("Tủ Sách bundle"), as the CLI's examples use.
pub const EXTENSION: &str = "tsb";
/// The words that end a receipt's name: "biên nhận", receipt.
const RECEIPT_TAG: &str = "bien-nhan";
/// How many hex digits of a device id a bundle's name carries: enough to tell the members of
/// one district apart, short enough to read aloud on the phone.
const SHORT_ID_DIGITS: usize = 8;

/// Where to look for a stick.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum StickPlaces {
    /// File systems mounted under `/media/` or `/run/media/<user>/`.
    #[default]
    Mounted,
    /// These folders, each a stick while it exists (`serve --stick-dir`).
    Folders(Vec<PathBuf>),
}

impl StickPlaces {
    /// The folders given on the command line, or the mounted sticks when none were.
    pub fn from_folders(folders: Vec<PathBuf>) -> StickPlaces {
        if folders.is_empty() {
            StickPlaces::Mounted
        } else {
            StickPlaces::Folders(folders)
        }
    }

    /// The sticks present now, in a stable order; empty when none is plugged in.
    pub fn present(&self) -> Vec<PathBuf> {
        match self {
            // Unreadable mounts (no /proc) means no stick can be found, which is what the
            // librarian is then told.
            StickPlaces::Mounted => std::fs::read("/proc/self/mounts")
                .map(|text| removable_mounts(&text))
                .unwrap_or_default(),
            StickPlaces::Folders(folders) => {
                folders.iter().filter(|f| f.is_dir()).cloned().collect()
            }
        }
    }
}

/// The mount points of removable file systems in the text of `/proc/self/mounts`, once each
/// (an automounted stick shows twice: the autofs trigger and the file system on it).
pub fn removable_mounts(mounts: &[u8]) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = Vec::new();
    for line in mounts.split(|&b| b == b'\n') {
        let mut fields = line.split(|&b| b == b' ');
        let (Some(_source), Some(point)) = (fields.next(), fields.next()) else {
            continue;
        };
        let point = unescape_mount_field(point);
        if is_removable_place(&point) && !found.contains(&point) {
            found.push(point);
        }
    }
    found
}

/// The kernel writes a space, tab, newline or backslash in a mount point as a backslash and
/// three octal digits (`/media/usb\040stick`).
fn unescape_mount_field(field: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    let mut out = Vec::with_capacity(field.len());
    let mut rest = field;
    while let Some((&first, tail)) = rest.split_first() {
        let octal = tail
            .get(..3)
            .filter(|digits| first == b'\\' && digits.iter().all(|d| (b'0'..=b'7').contains(d)))
            .map(|d| (d[0] - b'0') as u32 * 64 + (d[1] - b'0') as u32 * 8 + (d[2] - b'0') as u32)
            .and_then(|value| u8::try_from(value).ok());
        match octal {
            Some(byte) => {
                out.push(byte);
                rest = &tail[3..];
            }
            None => {
                out.push(first);
                rest = tail;
            }
        }
    }
    PathBuf::from(std::ffi::OsString::from_vec(out))
}

/// `/media/X…` or `/run/media/USER/X…`: where udisks, desktops and our udev rule put sticks.
fn is_removable_place(point: &Path) -> bool {
    let below = |prefix: &str, depth: usize| {
        point
            .strip_prefix(prefix)
            .is_ok_and(|rest| rest.components().count() >= depth)
    };
    below("/media", 1) || below("/run/media", 2)
}

/// The first hex digits of a device id, as bundle names carry it.
pub fn short_id(device: &DeviceId) -> String {
    let mut hex = device.to_hex();
    hex.truncate(SHORT_ID_DIGITS);
    hex
}

/// A bundle's file name on a stick (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleName {
    /// [`short_id`] of the device that made it.
    pub maker: String,
    /// [`short_id`] of the device it is for.
    pub destination: String,
    /// When it was made, `YYYYMMDD-HHMM` in local time.
    pub made: String,
    pub receipt: bool,
}

impl BundleName {
    pub fn new(
        maker: &DeviceId,
        destination: &DeviceId,
        made: chrono::NaiveDateTime,
        receipt: bool,
    ) -> BundleName {
        BundleName {
            maker: short_id(maker),
            destination: short_id(destination),
            made: made.format("%Y%m%d-%H%M").to_string(),
            receipt,
        }
    }

    /// Reads a name this module wrote; `None` for any other name.
    pub fn parse(file_name: &str) -> Option<BundleName> {
        let stem = file_name
            .strip_prefix("tusach-")?
            .strip_suffix(&format!(".{EXTENSION}"))?;
        let parts: Vec<&str> = stem.split('-').collect();
        let short = |s: &str| {
            s.len() == SHORT_ID_DIGITS
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        let receipt = match parts.as_slice() {
            [_, "cho", _, _, _] => false,
            [_, "cho", _, _, _, "bien", "nhan"] => true,
            _ => return None,
        };
        let ok = short(parts[0]) && short(parts[2]) && digits(parts[3], 8) && digits(parts[4], 4);
        ok.then(|| BundleName {
            maker: parts[0].to_owned(),
            destination: parts[2].to_owned(),
            made: format!("{}-{}", parts[3], parts[4]),
            receipt,
        })
    }

    pub fn file_name(&self) -> String {
        let tag = if self.receipt {
            format!("-{RECEIPT_TAG}")
        } else {
            String::new()
        };
        format!(
            "tusach-{}-cho-{}-{}{tag}.{EXTENSION}",
            self.maker, self.destination, self.made
        )
    }
}

/// Why writing to a stick failed, when the stick itself is the reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteRefusal {
    /// No space left (ENOSPC, or a quota).
    Full,
    /// Mounted read-only, a locked stick, or a folder this user may not write.
    ReadOnly,
}

impl WriteRefusal {
    /// From the error's kind, which the OS error code decides: never from its text.
    pub fn of(error: &std::io::Error) -> Option<WriteRefusal> {
        use std::io::ErrorKind;
        match error.kind() {
            ErrorKind::StorageFull | ErrorKind::QuotaExceeded => Some(WriteRefusal::Full),
            ErrorKind::ReadOnlyFilesystem | ErrorKind::PermissionDenied => {
                Some(WriteRefusal::ReadOnly)
            }
            _ => None,
        }
    }
}

/// The file-system error under a failed bundle write or read, if one is the cause.
fn io_cause(error: &SyncError) -> Option<&std::io::Error> {
    match error {
        SyncError::WriteFile { source, .. } | SyncError::ReadFile { source, .. } => Some(source),
        SyncError::Bundle(SealError::Bundle(BundleError::Io(source))) => Some(source),
        _ => None,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StickError {
    #[error("no USB stick found")]
    NoStick,
    #[error("the USB stick at {0} is full")]
    Full(PathBuf),
    #[error("the USB stick at {0} is read-only")]
    ReadOnly(PathBuf),
    #[error("cannot list the files on {stick}: {source}")]
    CannotList {
        stick: PathBuf,
        source: std::io::Error,
    },
    /// Boxed: a sync error is large, and this one travels up through every call.
    #[error(transparent)]
    Sync(Box<SyncError>),
}

impl From<SyncError> for StickError {
    fn from(error: SyncError) -> StickError {
        StickError::Sync(Box::new(error))
    }
}

impl StickError {
    fn writing(error: SyncError, stick: &Path) -> StickError {
        match io_cause(&error).and_then(WriteRefusal::of) {
            Some(WriteRefusal::Full) => StickError::Full(stick.to_owned()),
            Some(WriteRefusal::ReadOnly) => StickError::ReadOnly(stick.to_owned()),
            None => error.into(),
        }
    }
}

/// A bundle written on a stick.
#[derive(Clone, Debug)]
pub struct Exported {
    pub file: PathBuf,
    pub summary: BundleSummary,
}

/// What became of the receipt for a bundle just imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiptOutcome {
    /// Written beside the bundle, under this file name.
    Written(String),
    /// Not written: the import still stands, and the maker's next bundle carries again what
    /// this one did (harmless, only longer).
    Refused(WriteRefusal),
    Failed(String),
}

/// What importing one file on the stick did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileOutcome {
    /// Merged; a receipt for its maker was attempted.
    Applied {
        maker: DeviceId,
        new_changes: usize,
        receipt: ReceiptOutcome,
    },
    /// Every change in it was here already.
    AlreadyHad {
        maker: DeviceId,
        receipt: ReceiptOutcome,
    },
    /// A receipt from `maker`: this device's next bundle for it carries only what it lacks.
    Receipt { maker: DeviceId },
    /// Named (or, inside, addressed) for another device; `device` when it is a member known
    /// here. Skipped, nothing read.
    ForAnotherDevice {
        short: String,
        device: Option<DeviceId>,
    },
    /// Its name says nothing of its destination and it does not open here: damaged, or
    /// sealed for another device.
    CannotOpen,
    /// Truncated, changed on the way, or its signature does not match: nothing applied.
    Damaged(String),
    /// Made by a device that is not (or no longer) a member: nothing applied.
    FromNonMember(String),
    /// It carries data its maker may not give this device: nothing applied.
    Refused(String),
    /// The file could not be read off the stick.
    Unreadable(String),
    /// This device failed while applying it (its store); the log has the detail.
    Failed(String),
}

/// One file found on a stick and what importing it did.
#[derive(Clone, Debug)]
pub struct StickFile {
    pub name: String,
    pub outcome: FileOutcome,
}

/// Every bundle file on every stick present, in name order.
#[derive(Clone, Debug)]
pub struct ImportReport {
    pub sticks: Vec<PathBuf>,
    pub files: Vec<StickFile>,
}

impl SyncService {
    /// Where this service looks for sticks (`serve --stick-dir`, or the mounted ones).
    pub fn use_sticks(&self, places: StickPlaces) {
        if let Ok(mut slot) = self.sticks.lock() {
            *slot = places;
        }
    }

    /// The sticks present now.
    pub fn sticks(&self) -> Vec<PathBuf> {
        self.sticks
            .lock()
            .map(|places| places.present())
            .unwrap_or_default()
    }

    fn device_id(&self) -> Result<DeviceId, SyncError> {
        let store = self.store.lock().map_err(|_| SyncError::StorePoisoned)?;
        Ok(store.device_id())
    }

    /// Writes a sealed bundle with everything member `to` lacks on the first stick present.
    pub fn export_to_stick(&self, to: DeviceId) -> Result<Exported, StickError> {
        let stick = self
            .sticks()
            .into_iter()
            .next()
            .ok_or(StickError::NoStick)?;
        let this = self.device_id()?;
        let name = BundleName::new(&this, &to, chrono::Local::now().naive_local(), false);
        let file = stick.join(name.file_name());
        let summary = self
            .write_bundle(&file, to)
            .map_err(|error| StickError::writing(error, &stick))?;
        Ok(Exported { file, summary })
    }

    /// Imports every bundle file on every stick present, each on its own (see the module
    /// documentation).
    pub fn import_from_stick(&self) -> Result<ImportReport, StickError> {
        let sticks = self.sticks();
        if sticks.is_empty() {
            return Err(StickError::NoStick);
        }
        let this = self.device_id()?;
        let members = self.member_ids()?;
        let mut files = Vec::new();
        for stick in &sticks {
            for (name, path) in bundle_files(stick)? {
                let outcome = self.import_file(&path, &name, &this, &members);
                if let FileOutcome::Failed(detail) = &outcome {
                    eprintln!("stick: importing {} failed: {detail}", path.display());
                }
                files.push(StickFile { name, outcome });
            }
        }
        Ok(ImportReport { sticks, files })
    }

    fn member_ids(&self) -> Result<Vec<DeviceId>, SyncError> {
        let mut store = self.store.lock().map_err(|_| SyncError::StorePoisoned)?;
        Ok(tusach_sync::trust::known_members(&mut store)?
            .iter()
            .map(|cert| tusach_sync::protocol::secure::device_of(&cert.subject))
            .collect())
    }

    fn import_file(
        &self,
        path: &Path,
        file_name: &str,
        this: &DeviceId,
        members: &[DeviceId],
    ) -> FileOutcome {
        let name = BundleName::parse(file_name);
        if let Some(name) = &name
            && name.destination != short_id(this)
        {
            return FileOutcome::ForAnotherDevice {
                device: members
                    .iter()
                    .find(|m| short_id(m) == name.destination)
                    .copied(),
                short: name.destination.clone(),
            };
        }
        let opened = match self.read_bundle(path) {
            Ok(opened) => opened,
            Err(error) => return import_failure(error, name.is_some()),
        };
        let maker = opened.maker.device;
        if opened.batches == 0 {
            return FileOutcome::Receipt { maker };
        }
        let made = name
            .map(|n| n.made)
            .unwrap_or_else(|| chrono::Local::now().format("%Y%m%d-%H%M").to_string());
        let receipt = self.write_receipt_beside(path, this, &maker, made);
        match opened.report.new_changes {
            0 => FileOutcome::AlreadyHad { maker, receipt },
            new_changes => FileOutcome::Applied {
                maker,
                new_changes,
                receipt,
            },
        }
    }

    /// The receipt is named after the bundle it answers, so importing that bundle again
    /// replaces it rather than adding another.
    fn write_receipt_beside(
        &self,
        bundle: &Path,
        this: &DeviceId,
        maker: &DeviceId,
        made: String,
    ) -> ReceiptOutcome {
        let name = BundleName {
            maker: short_id(this),
            destination: short_id(maker),
            made,
            receipt: true,
        }
        .file_name();
        let dir = bundle.parent().unwrap_or(Path::new("."));
        match self.write_receipt(&dir.join(&name), *maker) {
            Ok(_) => ReceiptOutcome::Written(name),
            Err(error) => match io_cause(&error).and_then(WriteRefusal::of) {
                Some(refusal) => ReceiptOutcome::Refused(refusal),
                None => ReceiptOutcome::Failed(error.to_string()),
            },
        }
    }
}

/// The `.tsb` files in a stick's top folder, by name; hidden files (a temporary file of an
/// export cut short) are not bundles.
fn bundle_files(stick: &Path) -> Result<Vec<(String, PathBuf)>, StickError> {
    let cannot_list = |source| StickError::CannotList {
        stick: stick.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(stick).map_err(cannot_list)? {
        let entry = entry.map_err(cannot_list)?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let is_bundle = !name.starts_with('.')
            && Path::new(&name)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case(EXTENSION))
            && entry.file_type().is_ok_and(|t| t.is_file());
        if is_bundle {
            files.push((name, entry.path()));
        }
    }
    files.sort();
    Ok(files)
}

/// What a bundle that did not import was. `named_for_us`: its name says it is for this
/// device, so one that does not open is damaged rather than someone else's.
fn import_failure(error: SyncError, named_for_us: bool) -> FileOutcome {
    let detail = error.to_string();
    match error {
        SyncError::ReadFile { .. } => FileOutcome::Unreadable(detail),
        SyncError::Bundle(SealError::CannotOpen) if !named_for_us => FileOutcome::CannotOpen,
        SyncError::Bundle(
            SealError::CannotOpen
            | SealError::BadSignature
            | SealError::Crypto(_)
            | SealError::Bundle(BundleError::Damaged(_) | BundleError::Incomplete(_)),
        ) => FileOutcome::Damaged(detail),
        SyncError::Bundle(SealError::MakerNotMember(_)) => FileOutcome::FromNonMember(detail),
        SyncError::Bundle(SealError::Bundle(BundleError::ForAnotherDevice {
            intended, ..
        })) => FileOutcome::ForAnotherDevice {
            short: short_id(&intended),
            device: Some(intended),
        },
        SyncError::Bundle(SealError::Bundle(BundleError::ScopeRefused(_))) => {
            FileOutcome::Refused(detail)
        }
        SyncError::Bundle(SealError::Bundle(BundleError::Io(_))) => FileOutcome::Unreadable(detail),
        _ => FileOutcome::Failed(detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mounts(text: &str) -> Vec<String> {
        removable_mounts(text.as_bytes())
            .iter()
            .map(|p| p.display().to_string())
            .collect()
    }

    #[test]
    fn sticks_are_the_file_systems_mounted_under_media() {
        let text = "\
/dev/mmcblk0p2 / ext4 ro,noatime 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
/dev/mmcblk0p3 /data ext4 rw,noatime 0 0
systemd-1 /media/usb autofs rw,relatime,fd=45,pgrp=1,timeout=2 0 0
/dev/sda1 /media/usb vfat rw,nosuid,nodev,noexec,uid=999,gid=999,flush 0 0
/dev/sdb1 /media/lan/TH\\040VIEN vfat rw,nosuid 0 0
/dev/sdc1 /run/media/lan/KINGSTON exfat rw 0 0
tmpfs /run tmpfs rw 0 0
tmpfs /run/media/lan tmpfs rw 0 0
/dev/sdd1 /mnt/backup ext4 rw 0 0
/dev/sde1 /media ext4 rw 0 0
";
        assert_eq!(
            mounts(text),
            [
                "/media/usb",
                "/media/lan/TH VIEN",
                "/run/media/lan/KINGSTON"
            ]
        );
    }

    #[test]
    fn no_stick_is_an_empty_list_and_odd_lines_are_skipped() {
        assert!(mounts("").is_empty());
        assert!(mounts("/dev/root / ext4 rw 0 0\n\ngarbage\n").is_empty());
    }

    #[test]
    fn mount_point_escapes_decode_and_broken_ones_stay_as_written() {
        let decoded = |field: &str| unescape_mount_field(field.as_bytes());
        assert_eq!(decoded("/media/a\\040b"), Path::new("/media/a b"));
        assert_eq!(decoded("/media/a\\011b\\134c"), Path::new("/media/a\tb\\c"));
        assert_eq!(decoded("/media/a\\04"), Path::new("/media/a\\04"));
        assert_eq!(decoded("/media/a\\777"), Path::new("/media/a\\777"));
        assert_eq!(decoded("/media/ends\\"), Path::new("/media/ends\\"));
    }

    #[test]
    fn bundle_names_round_trip_and_others_are_not_ours() {
        let maker = DeviceId::parse_hex(&"ab12cd34".repeat(4)).expect("an id");
        let hub = DeviceId::parse_hex(&"0f".repeat(16)).expect("an id");
        let made = chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
            .and_then(|d| d.and_hms_opt(8, 5, 0))
            .expect("a time");
        let name = BundleName::new(&maker, &hub, made, false);
        assert_eq!(
            name.file_name(),
            "tusach-ab12cd34-cho-0f0f0f0f-20261207-0805.tsb"
        );
        assert_eq!(BundleName::parse(&name.file_name()), Some(name.clone()));
        let receipt = BundleName {
            receipt: true,
            ..name
        };
        assert_eq!(
            receipt.file_name(),
            "tusach-ab12cd34-cho-0f0f0f0f-20261207-0805-bien-nhan.tsb"
        );
        assert_eq!(BundleName::parse(&receipt.file_name()), Some(receipt));
        for other in [
            "for-hub.tsb",
            "tusach-ab12cd34-cho-0f0f0f0f-20261207-0805.tsb.receipt",
            "tusach-AB12CD34-cho-0f0f0f0f-20261207-0805.tsb",
            "tusach-ab12cd3-cho-0f0f0f0f-20261207-0805.tsb",
            "tusach-ab12cd34-for-0f0f0f0f-20261207-0805.tsb",
            "tusach-ab12cd34-cho-0f0f0f0f-2026127-0805.tsb",
            "tusach-ab12cd34-cho-0f0f0f0f-20261207-0805-ban-sao.tsb",
            "tusach-ab12cd34-cho-0f0f0f0f.tsb",
        ] {
            assert_eq!(BundleName::parse(other), None, "{other}");
        }
    }

    #[test]
    fn a_full_or_read_only_stick_is_told_by_the_error_kind() {
        use std::io::Error;
        let os = Error::from_raw_os_error;
        assert_eq!(WriteRefusal::of(&os(28)), Some(WriteRefusal::Full)); // ENOSPC
        assert_eq!(WriteRefusal::of(&os(122)), Some(WriteRefusal::Full)); // EDQUOT
        assert_eq!(WriteRefusal::of(&os(30)), Some(WriteRefusal::ReadOnly)); // EROFS
        assert_eq!(WriteRefusal::of(&os(13)), Some(WriteRefusal::ReadOnly)); // EACCES
        assert_eq!(WriteRefusal::of(&os(5)), None); // EIO: a failing stick, not a full one
        let wrapped = SyncError::WriteFile {
            path: PathBuf::from("/media/usb/x.tsb"),
            source: os(28),
        };
        assert!(matches!(
            StickError::writing(wrapped, Path::new("/media/usb")),
            StickError::Full(_)
        ));
    }
}
