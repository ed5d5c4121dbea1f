//! The subcommands, one module each.

use clap::Subcommand;

use crate::config::Config;
use crate::exit::Failure;

pub(crate) mod otp;
pub(crate) mod serve;
pub(crate) mod settings;
pub(crate) mod token;
pub(crate) mod user;
pub(crate) mod yubikey;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the server (applies migrations first).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Show and change the owner's 2FA settings.
    #[command(subcommand)]
    Settings(settings::SettingsCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// YubiKeys: bulk import and the clients of the validation server.
    #[command(subcommand)]
    Yubikey(yubikey::YubikeyCommand),
    /// Compute one-time codes, as an authenticator app would (for testing and support).
    #[command(subcommand)]
    Otp(otp::OtpCommand),
}

pub(crate) fn run(command: Command, config_file: Option<&std::path::Path>) -> Result<(), Failure> {
    if let Command::Otp(c) = command {
        return otp::run(c);
    }
    let config = Config::load(config_file)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::value(format_args!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        match command {
            Command::Serve => serve::serve(&config).await,
            Command::Migrate => serve::migrate(&config).await,
            Command::User(c) => user::run(&config, c).await,
            Command::Settings(c) => settings::run(&config, c).await,
            Command::Token(c) => token::run(&config, c).await,
            Command::Yubikey(c) => yubikey::run(&config, c).await,
            Command::Otp(_) => Ok(()),
        }
    })
}
