//! The command line: `verstak-sync-host --vault DIR [--component PATH] [--manifest PATH] <command>`.

use crate::limits::Limits;
use crate::runtime::Runtime;
use crate::session::{Failure, Session};
use crate::vault::VaultDirs;
use crate::{dto, history, live, report, trash};
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "verstak-sync-host",
    version,
    about = "Runs the verstak.sync engine component for one vault"
)]
pub struct Cli {
    /// The vault directory.
    #[arg(long, value_name = "DIR")]
    pub vault: PathBuf,
    /// The engine component (.wasm). Default: $VERSTAK_SYNC_COMPONENT, or the workspace build.
    #[arg(long, value_name = "PATH")]
    pub component: Option<PathBuf>,
    /// The plugin manifest. Default: $VERSTAK_SYNC_MANIFEST, or the workspace's manifest.json.
    #[arg(long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,
    /// Memory cap of the component, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub memory_mib: usize,
    /// Time limit of one call into the component, in seconds; each network request of the
    /// call ends within what is left of it (and within 5 minutes plus upload time).
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub call_timeout: u64,
    #[command(subcommand)]
    pub command: Command,
}

/// The credentials of `configure` and `test-connection`.
#[derive(Debug, Args)]
pub struct Credentials {
    /// The sync server, for example http://127.0.0.1:47732.
    #[arg(long, value_name = "URL")]
    pub server: String,
    #[arg(long, value_name = "NAME")]
    pub username: String,
    /// The password (visible in the process list; prefer --password-stdin).
    #[arg(
        long,
        value_name = "PASSWORD",
        conflicts_with = "password_stdin",
        required_unless_present = "password_stdin"
    )]
    pub password: Option<String>,
    /// Read the password from standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

impl Credentials {
    fn password(&self) -> anyhow::Result<String> {
        if let Some(p) = &self.password {
            return Ok(p.clone());
        }
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the password from standard input")?;
        Ok(text.trim_end_matches(['\r', '\n']).to_string())
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Pair this vault with a sync server (the password is used once and never stored).
    Configure {
        #[command(flatten)]
        credentials: Credentials,
        /// The remote vault to join; default: this vault's own id.
        #[arg(long, value_name = "ID", default_value = "")]
        vault_id: String,
        /// The device name shown on the server; default: `<host name> · <vault folder>`.
        #[arg(long, value_name = "NAME")]
        device_name: Option<String>,
    },
    /// Check the server and the credentials without pairing.
    TestConnection {
        #[command(flatten)]
        credentials: Credentials,
    },
    /// Run one sync now.
    Sync {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the sync status of the vault (local state only; no network).
    Status {
        /// Print the SyncStatusDTO as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke this device on the server and forget the server.
    Disconnect,
    /// Revoke and forget the device key, keeping the server URL.
    ResetKey,
    /// Set the auto-sync interval in minutes (0 turns auto-sync off, at most 1440).
    SetInterval {
        #[arg(allow_negative_numbers = true)]
        minutes: i32,
    },
    /// Show the deletions the mass-deletion guard holds; `confirm` or `restore` resolves them.
    Deletions {
        /// Print JSON: `{"guard": …}` (null when nothing is held), or the sync result.
        #[arg(long, global = true)]
        json: bool,
        #[command(subcommand)]
        action: Option<Resolve>,
    },
    /// Show the conflict copies syncs kept; `dismiss` removes them from the list (the files stay).
    Conflicts {
        /// Print JSON: `{"conflicts": […]}`, as in `status --json`.
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        action: Option<ConflictsAction>,
    },
    /// List the server's stored versions of a file, newest first.
    History {
        /// The file's vault path (for example `notes/a.md`).
        path: String,
        /// At most this many versions (0: the server's default).
        #[arg(long, default_value_t = 0)]
        limit: u32,
        /// Print a JSON array of versions (the server's field names).
        #[arg(long)]
        json: bool,
    },
    /// Put a stored version of a file back (also a deleted file), then sync it as a new
    /// version. Unsynced local content of the file is kept as a conflict copy first.
    Restore {
        /// The file's vault path.
        path: String,
        /// The version to restore, as `history` lists it.
        #[arg(long, value_name = "N")]
        version: i64,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the deleted files the server can still restore, newest deletion first.
    Deleted {
        /// At most this many files (0: the server's default).
        #[arg(long, default_value_t = 0)]
        limit: u32,
        /// Print a JSON array of `{path, deletion, last}`.
        #[arg(long)]
        json: bool,
    },
    /// Live sync until stopped: the vault's file watcher and the server's event stream trigger a
    /// sync within about a second; the interval pulls only while the stream is down; a full
    /// rescan at least hourly. Exit status 3 when the device was revoked.
    Watch {
        /// Pull every SECONDS while the server's event stream is down or absent, instead of the
        /// settings' interval; failures are retried at least this often too.
        #[arg(long, value_name = "SECONDS")]
        poll: Option<u64>,
    },
    /// List the vault trash (files syncs deleted here, newest first); `restore` brings them back.
    Trash {
        /// Print a JSON array of `{"id","path","size","trashed_at","trashed_ms"}`.
        #[arg(long, global = true)]
        json: bool,
        #[command(subcommand)]
        action: Option<TrashAction>,
    },
    /// Serve the settings panel and status bar for this vault on 127.0.0.1 (0 picks a free port).
    Serve {
        #[arg(long, default_value_t = 47733)]
        port: u16,
    },
}

/// What `deletions` does with the held deletions (the panel's two buttons).
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum Resolve {
    /// Apply the held deletions ("Apply deletions"), then sync.
    Confirm,
    /// Keep the files instead ("Keep the files"), then sync.
    Restore,
}

/// What `conflicts` does with the listed conflicts.
#[derive(Debug, Clone, Subcommand)]
pub enum ConflictsAction {
    /// Remove these conflicts (by id, as `conflicts` shows them) or all of them from the list.
    Dismiss {
        #[arg(
            value_name = "ID",
            required_unless_present = "all",
            conflicts_with = "all"
        )]
        ids: Vec<String>,
        /// Every listed conflict.
        #[arg(long)]
        all: bool,
    },
}

/// What `trash` does with the trashed files.
#[derive(Debug, Clone, Subcommand)]
pub enum TrashAction {
    /// Move these entries (by id, as `trash` shows them) back to their paths; a path that is
    /// taken keeps its file and the restored one lands beside it. The next sync pushes them.
    Restore {
        #[arg(value_name = "ID", required = true)]
        ids: Vec<String>,
    },
    /// Delete for good the entries trashed more than DAYS days ago.
    Empty {
        #[arg(long, value_name = "DAYS")]
        older_than: u32,
    },
}

/// The first existing candidate, else the first candidate (so the error names a useful path).
fn locate(explicit: Option<&Path>, env: &str, candidates: &[PathBuf]) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os(env).filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    candidates
        .iter()
        .find(|p| p.is_file())
        .unwrap_or(&candidates[0])
        .clone()
}

fn exe_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default()
}

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const COMPONENT_FILE: &str = "verstak_sync_plugin.wasm";

pub fn component_path(explicit: Option<&Path>) -> PathBuf {
    let exe = exe_dir();
    locate(
        explicit,
        "VERSTAK_SYNC_COMPONENT",
        &[
            // target/{debug,release}/verstak-sync-host → target/wasm32-wasip2/release/
            exe.join("../wasm32-wasip2/release").join(COMPONENT_FILE),
            exe.join(COMPONENT_FILE),
            Path::new(WORKSPACE)
                .join("target/wasm32-wasip2/release")
                .join(COMPONENT_FILE),
        ],
    )
}

pub fn manifest_path(explicit: Option<&Path>) -> PathBuf {
    locate(
        explicit,
        "VERSTAK_SYNC_MANIFEST",
        &[
            Path::new(WORKSPACE).join("manifest.json"),
            exe_dir().join("plugin.json"),
        ],
    )
}

fn failed(e: Failure) -> anyhow::Error {
    anyhow::anyhow!("{}: {}", e.code, e.message)
}

/// Runs the command; `Ok(())` means exit status 0.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let limits = Limits {
        memory_bytes: cli.memory_mib << 20,
        call_deadline: Duration::from_secs(cli.call_timeout),
    };
    let manifest = manifest_path(cli.manifest.as_deref());
    if let Command::Trash { json, action } = &cli.command {
        return run_trash(&cli.vault, &manifest, *json, action.as_ref());
    }
    let runtime = Runtime::load(&component_path(cli.component.as_deref()), &manifest, limits)?;
    std::fs::metadata(&cli.vault)
        .ok()
        .filter(|m| m.is_dir())
        .with_context(|| {
            format!(
                "cannot open the vault {}: not a directory",
                cli.vault.display()
            )
        })?;
    let device_name = match &cli.command {
        Command::Configure { device_name, .. } => device_name.clone(),
        _ => None,
    };
    let mut session = Session::new(&runtime, &cli.vault).with_device_name(device_name);
    match cli.command {
        Command::Configure {
            credentials,
            vault_id,
            ..
        } => {
            let password = credentials.password()?;
            session
                .configure(
                    &credentials.server,
                    &credentials.username,
                    &password,
                    &vault_id,
                )
                .map_err(failed)?;
            let status = session.status().map_err(failed)?;
            println!(
                "paired with {} as {} ({})",
                status.server_url, status.device_name, status.device_id
            );
        }
        Command::TestConnection { credentials } => {
            let password = credentials.password()?;
            session
                .test_connection(&credentials.server, &credentials.username, &password)
                .map_err(failed)?;
            println!(
                "connection OK: {} accepted the credentials",
                credentials.server
            );
        }
        Command::Sync { json } => {
            let ticker = (!json && std::io::stderr().is_terminal())
                .then(|| report::spawn_progress_line(session.progress()));
            let result = session.sync_now();
            if let Some(t) = ticker {
                t.stop();
            }
            let summary = result.map_err(failed)?;
            if json {
                println!("{}", dto::summary_json(&summary));
            } else {
                report::print_summary(&summary);
            }
        }
        Command::Status { json } => {
            let status = session.status().map_err(failed)?;
            if json {
                println!("{}", dto::status_json(&status, None));
            } else {
                report::print_status(&status);
            }
        }
        Command::Deletions { json, action } => match action {
            None => {
                let status = session.status().map_err(failed)?;
                if json {
                    let guard = dto::status_json(&status, None)["guard"].take();
                    println!("{}", serde_json::json!({ "guard": guard }));
                } else {
                    report::print_held(status.guard.as_ref());
                }
            }
            Some(action) => {
                let confirm = matches!(action, Resolve::Confirm);
                let (guard, summary) = session.resolve_deletions(confirm).map_err(failed)?;
                if json {
                    println!("{}", dto::summary_json(&summary));
                } else {
                    report::print_resolved(&guard, confirm);
                    report::print_summary(&summary);
                }
            }
        },
        Command::Conflicts { json, action } => match action {
            None => {
                let status = session.status().map_err(failed)?;
                if json {
                    let list = dto::status_json(&status, None)["conflicts"].take();
                    println!("{}", serde_json::json!({ "conflicts": list }));
                } else {
                    report::print_conflicts(&status.conflicts);
                }
            }
            Some(ConflictsAction::Dismiss { ids, all }) => {
                let only = (!all).then_some(ids.as_slice());
                let n = session.dismiss_listed_conflicts(only).map_err(failed)?;
                if json {
                    println!("{}", serde_json::json!({ "dismissed": n }));
                } else {
                    println!("dismissed {n} conflict(s); the files stay as they are");
                }
            }
        },
        Command::History { path, limit, json } => {
            let list = session.history(&path, limit).map_err(failed)?;
            if json {
                println!("{}", history::versions_json(&list));
            } else {
                history::history_lines(&path, &list)
                    .iter()
                    .for_each(|l| println!("{l}"));
            }
        }
        Command::Restore {
            path,
            version,
            json,
        } => {
            let restored = session.restore(&path, version).map_err(failed)?;
            if json {
                println!("{}", history::restored_json(&restored));
            } else {
                history::print_restored(&restored);
            }
        }
        Command::Deleted { limit, json } => {
            let list = session.deleted(limit).map_err(failed)?;
            if json {
                println!("{}", history::deleted_json(&list));
            } else {
                history::deleted_lines(&list)
                    .iter()
                    .for_each(|l| println!("{l}"));
            }
        }
        Command::Disconnect => {
            session.disconnect().map_err(failed)?;
            println!("disconnected: the device was revoked and the server forgotten");
        }
        Command::ResetKey => {
            session.reset_key().map_err(failed)?;
            println!("device key forgotten; run configure to pair again");
        }
        Command::SetInterval { minutes } => {
            session.set_interval(minutes).map_err(failed)?;
            println!(
                "sync interval set to {minutes} min{}",
                if minutes == 0 { " (auto-sync off)" } else { "" }
            );
        }
        Command::Watch { poll } => {
            let dirs = VaultDirs::open(&cli.vault, &runtime.manifest().id)
                .context("cannot open the vault")?;
            let writes = session.writes();
            let options = live::Options {
                poll: poll.map(|s| Duration::from_secs(s.max(1))),
                park: false,
            };
            let stopped = live::run(
                &mut session,
                &report::WatchLines,
                &dirs,
                writes,
                options,
                live::channel(),
            );
            return Err(anyhow::Error::new(stopped)).context("auto-sync stopped");
        }
        Command::Serve { port } => {
            crate::serve::Serve::new(&runtime, &manifest, &cli.vault)?.run(port)?
        }
        Command::Trash { .. } => unreachable!("handled before the component loads"),
    }
    Ok(())
}

/// `trash`: plain file moves under the vault lock, without loading the component.
fn run_trash(
    vault: &Path,
    manifest: &Path,
    json: bool,
    action: Option<&TrashAction>,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(manifest)
        .with_context(|| format!("cannot read the manifest {}", manifest.display()))?;
    let id = crate::manifest::parse(&text)
        .with_context(|| format!("{}", manifest.display()))?
        .id;
    let dirs = VaultDirs::open(vault, &id)
        .with_context(|| format!("cannot open the vault {}", vault.display()))?;
    let _lock = crate::vault_lock::VaultLock::try_acquire(&dirs.data_dir()).map_err(|e| {
        let code = match e {
            crate::vault_lock::LockError::Busy => "busy",
            crate::vault_lock::LockError::Io(_) => "host",
        };
        anyhow::anyhow!("{code}: {e}")
    })?;
    let trash_failed = |e: trash::TrashError| anyhow::anyhow!("{}: {e}", e.code());
    match action {
        None => {
            let entries = trash::list(&dirs.root).map_err(trash_failed)?;
            if json {
                let list: Vec<_> = entries.iter().map(trash::TrashEntry::to_json).collect();
                println!("{}", serde_json::Value::Array(list));
            } else {
                report::print_trash(&entries);
            }
        }
        Some(TrashAction::Restore { ids }) => {
            let restored = trash::restore(&dirs.root, ids).map_err(trash_failed)?;
            if json {
                let list: Vec<_> = restored
                    .iter()
                    .map(|r| serde_json::json!({"id": r.id, "path": r.path, "restored_to": r.restored_to}))
                    .collect();
                println!("{}", serde_json::Value::Array(list));
            } else {
                for r in &restored {
                    if r.restored_to == r.path {
                        println!("restored {}", r.path);
                    } else {
                        println!(
                            "restored {} as {} ({} exists)",
                            r.path, r.restored_to, r.path
                        );
                    }
                }
                println!("the next sync uploads them");
            }
        }
        Some(TrashAction::Empty { older_than }) => {
            let n = trash::empty_older_than(&dirs.root, *older_than, std::time::SystemTime::now())
                .map_err(trash_failed)?;
            if json {
                println!("{}", serde_json::json!({ "removed": n }));
            } else {
                println!("removed {n} file(s) trashed more than {older_than} day(s) ago");
            }
        }
    }
    Ok(())
}
