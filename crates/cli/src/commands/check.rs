//! `twofold check-config`: checks the configuration and what it points at, changing nothing.
//!
//! The values themselves were checked when the configuration loaded (a bad one never gets here).
//! This looks further: whether the listening address can be bound, the data directory and the
//! files exist with the right modes, the master key reads and matches the database, and the
//! database answers. Each check prints one line; any problem makes the exit status 1.

use std::io::Write;
use std::path::Path;

use twofold_core::Service;

use crate::config::Config;
use crate::exit::Failure;
use crate::setup;

/// One finding.
enum Finding {
    Ok(String),
    /// Works, but worth knowing (e.g. the address is in use, perhaps by this server itself).
    Note(String),
    Problem(String),
}

pub(crate) async fn run(config: &Config) -> Result<(), Failure> {
    let mut findings = Vec::new();
    findings.push(listen(config));
    if let Some(at) = config.radius_listen {
        findings.push(radius_listen(at));
    }
    findings.push(data_dir(&config.data_dir));
    let key = master_key(config, &mut findings);
    database(config, key, &mut findings).await;
    if let Some(path) = &config.extra_ca_file {
        findings.push(extra_ca(path));
    }
    findings.push(Finding::Ok(format!(
        "public_url: {}",
        config
            .public_url
            .as_deref()
            .unwrap_or("(the listening address)")
    )));
    if let Some(domain) = &config.cookie_domain {
        findings.push(Finding::Ok(format!("cookie_domain: {domain}")));
    }
    findings.push(Finding::Ok(format!(
        "trusted_proxies: {}",
        if config.trusted_proxies.is_empty() {
            "none".to_owned()
        } else {
            config
                .trusted_proxies
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    )));
    findings.push(Finding::Ok(format!(
        "access: {} rule(s)",
        config.access.rules.len()
    )));

    let mut out = std::io::stdout().lock();
    let mut problems = 0;
    for f in &findings {
        let line = match f {
            Finding::Ok(t) => format!("ok       {t}"),
            Finding::Note(t) => format!("note     {t}"),
            Finding::Problem(t) => {
                problems += 1;
                format!("PROBLEM  {t}")
            }
        };
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
    match problems {
        0 => Ok(()),
        1 => Err(Failure::value("check-config found 1 problem")),
        n => Err(Failure::value(format_args!(
            "check-config found {n} problems"
        ))),
    }
}

/// Binds the address for a moment (nothing accepts on it).
fn listen(config: &Config) -> Finding {
    match std::net::TcpListener::bind(config.listen) {
        Ok(_) => Finding::Ok(format!("listen: {} can be bound", config.listen)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Finding::Note(format!(
            "listen: {} is in use (by this server, if it is running): {e}",
            config.listen
        )),
        Err(e) => Finding::Problem(format!("listen: cannot bind {}: {e}", config.listen)),
    }
}

/// Binds the RADIUS server's UDP address for a moment.
fn radius_listen(at: std::net::SocketAddr) -> Finding {
    match std::net::UdpSocket::bind(at) {
        Ok(_) => Finding::Ok(format!("radius_listen: udp {at} can be bound")),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Finding::Note(format!(
            "radius_listen: udp {at} is in use (by this server, if it is running): {e}"
        )),
        Err(e) => Finding::Problem(format!("radius_listen: cannot bind udp {at}: {e}")),
    }
}

fn data_dir(dir: &Path) -> Finding {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => {
            Finding::Problem(format!("data_dir: {} is not a directory", dir.display()))
        }
        Ok(m) => {
            let mode = m.permissions().mode() & 0o7777;
            if mode & 0o077 != 0 {
                Finding::Note(format!(
                    "data_dir: {} (mode {mode:04o}: group or others may look in; 0700 is usual)",
                    dir.display()
                ))
            } else {
                Finding::Ok(format!("data_dir: {} (mode {mode:04o})", dir.display()))
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Finding::Ok(format!(
            "data_dir: {} does not exist yet (created 0700 on first start)",
            dir.display()
        )),
        Err(e) => Finding::Problem(format!("data_dir: {}: {e}", dir.display())),
    }
}

/// The master key file, as read.
enum Key {
    Read(twofold_core::crypto::MasterKey),
    Missing,
    /// Refused (its mode, its content): already reported.
    Refused,
}

/// Reads the key (its mode first).
fn master_key(config: &Config, findings: &mut Vec<Finding>) -> Key {
    let path = &config.master_key_file;
    match setup::read_key(path) {
        Ok(Some(key)) => {
            findings.push(Finding::Ok(format!(
                "master_key_file: {} reads (mode 0600 or stricter)",
                path.display()
            )));
            Key::Read(key)
        }
        Ok(None) => {
            findings.push(Finding::Ok(format!(
                "master_key_file: {} does not exist yet (created on first start, unless the \
                 database already has a key)",
                path.display()
            )));
            Key::Missing
        }
        Err(e) => {
            findings.push(Finding::Problem(format!(
                "master_key_file: {}",
                e.message()
            )));
            Key::Refused
        }
    }
}

async fn database(config: &Config, key: Key, findings: &mut Vec<Finding>) {
    let url = &config.database_url;
    let shown = super::serve::redact_url(url);
    if config.sqlite_file().is_some_and(|path| !path.exists()) {
        findings.push(Finding::Ok(format!(
            "database: {shown} does not exist yet (created on first start)"
        )));
        if config.master_key_file.exists() {
            findings.push(Finding::Note(
                "master_key_file: a key but no database yet: the first start uses this key"
                    .to_owned(),
            ));
        }
        return;
    }
    let store = match twofold_store::connect_read_only(url).await {
        Ok(store) => store,
        Err(e) => {
            let why = setup::chain(&e);
            let why = why.strip_prefix("database error: ").unwrap_or(&why);
            findings.push(Finding::Problem(format!("database: {shown}: {why}")));
            return;
        }
    };
    if let Err(e) = store.ping().await {
        findings.push(Finding::Problem(format!(
            "database: {shown}: {}",
            setup::chain(&e)
        )));
        return;
    }
    findings.push(Finding::Ok(format!("database: {shown} answers")));
    // An empty database (no tables yet) is fine: the first start migrates it.
    if let Err(e) = store.settings().await {
        let why = setup::chain(&e);
        findings.push(
            if why.contains("no such table") || why.contains("does not exist") {
                Finding::Ok("database: no Twofold tables yet (created on first start)".to_owned())
            } else {
                Finding::Problem(format!("database: cannot read its settings: {why}"))
            },
        );
        return;
    }
    let known = match &key {
        Key::Refused => return,
        Key::Read(key) => Service::master_key_matches(store.as_ref(), key).await,
        Key::Missing => Service::database_has_master_key(store.as_ref())
            .await
            .map(|has| has.then_some(false)),
    };
    findings.push(match (key, known) {
        (_, Err(e)) => Finding::Problem(format!("database: cannot read its settings: {e}")),
        (_, Ok(None)) => Finding::Ok(
            "master key: the database has none yet (the first start records it)".to_owned(),
        ),
        (Key::Read(_), Ok(Some(true))) => {
            Finding::Ok("master key: matches the database".to_owned())
        }
        (Key::Read(_), Ok(Some(false))) => Finding::Problem(
            "master key: does not match this database (use the master.key it was set up with)"
                .to_owned(),
        ),
        (_, Ok(Some(_))) => Finding::Problem(format!(
            "master_key_file: {} is missing, but this database was set up with a master key: \
             copy master.key from where the database was created",
            config.master_key_file.display()
        )),
    });
}

/// Reads the PEM file and counts its certificates.
fn extra_ca(path: &Path) -> Finding {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let n = text.matches("-----BEGIN CERTIFICATE-----").count();
            if n == 0 {
                Finding::Problem(format!(
                    "extra_ca_file: {} holds no PEM certificate",
                    path.display()
                ))
            } else {
                Finding::Ok(format!(
                    "extra_ca_file: {} ({n} certificate(s))",
                    path.display()
                ))
            }
        }
        Err(e) => Finding::Problem(format!(
            "extra_ca_file: cannot read {}: {e}",
            path.display()
        )),
    }
}
