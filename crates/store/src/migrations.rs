//! The migrations, embedded in the binary by `build.rs` (no files are read at run time), and the
//! migrator that applies them. Each migration's version and description come from its file name
//! as sqlx reads them (`<VERSION>_<DESCRIPTION>.sql`), and its checksum from its contents, so a
//! database migrated by any earlier build of Twofold recognises every migration it has applied.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// A list of embedded migrations: (file name, SQL).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Embedded(pub(crate) &'static [(&'static str, &'static str)]);

impl Embedded {
    /// The migrator of these migrations, with sqlx's defaults (locking, one transaction each).
    pub(crate) async fn migrator(self) -> Result<Migrator, sqlx::migrate::MigrateError> {
        Migrator::new(self).await
    }

    fn migrations(self) -> Result<Vec<Migration>, BoxDynError> {
        self.0
            .iter()
            .map(|(file, sql)| {
                let (version, rest) = file
                    .split_once('_')
                    .ok_or_else(|| format!("migration {file}: no VERSION_ prefix"))?;
                let version: i64 = version
                    .parse()
                    .map_err(|_| format!("migration {file}: the version is not a number"))?;
                let kind = MigrationType::from_filename(rest);
                let description = rest.trim_end_matches(kind.suffix()).replace('_', " ");
                Ok(Migration::new(
                    version,
                    Cow::Owned(description),
                    kind,
                    Cow::Borrowed(*sql),
                    sql.starts_with("-- no-transaction"),
                ))
            })
            .collect()
    }
}

impl MigrationSource<'static> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
        Box::pin(async move { self.migrations() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What sqlx's own directory reader makes of the folder, the embedded list makes too: same
    /// versions, descriptions, types and checksums (a checksum that differed would make every
    /// existing database refuse to start).
    #[tokio::test]
    async fn the_embedded_migrations_are_the_folder_as_sqlx_reads_it() {
        for (embedded, dir) in [(SQLITE, "sqlite"), (POSTGRES, "postgres")] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(dir);
            let from_dir = Migrator::new(path).await.unwrap_or_else(|e| panic!("{e}"));
            let ours = Embedded(embedded)
                .migrator()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let a: Vec<_> = from_dir
                .iter()
                .map(|m| {
                    (
                        m.version,
                        m.description.clone(),
                        m.checksum.clone(),
                        m.no_tx,
                    )
                })
                .collect();
            let b: Vec<_> = ours
                .iter()
                .map(|m| {
                    (
                        m.version,
                        m.description.clone(),
                        m.checksum.clone(),
                        m.no_tx,
                    )
                })
                .collect();
            assert!(!a.is_empty(), "{dir}: no migrations");
            assert_eq!(a, b, "{dir}");
        }
    }
}
