//! Embeds the browser build of the text merge (`merge-web/pkg/`, made by
//! `scripts/build-web-merge.sh`) when it is there, so the one server binary serves it under
//! `/static/merge/` like its other static files (scripts/install.sh deploys only the binary).
//! Without it (a fresh clone built with plain `cargo build`) the server still builds and runs:
//! those two URLs are 404 and the history pages work without their diff and merge views.
//! `VERSTAK_MERGE_WEB_PKG` names another directory holding the two files.

use std::env;
use std::fs;
use std::path::PathBuf;

const FILES: [(&str, &str); 2] = [
    ("merge_web.js", "text/javascript; charset=utf-8"),
    ("merge_web_bg.wasm", "application/wasm"),
];

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-env-changed=VERSTAK_MERGE_WEB_PKG");
    let dir = env::var_os("VERSTAK_MERGE_WEB_PKG")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../merge-web/pkg"));
    // Watch the directory, or while it is missing its parent (a watched path that does not exist
    // would rebuild the server on every build).
    let watched = if dir.exists() {
        dir.clone()
    } else {
        dir.parent().map(PathBuf::from).unwrap_or(manifest)
    };
    println!("cargo:rerun-if-changed={}", watched.display());

    let mut list = String::from("&[\n");
    // FNV-1a of both files: the pages put it in the URLs, so a browser never pairs a cached
    // module with the wasm of another build.
    let mut tag: u64 = 0xcbf2_9ce4_8422_2325;
    if FILES.iter().all(|(name, _)| dir.join(name).is_file()) {
        for (name, ct) in FILES {
            let path = dir.join(name).canonicalize().expect("the file exists");
            for b in fs::read(&path).expect("read a merge-web file") {
                tag = (tag ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
            }
            list.push_str(&format!(
                "    ({name:?}, {ct:?}, include_bytes!({:?}) as &[u8]),\n",
                path.display().to_string()
            ));
        }
    }
    list.push(']');
    let out = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    fs::write(out.join("merge_web.rs"), list).expect("write OUT_DIR/merge_web.rs");
    fs::write(out.join("merge_web_tag.rs"), format!("\"{tag:016x}\""))
        .expect("write OUT_DIR/merge_web_tag.rs");
}
