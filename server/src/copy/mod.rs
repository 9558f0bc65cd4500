//! `verstak-sync-server copy-storage` (issue 16): copies a SQLite + blob folder deployment
//! into PostgreSQL (and, with `--to-blob-store`, its blobs into an S3 bucket), then checks
//! that the copy is complete; `--check` runs only the check. Devices keep their tokens, so
//! nothing has to be paired again.
//!
//! Order, so that every failure leaves a state a re-run handles:
//! 1. The target database must hold no row in any table the copy writes (never a merge into
//!    a live database).
//! 2. The blobs ([`blobs`]): uploaded into the target store, each verified against its
//!    SHA-256; blobs already there with the right size are skipped, so a re-run after an
//!    interruption continues.
//! 3. The database ([`tables`]) in ONE PostgreSQL transaction (`store::write_once`, which
//!    also creates the schema): a failure leaves the target database empty.
//! 4. The check ([`check`] and [`blobs::check`]), also run alone by `--check`.
//!
//! The source is `<data>/server.db` (brought to the current schema first if an older server
//! wrote it, as the server does when it starts; then read in one read transaction) and the
//! blob store the deployment is configured with (`<data>/blobs` unless `config.yml` or
//! `VERSTAK_BLOB_STORE` names a bucket). The server must be stopped: writes made during the
//! copy would not be in it, and the check, which reads the source again, reports them.

mod blobs;
mod check;
mod tables;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use crate::blobstore::BlobStore;
use crate::config::{BlobStoreCfg, StorageArgs, redact_url};
use crate::store::sql::{Conn, PgConn, params};
use crate::store::{Location, StoreError, migrate, open_connection, write_once};

#[derive(Debug, Args)]
pub(crate) struct CopyArgs {
    /// The data directory of the deployment to copy (its server.db and blob folder).
    /// Stop the server first.
    #[arg(long, default_value = "./server-data")]
    pub data: PathBuf,
    /// The target database, postgres://…; it must be empty (a new database).
    #[arg(long, value_name = "URL")]
    pub to_database_url: String,
    /// The target blob store, s3://BUCKET[/prefix] (keys from AWS_ACCESS_KEY_ID and
    /// AWS_SECRET_ACCESS_KEY or config.yml). Without it the blobs stay where they are.
    #[arg(long, value_name = "URL")]
    pub to_blob_store: Option<String>,
    /// The target's S3 endpoint, e.g. http://127.0.0.1:3900.
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// The target's S3 region.
    #[arg(long, value_name = "NAME")]
    pub s3_region: Option<String>,
    /// Only compare the source with the target and report; changes nothing.
    #[arg(long)]
    pub check: bool,
}

const PREFIX: &str = "verstak-sync-server copy-storage";

pub(crate) fn run(a: CopyArgs) -> ExitCode {
    match run_inner(&a) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("{PREFIX}: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Where from and where to.
struct Plan {
    data: PathBuf,
    url: String,
    src_blobs: BlobStoreCfg,
    dst_blobs: BlobStoreCfg,
}

fn resolve(a: &CopyArgs) -> Result<Plan> {
    let data = std::path::absolute(&a.data).context("resolving the data directory")?;
    if !data.join("server.db").is_file() {
        bail!("{} has no server.db: nothing to copy", data.display());
    }
    // The source blob store as the server reads it without flags; the target through the
    // same resolution with the target flags (the database URL is checked there too).
    let source = crate::config::resolve_storage(&data, &StorageArgs::default())?;
    let target = crate::config::resolve_storage(
        &data,
        &StorageArgs {
            blob_store: a.to_blob_store.clone(),
            s3_endpoint: a.s3_endpoint.clone(),
            s3_region: a.s3_region.clone(),
            database_url: Some(a.to_database_url.clone()),
        },
    )
    .map_err(|e| {
        // The resolution names the server's flags; here they are the `--to-` ones.
        let m = format!("{e:#}");
        let renamed = [
            ("--database-url:", "--to-database-url:"),
            ("--blob-store:", "--to-blob-store:"),
        ]
        .iter()
        .find_map(|(from, to)| m.strip_prefix(from).map(|rest| format!("{to}{rest}")));
        anyhow!(renamed.unwrap_or(m))
    })?;
    let dst_blobs = if a.to_blob_store.is_some() {
        target.blob_store
    } else {
        source.blob_store.clone()
    };
    Ok(Plan {
        data,
        url: target.database_url.expect("given as a flag"),
        src_blobs: source.blob_store,
        dst_blobs,
    })
}

fn describe(cfg: &BlobStoreCfg, data: &Path) -> String {
    match cfg {
        BlobStoreCfg::Local => format!("folder {}", data.join("blobs").display()),
        BlobStoreCfg::S3(c) => c.url(),
    }
}

fn run_inner(a: &CopyArgs) -> Result<bool> {
    let plan = resolve(a)?;
    let same_store = plan.src_blobs == plan.dst_blobs;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let (src_store, dst_store) = rt.block_on(async {
        let src = BlobStore::open(&plan.src_blobs, &plan.data)?;
        let dst = BlobStore::open(&plan.dst_blobs, &plan.data)?;
        if !a.check && !same_store {
            dst.check().await?;
        }
        anyhow::Ok((src, dst))
    })?;
    eprintln!(
        "source: {} and {}",
        plan.data.join("server.db").display(),
        describe(&plan.src_blobs, &plan.data)
    );
    eprintln!(
        "target: {} and {}",
        redact_url(&plan.url),
        describe(&plan.dst_blobs, &plan.data)
    );
    let src = open_source(&plan.data, a.check)?;
    let blob_list = blob_list(&src)?;

    if !a.check {
        let started = Instant::now();
        let dst = connect(&plan.url)?;
        if has_schema(&dst)? {
            refuse_non_empty(&src, &dst)?;
        }
        drop(dst);

        eprintln!("copying {} blobs…", blob_list.len());
        let t = Instant::now();
        let b = rt.block_on(blobs::copy(&src_store, &dst_store, same_store, &blob_list));
        if same_store {
            eprintln!(
                "blobs: {} verified in place ({:.1} s)",
                b.verified,
                t.elapsed().as_secs_f64()
            );
        } else {
            eprintln!(
                "blobs: {} copied ({} bytes), {} already in the target ({:.1} s)",
                b.copied,
                b.bytes,
                b.present,
                t.elapsed().as_secs_f64()
            );
        }

        if b.missing > 0 && b.missing == blob_list.len() {
            // Not one blob where the deployment keeps them: most likely the wrong place (for
            // example VERSTAK_BLOB_STORE already naming the new bucket), not a lost folder.
            bail!(
                "none of the {} blobs is in the source store {}: is it the deployment's? \
                 Nothing was written to the target database.",
                blob_list.len(),
                describe(&plan.src_blobs, &plan.data)
            );
        }
        eprintln!("copying the database…");
        let t = Instant::now();
        let copied = write_once(&Location::Pg(plan.url.clone()), |dst| {
            // One copy at a time, and never into a database that got rows meanwhile.
            dst.query_row(
                "SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtextextended('copy-storage', 0))) AS l",
                params![],
                |_| Ok(()),
            )?;
            let rows = tables::non_empty(&src, dst)?;
            if !rows.is_empty() {
                return Err(StoreError::Refused(non_empty_message(&rows)));
            }
            let snap = src.snapshot()?;
            let copied = tables::copy_all(&snap, dst)?;
            snap.finish()?;
            Ok(copied)
        })
        .map_err(|e| {
            anyhow!(
                "{e}\nNothing was written to the target database (the copy runs in one \
                 transaction). Fix the cause and run the same command again; blobs already \
                 in the target store are skipped."
            )
        })?;
        eprintln!(
            "database: {} rows in {} tables ({:.1} s)",
            copied.rows,
            copied.tables,
            t.elapsed().as_secs_f64()
        );
        if !b.problems.is_empty() {
            println!(
                "{} blobs could not be copied (their rows were copied; the check below \
                 reports them missing):",
                b.problems.len()
            );
            for (sha, why) in &b.problems {
                println!("  {sha}: {why}");
            }
        }
        eprintln!(
            "copied in {:.1} s; checking…",
            started.elapsed().as_secs_f64()
        );
    }

    let dst = connect(&plan.url)?;
    if !has_schema(&dst)? {
        println!("incomplete: the target database has no verstak-sync tables (nothing copied)");
        return Ok(false);
    }
    let db = check::compare(&src, &dst)?;
    let missing = rt.block_on(blobs::check(&dst_store, &blob_list));
    print_report(
        &db,
        blob_list.len(),
        &missing,
        &describe(&plan.dst_blobs, &plan.data),
    );
    Ok(db.problems.is_empty() && missing.is_empty())
}

fn print_report(db: &check::DbReport, blobs: usize, missing: &[(String, String)], store: &str) {
    println!(
        "checked: {} tables, {} rows, {} scopes, {} ops, {} devices, {blobs} blobs in {store}",
        db.tables, db.rows, db.scopes, db.ops, db.devices
    );
    for p in &db.problems {
        println!("  {p}");
    }
    for (sha, why) in missing {
        println!("  blob {sha}: {why}");
    }
    if db.problems.is_empty() && missing.is_empty() {
        println!("complete: the target holds everything the source holds");
    } else {
        println!(
            "incomplete: {} database and {} blob problems",
            db.problems.len(),
            missing.len()
        );
    }
}

/// The source database at the current schema, read-only.
fn open_source(data: &Path, check_only: bool) -> Result<Conn> {
    let path = data.join("server.db");
    let raw = rusqlite::Connection::open_with_flags(
        &path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let version: i64 = raw.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    drop(raw);
    let current = crate::store::schema::SCHEMA_VERSION;
    if version < current {
        if check_only {
            bail!(
                "{} is at schema {version} (this server writes {current}); run copy-storage \
                 without --check, which upgrades it first",
                path.display()
            );
        }
        // What the server does when it starts on this directory.
        let mut c = open_connection(&path, false)?;
        migrate::migrate(&mut c, &path)?;
        eprintln!(
            "upgraded {} from schema {version} to {current}, as the server does when it starts",
            path.display()
        );
    }
    let raw = rusqlite::Connection::open_with_flags(
        &path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    raw.busy_timeout(std::time::Duration::from_secs(5))?;
    let version: i64 = raw.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version != current {
        bail!(
            "{} is at schema {version}; this server reads {current} (use the server version \
             that wrote it)",
            path.display()
        );
    }
    Ok(Conn::Sqlite(raw))
}

fn blob_list(src: &Conn) -> Result<Vec<(String, u64)>> {
    let mut st = src.prepare("SELECT sha256, size FROM server_blobs ORDER BY sha256")?;
    let rows = st.query_map(params![], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A connection to the target that changes nothing (no schema is created).
fn connect(url: &str) -> Result<Conn> {
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e| anyhow!("invalid database URL: {e}"))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(std::time::Duration::from_secs(10));
    }
    let client = config
        .connect(postgres::NoTls)
        .map_err(|e| anyhow!("connecting to {}: {e}", redact_url(url)))?;
    Ok(Conn::Pg(PgConn::new(client)))
}

fn has_schema(dst: &Conn) -> Result<bool> {
    Ok(dst.query_row(
        "SELECT to_regclass('server_schema') IS NOT NULL",
        params![],
        |r| r.get(0),
    )?)
}

fn refuse_non_empty(src: &Conn, dst: &Conn) -> Result<()> {
    let rows = tables::non_empty(src, dst)?;
    if rows.is_empty() {
        Ok(())
    } else {
        Err(anyhow!(non_empty_message(&rows)))
    }
}

fn non_empty_message(rows: &[(String, i64)]) -> String {
    let list: Vec<String> = rows.iter().map(|(t, n)| format!("{t}: {n}")).collect();
    format!(
        "the target database is not empty ({}); copy-storage never merges into a database \
         in use: create a new empty database (createdb) and name it in --to-database-url, \
         or run with --check to compare",
        list.join(", ")
    )
}
