//! The `twofold` binary: parses the command line and hands each command to its module.
//!
//! Errors reach the user as one line on stderr, `error: …`, with exit status 2 for usage errors
//! (what the argument parser rejects) and 1 for everything else (bad values, failures).

mod clock;
mod commands;
mod config;
mod exit;
mod listener;
mod setup;

use std::process::ExitCode;

use clap::Parser;

use crate::commands::Command;

/// `twofold --version`: the version and the commit it was built from.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("TF_BUILD_COMMIT"),
    ")"
);

/// Twofold: a self-hosted two-factor authentication server.
#[derive(Debug, Parser)]
#[command(name = "twofold", version = VERSION, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Configuration file (TOML); also TWOFOLD_CONFIG. Environment variables TWOFOLD_* override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return exit::usage(e),
    };
    if let Err(failure) = init_logging(matches!(cli.command, Command::Serve)) {
        return failure.report();
    }
    match commands::run(cli.command, cli.config.as_deref()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// Logs go to stderr; `TWOFOLD_LOG` filters them (default: info for the server, warnings for the
/// other commands, so their stdout stays clean). A filter that does not parse is refused rather
/// than silently replaced by the default.
fn init_logging(server: bool) -> Result<(), exit::Failure> {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let default = if server { "info" } else { "warn" };
    let filter: Targets = match std::env::var("TWOFOLD_LOG") {
        Ok(text) if !text.trim().is_empty() => text.trim().parse().map_err(|e| {
            exit::Failure::value(format_args!(
                "TWOFOLD_LOG: {text:?} is not a log filter ({e}); try info, debug or twofold=debug"
            ))
        })?,
        _ => default.parse().unwrap_or_default(),
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .finish()
        .with(filter)
        .try_init();
    Ok(())
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
