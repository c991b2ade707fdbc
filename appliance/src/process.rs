//! Facts about the running process that benches report.

/// Peak resident memory (VmHWM) of this process in kB, from `/proc/self/status`.
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// When `TUSACH_REPORT_PEAK_RSS` is set, prints `peak_rss_kb N` on stderr: the bootstrap bench
/// reads it from the sender and receiver processes it starts.
pub fn report_peak_rss_if_asked() {
    if std::env::var_os("TUSACH_REPORT_PEAK_RSS").is_some()
        && let Some(kb) = peak_rss_kb()
    {
        eprintln!("peak_rss_kb {kb}");
    }
}
