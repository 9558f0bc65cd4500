//! Version history on the command line and the bridge (issue #13): the JSON of a version, a
//! deleted file and a restore, and the tables `history` and `deleted` print.
//!
//! The JSON objects keep the field names of the server's history routes (snake_case,
//! `docs/api-extensions.md`), so a script reads the same shape from the host and the server.

use crate::bindings::exports::verstak::sync::sync_provider::{DeletedFile, FileVersion, Restored};
use crate::{dto, report};
use serde_json::{Value, json};

/// One version as the server lists it.
pub fn version_json(v: &FileVersion) -> Value {
    json!({
        "version": v.version,
        "time": v.time,
        "device": v.device,
        "device_id": v.device_id,
        "size": v.size,
        "sha256": v.sha256,
        "kind": v.kind,
        "deleted": v.deleted,
        "renamed_from": v.renamed_from,
        "renamed_to": v.renamed_to,
    })
}

pub fn versions_json(list: &[FileVersion]) -> Value {
    Value::Array(list.iter().map(version_json).collect())
}

pub fn deleted_json(list: &[DeletedFile]) -> Value {
    let file = |d: &DeletedFile| json!({ "path": d.path, "deletion": version_json(&d.deletion), "last": version_json(&d.last) });
    Value::Array(list.iter().map(file).collect())
}

pub fn restored_json(r: &Restored) -> Value {
    json!({
        "path": r.path,
        "version": r.version,
        "kept_local": r.kept_local,
        "summary": dto::summary_json(&r.summary),
    })
}

/// The device column: the name, else the id, else `?` (a device that is gone).
fn device(v: &FileVersion) -> &str {
    match (v.device.as_str(), v.device_id.as_str()) {
        ("", "") => "?",
        ("", id) => id,
        (name, _) => name,
    }
}

/// The size column: bytes, `-` for a deletion.
fn size(v: &FileVersion) -> String {
    v.size.map_or_else(|| "-".to_string(), |s| s.to_string())
}

/// The kind column, with where a rename went or came from.
fn kind(v: &FileVersion) -> String {
    match (&v.renamed_from, &v.renamed_to) {
        (Some(from), _) => format!("{} (renamed from {from})", v.kind),
        (_, Some(to)) => format!("{} (renamed to {to})", v.kind),
        _ => v.kind.clone(),
    }
}

/// The rows of a table: a header, then the cells left-aligned in columns.
fn table(header: &[&str], rows: Vec<Vec<String>>) -> Vec<String> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut out = vec![line(header.iter().map(|h| h.to_string()).collect())];
    out.extend(rows.into_iter().map(line));
    out
}

/// `history PATH`: newest first.
pub fn history_lines(path: &str, list: &[FileVersion]) -> Vec<String> {
    if list.is_empty() {
        return vec![format!("{path}: no stored versions")];
    }
    let rows = list
        .iter()
        .map(|v| {
            vec![
                v.version.to_string(),
                v.time.clone(),
                device(v).to_string(),
                size(v),
                kind(v),
            ]
        })
        .collect();
    let mut out = vec![format!("{path}: {} version(s), newest first", list.len())];
    out.extend(table(&["VERSION", "TIME", "DEVICE", "SIZE", "KIND"], rows));
    out.push(format!(
        "  `restore {path} --version N` puts a version back"
    ));
    out
}

/// `deleted`: newest deletion first.
pub fn deleted_lines(list: &[DeletedFile]) -> Vec<String> {
    if list.is_empty() {
        return vec!["no deleted files to restore".to_string()];
    }
    let rows = list
        .iter()
        .map(|d| {
            vec![
                d.path.clone(),
                d.deletion.time.clone(),
                device(&d.deletion).to_string(),
                d.last.version.to_string(),
                size(&d.last),
            ]
        })
        .collect();
    let mut out = table(&["PATH", "DELETED", "BY", "LAST VERSION", "SIZE"], rows);
    out.push("  `restore PATH --version N` brings a file back (N: its last version)".to_string());
    out
}

/// `restore PATH --version N`: what happened.
pub fn print_restored(r: &Restored) {
    println!("restored {} to version {}", r.path, r.version);
    if let Some(copy) = &r.kept_local {
        println!(
            "  your unsynced local content of {} was kept as {copy}",
            r.path
        );
    }
    report::print_summary(&r.summary);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(version: i64, device: &str, size: Option<u64>, kind: &str) -> FileVersion {
        FileVersion {
            version,
            time: "2026-12-06T02:36:30Z".into(),
            device: device.into(),
            device_id: "dev_1".into(),
            size,
            sha256: if size.is_some() {
                "ab".into()
            } else {
                String::new()
            },
            kind: kind.into(),
            deleted: kind == "deleted",
            renamed_from: None,
            renamed_to: None,
        }
    }

    #[test]
    fn the_history_table_has_one_row_per_version_in_columns() {
        let lines = history_lines(
            "n.md",
            &[
                v(12, "", None, "deleted"),
                v(9, "Anna's laptop", Some(1234), "text"),
            ],
        );
        assert_eq!(lines[0], "n.md: 2 version(s), newest first");
        assert_eq!(
            lines[1],
            "VERSION  TIME                  DEVICE         SIZE  KIND"
        );
        assert_eq!(
            lines[2],
            "12       2026-12-06T02:36:30Z  dev_1          -     deleted"
        );
        assert_eq!(
            lines[3],
            "9        2026-12-06T02:36:30Z  Anna's laptop  1234  text"
        );
        assert_eq!(history_lines("x", &[]), ["x: no stored versions"]);
    }

    #[test]
    fn version_json_keeps_the_server_field_names() {
        let j = version_json(&v(12, "", None, "deleted"));
        assert_eq!(j["version"], 12);
        assert_eq!(j["size"], Value::Null);
        assert_eq!(j["deleted"], true);
        assert_eq!(j["device_id"], "dev_1");
    }
}
