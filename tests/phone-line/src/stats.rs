//! The stats file: the exchange's counters as a small JSON object, replaced whole so a test
//! reading it never sees half a file.
//!
//! Only this module knows JSON; the counters themselves are plain structs (`exchange::Stats`).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::exchange::Stats;
use crate::wire::WireCounts;

/// The counters as JSON, one object per direction and the call counters beside them.
pub fn to_json(stats: &Stats) -> serde_json::Value {
    let direction = |counts: &WireCounts| {
        json!({
            "delivered": counts.delivered,
            "dropped": counts.dropped,
            "flipped": counts.flipped,
            "lost": counts.lost,
        })
    };
    json!({
        "a_to_b": direction(&stats.a_to_b),
        "b_to_a": direction(&stats.b_to_a),
        "cuts": stats.cuts,
        "calls_connected": stats.calls_connected,
        "calls_hung_up": stats.calls_hung_up,
        "calls_dropped": stats.calls_dropped,
    })
}

/// Writes the stats beside `path` and renames them over it, so a reader sees the old file
/// or the new one.
pub fn write_atomically(path: &Path, stats: &Stats) -> io::Result<()> {
    let mut temporary = PathBuf::from(path);
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".tmp");
    temporary.set_file_name(name);
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(to_json(stats).to_string().as_bytes())?;
    file.write_all(b"\n")?;
    drop(file);
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_replaced_whole() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let path = folder.path().join("stats.json");
        let mut stats = Stats::default();
        stats.a_to_b.flipped = 3;
        stats.calls_connected = 1;
        write_atomically(&path, &stats).expect("written");
        let text = std::fs::read_to_string(&path).expect("readable");
        let read: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(read["a_to_b"]["flipped"], 3);
        assert_eq!(read["calls_connected"], 1);
        assert_eq!(std::fs::read_dir(folder.path()).expect("listed").count(), 1);
    }
}
