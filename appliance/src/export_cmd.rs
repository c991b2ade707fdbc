//! `tusach export`: the catalogue, or the records named, to a file. Today MARC21 as ISO 2709
//! or MARCXML. The file is written to a temporary name beside it and renamed into place, so a
//! cut never leaves half an export under the real name. Runs alone or inside `serve` (see
//! [`crate::console`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::cataloguing::marc::{self, Format};
use crate::clock::WallClock;
use crate::console::Console;

#[derive(clap::Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    what: ExportWhat,
}

#[derive(clap::Subcommand)]
enum ExportWhat {
    /// MARC21 records: imported ones as they came (with later edits), others generated.
    Marc {
        file: PathBuf,
        /// iso2709 (.mrc) or marcxml.
        #[arg(long, default_value = "iso2709", value_parser = parse_format)]
        format: Format,
        /// Only these records (ids, separated by commas); without it, the whole catalogue.
        #[arg(long, value_delimiter = ',', value_name = "ID,...")]
        records: Option<Vec<String>>,
    },
}

fn parse_format(name: &str) -> Result<Format, String> {
    Format::parse(name).ok_or_else(|| format!("{name:?} is not iso2709 or marcxml"))
}

impl ExportArgs {
    pub fn resolve_paths(&mut self, cwd: &Path) {
        let ExportWhat::Marc { file, .. } = &mut self.what;
        if file.is_relative() {
            *file = cwd.join(&*file);
        }
    }
}

pub fn run(console: &mut Console<'_>, args: ExportArgs) -> anyhow::Result<()> {
    let ExportWhat::Marc {
        file,
        format,
        records,
    } = args.what;
    let store = console.sync.store().clone();
    let mut store = store
        .lock()
        .map_err(|_| anyhow::anyhow!("the store is unavailable"))?;
    let now = WallClock::load(store.connection())?.now();
    let chosen = marc::export::records(&mut store, records.as_deref(), now)?;
    drop(store);
    let bytes = marc::export::write(&chosen, format)?;
    let folder = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temporary = tempfile::NamedTempFile::new_in(folder)
        .with_context(|| format!("writing in {}", folder.display()))?;
    temporary
        .write_all(&bytes)
        .and_then(|()| temporary.as_file().sync_all())
        .with_context(|| format!("writing {}", file.display()))?;
    temporary
        .persist(&file)
        .with_context(|| format!("writing {}", file.display()))?;
    writeln!(
        console.out,
        "exported {} records to {} ({})",
        chosen.len(),
        file.display(),
        format.name()
    )?;
    Ok(())
}
