//! The subcommands, one module each.

use clap::Subcommand;

use crate::exit::Failure;

pub(crate) mod otp;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Compute one-time codes, as an authenticator app would (for testing and support).
    #[command(subcommand)]
    Otp(otp::OtpCommand),
}

pub(crate) fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Otp(c) => otp::run(c),
    }
}
