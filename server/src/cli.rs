//! The command line (spec §1.3): the run form (default), `user add`, and `backup` (an
//! addition: online backup of a data directory).
//!
//! Exit statuses: 0 clean, 1 runtime or startup failure, 2 usage error. Only GNU `--flag`
//! syntax is accepted (clap's default).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::backup::BackupArgs;
use crate::config::{HISTORY_KEYS, HistoryOverrides, Overrides, StorageArgs};
use crate::server::{RunOptions, run};
use crate::useradd::UserAddArgs;
use crate::util::password::password_source;

#[derive(Debug, Parser)]
#[command(
    name = "verstak-sync-server",
    disable_version_flag = true,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The data directory.
    #[arg(long, default_value = "./server-data")]
    data: PathBuf,
    /// The port to listen on (0 picks an ephemeral port).
    #[arg(long)]
    port: Option<u16>,
    /// The full listen address, host:port.
    #[arg(long)]
    listen: Option<String>,
    /// Overrides public_url.
    #[arg(long)]
    public_url: Option<String>,
    /// Comma-separated IPs or CIDRs; replaces trusted_proxies.
    #[arg(long)]
    trusted_proxies: Option<String>,
    /// Overrides history.compact_min_backlog (sequences, 0..=1000000000).
    #[arg(long, value_name = "N", value_parser = history_value(0))]
    history_compact_min_backlog: Option<i64>,
    /// Overrides history.keep_all_days (0..=36500).
    #[arg(long, value_name = "DAYS", value_parser = history_value(1))]
    history_keep_all_days: Option<i64>,
    /// Overrides history.keep_daily_days (0..=36500, at least keep_all_days).
    #[arg(long, value_name = "DAYS", value_parser = history_value(2))]
    history_keep_daily_days: Option<i64>,
    /// Overrides history.tombstone_days (0..=36500).
    #[arg(long, value_name = "DAYS", value_parser = history_value(3))]
    history_tombstone_days: Option<i64>,
    /// Overrides history.blob_grace_hours (0..=876000).
    #[arg(long, value_name = "HOURS", value_parser = history_value(4))]
    history_blob_grace_hours: Option<i64>,
    /// Creates or updates this admin in config.yml before serving.
    #[arg(long)]
    admin_user: Option<String>,
    #[arg(long)]
    admin_pass: Option<String>,
    #[arg(long)]
    admin_pass_file: Option<PathBuf>,
    #[arg(long)]
    admin_pass_stdin: bool,
    /// Prints the version and exits.
    #[arg(long)]
    version: bool,
    #[command(flatten)]
    storage: StorageArgs,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// User management.
    #[command(subcommand)]
    User(UserCmd),
    /// Online backup of a data directory (safe while the server runs).
    Backup(BackupArgs),
}

#[derive(Debug, Subcommand)]
enum UserCmd {
    /// Creates a confirmed, unblocked user.
    Add(UserAddArgs),
}

/// The value parser of the `i`-th `--history-*` flag: a usage error (exit 2) names the range.
fn history_value(i: usize) -> impl Fn(&str) -> Result<i64, String> + Clone {
    move |v: &str| HISTORY_KEYS[i].parse(v)
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("verstak-sync-server: {msg}");
    ExitCode::from(2)
}

/// Entry point for `main`.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    init_tracing();
    // §1.2: files the process creates are at most 0640 and directories 0750.
    // SAFETY: umask only changes this process's file-creation mask; it cannot fail.
    unsafe {
        libc::umask(0o027);
    }
    match cli.cmd {
        Some(Cmd::User(UserCmd::Add(args))) => return crate::useradd::run(args),
        Some(Cmd::Backup(args)) => return crate::backup::run(args),
        None => {}
    }
    let a = cli.run;
    if a.version {
        println!("verstak-sync-server {} ({})", crate::VERSION, crate::COMMIT);
        return ExitCode::SUCCESS;
    }
    let has_source = a.admin_pass.is_some() || a.admin_pass_file.is_some() || a.admin_pass_stdin;
    let admin = match (&a.admin_user, has_source) {
        (None, false) => None,
        (None, true) => return usage("admin password flags require --admin-user"),
        (Some(_), false) => {
            return usage(
                "--admin-user requires one of --admin-pass, --admin-pass-file, --admin-pass-stdin",
            );
        }
        (Some(user), true) => {
            match password_source(
                a.admin_pass.as_deref(),
                a.admin_pass_file.as_ref(),
                a.admin_pass_stdin,
                true,
            ) {
                Err(m) => return usage(&m),
                Ok(Some(p)) if !p.is_empty() && p.len() <= 72 && !user.trim().is_empty() => {
                    Some((user.clone(), p))
                }
                Ok(_) => {
                    return usage(
                        "the admin name and password must be non-empty and the password at most 72 bytes",
                    );
                }
            }
        }
    };
    let opts = RunOptions {
        data: a.data,
        overrides: Overrides {
            port: a.port,
            listen: a.listen,
            public_url: a.public_url,
            trusted_proxies: a.trusted_proxies,
            history: HistoryOverrides {
                compact_min_backlog: a.history_compact_min_backlog,
                keep_all_days: a.history_keep_all_days,
                keep_daily_days: a.history_keep_daily_days,
                tombstone_days: a.history_tombstone_days,
                blob_grace_hours: a.history_blob_grace_hours,
            },
            storage: a.storage,
        },
        admin,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("verstak-sync-server: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(run(opts)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("startup or runtime failure: {e:#}");
            eprintln!("verstak-sync-server: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}
