//! `twofold master-key rotate [--drop-old]`: a new master key, every sealed value resealed under
//! it, and the keys no value uses any more dropped from the key file.

use std::io::Write as _;

use clap::{Args, Subcommand};
use twofold_core::crypto::{KeyId, MasterKey, hex};
use zeroize::Zeroizing;

use crate::config::Config;
use crate::exit::Failure;
use crate::setup;

#[derive(Debug, Subcommand)]
pub(crate) enum MasterKeyCommand {
    /// Put a new key first in the master key file and reseal every stored secret under it,
    /// while servers run. A rotation that was stopped is finished first (no new key).
    Rotate(RotateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RotateArgs {
    /// Remove from the key file every key no stored value uses any more: after finishing a
    /// rotation left unfinished, or (when every value is under the first key already) without
    /// adding a key; with a one-key file, after a rotation.
    #[arg(long)]
    drop_old: bool,
    /// Values resealed per transaction.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch: u32,
}

/// How long a rotation waits after writing the new key file: servers read it within
/// half a second, so values sealed from then on are sealed under the new key everywhere.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(1);

pub(crate) async fn run(config: &Config, command: MasterKeyCommand) -> Result<(), Failure> {
    match command {
        MasterKeyCommand::Rotate(args) => rotate(config, &args).await,
    }
}

/// The ids of the keys of a key file, in order.
fn ids_of(path: &std::path::Path, keys: &[Zeroizing<[u8; 32]>]) -> Result<Vec<KeyId>, Failure> {
    MasterKey::from_keys(keys)
        .map(|k| k.ids())
        .map_err(|e| Failure::value(format_args!("{}: {e}", path.display())))
}

/// Reads the key file again and checks that its sealing key is still `sealing`: another rotation
/// (on another host sharing the file) must not be raced.
fn still_sealing(
    path: &std::path::Path,
    sealing: &KeyId,
) -> Result<Vec<Zeroizing<[u8; 32]>>, Failure> {
    let keys = setup::read_keys(path)?.unwrap_or_default();
    if ids_of(path, &keys)?.first() != Some(sealing) {
        return Err(Failure::value(format_args!(
            "{} changed while this rotation ran (another rotation?): stopped; run `twofold \
             master-key rotate` again once the other one is done",
            path.display()
        )));
    }
    Ok(keys)
}

async fn rotate(config: &Config, args: &RotateArgs) -> Result<(), Failure> {
    let path = &config.master_key_file;
    // One rotation at a time on this host.
    let _lock = setup::lock_key_file(path)?;
    let Some(mut keys) = setup::read_keys(path)? else {
        return Err(Failure::value(format_args!(
            "there is no master key file at {}: nothing to rotate",
            path.display()
        )));
    };
    let service = setup::service(config).await?;
    let ring = service.master_key().clone();
    let usage = service.sealed_key_usage().await.map_err(Failure::from)?;
    let sealing = ring.ids()[0];
    let behind: u64 = usage
        .iter()
        .filter(|(id, _)| **id != Some(sealing))
        .map(|(_, n)| n)
        .sum();
    let mut out = std::io::stdout().lock();
    if keys.len() > 1 && behind > 0 {
        let _ = writeln!(
            out,
            "A rotation was left unfinished: {behind} value(s) are not sealed under the first \
             key ({}) yet. Finishing it (no new key).",
            hex(&sealing)
        );
    } else if args.drop_old && keys.len() > 1 {
        let _ = writeln!(
            out,
            "Every stored secret is sealed under the first key ({}) already: no new key, only \
             the old ones dropped.",
            hex(&sealing)
        );
    } else {
        if keys.len() >= twofold_core::crypto::MAX_KEYS {
            return Err(Failure::value(format_args!(
                "the master key file holds {} keys already: run `twofold master-key rotate \
                 --drop-old` first",
                keys.len()
            )));
        }
        keys.insert(0, setup::new_key());
        setup::write_keys(path, &keys)?;
        ring.replace(&keys, false)
            .map_err(|e| Failure::value(format_args!("{}: {e}", path.display())))?;
        let new = ring.ids()[0];
        let _ = writeln!(
            out,
            "New master key {} written first in {} (the old keys stay after it: every one \
             still opens).",
            hex(&new),
            path.display()
        );
        let _ = out.flush();
        // Servers reading this file pick the new key up within half a second.
        tokio::time::sleep(SETTLE).await;
        still_sealing(path, &new)?;
    }
    let _ = out.flush();
    drop(out);
    let mut progress = |kind: twofold_core::store::SealedKind, n: u64| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "resealed {n} {}", kind.as_str());
        let _ = out.flush();
    };
    let report = service
        .reseal_all(args.batch, &mut progress)
        .await
        .map_err(Failure::from)?;
    let total: u64 = report.resealed.values().sum();
    if report.unreadable > 0 {
        return Err(Failure::value(format_args!(
            "{} stored value(s) open under no key of {}: they were left as they are, the \
             rotation is not finished and no key was dropped",
            report.unreadable,
            path.display()
        )));
    }
    service.record_master_key().await.map_err(Failure::from)?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "Every stored secret is sealed under {} ({total} resealed now, {} already were).",
        hex(&ring.ids()[0]),
        report.current
    );
    if !args.drop_old {
        let old = ring.ids().len() - 1;
        if old > 0 {
            let _ = writeln!(
                out,
                "The file still holds {old} old key(s). Once every server reads this file \
                 (copy it to every host that has its own), remove them with `twofold \
                 master-key rotate --drop-old` (which adds no key then); keep them while \
                 backups made before now may be restored: a backup needs the key it was \
                 sealed with."
            );
        }
        return Ok(());
    }
    drop(out);
    drop_unused(&service, path).await
}

/// Removes from the key file every key but the first that no stored value names.
async fn drop_unused(
    service: &twofold_core::Service,
    path: &std::path::Path,
) -> Result<(), Failure> {
    let ring = service.master_key();
    let sealing = ring.ids()[0];
    let usage = service.sealed_key_usage().await.map_err(Failure::from)?;
    if usage.contains_key(&None) {
        return Err(Failure::value(
            "some stored values do not name their key: run `twofold master-key rotate` first",
        ));
    }
    // The file as it is now, its keys judged by id.
    let mut keys = still_sealing(path, &sealing)?;
    let ids = ids_of(path, &keys)?;
    let keep: Vec<bool> = ids
        .iter()
        .map(|id| *id == sealing || usage.contains_key(&Some(*id)))
        .collect();
    let dropped: Vec<String> = ids
        .iter()
        .zip(&keep)
        .filter(|(_, k)| !**k)
        .map(|(id, _)| hex(id))
        .collect();
    let mut out = std::io::stdout().lock();
    if dropped.is_empty() {
        let _ = writeln!(out, "No old key to drop.");
        return Ok(());
    }
    let mut flags = keep.iter();
    keys.retain(|_| flags.next().copied().unwrap_or(true));
    setup::write_keys(path, &keys)?;
    ring.replace(&keys, false)
        .map_err(|e| Failure::value(format_args!("{}: {e}", path.display())))?;
    let _ = writeln!(
        out,
        "Dropped {} old key(s) no value uses: {}. The master key file now holds {} key(s).",
        dropped.len(),
        dropped.join(", "),
        keys.len()
    );
    let kept = keep.iter().skip(1).filter(|k| **k).count();
    if kept > 0 {
        let _ = writeln!(
            out,
            "{kept} old key(s) are still used by some value and were kept: run `twofold \
             master-key rotate` to reseal them."
        );
    }
    Ok(())
}
