//! `tusach staff`: staff accounts from the appliance's console — for the district engineer
//! setting up a library, and the way back in when the admin's password is lost. Whoever can
//! run commands on the appliance already holds its data, so no password is asked.

use anyhow::Context;

use crate::accounts::{Role, StaffDirectory};
use crate::console::Console;
use crate::home_library::{HomeLibrary, LibraryChoice};

#[derive(clap::Args)]
pub struct StaffArgs {
    #[command(subcommand)]
    command: StaffCommand,
}

#[derive(clap::Subcommand)]
enum StaffCommand {
    /// List the library's staff accounts.
    List,
    /// Add (or replace) an account. The password is read from the first line of stdin.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// admin or librarian.
        #[arg(long, default_value = "librarian")]
        role: String,
        /// Make the person choose their own password at first login.
        #[arg(long)]
        temporary: bool,
    },
    /// Give an account a new one-time password (printed), to be changed at the next login.
    ResetPassword { username: String },
}

impl StaffArgs {
    /// `staff add` reads the password from the first line of stdin.
    pub fn reads_password_from_stdin(&self) -> bool {
        matches!(self.command, StaffCommand::Add { .. })
    }
}

/// Runs a staff command. It holds the store throughout (a password hash takes a moment), so
/// that the account it checks is the account it writes.
pub fn run(console: &mut Console<'_>, args: StaffArgs) -> anyhow::Result<()> {
    let store = console.sync.store().clone();
    let mut store = store
        .lock()
        .map_err(|_| anyhow::anyhow!("the store is unavailable"))?;
    let out = &mut *console.out;
    let library = HomeLibrary::settle(&mut store, &LibraryChoice::default())?;
    let staff = StaffDirectory::new(&library.id)?;
    match args.command {
        StaffCommand::List => {
            for user in staff.list(&mut store)? {
                writeln!(
                    out,
                    "{}\t{}\t{}{}",
                    user.username,
                    user.role.as_str(),
                    user.display_name,
                    if user.disabled { "\t(disabled)" } else { "" }
                )?;
            }
        }
        StaffCommand::Add {
            username,
            display_name,
            role,
            temporary,
        } => {
            let role = Role::parse(&role)
                .with_context(|| format!("role must be admin or librarian, not {role:?}"))?;
            let mut password = String::new();
            console
                .input
                .read_line(&mut password)
                .context("reading the password from stdin")?;
            let password = password.trim_end_matches(['\r', '\n']);
            let user = staff.set_from_console(
                &mut store,
                &username,
                &display_name,
                role,
                password,
                temporary,
            )?;
            writeln!(
                out,
                "account {} ({}) saved",
                user.username,
                user.role.as_str()
            )?;
        }
        StaffCommand::ResetPassword { username } => {
            let one_time = staff.reset_from_console(&mut store, &username)?;
            writeln!(
                out,
                "one-time password for {username}: {}",
                one_time.as_str()
            )?;
        }
    }
    Ok(())
}
