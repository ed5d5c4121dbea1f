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

    pub(crate) fn report(self) -> ExitCode {
        let line = self.message.lines().next().unwrap_or_default();
        let _ = writeln!(std::io::stderr(), "error: {line}");
        ExitCode::from(1)
    }
}

impl From<twofold_core::Error> for Failure {
    fn from(e: twofold_core::Error) -> Self {
        Failure { message: e.message }
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
            // `twofold` or `twofold otp` alone: show what is possible, but it is still a usage
            // error.
            let _ = write!(std::io::stderr(), "{}", e.render());
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
