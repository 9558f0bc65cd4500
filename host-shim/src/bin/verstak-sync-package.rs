//! `verstak-sync-package [--root DIR] [--component PATH] [--out DIR]`: assembles the installable
//! `verstak.sync` package (default `dist/verstak.sync/`) and checks it.

use clap::Parser;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "verstak-sync-package",
    version,
    about = "Assemble the verstak.sync plugin package"
)]
struct Args {
    /// The repository root holding manifest.json, locales/ and frontend/dist/.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// The engine component; default: the workspace's release build.
    #[arg(long)]
    component: Option<PathBuf>,
    /// The package directory to (re)create.
    #[arg(long, default_value = "dist/verstak.sync")]
    out: PathBuf,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let component = verstak_sync_host::cli::component_path(args.component.as_deref());
    match verstak_sync_host::package::assemble(&args.root, &component, &args.out) {
        Ok(files) => {
            println!(
                "packaged {} files into {}",
                files.len() + 1,
                args.out.display()
            );
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
