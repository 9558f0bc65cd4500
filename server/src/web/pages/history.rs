//! The history pages of a vault (issue #13), all usable without JavaScript:
//!
//! * `/vaults/{id}/file?path=` (`templates/vaults/file.html`): the timeline of one path, newest
//!   first (version, time, device, size, kind, renames), a download link for each version with
//!   content and a Restore form (POST `/vaults/{id}/restore` with the session CSRF field). With
//!   the browser merge built in, `/static/history.js` adds the Old/New pickers and the diff view.
//! * `/vaults/{id}/deleted` (`templates/vaults/deleted.html`): deleted files that can still be
//!   restored, each with a Restore form for its last version.
//! * `/vaults/{id}/conflicts` (`templates/vaults/conflicts.html`): each conflict copy with its
//!   original and their common base; the script adds the merge editor, which saves through
//!   `POST /api/v1/user/vaults/{id}/history/save`.
//!
//! The view models take [`VersionView`]s, which the handlers build from the store's versions.

use askama::Template;

use super::layout::{Flash, Ui};
use super::vaults::{file_url, vault_url};
use crate::web::escape::qenc;

/// One stored version of a path, as the pages show it.
#[derive(Debug, Clone)]
pub(crate) struct VersionView {
    pub path: String,
    pub version: i64,
    pub time: String,
    pub device_id: String,
    /// The device's name, `""` when the device is gone.
    pub device: String,
    pub size: Option<i64>,
    /// `text`, `binary`, `deleted` or `moved`.
    pub kind: &'static str,
    pub renamed_from: Option<String>,
    pub renamed_to: Option<String>,
}

/// A version row of a table, with everything formatted.
struct Row {
    version: i64,
    time: String,
    device: String,
    size: String,
    kind: &'static str,
    kind_class: &'static str,
    note: String,
    /// The download link; `None` for a deletion.
    download: Option<String>,
    text: bool,
}

/// The device column: its name, or who else wrote the version.
fn device_label(ui: &Ui<'_>, v: &VersionView) -> String {
    if v.device_id == "web" {
        ui.t("file.web").to_string()
    } else if v.device_id == "restore" {
        ui.t("file.restoreDevice").to_string()
    } else if v.device.is_empty() {
        ui.t("file.goneDevice").to_string()
    } else {
        v.device.clone()
    }
}

/// `/vaults/{id}/download?path=&version=`.
pub(crate) fn download_url(vault_id: &str, path: &str, version: i64) -> String {
    vault_url(
        vault_id,
        &format!("/download?path={}&version={version}", qenc(path)),
    )
}

fn row(ui: &Ui<'_>, vault_id: &str, v: &VersionView) -> Row {
    let note = match (&v.renamed_from, &v.renamed_to) {
        (Some(from), _) => ui.tf("file.renamedFrom", from),
        (_, Some(to)) => ui.tf("file.renamedTo", to),
        _ => String::new(),
    };
    let (kind, kind_class) = match v.kind {
        "text" => (ui.t("kind.text"), "badge"),
        "binary" => (ui.t("kind.binary"), "badge warn"),
        "moved" => (ui.t("kind.moved"), "badge warn"),
        _ => (ui.t("kind.deleted"), "badge off"),
    };
    // A deletion or a move holds no content of its own.
    let has_content = matches!(v.kind, "text" | "binary");
    Row {
        version: v.version,
        time: ui.date(&v.time),
        device: device_label(ui, v),
        size: v.size.map(|n| ui.bytes(&n)).unwrap_or_default(),
        kind,
        kind_class,
        note,
        download: has_content.then(|| download_url(vault_id, &v.path, v.version)),
        text: has_content && v.kind == "text",
    }
}

/// The texts `/static/history.js` shows, as one JSON object (`data-texts` of its container).
fn script_texts(ui: &Ui<'_>) -> String {
    const KEYS: [&str; 17] = [
        "sideBySide",
        "inline",
        "diffSummary",
        "identical",
        "loading",
        "loadFailed",
        "unavailable",
        "clean",
        "conflicts",
        "pickCopy",
        "pickOriginal",
        "pickBoth",
        "result",
        "save",
        "markers",
        "changed",
        "saveFailed",
    ];
    let map: serde_json::Map<String, serde_json::Value> = KEYS
        .iter()
        .map(|&k| (k.to_string(), ui.t(&format!("js.{k}")).into()))
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// What the history script needs besides the texts: where the browser merge is (`None` when
/// the server was built without it) and the session CSRF token for its JSON posts.
pub(crate) struct Script<'a> {
    pub merge_module: Option<String>,
    pub csrf: &'a str,
}

#[derive(Template)]
#[template(path = "vaults/file.html")]
struct File<'a> {
    ui: &'a Ui<'a>,
    vault_id: &'a str,
    path: &'a str,
    back: String,
    restore_url: String,
    flashes: Vec<Flash>,
    notice: Option<String>,
    rows: Vec<Row>,
    any_text: bool,
    script: &'a Script<'a>,
    texts: String,
}

/// The timeline of `path` (`versions` newest first, never empty). `notice` is the result of
/// a restore just made.
pub(crate) fn render_file(
    ui: &Ui<'_>,
    vault_id: &str,
    path: &str,
    versions: &[VersionView],
    notice: Option<String>,
    script: &Script<'_>,
) -> String {
    let rows: Vec<Row> = versions.iter().map(|v| row(ui, vault_id, v)).collect();
    let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    let back = if dir.is_empty() {
        vault_url(vault_id, "")
    } else {
        vault_url(vault_id, &format!("?dir={}", qenc(dir)))
    };
    super::render(&File {
        ui,
        vault_id,
        path,
        back,
        restore_url: vault_url(vault_id, "/restore"),
        flashes: Vec::new(),
        notice,
        any_text: rows.iter().filter(|r| r.text).count() >= 2,
        rows,
        script,
        texts: script_texts(ui),
    })
}

/// A deleted file with its deletion and last live version.
pub(crate) struct DeletedView {
    pub path: String,
    pub deletion: VersionView,
    pub last: VersionView,
}

#[derive(Template)]
#[template(path = "vaults/deleted.html")]
struct Deleted<'a> {
    ui: &'a Ui<'a>,
    vault_id: &'a str,
    back: String,
    restore_url: String,
    notice: Option<String>,
    files: Vec<DeletedRow<'a>>,
}

struct DeletedRow<'a> {
    path: &'a str,
    history: String,
    deleted: Row,
    last: Row,
}

pub(crate) fn render_deleted(
    ui: &Ui<'_>,
    vault_id: &str,
    files: &[DeletedView],
    notice: Option<String>,
) -> String {
    let files = files
        .iter()
        .map(|d| DeletedRow {
            path: &d.path,
            history: file_url(vault_id, &d.path),
            deleted: row(ui, vault_id, &d.deletion),
            last: row(ui, vault_id, &d.last),
        })
        .collect();
    super::render(&Deleted {
        ui,
        vault_id,
        back: vault_url(vault_id, ""),
        restore_url: vault_url(vault_id, "/restore"),
        notice,
        files,
    })
}

/// A conflict copy, its original (when the path still exists) and their common base (when the
/// history still has it).
pub(crate) struct ConflictView {
    pub original_path: String,
    pub copy: VersionView,
    pub original: Option<VersionView>,
    pub base: Option<VersionView>,
}

#[derive(Template)]
#[template(path = "vaults/conflicts.html")]
struct Conflicts<'a> {
    ui: &'a Ui<'a>,
    vault_id: &'a str,
    back: String,
    flashes: Vec<Flash>,
    pairs: Vec<Pair<'a>>,
    script: &'a Script<'a>,
    save_url: String,
    texts: String,
}

struct Side<'a> {
    path: &'a str,
    history: String,
    row: Row,
}

struct Pair<'a> {
    original_path: &'a str,
    copy: Side<'a>,
    original: Option<Side<'a>>,
    base: Option<Row>,
    /// Both sides are text: the merge editor can open.
    mergeable: bool,
}

pub(crate) fn render_conflicts(
    ui: &Ui<'_>,
    vault_id: &str,
    pairs: &[ConflictView],
    flash_keys: &[&str],
    script: &Script<'_>,
) -> String {
    let side = |v: &'_ VersionView| -> (String, Row) {
        (file_url(vault_id, &v.path), row(ui, vault_id, v))
    };
    let pairs = pairs
        .iter()
        .map(|p| {
            let (history, r) = side(&p.copy);
            let copy = Side {
                path: &p.copy.path,
                history,
                row: r,
            };
            let original = p.original.as_ref().map(|o| {
                let (history, row) = side(o);
                Side {
                    path: &o.path,
                    history,
                    row,
                }
            });
            let mergeable = copy.row.text && original.as_ref().is_some_and(|o| o.row.text);
            Pair {
                original_path: &p.original_path,
                copy,
                original,
                base: p
                    .base
                    .as_ref()
                    .map(|b| row(ui, vault_id, b))
                    .filter(|b| b.text),
                mergeable,
            }
        })
        .collect();
    super::render(&Conflicts {
        ui,
        vault_id,
        back: vault_url(vault_id, ""),
        flashes: flash_keys.iter().map(|k| ui.flash(k)).collect(),
        pairs,
        script,
        save_url: format!(
            "/api/v1/user/vaults/{}/history/save",
            super::vaults::penc(vault_id)
        ),
        texts: script_texts(ui),
    })
}
