//! Wiring: from the configuration to a running [`Service`] — the data directory, the master key
//! (created 0600 on first use), the database (migrated) and the clock, randomness and hostname.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use twofold_core::Service;
use twofold_core::clock::SystemClock;
use twofold_core::crypto::{MasterKey, OsRng, Rng};
use twofold_core::delivery::{Mailer, SmsSender};
use twofold_core::store::Store;

use crate::config::Config;
use crate::exit::Failure;

/// Opens everything a data command needs.
pub(crate) async fn service(config: &Config) -> Result<Arc<Service>, Failure> {
    let store = open_store(config).await?;
    if !config.master_key_file.exists() && Service::database_has_master_key(store.as_ref()).await? {
        return Err(Failure::value(format_args!(
            "the master key file {} is missing, but this database was set up with a master key: \
             copy master.key from where the database was created (or set TWOFOLD_MASTER_KEY_FILE)",
            config.master_key_file.display()
        )));
    }
    let key = load_or_create_key(&config.master_key_file)?;
    let (mailer, sms, yubico, duo) = delivery(config)?;
    let service = Service::new(
        store,
        Arc::new(key),
        Arc::new(OsRng),
        Arc::new(SystemClock),
        hostname(),
    )
    .with_delivery(mailer, sms)
    .with_yubico(yubico)
    .with_duo(duo);
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
    if let Some(path) = config.database_url.strip_prefix("sqlite://") {
        ensure_dir(&config.data_dir)?;
        create_private_file(Path::new(path.split('?').next().unwrap_or(path)))?;
    }
    let store = twofold_store::connect(&config.database_url)
        .await
        .map_err(|e| Failure::value(format_args!("database: {}", chain(&e))))?;
    store
        .migrate()
        .await
        .map_err(|e| Failure::value(format_args!("migrations: {}", chain(&e))))?;
    Ok(store)
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

/// Creates an empty file readable only by us if it does not exist yet: SQLite gives its `-wal`
/// and `-shm` files the database file's permissions, so the whole database stays private.
fn create_private_file(path: &Path) -> Result<(), Failure> {
    if path.as_os_str().is_empty() || path.exists() || path.to_str() == Some(":memory:") {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        ensure_dir(parent)?;
    }
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Failure::value(format_args!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
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

/// Reads the master key (64 hex characters), or creates it with mode 0600 if the file does not
/// exist. The key never leaves this process; losing the file makes sealed secrets unreadable.
pub(crate) fn load_or_create_key(path: &Path) -> Result<MasterKey, Failure> {
    if !path.exists() {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            ensure_dir(parent)?;
        }
        let mut bytes = [0u8; 32];
        OsRng.fill(&mut bytes);
        let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(mut f) => {
                f.write_all(format!("{text}\n").as_bytes())
                    .and_then(|()| f.sync_all())
                    .map_err(|e| {
                        Failure::value(format_args!("cannot write {}: {e}", path.display()))
                    })?;
                tracing::info!(path = %path.display(), "created a new master key; back it up");
                return Ok(MasterKey::from_bytes(bytes));
            }
            // Another process created it first: read theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(Failure::value(format_args!(
                    "cannot create {}: {e}",
                    path.display()
                )));
            }
        }
    }
    let text = fs::read_to_string(path).map_err(|e| {
        Failure::value(format_args!(
            "cannot read the master key {}: {e}",
            path.display()
        ))
    })?;
    if fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0) {
        tracing::warn!(path = %path.display(), "the master key file is readable by others; chmod 600 it");
    }
    let t = text.trim();
    let mut bytes = [0u8; 32];
    let ok = t.len() == 64
        && t.bytes().all(|b| b.is_ascii_hexdigit())
        && bytes.iter_mut().enumerate().all(|(i, b)| {
            u8::from_str_radix(&t[i * 2..i * 2 + 2], 16)
                .map(|v| *b = v)
                .is_ok()
        });
    if !ok {
        return Err(Failure::value(format_args!(
            "the master key {} is not 64 hex characters",
            path.display()
        )));
    }
    Ok(MasterKey::from_bytes(bytes))
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
