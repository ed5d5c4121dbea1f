//! `twofold serve` and `twofold migrate`.

use std::io::Write;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use twofold_web::{AppState, Inner};

use crate::config::Config;
use crate::exit::Failure;
use crate::listener::{Limits, Signals};
use crate::setup;

/// Applies migrations and exits.
pub(crate) async fn migrate(config: &Config) -> Result<(), Failure> {
    setup::open_store(config).await?;
    println!("migrations applied");
    Ok(())
}

/// How often the metrics recorder folds histogram samples into their buckets.
const METRICS_UPKEEP: std::time::Duration = std::time::Duration::from_secs(1);

/// Runs the server until SIGTERM or Ctrl-C; in-flight requests get a few seconds to finish
/// (`listener` has the limits and the deadline).
pub(crate) async fn serve(config: &Config) -> Result<(), Failure> {
    let metrics = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("twofold_http_request_duration_seconds".into()),
            &[
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ],
        )
        .map_err(|e| Failure::value(format_args!("metrics: {e}")))?
        .install_recorder()
        .map_err(|e| Failure::value(format_args!("metrics: {e}")))?;
    // The recorder keeps every histogram sample until upkeep folds it into the buckets; with
    // `install_recorder` that is ours to run. Without it the samples of every request piled
    // up between two scrapes of /metrics (memory grew with the number of requests served).
    let upkeep = metrics.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(METRICS_UPKEEP);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    // The address first: a port in use stops the start before anything is created.
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| Failure::value(format_args!("cannot listen on {}: {e}", config.listen)))?;
    let radius = match config.radius_listen {
        Some(at) => Some(tokio::net::UdpSocket::bind(at).await.map_err(|e| {
            Failure::value(format_args!("cannot listen for RADIUS on udp {at}: {e}"))
        })?),
        None => None,
    };
    let service = setup::service(config).await?;
    watch_key_file(config.master_key_file.clone(), service.master_key().clone());
    // Held while serving: marks this process as one serving this SQLite file.
    let _serving = sqlite_neighbour(config);
    let setup_token = service
        .setup_token_if_no_owner()
        .await
        .map_err(Failure::from)?;

    let addr = listener
        .local_addr()
        .map_err(|e| Failure::value(format_args!("cannot read the listening address: {e}")))?;

    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    // WebAuthn's origin and relying party ID come from where the portal is served.
    service.set_public_url(&public_url);
    let radius_addr = match radius {
        Some(socket) => {
            let at = socket
                .local_addr()
                .map_err(|e| Failure::value(format_args!("cannot read the RADIUS address: {e}")))?;
            tokio::spawn(twofold_radius::serve(
                socket,
                std::sync::Arc::clone(&service),
            ));
            Some(at)
        }
        None => None,
    };
    let state = AppState::new(Inner {
        service,
        metrics: Some(metrics),
        trusted_proxies: config.trusted_proxies.clone(),
        secure_cookies: config
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://")),
        public_url: public_url.clone(),
        cookie_domain: config.cookie_domain.clone(),
    });
    let app = twofold_web::app(state);
    let limits = Limits::from_env();
    // The signal handlers exist before the address is printed: whoever reads that line may
    // send SIGTERM at once, and it must stop the server gracefully, not kill it.
    let mut signals = Signals::install()?;

    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "twofold listening on http://{addr}");
    if let Some(at) = radius_addr {
        let _ = writeln!(out, "RADIUS listening on udp {at}");
    }
    if let Some(token) = setup_token {
        let _ = writeln!(
            out,
            "No owner account yet. Create it at {public_url}/setup/{token} (valid 24 hours, once),\n\
             or with: twofold user add NAME --role owner --password-stdin"
        );
    }
    let _ = out.flush();
    drop(out);
    tracing::info!(%addr, database = %redact_url(&config.database_url), "serving");

    crate::listener::serve(listener, app, limits, &config.trusted_proxies, &mut signals).await;
    tracing::info!("stopped");
    Ok(())
}

/// Several `serve` processes may share one SQLite file (SQLite lets one write at a time; every
/// one-time thing is still consumed once, by a conditional UPDATE). That works, but it should
/// not go unnoticed: the first process holds a lock on `<database>.serve` with its PID in it,
/// and a later one names that PID in a note on stderr. Returns the locked file to hold, if this
/// process is the first.
fn sqlite_neighbour(config: &Config) -> Option<std::fs::File> {
    use std::io::{Read, Seek};
    use std::os::unix::fs::OpenOptionsExt;
    let path = config.sqlite_file()?.display();
    let marker = format!("{path}.serve");
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&marker)
        .ok()?;
    match file.try_lock() {
        Ok(()) => {
            let _ = file.set_len(0);
            let _ = file.rewind();
            let _ = write!(file, "{}", std::process::id());
            Some(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let pid = pid.trim();
            let _ = writeln!(
                std::io::stderr(),
                "note: another twofold serve (pid {}) uses this SQLite database ({path}) too. That \
                 works: SQLite lets one process write at a time and every one-time code is still \
                 used once. For several nodes on several machines, use PostgreSQL.",
                if pid.is_empty() { "unknown" } else { pid }
            );
            None
        }
        Err(_) => None,
    }
}

/// A database URL without its password, for logs.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// How often a server looks whether its master key file changed.
const KEY_FILE_POLL: std::time::Duration = std::time::Duration::from_millis(500);

/// Reads the master key file again whenever it changes (a rotation on this or another node), so
/// the new key seals here too without a restart. A file that cannot be read, or whose keys share
/// none with the running ring, is reported and the running ring kept.
fn watch_key_file(path: std::path::PathBuf, key: std::sync::Arc<twofold_core::crypto::MasterKey>) {
    use std::os::unix::fs::MetadataExt as _;
    let stamp = |p: &std::path::Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| (m.ino(), m.len(), m.mtime(), m.mtime_nsec()))
    };
    tokio::spawn(async move {
        let mut seen = stamp(&path);
        let mut tick = tokio::time::interval(KEY_FILE_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = stamp(&path);
            if now == seen {
                continue;
            }
            seen = now;
            match key.reload() {
                Ok(true) => {
                    let ids = key.ids();
                    tracing::info!(
                        keys = ids.len(),
                        sealing = %twofold_core::crypto::hex(&ids[0]),
                        "read the master key file again"
                    );
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(error = %e, "the master key file changed but was not taken")
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("sqlite://./x.db"), "sqlite://./x.db");
    }
}
