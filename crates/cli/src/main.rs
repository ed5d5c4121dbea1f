//! The `twofold` binary: parses the command line and hands each command to its module.
//!
//! Errors reach the user as one line on stderr, `error: …`, with exit status 2 for usage errors
//! (what the argument parser rejects) and 1 for everything else (bad values, failures).

mod clock;
mod commands;
mod exit;

use std::process::ExitCode;

use clap::Parser;

use crate::commands::Command;

/// Twofold: a self-hosted two-factor authentication server.
#[derive(Debug, Parser)]
#[command(name = "twofold", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return exit::usage(e),
    };
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Failure;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn failures_map_to_exit_codes() {
        assert_eq!(Failure::value("x").code(), 1);
    }
}
