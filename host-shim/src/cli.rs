//! The command line: `verstak-sync-host --vault DIR [--component PATH] [--manifest PATH] <command>`.

use crate::dto;
use crate::limits::Limits;
use crate::runtime::{Instance, Runtime};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(name = "verstak-sync-host", version, about = "Runs the verstak.sync engine component for one vault")]
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
    /// Time limit of one call into the component, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub call_timeout: u64,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the sync status of the vault (local state only; no network).
    Status {
        /// Print the SyncStatusDTO as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Set the auto-sync interval in minutes (0 turns auto-sync off, at most 1440).
    SetInterval {
        #[arg(allow_negative_numbers = true)]
        minutes: i32,
    },
    /// Serve the settings panel and status bar for this vault on 127.0.0.1 (0 picks a free port).
    Serve {
        #[arg(long, default_value_t = 47733)]
        port: u16,
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
    candidates.iter().find(|p| p.is_file()).unwrap_or(&candidates[0]).clone()
}

fn exe_dir() -> PathBuf {
    std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or_default()
}

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const COMPONENT_FILE: &str = "verstak_sync_plugin.wasm";

pub fn component_path(explicit: Option<&Path>) -> PathBuf {
    let exe = exe_dir();
    locate(explicit, "VERSTAK_SYNC_COMPONENT", &[
        // target/{debug,release}/verstak-sync-host → target/wasm32-wasip2/release/
        exe.join("../wasm32-wasip2/release").join(COMPONENT_FILE),
        exe.join(COMPONENT_FILE),
        Path::new(WORKSPACE).join("target/wasm32-wasip2/release").join(COMPONENT_FILE),
    ])
}

pub fn manifest_path(explicit: Option<&Path>) -> PathBuf {
    locate(explicit, "VERSTAK_SYNC_MANIFEST", &[Path::new(WORKSPACE).join("manifest.json"), exe_dir().join("plugin.json")])
}

/// Runs the command; `Ok(())` means exit status 0.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let limits = Limits { memory_bytes: cli.memory_mib << 20, call_deadline: Duration::from_secs(cli.call_timeout) };
    let manifest = manifest_path(cli.manifest.as_deref());
    let runtime = Runtime::load(&component_path(cli.component.as_deref()), &manifest, limits)?;
    if let Command::Serve { port } = cli.command {
        return crate::serve::Serve::new(&runtime, &manifest, &cli.vault)?.run(port);
    }
    let mut instance = runtime.instantiate(&cli.vault)?;
    match cli.command {
        Command::Status { json } => {
            let status = export(&mut instance, |p, s| p.verstak_sync_sync_provider().call_status(s))?;
            if json {
                println!("{}", dto::status_json(&status));
            } else {
                print_status(&status);
            }
        }
        Command::SetInterval { minutes } => {
            export(&mut instance, |p, s| p.verstak_sync_sync_provider().call_set_interval(s, minutes))?;
            println!("sync interval set to {minutes} min{}", if minutes == 0 { " (auto-sync off)" } else { "" });
        }
        Command::Serve { .. } => unreachable!("handled above"),
    }
    Ok(())
}

/// Calls an export that returns `result<T, sync-error>`, turning both failure layers into one
/// error that prints as `<code>: <message>`.
fn export<T>(
    instance: &mut Instance,
    f: impl FnOnce(&crate::bindings::Plugin, &mut wasmtime::Store<crate::state::HostState>) -> wasmtime::Result<Result<T, crate::bindings::SyncError>>,
) -> anyhow::Result<T> {
    match instance.call(f) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(anyhow::anyhow!("{}: {}", e.code, e.message)),
        Err(e) => Err(anyhow::anyhow!("{}: {e}", e.code())),
    }
    .context("the sync engine refused")
}

fn print_status(s: &crate::bindings::SyncStatus) {
    let or_dash = |v: &str| if v.is_empty() { "-".to_string() } else { v.to_string() };
    println!("Status:      {}", s.status_label);
    println!("Server:      {}", or_dash(&s.server_url));
    println!("Device:      {} {}", or_dash(&s.device_name), if s.device_id.is_empty() { String::new() } else { format!("({})", s.device_id) });
    println!("Last sync:   {}", or_dash(&s.last_sync_at));
    let interval = if s.sync_interval == 0 { "off".to_string() } else { format!("every {} min", s.sync_interval) };
    println!("Auto-sync:   {interval}");
    if !s.last_error.is_empty() {
        println!("Last error:  {}", s.last_error);
    }
}
