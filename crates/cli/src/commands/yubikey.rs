//! `twofold yubikey import|client …`: keys programmed in bulk, and the clients of Twofold's
//! Yubico validation server (`/wsapi/2.0/verify`).

use std::path::PathBuf;

use clap::Subcommand;
use twofold_core::audit::Context;
use twofold_core::service::ImportOptions;

use crate::config::Config;
use crate::exit::Failure;
use crate::setup;

#[derive(Debug, Subcommand)]
pub(crate) enum YubikeyCommand {
    /// Import keys programmed in bulk (local mode) from a CSV file.
    ///
    /// One key per line: `username,public id,private id,AES key[,label]` — the public id in
    /// modhex (the first 12 characters the key types), the private id (12) and the AES key (32)
    /// in hex, as ykpersonalize prints them. Blank lines, lines starting with `#` and a first
    /// line starting with `username` are skipped. Every row is checked first; nothing is
    /// written unless all are good. Imported keys are confirmed: they work at once. A public id
    /// another factor holds refuses its row.
    Import {
        /// The CSV file (`-` reads standard input).
        file: PathBuf,
        /// Check every row and report, without writing anything.
        #[arg(long)]
        dry_run: bool,
        /// Take over public ids that users claimed by adding keys themselves in the portal:
        /// their factors are removed in the import's transaction (audited). Keys imported,
        /// added by an administrator or verified by a validation server are never taken over.
        #[arg(long)]
        release_self_enrolled: bool,
    },
    /// Clients of the validation server (pam_yubico, yubico-client, …).
    #[command(subcommand)]
    Client(ClientCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum ClientCommand {
    /// Register a client; prints its numeric id and base64 key (once).
    Add {
        /// A name for the client (letters, digits, . _ -).
        name: String,
        /// Also answer its requests that carry no signature (`h`).
        #[arg(long)]
        allow_unsigned: bool,
    },
    /// List clients (ids and names; keys are never shown again).
    List,
    /// Revoke a client: its requests get NO_SUCH_CLIENT.
    Revoke { name: String },
}

pub(crate) async fn run(config: &Config, command: YubikeyCommand) -> Result<(), Failure> {
    let service = setup::service(config).await?;
    let ctx = Context::cli();
    match command {
        YubikeyCommand::Import {
            file,
            dry_run,
            release_self_enrolled,
        } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
            } else {
                std::fs::read_to_string(&file)
            }
            .map_err(|e| Failure::value(format_args!("cannot read {}: {e}", file.display())))?;
            let options = ImportOptions {
                dry_run,
                release_self_enrolled,
            };
            let report = service.import_yubikeys(&ctx, &text, options).await?;
            if !report.problems.is_empty() {
                for (line, why) in &report.problems {
                    if *line == 0 {
                        eprintln!("{why}");
                    } else {
                        eprintln!("line {line}: {why}");
                    }
                }
                return Err(Failure::value(format_args!(
                    "{} bad row(s); nothing was imported",
                    report.problems.len()
                )));
            }
            let verb = if report.written {
                "imported"
            } else {
                "would import"
            };
            let released = if report.written {
                "released"
            } else {
                "would release"
            };
            for (line, username, public_id) in &report.released {
                println!("line {line}: {released} {public_id} from {username} (self-enrolled)");
            }
            for (line, username, public_id) in &report.rows {
                println!("line {line}: {verb} {public_id} for {username}");
            }
            println!("{verb} {} key(s)", report.rows.len());
        }
        YubikeyCommand::Client(ClientCommand::Add {
            name,
            allow_unsigned,
        }) => {
            let c = service
                .add_wsapi_client(&ctx, &name, allow_unsigned)
                .await?;
            println!("id={}", c.id);
            println!("key={}", c.key_base64);
        }
        YubikeyCommand::Client(ClientCommand::List) => {
            for c in service.list_wsapi_clients().await? {
                let signed = if c.allow_unsigned {
                    "unsigned allowed"
                } else {
                    "signed only"
                };
                println!("{}\t{}\t{signed}", c.id, c.name);
            }
        }
        YubikeyCommand::Client(ClientCommand::Revoke { name }) => {
            service.revoke_wsapi_client(&ctx, &name).await?;
            println!("revoked {name}");
        }
    }
    Ok(())
}
