//! `tusach staff`: staff accounts from the appliance's console — for the district engineer
//! setting up a library, and the way back in when the admin's password is lost. Whoever can
//! run commands on the appliance already holds its data, so no password is asked.

use anyhow::Context;

use crate::accounts::{Role, StaffDirectory};
use crate::data_dir::DataDir;
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

pub fn run(data: &DataDir, args: StaffArgs) -> anyhow::Result<()> {
    let mut store = data.open_store().context("opening the data folder")?;
    let library = HomeLibrary::settle(&mut store, &LibraryChoice::default())?;
    let staff = StaffDirectory::new(&library.id)?;
    match args.command {
        StaffCommand::List => {
            for user in staff.list(&mut store)? {
                println!(
                    "{}\t{}\t{}{}",
                    user.username,
                    user.role.as_str(),
                    user.display_name,
                    if user.disabled { "\t(disabled)" } else { "" }
                );
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
            std::io::stdin()
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
            println!("account {} ({}) saved", user.username, user.role.as_str());
        }
        StaffCommand::ResetPassword { username } => {
            let one_time = staff.reset_from_console(&mut store, &username)?;
            println!("one-time password for {username}: {}", one_time.as_str());
        }
    }
    Ok(())
}
