//! Reading the spreadsheets the appliance hands out with an independent reader: Python's
//! openpyxl (Debian's python3-openpyxl), so a test sees what LibreOffice or Excel would, not
//! what our own writer believes it wrote.

use std::collections::BTreeMap;
use std::process::Command;

/// Figures by code, per column header: `{"Thư viện xã Nghi Phú": {"loans": 12.0, …}, …}`.
/// Reads the first sheet of a report workbook: headers on row 4, codes in column A, one
/// column per library from D on (and "Tổng" when there are several). Panics with openpyxl's
/// error when the file does not open, since that is the failure a test looks for.
pub fn report_columns(bytes: &[u8]) -> BTreeMap<String, BTreeMap<String, f64>> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("report.xlsx");
    std::fs::write(&path, bytes).expect("write the workbook");
    let script = "import json, sys, openpyxl
sheet = openpyxl.load_workbook(sys.argv[1]).active
assert sheet.title == 'Báo cáo', sheet.title
headers = [c.value for c in sheet[4]]
out = {h: {} for h in headers[3:] if h}
for row in sheet.iter_rows(min_row=5):
    code = row[0].value
    if not code:
        continue
    for header, cell in zip(headers[3:], row[3:]):
        if header:
            out[header][code] = cell.value
print(json.dumps(out))
";
    let output = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .expect("run python3");
    assert!(
        output.status.success(),
        "openpyxl could not read the workbook: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("figures as JSON")
}
