//! The subcommands, one module each.

use clap::Subcommand;

use crate::config::Config;
use crate::exit::Failure;

pub(crate) mod backup;
pub(crate) mod check;
pub(crate) mod import;
pub(crate) mod master_key;
pub(crate) mod otp;
pub(crate) mod radius;
pub(crate) mod serve;
pub(crate) mod settings;
pub(crate) mod token;
pub(crate) mod user;
pub(crate) mod yubikey;

/// `serve --help`: the configuration, key by key.
const SERVE_HELP: &str = "\
Configuration (TOML file keys; each also TWOFOLD_<KEY> in the environment):
  listen             address and port to listen on (127.0.0.1:8080)
  data_dir           where the database, master key and outbox live (./twofold-data)
  database_url       sqlite://… (default: <data_dir>/twofold.db) or postgres://…
  public_url         the URL users see, e.g. https://auth.example.com (needed behind a proxy)
  master_key_file    the master key (<data_dir>/master.key, created 0600 on first start)
  trusted_proxies    addresses or CIDR ranges whose X-Forwarded-For is believed, and the only
                     peers /auth/nginx and /auth/forward answer
  extra_ca_file      PEM certificates trusted for outgoing TLS beside the system's
  cookie_domain      e.g. example.com: the session cookie reaches every host under it, so
                     applications there can sit behind forward authentication
  radius_listen      UDP address and port (or a port) of the RADIUS server, e.g. 0.0.0.0:1812;
                     unset: no RADIUS server. Clients: `twofold radius client add`

Forward authentication rules (file only; first match wins, no match denies):
  [[access]]
  domain = \"*.example.com\"     # exact host or *.suffix
  paths = [\"/admin\"]           # optional path prefixes
  roles = [\"admin\", \"owner\"]   # optional: only these roles
  policy = \"two_factor\"        # bypass | one_factor | two_factor | deny";

/// `import --help`: the formats and the rules.
const IMPORT_HELP: &str = "\
Import TOTP and HOTP keys from other systems. Imported factors are confirmed: they work at once.

Formats (--format):
  otpauth                   one key URI a line, or `username,URI`:
                            otpauth://totp/Acme:alice?secret=JBSW…&digits=6&period=30
                            otpauth://hotp/alice?secret=JBSW…&counter=0
                            the user is the one the line names, else --username, else the
                            label's account (`issuer:account` -> account)
  pam-google-authenticator  a ~/.google_authenticator file (--username required): the secret,
                            TOTP_AUTH or HOTP_COUNTER, STEP_SIZE; RATE_LIMIT, WINDOW_SIZE and
                            DISALLOW_REUSE are Twofold's own settings; the 8-digit scratch
                            codes become backup codes (each works once)
  users.oath                pam_oath's file: `HOTP|HOTP/E[/8]|HOTP/T30[/6] user - hexsecret
                            [counter [time]]`; a line with a PIN (not -) is refused
  csv                       `username,kind,secret,algorithm,digits,period,counter`
                            (kind totp or hotp, base32 secret, empty fields take the defaults,
                            a first line starting with `username` is a header)
  google-authenticator      Google Authenticator's export: `otpauth-migration://offline?data=…`
                            a line (decode the QR codes with e.g. zbarimg)
  pskc                      an RFC 6030 PSKC key container (hardware-token vendors,
                            privacyIDEA, python-pskc): one entry a <KeyPackage>, its user the
                            <UserId> of the Key or its DeviceInfo; HOTP (Counter) and TOTP
                            (TimeInterval, TimeDrift; T0 must be 0), Suite HMAC-SHA1/256/512,
                            ResponseFormat Length; label FriendlyName, else the device's
                            Manufacturer and SerialNo. Password-protected files (PBKDF2,
                            AES-CBC, HMAC) need --password-file FILE (its first line) or the
                            environment variable TWOFOLD_IMPORT_PASSWORD; a file encrypted
                            with a pre-shared AES key needs --key-file FILE (the key in hex). A
                            wrong password or key (the file's MACs do not match) imports nothing

Rules: a secret must decode and have at least 80 bits; SHA1, SHA256 or SHA512; 6 to 8 digits;
a period of 15 to 300 seconds. A key the user already holds (same kind and secret) is skipped,
so a second run imports nothing. Each user's keys are written in one transaction. A bad line is
reported with its line number and the others go on (exit status 1 when any was refused). Users
that do not exist are refused unless --create-users. Lines over 4096 bytes or a file that is not
UTF-8 text, or over 1000 refused lines, stop the import before anything is written. Blank
lines and lines starting with # are skipped (except in pam-google-authenticator files).
A pskc file is read whole (at most 32 MiB): a bad entry is reported with the line its
<KeyPackage> starts on, its number and Key Id; a file that is not well-formed XML, has a
DOCTYPE, or asks for over 10,000,000 PBKDF2 iterations is refused before anything is written.";

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the server (applies migrations first).
    #[command(after_help = SERVE_HELP)]
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Check the configuration and what it points at (address, data directory, master key,
    /// database), changing nothing; exit status 1 if anything is wrong.
    CheckConfig,
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
    /// Import TOTP and HOTP keys from other systems (see `twofold import --help`).
    #[command(long_about = IMPORT_HELP)]
    Import(import::ImportArgs),
    /// RADIUS: the network devices (VPN gateways, PAM hosts) that may ask.
    #[command(subcommand)]
    Radius(radius::RadiusCommand),
    /// Compute one-time codes, as an authenticator app would (for testing and support).
    #[command(subcommand)]
    Otp(otp::OtpCommand),
    /// The master key file: rotate it while servers run (see `twofold master-key rotate --help`).
    #[command(subcommand)]
    MasterKey(master_key::MasterKeyCommand),
    /// Write a consistent copy of the SQLite database to FILE while servers run (never over an
    /// existing file). The master key is not inside: keep it apart. On PostgreSQL use pg_dump.
    Backup {
        /// Where to write the copy (created 0600).
        file: std::path::PathBuf,
    },
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
    let fresh = FreshDataDir::of(&config);
    let result = runtime.block_on(async {
        match command {
            Command::Serve => serve::serve(&config).await,
            Command::Migrate => serve::migrate(&config).await,
            Command::CheckConfig => check::run(&config).await,
            Command::User(c) => user::run(&config, c).await,
            Command::Settings(c) => settings::run(&config, c).await,
            Command::Token(c) => token::run(&config, c).await,
            Command::Yubikey(c) => yubikey::run(&config, c).await,
            Command::Radius(c) => radius::run(&config, c).await,
            Command::Import(a) => import::run(&config, a).await,
            Command::Backup { file } => backup::run(&config, &file).await,
            Command::MasterKey(c) => master_key::run(&config, c).await,
            Command::Otp(_) => Ok(()),
        }
    });
    drop(runtime);
    if result.is_err() {
        fresh.remove();
    }
    result
}

/// A data directory this command is about to create, holding everything this command would put
/// there (the SQLite database and the master key): if the command fails, it is removed again, so
/// a failed first start leaves nothing behind. A data directory that existed, or one beside an
/// outside database or key (whose key a PostgreSQL database may already know), is left alone.
struct FreshDataDir(Option<std::path::PathBuf>);

impl FreshDataDir {
    fn of(config: &Config) -> Self {
        let dir = &config.data_dir;
        let inside = |p: &std::path::Path| p.starts_with(dir);
        let sqlite_inside = config.sqlite_file().is_some_and(inside);
        let fresh = !dir.exists() && sqlite_inside && inside(&config.master_key_file);
        FreshDataDir(fresh.then(|| dir.clone()))
    }

    fn remove(self) {
        if let Some(dir) = self.0
            && dir.is_dir()
        {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
