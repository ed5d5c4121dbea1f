//! `twofold import FILE --format FORMAT`: TOTP and HOTP keys from other systems.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

use twofold_core::audit::Context;
use twofold_core::identity::Role;
use twofold_core::service::{
    ImportFormat, KeyFileParser, KeyImportOptions, MAX_IMPORT_KEYS, MAX_IMPORT_LINE,
    MAX_IMPORT_PROBLEMS, MAX_PSKC_BYTES, ParsedKeys, PskcKey, parse_pskc,
};
use zeroize::Zeroizing;

use crate::config::Config;
use crate::exit::Failure;
use crate::setup;

/// What `twofold import` was asked.
#[derive(Debug, clap::Args)]
pub(crate) struct ImportArgs {
    /// The file to read (`-` reads standard input).
    file: PathBuf,
    /// otpauth, pam-google-authenticator, users.oath, csv, google-authenticator or pskc (a PSKC
    /// file: at most 32 MiB, 64 namespace declarations and 64 attributes a tag).
    #[arg(long, value_parser = parse_format)]
    format: ImportFormat,
    /// Check everything and report what a real run would do, writing nothing.
    #[arg(long)]
    dry_run: bool,
    /// Create the users the file names that do not exist yet (no password, role --role).
    #[arg(long)]
    create_users: bool,
    /// The role of users created: client, admin or owner.
    #[arg(long, default_value = "client", value_parser = parse_role)]
    role: Role,
    /// Whose keys these are, for lines that name no one (required for
    /// pam-google-authenticator; otpauth lines otherwise name the label's account).
    #[arg(long)]
    username: Option<String>,
    /// pskc: a file holding the password of a password-protected PSKC file (its first line;
    /// else the environment variable TWOFOLD_IMPORT_PASSWORD). Never on the command line. At
    /// most 4096 bytes. A PSKC file that is not encrypted is refused when a password is given;
    /// an encrypted one's plain <Secret>s are refused.
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    /// pskc: a file holding, in hex, the pre-shared AES key (16, 24 or 32 bytes) of a PSKC file
    /// encrypted with one (<EncryptionKey><KeyName>). At most 4096 bytes; a file that is not
    /// encrypted is refused when a key is given.
    #[arg(long, value_name = "FILE", conflicts_with = "password_file")]
    key_file: Option<PathBuf>,
}

/// The largest `--password-file` or `--key-file` read, in bytes.
const MAX_SECRET_FILE: usize = 4096;

/// Where a PSKC file's password may come from besides `--password-file`.
const PASSWORD_ENV: &str = "TWOFOLD_IMPORT_PASSWORD";

fn parse_format(text: &str) -> Result<ImportFormat, String> {
    text.parse()
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse()
        .map_err(|_| "a role is client, admin or owner".to_owned())
}

pub(crate) async fn run(config: &Config, args: ImportArgs) -> Result<(), Failure> {
    let name = args.file.display().to_string();
    // The file is read and checked before the server's database is opened: a file that is not
    // a key file is refused without touching anything.
    let parsed = if args.format == ImportFormat::Pskc {
        read_pskc(&args, &name)?
    } else if args.password_file.is_some() || args.key_file.is_some() {
        return Err(Failure::value(
            "--password-file and --key-file are for --format pskc",
        ));
    } else if args.file.as_os_str() == "-" {
        let parser = KeyFileParser::new(args.format, args.username.as_deref())?;
        read_keys(std::io::stdin().lock(), parser, &name)?
    } else {
        let parser = KeyFileParser::new(args.format, args.username.as_deref())?;
        let file = std::fs::File::open(&args.file)
            .map_err(|e| Failure::value(format_args!("cannot read {name}: {e}")))?;
        read_keys(BufReader::new(file), parser, &name)?
    };
    let service = setup::service(config).await?;
    let options = KeyImportOptions {
        dry_run: args.dry_run,
        create_users: args.create_users,
        role: args.role,
    };
    let report = service
        .import_keys(&Context::cli(), parsed, options)
        .await?;
    let at = |line: usize| {
        if line == 0 {
            name.clone()
        } else {
            format!("{name}:{line}")
        }
    };
    let (verb, create) = if args.dry_run {
        ("would import", "would create")
    } else {
        ("imported", "created")
    };
    for user in &report.users_created {
        println!("{create} user {user}");
    }
    for (line, username, kind) in &report.imported {
        println!("{}: {verb} a {kind} key for {username}", at(*line));
    }
    for (line, username, n) in &report.backup_codes {
        println!(
            "{}: {verb} {n} scratch code(s) as backup codes for {username}",
            at(*line)
        );
    }
    for (line, why) in &report.skipped {
        println!("{}: skipped: {why}", at(*line));
    }
    for (line, why) in &report.notes {
        println!("{}: note: {why}", at(*line));
    }
    for (line, why) in &report.refused {
        eprintln!("{}: refused: {why}", at(*line));
    }
    let dry = if args.dry_run {
        "dry run, nothing written: "
    } else {
        ""
    };
    println!(
        "{dry}users created: {}, factors imported: {}, skipped: {}, refused: {}, backup codes \
         imported: {}",
        report.users_created.len(),
        report.imported.len(),
        report.skipped.len(),
        report.refused.len(),
        report.backup_codes.iter().map(|(_, _, n)| n).sum::<usize>()
    );
    if !report.refused.is_empty() {
        return Err(Failure::value(format_args!(
            "{} line(s) of {name} refused; the others were {}",
            report.refused.len(),
            if args.dry_run { "checked" } else { "imported" }
        )));
    }
    Ok(())
}

/// Reads a PSKC file whole (at most [`MAX_PSKC_BYTES`]) with its password, if any: a file that
/// is not PSKC, or a wrong password, ends the import before anything is written.
fn read_pskc(args: &ImportArgs, name: &str) -> Result<ParsedKeys, Failure> {
    if args.username.is_some() {
        return Err(Failure::value(
            "a PSKC file names each key's user (<UserId>): --username is not for --format pskc",
        ));
    }
    let read_secret = |path: &PathBuf| {
        let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_SECRET_FILE + 1));
        let limit = u64::try_from(MAX_SECRET_FILE).unwrap_or(u64::MAX) + 1;
        std::fs::File::open(path)
            .and_then(|f| f.take(limit).read_to_end(&mut bytes))
            .map_err(|e| Failure::value(format_args!("cannot read {}: {e}", path.display())))?;
        if bytes.len() > MAX_SECRET_FILE {
            return Err(Failure::value(format_args!(
                "{} is larger than {MAX_SECRET_FILE} bytes: not a password or key file; \
                 nothing was imported",
                path.display()
            )));
        }
        Ok(bytes)
    };
    let password = match &args.password_file {
        Some(path) => {
            let bytes = read_secret(path)?;
            let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
            Some(Zeroizing::new(
                first.strip_suffix(b"\r").unwrap_or(first).to_vec(),
            ))
        }
        None => std::env::var_os(PASSWORD_ENV).map(|p| Zeroizing::new(p.into_encoded_bytes())),
    };
    let pre_shared = match &args.key_file {
        Some(path) => Some(hex_key(&read_secret(path)?).ok_or_else(|| {
            Failure::value(format_args!(
                "{}: expected an AES key in hex (32, 48 or 64 hex digits)",
                path.display()
            ))
        })?),
        None => None,
    };
    let key = match (&pre_shared, &password) {
        (Some(k), _) => PskcKey::PreShared(k),
        (None, Some(p)) => PskcKey::Password(p),
        (None, None) => PskcKey::None,
    };
    // The buffer has room for the whole file from the start (its size, or the most read from
    // standard input), so it is never moved while read, leaving no copy of the keys behind,
    // and is wiped when done.
    let limit = u64::try_from(MAX_PSKC_BYTES).unwrap_or(u64::MAX) + 1;
    let read = if args.file.as_os_str() == "-" {
        let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_PSKC_BYTES + 1));
        std::io::stdin()
            .lock()
            .take(limit)
            .read_to_end(&mut bytes)
            .map(|_| bytes)
    } else {
        std::fs::File::open(&args.file).and_then(|f| {
            // A pipe or device has no size: room for the most read, as for standard input.
            let size = match f.metadata() {
                Ok(m) if m.is_file() => m.len().min(limit),
                _ => limit,
            };
            let mut bytes = Zeroizing::new(Vec::with_capacity(
                usize::try_from(size).unwrap_or(MAX_PSKC_BYTES) + 1,
            ));
            f.take(limit).read_to_end(&mut bytes).map(|_| bytes)
        })
    };
    let bytes = read.map_err(|e| Failure::value(format_args!("cannot read {name}: {e}")))?;
    let from_env = args.password_file.is_none() && args.key_file.is_none() && password.is_some();
    parse_pskc(&bytes, key).map_err(|e| {
        // A password left in the environment is easily forgotten: say where it came from.
        let whence = if from_env && e.code == "pskc_not_encrypted" {
            format!(" (from {PASSWORD_ENV})")
        } else {
            String::new()
        };
        Failure::value(format_args!(
            "{name}: {}{whence}; nothing was imported",
            e.message
        ))
    })
}

/// An AES key written in hex (whitespace ignored): 16, 24 or 32 bytes.
fn hex_key(text: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let digits: Zeroizing<Vec<u8>> = Zeroizing::new(
        text.iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect(),
    );
    if ![32, 48, 64].contains(&digits.len()) {
        return None;
    }
    let nibble = |b: u8| {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut key = Zeroizing::new(Vec::with_capacity(digits.len() / 2));
    for pair in digits.chunks(2) {
        let [hi, lo] = pair else { return None };
        key.push(nibble(*hi)? << 4 | nibble(*lo)?);
    }
    Some(key)
}

/// Streams `input` through the parser a line at a time, never holding more than one line of
/// [`MAX_IMPORT_LINE`] bytes: a line longer than that, or not UTF-8 text, ends the import
/// before anything is written (the file is not a key file).
fn read_keys(
    mut input: impl BufRead,
    mut parser: KeyFileParser,
    name: &str,
) -> Result<ParsedKeys, Failure> {
    let mut buf = Vec::with_capacity(256);
    let mut n = 0usize;
    loop {
        buf.clear();
        let limit = u64::try_from(MAX_IMPORT_LINE).unwrap_or(u64::MAX) + 2;
        let read = (&mut input)
            .take(limit)
            .read_until(b'\n', &mut buf)
            .map_err(|e| Failure::value(format_args!("cannot read {name}: {e}")))?;
        if read == 0 {
            break;
        }
        n += 1;
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        if buf.len() > MAX_IMPORT_LINE {
            return Err(not_a_key_file(
                name,
                n,
                format_args!("a line is longer than {MAX_IMPORT_LINE} bytes"),
            ));
        }
        let text = std::str::from_utf8(&buf)
            .ok()
            .filter(|t| !t.contains('\0'))
            .ok_or_else(|| not_a_key_file(name, n, "it is not UTF-8 text (a binary file?)"))?;
        parser.line(n, text);
        if parser.problems() > MAX_IMPORT_PROBLEMS {
            return Err(not_a_key_file(
                name,
                n,
                format_args!("more than {MAX_IMPORT_PROBLEMS} lines refused"),
            ));
        }
        if parser.keys_read() > MAX_IMPORT_KEYS {
            return Err(Failure::value(format_args!(
                "{name}:{n}: more than {MAX_IMPORT_KEYS} keys in one file: split it; nothing \
                 was imported"
            )));
        }
    }
    Ok(parser.finish())
}

fn not_a_key_file(name: &str, line: usize, why: impl std::fmt::Display) -> Failure {
    Failure::value(format_args!(
        "{name}:{line}: {why}: not a key file; nothing was imported"
    ))
}
