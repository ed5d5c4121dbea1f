//! `twofold token create|list|revoke`: API tokens for applications.

use clap::Subcommand;
use twofold_core::audit::Context;

use crate::config::Config;
use crate::exit::Failure;
use crate::setup;

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token and print it (only the token, once, on stdout).
    Create {
        /// A name for the application (letters, digits, . _ -).
        name: String,
        /// What it may call.
        #[arg(long, value_parser = ["admin", "validate", "metrics"], default_value = "admin")]
        scope: String,
    },
    /// List tokens (names and scopes; tokens are never shown again).
    List,
    /// Revoke a token.
    Revoke { name: String },
}

pub(crate) async fn run(config: &Config, command: TokenCommand) -> Result<(), Failure> {
    let service = setup::service(config).await?;
    let ctx = Context::cli();
    match command {
        TokenCommand::Create { name, scope } => {
            let token = service.create_token(&ctx, &name, &scope).await?;
            println!("{token}");
        }
        TokenCommand::List => {
            for t in service.list_tokens().await? {
                let used = t
                    .last_used_at
                    .map_or_else(|| "never used".to_owned(), |t| format!("last used {t}"));
                println!("{}\t{}\t{used}", t.name, t.scope);
            }
        }
        TokenCommand::Revoke { name } => {
            service.revoke_token(&ctx, &name).await?;
            println!("revoked {name}");
        }
    }
    Ok(())
}
