//! `twofold radius client add|list|revoke`: the devices the RADIUS server answers
//! (`radius_listen`).

use clap::Subcommand;
use twofold_core::audit::Context;

use crate::config::Config;
use crate::exit::Failure;
use crate::setup;

#[derive(Debug, Subcommand)]
pub(crate) enum RadiusCommand {
    /// Clients of the RADIUS server: VPN gateways, network devices, pam_radius_auth hosts.
    #[command(subcommand)]
    Client(ClientCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum ClientCommand {
    /// Register a client; prints its shared secret (once). Packets from other addresses are
    /// dropped.
    Add {
        /// A name for the client (letters, digits, . _ -).
        name: String,
        /// The address its packets come from, or a network (10.0.0.0/24).
        #[arg(long)]
        address: String,
        /// Also answer its requests that carry no Message-Authenticator (older clients such
        /// as pam_radius_auth 2.0). Without it such requests are dropped (BlastRADIUS,
        /// CVE-2024-3596).
        #[arg(long)]
        allow_missing_message_authenticator: bool,
    },
    /// List clients (their secrets are never shown again).
    List,
    /// Revoke a client: its packets are dropped from now on (within 10 seconds on a running
    /// server).
    Revoke { name: String },
}

pub(crate) async fn run(config: &Config, command: RadiusCommand) -> Result<(), Failure> {
    let service = setup::service(config).await?;
    let ctx = Context::cli();
    match command {
        RadiusCommand::Client(ClientCommand::Add {
            name,
            address,
            allow_missing_message_authenticator,
        }) => {
            let secret = service
                .add_radius_client(&ctx, &name, &address, allow_missing_message_authenticator)
                .await?;
            println!("secret={}", secret.0);
        }
        RadiusCommand::Client(ClientCommand::List) => {
            for c in service.list_radius_clients().await? {
                let flag = if c.allow_missing_message_authenticator {
                    "message-authenticator optional"
                } else {
                    "message-authenticator required"
                };
                println!("{}\t{}\t{flag}", c.name, c.network);
            }
        }
        RadiusCommand::Client(ClientCommand::Revoke { name }) => {
            service.revoke_radius_client(&ctx, &name).await?;
            println!("revoked {name}");
        }
    }
    Ok(())
}
