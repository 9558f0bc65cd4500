//! The installable plugin package (plugin-contract §1.1, §1.14): `dist/verstak.sync/` with
//! `plugin.json`, the frontend bundle and style, the catalogs, the engine component under
//! `backend/`, and `checksums.txt`.
//!
//! [`assemble`] validates the sources (manifest, catalogs, bundle) and writes the package;
//! [`verify`] re-checks a package on disk, as the desktop does at discovery.

use crate::manifest;
use anyhow::{Context, bail, ensure};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};

/// Where the engine component goes inside the package.
pub const BACKEND_FILE: &str = "backend/verstak_sync_plugin.wasm";
const CHECKSUMS: &str = "checksums.txt";

/// Names the desktop's package checks forbid in the bundle (§1.6).
const FORBIDDEN: &[&str] = &[
    "window.go",
    "window['go']",
    "window[\"go\"]",
    "api.backend.call",
    "api.request.open",
];

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

fn catalog(root: &Path, manifest: &Value, tag: &str) -> anyhow::Result<Map<String, Value>> {
    let rel = manifest
        .pointer(&format!("/localization/locales/{tag}"))
        .and_then(Value::as_str)
        .with_context(|| format!("the manifest names no {tag} catalog"))?;
    match read_json(&root.join(rel))? {
        Value::Object(m) => Ok(m),
        _ => bail!("the {tag} catalog is not a JSON object"),
    }
}

/// The bundle checks that need no JavaScript engine (§1.14 items 4 and 6); the frontend's
/// `check-bundle.mjs` executes the bundle for the rest.
pub fn bundle_problems(bundle: &str, style: &str) -> Vec<String> {
    let mut out: Vec<String> = FORBIDDEN
        .iter()
        .filter(|f| bundle.contains(*f))
        .map(|f| format!("the bundle uses the forbidden {f}"))
        .collect();
    if !bundle.contains("VerstakPluginRegister") {
        out.push("the bundle never calls window.VerstakPluginRegister".into());
    }
    if !bundle.contains("sync-settings-surface") {
        out.push("the settings panel's root class sync-settings-surface is missing".into());
    }
    if style.trim().is_empty() {
        out.push("the declared stylesheet is empty".into());
    }
    out
}

fn sha256_hex(path: &Path) -> anyhow::Result<String> {
    let mut hasher = Sha256::new();
    let mut file =
        fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

/// Every file under `dir`, as sorted `/`-separated relative paths (C-locale byte order).
fn files_under(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .expect("walked from dir")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push(rel);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Validates the sources under `root` and writes the package into `out` (replaced whole).
/// Returns the packaged files.
pub fn assemble(root: &Path, component: &Path, out: &Path) -> anyhow::Result<Vec<String>> {
    let manifest_text =
        fs::read_to_string(root.join("manifest.json")).context("cannot read manifest.json")?;
    manifest::parse(&manifest_text)?;
    let m: Value = serde_json::from_str(&manifest_text)?;
    let problems =
        manifest::catalog_problems(&m, &catalog(root, &m, "en")?, &catalog(root, &m, "ru")?);
    ensure!(
        problems.is_empty(),
        "invalid catalogs: {}",
        problems.join("; ")
    );

    let entry = m
        .pointer("/frontend/entry")
        .and_then(Value::as_str)
        .context("the manifest has no frontend entry")?;
    let style = m
        .pointer("/frontend/style")
        .and_then(Value::as_str)
        .context("the manifest declares no style")?;
    let bundle = fs::read_to_string(root.join(entry)).with_context(|| {
        format!("cannot read the bundle {entry} (run `npm run build` in frontend/)")
    })?;
    let css = fs::read_to_string(root.join(style))
        .with_context(|| format!("cannot read the style {style}"))?;
    let problems = bundle_problems(&bundle, &css);
    ensure!(
        problems.is_empty(),
        "invalid bundle: {}",
        problems.join("; ")
    );

    let mut sources: Vec<(String, PathBuf)> = vec![
        (entry.to_string(), root.join(entry)),
        (style.to_string(), root.join(style)),
    ];
    for rel in m
        .pointer("/localization/locales")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(_, v)| v.as_str())
    {
        sources.push((rel.to_string(), root.join(rel)));
    }
    sources.push((BACKEND_FILE.to_string(), component.to_path_buf()));

    if out.exists() {
        fs::remove_dir_all(out).with_context(|| format!("cannot replace {}", out.display()))?;
    }
    fs::create_dir_all(out)?;
    fs::write(out.join("plugin.json"), &manifest_text)?;
    for (rel, src) in &sources {
        let dest = out.join(rel);
        fs::create_dir_all(dest.parent().expect("package paths have a parent"))?;
        fs::copy(src, &dest).with_context(|| format!("cannot copy {}", src.display()))?;
    }
    let files = files_under(out)?;
    let mut sums = String::new();
    for rel in &files {
        sums.push_str(&format!("{}  {rel}\n", sha256_hex(&out.join(rel))?));
    }
    fs::write(out.join(CHECKSUMS), sums)?;
    verify(out)?;
    Ok(files)
}

/// Re-checks a package: the manifest rules and `checksums.txt` against the files present.
pub fn verify(dir: &Path) -> anyhow::Result<()> {
    manifest::parse(
        &fs::read_to_string(dir.join("plugin.json")).context("the package has no plugin.json")?,
    )?;
    let listed =
        fs::read_to_string(dir.join(CHECKSUMS)).context("the package has no checksums.txt")?;
    let mut names = Vec::new();
    for line in listed.lines() {
        let (sum, rel) = line
            .split_once("  ")
            .with_context(|| format!("malformed checksums line {line:?}"))?;
        ensure!(
            sha256_hex(&dir.join(rel))? == sum,
            "checksum mismatch for {rel}"
        );
        names.push(rel.to_string());
    }
    let present: Vec<String> = files_under(dir)?
        .into_iter()
        .filter(|f| f != CHECKSUMS)
        .collect();
    ensure!(
        names == present,
        "checksums.txt lists {names:?} but the package holds {present:?}"
    );
    Ok(())
}
