//! How commands fail: one `error: …` line on stderr and an exit status.

use std::fmt;
use std::io::Write;
use std::process::ExitCode;

/// A command that could not do its job. Usage errors come from the argument parser; everything
/// else (a bad value, a refused operation, an I/O failure) is a `Failure` with status 1.
#[derive(Debug)]
pub(crate) struct Failure {
    message: String,
}

impl Failure {
    /// A value the user gave is not acceptable.
    pub(crate) fn value(message: impl fmt::Display) -> Self {
        Failure {
            message: message.to_string(),
        }
    }

    #[cfg(test)]
    pub(crate) fn code(&self) -> u8 {
        1
    }

    /// What the error line will say.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn report(self) -> ExitCode {
        let line = self.message.lines().next().unwrap_or_default();
        let _ = writeln!(std::io::stderr(), "error: {line}");
        ExitCode::from(1)
    }
}

impl From<twofold_core::Error> for Failure {
    fn from(e: twofold_core::Error) -> Self {
        Failure {
            message: e.message.english(),
        }
    }
}

/// Reports what the argument parser said: help and version go to stdout with status 0; any other
/// complaint becomes one `error:` line (clap's first line, which already starts that way) and
/// status 2.
pub(crate) fn usage(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // `twofold` or `twofold otp` alone: a usage error like any other, so one line that
            // names what may follow (the full help is one `--help` away).
            let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
            let _ = writeln!(std::io::stderr(), "error: {}", missing_subcommand(&args));
            ExitCode::from(2)
        }
        _ => {
            // clap's message is a paragraph (a missing argument is named on the next line);
            // fold that paragraph into one line and drop the usage and tips after it.
            let text = e.render().to_string();
            let paragraph: Vec<&str> = text
                .trim_start()
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let joined = paragraph.join(" ");
            let message = joined.strip_prefix("error: ").unwrap_or(&joined);
            let _ = writeln!(std::io::stderr(), "error: {message} (see --help)");
            ExitCode::from(2)
        }
    }
}

/// The message for a command group given without its subcommand: the group as typed (found by
/// walking `args` down the command tree) and the subcommands it offers.
fn missing_subcommand(args: &[std::ffi::OsString]) -> String {
    use clap::CommandFactory;
    let root = crate::Cli::command();
    let mut path = vec![root.get_name().to_owned()];
    let mut cmd = &root;
    for arg in args.iter().filter_map(|a| a.to_str()) {
        if let Some(sub) = cmd.find_subcommand(arg) {
            path.push(sub.get_name().to_owned());
            cmd = sub;
        }
    }
    let names: Vec<&str> = cmd
        .get_subcommands()
        .map(clap::Command::get_name)
        .filter(|n| *n != "help")
        .collect();
    let what = if path.len() == 1 {
        "a command"
    } else {
        "a subcommand"
    };
    format!(
        "{} needs {what}: {} (see --help)",
        path.join(" "),
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::missing_subcommand;

    fn message(args: &[&str]) -> String {
        let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        missing_subcommand(&args)
    }

    #[test]
    fn a_missing_subcommand_names_the_group_and_its_choices() {
        assert_eq!(
            message(&["otp"]),
            "twofold otp needs a subcommand: totp, hotp (see --help)"
        );
        assert_eq!(
            message(&["--config", "x.toml", "yubikey", "client"]),
            "twofold yubikey client needs a subcommand: add, list, revoke (see --help)"
        );
        assert_eq!(
            message(&["radius", "client"]),
            "twofold radius client needs a subcommand: add, list, revoke (see --help)"
        );
        assert_eq!(
            message(&[]),
            "twofold needs a command: serve, migrate, check-config, user, settings, token, yubikey, \
             import, radius, otp, master-key, backup (see --help)"
        );
    }
}
