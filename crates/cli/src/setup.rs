//! Wiring: from the configuration to a running [`Service`] — the data directory, the master key
//! (created 0600 on first use, refused when group or others may read it), the database (migrated)
//! and the clock, randomness and hostname.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use twofold_core::Service;
use twofold_core::crypto::{KeySource, MasterKey, OsRng, Rng};
use twofold_core::delivery::{Mailer, SmsSender};
use twofold_core::store::Store;
use zeroize::Zeroizing;

use crate::config::Config;
use crate::exit::Failure;

/// Opens everything a data command needs.
pub(crate) async fn service(config: &Config) -> Result<Arc<Service>, Failure> {
    // An existing key file is judged (its mode first) before the database is touched, so a
    // refused key leaves nothing migrated or created behind.
    let existing = read_key(&config.master_key_file)?;
    let store = open_store(config).await?;
    let key = match existing {
        Some(key) => key,
        None if Service::database_has_master_key(store.as_ref()).await? => {
            return Err(Failure::value(format_args!(
                "the master key file {} is missing, but this database was set up with a master \
                 key: copy master.key from where the database was created (or set \
                 TWOFOLD_MASTER_KEY_FILE)",
                config.master_key_file.display()
            )));
        }
        None => create_key(&config.master_key_file)?,
    };
    let (mailer, sms, yubico, duo) = delivery(config)?;
    let service = Service::new(
        store,
        Arc::new(key),
        Arc::new(OsRng),
        crate::clock::service_clock(),
        hostname(),
    )
    .with_delivery(mailer, sms)
    .with_yubico(yubico)
    .with_duo(duo)
    .with_access(config.access.clone());
    service.verify_master_key().await?;
    Ok(Arc::new(service))
}

/// The outgoing adapters: SMTP and the SMS providers, with the outbox folder in the data
/// directory for whatever has no server configured, the YubiKey validation-server client and
/// the Duo client.
type Adapters = (
    Arc<dyn Mailer>,
    Arc<dyn SmsSender>,
    Arc<dyn twofold_core::yubico::YubicoVerifier>,
    Arc<dyn twofold_core::duo::Duo>,
);

fn delivery(config: &Config) -> Result<Adapters, Failure> {
    let outbox = config.data_dir.join("outbox");
    let extra_ca = match &config.extra_ca_file {
        Some(path) => Some(fs::read(path).map_err(|e| {
            Failure::value(format_args!(
                "extra_ca_file: cannot read {}: {e}",
                path.display()
            ))
        })?),
        None => None,
    };
    let mailer = twofold_delivery::SmtpMailer::new(outbox.clone(), extra_ca.clone())
        .map_err(|e| Failure::value(format_args!("email: {e}")))?;
    let sms = twofold_delivery::SmsGateway::new(outbox, extra_ca.clone())
        .map_err(|e| Failure::value(format_args!("sms: {e}")))?;
    let yubico = twofold_delivery::YubicoClient::new(extra_ca.clone())
        .map_err(|e| Failure::value(format_args!("yubikey: {e}")))?;
    let duo = twofold_delivery::DuoClient::new(extra_ca)
        .map_err(|e| Failure::value(format_args!("duo: {e}")))?;
    Ok((
        Arc::new(mailer),
        Arc::new(sms),
        Arc::new(yubico),
        Arc::new(duo),
    ))
}

/// Connects to the database and applies pending migrations.
pub(crate) async fn open_store(config: &Config) -> Result<Arc<dyn Store>, Failure> {
    if config.database_url.starts_with("sqlite://") {
        ensure_dir(&config.data_dir)?;
        twofold_store::SqliteStore::create_private_file(&config.database_url)
            .map_err(Failure::value)?;
    }
    let store = twofold_store::connect(&config.database_url)
        .await
        .map_err(|e| {
            let why = chain(&e);
            let why = why.strip_prefix("database error: ").unwrap_or(&why);
            Failure::value(format_args!("database: {why}"))
        })?;
    store
        .migrate()
        .await
        .map_err(|e| Failure::value(format_args!("migrations: {}", chain(&e))))?;
    Ok(store)
}

pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

fn ensure_dir(dir: &Path) -> Result<(), Failure> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Failure::value(format_args!("cannot create {}: {e}", dir.display())))
}

/// The most a master key file may hold: a ring of keys (64 hex characters a line) with comment
/// lines.
const KEY_FILE_MAX: usize = 4096;

/// The first line of a key file written by `master-key rotate`.
const KEY_FILE_HEADER: &str = "# Twofold master keys: the first seals, every one opens. Keep a copy apart from the database.\n";

/// Reads the master key ring (64 hex characters a line, the sealing key first; blank lines and
/// lines starting with `#` are skipped) if its file exists. The ring reads the file again by
/// itself when it meets a value sealed under a key it lacks.
///
/// The file is refused, before a byte of it is read, when its mode lets group or others at it:
/// a key that others could read must be rotated, not used. Every buffer that holds key material
/// is wiped when it goes out of scope; the file is read into a fixed buffer (never a growing
/// `Vec`, whose reallocations would leave unwiped copies behind).
pub(crate) fn read_key(path: &Path) -> Result<Option<MasterKey>, Failure> {
    let Some(keys) = read_keys(path)? else {
        return Ok(None);
    };
    let ring = MasterKey::from_keys(&keys)
        .map_err(|e| Failure::value(format_args!("{}: {e}", path.display())))?;
    Ok(Some(ring.with_source(Box::new(KeyFile(path.to_owned())))))
}

/// The master key file as a [`KeySource`]: what a running server reads again.
struct KeyFile(std::path::PathBuf);

impl KeySource for KeyFile {
    fn load(&self) -> Result<Vec<Zeroizing<[u8; 32]>>, String> {
        match read_keys(&self.0) {
            Ok(Some(keys)) => Ok(keys),
            Ok(None) => Err(format!(
                "the master key file {} is missing",
                self.0.display()
            )),
            Err(e) => Err(e.message().to_owned()),
        }
    }
}

/// The keys of a key file, the sealing one first, if the file exists.
pub(crate) fn read_keys(path: &Path) -> Result<Option<Vec<Zeroizing<[u8; 32]>>>, Failure> {
    let cannot_read = |e: std::io::Error| {
        Failure::value(format_args!(
            "cannot read the master key {}: {e}",
            path.display()
        ))
    };
    let mut file = match fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(cannot_read(e)),
    };
    // The mode of the file opened, not of the path: it cannot change between check and read.
    let mode = file.metadata().map_err(cannot_read)?.permissions().mode();
    check_key_mode(path, mode)?;
    let mut buf = Zeroizing::new([0u8; KEY_FILE_MAX + 1]);
    let mut len = 0;
    while len < buf.len() {
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(cannot_read(e)),
        }
    }
    let malformed = || {
        Failure::value(format_args!(
            "the master key {} is not 64 hex characters a line",
            path.display()
        ))
    };
    if len > KEY_FILE_MAX {
        return Err(malformed());
    }
    // Room for one more (a rotation's new key) so the keys are never moved (and copied) while
    // they are added to.
    let mut keys = Vec::with_capacity(twofold_core::crypto::MAX_KEYS + 2);
    for line in buf[..len].split(|b| *b == b'\n') {
        let line = line.trim_ascii();
        if line.is_empty() || line.starts_with(b"#") {
            continue;
        }
        let mut bytes = Zeroizing::new([0u8; 32]);
        if !decode_key(line, &mut bytes) || keys.len() > twofold_core::crypto::MAX_KEYS {
            return Err(malformed());
        }
        keys.push(bytes);
    }
    if keys.is_empty() {
        return Err(malformed());
    }
    Ok(Some(keys))
}

/// Writes a key file holding `keys` (the sealing one first) in place of `path`, atomically: a
/// new file (mode 0600, the old file's owner and group) beside it, synced, renamed over it, and
/// the directory synced, so a crash leaves either the old file or the new one, whole. A new file
/// left by a crash is removed first.
pub(crate) fn write_keys(path: &Path, keys: &[Zeroizing<[u8; 32]>]) -> Result<(), Failure> {
    use std::os::unix::fs::MetadataExt as _;
    let fail =
        |e: std::io::Error| Failure::value(format_args!("cannot write {}: {e}", path.display()));
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{}.new", name.as_deref().unwrap_or("master.key")));
    let owner = fs::metadata(path).map(|m| (m.uid(), m.gid())).ok();
    let mut text = Zeroizing::new(Vec::with_capacity(KEY_FILE_HEADER.len() + 65 * keys.len()));
    text.extend_from_slice(KEY_FILE_HEADER.as_bytes());
    for key in keys {
        let mut line = Zeroizing::new([0u8; 65]);
        encode_key(key, &mut line);
        text.extend_from_slice(&line[..]);
    }
    let _ = fs::remove_file(&tmp);
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| {
            // The servers read the file as its owner: the new one keeps the old one's owner and
            // group (a rotation run as root must not leave a file the servers cannot read).
            if let Some((uid, gid)) = owner {
                std::os::unix::fs::fchown(&f, Some(uid), Some(gid))?;
            }
            f.write_all(&text).and_then(|()| f.sync_all())
        })
        .and_then(|()| fs::rename(&tmp, path))
        .and_then(|()| fs::File::open(dir).and_then(|d| d.sync_all()));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(fail(e));
    }
    Ok(())
}

/// Holds the key file's lock (`.NAME.lock` beside it): one `master-key` command at a time on
/// this host. Released when dropped.
pub(crate) struct KeyFileLock(#[allow(dead_code)] fs::File);

/// Takes the key file's lock, or says another rotation is running.
pub(crate) fn lock_key_file(path: &Path) -> Result<KeyFileLock, Failure> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let lock = dir.join(format!(".{}.lock", name.as_deref().unwrap_or("master.key")));
    let file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&lock)
        .map_err(|e| Failure::value(format_args!("cannot open {}: {e}", lock.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(KeyFileLock(file)),
        Err(fs::TryLockError::WouldBlock) => Err(Failure::value(format_args!(
            "another `twofold master-key` command is running on {} (it holds {})",
            path.display(),
            lock.display()
        ))),
        Err(fs::TryLockError::Error(e)) => Err(Failure::value(format_args!(
            "cannot lock {}: {e}",
            lock.display()
        ))),
    }
}

/// A new random key.
pub(crate) fn new_key() -> Zeroizing<[u8; 32]> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    OsRng.fill(&mut bytes[..]);
    bytes
}

/// Refuses a key file that group or others may read (or write, or run): one line that says what
/// to do.
fn check_key_mode(path: &Path, mode: u32) -> Result<(), Failure> {
    if mode & 0o077 == 0 {
        return Ok(());
    }
    let how = if mode & 0o044 != 0 {
        "readable"
    } else if mode & 0o022 != 0 {
        "writable"
    } else {
        "accessible"
    };
    Err(Failure::value(format_args!(
        "the master key file {p} is {how} by group or others (mode {:04o}): run chmod 600 {p}",
        mode & 0o7777,
        p = path.display()
    )))
}

/// Creates a new master key file with mode 0600, or reads the one another process created
/// first. The key never leaves this process; losing the file makes sealed secrets unreadable.
fn create_key(path: &Path) -> Result<MasterKey, Failure> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        ensure_dir(parent)?;
    }
    let mut bytes = Zeroizing::new([0u8; 32]);
    OsRng.fill(&mut bytes[..]);
    let mut text = Zeroizing::new([0u8; 65]);
    encode_key(&bytes, &mut text);
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(mut f) => {
            f.write_all(&text[..])
                .and_then(|()| f.sync_all())
                .map_err(|e| {
                    Failure::value(format_args!("cannot write {}: {e}", path.display()))
                })?;
            tracing::info!(path = %path.display(), "created a new master key; back it up");
            Ok(MasterKey::from_bytes(*bytes).with_source(Box::new(KeyFile(path.to_owned()))))
        }
        // Another process created it first: read theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read_key(path)?.ok_or_else(|| {
                Failure::value(format_args!(
                    "the master key {} appeared and vanished while it was being created",
                    path.display()
                ))
            })
        }
        Err(e) => Err(Failure::value(format_args!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}

/// Writes the key as 64 lower-case hex characters and a newline.
fn encode_key(bytes: &[u8; 32], out: &mut [u8; 65]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 0x0f)];
    }
    out[64] = b'\n';
}

/// Decodes 64 hex characters, with any whitespace around them, into `out`. On failure `out` is
/// all zeros again: no part of a malformed key is left behind.
fn decode_key(text: &[u8], out: &mut [u8; 32]) -> bool {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let t = text.trim_ascii();
    let ok = t.len() == 64
        && out.iter_mut().zip(t.chunks_exact(2)).all(|(b, pair)| {
            match (nibble(pair[0]), nibble(pair[1])) {
                (Some(hi), Some(lo)) => {
                    *b = (hi << 4) | lo;
                    true
                }
                _ => false,
            }
        });
    if !ok {
        zeroize::Zeroize::zeroize(out);
    }
    ok
}

/// The machine's hostname (the issuer's default).
pub(crate) fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "twofold".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_their_text() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i * 37 + 5) as u8);
        let mut text = [0u8; 65];
        encode_key(&bytes, &mut text);
        assert!(text[..64].iter().all(u8::is_ascii_hexdigit));
        let mut back = [0u8; 32];
        assert!(decode_key(&text, &mut back));
        assert_eq!(back, bytes);
        let upper = format!(
            "  {}\r\n\n",
            String::from_utf8_lossy(&text[..64]).to_uppercase()
        );
        let mut again = [0u8; 32];
        assert!(decode_key(upper.as_bytes(), &mut again));
        assert_eq!(again, bytes);
    }

    /// A malformed key leaves nothing of itself in the output buffer, even when its first
    /// characters decoded.
    #[test]
    fn a_malformed_key_leaves_no_partial_bytes() {
        for bad in [
            format!("{}zz", "ab".repeat(31)),
            "ab".repeat(31),
            "ab".repeat(33),
            format!("{} {}", "ab".repeat(16), "ab".repeat(16)),
            format!("{}é", "ab".repeat(31)),
        ] {
            let mut out = [0u8; 32];
            assert!(!decode_key(bad.as_bytes(), &mut out), "{bad}");
            assert_eq!(out, [0; 32], "{bad}");
        }
    }

    #[test]
    fn key_files_others_may_open_are_refused_in_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let key = create_key(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = read_key(&path).unwrap().unwrap();
        assert_eq!(key.lookup_hash("c", b"v"), again.lookup_hash("c", b"v"));
        for (mode, how) in [
            (0o644, "readable"),
            (0o640, "readable"),
            (0o604, "readable"),
            (0o620, "writable"),
            (0o610, "accessible"),
        ] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let message = read_key(&path).err().unwrap().message().to_owned();
            let p = path.display();
            assert_eq!(
                message,
                format!(
                    "the master key file {p} is {how} by group or others (mode {mode:04o}): \
                     run chmod 600 {p}"
                )
            );
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        assert!(
            read_key(&path).unwrap().is_some(),
            "read-only for the owner is fine"
        );
        assert!(read_key(&dir.path().join("none")).unwrap().is_none());
    }

    #[test]
    fn malformed_and_oversized_key_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        for text in [
            "not a key".to_owned(),
            format!("{}{}", "ab".repeat(32), " ".repeat(KEY_FILE_MAX)),
            "# only a comment\n\n".to_owned(),
            format!("{}\n{}\n", "ab".repeat(32), "cd".repeat(31)),
        ] {
            fs::write(&path, &text).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
            let message = read_key(&path).err().unwrap().message().to_owned();
            assert!(
                message.ends_with("is not 64 hex characters a line"),
                "{message}"
            );
        }
        fs::write(&path, format!("{0}\n{0}\n", "ab".repeat(32))).unwrap();
        let message = read_key(&path).err().unwrap().message().to_owned();
        assert!(message.ends_with("holds the same key twice"), "{message}");
    }

    /// A ring written by a rotation reads back in order, with its comment, and is private; a
    /// one-key file from before rings reads as a ring of one.
    #[test]
    fn key_rings_round_trip_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let single = create_key(&path).unwrap();
        let first = read_keys(&path).unwrap().unwrap();
        assert_eq!(first.len(), 1);
        let new = new_key();
        let ring = vec![new.clone(), first[0].clone()];
        write_keys(&path, &ring).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# "), "{text}");
        assert_eq!(text.lines().count(), 3);
        let back = read_keys(&path).unwrap().unwrap();
        assert_eq!(
            back.iter().map(|k| **k).collect::<Vec<_>>(),
            vec![*new, *first[0]]
        );
        let read = read_key(&path).unwrap().unwrap();
        assert_eq!(read.ids()[1], single.ids()[0]);
        // Nothing is left beside the file; a new file left by a crash is replaced.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        fs::write(dir.path().join(".master.key.new"), "left by a crash").unwrap();
        write_keys(&path, &ring).unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        // The new file keeps the old one's owner and group (checked where it can be: as root).
        if fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0) {
            std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
            write_keys(&path, &ring).unwrap();
            let m = fs::metadata(&path).unwrap();
            assert_eq!(
                (
                    std::os::unix::fs::MetadataExt::uid(&m),
                    std::os::unix::fs::MetadataExt::gid(&m)
                ),
                (65534, 65534)
            );
        }
        // One command at a time.
        let held = lock_key_file(&path).unwrap();
        let again = lock_key_file(&path).err().unwrap().message().to_owned();
        assert!(
            again.contains("another `twofold master-key` command"),
            "{again}"
        );
        drop(held);
        assert!(lock_key_file(&path).is_ok());
    }
}
