//! Tủ Sách, the appliance: everything the `tusach` binary does, as a library so tests can
//! drive it in-process.
//!
//! Module map:
//! - [`data_dir`]: the data folder and opening the store in it.
//! - [`home_library`]: which library this appliance serves, and its desk.
//! - [`joining`]: a desk joining its library (enrol, take the library, first sync) and the
//!   first-admin rule.
//! - [`clock`]: the wall clock, corrected from a phone, and whether it went backwards.
//! - [`catalogue`]: bibliographic records as entities of the replicated store.
//! - [`circulation`]: loan rules, desk decisions and the exceptions inbox.
//! - [`accounts`]: staff accounts, passwords, sessions and login rate limiting.
//! - [`holdings`]: copies across libraries and shelves, and what is available where.
//! - [`cataloguing`]: adding copies and new records; ISBN check digits; MARC21 in and out.
//! - [`labels`]: PDF sheets of spine labels and reader cards (Code 128, Noto Sans).
//! - [`stocktake`]: shelf-by-shelf scans and what they found missing or misplaced.
//! - [`search`]: Vietnamese-aware catalogue search and the query tables behind it.
//! - [`spreadsheets`]: books and readers from the `.xlsx` and `.csv` lists communes keep.
//! - [`imports`]: lists and MARC files imported from the staff pages: the files kept between
//!   the steps, the preview, the run in the background and its progress.
//! - [`query_tables`]: the store observer that keeps every query table in step.
//! - [`reports`]: statistics and the monthly report, counted from a snapshot of the library.
//! - [`db`]: the appliance's own SQL (migrations and query-table statements).
//! - [`http`]: the web server's routes; the only module that knows JSON and HTML.
//! - [`sample`]: realistic, deterministic Vietnamese sample data (benches, tests, `--demo`).
//! - [`demo`]: the living demo library `serve --demo` seeds.
//! - [`sync_service`]: where every sync session and bundle starts; per-peer guards and
//!   status; the hub schedule.
//! - [`console`]: the console commands (`id`, `staff`, `sync`, `network`, `import`, `export`),
//!   run alone or inside `serve`.
//! - [`control_socket`]: `control.sock`, on which `serve` runs console commands for others.
//! - [`sync_cmd`]: `tusach sync`: one-shot sessions, bundles and the sync listener.
//! - [`network_cmd`]: `tusach network`: make a network, enrol devices, revoke them.
//! - [`serve`]: `tusach serve`: the long-running appliance, the data folder's one owner.
//! - [`staff_cmd`]: `tusach staff`: staff accounts from the console.
//! - [`import_cmd`], [`export_cmd`]: `tusach import marc`, `tusach export marc`;
//!   [`import_sheet_cmd`]: `tusach import xlsx|csv FILE --as books|readers`.
//! - [`bench`]: `tusach bench NAME --json`.
//! - [`dev`]: hidden tools that process-level tests drive (acknowledged write streams, seeding).
//! - [`process`]: facts about this process (peak memory) for benches.

pub mod accounts;
pub mod bench;
pub mod catalogue;
pub mod cataloguing;
pub mod circulation;
pub mod clock;
pub mod console;
pub mod control_socket;
pub mod data_dir;
pub mod db;
pub mod demo;
pub mod dev;
pub mod export_cmd;
#[cfg(test)]
mod fuzzing;
pub mod holdings;
pub mod home_library;
pub mod http;
pub mod import_cmd;
pub mod import_sheet_cmd;
pub mod imports;
pub mod joining;
pub mod labels;
pub mod network_cmd;
pub mod process;
pub mod query_tables;
pub mod reports;
pub mod sample;
pub mod search;
pub mod serve;
pub mod spreadsheets;
pub mod staff_cmd;
pub mod stocktake;
pub mod sync_cmd;
pub mod sync_service;
