//! `verstak-sync-host`: parse the command line and run it; the logic lives in the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VERSTAK_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match verstak_sync_host::cli::run(verstak_sync_host::cli::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            // `watch` of a revoked device: 3, so a service manager can tell it from a crash.
            match e.downcast_ref::<verstak_sync_host::live::Stopped>() {
                Some(s) if s.code == "revoked" => std::process::ExitCode::from(3),
                _ => std::process::ExitCode::FAILURE,
            }
        }
    }
}
