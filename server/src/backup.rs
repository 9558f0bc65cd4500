//! `verstak-sync-server backup --data DIR --out DIR`: an online backup that is safe while the
//! server runs (an addition to §1.3).
//!
//! Order matters: first SQLite's online backup API copies a consistent snapshot of
//! `server.db` (pages are re-copied if a writer changes them mid-way), then `config.yml`, then
//! every blob file. Blobs are immutable and only removed after having no ref for the history
//! grace period (`history.blob_grace_hours`, longer than a backup runs), so every blob the
//! snapshot refers to still exists when the copy runs; blobs added later are harmless extras. In-flight
//! uploads (`.upload-*`) and probes are skipped. Restoring is copying the directory back.
//!
//! With an S3 blob store (`--blob-store s3://…`, issue 16) the blobs are not in the data
//! directory: only the database and `config.yml` are copied, and the bucket is backed up with
//! the store's own tools (server/README.md).

use anyhow::{Context, Result, bail};
use clap::Args;
use rusqlite::{Connection, OpenFlags};
use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    /// The data directory to back up.
    #[arg(long, default_value = "./server-data")]
    pub data: PathBuf,
    /// The backup directory; created, and must not already hold a server.db.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub storage: crate::config::StorageArgs,
}

pub(crate) fn run(a: BackupArgs) -> ExitCode {
    let storage = match crate::config::resolve_storage(&a.data, &a.storage) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("verstak-sync-server: backup failed: {e:#}");
            return ExitCode::from(1);
        }
    };
    if storage.database_url.is_some() {
        eprintln!(
            "verstak-sync-server: backup copies the SQLite database; this server uses PostgreSQL: \
             back it up with pg_dump (server/README.md, \"Backups with PostgreSQL and S3\")"
        );
        return ExitCode::from(1);
    }
    let bucket = match &storage.blob_store {
        crate::config::BlobStoreCfg::S3(c) => Some(c.url()),
        crate::config::BlobStoreCfg::Local => None,
    };
    match backup(&a.data, &a.out, bucket.is_none()) {
        Ok((pages, _)) if bucket.is_some() => {
            println!(
                "backup written to {} ({pages} database pages; the blobs are in {}: back up \
                 the bucket with the store's tools)",
                a.out.display(),
                bucket.unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Ok((pages, blobs)) => {
            println!(
                "backup written to {} ({pages} database pages, {blobs} blob files)",
                a.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("verstak-sync-server: backup failed: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn mkdir(p: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o750)
        .create(p)
        .with_context(|| format!("creating {}", p.display()))
}

/// Returns `(database pages, blob files copied)`; `with_blobs` is false when the blobs are
/// not in the data directory.
pub(crate) fn backup(data: &Path, out: &Path, with_blobs: bool) -> Result<(i32, usize)> {
    let db = data.join("server.db");
    if !db.is_file() {
        bail!("{} has no server.db", data.display());
    }
    mkdir(out)?;
    let dest_db = out.join("server.db");
    if dest_db.exists() {
        bail!("{} already exists", dest_db.display());
    }
    let src = Connection::open_with_flags(
        &db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    src.busy_timeout(Duration::from_secs(5))?;
    let mut dst = Connection::open(&dest_db)?;
    let pages = {
        let b = rusqlite::backup::Backup::new(&src, &mut dst)?;
        b.run_to_completion(256, Duration::from_millis(5), None)?;
        b.progress().pagecount
    };
    dst.execute_batch("PRAGMA journal_mode = DELETE;")?;
    let check: String = dst.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check != "ok" {
        bail!("backup copy failed its integrity check: {check}");
    }
    drop(dst);
    fs::File::open(&dest_db)?.sync_all()?;
    let cfg = data.join("config.yml");
    if cfg.is_file() {
        fs::copy(&cfg, out.join("config.yml")).context("copying config.yml")?;
    }
    let blobs = if with_blobs {
        copy_blobs(&data.join("blobs"), &out.join("blobs"))?
    } else {
        0
    };
    fs::File::open(out)?.sync_all()?;
    Ok((pages, blobs))
}

/// Copies `ab/cd/<sha256>` files that are not in the destination yet.
fn copy_blobs(src: &Path, dst: &Path) -> Result<usize> {
    mkdir(dst)?;
    let mut n = 0;
    let Ok(level1) = fs::read_dir(src) else {
        return Ok(0);
    };
    for a in level1.flatten() {
        if !a.file_type()?.is_dir() || a.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        for b in fs::read_dir(a.path())?.flatten() {
            if !b.file_type()?.is_dir() {
                continue;
            }
            let to_dir = dst.join(a.file_name()).join(b.file_name());
            for f in fs::read_dir(b.path())?.flatten() {
                let name = f.file_name();
                if !f.file_type()?.is_file()
                    || !verstak_sync_proto::blob::is_sha256_hex(&name.to_string_lossy())
                {
                    continue;
                }
                let to = to_dir.join(&name);
                if to.exists() {
                    continue;
                }
                mkdir(&to_dir)?;
                let tmp = to_dir.join(format!(".copy-{}", name.to_string_lossy()));
                match fs::copy(f.path(), &tmp) {
                    Ok(_) => {}
                    // Removed by blob garbage collection since the listing: it had no ref for
                    // the whole grace period, so the snapshot does not refer to it.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        let _ = fs::remove_file(&tmp);
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
                fs::File::open(&tmp)?.sync_all()?;
                fs::rename(&tmp, &to)?;
                n += 1;
            }
        }
    }
    Ok(n)
}
