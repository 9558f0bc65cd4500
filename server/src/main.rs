//! `verstak-sync-server`: see `cli` for the command line.

fn main() -> std::process::ExitCode {
    verstak_sync_server::cli::main()
}
