//! The outbox folder: where messages go when no mail server or SMS provider is configured, one
//! file per message, readable only by Twofold's user.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use twofold_core::delivery::DeliveryError;
use twofold_core::i18n::Text;

use crate::hex;

/// The outbox folder.
#[derive(Debug, Clone)]
pub(crate) struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Outbox { dir }
    }

    /// Writes `contents` to `<dir>/<now>-<random>.<extension>` and returns the path. The file is
    /// written under a hidden temporary name and renamed, so whoever watches the folder sees only
    /// whole messages.
    pub(crate) async fn write(
        &self,
        now: i64,
        extension: &'static str,
        contents: Vec<u8>,
    ) -> Result<PathBuf, DeliveryError> {
        let dir = self.dir.clone();
        let result =
            tokio::task::spawn_blocking(move || write_file(&dir, now, extension, &contents)).await;
        match result {
            Ok(Ok(path)) => {
                tracing::info!(path = %path.display(), "message written to the outbox");
                Ok(path)
            }
            Ok(Err(e)) => {
                tracing::warn!(dir = %self.dir.display(), error = %e, "cannot write to the outbox");
                Err(DeliveryError::new(Text::new("err-outbox-write")))
            }
            Err(e) => {
                tracing::warn!(error = %e, "the outbox writer stopped");
                Err(DeliveryError::new(Text::new("err-outbox-write")))
            }
        }
    }
}

fn write_file(dir: &Path, now: i64, extension: &str, contents: &[u8]) -> std::io::Result<PathBuf> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(std::io::Error::other)?;
    let name = format!("{now}-{}.{extension}", hex(&random));
    let temporary = dir.join(format!(".{name}.tmp"));
    let path = dir.join(name);
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&temporary, &path)
    })();
    if written.is_err() {
        // Best effort: a leftover temporary file is hidden and harmless.
        let _ = fs::remove_file(&temporary);
    }
    written.map(|()| path)
}
