//! `twofold otp totp|hotp`: print the code a secret gives, like oathtool.
//!
//! Only the code goes to stdout. A secret may be typed with spaces (as apps show it); anything
//! else that is not base32 is an error. Non-numbers are usage errors (status 2); numbers out of
//! range (digits outside 6–8, a period of 0) and bad secrets are value errors (status 1).

use std::num::NonZeroU64;

use clap::{Args, Subcommand, ValueEnum};
use twofold_otp::{Algorithm, Digits, Hotp, Secret, Totp};

use crate::clock;
use crate::exit::Failure;

#[derive(Debug, Subcommand)]
pub(crate) enum OtpCommand {
    /// Print the TOTP code (RFC 6238) of a secret at a time (default: now).
    Totp {
        #[command(flatten)]
        common: Common,
        /// Unix time in seconds (default: now).
        #[arg(long, value_name = "UNIX")]
        time: Option<u64>,
        /// Time step in seconds.
        #[arg(long, value_name = "S", default_value_t = 30)]
        period: u64,
    },
    /// Print the HOTP code (RFC 4226) of a secret at a counter.
    Hotp {
        #[command(flatten)]
        common: Common,
        /// The counter value.
        #[arg(long, value_name = "N")]
        counter: u64,
    },
}

#[derive(Debug, Args)]
pub(crate) struct Common {
    /// The shared secret in base32 (case and spaces do not matter).
    #[arg(long, value_name = "BASE32")]
    secret: String,
    /// Number of digits: 6, 7 or 8.
    #[arg(long, value_name = "N", default_value_t = 6)]
    digits: u64,
    /// HMAC hash function.
    #[arg(long, value_enum, default_value_t = Alg::Sha1)]
    algorithm: Alg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Alg {
    Sha1,
    Sha256,
    Sha512,
}

impl From<Alg> for Algorithm {
    fn from(a: Alg) -> Self {
        match a {
            Alg::Sha1 => Algorithm::Sha1,
            Alg::Sha256 => Algorithm::Sha256,
            Alg::Sha512 => Algorithm::Sha512,
        }
    }
}

impl Common {
    fn parse(&self) -> Result<(Secret, Digits), Failure> {
        let compact: String = self.secret.chars().filter(|c| !c.is_whitespace()).collect();
        let secret = Secret::from_base32(&compact)
            .map_err(|e| Failure::value(format_args!("--secret: {e}")))?;
        let digits =
            Digits::new(self.digits).map_err(|e| Failure::value(format_args!("--digits: {e}")))?;
        Ok((secret, digits))
    }
}

pub(crate) fn run(command: OtpCommand) -> Result<(), Failure> {
    let code = match command {
        OtpCommand::Totp {
            common,
            time,
            period,
        } => {
            let (secret, digits) = common.parse()?;
            let period = NonZeroU64::new(period)
                .ok_or_else(|| Failure::value("--period: must be at least 1 second"))?;
            let totp = Totp::new(&secret, common.algorithm.into(), digits, period);
            let time = time.unwrap_or_else(clock::now_unix);
            totp.generate(time)
                .ok_or_else(|| Failure::value("--time: before the epoch"))?
        }
        OtpCommand::Hotp { common, counter } => {
            let (secret, digits) = common.parse()?;
            Hotp::new(&secret, common.algorithm.into(), digits).generate(counter)
        }
    };
    println!("{code}");
    Ok(())
}
