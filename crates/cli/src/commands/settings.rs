//! `twofold settings show|set`: the owner's 2FA settings from the shell.

use std::collections::BTreeMap;

use clap::Subcommand;
use twofold_core::audit::Context;

use crate::config::Config;
use crate::exit::Failure;
use crate::setup;

#[derive(Debug, Subcommand)]
pub(crate) enum SettingsCommand {
    /// Print every setting (secrets as ********).
    Show {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Set one setting: booleans true/false, integers in decimal, strings as given.
    Set { key: String, value: String },
}

pub(crate) async fn run(config: &Config, command: SettingsCommand) -> Result<(), Failure> {
    let service = setup::service(config).await?;
    match command {
        SettingsCommand::Show { json } => {
            let all = service.settings_for_display().await?;
            if json {
                let map: BTreeMap<&str, &str> =
                    all.iter().map(|(d, v)| (d.key, v.as_str())).collect();
                let text = serde_json::to_string_pretty(&map)
                    .map_err(|e| Failure::value(format_args!("json: {e}")))?;
                println!("{text}");
            } else {
                for (d, v) in &all {
                    println!("{} = {v}", d.key);
                }
            }
        }
        SettingsCommand::Set { key, value } => {
            service
                .set_settings(&Context::cli(), &[(key.clone(), value)])
                .await?;
            println!("set {key}");
        }
    }
    Ok(())
}
