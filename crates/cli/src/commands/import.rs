//! `twofold import FILE --format FORMAT`: TOTP and HOTP keys from other systems.

use std::io::{BufRead, BufReader, Read, Write as _};
use std::path::PathBuf;

use twofold_core::audit::Context;
use twofold_core::identity::Role;
use twofold_core::service::{
    IMPORT_BATCH_KEYS, ImportFormat, ImportedKey, KeyFileParser, KeyImportOptions, KeyImportReport,
    MAX_IMPORT_KEYS, MAX_IMPORT_LINE, MAX_IMPORT_PROBLEMS, MAX_PSKC_BYTES, ParsedKeys, PskcKey,
    Service, parse_pskc,
};
use zeroize::Zeroizing;

use crate::config::Config;
use crate::exit::Failure;
use crate::setup;

/// What `twofold import` was asked.
#[derive(Debug, clap::Args)]
pub(crate) struct ImportArgs {
    /// The file to read: checked whole, then imported in batches of 500 keys, each user all or
    /// nothing (`-` reads standard input, held in memory: at most 10,000 keys).
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
    let from_stdin = args.file.as_os_str() == "-";
    // The whole input is read and checked before the server's database is opened: a file that
    // is not a key file is refused without touching anything. Standard input is held in memory
    // for that (at most MAX_IMPORT_KEYS keys); a file is read a first time only to be checked,
    // then a second time to be imported batch by batch.
    let held = if args.format == ImportFormat::Pskc {
        // A PSKC file is one XML document: read whole (at most MAX_PSKC_BYTES), then imported.
        Some((Vec::new(), read_pskc(&args, &name)?))
    } else if args.password_file.is_some() || args.key_file.is_some() {
        return Err(Failure::value(
            "--password-file and --key-file are for --format pskc",
        ));
    } else if from_stdin {
        let parser = KeyFileParser::new(args.format, args.username.as_deref())?;
        let mut reader = KeyReader::new(std::io::stdin().lock(), parser, &name);
        let mut batches = Vec::new();
        let mut keys = 0;
        while let Some(batch) = reader.next_batch()? {
            keys += batch.len();
            if keys > MAX_IMPORT_KEYS {
                return Err(Failure::value(format_args!(
                    "{name}: more than {MAX_IMPORT_KEYS} keys on standard input: import them \
                     from a file; nothing was imported"
                )));
            }
            batches.push(batch);
        }
        Some((batches, reader.finish()))
    } else {
        None
    };
    // A file: one handle for both reads (a file renamed over it meanwhile is not read), and the
    // digest of what each batch read the first time, so the second read imports only what was
    // checked.
    let checked = if held.is_none() {
        let file = std::fs::File::open(&args.file)
            .map_err(|e| Failure::value(format_args!("cannot read {name}: {e}")))?;
        let parser = KeyFileParser::new(args.format, args.username.as_deref())?;
        let marks = batch_marks(KeyReader::new(reader_of(&file, &name)?, parser, &name))?;
        Some((file, marks))
    } else {
        None
    };
    let service = setup::service(config).await?;
    let options = KeyImportOptions {
        dry_run: args.dry_run,
        create_users: args.create_users,
        role: args.role,
    };
    let ctx = Context::cli();
    let mut out = Printer::new(&name, args.dry_run);
    let parsed = match held {
        Some((batches, parsed)) => {
            for batch in batches {
                out.batch(&service, &ctx, batch, options).await?;
            }
            parsed
        }
        None => {
            let Some((file, marks)) = checked else {
                return Err(Failure::value(format_args!("cannot read {name}")));
            };
            let parser = KeyFileParser::new(args.format, args.username.as_deref())?;
            let mut reader = KeyReader::new(reader_of(&file, &name)?, parser, &name);
            let mut done = 0;
            while let Some(batch) = checked_batch(&mut reader, &marks, done, &out)? {
                out.batch(&service, &ctx, batch, options).await?;
                done += 1;
            }
            reader.finish()
        }
    };
    // What only the end of the file decides (a ~/.google_authenticator file's key), then the
    // lines the parser refused or remarked on.
    let ParsedKeys {
        keys,
        refused,
        notes,
    } = parsed;
    out.batch(&service, &ctx, keys, options).await?;
    out.print(KeyImportReport {
        refused,
        notes,
        ..KeyImportReport::default()
    });
    out.summary()
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

/// A buffered reader of `file` from its start.
fn reader_of<'f>(
    file: &'f std::fs::File,
    name: &str,
) -> Result<BufReader<&'f std::fs::File>, Failure> {
    use std::io::Seek as _;
    let mut f = file;
    f.seek(std::io::SeekFrom::Start(0))
        .map_err(|e| Failure::value(format_args!("cannot read {name}: {e}")))?;
    Ok(BufReader::with_capacity(1 << 16, f))
}

/// The first read of a file: every line checked, and the digest of the input read up to the end
/// of each batch, then of the whole input.
fn batch_marks<R: BufRead>(mut reader: KeyReader<'_, R>) -> Result<Vec<[u8; 32]>, Failure> {
    let mut marks = Vec::new();
    while reader.next_batch()?.is_some() {
        marks.push(reader.digest());
    }
    marks.push(reader.digest());
    reader.finish();
    Ok(marks)
}

/// The second read's next batch, only if the input up to its end is what the first read
/// checked (`marks[done]`); `None` at the end, once the whole input matched too. A file changed
/// in between stops the import before the changed batch is written.
fn checked_batch<R: BufRead>(
    reader: &mut KeyReader<'_, R>,
    marks: &[[u8; 32]],
    done: usize,
    out: &Printer<'_>,
) -> Result<Option<Vec<ImportedKey>>, Failure> {
    let name = reader.name;
    let changed = |why: &str| {
        Failure::value(format_args!(
            "{name} changed while it was imported ({why}): the import stopped after {done} \
             batch(es) ({} key(s) imported); run it again (it skips what is there)",
            out.imported
        ))
    };
    let batch = reader.next_batch().map_err(|e| changed(e.message()))?;
    // The batches the first read made; its last mark is the whole input's.
    let made = marks.len().saturating_sub(1);
    let want = match &batch {
        Some(_) if done < made => marks.get(done),
        None if done == made => marks.last(),
        _ => None,
    };
    if want.copied() != Some(reader.digest()) {
        return Err(changed("its content is not what was checked"));
    }
    Ok(batch)
}

/// Prints an import's report batch by batch, keeping only the totals.
struct Printer<'a> {
    name: &'a str,
    dry_run: bool,
    created: usize,
    imported: usize,
    skipped: usize,
    refused: usize,
    codes: usize,
}

impl<'a> Printer<'a> {
    fn new(name: &'a str, dry_run: bool) -> Self {
        Printer {
            name,
            dry_run,
            created: 0,
            imported: 0,
            skipped: 0,
            refused: 0,
            codes: 0,
        }
    }

    async fn batch(
        &mut self,
        service: &Service,
        ctx: &Context,
        keys: Vec<ImportedKey>,
        options: KeyImportOptions,
    ) -> Result<(), Failure> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut report = KeyImportReport::default();
        let done = service
            .import_key_batch(ctx, keys, options, &mut report)
            .await;
        // What was written before a failure is reported too.
        report.refused.sort_by_key(|(n, _)| *n);
        report.skipped.sort_by_key(|(n, _)| *n);
        report.imported.sort_by_key(|(n, _, _)| *n);
        self.print(report);
        Ok(done?)
    }

    fn at(&self, line: usize) -> String {
        if line == 0 {
            self.name.to_owned()
        } else {
            format!("{}:{line}", self.name)
        }
    }

    fn print(&mut self, report: KeyImportReport) {
        let (verb, create) = if self.dry_run {
            ("would import", "would create")
        } else {
            ("imported", "created")
        };
        let mut stdout = std::io::stdout().lock();
        // A closed standard output (`| head`) does not stop the import.
        for user in &report.users_created {
            let _ = writeln!(stdout, "{create} user {user}");
        }
        for (line, username, kind) in &report.imported {
            let _ = writeln!(
                stdout,
                "{}: {verb} a {kind} key for {username}",
                self.at(*line)
            );
        }
        for (line, username, n) in &report.backup_codes {
            let _ = writeln!(
                stdout,
                "{}: {verb} {n} scratch code(s) as backup codes for {username}",
                self.at(*line)
            );
        }
        for (line, why) in &report.skipped {
            let _ = writeln!(stdout, "{}: skipped: {why}", self.at(*line));
        }
        for (line, why) in &report.notes {
            let _ = writeln!(stdout, "{}: note: {why}", self.at(*line));
        }
        let _ = stdout.flush();
        for (line, why) in &report.refused {
            eprintln!("{}: refused: {why}", self.at(*line));
        }
        self.created += report.users_created.len();
        self.imported += report.imported.len();
        self.skipped += report.skipped.len();
        self.refused += report.refused.len();
        self.codes += report.backup_codes.iter().map(|(_, _, n)| n).sum::<usize>();
    }

    fn summary(&self) -> Result<(), Failure> {
        let dry = if self.dry_run {
            "dry run, nothing written: "
        } else {
            ""
        };
        println!(
            "{dry}users created: {}, factors imported: {}, skipped: {}, refused: {}, backup \
             codes imported: {}",
            self.created, self.imported, self.skipped, self.refused, self.codes
        );
        if self.refused > 0 {
            return Err(Failure::value(format_args!(
                "{} line(s) of {} refused; the others were {}",
                self.refused,
                self.name,
                if self.dry_run { "checked" } else { "imported" }
            )));
        }
        Ok(())
    }
}

/// Streams an input through the parser a line at a time, never holding more than one line of
/// [`MAX_IMPORT_LINE`] bytes and one batch of keys: a line longer than that, or not UTF-8
/// text, or too many refused lines end the import (the input is not a key file).
struct KeyReader<'a, R> {
    input: R,
    parser: KeyFileParser,
    name: &'a str,
    buf: Vec<u8>,
    line: usize,
    /// The keys of the last user of the previous batch, when the batch ended inside their run
    /// of lines: they start the next batch, so a user whose lines follow each other is
    /// imported in one piece.
    carry: Vec<ImportedKey>,
    /// SHA-256 of every byte read so far.
    digest: sha2::Sha256,
}

impl<'a, R: BufRead> KeyReader<'a, R> {
    fn new(input: R, parser: KeyFileParser, name: &'a str) -> Self {
        KeyReader {
            input,
            parser,
            name,
            buf: Vec::with_capacity(256),
            line: 0,
            carry: Vec::new(),
            digest: sha2::Sha256::default(),
        }
    }

    /// The digest of the input read so far.
    fn digest(&self) -> [u8; 32] {
        use sha2::Digest as _;
        self.digest.clone().finalize().into()
    }

    /// The next batch of about [`IMPORT_BATCH_KEYS`] keys, `None` at the end of the input.
    fn next_batch(&mut self) -> Result<Option<Vec<ImportedKey>>, Failure> {
        let want = IMPORT_BATCH_KEYS.saturating_sub(self.carry.len()).max(1);
        let mut eof = false;
        while self.parser.keys_read() < want {
            if !self.read_line()? {
                eof = true;
                break;
            }
        }
        let mut keys = std::mem::take(&mut self.carry);
        keys.append(&mut self.parser.take_keys());
        if !eof && keys.len() < 2 * IMPORT_BATCH_KEYS {
            // Keep the last user's run of lines for the next batch.
            let last = keys.last().map(|k| k.username.clone()).unwrap_or_default();
            let start = keys
                .iter()
                .rposition(|k| k.username != last)
                .map_or(0, |i| i + 1);
            if start > 0 {
                self.carry = keys.split_off(start);
            }
        }
        if keys.is_empty() && eof {
            return Ok(None);
        }
        Ok(Some(keys))
    }

    /// Reads one line into the parser; false at the end of the input.
    fn read_line(&mut self) -> Result<bool, Failure> {
        let name = self.name;
        self.buf.clear();
        let limit = u64::try_from(MAX_IMPORT_LINE).unwrap_or(u64::MAX) + 2;
        let read = (&mut self.input)
            .take(limit)
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| Failure::value(format_args!("cannot read {name}: {e}")))?;
        if read == 0 {
            return Ok(false);
        }
        sha2::Digest::update(&mut self.digest, &self.buf);
        self.line += 1;
        let n = self.line;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        if self.buf.len() > MAX_IMPORT_LINE {
            return Err(not_a_key_file(
                name,
                n,
                format_args!("a line is longer than {MAX_IMPORT_LINE} bytes"),
            ));
        }
        let text = std::str::from_utf8(&self.buf)
            .ok()
            .filter(|t| !t.contains('\0'))
            .ok_or_else(|| not_a_key_file(name, n, "it is not UTF-8 text (a binary file?)"))?;
        self.parser.line(n, text);
        if self.parser.problems() > MAX_IMPORT_PROBLEMS {
            return Err(not_a_key_file(
                name,
                n,
                format_args!("more than {MAX_IMPORT_PROBLEMS} lines refused"),
            ));
        }
        Ok(true)
    }

    /// What the parser keeps to the end: the refusals, the notes, and the keys only the end of
    /// the input decides.
    fn finish(mut self) -> ParsedKeys {
        let mut parsed = self.parser.finish();
        if !self.carry.is_empty() {
            self.carry.append(&mut parsed.keys);
            parsed.keys = self.carry;
        }
        parsed
    }
}

fn not_a_key_file(name: &str, line: usize, why: impl std::fmt::Display) -> Failure {
    Failure::value(format_args!(
        "{name}:{line}: {why}: not a key file; nothing was imported"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(lines: usize, changed: Option<usize>) -> Vec<u8> {
        (1..=lines)
            .map(|i| {
                let secret = if Some(i) == changed {
                    "KRUGS4ZANFZSAYLOEBXXI2DFOIQHGZLDOJSXI"
                } else {
                    "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
                };
                format!("user{i},totp,{secret},,,,\n")
            })
            .collect::<String>()
            .into_bytes()
    }

    fn reader(bytes: &[u8]) -> KeyReader<'static, std::io::Cursor<Vec<u8>>> {
        let parser = KeyFileParser::new(ImportFormat::Csv, None).unwrap();
        KeyReader::new(std::io::Cursor::new(bytes.to_vec()), parser, "keys.csv")
    }

    /// Reads every batch the second time; the batches read and the error, if any.
    fn second_read(marks: &[[u8; 32]], bytes: &[u8]) -> (usize, Option<String>) {
        let out = Printer::new("keys.csv", true);
        let mut r = reader(bytes);
        let mut done = 0;
        loop {
            match checked_batch(&mut r, marks, done, &out) {
                Ok(Some(_)) => done += 1,
                Ok(None) => return (done, None),
                Err(e) => return (done, Some(e.message().to_owned())),
            }
        }
    }

    /// The second read of a file imports only what the first one checked: a file changed in
    /// between (a line rewritten, lines added, lines cut) stops before the changed batch.
    #[test]
    fn a_file_changed_between_the_reads_stops_the_import_at_the_change() {
        let first = csv(1200, None);
        let marks = batch_marks(reader(&first)).unwrap();
        assert_eq!(
            marks.len(),
            4,
            "three batches of at most 500 keys, and the end"
        );
        assert_eq!(second_read(&marks, &first), (3, None));
        let (done, e) = second_read(&marks, &csv(1200, Some(800)));
        assert_eq!(done, 1, "the first batch was as checked");
        let e = e.unwrap();
        assert!(
            e.starts_with("keys.csv changed while it was imported"),
            "{e}"
        );
        assert!(e.contains("stopped after 1 batch(es)"), "{e}");
        let (done, e) = second_read(&marks, &csv(1300, None));
        assert_eq!(done, 2);
        assert!(e.is_some());
        let (done, e) = second_read(&marks, &csv(1100, None));
        assert_eq!(done, 2);
        assert!(e.is_some());
    }
}
