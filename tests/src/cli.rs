//! One-shot `tusach` commands as an engineer types them at a console: run, check it succeeded,
//! read what it printed. For tests of the CLI (sync, network); long-running processes are
//! [`crate::process`]'s business.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::process::tusach_binary;

/// `tusach --data DATA ARGS…`, to completion.
pub fn tusach(data: &Path, args: &[&str]) -> Output {
    Command::new(tusach_binary())
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .expect("run tusach")
}

/// `tusach --data DATA ARGS…` run from `cwd` (where relative file names are read), with
/// `input` on stdin (a password, say), to completion.
pub fn tusach_in(cwd: &Path, data: &Path, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(tusach_binary())
        .current_dir(cwd)
        .arg("--data")
        .arg(data)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tusach");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("run tusach")
}

/// The same, which must succeed; returns its stdout.
pub fn ok_in(cwd: &Path, data: &Path, args: &[&str], input: &str) -> String {
    let output = tusach_in(cwd, data, args, input);
    assert!(
        output.status.success(),
        "tusach {args:?} failed ({:?}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// [`ok_in`] from the current directory.
pub fn ok_with_input(data: &Path, args: &[&str], input: &str) -> String {
    ok_in(Path::new("."), data, args, input)
}

/// The same, which must succeed; returns its stdout.
pub fn ok(data: &Path, args: &[&str]) -> String {
    let output = tusach(data, args);
    assert!(
        output.status.success(),
        "tusach {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The store's content digest line, after an integrity check that must pass.
pub fn digest(data: &Path) -> String {
    let out = ok(data, &["dev", "digest"]);
    assert!(out.contains("integrity ok"), "{out}");
    out.lines()
        .find(|l| l.starts_with("digest "))
        .expect("digest line")
        .to_owned()
}

/// The folder's device id.
pub fn device_id(data: &Path) -> String {
    ok(data, &["id"]).trim().to_owned()
}
