//! `twofold backup FILE`: a consistent copy of the SQLite database, taken while servers run.

use std::path::Path;

use crate::config::Config;
use crate::exit::Failure;

/// Copies the database to `dest` (never over an existing file) and says what the copy does not
/// hold: the master key.
pub(crate) async fn run(config: &Config, dest: &Path) -> Result<(), Failure> {
    let Some(db) = config.sqlite_file() else {
        return Err(Failure::value(
            "the database is PostgreSQL: back it up with pg_dump (and keep the master key apart \
             from the dump)",
        ));
    };
    if !db.exists() {
        return Err(Failure::value(format_args!(
            "there is no database at {} to back up",
            db.display()
        )));
    }
    if dest.exists() {
        return Err(Failure::value(format_args!(
            "{} exists: a backup never overwrites a file",
            dest.display()
        )));
    }
    let bytes = twofold_store::SqliteStore::backup_to(&config.database_url, dest)
        .await
        .map_err(|e| Failure::value(format_args!("cannot back up to {}: {e}", dest.display())))?;
    println!(
        "Backup written to {} ({bytes} bytes): a consistent copy of {} as it was when the backup \
         began.",
        dest.display(),
        db.display()
    );
    println!(
        "Secrets inside stay sealed. The master key ({}) is not in the backup, and without it the \
         backup cannot be used: keep a copy of the key, apart from the backup.",
        config.master_key_file.display()
    );
    Ok(())
}
